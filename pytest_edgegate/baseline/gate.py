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

#: Metrics whose regression the per-node times can explain.
TIMED = ("latency_ms", "energy_mj")


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
    explained = _node_changes(keyed, entries, deltas)
    if explained:
        comparison["node_changes"] = explained
    return comparison, problems


def _node_changes(keyed, entries, deltas) -> list[dict[str, Any]]:
    """For each result whose latency or energy regressed: the nodes whose time moved most."""
    from pytest_edgegate.baseline.nodes import node_changes

    out = []
    regressed = sorted({d.key for d in deltas if d.status == "regressed" and d.metric in TIMED})
    for key in regressed:
        result, entry = keyed.get(key), entries.get(key) or {}
        nodes = node_changes(result.get("details"), entry.get("nodes")) if result else []
        if nodes:
            out.append(
                {"key": key, "nodeid": result["nodeid"], "target": result["target"],
                 "nodes": nodes}
            )  # fmt: skip
    return out


def regressions(comparison: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if not comparison:
        return []
    return [d for d in comparison.get("entries", []) if d["status"] == "regressed"]
