"""The HTML report: one self-contained file a team opens when a pull request turns red.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/report/html.py``.
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from pytest_edgegate.metrics import DEVICE_FIGURES, METRICS
from pytest_edgegate.metrics import finite_or_none as _num
from pytest_edgegate.numbers import format_number
from pytest_edgegate.report import views
from pytest_edgegate.report.mcu_view import mcu_view
from pytest_edgegate.report.overview import keyed as _keyed
from pytest_edgegate.report.overview import split_nodeid as _split_nodeid
from pytest_edgegate.report.tables import group_columns
from pytest_edgegate.report.tables import label as _label
from pytest_edgegate.report.workload_view import workload_view

if TYPE_CHECKING:
    import jinja2

#: Per-node rows shown per test; the rest is summed into one "and N more" line.
TOP_NODES = 10
#: Per-layer accuracy rows shown per test (the worst first).
TOP_LAYERS = 8
#: Above this many results the per-test tables shrink (to ``LARGE_TOP`` rows), and passing
#: results without a regression leave out their drill-down (per-node chart and table, latency
#: samples, per-layer accuracy: all in the JSON results), so that a report of 200 tests on 6
#: targets stays under 5 MB and quick to open: its reader starts from the overview.
LARGE_REPORT = 250
LARGE_TOP = 5
#: Operator types shown in the "time by operator" bar before the rest becomes "other".
TOP_OPS = 6
#: Items of the "needs attention" list at the top before it says "and N more".
ATTENTION_LIMIT = 40
#: Baseline warnings listed before the rest fold away.
WARNINGS_SHOWN = 10
#: Characters of an error message shown in the summary table (the details hold all of it).
ERROR_PREVIEW = 240
#: Longest string shown anywhere: a runaway note or error must not bloat the file.
MAX_TEXT = 4000

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_STATUS_CLASS = {
    "regressed": "reg",
    "improved": "imp",
    "unchanged": "unch",
    "incomparable": "inc",
    "new": "new",
    "not run": "nr",
}
_DEVICE_CLASS = {"npu": "npu", "cpu": "cpu"}
_BOUND_CLASS = {"compute": "bc", "memory": "bm", "overhead": "bo"}


# --------------------------------------------------------------------------- public API


def render_html(report: dict[str, Any]) -> str:
    """The report as one self-contained HTML document (pure: no I/O, no clock)."""
    view = build_view(report)
    return _environment().get_template("report.html.j2").render(view=view)


def write_html(report: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Render ``report`` and write it to ``path`` atomically.

    The page is rendered before anything touches the disk, then written through the shared
    atomic writer (temporary file in the destination folder, ``os.replace``), so readers and a
    concurrent run writing the same path see the old file or the new one, never half of one.
    A failure raises ``OSError`` naming ``path``; the caller turns that into a warning.
    """
    from pytest_edgegate.report.jsonio import write_atomic

    write_atomic(path, render_html(report))


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    """The jinja2 environment, built once: loading and compiling the templates is the slow part.

    ``StrictUndefined`` turns a template typo into an error in the tests instead of a blank.
    """
    import jinja2

    from pytest_edgegate.report.viewenv import ViewEnvironment

    return ViewEnvironment(
        loader=jinja2.PackageLoader("pytest_edgegate.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_clean_output,
    )


def _clean_output(value: Any) -> Any:
    """Applied to every ``{{ }}`` before escaping: make any string safe to store as UTF-8.

    Markup (a macro's own, already escaped output) passes through; ``None`` prints nothing.
    """
    if value is None:
        return ""
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return _CONTROL.sub("\ufffd", value)
    return value


# --------------------------------------------------------------------------- small helpers


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    """Any value as display text, cut to ``limit`` characters with an ellipsis."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _fmt(value: Any) -> str:
    """A number for people: ``0.2903``, ``23.45``, ``12,345``; ``n/a`` when there is none."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "n/a" if value is None else _text(value, 40)
    return format_number(value)


def _fmt_count(value: Any) -> str:
    """A large count with an SI suffix: ``11.5M`` MACs, ``3.2k`` bytes."""
    v = _num(value)
    if v is None:
        return "n/a"
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            return f"{v / size:.3g}{suffix}"
    return f"{v:.3g}"


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%" if value < 0.995 or value > 1 else "100%"


def _width(share: float) -> str:
    """A bar width in percent, clamped and rounded so the output stays small and stable."""
    return f"{round(max(0.0, min(1.0, share)) * 100, 1):g}"


def _unit(result: dict[str, Any], metric: str) -> str:
    units = result.get("units")
    if isinstance(units, dict) and isinstance(units.get(metric), str):
        return units[metric]
    if metric in METRICS:
        return METRICS[metric].unit
    return DEVICE_FIGURES.get(metric, "")


def _dicts(value: Any) -> list[dict[str, Any]]:
    """The dict items of a list (anything else in the document is skipped, not fatal)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> list[str]:
    """A list of texts (a lone string is one text, not a list of characters)."""
    if isinstance(value, str):
        return [_text(value)]
    return [_text(v) for v in value if v is not None] if isinstance(value, list) else []


def _metric_order(names: Iterable[str]) -> list[str]:
    """Known metrics in the vocabulary's order, then device figures, then the rest sorted."""
    known = list(METRICS) + list(DEVICE_FIGURES)
    rank = {name: i for i, name in enumerate(known)}
    return sorted(set(names), key=lambda n: (rank.get(n, len(known)), n))


# --------------------------------------------------------------------------- the view


def build_view(report: dict[str, Any]) -> dict[str, Any]:
    """Everything the template shows, computed and formatted (see the module docstring)."""
    report = _dict(report)
    results = sorted(_dicts(report.get("results")), key=lambda r: _text(r.get("nodeid")))
    keyed = _keyed(results)
    ran = {(key, _text(r.get("target"))) for key, r in keyed}
    comparison = _dict(report.get("comparison")) if report.get("comparison") else None
    entries = _dicts(comparison.get("entries")) if comparison else []
    by_test: dict[tuple[str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
    not_run: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        key = (_text(entry.get("key")) or _text(entry.get("nodeid")), _text(entry.get("target")))
        if entry.get("status") == "not run" and key not in ran:
            not_run[key[1]].append(entry)  # the whole test is missing from this run
        else:
            by_test[key][_text(entry.get("metric"))] = entry

    grouped: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for key, result in keyed:
        grouped[_text(result.get("target"))].append((key, result))
    targets = sorted(set(grouped) | set(not_run))

    sections = []
    counter = 0
    anchors: dict[tuple[str, str], str] = {}
    explained = views.node_changes_view(report, _fmt)
    large = len(results) > LARGE_REPORT
    top = (LARGE_TOP, LARGE_TOP) if large else (TOP_NODES, TOP_LAYERS)
    for index, target in enumerate(targets, 1):
        rows = grouped.get(target, [])
        columns = _columns(rows, by_test, target)
        results_views: list[dict[str, Any]] = []
        for key, result in rows:
            counter += 1
            compared = by_test.get((key, target), {})
            anchors[(key, target)] = f"r{counter}"
            view = _result_view(result, f"r{counter}", columns, compared, target, top, large)
            view["key"] = key
            view["node_changes"] = explained.get((key, target), [])
            results_views.append(view)
        sections.append(
            {
                "anchor": f"t{index}",
                "unavailable": _common_unavailable(results_views),
                "target": target or "(no target)",
                "profile_versions": ", ".join(
                    sorted({_text(r.get("profile_version")) for _, r in rows} - {""})
                ),
                "results": results_views,
                "groups": group_columns(columns, _units(rows, columns)),
                "tradeoff": views.tradeoff_chart(rows, _fmt),
                "not_run": _not_run(not_run.get(target, [])),
                "summary": _target_summary(results_views, not_run.get(target, [])),
            }
        )

    totals = {
        key: sum(s["summary"][key] for s in sections)
        for key in (
            "results",
            "passed",
            "failed",
            "errors",
            "xfailed",
            "regressed",
            "improved",
            "not_run",
        )
    }
    baseline = _text(comparison.get("baseline"), 300) if comparison else ""
    trends = views.attach_trends(sections, report.get("trends"), _fmt)
    # Worst first: results that could not be evaluated, then broken budgets, then regressions.
    rank = {"error": 0, "fail": 1, "pass": 2, "xfail": 3}
    attention = sorted(
        (
            {
                "anchor": v["anchor"],
                "nodeid": v["nodeid"],
                "why": v["why"],
                "rank": rank[v["status"]],
            }
            for s in sections
            for v in s["results"]
            if v["why"] and v["status"] != "xfail"
        ),
        key=lambda a: a["rank"],
    )
    return {
        "tool": _tool(report),
        "generated": _text(report.get("generated"), 100),
        "environment": _environment_items(report),
        "verdict": _overall(totals, baseline, comparison is not None),
        "totals": totals,
        "sections": sections,
        "comparison": None
        if comparison is None
        else {
            "baseline": baseline,
            # A profile change can warn about every test: the first few show, the rest fold.
            "warnings": _strings(comparison.get("warnings"))[:WARNINGS_SHOWN],
            "warnings_more": _strings(comparison.get("warnings"))[WARNINGS_SHOWN:],
        },
        "overview": views.overview_view(report, anchors, _fmt),
        "trends": trends if trends["commits"] else None,
        "attention": attention[:ATTENTION_LIMIT],
        "attention_total": len(attention),
        "attention_more": max(0, len(attention) - ATTENTION_LIMIT),
    }


def _units(rows: list[tuple[str, dict[str, Any]]], columns: list[str]) -> dict[str, str]:
    """Each column's unit, as the target's first result gives it."""
    return {m: next((_unit(r, m) for _, r in rows), _unit({}, m)) for m in columns}


def _not_run(entries: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Baseline tests this run did not produce, one line per test."""
    by_test: dict[str, list[str]] = defaultdict(list)
    for e in entries:
        lines = by_test[_text(e.get("nodeid"))]  # a test with no metric named: all are missing
        metric = _text(e.get("metric"), 100)
        if metric:
            lines.append(f"{metric} (baseline {_fmt(e.get('baseline'))})")
    return [
        {"nodeid": nodeid, "what": ", ".join(sorted(what)) or "all metrics"}
        for nodeid, what in sorted(by_test.items())
    ]


def _common_unavailable(views: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Metrics unavailable, for the same reason, in every evaluated result of a target.

    Said once under the target's heading instead of in each test's details: a thousand copies
    of "pass reference= to measure it" help nobody and cost file size.
    """
    evaluated = [v for v in views if v["status"] != "error"]
    if len(evaluated) < 2:
        return []
    common = set(evaluated[0]["unavailable"])
    for view in evaluated[1:]:
        common &= set(view["unavailable"])
    for view in evaluated:
        view["unavailable"] = [u for u in view["unavailable"] if u not in common]
    return sorted(common)


def _tool(report: dict[str, Any]) -> dict[str, str]:
    tool = _dict(report.get("tool"))
    return {
        "name": _text(tool.get("name") or "pytest-edgegate", 100),
        "version": _text(tool.get("version"), 100),
        "costmodel_version": _text(tool.get("costmodel_version"), 100),
    }


def _environment_items(report: dict[str, Any]) -> list[tuple[str, str]]:
    env = _dict(report.get("environment"))
    items = []
    for key in ("onnxruntime", "onnx", "python", "platform", "git_commit"):
        if env.get(key) is not None:
            items.append((key.replace("_", " "), _text(env[key], 200)))
    profiles = _dict(env.get("profiles"))
    if profiles:
        items.append(
            ("profiles", ", ".join(f"{k} {_text(profiles[k], 50)}" for k in sorted(profiles)))
        )
    return items


def _overall(totals: dict[str, int], baseline: str, compared: bool) -> dict[str, Any]:
    """The gate's verdict in words: what a reviewer reads first."""
    n = totals["results"]
    failing = totals["failed"] + totals["errors"] + totals["regressed"]
    if n == 0 and not totals["not_run"]:
        return {"cls": "none", "title": "No edge results", "text": "No edge test ran."}
    parts = []
    if totals["failed"]:
        parts.append(f"{totals['failed']:,} of {n:,} results broke a budget")
    if totals["errors"]:
        parts.append(f"{totals['errors']:,} could not be evaluated")
    if totals["regressed"]:
        parts.append(f"{totals['regressed']:,} regressed against {baseline or 'the baseline'}")
    if failing:
        text = "; ".join(parts)
        text = text[0].upper() + text[1:] + "."
        return {"cls": "fail", "title": "Gate failed", "text": text}
    judged = n - totals["xfailed"]
    text = (
        f"All {judged:,} result{'s' if judged != 1 else ''} "
        f"{'are' if judged != 1 else 'is'} within budget"
    )
    if totals["xfailed"]:
        text += (
            f" ({totals['xfailed']:,} more broke a budget as their tests expect: "
            "models not meant for that device)"
        )
    if compared:
        text += f", with no regression against {baseline or 'the baseline'}"
    if totals["improved"]:
        text += f"; {totals['improved']:,} improved"
    return {"cls": "pass", "title": "Gate passed", "text": text + "."}


def _target_summary(views: list[dict[str, Any]], not_run: list[dict[str, Any]]) -> dict[str, Any]:
    counts = {
        "results": len(views),
        "passed": sum(1 for v in views if v["status"] == "pass"),
        "failed": sum(1 for v in views if v["status"] == "fail"),
        "errors": sum(1 for v in views if v["status"] == "error"),
        "xfailed": sum(1 for v in views if v["status"] == "xfail"),
        "regressed": sum(1 for v in views if v["regressed"]),
        "improved": sum(1 for v in views if v["improved"]),
        "not_run": len({_text(e.get("nodeid")) for e in not_run}),
    }
    bad = counts["failed"] or counts["errors"] or counts["regressed"]
    counts["cls"] = "fail" if bad else "pass"
    counts["verdict"] = "failed" if bad else ("passed" if views else "nothing ran")
    return counts


def _columns(
    rows: list[tuple[str, dict[str, Any]]],
    by_test: dict[tuple[str, str], dict[str, dict[str, Any]]],
    target: str,
) -> list[str]:
    """The metrics with a value, a budget or a baseline delta in at least one result."""
    names: set[str] = set()
    for key, r in rows:
        names.update(k for k, v in _dict(r.get("metrics")).items() if _num(v) is not None)
        names.update(_text(v.get("metric")) for v in _dicts(r.get("verdicts")))
        names.update(by_test.get((key, target), {}))
    names.discard("")
    return _metric_order(names)


# --------------------------------------------------------------------------- one result


def _result_view(
    result: dict[str, Any],
    anchor: str,
    columns: list[str],
    compared: dict[str, dict[str, Any]],
    target: str,
    top: tuple[int, int],
    trim: bool = False,
) -> dict[str, Any]:
    """One result: its table row, the reasons it needs attention, and its folded details.

    ``top`` caps the per-node and per-layer tables (see ``LARGE_REPORT``); with ``trim`` a
    passing result without a regression keeps its budgets and facts but not its drill-down.
    """
    nodeid = _text(result.get("nodeid"))
    path, name = _split_nodeid(nodeid, target)
    error = _text(result.get("error")) if result.get("error") not in (None, "") else ""
    verdicts = _dicts(result.get("verdicts"))
    passed = result.get("passed")
    if not isinstance(passed, bool):
        passed = not error and all(v.get("passed") is True for v in verdicts)
    status = "error" if error else ("pass" if passed else "fail")
    if status != "pass" and result.get("expected_failure") is True:
        status = "xfail"  # an xfail test: the breach is expected, not a failure of the gate
    details = _dict(result.get("details"))
    notes = _strings(result.get("notes"))
    estimate = _dict(details.get("estimate"))
    cpu_fallback = estimate.get("cpu_fallback") is True or any(
        n.startswith("CPU FALLBACK") for n in notes
    )
    view: dict[str, Any] = {
        "anchor": anchor,
        "nodeid": nodeid,
        "path": path,
        "name": name,
        # Class and function names may wrap after "::" in the narrow test column.
        "name_parts": name.split("::"),
        "model": _text(result.get("model"), 300),
        "model_path": _text(result.get("model_path"), 1000),
        "sha256": _text(result.get("sha256"), 128),
        "profile_version": _text(result.get("profile_version"), 50),
        "status": status,
        "error": error,
        "error_preview": _text(
            error.strip().splitlines()[0] if error.strip() else "", ERROR_PREVIEW
        ),
        "regressed": any(e.get("status") == "regressed" for e in compared.values()),
        "improved": any(e.get("status") == "improved" for e in compared.values()),
        "cpu_fallback": cpu_fallback,
        "notes": [{"text": n, "loud": n.startswith("CPU FALLBACK")} for n in notes],
        "cells": [],
        "budgets": [],
        "metric_rows": [],
        "unchanged": 0,
        "unavailable": [],
        "deltas": [],
        "why": [],
        "problems": [],
    }
    _guarded(view, "the metrics", lambda: _fill_metrics(view, result, columns, compared))
    if not isinstance(result.get("details"), (dict, type(None))):
        view["problems"].append("details: not a mapping")
    view["metadata"] = _guarded(view, "the model metadata", lambda: _metadata(details))
    # The number of results above which the drill-down is left out, shown in the details.
    view["trimmed"] = LARGE_REPORT if trim and status == "pass" and not view["regressed"] else 0
    if view["trimmed"]:
        view.update(ops=None, breakdown=None, accuracy=None, latency=None, mcu=None, workload=None)
        return view
    view["ops"] = _guarded(view, "the operator counts", lambda: _op_histogram(details))
    view["breakdown"] = _guarded(
        view, "the per-node breakdown", lambda: _breakdown(details, top[0])
    )
    view["accuracy"] = _guarded(view, "the per-layer accuracy", lambda: _accuracy(details, top[1]))
    view["latency"] = _guarded(view, "the latency distribution", lambda: _latency(details))
    view["mcu"] = _guarded(view, "the microcontroller memory", lambda: mcu_view(details))
    view["workload"] = _guarded(view, "the workload", lambda: workload_view(details))
    if error:
        view["why"].insert(0, "error: " + view["error_preview"])
    view["why"].extend(
        f"{d['metric']} regressed {d['text']}" + (f" (threshold {d['thr']})" if d["thr"] else "")
        for d in view["deltas"]
        if d["status"] == "regressed"
    )
    return view


def _guarded(view: dict[str, Any], what: str, build: Callable[[], Any]) -> Any:
    """Build one part of a result's view; a malformed part becomes a visible note, not a crash.

    A report is written after the run, from data that crossed processes and files: one odd
    result must not cost the team the report of all the others.
    """
    try:
        return build()
    except Exception as exc:  # noqa: BLE001 - any malformed input, shown in the report
        view["problems"].append(f"could not show {what}: {type(exc).__name__}: {_text(exc, 300)}")
        return None


def _fill_metrics(
    view: dict[str, Any],
    result: dict[str, Any],
    columns: list[str],
    compared: dict[str, dict[str, Any]],
) -> None:
    metrics = _dict(result.get("metrics"))
    sources = _dict(result.get("sources"))
    verdicts = _dicts(result.get("verdicts"))
    for verdict in verdicts:
        budget = _budget(verdict, _unit(result, _text(verdict.get("metric"))))
        view["budgets"].append(budget)
        if not budget["passed"]:
            view["why"].append(budget["message"])
    for metric in _metric_order(list(compared)):
        view["deltas"].append(_delta(compared[metric], metric, _unit(result, metric)))
    deltas = {d["metric"]: d for d in view["deltas"]}
    unavailable = _dict(result.get("unavailable"))
    view["unavailable"] = [(k, _text(unavailable[k])) for k in sorted(unavailable)]
    # The details' metrics table: each budget, with its baseline delta beside it, and every
    # delta that is not "unchanged" (the table above already shows the unchanged ones).
    rows = []
    budgeted = {b["metric"] for b in view["budgets"]}
    moved = [m for m, d in deltas.items() if d["status"] != "unchanged"]
    view["unchanged"] = sum(1 for m in deltas if m not in budgeted and m not in moved)
    for metric in _metric_order(list(budgeted) + moved):
        mine = [b for b in view["budgets"] if b["metric"] == metric]
        value = _num(metrics.get(metric))
        unit = _unit(result, metric)
        text = f"{_fmt(value)} {unit}".strip() if value is not None else ""
        for k, budget in enumerate(mine or [None]):
            rows.append(
                {
                    "metric": metric,
                    "value": budget["value"] if budget else text,
                    "source": budget["source"] if budget else _text(sources.get(metric), 20),
                    "budget": budget,
                    "delta": deltas.get(metric) if k == 0 else None,
                }
            )
    view["metric_rows"] = rows
    for metric in columns:
        value = _num(metrics.get(metric))
        mine = [b for b in view["budgets"] if b["metric"] == metric]
        if value is None:
            value = next((b["raw_value"] for b in mine if b["raw_value"] is not None), None)
        reason = _text(unavailable.get(metric), 300)
        view["cells"].append(
            {
                "metric": metric,
                "label": _label(metric),
                "unit": _unit(result, metric),
                "raw": value,
                "text": _fmt(value) if value is not None else _missing(reason, bool(mine)),
                "na": value is None,
                "source": _text(sources.get(metric), 20),
                "bad": any(not b["passed"] for b in mine),
                "bars": mine,
                "delta": deltas.get(metric),
                # The reason is shown in the cell only when a budget depends on it.
                "why_na": _text(reason, 80)
                if value is None and (mine or reason.startswith("unknown"))
                else "",
            }
        )


def _missing(reason: str, budgeted: bool) -> str:
    """A metric cell without a value: ``unknown`` (the analysis cannot know it), ``n/a``."""
    if reason.startswith("unknown"):
        return "unknown"
    return "n/a" if budgeted or reason else ""


def _budget(verdict: dict[str, Any], unit: str) -> dict[str, Any]:
    """One limit with its headroom bar.

    The bar is how much of the budget is used: value/limit for a maximum, limit/value for a
    minimum (so a bar always fills up towards trouble), full and red when the budget is broken.
    """
    metric = _text(verdict.get("metric"), 100)
    kind = "min" if verdict.get("kind") == "min" else "max"
    limit = _num(verdict.get("limit"))
    value = _num(verdict.get("value"))
    passed = verdict.get("passed") is True
    sign = "\u2265" if kind == "min" else "\u2264"
    device = verdict.get("keyword") == "device"
    used: float | None = None
    if limit is not None and value is not None:
        if kind == "max":
            used = value / limit if limit > 0 else (0.0 if value <= 0 else math.inf)
        else:
            used = limit / value if value > 0 else (0.0 if limit <= 0 else math.inf)
    if used is None:
        headroom = "not available"
    elif kind == "max":
        over = value - limit  # type: ignore[operator]
        headroom = _relative(over, limit, "over by", "headroom")
    else:
        over = limit - value  # type: ignore[operator]
        headroom = _relative(over, limit, "short by", "above")
    if not passed:
        cls = "bad"
    elif used is not None and used > 0.9:
        cls = "warn"
    else:
        cls = "ok"
    # No-break spaces keep "≤ 8 MB" on one line when a narrow cell wraps.
    unit_text = f"\u00a0{unit}" if unit else ""
    limit_text = f"{sign}\u00a0{_fmt(limit)}{unit_text}"
    value_text = f"{_fmt(value)}{unit_text}" if value is not None else "n/a"
    reason = _text(verdict.get("reason"), 500)
    if value is None:
        message = f"{metric}: not available" + (f": {reason}" if reason else "")
    else:
        message = f"{metric} {value_text}, limit {limit_text} ({headroom})"
    return {
        "metric": metric,
        "kind": kind,
        "device": device,
        "limit": limit_text,
        "value": value_text,
        "raw_value": value,
        "passed": passed,
        "cls": cls,
        "width": "100" if not passed or used is None else _width(used),
        "headroom": headroom,
        "label": f"{'device ' if device else ''}{limit_text}",
        "source": _text(verdict.get("source"), 30),
        "reason": reason,
        "message": message,
    }


def _relative(over: float, limit: float, worse: str, better: str) -> str:
    """``over by 23%`` / ``71% headroom``, relative to the limit (absolute when it is 0)."""
    if limit == 0:
        return f"{worse} {_fmt(over)}" if over > 0 else better
    share = over / abs(limit)
    if share > 0:
        return f"{worse} {share * 100:.3g}%"
    return f"{-share * 100:.3g}% {better}"


def _signed_pct(pct: float) -> str:
    """``+12.0%``; a change that rounds to nothing is ``±0.0%`` rather than ``-0.0%``."""
    return "\u00b10.0%" if round(pct, 1) == 0 else f"{pct:+.1f}%"


def _signed(delta: float, unit_text: str) -> str:
    """``+0.5 ms``, ``-3 MB``, ``±0``: an absolute change when no percentage can be given."""
    if delta == 0:
        return "\u00b10"
    return f"{'+' if delta > 0 else ''}{_fmt(delta)}{unit_text}"


def _delta(entry: dict[str, Any], metric: str, unit: str) -> dict[str, Any]:
    """A baseline comparison: coloured by status, with its threshold."""
    status = _text(entry.get("status"), 30)
    threshold = _text(entry.get("threshold"), 40)
    pct = _num(entry.get("delta_pct"))
    delta = _num(entry.get("delta"))
    unit_text = f" {unit}" if unit else ""
    if status in ("incomparable", "new"):
        text = status
        threshold = ""  # nothing was gated
    elif pct is not None:
        text = _signed_pct(pct)
        if text.startswith("\u00b1"):
            threshold = ""  # nothing moved: the threshold would only add noise to the table
    elif delta is not None:
        text = _signed(delta, unit_text)
        if delta == 0:
            threshold = ""
    else:
        text = status or "n/a"
    if pct is not None:
        number = _signed_pct(pct)
    elif delta is not None:
        number = _signed(delta, unit_text)
    else:
        number = "\u2014"
    return {
        "metric": metric,
        "status": status,
        "cls": _STATUS_CLASS.get(status, "unch"),
        "text": text,
        "number": number,
        "thr": threshold,
        "reason": _text(entry.get("reason"), 300),
        "baseline": _fmt(entry.get("baseline")) if entry.get("baseline") is not None else "\u2014",
        "current": _fmt(entry.get("current")) if entry.get("current") is not None else "\u2014",
        "unit": unit,
    }


# --------------------------------------------------------------------------- details


def _metadata(details: dict[str, Any]) -> list[tuple[str, str]]:
    """The model's own producer, doc string and metadata_props: text from the model file,
    shown (escaped, like everything) as label/value pairs; empty fields are left out."""
    from pytest_edgegate.runtime_view import runtime_pairs

    meta = _dict(details.get("model_metadata"))
    pairs = [(label, _text(value, 300)) for label, value in runtime_pairs(details)]
    pairs += [
        (label, _text(meta.get(key), 300))
        for key, label in (
            ("producer", "producer"),
            ("producer_version", "producer version"),
            ("doc_string", "doc"),
        )
        if meta.get(key)
    ]
    props = _dict(meta.get("metadata_props"))
    pairs += [(_text(k, 100), _text(v, 300)) for k, v in list(props.items())[:20]]
    return pairs


def _op_histogram(details: dict[str, Any]) -> dict[str, Any] | None:
    hist = _dict(details.get("op_histogram"))
    counts = [(k, int(v)) for k, v in hist.items() if _num(v) is not None]
    if not counts:
        return None
    counts.sort(key=lambda kv: (-kv[1], kv[0]))
    shown = counts[:12]
    return {
        "counts": [(_text(k, 100), n) for k, n in shown],
        "more": len(counts) - len(shown),
        "total": sum(n for _, n in counts),
    }


def _breakdown(details: dict[str, Any], top_n: int) -> dict[str, Any] | None:
    """Where time and energy go: the estimate's nodes, or static costs when there is none."""
    estimate = _dict(details.get("estimate"))
    nodes = _dicts(estimate.get("nodes"))
    if nodes:
        return _estimated_breakdown(estimate, nodes, top_n)
    static = _dicts(details.get("nodes"))
    if static:
        return _static_breakdown(static, top_n)
    if estimate:
        return {"kind": "summary", "facts": _estimate_facts(estimate, [])}
    return None


def _estimate_facts(estimate: dict[str, Any], nodes: list[dict[str, Any]]) -> list[tuple]:
    facts: list[tuple[str, str]] = []
    for key, label, unit in (
        ("latency_ms", "latency", " ms"),
        ("energy_mj", "energy", " mJ"),
        ("threads", "threads", ""),
        ("transfer_ms", "host transfers", " ms"),
    ):
        if _num(estimate.get(key)) is not None and (key != "transfer_ms" or estimate[key]):
            facts.append((label, _fmt(estimate[key]) + unit))
    if _num(estimate.get("npu_coverage")) is not None:
        facts.append(("NPU coverage", _pct(float(estimate["npu_coverage"])) + " of MACs"))
        if _num(estimate.get("partitions")) is not None:
            facts.append(("NPU partitions", _fmt(estimate["partitions"])))
    if nodes:
        on = defaultdict(int)
        for n in nodes:
            on[_text(n.get("device")) or "?"] += 1
        facts.append(("nodes", ", ".join(f"{on[d]} on {d.upper()}" for d in sorted(on))))
    return facts


def _estimated_breakdown(
    estimate: dict[str, Any], nodes: list[dict[str, Any]], top_n: int
) -> dict[str, Any]:
    times = [max(0.0, _num(n.get("time_ms")) or 0.0) for n in nodes]
    energies = [_num(n.get("energy_mj")) for n in nodes]
    total_t = sum(times)
    order = sorted(range(len(nodes)), key=lambda i: (-times[i], _text(nodes[i].get("name")), i))
    top = order[:top_n]
    rows = []
    for i in top:
        node = nodes[i]
        device = _text(node.get("device"), 20).lower()
        bound = _text(node.get("bound"), 20)
        energy = energies[i]
        rows.append(
            {
                "name": _text(node.get("name"), 300) or "(unnamed)",
                "op": _text(node.get("op_type"), 100),
                "device": device.upper() or "?",
                "dcls": _DEVICE_CLASS.get(device, "dx"),
                "time": _fmt(times[i]),
                "share": _pct(times[i] / total_t) if total_t else "\u2014",
                "width": _width(times[i] / total_t) if total_t else "0",
                "energy": _fmt(energy) if energy is not None else "n/a",
                "bound": bound,
                "bcls": _BOUND_CLASS.get(bound, "bx"),
                "macs": _fmt_count(node.get("macs")),
                "reason": _text(node.get("reason"), 500) if device == "cpu" else "",
            }
        )
    rest = order[top_n:]
    rest_t = sum(times[i] for i in rest)
    chart = views.node_chart(
        [
            {"name": r["name"], "ms": times[i], "device": r["dcls"]}
            for r, i in zip(rows, top, strict=True)
        ],
        len(rest),
        rest_t,
        _fmt,
    )
    return {
        "chart": chart,
        "kind": "estimate",
        "show_device": any(n.get("device") == "npu" for n in nodes),
        "show_reason": any(r["reason"] for r in rows),
        "facts": _estimate_facts(estimate, nodes),
        "rows": rows,
        "count": len(nodes),
        "more": len(rest),
        "more_time": _fmt(rest_t),
        "more_share": _pct(rest_t / total_t) if total_t else "",
        "ops": _time_by(nodes, times, "op_type", TOP_OPS),
        "devices": _time_by(nodes, times, "device", 3, upper=True),
        "total": _fmt(total_t),
    }


def _time_by(
    nodes: list[dict[str, Any]], times: list[float], key: str, top: int, upper: bool = False
) -> list[dict[str, Any]]:
    """Segments of a stacked bar: the share of estimated time per ``key`` (largest first)."""
    total = sum(times)
    if not total:
        return []
    acc: dict[str, float] = defaultdict(float)
    for node, t in zip(nodes, times, strict=True):
        label = _text(node.get(key), 60) or "?"
        acc[label.upper() if upper else label] += t
    ranked = sorted(acc.items(), key=lambda kv: (-kv[1], kv[0]))
    if len(ranked) > top:
        ranked = ranked[: top - 1] + [("other", sum(t for _, t in ranked[top - 1 :]))]
    segments = []
    for i, (label, t) in enumerate(ranked):
        share = t / total
        if upper:
            colour = {"NPU": "dn", "CPU": "dc"}.get(label, "c6")
        else:
            colour = "c6" if label == "other" else f"c{i % 6}"
        segments.append(
            {"label": label, "share": _pct(share), "w": _width(share), "colour": colour}
        )
    return segments


def _static_breakdown(nodes: list[dict[str, Any]], top_n: int) -> dict[str, Any]:
    macs = [max(0.0, _num(n.get("macs")) or 0.0) for n in nodes]
    flops = [max(0.0, _num(n.get("flops")) or 0.0) for n in nodes]
    weight = macs if any(macs) else flops
    total = sum(weight)
    order = sorted(range(len(nodes)), key=lambda i: (-weight[i], _text(nodes[i].get("name")), i))
    top = order[:top_n]
    rows = []
    for i in top:
        node = nodes[i]
        moved = (_num(node.get("bytes_read")) or 0.0) + (_num(node.get("bytes_written")) or 0.0)
        rows.append(
            {
                "name": _text(node.get("name"), 300) or "(unnamed)",
                "op": _text(node.get("op_type"), 100),
                "macs": _fmt_count(node.get("macs")),
                "flops": _fmt_count(node.get("flops")),
                "bytes": _fmt_count(moved) + "B",
                "dtype": _text(node.get("compute_dtype"), 30),
                "share": _pct(weight[i] / total) if total else "\u2014",
                "width": _width(weight[i] / total) if total else "0",
            }
        )
    return {
        "kind": "static",
        "by": "MACs" if any(macs) else "FLOPs",
        "rows": rows,
        "count": len(nodes),
        "more": max(0, len(nodes) - top_n),
    }


def _accuracy(details: dict[str, Any], top_n: int) -> dict[str, Any] | None:
    """Per-layer accuracy loss, the noisiest layers (lowest SQNR) first."""
    acc = _dict(details.get("accuracy"))
    if not acc:
        return None
    layers = [
        (_text(layer.get("name"), 300), _num(layer.get("sqnr_db")))
        for layer in _dicts(acc.get("layers"))
    ]
    layers.sort(key=lambda nl: (nl[1] if nl[1] is not None else math.inf, nl[0]))
    shown = layers[:top_n]
    scale = max([60.0] + [v for _, v in shown if v is not None])
    rows = []
    for name, sqnr in shown:
        # Below 20 dB the layer's noise is a visible share of its signal; 30 dB is usually fine.
        cls = "bx" if sqnr is None else ("bad" if sqnr < 20 else ("warn" if sqnr < 30 else "ok"))
        rows.append(
            {
                "name": name or "(unnamed)",
                "sqnr": f"{_fmt(sqnr)} dB" if sqnr is not None else "n/a",
                "width": _width(sqnr / scale) if sqnr is not None and sqnr > 0 else "0",
                "cls": cls,
            }
        )
    facts = [
        (_text(k, 100), _fmt(acc[k]) if _num(acc[k]) is not None else _text(acc[k], 200))
        for k in sorted(acc)
        if k != "layers" and not isinstance(acc[k], (dict, list))
    ]
    if not rows and not facts:
        return None
    return {"rows": rows, "more": max(0, len(layers) - top_n), "facts": facts}


# --------------------------------------------------------------------------- latency chart

_CHART_W, _CHART_H = 560, 170
_PAD_L, _PAD_R, _PAD_T, _PAD_B = 44, 16, 46, 28
_OUTLIER_W = 70
_MAX_SAMPLE_MS = 1e8


def _latency(details: dict[str, Any]) -> dict[str, Any] | None:
    """Measured latency: the stats line and a histogram of the samples with p50/p90/p99."""
    measured = _dict(details.get("measured"))
    if not measured:
        return None
    facts = []
    for key, label, unit in (
        ("p50_ms", "p50", " ms"),
        ("p90_ms", "p90", " ms"),
        ("p99_ms", "p99", " ms"),
        ("min_ms", "min", " ms"),
        ("n_runs", "runs", ""),
        ("device_ms", "translated to the device", " ms"),
        ("host_p50_ms", "host p50", " ms"),
        ("peak_rss_mb", "peak RSS", " MB"),
    ):
        if _num(measured.get(key)) is not None:
            facts.append((label, _fmt(measured[key]) + unit))
        if key == "device_ms":
            ci = measured.get("device_ci_ms")
            ends = [_num(v) for v in ci] if isinstance(ci, list) and len(ci) == 2 else []
            if ends and None not in ends:
                facts.append(("device 95 % interval", f"{_fmt(ends[0])} to {_fmt(ends[1])} ms"))
    raw = measured.get("samples_ms")
    values = [_num(v) for v in raw] if isinstance(raw, list) else []
    # A latency is a duration under a day or so: anything else is corrupt data, not a sample.
    samples = sorted(v for v in values if v is not None and 0 <= v < _MAX_SAMPLE_MS)
    if len(samples) < len(values):
        facts.append(("ignored", f"{len(values) - len(samples)} invalid samples"))
    chart = _histogram(samples, measured) if samples else None
    return {"facts": facts, "chart": chart, "n": len(samples)}


def _quantile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank quantile (used only when the document has no p50/p90/p99 of its own)."""
    import numpy as np  # lazily, like jinja2: importing this module stays cheap

    return float(np.quantile(sorted_values, q, method="inverted_cdf"))


def _histogram(samples: list[float], measured: dict[str, Any]) -> dict[str, Any]:
    """Coordinates of an inline SVG histogram; all bars are one ``<path>`` to stay small.

    Far outliers (beyond p99 plus half the p99-min spread, e.g. one run disturbed by another
    CI job) would squeeze the distribution into a few bars, so they are drawn as one separate
    bar at the right with their count and the maximum.
    """
    quantiles = {}
    for key, q in (("p50_ms", 0.5), ("p90_ms", 0.9), ("p99_ms", 0.99)):
        value = _num(measured.get(key))
        quantiles[key] = value if value is not None else _quantile(samples, q)
    lo, hi = samples[0], samples[-1]
    cut = quantiles["p99_ms"] + 0.5 * (quantiles["p99_ms"] - lo)
    outliers = [s for s in samples if s > cut] if lo < cut < hi else []
    if outliers:
        hi = cut
    if hi - lo <= 1e-12 * max(1.0, abs(hi)):
        pad = max(abs(lo) * 0.05, 1e-3)
        lo, hi = lo - pad, hi + pad
    kept = len(samples) - len(outliers)
    bins = max(5, min(40, math.ceil(math.sqrt(kept))))
    width = (hi - lo) / bins
    counts = [0] * bins
    for s in samples[:kept]:
        counts[max(0, min(bins - 1, int((s - lo) / width)))] += 1
    plot_w = _CHART_W - _PAD_L - _PAD_R - (_OUTLIER_W if outliers else 0)
    plot_h = _CHART_H - _PAD_T - _PAD_B
    base = _PAD_T + plot_h
    top = max(counts + [len(outliers)])
    bar_w = plot_w / bins

    def bar(x: float, w: float, count: int) -> str:
        h = plot_h * count / top
        return f"M{x + 0.5:.1f} {base}v{-h:.1f}h{w - 1:.1f}v{h:.1f}z"

    path = "".join(bar(_PAD_L + i * bar_w, bar_w, c) for i, c in enumerate(counts) if c)

    def x_of(v: float) -> float:
        return round(_PAD_L + plot_w * (min(max(v, lo), hi) - lo) / (hi - lo), 1)

    marks = []
    for row, key in enumerate(("p50_ms", "p90_ms", "p99_ms")):
        x = x_of(quantiles[key])
        anchor = "end" if x > _PAD_L + plot_w * 0.7 else "start"
        marks.append(
            {
                "x": x,
                "label": f"{key[:3]} {_fmt(quantiles[key])} ms",
                "ly": 12 + row * 13,
                "lx": x - 3 if anchor == "end" else x + 3,
                "anchor": anchor,
                "cls": key[:3],
            }
        )
    outlier = None
    if outliers:
        x = _PAD_L + plot_w + 8
        w = _OUTLIER_W - 8
        outlier = {
            "path": bar(x, w, len(outliers)),
            "x": round(x + w / 2, 1),
            "y": round(base - plot_h * len(outliers) / top - 4, 1),
            "count": f"{len(outliers)} slower",
            "max": f"max {_fmt(samples[-1])}",
        }
    return {
        "w": _CHART_W,
        "h": _CHART_H,
        "path": path,
        "base": base,
        "left": _PAD_L,
        "right": round(_PAD_L + plot_w, 1),
        "top": _PAD_T,
        "lo": f"{_fmt(lo)} ms",
        "hi": f"{_fmt(hi)} ms",
        "ymax": str(top),
        "marks": marks,
        "label_y": base + 16,
        "outlier": outlier,
    }
