"""Evaluates the `${...}` expressions of a kro ResourceGraphDefinition in Python.

The evaluator is Google's cel-cpp through `cel-expr-python` (with the optional
types extension, so `.?field`, `.orValue()` and `?"key":` entries work as in
cel-go). What kro adds on top of standard CEL is shimmed here, each shim
behaving as its kro v0.9.3 / cel-go v0.27.0 original:

* `<list>.distinct()`, `<list>.sort()`: cel-go ext/lists.go (ext.Lists(), which
  kro loads at its newest version; pkg/cel/environment.go).
* `omit()`: kro pkg/cel/library/omit.go returns a sentinel; the resolver removes
  the field (or list element) that holds it (pkg/runtime/resolver/resolver.go).

How kro finds expressions in a template string is ported from
pkg/graph/parser/cel.go (brace counting outside double-quoted literals): a
string that is exactly one `${...}` is replaced by the value, which may be a list
or an object; otherwise every expression must yield a string and is spliced in.

What this does NOT reproduce: kro's build-time type check of every expression
against the OpenAPI schema of the ACK Table CRD and of the generated instance
CRD (here `schema` and resources are untyped `dyn`). The tests validate the
rendered objects against a JSON Schema of the ACK Table instead, and kro's own
check runs when the RGD is applied (state Active).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from cel_expr_python import cel
from cel_expr_python.ext import ext_optional, ext_strings

OMIT = "\u2063kro.omit()\u2063"
"""Stand-in for kro's omit sentinel (cel-cpp strings cannot carry a NUL byte)."""


class KroCelError(AssertionError):
    """An expression failed to compile or evaluated to a CEL error."""


@dataclass(frozen=True)
class Match:
    expr: str
    start: int
    end: int


def extract_expressions(text: str) -> list[Match]:
    """Port of kro's extractExpressions: `${`, then braces counted outside string literals."""
    matches: list[Match] = []
    start = 0
    while start < len(text):
        begin = text.find("${", start)
        if begin == -1:
            break
        depth, index, in_string, escape = 1, begin + 2, False, False
        while index < len(text):
            char = text[index]
            if escape:
                escape = False
            elif in_string and char == "\\":
                escape = True
            elif char == '"':
                in_string = not in_string
            elif not in_string:
                if char == "{":
                    depth += 1
                elif char == "}":
                    depth -= 1
                    if depth == 0:
                        break
                elif text.startswith("${", index) and text[index - 1] != '"':
                    raise KroCelError(f"nested expression in {text!r}")
            index += 1
        if depth != 0:
            start += 1
            continue
        matches.append(Match(text[begin + 2 : index], begin, index + 1))
        start = index + 1
    return matches


def is_standalone(text: str) -> bool:
    matches = extract_expressions(text)
    return len(matches) == 1 and matches[0].start == 0 and matches[0].end == len(text)


def _distinct(values: list) -> list:
    out: list = []
    for value in values:
        if value not in out:
            out.append(value)
    return out


def _sort(values: list) -> list:
    kinds = {type(v) for v in values}
    if len(kinds) > 1 or (kinds and not kinds <= {str} | {int} | {float} | {bool}):
        # cel-go: "list elements must have the same type" / must be comparable.
        raise ValueError(f"sort() on a list of {sorted(k.__name__ for k in kinds)}")
    return sorted(values)


def _omit() -> str:
    return OMIT


_LIST = cel.Type.List(cel.Type.DYN)
_FUNCTIONS = [
    cel.FunctionDecl("distinct", [cel.Overload("list_distinct", return_type=_LIST, parameters=[_LIST], is_member=True, impl=_distinct)]),
    cel.FunctionDecl("sort", [cel.Overload("list_sort", return_type=_LIST, parameters=[_LIST], is_member=True, impl=_sort)]),
    cel.FunctionDecl("omit", [cel.Overload("omit_void", return_type=cel.Type.DYN, parameters=[], impl=_omit)]),
]


class KroCel:
    """One CEL environment with the variables an RGD's expressions may name."""

    def __init__(self, variables: tuple[str, ...] = ("schema",)) -> None:
        self.variables = variables
        self.env = cel.NewEnv(
            variables={name: cel.Type.DYN for name in variables},
            extensions=[ext_optional.ExtOptional(), ext_strings.ExtStrings()],
            functions=_FUNCTIONS,
        )

    def evaluate(self, expression: str, data: dict[str, Any]) -> Any:
        try:
            program = self.env.compile(expression)
        except Exception as error:  # cel-cpp reports compile errors as RuntimeError
            raise KroCelError(f"does not compile: {expression}\n{error}") from None
        try:
            value = program.eval(data=data)
        except Exception as error:
            raise KroCelError(f"failed: {expression}\n{error}") from None
        if value.type() == cel.Type.ERROR:
            # kro treats "no such key" as data still pending and waits forever.
            raise KroCelError(f"evaluates to an error: {value.plain_value()}\n  in: {expression}")
        return value.plain_value()

    def resolve(self, template: Any, data: dict[str, Any]) -> Any:
        """The object kro would apply: every expression replaced, omitted fields removed."""
        resolved = self._resolve(copy.deepcopy(template), data)
        return _drop_omitted(resolved)

    def _resolve(self, node: Any, data: dict[str, Any]) -> Any:
        if isinstance(node, dict):
            return {key: self._resolve(value, data) for key, value in node.items()}
        if isinstance(node, list):
            return [self._resolve(value, data) for value in node]
        if isinstance(node, str):
            matches = extract_expressions(node)
            if not matches:
                return node
            if is_standalone(node):
                return self.evaluate(matches[0].expr, data)
            out, last = [], 0
            for match in matches:
                value = self.evaluate(match.expr, data)
                if not isinstance(value, str):
                    raise KroCelError(f"string template part {match.expr!r} yields {type(value).__name__}, not a string")
                out += [node[last : match.start], value]
                last = match.end
            return "".join(out + [node[last:]])
        return node


def _drop_omitted(node: Any) -> Any:
    """kro's cleanOmitSentinels: remove map entries and list items that are the sentinel."""
    if isinstance(node, dict):
        return {k: _drop_omitted(v) for k, v in node.items() if v != OMIT}
    if isinstance(node, list):
        return [_drop_omitted(v) for v in node if v != OMIT]
    return node


def expressions_in(node: Any, path: str = "") -> list[tuple[str, str]]:
    """(path, expression) for every `${...}` in a YAML tree, in document order."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            found += expressions_in(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += expressions_in(value, f"{path}[{index}]")
    elif isinstance(node, str):
        found += [(path, m.expr) for m in extract_expressions(node)]
    return found
