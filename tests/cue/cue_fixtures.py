"""Renderers that feed the CUE evaluator exactly the strings the Pulumi
registrar installs, and the KubeVela context they are rendered with.

A module of its own rather than conftest.py, so tests can import it without
colliding with other conftest modules of the suite."""

from __future__ import annotations

from components import cue_templates
from cue_runner import CueEvaluator, kubevela_text

REGION = "eu-west-1"
PROVIDER_CONFIG = "aws-dynamodb"

# What KubeVela 1.10 puts in `context` for a component (the keys templates may
# read); values as they would be for component "sessions" of application
# "session-demo" in namespace "demo".
CONTEXT = {
    "name": "sessions",
    "appName": "session-demo",
    "namespace": "demo",
    "cluster": "local",
    "appRevision": "session-demo-v1",
    "appRevisionNum": 1,
    "revision": "sessions-v1",
    "appLabels": {"team": "platform"},
    "appAnnotations": {},
    "publishVersion": "",
    "workflowName": "session-demo",
    "clusterVersion": {"major": "1", "minor": "31", "gitVersion": "v1.31.9+k3s1", "platform": "linux/amd64"},
}


class Definitions:
    """Renders the installed template strings through the evaluator."""

    def __init__(self, cue: CueEvaluator) -> None:
        self.cue = cue

    def template_text(self, engine: str, parameter: dict, context: dict | None = None) -> str:
        template = cue_templates.dynamodb_template(engine, REGION, PROVIDER_CONFIG)
        return kubevela_text(template, context=context or CONTEXT, parameter=parameter)

    # `output` and `parameter` of one text come from one evaluation: the contract tests
    # ask for both (see CueEvaluator.evaluate_together).
    def render(self, engine: str, parameter: dict, context: dict | None = None) -> dict:
        return self.cue.export(self.template_text(engine, parameter, context), "output", along=("parameter",))

    def render_result(self, engine: str, parameter: dict):
        return self.cue.evaluate(self.template_text(engine, parameter), "output")

    def parameter(self, engine: str, parameter: dict) -> dict:
        return self.cue.export(self.template_text(engine, parameter), "parameter", along=("output",))

    def health(self, engine: str, live: dict) -> bool:
        text = kubevela_text(cue_templates.dynamodb_health_policy(engine), context={**CONTEXT, "output": live}, parameter={})
        return self.cue.export(text, "isHealth")

    def status(self, engine: str, live: dict) -> str:
        text = kubevela_text(cue_templates.dynamodb_custom_status(engine), context={**CONTEXT, "output": live}, parameter={})
        return self.cue.export(text, "message")

    def trait(self, name: str, expression: str, parameter: dict, context: dict | None = None):
        text = kubevela_text(cue_templates.trait_template(name), context=context or CONTEXT, parameter=parameter)
        return self.cue.export(text, expression)

    def trait_result(self, name: str, expression: str, parameter: dict):
        text = kubevela_text(cue_templates.trait_template(name), context=CONTEXT, parameter=parameter)
        return self.cue.evaluate(text, expression)
