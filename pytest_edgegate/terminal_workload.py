"""The terminal's workload table: per test with an ``edge_workload``, the rate, the burst and
sustained latency, when throttling starts, the rate the device holds and the battery life."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tabulate import tabulate

from pytest_edgegate.edge_result import EdgeResult
from pytest_edgegate.metrics import finite_or_none, format_value


def _num(value: Any, fmt: str, unit: str = "") -> str:
    v = finite_or_none(value)
    return "" if v is None else f"{v:{fmt}}{unit}"


def _row(result: EdgeResult, name: str) -> list[str] | None:
    block = result.details.get("workload")
    if not isinstance(block, dict) or not isinstance(block.get("thermal"), dict):
        return None
    thermal = block["thermal"]
    throttle = "none"
    if thermal.get("throttles") is True:
        throttle = _num(thermal.get("time_to_throttle_s"), ".3g", " s") or "unknown"
    life = finite_or_none(block.get("battery_life_h"))
    return [
        name,
        _num(thermal.get("rate_hz"), "g", " Hz"),
        _num(thermal.get("burst_latency_ms"), ".4g", " ms"),
        _num(thermal.get("sustained_latency_ms"), ".4g", " ms"),
        throttle,
        _num(thermal.get("max_rate_sustained_hz"), ".4g", " Hz"),
        _num(thermal.get("sustained_power_w"), ".3g", " W"),
        "" if life is None else format_value("battery_life_h", life),
    ]


def workload_table(rows: Iterable[tuple[EdgeResult, str]]) -> list[str]:
    """``rows`` pairs each result with its test name; empty when no test has a workload."""
    table = [r for r in (_row(res, name) for res, name in rows) if r is not None]
    if not table:
        return []
    headers = [
        "workload", "rate", "burst", "sustained", "throttles after", "holds", "power", "battery",
    ]  # fmt: skip
    return [tabulate(table, headers=headers, disable_numparse=True)]
