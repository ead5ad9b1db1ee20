"""`report` shows what `compare` recorded: side by side, "did not converge within N s" never as a number."""

from __future__ import annotations

import json
from types import SimpleNamespace

from tools import cli
from tools.day2_report import day2_markdown, day2_panels, day2_results

HEALED = {
    "scenario": "drift-table", "waitSeconds": 660, "converged": True, "seconds": 612.4, "ranAt": "2026-12-01T10:00:00Z",
    "measures": {"tableRecreatedSeconds": 601.0, "apiReadySeconds": 612.4, "declaredSettingsSeconds": 605.2},
    "status": "Application running, table component not healthy: table not found", "itemsBefore": 5, "itemsAfter": 0,
    "restored": True, "restoredBy": "the engine", "notRestored": [], "error": "", "observations": [],
}
NEVER = {
    **HEALED, "converged": False, "seconds": None,
    "measures": {"tableRecreatedSeconds": None, "apiReadySeconds": None, "declaredSettingsSeconds": None,
                 "restoreSeconds": 41.3},
    "status": "kept reporting all is well (Application running, table component healthy)", "itemsAfter": None,
    "restoredBy": "a restart of the engine's controller",
}
REPLACED = {
    "scenario": "change-index", "waitSeconds": 660, "converged": True, "seconds": 48.0, "ranAt": "2026-12-01T10:20:00Z",
    "measures": {"convergedSeconds": 48.0, "apiDownSeconds": 30.0}, "mode": "replacement", "itemsBefore": 5,
    "itemsAfter": 0, "restored": False, "restoredBy": "", "error": "", "observations": [],
    "notRestored": ["table kvdemo-sessions-xp: the table does not exist"],
}
MEASUREMENTS = {
    "crossplane": {"day2": {"drift-table": HEALED, "change-index": REPLACED}},
    "kro": {"appReadySeconds": 70.0, "day2": {"drift-table": NEVER}},
}


def _rows(text: str) -> dict[str, list[str]]:
    return {
        line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
        for line in text.splitlines() if line.startswith("| **")
    }


def test_day2_table_puts_approaches_side_by_side():
    rows = _rows("\n".join(day2_markdown(day2_results(MEASUREMENTS))))
    assert rows["**drift-table** table deleted → table ACTIVE again"] == ["601 s", "did not converge within 660 s", "not run"]
    assert rows["**drift-table** … API answers `/ready` again"] == ["612 s", "did not converge within 660 s", "not run"]
    assert rows["**drift-table** … our items before → after"] == ["5 → 0 (**data loss**)", "5 → none (no table)", "—"]
    assert rows["**drift-table** … restored by"] == ["the engine", "a restart of the engine's controller (41 s)", "—"]
    assert rows["**change-index** … in place or replacement"] == ["replacement", "—", "—"]
    assert rows["**change-index** … restored by"][0].startswith("**NOT restored**: table kvdemo-sessions-xp")
    # Scenarios nobody ran get no rows.
    assert not any(name.startswith("**delete-app**") for name in rows)


def test_no_day2_section_before_compare_ran():
    assert day2_markdown(day2_results({"kro": {"appReadySeconds": 3}})) == []


def test_chart_panels_draw_no_bar_and_no_number_for_what_did_not_converge():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 5)
    day2_panels(list(axes), day2_results(MEASUREMENTS), ["r", "g", "b"])
    drift = axes[0]
    heights = [bar.get_height() for bar in drift.patches]
    assert heights == [612.4, 0, 0]
    texts = [t.get_text() for t in drift.texts]
    assert texts == ["612 s\ndata loss", "did not\nconverge\nwithin 660 s", "not run"]
    index = axes[2]
    assert [t.get_text() for t in index.texts] == ["48 s\nreplacement\ndata loss", "not run", "not run"]
    plt.close(fig)


def test_report_command_includes_day2_in_markdown_and_png(make_ctx, tmp_path):
    ctx = make_ctx()
    ctx.measurements.path.write_text(json.dumps(MEASUREMENTS))
    out = tmp_path / "out"
    assert cli.cmd_report(ctx, SimpleNamespace(out=str(out)), plan_lines=lambda: {}) == 0
    text = (out / "report.md").read_text()
    assert "## Day 2: drift, change, deletion (`compare`)" in text
    assert "each engine had 660 s" in text and "**kratix**:" in text
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
