"""Marker parsing, merging and judging: pure functions, no pytest machinery."""

from __future__ import annotations

import pytest

from pytest_edgegate.budgets import Availability, Limit, judge, merge, parse_marker
from pytest_edgegate.errors import BudgetError


def test_parse_accepts_every_interface_keyword() -> None:
    parsed = parse_marker(
        (),
        dict(
            size_mb=1,
            peak_memory_mb=2,
            latency_ms=3,
            energy_mj=4,
            accuracy_drop=0.01,
            accuracy_drop_rel=0.02,
            macs_m=5,
            params_m=6,
            flops_m=7,
            npu_coverage=0.9,
            min_sqnr_db=30,
            min_top1_agreement=0.99,
            regression={"latency_ms": "5%"},
        ),
    )
    assert parsed["size_mb"] == 1.0 and parsed["regression"] == {"latency_ms": "5%"}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"size_mb": "4MB"}, "expects a number, got '4MB'"),
        ({"size_mb": True}, "expects a number"),
        ({"size_mb": -1}, "must not be negative"),
        ({"size_mb": float("nan")}, "finite"),
        ({"sizemb": 1}, "unknown keyword 'sizemb'"),
        ({"regression": "latency_ms"}, "METRIC:THRESHOLD"),
        ({"regression": {"speed": "5%"}}, "unknown metric 'speed'"),
        ({"regression": {"latency_ms": "fast"}}, "number or a percentage"),
    ],
)
def test_parse_rejects(kwargs: dict, message: str) -> None:
    with pytest.raises(BudgetError, match=message):
        parse_marker((), kwargs)


def test_merge_closest_wins_and_outer_still_apply() -> None:
    budget = merge([[{"size_mb": 1.0}], [{"size_mb": 5.0, "macs_m": 10.0}], [{"params_m": 2.0}]])
    assert {(lim.metric, lim.bound) for lim in budget.limits} == {
        ("size_mb", 1.0),
        ("macs_m", 10.0),
        ("params_m", 2.0),
    }


def test_merge_same_level_conflict_is_error() -> None:
    with pytest.raises(BudgetError, match="given twice"):
        merge([[{"size_mb": 1.0}, {"size_mb": 2.0}]])


def test_min_keywords_map_to_their_metric() -> None:
    budget = merge([[{"min_sqnr_db": 30.0, "npu_coverage": 0.8}]])
    assert {(lim.metric, lim.kind) for lim in budget.limits} == {
        ("sqnr_db", "min"),
        ("npu_coverage", "min"),
    }


def test_judge_max_min_and_missing() -> None:
    cap = Limit("size_mb", "size_mb", "max", 4.0)
    assert judge(cap, Availability(3.9, "static")).passed
    broken = judge(cap, Availability(4.5, "static"))
    assert not broken.passed
    assert broken.message("cortex-a72") == ("size_mb: 4.5 MB, static on cortex-a72, limit <= 4 MB")
    floor = Limit("min_sqnr_db", "sqnr_db", "min", 30.0)
    assert not judge(floor, Availability(20.0, "measured")).passed
    missing = judge(cap, Availability(None, reason="no data"))
    assert not missing.passed and "not available on x: no data" in missing.message("x")
