"""From what the host measured to what the device would take.

The host is not the device, so a host timing is never reported as the device's latency.
edgegate uses the cost model as the bridge, calibrated against the host in the same process:

    device_ms = npu_part + cpu_part_estimate(device) * measured_host / modelled_host

``modelled_host`` prices the same nodes with the host's own speeds, measured by the runner's
calibration kernels (conv and GEMM GFLOP/s, streaming GB/s) in the child that timed the model.
Both sides use the fastest (least disturbed) run's CPU time: on a shared machine medians move
with the neighbours' load, minima hardly (bench/stability.py shows the spread).
The ratio ``measured_host / modelled_host`` is what the runtime really does beyond the
roofline (fusions, cache behaviour, scheduling); applying it to the device's estimate carries
that effect to the device while keeping the device's own speeds.  CPU time (all threads) is
used on both sides of the ratio rather than wall time: the runner measured that per-CPU-second
figures move far less when another process competes for the cores (bench/stability.py).
"""

from __future__ import annotations

from typing import Any

from pytest_edgegate.analysis import ModelAnalysis
from pytest_edgegate.costmodel.terms import cpu_class, executed, node_bytes


def host_speeds(calibration: Any) -> dict[str, float] | None:
    """Conv and GEMM FLOP/s and streaming B/s per CPU-second, from each kernel's fastest run.

    The minimum of the CPU time is the least disturbed run: on a shared machine the median of
    a kernel moves with the neighbours' cache and memory traffic, its minimum hardly at all.
    """
    kernels = {k.name: k for k in getattr(calibration, "kernels", ())}
    try:
        conv, gemm, stream = kernels["conv3x3"], kernels["gemm"], kernels["stream_add"]
    except KeyError:
        return None
    speeds = {
        "conv": conv.flops / (conv.cpu_timing.min_ms * 1e-3),
        "gemm": gemm.flops / (gemm.cpu_timing.min_ms * 1e-3),
        "stream": stream.bytes_moved / (stream.cpu_timing.min_ms * 1e-3),
    }
    return speeds if min(speeds.values()) > 0 else None


def modelled_host_ms(analysis: ModelAnalysis, calibration: Any) -> float | None:
    """CPU-milliseconds the host needs for the model by its measured kernel speeds."""
    speeds = host_speeds(calibration)
    if speeds is None:
        return None
    seconds = 0.0
    for node in executed(analysis.nodes):
        cls = cpu_class(node)
        if cls == "gemm":
            seconds += node.flops / speeds["gemm"]
        elif cls != "vector":
            seconds += node.flops / speeds["conv"]
        seconds += node_bytes(node) / speeds["stream"]
    return seconds * 1e3


def translate(
    analysis: ModelAnalysis, estimate: Any | None, run: Any
) -> tuple[float | None, dict[str, Any]]:
    """The emulated device latency (or ``None``) and how it was obtained."""
    info: dict[str, Any] = {"method": "cost model scaled by measured/modelled host CPU time"}
    if estimate is None:
        info["unavailable"] = "the target has no cost-model constants to translate with"
        return None, info
    if run.calibration is None:
        info["unavailable"] = "the run has no host calibration"
        return None, info
    modelled = modelled_host_ms(analysis, run.calibration)
    if not modelled:
        info["unavailable"] = "the host calibration measured no speed"
        return None, info
    ratio = run.cpu_timing.min_ms / modelled
    npu_ms = sum(n.time_ms for n in estimate.nodes if n.device == "npu")
    cpu_ms = estimate.latency_ms - npu_ms
    info.update(
        host_cpu_min_ms=run.cpu_timing.min_ms,
        modelled_host_ms=modelled,
        ratio=ratio,
        device_estimate_ms=estimate.latency_ms,
        npu_part_ms=npu_ms,
    )
    return npu_ms + cpu_ms * ratio, info
