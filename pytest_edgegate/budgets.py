"""Budgets: parsing ``@pytest.mark.edge_budget`` once into typed limits, and judging results.

This module is pure (no pytest import): the plugin hands it the markers' keyword arguments in
order from the closest (the function) to the farthest (the module), and gets back a
:class:`Budget` or a :class:`BudgetError` whose message the plugin prefixes with the test id.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_edgegate.errors import BudgetError
from pytest_edgegate.metrics import BUDGET_KEYWORDS, format_value

MARKER_DOC = (
    "edge_budget(size_mb=None, peak_memory_mb=None, latency_ms=None, energy_mj=None, "
    "power_w=None, sustained_latency_ms=None, battery_life_h=None, accuracy_drop=None, "
    "accuracy_drop_rel=None, macs_m=None, params_m=None, flops_m=None, "
    "npu_coverage=None, min_sqnr_db=None, min_top1_agreement=None, regression=None): "
    "pytest-edgegate limits for the models this test evaluates with the `edge` fixture. "
    "Metric keywords are maxima; npu_coverage, battery_life_h, min_sqnr_db and "
    "min_top1_agreement are minima. "
    "Closest marker wins per keyword (function over class over module)."
)


@dataclass(frozen=True)
class Limit:
    keyword: str
    metric: str
    kind: str  # "max" or "min"
    bound: float

    def describe(self) -> str:
        sign = "<=" if self.kind == "max" else ">="
        return f"{self.metric} {sign} {format_value(self.metric, self.bound)}"


@dataclass(frozen=True)
class Budget:
    limits: tuple[Limit, ...] = ()
    regression: Mapping[str, Any] | None = None

    def __bool__(self) -> bool:
        return bool(self.limits)

    def get(self, metric: str) -> Limit | None:
        return next((lim for lim in self.limits if lim.metric == metric), None)


@dataclass(frozen=True)
class Verdict:
    """The judgement of one limit on one result."""

    metric: str
    kind: str
    bound: float
    value: float | None
    passed: bool
    source: str | None = None
    reason: str = ""  # why the metric is unavailable, or what kind of check this is
    keyword: str = ""

    def message(self, target: str) -> str:
        if self.value is None:
            return f"{self.metric}: not available on {target}: {self.reason}"
        sign = "<=" if self.kind == "max" else ">="
        src = f", {self.source}" if self.source else ""
        what = f" ({self.reason})" if self.reason else ""
        return (
            f"{self.metric}{what}: {format_value(self.metric, self.value)}{src} on {target}, "
            f"limit {sign} {format_value(self.metric, self.bound)}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "kind": self.kind,
            "limit": self.bound,
            "value": self.value,
            "passed": self.passed,
            "source": self.source,
            "reason": self.reason,
            "keyword": self.keyword,
        }


def _check_number(keyword: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = (
            " (units are in the keyword's name: give a plain number)"
            if isinstance(value, str)
            else ""
        )
        raise BudgetError(f"edge_budget({keyword}=...) expects a number, got {_show(value)}{hint}")
    try:
        number = float(value)
    except OverflowError:  # an int beyond float range, e.g. 10**400
        number = math.inf if value > 0 else -math.inf
    if math.isnan(number) or math.isinf(number):
        raise BudgetError(f"edge_budget({keyword}=...) expects a finite number, got {_show(value)}")
    if number < 0:
        raise BudgetError(f"edge_budget({keyword}=...) must not be negative, got {_show(value)}")
    return number


def _show(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters; never raises (the repr of an int of more
    than 4,300 digits does, and a user's object may)."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - any value may reach a marker
        return f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_regression(value: Any) -> Mapping[str, Any]:
    """``regression=`` is a mapping metric -> threshold (number or "5%"); judged by baselines."""
    if isinstance(value, str):
        pairs = [p for p in value.split(",") if p.strip()]
        parsed = {}
        for pair in pairs:
            name, sep, threshold = pair.partition(":")
            if not sep:
                raise BudgetError(
                    f"edge_budget(regression={value!r}) expects METRIC:THRESHOLD[,...]"
                )
            parsed[name.strip()] = threshold.strip()
        value = parsed
    if not isinstance(value, Mapping):
        raise BudgetError(
            f"edge_budget(regression=...) expects a dict such as {{'latency_ms': '5%'}}, "
            f"got {_show(value)}"
        )
    for name, threshold in value.items():
        if name not in BUDGET_KEYWORDS:
            raise BudgetError(f"edge_budget(regression=...) names an unknown metric {_show(name)}")
        if isinstance(threshold, str):
            text = threshold.strip().rstrip("%")
            try:
                _check_number(f"regression[{name}]", float(text))
            except ValueError:
                raise BudgetError(
                    f"edge_budget(regression=...) threshold for {name} must be a number or "
                    f"a percentage like '5%', got {_show(threshold)}"
                ) from None
        else:
            _check_number(f"regression[{name}]", threshold)
    return dict(value)


def parse_marker(args: Sequence[Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Validate one marker's arguments; return ``{keyword: value}`` (regression kept as is)."""
    if args:
        raise BudgetError(
            "edge_budget takes keyword arguments only (e.g. size_mb=4), got positional "
            f"{_show(args)}"
        )
    parsed: dict[str, Any] = {}
    for keyword, value in kwargs.items():
        if keyword == "regression":
            parsed[keyword] = None if value is None else _check_regression(value)
        elif keyword in BUDGET_KEYWORDS:
            parsed[keyword] = _check_number(keyword, value)
        else:
            raise BudgetError(
                f"edge_budget got an unknown keyword {keyword!r}; expected one of: "
                f"{', '.join(sorted([*BUDGET_KEYWORDS, 'regression']))}"
            )
    return parsed


def merge(levels: Sequence[Sequence[Mapping[str, Any]]]) -> Budget:
    """Merge parsed markers; ``levels`` runs from the closest node outwards.

    Within one level (several marks on the same function, say) a keyword given twice with
    different values is ambiguous and an error; across levels the closest one wins.
    """
    chosen: dict[str, Any] = {}
    for marks in levels:
        seen: dict[str, Any] = {}
        for mark in marks:
            for keyword, value in mark.items():
                if keyword in seen and seen[keyword] != value:
                    raise BudgetError(
                        f"edge_budget keyword {keyword!r} is given twice at the same level "
                        f"({_show(seen[keyword])} and {_show(value)})"
                    )
                seen[keyword] = value
        for keyword, value in seen.items():
            chosen.setdefault(keyword, value)
    regression = chosen.pop("regression", None)
    limits = tuple(
        Limit(keyword, BUDGET_KEYWORDS[keyword][0], BUDGET_KEYWORDS[keyword][1], value)
        for keyword, value in sorted(chosen.items())
    )
    return Budget(limits=limits, regression=regression)


@dataclass
class Availability:
    """A metric's value with its source, or the reason it could not be computed."""

    value: float | None
    source: str | None = None
    reason: str = ""


def item_budget(node: Any) -> Budget:
    """The merged budget of a pytest node: every ``edge_budget`` mark from the module (or
    class) inwards, the closest definition of each keyword winning; raises BudgetError on
    misuse.  ``node`` is anything with pytest's ``listchain()``."""
    levels = []
    for level in reversed(node.listchain()):
        marks = [m for m in getattr(level, "own_markers", []) if m.name == "edge_budget"]
        levels.append([parse_marker(m.args, m.kwargs) for m in marks])
    return merge(levels)


def judge(limit: Limit, got: Availability | None, what: str = "") -> Verdict:
    """Judge one limit.  A missing metric fails: a budget never passes silently."""
    if got is None or got.value is None:
        reason = got.reason if got and got.reason else "this version of edgegate cannot compute it"
        return Verdict(
            limit.metric, limit.kind, limit.bound, None, False, None, reason, limit.keyword
        )
    value = got.value
    ok = value <= limit.bound if limit.kind == "max" else value >= limit.bound
    return Verdict(
        limit.metric, limit.kind, limit.bound, value, ok, got.source, what, limit.keyword
    )


@dataclass(frozen=True)
class Judgement:
    verdicts: tuple[Verdict, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)

    @property
    def broken(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if not v.passed)
