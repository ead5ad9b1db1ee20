"""What an approach stack reads from the `platform` stack, through a StackReference."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.session_app import API_PORT, SessionApplicationArgs, api_component_name
from stacks.config import ConfigError, platform_stack_name


@dataclass
class Platform:
    stack_name: str
    cluster_name: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    kube_context: pulumi.Output[str]
    """The kubeconfig context the platform used; every provider here uses it too."""
    provider: k8s.Provider
    vela_namespace: pulumi.Output[str]
    apps_namespace: pulumi.Output[str]
    dynamodb_mode: pulumi.Output[str]
    dynamodb_region: pulumi.Output[str]
    dynamodb_endpoint: pulumi.Output[str]
    table_prefix: pulumi.Output[str]
    engine_credentials: pulumi.Output[str]
    app_credentials_secret: pulumi.Output[str]
    ack_namespace: pulumi.Output[str]
    session_api_image: pulumi.Output[str]
    ingress_class: pulumi.Output[str]
    ingress_domain: pulumi.Output[str]
    ingress_http_port: pulumi.Output[int]
    ingress_scheme: pulumi.Output[str]
    image_registry: pulumi.Output[str]
    """'' on k3d (images are imported); the registry images are pushed to on an existing cluster."""
    image_pull_secrets: pulumi.Output[list]
    image_platform: pulumi.Output[str]
    """The nodes' platform images are built for on an existing cluster; '' on k3d (this machine's)."""

    def table_name(self, engine: str) -> pulumi.Output[str]:
        """Each approach's session table: `<tablePrefix>sessions-<engine>`."""
        return pulumi.Output.concat(self.table_prefix, f"sessions-{engine}")

    def session_app_args(self, engine: str, timeout_minutes: int) -> SessionApplicationArgs:
        """The session Application of an approach, wired to everything the platform provides."""
        return SessionApplicationArgs(
            engine=engine,
            app_name=f"session-api-app-{engine}",
            namespace=self.apps_namespace,
            table_name=self.table_name(engine),
            image=self.session_api_image,
            region=self.dynamodb_region,
            endpoint=self.dynamodb_endpoint,
            credentials_secret=self.app_credentials_secret,
            ingress_host=self.app_host(engine),
            ingress_class=self.ingress_class,
            image_pull_secrets=self.image_pull_secrets,
            timeout_minutes=timeout_minutes,
        )

    def app_host(self, engine: str) -> pulumi.Output[str]:
        """Ingress host of an approach's session API: `session-api-<engine>.<ingressDomain>`."""
        return pulumi.Output.concat(f"session-api-{engine}.", self.ingress_domain)

    def api_service(self, engine: str) -> dict[str, pulumi.Input]:
        """The Service of an approach's session API.

        webservice emits a Service named after the component, with each `expose: true`
        port as its port (Ref: kubevela/kubevela@v1.10.9:charts/vela-core/templates/defwithtemplate/webservice.yaml).
        """
        return {"namespace": self.apps_namespace, "name": api_component_name(engine), "port": API_PORT}

    def app_url(self, engine: str) -> pulumi.Output[str]:
        """Where that API answers; the port is left out when it is the scheme's default."""

        def url(args: list) -> str:
            host, scheme, port = args
            default = {"http": 80, "https": 443}.get(scheme)
            return f"{scheme}://{host}" + ("" if int(port) == default else f":{int(port)}")

        return pulumi.Output.all(self.app_host(engine), self.ingress_scheme, self.ingress_http_port).apply(url)


def read_platform() -> Platform:
    stack_name = platform_stack_name()
    ref = pulumi.StackReference("platform", stack_name=stack_name)

    def output(key: str) -> pulumi.Output:
        def required(value):
            if value is None:
                # Also what a platform stack that was never brought up looks like.
                raise ConfigError(
                    f"the platform stack {stack_name!r} has no output {key!r}: bring it up first "
                    "(`make up-platform`, or `pulumi up --stack platform`)"
                )
            return value

        return ref.get_output(key).apply(required)

    kubeconfig = pulumi.Output.secret(output("kubeconfig"))
    cluster_name = output("clusterName")
    kube_context = output("kubeContext")
    provider = k8s.Provider(
        "platform-cluster",
        k8s.ProviderArgs(
            kubeconfig=kubeconfig,
            # Not the kubeconfig's current context: the one the platform was deployed with.
            # Ref: pulumi/pulumi-kubernetes@94977969d:provider/pkg/provider/provider.go (Configure:
            # `context` becomes clientcmd's CurrentContext override; DiffConfig: with
            # clusterIdentifier unchanged, a changed context is an update, not a replacement).
            context=kube_context,
            cluster_identifier=cluster_name,
            # A cluster deleted by hand must not block `pulumi destroy` of an approach stack:
            # its objects went with it. The CLI's `down` first checks that the cluster answers,
            # since a merely stopped one would have its objects (and their tables) forgotten.
            delete_unreachable=True,
        ),
    )
    return Platform(
        stack_name=stack_name,
        cluster_name=cluster_name,
        kubeconfig=kubeconfig,
        kube_context=kube_context,
        provider=provider,
        vela_namespace=output("velaNamespace"),
        apps_namespace=output("appsNamespace"),
        dynamodb_mode=output("dynamodbMode"),
        dynamodb_region=output("dynamodbRegion"),
        dynamodb_endpoint=output("dynamodbEndpoint"),
        table_prefix=output("tablePrefix"),
        engine_credentials=pulumi.Output.secret(output("engineCredentials")),
        app_credentials_secret=output("appCredentialsSecret"),
        ack_namespace=output("ackNamespace"),
        session_api_image=output("sessionApiImage"),
        ingress_class=output("ingressClass"),
        ingress_domain=output("ingressDomain"),
        ingress_http_port=output("ingressHttpPort"),
        ingress_scheme=output("ingressScheme"),
        image_registry=output("imageRegistry"),
        image_pull_secrets=output("imagePullSecrets"),
        image_platform=output("imagePlatform"),
    )
