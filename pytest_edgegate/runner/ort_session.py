"""The onnxruntime session options of an emulated run, and why each is set.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/runner/ort_session.py``.
"""

from __future__ import annotations

from typing import Any

#: Session config entry for thread spinning, and the value always used.
SPINNING_KEY = "session.intra_op.allow_spinning"
ALLOW_SPINNING = "0"
PROVIDERS = ["CPUExecutionProvider"]


_ARENA_REGISTERED = False


def register_arena() -> None:
    """Register the shared CPU arena (once per process, before the first session)."""
    global _ARENA_REGISTERED
    if _ARENA_REGISTERED:
        return
    import onnxruntime as ort

    info = ort.OrtMemoryInfo(
        "Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT
    )
    # max_mem 0 = unbounded (the rlimit bounds it), extend strategy 1 = kSameAsRequested,
    # -1 = onnxruntime's defaults for the initial chunk and the dead bytes per chunk.
    ort.create_and_register_allocator(info, ort.OrtArenaCfg(0, 1, -1, -1))
    _ARENA_REGISTERED = True


def session_options(threads: int, *, profile_prefix: str | None = None) -> Any:
    """onnxruntime ``SessionOptions`` for ``threads`` intra-op threads (already capped)."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.enable_cpu_mem_arena = True
    so.enable_mem_pattern = False
    so.add_session_config_entry("session.use_env_allocators", "1")
    so.log_severity_level = 3  # errors only: they are raised as exceptions anyway
    so.add_session_config_entry(SPINNING_KEY, ALLOW_SPINNING)
    if profile_prefix is not None:
        so.enable_profiling = True
        so.profile_file_prefix = profile_prefix
    return so


def describe(threads: int, model: Any = None) -> dict[str, Any]:
    """The options above as plain data, for the result (a ``.tflite`` model's: LiteRT's)."""
    from pytest_edgegate.formats import TFLITE_EXTENSIONS

    if isinstance(model, str) and model.lower().endswith(TFLITE_EXTENSIONS):
        from pytest_edgegate.formats.tflite.litert import describe as litert_options

        return litert_options(threads)
    return {
        "intra_op_num_threads": threads,
        "inter_op_num_threads": 1,
        "execution_mode": "ORT_SEQUENTIAL",
        "graph_optimization_level": "ORT_ENABLE_ALL",
        "allow_spinning": ALLOW_SPINNING == "1",
        "enable_cpu_mem_arena": True,
        "arena": "shared, kSameAsRequested",
        "enable_mem_pattern": False,
        "providers": list(PROVIDERS),
        "custom_op_libraries": [],
    }


def preload_runtime(model: Any, threads: int = 1) -> None:
    """Load the runtime a model file needs before the baseline footprint is measured, so the
    model's measured peak excludes the runtime library (onnxruntime is loaded by the probe)."""
    from pytest_edgegate.formats import TFLITE_EXTENSIONS

    if isinstance(model, str) and model.lower().endswith(TFLITE_EXTENSIONS):
        from pytest_edgegate.formats.tflite.litert import preload

        preload(threads)


def create_session(model: str | bytes, threads: int, *, profile_prefix: str | None = None):
    """An ``InferenceSession`` on the CPU provider with the options above (a ``.tflite``
    file gets its own runtime's session, LiteRT, with the same interface)."""
    from pytest_edgegate.formats import TFLITE_EXTENSIONS

    if isinstance(model, str) and model.lower().endswith(TFLITE_EXTENSIONS):
        from pytest_edgegate.formats.tflite.litert import create_session as litert_session

        return litert_session(model, threads)
    import onnxruntime as ort

    register_arena()
    return ort.InferenceSession(
        model, session_options(threads, profile_prefix=profile_prefix), providers=PROVIDERS
    )
