"""Turning a model analysis and a device profile into metrics and device-fit verdicts.

Each metric comes with its source (``static``, ``estimate`` or ``measured``) or with the reason
it is not available for this target and mode; the budget check then fails on a missing metric
instead of passing silently.  Later parts of edgegate (the cost model, the runner, accuracy)
add their metrics here, beside the static ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_edgegate.budgets import Availability, Verdict
from pytest_edgegate.profiles.model import MB, DeviceProfile
from pytest_edgegate.settings import Settings

if TYPE_CHECKING:
    from pytest_edgegate.analysis import ModelAnalysis


def static_metrics(analysis: ModelAnalysis) -> dict[str, Availability]:
    """The metrics that need no execution: identical on every machine."""
    return {name: Availability(value, "static") for name, value in analysis.metrics().items()}


def unavailable_metrics(
    profile: DeviceProfile, settings: Settings, has_reference: bool
) -> dict[str, Availability]:
    """Why each metric that this version cannot compute for ``profile`` is missing."""
    out: dict[str, Availability] = {}
    if profile.is_mcu:
        device = f"{profile.id} is a microcontroller profile: static checks only"
        out["latency_ms"] = Availability(None, reason=device)
        out["energy_mj"] = Availability(None, reason=device)
    else:
        if settings.latency_source == "measured":
            why = "--edge-latency=measured needs the emulated runner, not in this edgegate version"
        else:
            why = "no cost-model latency estimate in this edgegate version"
        out["latency_ms"] = Availability(None, reason=why)
        out["energy_mj"] = Availability(
            None, reason="no cost-model energy estimate in this edgegate version"
        )
    if profile.is_npu:
        out["npu_coverage"] = Availability(
            None, reason="the NPU placement simulator is not in this edgegate version"
        )
    else:
        out["npu_coverage"] = Availability(None, reason=f"{profile.id} has no NPU")
    accuracy_reason = (
        "accuracy evaluation against a reference is not in this edgegate version"
        if has_reference
        else "pass reference= and dataset= to edge.evaluate to measure it"
    )
    for name in ("accuracy_drop", "accuracy_drop_rel", "sqnr_db", "top1_agreement"):
        out[name] = Availability(None, reason=accuracy_reason)
    return out


def memory_metric(
    analysis: ModelAnalysis, settings: Settings, static: Availability
) -> Availability:
    """``peak_memory_mb`` in the mode the settings ask for."""
    if settings.memory_source == "measured":
        return Availability(
            None, reason="--edge-memory=measured needs the emulated runner, not in this version"
        )
    return static


def device_fit(profile: DeviceProfile, analysis: ModelAnalysis) -> list[Verdict]:
    """Checks every model must pass on a device, budget or not: does it fit in memory?

    On a microcontroller the weights live in flash and the activations in SRAM, so the two
    are checked separately; elsewhere weights and peak activations share the RAM.
    """
    weights_mb = analysis.param_bytes / MB
    activations_mb = analysis.peak_activation_bytes / MB
    if profile.is_mcu:
        checks = [
            ("flash_mb", weights_mb, profile.flash_mb, "weights in device flash"),
            ("sram_mb", activations_mb, profile.sram_mb, "peak activations in device SRAM"),
        ]
    else:
        checks = [
            ("peak_memory_mb", weights_mb + activations_mb, profile.ram_mb, "device RAM"),
        ]
    verdicts = []
    for metric, value, bound, what in checks:
        if bound is None:
            continue
        verdicts.append(
            Verdict(metric, "max", bound, value, value <= bound, "static", what, "device")
        )
    return verdicts


def breakdown(analysis: ModelAnalysis) -> dict[str, Any]:
    """What the reports show beside the headline metrics."""
    return {
        "params_by_dtype": dict(analysis.params_by_dtype),
        "param_bytes": analysis.param_bytes,
        "peak_activation_bytes": analysis.peak_activation_bytes,
        "op_histogram": dict(analysis.op_histogram),
        "assumed_dims": dict(analysis.assumed_dims),
        "nodes": [
            {
                "name": n.name,
                "op_type": n.op_type,
                "scope": n.scope,
                "macs": n.macs,
                "flops": n.flops,
                "bytes_read": n.bytes_read,
                "bytes_written": n.bytes_written,
                "compute_dtype": n.compute_dtype,
            }
            for n in analysis.nodes
        ],
    }
