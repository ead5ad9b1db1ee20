"""`report`: the three approaches side by side, from measurements, as Markdown and a PNG chart.

Sources, none written by hand:
- `.pulumi-state/measurements.json`, filled by `up` (seconds from `pulumi up` start to
  the table ACTIVE in DynamoDB and to the Application running; Kubernetes objects
  and CRDs attributed to each approach, see tools/inventory.py) and by `smoke`;
- the offline plan of each approach stack (tools/plan.py): lines of the definitions
  the platform team maintains (ComponentDefinition and the engine's own definition
  objects, as YAML) and lines of the table component a developer writes;
- the day-2 results `compare` recorded in the same file (tools/day2_report.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml

from tools.state import APPROACHES, ENGINE_OF

APPLICATION_TYPE = "kubernetes:core.oam.dev/v1beta1:Application"
# Plumbing every approach has (charts, namespaces, credentials), not definitions.
PLUMBING_PREFIXES = ("kubernetes:helm.sh/", "kubernetes:core/v1:", "kubernetes:apps/v1:", "kubernetes:batch/v1:")


@dataclass
class Row:
    approach: str
    table_active_s: float | None = None
    app_ready_s: float | None = None
    objects: int | None = None
    crds: int | None = None
    definition_lines: int | None = None
    component_lines: int | None = None
    smoke: str = "not run"


def yaml_lines(value: Any) -> int:
    return len(yaml.safe_dump(value, sort_keys=True, default_flow_style=False).splitlines())


def definition_lines(plan_result) -> tuple[int, int]:
    """(definition lines, developer component lines) of an approach stack's offline plan."""
    definitions = 0
    component = 0
    for reg in plan_result.registrations:
        if not reg.custom or not reg.type.startswith("kubernetes:") or reg.type.startswith(PLUMBING_PREFIXES):
            continue
        inputs = reg.masked_inputs
        if reg.type == APPLICATION_TYPE:
            for comp in (inputs.get("spec") or {}).get("components") or []:
                if str(comp.get("type", "")).startswith("aws-dynamodb-"):
                    component += yaml_lines(comp)
            continue
        definitions += yaml_lines({k: v for k, v in inputs.items() if k not in ("status",)})
    return definitions, component


def build_rows(measurements: dict[str, Any], lines: dict[str, tuple[int, int] | None]) -> list[Row]:
    rows = []
    for approach in APPROACHES:
        m = measurements.get(approach) or {}
        inventory = m.get("inventory") or {}
        smoke = m.get("smoke")
        row = Row(
            approach,
            table_active_s=m.get("tableActiveSeconds"),
            app_ready_s=m.get("appReadySeconds"),
            objects=inventory.get("objects"),
            crds=inventory.get("crds"),
            smoke="not run" if smoke is None else ("pass" if smoke.get("ok") else "FAIL"),
        )
        if lines.get(approach):
            row.definition_lines, row.component_lines = lines[approach]
        rows.append(row)
    return rows


def _cell(value: Any, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.0f}{unit}"
    return f"{value}{unit}"


def markdown(rows: list[Row], notes: list[str] | None = None, day2: dict[str, dict[str, dict]] | None = None) -> str:
    header = "| | " + " | ".join(f"{r.approach} (`{ENGINE_OF[r.approach]}`)" for r in rows) + " |"
    rule = "|---|" + "---|" * len(rows)
    table = [
        ("`pulumi up` start → table ACTIVE", [_cell(r.table_active_s, " s") for r in rows]),
        ("`pulumi up` start → app ready", [_cell(r.app_ready_s, " s") for r in rows]),
        ("Kubernetes objects added", [_cell(r.objects) for r in rows]),
        ("CRDs added", [_cell(r.crds) for r in rows]),
        ("definition lines (platform team, YAML)", [_cell(r.definition_lines) for r in rows]),
        ("table component lines (developer)", [_cell(r.component_lines) for r in rows]),
        ("smoke", [r.smoke for r in rows]),
    ]
    body = [f"| {name} | " + " | ".join(cells) + " |" for name, cells in table]
    text = ["# Three approaches side by side", "", header, rule, *body, ""]
    text += [
        "Times are measured by `up` from the start of each approach stack's `pulumi up` (the three run "
        "concurrently after the platform). Objects and CRDs are the live objects attributed to each approach's "
        "stack (its state, namespaces, Helm releases, Application, owners). Lines are counted from the offline plan. "
        "n/a: not measured yet (run `up`, then `smoke`).",
    ]
    for note in notes or []:
        text += ["", f"- {note}"]
    if day2:
        from tools.day2_report import day2_markdown

        section = day2_markdown(day2)
        if section:
            text += ["", *section]
    return "\n".join(text) + "\n"


def chart(rows: list[Row], path: Path, day2: dict[str, dict[str, dict]] | None = None) -> None:
    """Four small bar charts, one per measure, so different units never share an axis.

    With day-2 results, a second row: one panel per `compare` scenario.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only; no display needed
    import matplotlib.pyplot as plt

    measures: list[tuple[str, Callable[[Row], Any]]] = [
        ("seconds to table ACTIVE", lambda r: r.table_active_s),
        ("seconds to app ready", lambda r: r.app_ready_s),
        ("Kubernetes objects / CRDs added", lambda r: (r.objects, r.crds)),
        ("definition lines (YAML)", lambda r: r.definition_lines),
    ]
    names = [r.approach for r in rows]
    colors = ["#4C72B0", "#55A868", "#C44E52"]
    with_day2 = bool(day2 and any(day2.values()))
    rows_of_panels = 2 if with_day2 else 1
    fig = plt.figure(figsize=(16, 4.5 * rows_of_panels))
    # 20 columns: four panels of 5 on the first row, five of 4 (one per scenario) on the second.
    grid = fig.add_gridspec(rows_of_panels, 20)
    axes = [fig.add_subplot(grid[0, i * 5:(i + 1) * 5]) for i in range(len(measures))]
    if with_day2:
        from tools.compare import SCENARIOS
        from tools.day2_report import day2_panels

        day2_panels([fig.add_subplot(grid[1, i * 4:(i + 1) * 4]) for i in range(len(SCENARIOS))], day2, colors)
    for ax, (title, get) in zip(axes, measures):
        ax.set_title(title, fontsize=11)
        values = [get(r) for r in rows]
        if title.startswith("Kubernetes"):
            objects = [v[0] or 0 for v in values]
            crds = [v[1] or 0 for v in values]
            bars = ax.bar(names, objects, color=colors, alpha=0.45, label="objects")
            ax.bar(names, crds, color=colors, label="CRDs")
            for bar, o, c, v in zip(bars, objects, crds, values):
                ax.annotate("n/a" if v[0] is None else f"{o} / {c}", (bar.get_x() + bar.get_width() / 2, o),
                            ha="center", va="bottom", fontsize=9)
            continue
        heights = [v or 0 for v in values]
        bars = ax.bar(names, heights, color=colors)
        for bar, value in zip(bars, values):
            ax.annotate("n/a" if value is None else f"{value:.0f}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize=9)
        ax.margins(y=0.15)
    smoke = "   ".join(f"{r.approach}: smoke {r.smoke}" for r in rows)
    fig.suptitle(f"kubevela-dynamodb: three engines behind one component contract\n{smoke}", fontsize=12)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
