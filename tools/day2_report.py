"""The day-2 part of `report`: what `compare` recorded, side by side, as Markdown rows and chart panels.

A measure that did not happen within the wait is written "did not converge
within N s" and drawn as no bar with that text, never as a number.
"""

from __future__ import annotations

from typing import Any, Callable

from tools.compare import HEADLINE, SCENARIOS
from tools.state import APPROACHES

# What to expect from each engine, from its source (docs/day2.md, "What to expect from each engine", explains them).
# Ref: crossplane-contrib/provider-upjet-aws@v2.6.0:cmd/provider/dynamodb/zz_main.go (--poll 10m, jitter 5 %);
# crossplane/crossplane-runtime@v2.2.0 pkg/reconciler/managed/reconciler.go (!ResourceExists && ShouldCreate -> Create);
# aws-controllers-k8s/runtime@v0.61.0:pkg/runtime/reconciler.go (GenerationChangedPredicate; requeue after the
# resync period; ReadOne NotFound -> createResource); aws-controllers-k8s/dynamodb-controller@v1.9.2:helm/values.yaml
# (reconcile.defaultResyncPeriod 36000); syntasso/kratix@224e1483 internal/controller/shared.go
# (DefaultReconciliationInterval 10h).
EXPECTED = {
    "crossplane": (
        "The provider checks each Table for drift every poll interval (`--poll`, default 10 min ± 5 %) "
        "and whenever the Table object changes; a table that no longer exists is created again, changed "
        "settings are updated back."
    ),
    "kro": (
        "kro keeps the ACK Table object as declared; the DynamoDB side is ACK's. ACK reconciles a Table when its "
        "spec changes and otherwise once per resync period (chart default 36000 s = 10 h): a deleted table or "
        "changed TTL/tags stay until then, or until the controller restarts; at that resync a missing table is "
        "created again."
    ),
    "kratix": (
        "The table is an ACK Table that Flux applies from the Destination's bucket, so DynamoDB drift is ACK's "
        "(10 h resync, see kro). Flux re-applies the Table object every 10 s (this demo's interval), which repairs "
        "the Kubernetes object, not the table; Kratix re-runs the request's workflow every 10 h."
    ),
}


def day2_results(measurements: dict[str, Any]) -> dict[str, dict[str, dict]]:
    """approach -> scenario -> recorded result (empty dicts where `compare` has not run)."""
    return {a: dict((measurements.get(a) or {}).get("day2") or {}) for a in APPROACHES}


def seconds_cell(result: dict | None, key: str | None = None) -> str:
    """Seconds, or what happened instead: never a number for something that did not happen."""
    if not result:
        return "not run"
    if str(result.get("error", "")).startswith("not run"):
        return result["error"]
    measures = result.get("measures") or {}
    if key is not None and key not in measures and not result.get("error"):
        return "not changed"  # e.g. TTL on real DynamoDB (see the observations)
    value = result.get("seconds") if key is None else measures.get(key)
    if value is None:
        if result.get("error"):
            return f"error: {result['error'][:80]}"
        return f"did not converge within {result.get('waitSeconds', 0):.0f} s"
    return f"{value:.0f} s"


def _items(result: dict | None) -> str:
    if not result or result.get("itemsBefore") is None:
        return "—"
    before, after = result["itemsBefore"], result.get("itemsAfter")
    if after is None:
        return f"{before} → none (no table)"
    return f"{before} → {after}" + (" (**data loss**)" if after < before else "")


def _text(key: str) -> Callable[[dict | None], str]:
    def cell(result: dict | None) -> str:
        if not result or str(result.get("error", "")).startswith("not run"):
            return "—"
        return str(result.get(key) or "—").replace("|", "/")

    return cell


def _audit(result: dict | None) -> str:
    if not result or str(result.get("error", "")).startswith("not run"):
        return "—"
    audits = [o[len("audit: "):] for o in result.get("observations") or [] if o.startswith("audit: ")]
    return audits[0] if audits else "—"


def _restored(result: dict | None) -> str:
    if not result or str(result.get("error", "")).startswith("not run"):
        return "—"
    if result.get("restored"):
        took = (result.get("measures") or {}).get("restoreSeconds")
        return (result.get("restoredBy") or "yes") + (f" ({took:.0f} s)" if took is not None else "")
    return "**NOT restored**: " + "; ".join(result.get("notRestored") or [])[:200]


ROWS: list[tuple[str, str, Callable[[dict | None], str]]] = [
    ("drift-table", "table deleted → table ACTIVE again", lambda r: seconds_cell(r, "tableRecreatedSeconds")),
    ("drift-table", "… API answers `/ready` again", lambda r: seconds_cell(r, "apiReadySeconds")),
    ("drift-table", "… TTL, indexes, tags as declared", lambda r: seconds_cell(r, "declaredSettingsSeconds")),
    ("drift-table", "… what the Application said", _text("status")),
    ("drift-table", "… our items before → after", _items),
    ("drift-table", "… restored by", _restored),
    ("drift-settings", "TTL disabled → enabled again", lambda r: seconds_cell(r, "ttlRestoredSeconds")),
    ("drift-settings", "tag changed → as declared again", lambda r: seconds_cell(r, "tagRestoredSeconds")),
    ("drift-settings", "… what the Application said", _text("status")),
    ("drift-settings", "… restored by", _restored),
    ("change-index", "index added through the Application → ACTIVE", lambda r: seconds_cell(r, "convergedSeconds")),
    ("change-index", "… in place or replacement", _text("mode")),
    ("change-index", "… our items before → after", _items),
    ("change-index", "… API not ready during the change", lambda r: seconds_cell(r, "apiDownSeconds")),
    ("change-index", "… restored by", _restored),
    ("change-billing", "billing mode switched through the Application → reported", lambda r: seconds_cell(r, "convergedSeconds")),
    ("change-billing", "… in place or replacement", _text("mode")),
    ("change-billing", "… our items before → after", _items),
    ("change-billing", "… API not ready during the change", lambda r: seconds_cell(r, "apiDownSeconds")),
    ("change-billing", "… restored by", _restored),
    ("delete-app", "Application deleted → table gone", lambda r: seconds_cell(r, "tableGoneSeconds")),
    ("delete-app", "… Application gone", lambda r: seconds_cell(r, "applicationGoneSeconds")),
    ("delete-app", "… audit afterwards", _audit),
    ("delete-app", "… restored by", _restored),
]


def day2_markdown(day2: dict[str, dict[str, dict]]) -> list[str]:
    """The day-2 section of report.md (empty when `compare` never ran)."""
    if not any(day2.values()):
        return []
    approaches = list(day2)
    lines = [
        "## Day 2: drift, change, deletion (`compare`)",
        "",
        "| | " + " | ".join(approaches) + " |",
        "|---|" + "---|" * len(approaches),
    ]
    for scenario, label, cell in ROWS:
        if not any(scenario in day2[a] for a in approaches):
            continue
        lines.append(f"| **{scenario}** {label} | " + " | ".join(cell(day2[a].get(scenario)) for a in approaches) + " |")
    waits = sorted({r.get("waitSeconds") for a in approaches for r in day2[a].values() if r.get("waitSeconds")})
    runs = sorted({r.get("ranAt", "")[:10] for a in approaches for r in day2[a].values() if r.get("ranAt")})
    lines += [
        "",
        f"Seconds from the change to the state named, polled every 2 s; each engine had "
        f"{' / '.join(f'{w:.0f}' for w in waits)} s (`compare --wait`). \"did not converge within N s\" means it had not "
        f"happened when the wait ended. Run on {', '.join(runs)}. Our items: rows the scenario wrote before the change "
        "and counted after it. Restored by: what put the demo back afterwards (\"the engine\" = nothing else was needed).",
        "",
        "What to expect from each engine (from its source):",
        "",
    ]
    lines += [f"- **{a}**: {EXPECTED[a]}" for a in approaches]
    return lines


def day2_panels(axes: list[Any], day2: dict[str, dict[str, dict]], colors: list[str]) -> None:
    """One bar panel per scenario (its headline measure), in `axes` (one per entry of SCENARIOS)."""
    names = list(day2)
    for ax, scenario in zip(axes, SCENARIOS):
        ax.set_title(f"{scenario}\n{HEADLINE[scenario]}", fontsize=9)
        results = [day2[a].get(scenario) for a in names]
        heights = [r["seconds"] if r and r.get("seconds") is not None else 0 for r in results]
        bars = ax.bar(names, heights, color=colors[: len(names)])
        top = max(heights) if any(heights) else 1.0
        ax.set_ylim(0, top * 1.35)
        for bar, result, height in zip(bars, results, heights):
            x = bar.get_x() + bar.get_width() / 2
            if result and result.get("seconds") is not None:
                label = f"{height:.0f} s"
                if result.get("mode") == "replacement":
                    label += "\nreplacement"
                before, after = result.get("itemsBefore"), result.get("itemsAfter")
                if before is not None and (after is None or after < before):
                    label += "\ndata loss"
                ax.annotate(label, (x, height), ha="center", va="bottom", fontsize=8)
            else:
                # No bar and no number: the text says what happened.
                text = seconds_cell(result).replace("did not converge within", "did not\nconverge\nwithin")
                ax.annotate(text[:40], (x, top * 0.02), ha="center", va="bottom", fontsize=7, color="#444444")
        ax.tick_params(axis="x", labelsize=8)
