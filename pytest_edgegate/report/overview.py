"""The model x target overview: which models fit which devices, and what changed.

Built from the results document alone (pure, no I/O), so the HTML report and the GitHub job
summary show the same matrix.  A row is a model; when one model is evaluated by several tests
on the same target, its rows split by test.  A cell holds the verdict, the budget with the
least headroom and the largest change against the baseline.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_edgegate.metrics import DEVICE_FIGURES, METRICS
from pytest_edgegate.metrics import finite_or_none as _num

#: Change statuses in the order a cell prefers to show them.
_CHANGE_RANK = {"regressed": 0, "improved": 1, "unchanged": 2, "new": 3, "incomparable": 4}


@dataclass
class Cell:
    """One (row, target) of the matrix; ``key`` is the result's baseline key."""

    key: str
    target: str
    status: str  # pass | fail | error | xfail
    budget: dict[str, Any] | None = None  # metric, value, limit, kind, unit, used, passed
    change: dict[str, Any] | None = None  # metric, status, pct
    more: int = 0  # further results of the same row and target (shown as "+N")


@dataclass
class Row:
    model: str
    test: str  # set only when the model's rows are split by test
    cells: dict[str, Cell] = field(default_factory=dict)


def split_nodeid(nodeid: str, target: str) -> tuple[str, str]:
    """``tests/test_m.py::test_x[cortex-a72]`` -> (``tests/test_m.py``, ``test_x``).

    The target is already the column's (or table's) heading, so its suffix is dropped.
    """
    path, sep, name = nodeid.partition("::")
    if not sep:
        return "", nodeid
    suffix = f"[{target}]"
    if target and name.endswith(suffix):
        name = name[: -len(suffix)]
    elif target and name.endswith(f"-{target}]"):
        name = name[: -len(target) - 2] + "]"
    return path, name


def keyed(results: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Each result with its baseline key: the node id, then ``#1``, ``#2``... for a test's
    further evaluations (as ``pytest_edgegate.baseline.store.entry_key`` numbers them)."""
    seen: dict[str, int] = defaultdict(int)
    out = []
    for result in results:
        nodeid = str(result.get("nodeid") or "")
        index = seen[nodeid]
        seen[nodeid] += 1
        out.append((nodeid if index == 0 else f"{nodeid}#{index}", result))
    return out


def status_of(result: dict[str, Any]) -> str:
    """pass | fail | error | xfail, read defensively from a result dict."""
    if result.get("error") not in (None, ""):
        status = "error"
    else:
        passed = result.get("passed")
        if not isinstance(passed, bool):
            verdicts = result.get("verdicts")
            verdicts = (
                [v for v in verdicts if isinstance(v, dict)] if isinstance(verdicts, list) else []
            )
            passed = all(v.get("passed") is True for v in verdicts)
        status = "pass" if passed else "fail"
    if status != "pass" and result.get("expected_failure") is True:
        status = "xfail"
    return status


def tightest_budget(result: dict[str, Any]) -> dict[str, Any] | None:
    """The budget with the least headroom: a broken one first, then the most used."""
    best: tuple[float, dict[str, Any]] | None = None
    verdicts = result.get("verdicts")
    for v in verdicts if isinstance(verdicts, list) else []:
        if not isinstance(v, dict):
            continue
        metric = str(v.get("metric") or "")
        kind = "min" if v.get("kind") == "min" else "max"
        limit, value = _num(v.get("limit")), _num(v.get("value"))
        used = budget_used(kind, value, limit)
        passed = v.get("passed") is True
        rank = (math.inf if not passed else 0.0) + (used if used is not None else 0.0)
        units = result.get("units") if isinstance(result.get("units"), dict) else {}
        unit = units.get(metric) if isinstance(units.get(metric), str) else None
        if unit is None:
            unit = METRICS[metric].unit if metric in METRICS else DEVICE_FIGURES.get(metric, "")
        entry = {
            "metric": metric,
            "value": value,
            "limit": limit,
            "kind": kind,
            "unit": unit,
            "used": used,
            "passed": passed,
            "device": v.get("keyword") == "device",
        }
        if best is None or rank > best[0]:
            best = (rank, entry)
    return best[1] if best else None


def budget_used(kind: str, value: float | None, limit: float | None) -> float | None:
    """Share of the budget used: value/limit for a maximum, limit/value for a minimum."""
    if value is None or limit is None:
        return None
    if kind == "max":
        return value / limit if limit > 0 else (0.0 if value <= 0 else math.inf)
    return limit / value if value > 0 else (0.0 if limit <= 0 else math.inf)


def main_change(entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The change a cell shows: a regression first, then an improvement, then the largest."""
    best = None
    for e in entries:
        status = str(e.get("status") or "")
        if status not in _CHANGE_RANK:
            continue
        pct = _num(e.get("delta_pct"))
        rank = (_CHANGE_RANK[status], -abs(pct) if pct is not None else 0.0)
        if best is None or rank < best[0]:
            best = (rank, {"metric": str(e.get("metric") or ""), "status": status, "pct": pct})
    return best[1] if best else None


def build_overview(document: Mapping[str, Any]) -> tuple[list[str], list[Row]]:
    """The targets (columns) and the rows of the matrix."""
    if not isinstance(document, Mapping):
        return [], []
    results = document.get("results")
    results = [r for r in results if isinstance(r, dict)] if isinstance(results, list) else []
    results.sort(key=lambda r: str(r.get("nodeid") or ""))
    comparison = document.get("comparison")
    entries = comparison.get("entries") if isinstance(comparison, dict) else None
    by_key: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for e in entries if isinstance(entries, list) else []:
        if isinstance(e, dict):
            key = str(e.get("key") or e.get("nodeid") or "")
            by_key[(key, str(e.get("target") or ""))].append(e)

    items = []
    for key, result in keyed(results):
        target = str(result.get("target") or "")
        model = str(result.get("model") or "") or "(no model)"
        _, test = split_nodeid(str(result.get("nodeid") or ""), target)
        items.append((model, test, key, target, result))
    targets = sorted({t for _, _, _, t, _ in items})

    # A model splits into one row per test when some target holds two of its tests.
    per_target: dict[tuple[str, str], set[str]] = defaultdict(set)
    for model, test, _, target, _ in items:
        per_target[(model, target)].add(test)
    split = {model for (model, _), tests in per_target.items() if len(tests) > 1}

    rows: dict[tuple[str, str], Row] = {}
    for model, test, key, target, result in items:
        row_id = (model, test if model in split else "")
        row = rows.setdefault(row_id, Row(model, row_id[1]))
        if target in row.cells:
            row.cells[target].more += 1
            continue
        row.cells[target] = Cell(
            key=key,
            target=target,
            status=status_of(result),
            budget=tightest_budget(result),
            change=main_change(by_key.get((key, target), [])),
        )
    return targets, [rows[k] for k in sorted(rows)]


def short_metric(metric: str) -> str:
    """``latency_ms`` -> ``latency``: the unit follows the number in a cell."""
    unit = METRICS[metric].unit.lower() if metric in METRICS else ""
    for suffix in (f"_{unit}", "_mb", "_m"):
        if metric.endswith(suffix) and len(metric) > len(suffix):
            return metric[: -len(suffix)]
    return metric


def budget_text(budget: dict[str, Any], fmt: Any) -> str:
    """``latency 88 / 100 ms``; ``npu_coverage 0.76 / ≥ 0.8`` for a minimum."""
    unit = f" {budget['unit']}" if budget["unit"] else ""
    value = fmt(budget["value"]) if budget["value"] is not None else "n/a"
    sign = "\u2265\u00a0" if budget["kind"] == "min" else ""
    prefix = "device " if budget["device"] else ""
    return f"{prefix}{short_metric(budget['metric'])} {value} / {sign}{fmt(budget['limit'])}{unit}"


def change_text(change: dict[str, Any]) -> str:
    """``latency +3.1%``, ``no change``, ``new``: the cell's line about the baseline."""
    status, pct = change["status"], change["pct"]
    if status == "unchanged":
        return "no change"
    if status in ("new", "incomparable"):
        return status
    if pct is None:
        return f"{short_metric(change['metric'])} {status}"
    text = "\u00b10.0%" if round(pct, 1) == 0 else f"{pct:+.1f}%"
    return f"{short_metric(change['metric'])} {text}"
