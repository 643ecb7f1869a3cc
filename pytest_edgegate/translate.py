"""From what the host measured to what the device would take.

The host is not the device, so a host timing is never reported as the device's latency.
edgegate uses the cost model as the bridge, calibrated against the host in the same process:

    device_ms = npu_part + cpu_part_estimate(device) * measured_host / modelled_host

``modelled_host`` prices the same nodes with the host's own speeds, measured by the runner's
calibration kernels (conv and GEMM GFLOP/s, streaming GB/s) in the child that timed the model.
The runner interleaves the model and the kernels run by run (``runner/paired.py``); the ratio is
the median over those rounds, so a drift of the host's speed between two measurement windows
cannot bias it.  Without paired rounds, the fastest (least disturbed) runs are used.
The ratio ``measured_host / modelled_host`` is what the runtime really does beyond the
roofline (fusions, cache behaviour, scheduling); applying it to the device's estimate carries
that effect to the device while keeping the device's own speeds.  CPU time (all threads) is
used on both sides of the ratio rather than wall time: the runner measured that per-CPU-second
figures move far less when another process competes for the cores (bench/stability.py).
"""

from __future__ import annotations

import statistics
from typing import Any

from pytest_edgegate.analysis import ModelAnalysis
from pytest_edgegate.costmodel.terms import cpu_class, executed, node_bytes

#: The calibration kernel that measures the host's speed at each kind of work, and what of
#: that kernel's work counts (FLOPs for the compute kernels, bytes for the streaming one).
KERNELS = {
    "conv": ("conv3x3", "flops"),
    "gemm": ("gemm", "flops"),
    "stream": ("stream_add", "bytes"),
}


def kernel_speeds(cpu_ms: dict[str, float], work: dict[str, dict[str, int]]) -> dict[str, float]:
    """Speeds per CPU-second from each kernel's CPU time and work (raises on a missing one)."""
    return {
        kind: work[kernel][unit] / (cpu_ms[kernel] * 1e-3)
        for kind, (kernel, unit) in KERNELS.items()
    }


def host_speeds(calibration: Any) -> dict[str, float] | None:
    """Conv and GEMM FLOP/s and streaming B/s per CPU-second, from each kernel's fastest run.

    The minimum of the CPU time is the least disturbed run: on a shared machine the median of
    a kernel moves with the neighbours' cache and memory traffic, its minimum hardly at all.
    """
    kernels = {k.name: k for k in getattr(calibration, "kernels", ())}
    try:
        speeds = kernel_speeds(
            {name: k.cpu_timing.min_ms for name, k in kernels.items()},
            {name: {"flops": k.flops, "bytes": k.bytes_moved} for name, k in kernels.items()},
        )
    except (KeyError, ZeroDivisionError):
        return None
    return speeds if min(speeds.values()) > 0 else None


def host_work(analysis: ModelAnalysis) -> dict[str, float]:
    """The model's work by the kind of kernel that measures the host's speed at it."""
    work = {"conv": 0.0, "gemm": 0.0, "stream": 0.0}
    for node in executed(analysis.nodes):
        cls = cpu_class(node)
        if cls == "gemm":
            work["gemm"] += node.flops
        elif cls != "vector":
            work["conv"] += node.flops
        work["stream"] += node_bytes(node)
    return work


def modelled_ms(work: dict[str, float], speeds: dict[str, float]) -> float:
    return sum(work[k] / speeds[k] for k in work) * 1e3


def modelled_host_ms(analysis: ModelAnalysis, calibration: Any) -> float | None:
    """CPU-milliseconds the host needs for the model by its measured kernel speeds."""
    speeds = host_speeds(calibration)
    return None if speeds is None else modelled_ms(host_work(analysis), speeds)


def paired_ratio(analysis: ModelAnalysis, paired: dict[str, Any]) -> float | None:
    """Median over interleaved rounds of model CPU time over the time its kernels imply."""
    cpu = paired.get("cpu_ms", {})
    work_of = paired.get("work", {})
    try:
        work = host_work(analysis)
        ratios = [
            model_ms / modelled_ms(work, kernel_speeds({k: v[r] for k, v in cpu.items()}, work_of))
            for r, model_ms in enumerate(cpu["model"])
        ]
    except (KeyError, IndexError, ZeroDivisionError, TypeError):
        return None
    return statistics.median(ratios) if ratios else None


def translate(
    analysis: ModelAnalysis, estimate: Any | None, run: Any
) -> tuple[float | None, dict[str, Any]]:
    """The emulated device latency (or ``None``) and how it was obtained."""
    info: dict[str, Any] = {"method": "cost model scaled by measured/modelled host CPU time"}
    if estimate is None:
        info["unavailable"] = "the target has no cost-model constants to translate with"
        return None, info
    ratio = paired_ratio(analysis, run.paired) if getattr(run, "paired", None) else None
    if ratio is not None:
        info["method"] += ", median over interleaved model/kernel rounds"
        info["rounds"] = run.paired["rounds"]
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
    npu_ms = sum(n.time_ms for n in estimate.nodes if n.device == "npu")
    cpu_ms = estimate.latency_ms - npu_ms
    info.update(ratio=ratio, device_estimate_ms=estimate.latency_ms, npu_part_ms=npu_ms)
    return npu_ms + cpu_ms * ratio, info
