"""View parts of the HTML report added on top of the per-target tables.

The overview matrix, the sparklines and drift list of the trends, the latency trade-off chart
of each target, and the nodes behind a regression.  Like ``html.py`` these turn untrusted
document data into formatted strings and numbers; the number formatter is passed in (``fmt``)
so the report keeps one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytest_edgegate.metrics import finite_or_none as _num
from pytest_edgegate.report import overview as ov
from pytest_edgegate.report import svg
from pytest_edgegate.report.tables import label

Fmt = Callable[[Any], str]
_CELL_CLASS = {"pass": "pass", "fail": "fail", "error": "error", "xfail": "xfail"}
_CHANGE_CLASS = {"regressed": "reg", "improved": "imp", "unchanged": "unch",
                 "new": "new", "incomparable": "inc"}  # fmt: skip
#: Accuracy metrics a trade-off chart prefers for its y axis, best first; else the size.
_Y_METRICS = ("top1_agreement", "accuracy_drop", "sqnr_db", "accuracy_drop_rel", "size_mb")


def _width(share: float) -> str:
    return f"{round(max(0.0, min(1.0, share)) * 100, 1):g}"


def overview_view(
    report: dict[str, Any], anchors: dict[tuple[str, str], str], fmt: Fmt
) -> dict[str, Any] | None:
    """The model x target matrix: one link per cell to that result's details."""
    targets, rows = ov.build_overview(report)
    if not rows:
        return None
    out = []
    for row in rows:
        cells = []
        for target in targets:
            cell = row.cells.get(target)
            if cell is None:
                cells.append(None)
                continue
            budget = cell.budget
            change = cell.change
            used = budget["used"] if budget else None
            cells.append(
                {
                    "anchor": anchors.get((cell.key, target), ""),
                    "status": cell.status,
                    "cls": _CELL_CLASS.get(cell.status, "pass"),
                    "budget": ov.budget_text(budget, fmt) if budget else "no budget",
                    "bcls": "bad"
                    if budget and not budget["passed"]
                    else ("warn" if used is not None and used > 0.9 else "ok"),
                    "width": "100" if used is None else _width(used),
                    "has_bar": budget is not None,
                    "change": ov.change_text(change) if change else "",
                    "ccls": _CHANGE_CLASS.get(change["status"], "unch") if change else "",
                    "more": cell.more,
                }
            )
        out.append({"model": row.model, "test": row.test, "cells": cells})
    return {"targets": targets, "rows": out}


def attach_trends(sections: list[dict[str, Any]], trends: Any, fmt: Fmt) -> dict[str, Any]:
    """Put a sparkline in each table cell whose metric has a history; the drift list."""
    trends = trends if isinstance(trends, dict) else {}
    series = trends.get("series") if isinstance(trends.get("series"), dict) else {}
    commits = [c for c in _list(trends.get("commits")) if isinstance(c, dict)]
    for section in sections:
        for view in section["results"]:
            mine = series.get(view["key"])
            for cell in view["cells"]:
                past = mine.get(cell["metric"]) if isinstance(mine, dict) else None
                cell["spark"] = None
                if not isinstance(past, list) or cell["raw"] is None:
                    continue
                values = [_num(v) for v in past] + [cell["raw"]]
                spark = svg.sparkline(values)
                if spark:
                    known = [v for v in values if v is not None]
                    spark["title"] = (
                        f"{cell['metric']} over {len(values) - 1} baseline commits and this "
                        f"run: {fmt(known[0])} \u2192 {fmt(known[-1])}"
                    )
                    cell["spark"] = spark
    anchors = {(v["key"], s["target"]): v["anchor"] for s in sections for v in s["results"]}
    drift = []
    for d in _list(trends.get("drift")):
        if not isinstance(d, dict):
            continue
        pct = _num(d.get("pct"))
        step = _num(d.get("max_step_pct"))
        drift.append(
            {
                "anchor": anchors.get((str(d.get("key")), str(d.get("target"))), ""),
                "nodeid": str(d.get("nodeid") or d.get("key") or "")[:1000],
                "text": (
                    f"{d.get('metric')} {fmt(d.get('first'))} \u2192 {fmt(d.get('last'))}"
                    + (f" ({pct:+.1f}%)" if pct is not None else "")
                    + f" over {d.get('steps')} steps, threshold {d.get('threshold')}"
                    + (f"; largest step {step:+.1f}%" if step is not None else "")
                ),
            }
        )
    return {
        "commits": len(commits),
        "since": _commit(commits[0]) if commits else "",
        "until": _commit(commits[-1]) if commits else "",
        "baseline": str(trends.get("baseline") or ""),
        "drift": drift,
    }


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _commit(commit: dict[str, Any]) -> str:
    return f"{str(commit.get('commit') or '')[:7]} ({str(commit.get('date') or '')[:10]})"


def tradeoff_chart(rows: list[tuple[str, dict[str, Any]]], fmt: Fmt) -> dict[str, Any] | None:
    """Latency against accuracy (or size) for a target's results: one dot per model."""
    timed = []
    for _, r in rows:
        metrics = r.get("metrics") if isinstance(r.get("metrics"), dict) else {}
        if _num(metrics.get("latency_ms")) is not None:
            timed.append((r, metrics))
    if len(timed) < 2:
        return None
    # An accuracy axis when most models have that figure, else the size every model has.
    y_metric = next(
        (
            m
            for m in _Y_METRICS
            if 2 * sum(1 for _, ms in timed if _num(ms.get(m)) is not None) > len(timed)
        ),
        None,
    )
    if y_metric is None:
        return None
    points, seen = [], set()
    for r, metrics in timed:
        x, y = _num(metrics["latency_ms"]), _num(metrics.get(y_metric))
        name = str(r.get("model") or r.get("nodeid") or "")
        if y is None or (name, x, y) in seen:
            continue  # one model in several tests: one dot
        seen.add((name, x, y))
        status = ov.status_of(r)
        points.append({"x": x, "y": y, "label": name, "cls": _CELL_CLASS.get(status, "pass")})
    unit = {"size_mb": " (MB)", "sqnr_db": " (dB)"}.get(y_metric, "")
    chart = svg.scatter(points, "latency (ms)", label(y_metric) + unit, fmt)
    if chart:
        better = "higher" if y_metric in ("top1_agreement", "sqnr_db") else "lower"
        chart["note"] = f"left is faster; {better} is better on the {label(y_metric)} axis"
    return chart


def node_changes_view(report: dict[str, Any], fmt: Fmt) -> dict[tuple[str, str], list]:
    """(key, target) -> rows of the nodes whose estimated time changed most."""
    comparison = report.get("comparison") if isinstance(report.get("comparison"), dict) else {}
    out: dict[tuple[str, str], list] = {}
    for item in _list(comparison.get("node_changes")):
        if not isinstance(item, dict) or not isinstance(item.get("nodes"), list):
            continue
        rows = []
        for n in item["nodes"]:
            if not isinstance(n, dict):
                continue
            delta = _num(n.get("delta_ms"))
            before = _num(n.get("baseline_ms"))
            now = _num(n.get("current_ms"))
            rows.append(
                {
                    "name": str(n.get("name") or "")[:300],
                    "op": str(n.get("op_type") or "")[:100],
                    "device": str(n.get("device") or "").upper()[:10],
                    "before": fmt(before)
                    if before is not None
                    else ("not in top" if n.get("approx") else "absent"),
                    "now": fmt(now) if now is not None else "removed",
                    "delta": ("\u2265 " if n.get("approx") else "")
                    + (f"+{fmt(delta)}" if delta is not None and delta > 0 else fmt(delta)),
                    "cls": "reg" if delta is not None and delta > 0 else "imp",
                }
            )
        out[(str(item.get("key") or ""), str(item.get("target") or ""))] = rows
    return out


def node_chart(estimate_rows: list[dict[str, Any]], more: int, more_ms: float, fmt: Fmt):
    """The bar chart of the per-node table: ``estimate_rows`` carry name, ms and device."""
    bars = [(r["name"], r["ms"], r["device"]) for r in estimate_rows]
    return svg.node_bars(bars, (more, more_ms) if more else None, fmt)
