"""From what the host measured to what the device would take.

The host is not the device, so a host timing is never reported as the device's latency.
edgegate uses the cost model as the bridge, calibrated against the host in the same process:

    device_ms = npu_part + cpu_part_estimate(device) * r(model) / r(references)
    r(x)      = measured_host(x) / modelled_host(x)

``modelled_host`` prices a network's work (float and int8 MACs, bytes, run calls, nodes) at
the host's own speeds, measured by the runner's calibration kernels in the child that timed
the model.  ``r`` is what the runtime really does beyond that roofline on this host (fusions,
cache behaviour, slow paths).  The references are three NAS-Bench-201 networks, the family the
profiles' constants were fitted on, so on them the device's estimate is right by
construction; dividing by their ``r`` (the three taken as one workload, their times and work
summed) keeps only how the model departs from that family on this host, and cancels what the
host's load does to networks as opposed to kernels.

The runner interleaves the model, the kernels and the references run by run, all on one
thread, and uses each series' lower decile (``runner/paired.py`` says why, with the
measurements); the deciles' order-statistic intervals give the device figure's ~95 %
interval (``device_ci_ms``).  Without paired rounds, the fastest (least disturbed) runs of
the model and of the kernels at the run's thread count are used, without references.

How good is it?  ``python bench/translation.py`` (30 NAS-Bench-201 networks of the reporting
split, against the Raspberry Pi 5's measured ONNX Runtime latency, 2026-11-21): the cost
model's estimate alone MAPE 2.9 % (96.7 % within +-10 %), this translation 9.0 % (56.7 %),
without the references 11.8 % (46.7 %).  This host is an x86 core, whose efficiency from one
network to the next varies differently from an Arm core's, so on networks the cost model
knows the estimate is the better figure (hence ``--edge-latency=estimate`` by default); the
measured figure is for what the cost model cannot see, such as an operator onnxruntime runs
on a slow path.
"""

from __future__ import annotations

import math
from typing import Any

from pytest_edgegate.analysis import ModelAnalysis
from pytest_edgegate.costmodel.terms import INT_TYPES, cpu_class, executed, node_bytes
from pytest_edgegate.translation.hostwork import KERNELS, kernel_speeds, modelled_ms, ratio_estimate


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


def host_work(analysis: ModelAnalysis) -> dict[str, float]:
    """The model's work by the kind of kernel that measures the host's speed at it: MACs (as
    FLOPs) of float and of quantized products apart, every node's bytes as streaming, one
    ``run`` call, and the node executions the runtime dispatches."""
    work = dict.fromkeys(KERNELS, 0.0)
    work["call"] = 1.0
    for node in executed(analysis.nodes):
        work["dispatch"] += node.executions
        cls = cpu_class(node)
        if cls != "vector":
            kind = "gemm" if cls == "gemm" else "conv"
            work[kind + ("_int8" if node.compute_dtype in INT_TYPES else "")] += node.flops
        work["stream"] += node_bytes(node)
    return work


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
