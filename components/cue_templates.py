"""Builds KubeVela CUE template strings from the `.cue` files in `components/cue/`.

The DynamoDB contract (`cue/dynamodb/contract.cue`) is written once and joined to
each engine's rendering (`cue/dynamodb/<engine>.cue`), so the three
ComponentDefinitions cannot expose different parameters. Platform facts that are
not developer parameters (region, provider config) are appended as a hidden
`_platform` value. The tests evaluate exactly these strings with a real CUE
evaluator.
"""

from __future__ import annotations

import json
from pathlib import Path

CUE_DIR = Path(__file__).resolve().parent / "cue"
DYNAMODB_DIR = CUE_DIR / "dynamodb"
TRAITS_DIR = CUE_DIR / "traits"

ENGINES = ("xp", "kro", "kratix")
"""Engine suffixes: `aws-dynamodb-<engine>` is the ComponentDefinition name."""


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip() + "\n"


def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise ValueError(f"unknown DynamoDB engine {engine!r}; expected one of {', '.join(ENGINES)}")


def platform_block(region: str, provider_config_name: str = "default") -> str:
    """The hidden `_platform` value; JSON string literals are valid CUE string literals."""
    return (
        "_platform: {\n"
        f"\tregion:             {json.dumps(region)}\n"
        f"\tproviderConfigName: {json.dumps(provider_config_name)}\n"
        "}\n"
    )


def dynamodb_template(engine: str, region: str, provider_config_name: str = "default") -> str:
    """`spec.schematic.cue.template` of `aws-dynamodb-<engine>`."""
    _check_engine(engine)
    return "\n".join(
        [
            _read(DYNAMODB_DIR / "contract.cue"),
            _read(DYNAMODB_DIR / f"{engine}.cue"),
            platform_block(region, provider_config_name),
        ]
    )


def dynamodb_health_policy(engine: str) -> str:
    """`spec.status.healthPolicy` of `aws-dynamodb-<engine>` (defines `isHealth`)."""
    _check_engine(engine)
    return _read(DYNAMODB_DIR / f"{engine}.health.cue")


def dynamodb_custom_status(engine: str) -> str:
    """`spec.status.customStatus` of `aws-dynamodb-<engine>` (defines `message`)."""
    _check_engine(engine)
    return _read(DYNAMODB_DIR / f"{engine}.status.cue")


def trait_template(name: str) -> str:
    """`spec.schematic.cue.template` of the TraitDefinition `name`."""
    path = TRAITS_DIR / f"{name}.cue"
    if not path.is_file():
        known = sorted(p.stem for p in TRAITS_DIR.glob("*.cue"))
        raise ValueError(f"no trait template {path.name}; known traits: {', '.join(known) or 'none'}")
    return _read(path)
