"""Offline plan: print every resource a stack would create, as JSON, without a cluster.

    python -m tools.plan platform
    python -m tools.plan kro --set dynamodbMode=aws --out plan-kro.json

The stack's program runs under Pulumi mocks with the checked-in
`stacks/Pulumi.<stack>.yaml` config (plus `--set` overrides). An approach stack
gets the platform stack's planned outputs through its StackReference. Secrets
are masked, and two runs print the same bytes, so plans can be diffed in CI.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from components.project_paths import PROJECT_DIR
from tools.mock_harness import PROJECT, PlanResult, run_stack

STACK_CONFIG_DIR = PROJECT_DIR / "stacks"


def stack_config(stack: str) -> dict[str, object]:
    """Plain values of `stacks/Pulumi.<stack>.yaml`; `secure:` values cannot be read offline."""
    path = STACK_CONFIG_DIR / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    config = {}
    for key, value in (data.get("config") or {}).items():
        if isinstance(value, dict) and "secure" in value:
            continue
        config[key if ":" in key else f"{PROJECT}:{key}"] = value
    return config


def approach_of(stack: str, config: dict[str, object]) -> str:
    return str(config.get(f"{PROJECT}:approach") or stack)


class UnknownKey(ValueError):
    """An override of a key the stack's program never reads (a typo, or another stack's key)."""


def _unread(result: PlanResult, overrides: dict[str, object]) -> list[str]:
    return sorted(k for k in overrides if k not in result.config_read)


def plan(stack: str, overrides: dict[str, object] | None = None, platform_overrides: dict[str, object] | None = None) -> PlanResult:
    overrides = {(k if ":" in k else f"{PROJECT}:{k}"): v for k, v in (overrides or {}).items()}
    config = {**stack_config(stack), **overrides}
    stack_outputs = {}
    if approach_of(stack, config) != "platform":
        platform = plan("platform", platform_overrides)
        platform_ref = str(config.get(f"{PROJECT}:platformStack") or "platform")
        if platform_ref.count("/") == 0:
            platform_ref = f"organization/{PROJECT}/{platform_ref}"
        stack_outputs[platform_ref] = (platform.outputs, platform.secret_outputs)
    elif platform_overrides:
        raise UnknownKey("--set-platform is for an approach stack's plan; give the platform's own keys with --set")
    result = run_stack(stack, config, stack_outputs)
    unread = _unread(result, overrides)
    if unread:
        # Without this, a platform key given to an approach stack changes nothing, silently.
        hint = " (a platform key? give it with --set-platform)" if approach_of(stack, config) != "platform" else ""
        raise UnknownKey(f"stack {stack!r} does not read {', '.join(unread)}{hint}")
    return result


def _parse_set(values: list[str]) -> dict[str, object]:
    parsed = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--set expects key=value, got {item!r}")
        parsed[key] = value
    return parsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.plan", description=__doc__.split("\n\n")[0])
    parser.add_argument("stack", help="stack name: platform, crossplane, kro, kratix (or one with an `approach` key)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config value")
    parser.add_argument("--set-platform", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value of the platform stack an approach stack reads")
    parser.add_argument("--out", type=Path, help="write the plan to this file instead of stdout")
    args = parser.parse_args(argv)
    try:
        result = plan(args.stack, _parse_set(args.set), _parse_set(args.set_platform))
    except Exception as error:  # the program's own errors are the message the user needs
        print(f"plan failed for stack {args.stack!r}: {error}", file=sys.stderr)
        return 1
    text = json.dumps(result.to_json(), indent=2, sort_keys=True) + "\n"
    if args.out:
        args.out.write_text(text)
        print(f"wrote {len(result.registrations)} resources to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
