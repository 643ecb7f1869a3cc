"""The record of one evaluation: what a test measured for one model on one target.

A result is plain data (JSON-ready through :meth:`EdgeResult.to_dict`): it travels from an
xdist worker to the controller as one ``user_properties`` entry and is what every report reads.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pytest_edgegate.budgets import Verdict
from pytest_edgegate.metrics import METRICS

RESULT_SCHEMA = 1


@dataclass
class EdgeResult:
    """Metrics, their sources, and the verdicts of one model evaluated on one target."""

    nodeid: str
    target: str
    profile_version: str
    model: str
    model_path: str | None = None
    sha256: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    verdicts: list[Verdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    regression: dict[str, Any] | None = None  # the marker's per-test thresholds
    #: The test is marked xfail: a broken budget here is expected (a model not meant for the
    #: device), reported as "xfailed" and never counted as a failure of the gate.
    expected_failure: bool = False

    @property
    def passed(self) -> bool:
        return self.error is None and all(v.passed for v in self.verdicts)

    @property
    def broken(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.passed]

    def units(self) -> dict[str, str]:
        return {name: METRICS[name].unit for name in self.metrics if name in METRICS}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdicts"] = [v.to_dict() for v in self.verdicts]
        data["units"] = self.units()
        data["passed"] = self.passed
        data["schema"] = RESULT_SCHEMA
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EdgeResult:
        verdicts = [
            Verdict(
                metric=v["metric"],
                kind=v["kind"],
                bound=v["limit"],
                value=v["value"],
                passed=v["passed"],
                source=v.get("source"),
                reason=v.get("reason", ""),
                keyword=v.get("keyword", ""),
            )
            for v in data.get("verdicts", [])
        ]
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data and k != "verdicts"}
        return cls(**known, verdicts=verdicts)
