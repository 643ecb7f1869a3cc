"""Running a model on the host under a profile's caps, and what the run tells the gate.

A model is run only when something asks for it (``--edge-measure``, ``measure=True``, or a
``latency_ms``/``peak_memory_mb`` budget checked in ``measured`` mode): static and cost-model
figures need no run and are deterministic, a run costs seconds and is noisy.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_edgegate.budgets import Availability, Budget
from pytest_edgegate.model_cache import ModelHandle
from pytest_edgegate.profiles.model import DeviceProfile
from pytest_edgegate.settings import Settings

#: onnxruntime refuses IR versions newer than it knows; onnx stamps the newest by default.
MAX_RUNNABLE_IR = 10


def needs_run(budget: Budget, settings: Settings, measure: bool | None) -> bool:
    if measure is not None:
        return measure
    if settings.measure:
        return True
    wants = {lim.metric for lim in budget.limits}
    # measured memory: every model runs, so the device fit is judged on the measured peak
    return settings.memory_source == "measured" or (
        settings.latency_source == "measured" and "latency_ms" in wants
    )


@dataclass
class Measured:
    latency: Availability
    memory: Availability
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _lock_path() -> str:
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return os.path.join(tempfile.gettempdir(), f"edgegate-timing-{uid}.lock")


def _model_file(handle: ModelHandle, workdir: Path) -> str:
    """The file the child runs: the model's own, or an in-memory model saved in ``workdir``.

    The saved file has a fixed name: an in-memory model is named by its graph name, which the
    model controls (``"../../x"`` would otherwise write outside ``workdir``).
    """
    if handle.path is not None:
        return handle.path
    import onnx

    proto = onnx.ModelProto.FromString(handle.loaded.proto.SerializeToString())
    proto.ir_version = min(proto.ir_version, MAX_RUNNABLE_IR)
    path = workdir / "model.onnx"
    # The bytes, not onnx.save: onnx.save writes the raw data of tensors marked external to
    # their locations, which a crafted proto can point anywhere (ModelCache refuses such
    # protos; this keeps the write inside workdir regardless).
    path.write_bytes(proto.SerializeToString())
    return str(path)


def measure_model(
    handle: ModelHandle,
    profile: DeviceProfile,
    settings: Settings,
    estimate: Any | None,
    inputs: Any = None,
    input_shapes: Any = None,
) -> Measured:
    """Run the model in a capped child; raise ``RunError`` when the run itself fails."""
    from pytest_edgegate.costmodel.host import host_work
    from pytest_edgegate.runner import RunSpec, run_model
    from pytest_edgegate.translate import translate

    analysis = handle.analysis
    static_mb = analysis.static_peak_memory_bytes / 1e6 if analysis.peak_memory_known else None
    with tempfile.TemporaryDirectory(prefix="edgegate-run-") as tmp:
        spec = RunSpec(
            model_path=_model_file(handle, Path(tmp)),
            threads=profile.cpu.cores,
            memory_limit_mb=profile.ram_mb,
            target_id=profile.id,
            inputs=inputs,
            input_shapes={k: list(v) for k, v in input_shapes.items()} if input_shapes else None,
            timeout_s=settings.timeout_s,
            time_cap_s=settings.time_cap_s,
            paired_time_s=settings.time_cap_s,
            # the host kernels' calibration is timed too: --edge-time-cap bounds it as well
            calibration_time_s=min(RunSpec.calibration_time_s, settings.time_cap_s),
            lock_path=_lock_path(),
            expected_mb=static_mb,
            label=handle.path or handle.name,
            work=host_work(analysis),
        )
        run = run_model(spec)
    device_ms, how = translate(analysis, estimate, run)
    timing = run.timing
    details = {
        "host_p50_ms": timing.p50_ms,
        "p50_ms": timing.p50_ms,
        "p90_ms": timing.p90_ms,
        "p99_ms": timing.p99_ms,
        "min_ms": timing.min_ms,
        "mad_ms": timing.mad_ms,
        "iqr_ms": timing.iqr_ms,
        "n_runs": timing.n_runs,
        "samples_ms": list(timing.samples_ms),
        "converged": timing.converged,
        "host_cpu_p50_ms": run.cpu_timing.p50_ms,
        "session_create_ms": run.session_create_ms,
        "first_run_ms": run.first_run_ms,
        "device_ms": device_ms,
        "device_ci_ms": how.get("device_ci_ms"),
        "translation": how,
        "peak_rss_mb": run.memory.model_peak_mb,
        "static_peak_mb": static_mb,
        "threads_used": run.threads_used,
        "session_options": dict(run.session_options),
        "run": run.to_dict(),
    }
    notes = list(run.warnings)
    if device_ms is None:
        latency = Availability(
            None,
            reason=f"measured on the host ({timing.p50_ms:.3g} ms) but not translatable to "
            f"{profile.id}: {how.get('unavailable')}",
        )
    else:
        latency = Availability(device_ms, "measured")
    memory = Availability(run.memory.model_peak_mb, "measured")
    return Measured(latency, memory, details, notes)
