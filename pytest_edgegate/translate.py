"""From what the host measured to what the device would take.

The host is not the device, so a host timing is never reported as the device's latency.
edgegate uses the cost model as the bridge, calibrated against the host in the same process:

    device_ms = npu_part + cpu_part_estimate(device) * measured_host / modelled_host

``modelled_host`` prices the same nodes with the host's own speeds, measured by the runner's
calibration kernels (conv and GEMM GFLOP/s, streaming GB/s) in the child that timed the model.
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


def modelled_host_ms(analysis: ModelAnalysis, calibration: Any) -> float | None:
    """CPU-milliseconds the host needs for the model by its measured kernel speeds."""
    conv = calibration.conv_cpu_gflops * 1e9
    gemm = calibration.gemm_cpu_gflops * 1e9
    stream = calibration.stream_cpu_gbps * 1e9
    if min(conv, gemm, stream) <= 0:
        return None
    seconds = 0.0
    for node in executed(analysis.nodes):
        cls = cpu_class(node)
        if cls == "gemm":
            seconds += node.flops / gemm
        elif cls != "vector":
            seconds += node.flops / conv
        seconds += node_bytes(node) / stream
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
    ratio = run.cpu_timing.p50_ms / modelled
    npu_ms = sum(n.time_ms for n in estimate.nodes if n.device == "npu")
    cpu_ms = estimate.latency_ms - npu_ms
    info.update(
        host_cpu_p50_ms=run.cpu_timing.p50_ms,
        modelled_host_ms=modelled,
        ratio=ratio,
        device_estimate_ms=estimate.latency_ms,
        npu_part_ms=npu_ms,
    )
    return npu_ms + cpu_ms * ratio, info
