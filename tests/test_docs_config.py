"""docs/configuration.md lists exactly the stack keys the program reads, and every checked-in key is one of them."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "kubevela-dynamodb"


def keys_read_by_code(source: str) -> set[str]:
    """String keys passed to `_get(config, KEY, ...)`, `<Config>.get(KEY)`, `.get_secret(KEY)` and `_key(KEY)`."""
    keys = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        position = {"_get": 1, "get": 0, "get_secret": 0, "_key": 0}.get(name)
        if position is None or len(node.args) <= position:
            continue
        arg = node.args[position]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            keys.add(arg.value)
    return keys


def documented_keys(markdown: str) -> set[str]:
    """First-column keys of the tables in the stack sections (before the passphrase section)."""
    stacks_part = markdown.split("## The passphrase", 1)[0]
    return set(re.findall(r"^\| `([A-Za-z]+)` \|", stacks_part, re.M))


def checked_in_keys() -> set[str]:
    keys = set()
    for path in (ROOT / "stacks").glob("Pulumi.*.yaml"):
        for key in (yaml.safe_load(path.read_text()) or {}).get("config", {}):
            project, _, name = key.partition(":")
            assert project == PROJECT, f"{path.name}: {key} is outside the {PROJECT}: namespace"
            keys.add(name)
    return keys


def test_only_stacks_config_reads_pulumi_config() -> None:
    sources = [ROOT / "__main__.py", *(ROOT / "stacks").glob("*.py"), *(ROOT / "components").rglob("*.py")]
    readers = [str(p.relative_to(ROOT)) for p in sources if "pulumi.Config(" in p.read_text()]
    assert readers == ["stacks/config.py"]


def test_documented_keys_are_the_keys_the_code_reads() -> None:
    code = keys_read_by_code((ROOT / "stacks" / "config.py").read_text())
    docs = documented_keys((ROOT / "docs" / "configuration.md").read_text())
    assert {"clusterMode", "platformStack", "appTimeoutMinutes"} <= code  # the extraction itself works
    assert sorted(code - docs) == [], "read by stacks/config.py but not documented"
    assert sorted(docs - code) == [], "documented but not read by stacks/config.py"


def test_checked_in_stack_files_use_only_known_keys() -> None:
    code = keys_read_by_code((ROOT / "stacks" / "config.py").read_text())
    assert sorted(checked_in_keys() - code) == []


def test_key_extraction_sees_every_call_form() -> None:
    source = (
        "_get(config, 'a', 1, int)\n"
        "pulumi.Config().get('b')\n"
        "pulumi.Config().get_secret('c')\n"
        "f(_key('d'))\n"
        "other('e')\n"
        "env.get(name)\n"
    )
    assert keys_read_by_code(source) == {"a", "b", "c", "d"}
