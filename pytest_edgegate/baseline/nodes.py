"""Per-node estimated times in the baseline, and the nodes whose time changed most.

A baseline entry keeps the cost model's ``TOP`` slowest nodes (name -> ms, sorted keys, six
significant digits), enough to explain a latency regression without bloating the committed
file: when a result's latency or energy regresses, :func:`node_changes` lists the nodes whose
estimated time moved most, so the regression explains itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_edgegate.metrics import finite_or_none as _num

#: Nodes kept per baseline entry.
TOP = 20
#: Nodes listed per regression.
SHOWN = 8


def _nodes(details: Any) -> list[dict[str, Any]]:
    estimate = details.get("estimate") if isinstance(details, Mapping) else None
    nodes = estimate.get("nodes") if isinstance(estimate, Mapping) else None
    return [n for n in nodes if isinstance(n, Mapping)] if isinstance(nodes, list) else []


def top_nodes(details: Any, top: int = TOP) -> dict[str, float]:
    """The ``top`` slowest estimated nodes of a result's details: name -> ms."""
    timed = []
    for n in _nodes(details):
        t = _num(n.get("time_ms"))
        if t is not None and isinstance(n.get("name"), str):
            timed.append((-t, n["name"]))
    timed.sort()
    return {name: float(f"{-t:.6g}") for t, name in sorted(timed[:top], key=lambda x: x[1])}


def node_changes(
    details: Any, baseline: Mapping[str, Any] | None, shown: int = SHOWN
) -> list[dict[str, Any]]:
    """The nodes whose estimated time changed most between ``baseline`` (name -> ms, its top
    nodes) and the current estimate in ``details``.

    A current node missing from a full baseline list (``TOP`` nodes) was faster there than
    the slowest node not kept, so its baseline is unknown: the change is given as at least
    ``current - smallest kept`` and marked ``approx``.
    """
    if not isinstance(baseline, Mapping):
        return []
    old = {str(k): v for k, v in baseline.items() if _num(v) is not None}
    if not old:
        return []
    floor = min(old.values()) if len(old) >= TOP else 0.0
    current: dict[str, tuple[float, str, str]] = {}
    for n in _nodes(details):
        t = _num(n.get("time_ms"))
        if t is not None and isinstance(n.get("name"), str):
            current[n["name"]] = (t, str(n.get("op_type") or ""), str(n.get("device") or ""))
    rows = []
    for name in set(old) | set(current):
        now, op, device = current.get(name, (None, "", ""))
        before = old.get(name)
        approx = before is None and floor > 0
        base = before if before is not None else floor
        delta = (now or 0.0) - base
        if approx and delta <= 0:
            continue  # below the baseline's kept nodes then and now: nothing to say
        rows.append(
            {
                "name": name,
                "op_type": op,
                "device": device,
                "baseline_ms": before,
                "current_ms": now,
                "delta_ms": float(f"{delta:.6g}"),
                "approx": approx,
            }
        )
    rows.sort(key=lambda r: (-abs(r["delta_ms"]), r["name"]))
    return [r for r in rows[:shown] if r["delta_ms"] != 0]
