"""Trends: each result's metrics over the committed baseline's history, and cumulative drift.

Pure: the history comes from :func:`pytest_edgegate.baseline.history.history`.  The section it
builds goes into the results document (``trends``) so the HTML report can draw a sparkline
beside a value, and so a metric that creeps up by less than its regression threshold at every
step, but by more than it over the window, is named instead of passing unnoticed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import suppress
from typing import Any

from pytest_edgegate.baseline.regression import Threshold, _threshold_for, parse_thresholds
from pytest_edgegate.errors import EdgeGateError
from pytest_edgegate.metrics import METRICS
from pytest_edgegate.metrics import finite_or_none as _num
from pytest_edgegate.report.overview import keyed


def _round(value: float) -> float:
    return float(f"{value:.6g}")


def build_trends(
    history: Sequence[Mapping[str, Any]],
    results: Sequence[Mapping[str, Any]],
    configured: Mapping[str, Threshold],
    costmodel_version: str,
    label: str,
) -> dict[str, Any] | None:
    """The ``trends`` section of a results document; ``None`` without any history.

    ``series`` holds, per result key and metric, the value at each commit of ``commits``
    (``None`` where the entry or metric was absent); only series that change are kept.
    """
    if not history:
        return None
    series: dict[str, dict[str, list[float | None]]] = {}
    drift = []
    for key, result in keyed([dict(r) for r in results]):
        metrics = result.get("metrics") if isinstance(result.get("metrics"), dict) else {}
        sources = result.get("sources") if isinstance(result.get("sources"), dict) else {}
        thresholds = dict(configured)
        # A bad per-test threshold is reported by the comparison already.
        with suppress(EdgeGateError, KeyError, TypeError, AttributeError):
            thresholds.update(parse_thresholds(result.get("regression"), str(result["nodeid"])))
        versions = [result.get("profile_version"), costmodel_version]
        for metric in sorted(metrics):
            current = _num(metrics[metric])
            if current is None:
                continue
            past = [_past(h, key, metric) for h in history]
            known = [v for v, _ in past if v is not None]
            if not known or all(v == current for v in known):
                continue
            series.setdefault(key, {})[metric] = [
                _round(v) if v is not None else None for v, _ in past
            ]
            threshold = _threshold_for(metric, sources.get(metric), thresholds)
            if threshold is None:
                continue
            if sources.get(metric) in ("estimate", "measured"):
                # Across a profile or cost-model change the figures are not comparable.
                kept: list[float] = []
                for value, seen in past:
                    if seen != versions:
                        kept = []
                    elif value is not None:
                        kept.append(value)
                window = kept + [current]
            else:
                window = known + [current]
            found = _drift(window, metric, threshold)
            if found:
                drift.append(
                    {
                        "key": key,
                        "nodeid": result.get("nodeid"),
                        "target": result.get("target"),
                        "metric": metric,
                        "threshold": str(threshold),
                        **found,
                    }
                )
    return {
        "baseline": label,
        "commits": [{"commit": h.get("commit"), "date": h.get("date")} for h in history],
        "series": series,
        "drift": drift,
    }


def _past(snapshot: Mapping[str, Any], key: str, metric: str) -> tuple[float | None, Any]:
    entry = snapshot.get("entries", {}).get(key)
    if not isinstance(entry, dict):
        return None, None
    return _num(entry.get("metrics", {}).get(metric)), entry.get("versions")


def _worse(metric: str, old: float, new: float) -> float:
    spec = METRICS.get(metric)
    return (new - old) if spec is None or spec.better == "lower" else (old - new)


def _drift(points: list[float], metric: str, threshold: Threshold) -> dict[str, Any] | None:
    """Worse by more than ``threshold`` from first to last, though no single step was."""
    if len(points) < 3:
        return None
    first, last = points[0], points[-1]
    if not threshold.exceeded(first, _worse(metric, first, last)):
        return None
    steps = list(zip(points, points[1:], strict=False))
    if any(threshold.exceeded(a, _worse(metric, a, b)) for a, b in steps):
        return None  # a step that broke the threshold is a regression, reported as one
    pct = (last - first) / abs(first) * 100 if first else None
    worst = max((_worse(metric, a, b) / abs(a) * 100 for a, b in steps if a), default=None)
    return {
        "first": _round(first),
        "last": _round(last),
        "pct": round(pct, 3) if pct is not None else None,
        "steps": len(steps),
        "max_step_pct": round(worst, 3) if worst is not None else None,
    }
