"""The environment of the Table wait: what components/kratix_table_wait.py sets on its
delete command and tools/wait_tables_gone.py reads.

Standard library only, on purpose: the wait runs as `python3 -m tools.wait_tables_gone`
when the project has no virtualenv, and must not need Pulumi to start.
"""

ENV_KUBECONFIG = "KVDEMO_KUBECONFIG"
ENV_KUBE_CONTEXT = "KVDEMO_KUBE_CONTEXT"
ENV_SELECTOR = "KVDEMO_TABLE_SELECTOR"
ENV_TIMEOUT = "KVDEMO_TABLE_WAIT_SECONDS"
ENV_ACK_NAMESPACE = "KVDEMO_ACK_NAMESPACE"
ENV_KUSTOMIZATION = "KVDEMO_FLUX_KUSTOMIZATION"
