"""The OpenAPI schema kro generates from an RGD's SimpleSchema, for the subset our RGD uses.

Follows kubernetes-sigs/kro@v0.9.3 pkg/simpleschema (parse.go, transform.go,
markers.go): `type | marker=value ...`; atomic types string/integer/boolean;
`[]T`; `map[string]T`; custom types from `schema.types`; inline objects; markers
required, default, description, enum, pattern, minLength, maxLength, minimum,
minItems, maxItems. Like kro, an object with no required child and a child
default gets `default: {}`. An unknown type or marker is an error here, so a
construct outside this subset is noticed rather than mis-read.

The result is a plain JSON Schema (draft 2020-12 keywords with the same meaning
as OpenAPI's structural subset) plus `default`, which :func:`apply_defaults`
applies the way the API server does before kro sees the instance.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

_ATOMIC = {"string": "string", "integer": "integer", "boolean": "boolean"}
_MARKER = re.compile(r'\s*(\w+)=("(?:[^"\\]|\\.)*"|\S+)')


def _markers(text: str) -> dict[str, str]:
    markers: dict[str, str] = {}
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _MARKER.match(text, pos)
        if not match:
            raise ValueError(f"cannot read markers {text!r} at {pos}")
        key, value = match.group(1), match.group(2)
        if value.startswith('"'):
            value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        markers[key] = value
        pos = match.end()
    return markers


class SimpleSchema:
    def __init__(self, types: dict[str, Any] | None) -> None:
        self.raw_types = types or {}
        self.types: dict[str, dict] = {}
        for name in self.raw_types:
            self._custom(name, ())

    def _custom(self, name: str, seen: tuple[str, ...]) -> dict:
        if name in self.types:
            return copy.deepcopy(self.types[name])
        if name not in self.raw_types:
            raise ValueError(f"unknown type {name!r}")
        if name in seen:
            raise ValueError(f"cyclic type {name!r}")
        spec = self.raw_types[name]
        if not isinstance(spec, dict):
            raise ValueError(f"type {name}: only object types are handled here")
        self.types[name] = self.object(spec, seen + (name,))
        return copy.deepcopy(self.types[name])

    def type_schema(self, type_text: str, seen: tuple[str, ...] = ()) -> dict:
        type_text = type_text.strip()
        if type_text in _ATOMIC:
            return {"type": _ATOMIC[type_text]}
        if type_text.startswith("[]"):
            return {"type": "array", "items": self.type_schema(type_text[2:], seen)}
        if type_text.startswith("map[string]"):
            return {"type": "object", "additionalProperties": self.type_schema(type_text[len("map[string]"):], seen)}
        return self._custom(type_text, seen)

    def field(self, name: str, text: str, parent: dict, seen: tuple[str, ...] = ()) -> dict:
        type_text, _, marker_text = text.partition("|")
        schema = self.type_schema(type_text, seen)
        for key, value in _markers(marker_text).items():
            if key == "required":
                if value not in ("true", "false"):
                    raise ValueError(f"{name}: required={value!r}")
                if value == "true":
                    parent.setdefault("required", []).append(name)
            elif key == "default":
                kind = schema["type"]
                schema["default"] = (
                    value if kind == "string" else int(value) if kind == "integer" else {"true": True, "false": False}[value]
                    if kind == "boolean" else json.loads(value)
                )
            elif key == "description":
                schema["description"] = value
            elif key == "enum":
                values = [v.strip() for v in value.split(",")]
                schema["enum"] = values if schema["type"] == "string" else [json.loads(v) for v in values]
            elif key == "pattern":
                re.compile(value)
                schema["pattern"] = value
            elif key in ("minLength", "maxLength", "minItems", "maxItems"):
                schema[key] = int(value)
            elif key == "minimum":
                schema["minimum"] = float(value) if "." in value else int(value)
            else:
                raise ValueError(f"{name}: marker {key!r} is not handled here")
        return schema

    def object(self, spec: dict, seen: tuple[str, ...] = ()) -> dict:
        schema: dict = {"type": "object", "properties": {}}
        child_default = False
        for name, value in spec.items():
            if isinstance(value, str):
                child = self.field(name, value, schema, seen)
            elif isinstance(value, dict):
                child = self.object(value, seen)
            else:
                raise ValueError(f"{name}: unexpected {type(value).__name__}")
            schema["properties"][name] = child
            child_default = child_default or "default" in child
        # pkg/simpleschema/transform.go buildSchema.
        if not schema.get("required") and child_default:
            schema["default"] = {}
        return schema


def instance_spec_schema(rgd: dict) -> dict:
    """JSON Schema of the generated CRD's `spec` (what a DynamoDBTable's spec must satisfy)."""
    schema = rgd["spec"]["schema"]
    return SimpleSchema(schema.get("types")).object(schema["spec"])


def closed(schema: dict) -> dict:
    """The same schema with unknown fields refused (the API server prunes them; tests want to know)."""
    schema = copy.deepcopy(schema)
    if schema.get("type") == "object" and "properties" in schema:
        schema["additionalProperties"] = False
        schema["properties"] = {k: closed(v) for k, v in schema["properties"].items()}
    elif schema.get("type") == "object" and isinstance(schema.get("additionalProperties"), dict):
        schema["additionalProperties"] = closed(schema["additionalProperties"])
    elif schema.get("type") == "array":
        schema["items"] = closed(schema["items"])
    return schema


def apply_defaults(value: Any, schema: dict) -> Any:
    """Structural defaulting as the API server does it (absent properties with a default get it)."""
    value = copy.deepcopy(value)
    if schema.get("type") == "object" and isinstance(value, dict):
        for name, child in schema.get("properties", {}).items():
            if name not in value and "default" in child:
                value[name] = copy.deepcopy(child["default"])
            if name in value:
                value[name] = apply_defaults(value[name], child)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for name in value:
                value[name] = apply_defaults(value[name], extra)
    elif schema.get("type") == "array" and isinstance(value, list):
        value = [apply_defaults(item, schema["items"]) for item in value]
    return value


def field_paths(schema: dict, prefix: str = "") -> set[str]:
    """`a.b[].c` paths of every declared field; map values as `{}`."""
    paths: set[str] = set()
    if schema.get("type") == "object" and "properties" in schema:
        for name, child in schema["properties"].items():
            path = f"{prefix}.{name}" if prefix else name
            paths.add(path)
            paths |= field_paths(child, path)
    elif schema.get("type") == "array":
        paths |= field_paths(schema["items"], f"{prefix}[]")
    return paths
