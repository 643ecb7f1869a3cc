"""From what the host measured to what the device would take.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/translate.py``.
"""

from __future__ import annotations

import math
from typing import Any

from pytest_edgegate.analysis import ModelAnalysis
from pytest_edgegate.costmodel.host import host_work
from pytest_edgegate.runner.hostwork import kernel_speeds, modelled_ms, ratio_estimate


def host_speeds(calibration: Any) -> dict[str, float] | None:
    """Each kernel's speed per CPU-second (FLOP/s, or B/s for streaming), from its fastest run.

    The minimum of the CPU time is the least disturbed run: on a shared machine the median of
    a kernel moves with the neighbours' cache and memory traffic, its minimum hardly at all.
    """
    kernels = {k.name: k for k in getattr(calibration, "kernels", ())}
    try:
        speeds = kernel_speeds(
            {name: k.cpu_timing.min_ms for name, k in kernels.items()},
            {name: k.units() for name, k in kernels.items()},
        )
    except (KeyError, ZeroDivisionError):
        return None
    return speeds if speeds and min(speeds.values()) > 0 else None


def modelled_host_ms(analysis: ModelAnalysis, calibration: Any) -> float | None:
    """CPU-milliseconds the host needs for the model by its measured kernel speeds."""
    speeds = host_speeds(calibration)
    try:
        return None if speeds is None else modelled_ms(host_work(analysis), speeds)
    except KeyError:  # a kind of work this calibration has no kernel for
        return None


def paired_ratio(analysis: ModelAnalysis, paired: dict[str, Any]) -> dict[str, float] | None:
    """The model's time over the time its kernels imply, from the interleaved rounds, with
    its ~95 % interval (:func:`.hostwork.ratio_estimate`); ``None`` if unusable."""
    try:
        estimate = ratio_estimate(paired, host_work(analysis))
    except (KeyError, IndexError, ZeroDivisionError, TypeError, ValueError):
        return None
    if not all(math.isfinite(v) and v > 0 for v in estimate.values()):
        return None  # a ratio, an interval end or a count that is not a positive number
    return estimate


def translate(
    analysis: ModelAnalysis, estimate: Any | None, run: Any
) -> tuple[float | None, dict[str, Any]]:
    """The emulated device latency (or ``None``) and how it was obtained."""
    info: dict[str, Any] = {"method": "cost model scaled by measured/modelled host CPU time"}
    if estimate is None:
        info["unavailable"] = "the target has no cost-model constants to translate with"
        return None, info
    npu_ms = sum(n.time_ms for n in estimate.nodes if n.device == "npu")
    cpu_ms = estimate.latency_ms - npu_ms
    paired = paired_ratio(analysis, run.paired) if getattr(run, "paired", None) else None
    if paired is not None:
        ratio = paired["ratio"]
        info["method"] += ", lower deciles of interleaved model/kernel rounds at one thread"
        if "reference_ratio" in paired:
            info["method"] += ", relative to NAS-Bench-201 reference networks"
            info.update(
                model_ratio=paired["model_ratio"], reference_ratio=paired["reference_ratio"]
            )
        info.update(
            rounds=run.paired["rounds"],
            converged=bool(run.paired.get("converged", False)),
            ratio_ci=[paired["ci_low"], paired["ci_high"]],
            device_ci_ms=[npu_ms + cpu_ms * paired["ci_low"], npu_ms + cpu_ms * paired["ci_high"]],
        )
    else:
        if run.calibration is None:
            info["unavailable"] = "the run has no host calibration"
            return None, info
        modelled = modelled_host_ms(analysis, run.calibration)
        if not modelled:
            info["unavailable"] = "the host calibration measured no speed"
            return None, info
        ratio = run.cpu_timing.min_ms / modelled
        info["modelled_host_ms"] = modelled
    info.update(ratio=ratio, device_estimate_ms=estimate.latency_ms, npu_part_ms=npu_ms)
    return npu_ms + cpu_ms * ratio, info
