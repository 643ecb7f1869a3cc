"""Emulated execution: run an ONNX model under a device profile's thread and memory caps.

The public API is pytest-free::

    from pytest_edgegate.runner import RunSpec, RunResult, RunError, run_model

    result = run_model(RunSpec(model_path, threads=4, memory_limit_mb=837.8,
                               target_id="cortex-a53"))
    result.timing.p50_ms, result.memory.model_peak_mb, result.calibration.conv_gflops

Every run happens in a fresh child process (:mod:`.launch`, :mod:`.child`) with
``RLIMIT_DATA`` capping the model's memory (:mod:`.memory`), a timeout on the whole child, the
session options of :mod:`.session`, an adaptive timing loop (:mod:`.stats`), a per-node
profile (:mod:`.profiling`) and host calibration kernels (:mod:`.calibration`); the timed part
holds a cross-process lock (:mod:`.lock`) so xdist workers never time at the same moment.
Every failure is a :class:`RunError` whose ``kind`` says what happened (:mod:`.classify`).

Importing this package imports numpy but not onnx or onnxruntime; the plugin should still
import it lazily, when a run is needed.
"""

from __future__ import annotations

from pytest_edgegate.runner.launch import run_model
from pytest_edgegate.runner.run_error import RunError
from pytest_edgegate.runner.run_result import RunResult
from pytest_edgegate.runner.spec import RunSpec

__all__ = ["RunError", "RunResult", "RunSpec", "run_model"]
