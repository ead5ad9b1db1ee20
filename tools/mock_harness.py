"""Run a stack's Pulumi program under mocks and record every resource it registers.

This is the offline plan: no cluster, no cloud account and no Pulumi CLI are
needed. The same harness backs the test suite, so what `make plan` prints is
what the tests assert on.

What gets recorded comes from the RegisterResource requests themselves (type,
name, parent, dependencies, options, inputs with secrets still marked), because
`MockResourceArgs` carries neither parents nor dependencies.
"""

from __future__ import annotations

import contextlib
import json
import os
import runpy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pulumi
from google.protobuf import json_format
import pulumi.config as pulumi_config_module
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as pulumi_resource
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.proto import source_pb2

from components.project_paths import PROJECT_DIR

PROJECT = "kubevela-dynamodb"

# Marker the Pulumi wire format puts on secret values.
_SECRET_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_VALUE_SIG = "1b47061264138c4ac30d75fd1eb44270"
MASK = "[secret]"

FAKE_KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- cluster: {server: 'https://127.0.0.1:6550', insecure-skip-tls-verify: true}
  name: offline
contexts:
- context: {cluster: offline, user: offline}
  name: offline
current-context: offline
users:
- name: offline
  user: {token: offline-plan-token}
"""
FAKE_ACCOUNT_ID = "123456789012"


def _unmarshal(value: Any, mask: bool) -> Any:
    """Turn a wire-format value into plain JSON; secrets become MASK (or their value)."""
    if isinstance(value, dict):
        if value.get(_SECRET_SIG) == _SECRET_VALUE_SIG:
            return MASK if mask else _unmarshal(value.get("value"), mask)
        return {k: _unmarshal(v, mask) for k, v in value.items()}
    if isinstance(value, list):
        return [_unmarshal(v, mask) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf Struct carries every number as a double
    return value


def _contains_secret(value: Any) -> bool:
    if isinstance(value, dict):
        if value.get(_SECRET_SIG) == _SECRET_VALUE_SIG:
            return True
        return any(_contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_secret(v) for v in value)
    return False


def _name_of_urn(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _type_of_urn(urn: str) -> str:
    return urn.split("::")[2].rsplit("$", 1)[-1]


@dataclass
class Registration:
    """One resource as the program registered it."""

    type: str
    name: str
    urn: str
    parent_urn: str
    dependency_urns: list[str]
    raw_inputs: dict
    options: dict
    custom: bool

    @property
    def inputs(self) -> dict:
        """Inputs with secret values revealed (for assertions)."""
        return _unmarshal(self.raw_inputs, mask=False)

    @property
    def masked_inputs(self) -> dict:
        return _unmarshal(self.raw_inputs, mask=True)

    def is_secret(self, key: str) -> bool:
        """Whether input `key` (or anything inside it) is marked secret."""
        return _contains_secret(self.raw_inputs.get(key))

    @property
    def parent(self) -> str:
        """`type::name` of the parent, or '' for top-level resources."""
        if not self.parent_urn or self.parent_urn.split("::")[2] == "pulumi:pulumi:Stack":
            return ""
        return f"{_type_of_urn(self.parent_urn)}::{_name_of_urn(self.parent_urn)}"

    @property
    def dependencies(self) -> list[str]:
        """`type::name` of every resource this one waits for (explicit and implied)."""
        return sorted({f"{_type_of_urn(u)}::{_name_of_urn(u)}" for u in self.dependency_urns})

    def depends_on(self, type_: str, name: str) -> bool:
        return f"{type_}::{name}" in self.dependencies


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: pulumi_mocks.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            timeouts = request.customTimeouts
            self.registrations.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent_urn=request.parent,
                    dependency_urns=list(request.dependencies),
                    raw_inputs=json_format.MessageToDict(request.object),
                    options={
                        "provider": _name_of_urn(request.provider.split("::", 3)[-1].rsplit("::", 1)[0])
                        if request.provider
                        else "",
                        "deleteBeforeReplace": request.deleteBeforeReplace,
                        "ignoreChanges": list(request.ignoreChanges),
                        "replaceOnChanges": list(request.replaceOnChanges),
                        "additionalSecretOutputs": list(request.additionalSecretOutputs),
                        "protect": request.protect,
                        "retainOnDelete": request.retainOnDelete,
                        "customTimeouts": {
                            k: v
                            for k, v in (
                                ("create", timeouts.create),
                                ("update", timeouts.update),
                                ("delete", timeouts.delete),
                            )
                            if v
                        },
                    },
                    custom=request.custom,
                )
            )
        return response


class PlanMocks(pulumi_mocks.Mocks):
    """Plausible provider answers, so the whole program runs to the end offline."""

    def __init__(self, stack_outputs: dict[str, dict] | None = None) -> None:
        # stack reference name -> (outputs, secret output names)
        self.stack_outputs = stack_outputs or {}

    def new_resource(self, args: pulumi_mocks.MockResourceArgs):
        state = dict(args.inputs)
        if args.typ == "pulumi:pulumi:StackReference":
            name = args.inputs.get("name") or args.resource_id
            if name not in self.stack_outputs:
                raise KeyError(f"no outputs prepared for stack reference {name!r}")
            outputs, secret_names = self.stack_outputs[name]
            return name, {**args.inputs, "outputs": outputs, "secretOutputNames": secret_names}
        if args.typ == "command:local:Command":
            create = str(args.inputs.get("create", ""))
            state["stdout"] = FAKE_KUBECONFIG if "k3d kubeconfig merge" in create else ""
            state["stderr"] = ""
        elif args.typ == "kubernetes:helm.sh/v3:Release":
            state["status"] = {
                "name": args.inputs.get("name", args.name),
                "namespace": args.inputs.get("namespace", "default"),
                "status": "deployed",
                "version": args.inputs.get("version", ""),
            }
        elif args.typ == "aws:iam/accessKey:AccessKey":
            state["secret"] = "offline-secret-access-key"
        elif args.typ == "aws:iam/user:User":
            state["arn"] = f"arn:aws:iam::{FAKE_ACCOUNT_ID}:user/{args.inputs.get('name', args.name)}"
        return f"{args.name}-id", state

    def call(self, args: pulumi_mocks.MockCallArgs):
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": FAKE_ACCOUNT_ID,
                "arn": f"arn:aws:iam::{FAKE_ACCOUNT_ID}:user/offline",
                "id": FAKE_ACCOUNT_ID,
                "userId": "OFFLINE",
            }
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
        return {}


@dataclass
class PlanResult:
    stack: str
    registrations: list[Registration]
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: list[str] = field(default_factory=list)
    config_read: list[str] = field(default_factory=list)
    """Every config key (`project:name`) the program asked for, set or not."""

    def find(self, type_: str, name: str) -> Registration:
        matches = [r for r in self.registrations if r.type == type_ and r.name == name]
        if not matches:
            known = sorted(f"{r.type}::{r.name}" for r in self.registrations if r.type == type_)
            raise KeyError(f"no {type_} named {name!r}; registered of that type: {known}")
        return matches[0]

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_]

    def names(self, type_: str) -> set[str]:
        return {r.name for r in self.of_type(type_)}

    def waits_for(self, start: tuple[str, str], goal: tuple[str, str]) -> bool:
        """Whether resource `start` (type, name) waits for `goal`, directly or through others.

        The reverse is the destroy order: `goal` is deleted only after `start`.
        """
        by_key = {f"{r.type}::{r.name}": r for r in self.registrations}
        target, seen, todo = f"{goal[0]}::{goal[1]}", set(), [f"{start[0]}::{start[1]}"]
        while todo:
            key = todo.pop()
            if key == target:
                return True
            if key in seen or key not in by_key:
                continue
            seen.add(key)
            todo.extend(by_key[key].dependencies)
        return False

    def to_json(self) -> dict:
        """The printable plan: sorted, secrets masked, nothing time- or run-dependent."""
        resources = sorted(
            (
                {
                    "type": r.type,
                    "name": r.name,
                    "parent": r.parent,
                    "dependsOn": r.dependencies,
                    "provider": r.options["provider"],
                    "options": {k: v for k, v in r.options.items() if v and k != "provider"},
                    "inputs": r.masked_inputs,
                }
                for r in self.registrations
            ),
            key=lambda d: (d["type"], d["name"], d["parent"]),
        )
        outputs = {
            k: (MASK if k in self.secret_outputs else v) for k, v in sorted(self.outputs.items())
        }
        return {"stack": self.stack, "resources": resources, "outputs": outputs}


@contextlib.contextmanager
def _without_call_stacks():
    """No call stack for the engine with each registration while a plan runs.

    The SDK sends the engine the call stack of every resource it registers, for the
    engine's error messages: it extracts the whole stack and reads each frame's source
    line, a fifth to nearly half of a plan's CPU, the more the deeper the caller's stack
    (pytest's is deep). The mock monitor ignores it. The SDK looks the function up in its
    module at each registration.
    """
    real = pulumi_resource._get_stack_trace
    pulumi_resource._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        pulumi_resource._get_stack_trace = real


def run_stack(
    stack: str,
    config: dict[str, Any] | None = None,
    stack_outputs: dict[str, tuple[dict, list[str]]] | None = None,
    program: Path | None = None,
    mocks_factory: Callable[..., PlanMocks] = PlanMocks,
) -> PlanResult:
    """Run `__main__.py` as stack `stack` with the given config under mocks.

    `config` keys without a namespace belong to this project; values that are
    not strings are passed as JSON, as the Pulumi CLI does.
    """
    with _without_call_stacks():
        return _run_stack(stack, config, stack_outputs, program, mocks_factory)


def _run_stack(stack, config, stack_outputs, program, mocks_factory) -> PlanResult:
    program = program or PROJECT_DIR / "__main__.py"
    mocks = mocks_factory(stack_outputs)
    monitor = _RecordingMonitor(mocks)

    # A fresh root Stack per run: the SDK otherwise reuses the first one.
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(
        {
            (k if ":" in k else f"{PROJECT}:{k}"): (v if isinstance(v, str) else json.dumps(v))
            for k, v in (config or {}).items()
        }
    )

    outputs: dict[str, Any] = {}
    secret_outputs: list[str] = []
    config_read: set[str] = set()
    # Record which keys the program reads (pulumi.Config.get looks `get_config` up in its
    # module at each call), so an override of a key the stack never reads can be refused.
    real_get_config = pulumi_config_module.get_config

    def recording_get_config(full_key: str):
        config_read.add(full_key)
        return real_get_config(full_key)

    @pulumi.runtime.test
    def _program():
        old_cwd, old_path = os.getcwd(), list(sys.path)
        os.chdir(PROJECT_DIR)
        sys.path.insert(0, str(PROJECT_DIR))
        pulumi_config_module.get_config = recording_get_config
        try:
            runpy.run_path(str(program), run_name="__main__")
        finally:
            pulumi_config_module.get_config = real_get_config
            os.chdir(old_cwd)
            sys.path[:] = old_path

    _program()

    @pulumi.runtime.test
    def _collect():
        root = pulumi_settings.get_root_resource()
        exported = dict(getattr(root, "outputs", {}) or {})

        async def read_all():
            for key, value in exported.items():
                out = pulumi.Output.from_input(value)
                outputs[key] = _plain(await out.future())
                if await out.is_secret():
                    secret_outputs.append(key)

        return pulumi.Output.from_input(None).apply(lambda _: read_all())

    _collect()
    return PlanResult(stack=stack, registrations=monitor.registrations, outputs=outputs,
                      secret_outputs=sorted(secret_outputs), config_read=sorted(config_read))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
