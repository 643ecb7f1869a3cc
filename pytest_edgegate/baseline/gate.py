"""Comparing a set of results with a loaded baseline: shared by the plugin and the CLI.

``edgegate report`` gates results after the fact (merged CI shards, say) with exactly the
rules the plugin applies during a run, because both call :func:`compare`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_edgegate.baseline import store as baseline_mod
from pytest_edgegate.baseline.regression import Threshold, compare_entry, not_run, parse_thresholds
from pytest_edgegate.errors import EdgeGateError


def compare(
    results: list[Mapping[str, Any]],
    data: Mapping[str, Any],
    configured: Mapping[str, Threshold],
    label: str,
    costmodel_version: str,
) -> tuple[dict[str, Any], list[str]]:
    """The comparison section of a results document, and problems met on the way."""
    entries = data.get("entries", {})
    problems: list[str] = []
    deltas = []
    keyed = baseline_mod.keyed(results)
    for key, result in keyed.items():
        thresholds = dict(configured)
        if result.get("regression"):
            try:
                thresholds.update(parse_thresholds(result["regression"], result["nodeid"]))
            except EdgeGateError as exc:
                problems.append(str(exc))
        deltas += compare_entry(key, result, entries.get(key), thresholds, costmodel_version)
    deltas += not_run(entries, keyed)
    warnings = sorted({f"{d.nodeid}: {d.reason}" for d in deltas if d.reason})
    comparison = {
        "baseline": label,
        "entries": [d.to_dict() for d in deltas],
        "warnings": warnings,
    }
    return comparison, problems


def regressions(comparison: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if not comparison:
        return []
    return [d for d in comparison.get("entries", []) if d["status"] == "regressed"]
