"""Regression thresholds and the comparison of a run with a baseline.

A metric regresses when it is worse than the baseline by more than its threshold, even if it is
still under budget: budgets say what the device allows, regressions say what this change cost.
Deterministic metrics (static and cost-model figures) regress by default when they grow by more
than 2 %; measured metrics are noisy and are only gated when a threshold is configured.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pytest_edgegate.errors import SettingsError
from pytest_edgegate.metrics import METRICS

DEFAULT_PCT = 2.0


@dataclass(frozen=True)
class Threshold:
    """``5%`` (relative) or ``0.5`` (absolute, in the metric's unit)."""

    amount: float
    relative: bool

    def __str__(self) -> str:
        return f"{self.amount:g}%" if self.relative else f"{self.amount:g}"

    def exceeded(self, baseline: float, worse_by: float) -> bool:
        if worse_by <= 0:
            return False
        if self.relative:
            if baseline == 0:
                return worse_by > 0
            return worse_by / abs(baseline) * 100 > self.amount + 1e-12
        return worse_by > self.amount + 1e-12


def parse_threshold(metric: str, text: Any, where: str) -> Threshold:
    raw = str(text).strip()
    relative = raw.endswith("%")
    try:
        amount = float(raw.rstrip("%").strip())
    except ValueError:
        raise SettingsError(
            f"{where}: threshold for {metric} must be a number or a percentage like '5%', "
            f"got {text!r}"
        ) from None
    if amount < 0 or math.isnan(amount) or math.isinf(amount):
        raise SettingsError(f"{where}: threshold for {metric} must be >= 0, got {text!r}")
    return Threshold(amount, relative)


def parse_thresholds(spec: str | Mapping[str, Any] | None, where: str) -> dict[str, Threshold]:
    """``"latency_ms:5%,size_mb:0"`` or a mapping -> thresholds; unknown metrics are errors."""
    if not spec:
        return {}
    if isinstance(spec, str):
        pairs: dict[str, Any] = {}
        for part in spec.replace("\n", ",").split(","):
            part = part.strip()
            if not part:
                continue
            name, sep, value = part.partition(":")
            if not sep:
                raise SettingsError(f"{where}: expected METRIC:THRESHOLD[,...], got {part!r}")
            pairs[name.strip()] = value
        spec = pairs
    out = {}
    for name, value in spec.items():
        if name not in METRICS:
            raise SettingsError(
                f"{where}: unknown metric {name!r}; expected one of {', '.join(METRICS)}"
            )
        out[name] = parse_threshold(name, value, where)
    return out


@dataclass(frozen=True)
class Delta:
    key: str
    nodeid: str
    target: str
    metric: str
    baseline: float | None
    current: float | None
    status: str  # regressed | improved | unchanged | incomparable | new | not run
    threshold: str = ""
    reason: str = ""

    @property
    def delta(self) -> float | None:
        if self.baseline is None or self.current is None:
            return None
        return self.current - self.baseline

    @property
    def delta_pct(self) -> float | None:
        if self.delta is None or not self.baseline:
            return None
        return self.delta / abs(self.baseline) * 100

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "nodeid": self.nodeid,
            "target": self.target,
            "metric": self.metric,
            "baseline": self.baseline,
            "current": self.current,
            "delta": self.delta,
            "delta_pct": self.delta_pct,
            "threshold": self.threshold,
            "status": self.status,
            "reason": self.reason,
        }

    def describe(self) -> str:
        unit = METRICS[self.metric].unit if self.metric in METRICS else ""
        pct = f" ({self.delta_pct:+.1f} %)" if self.delta_pct is not None else ""
        return (
            f"{self.nodeid}: {self.metric} {self.baseline:.4g} -> {self.current:.4g} {unit}"
            f"{pct}, threshold {self.threshold}"
        )


def _threshold_for(
    metric: str, source: str | None, configured: Mapping[str, Threshold]
) -> Threshold | None:
    if metric in configured:
        return configured[metric]
    if source == "measured":
        return None  # noisy: only gated when asked for
    return Threshold(DEFAULT_PCT, True)


def compare_entry(
    key: str,
    current: Mapping[str, Any],
    baseline: Mapping[str, Any] | None,
    configured: Mapping[str, Threshold],
    costmodel_version: str,
) -> list[Delta]:
    """Deltas of one result against its baseline entry (``None``: the test is new)."""
    nodeid, target = current["nodeid"], current["target"]
    metrics: Mapping[str, float] = current.get("metrics", {})
    sources: Mapping[str, str] = current.get("sources", {})
    if baseline is None:
        return [Delta(key, nodeid, target, m, None, v, "new") for m, v in sorted(metrics.items())]
    out = []
    old_metrics: Mapping[str, float] = baseline.get("metrics", {})
    profile_changed = baseline.get("profile_version") != current.get("profile_version")
    baseline_costmodel_version = baseline.get("costmodel_version")
    for metric in sorted(set(metrics) | set(old_metrics)):
        new, old = metrics.get(metric), old_metrics.get(metric)
        source = sources.get(metric)
        threshold = _threshold_for(metric, source, configured)
        label = str(threshold) if threshold else ""
        if new is None or old is None:
            status = "new" if old is None else "not run"
            out.append(Delta(key, nodeid, target, metric, old, new, status, label))
            continue
        reason = ""
        if profile_changed and source in ("estimate", "measured"):
            reason = (
                f"profile {target} changed version {baseline.get('profile_version')} -> "
                f"{current.get('profile_version')}"
            )
        elif source == "estimate" and baseline_costmodel_version != costmodel_version:
            reason = (
                f"cost model changed version {baseline_costmodel_version} -> {costmodel_version}"
            )
        if reason:
            out.append(Delta(key, nodeid, target, metric, old, new, "incomparable", label, reason))
            continue
        spec = METRICS.get(metric)
        worse_by = (new - old) if spec is None or spec.better == "lower" else (old - new)
        if threshold is not None and threshold.exceeded(old, worse_by):
            status = "regressed"
        elif worse_by < 0 and threshold is not None and threshold.exceeded(old, -worse_by):
            status = "improved"
        else:
            status = "unchanged"
        out.append(Delta(key, nodeid, target, metric, old, new, status, label))
    return out


def not_run(entries: Mapping[str, Mapping[str, Any]], seen: Iterable[str]) -> list[Delta]:
    """Baseline entries this run did not produce (a ``-k`` run, a removed test)."""
    seen = set(seen)
    return [
        Delta(key, e.get("nodeid", key), e.get("target", ""), "", None, None, "not run")
        for key, e in sorted(entries.items())
        if key not in seen
    ]
