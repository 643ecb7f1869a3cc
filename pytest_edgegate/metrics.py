"""The metric vocabulary of edgegate: one name per metric, unit included.

Every layer (marker, results, JSON, reports) uses these names, so this table is the single
place that knows a metric's unit, its direction and how to print it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pytest_edgegate.numbers import format_number


def finite_or_none(value: Any) -> float | None:
    """A finite float, or ``None`` for anything else (bools, strings, NaN, missing): results
    read back from a file may hold anything, and the reports must not trip on it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    better: str  # "lower" or "higher": which direction is an improvement
    doc: str

    def format(self, value: float) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{format_number(value)}{unit}"


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("size_mb", "MB", "lower", "bytes on disk (.onnx plus external data), 1 MB = 10^6 B"),
        Metric("params_m", "M", "lower", "parameters, millions"),
        Metric("macs_m", "M", "lower", "multiply-accumulates of Conv/Gemm/MatMul forms, millions"),
        Metric("flops_m", "M", "lower", "all arithmetic (a MAC counts two), millions"),
        Metric("peak_memory_mb", "MB", "lower", "weights plus peak live activations"),
        Metric("latency_ms", "ms", "lower", "one inference on the target device"),
        Metric("energy_mj", "mJ", "lower", "one inference, whole device (idle floor + increase)"),
        Metric("power_w", "W", "lower", "average whole-device power during inference"),
        Metric(
            "sustained_latency_ms", "ms", "lower", "latency once settled at the workload's rate"
        ),
        Metric("battery_life_h", "h", "higher", "hours on the battery at the workload's rate"),
        Metric("accuracy_drop", "", "lower", "reference metric minus candidate metric"),
        Metric("accuracy_drop_rel", "", "lower", "accuracy_drop divided by the reference"),
        Metric("npu_coverage", "", "higher", "share of MACs placed on the NPU, 0..1"),
        Metric("sqnr_db", "dB", "higher", "signal-to-quantization-noise ratio vs reference"),
        Metric("top1_agreement", "", "higher", "share of inputs with the same top class"),
    )
}

#: Figures checked against the device itself (not budget metrics), with their units.
DEVICE_FIGURES = {"flash_mb": "MB", "sram_mb": "MB", "rate_hz": "Hz"}

#: Marker keyword -> (metric it checks, "max" or "min").
BUDGET_KEYWORDS: dict[str, tuple[str, str]] = {
    "size_mb": ("size_mb", "max"),
    "params_m": ("params_m", "max"),
    "macs_m": ("macs_m", "max"),
    "flops_m": ("flops_m", "max"),
    "peak_memory_mb": ("peak_memory_mb", "max"),
    "latency_ms": ("latency_ms", "max"),
    "energy_mj": ("energy_mj", "max"),
    "power_w": ("power_w", "max"),
    "sustained_latency_ms": ("sustained_latency_ms", "max"),
    "battery_life_h": ("battery_life_h", "min"),
    "accuracy_drop": ("accuracy_drop", "max"),
    "accuracy_drop_rel": ("accuracy_drop_rel", "max"),
    "npu_coverage": ("npu_coverage", "min"),
    "min_sqnr_db": ("sqnr_db", "min"),
    "min_top1_agreement": ("top1_agreement", "min"),
}


def format_value(metric: str, value: float | None) -> str:
    """``12.5 ms``; unknown metrics print plainly, missing values as ``n/a``."""
    if value is None:
        return "n/a"
    spec = METRICS.get(metric)
    if metric == "battery_life_h":
        return spec.format(value) + long_duration(value)
    if spec is not None:
        return spec.format(value)
    unit = DEVICE_FIGURES.get(metric)
    return f"{format_number(value)} {unit}" if unit else format_number(value)


def long_duration(hours: float) -> str:
    """`` (12.5 days)`` beside a battery life of days, months or years; empty below 2 days."""
    days = hours / 24
    if days < 2:
        return ""
    if days < 61:
        return f" ({days:.3g} days)"
    if days < 731:
        return f" ({days / 30.44:.3g} months)"
    return f" ({days / 365.25:.3g} years)"
