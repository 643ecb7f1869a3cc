"""The onnxruntime session options of an emulated run, and why each is set.

- ``intra_op_num_threads = min(profile cores, host cores)``: the device's parallelism, but
  never more threads than the host has cores, which would time the OS scheduler instead.
- ``inter_op_num_threads = 1`` and ``ORT_SEQUENTIAL``: edge runtimes run one node at a time;
  parallel branches would use cores the profile does not have.
- ``ORT_ENABLE_ALL``: every graph optimization, as a deployment would use.  On x86 this
  includes host-specific layout transforms (NCHWc), so per-node profiles name the optimized
  graph's nodes (``FusedConv``, ``..._nchwc``), not the model file's.
- ``session.intra_op.allow_spinning = 0``: worker threads sleep instead of busy-waiting for
  work.  Spinning buys a few microseconds per parallel section on an idle machine and costs
  everything on a shared one: the spinning threads compete with the threads doing the work
  and with the other xdist worker.  Measured on this 2-core host while other jobs ran,
  SqueezeNet with 2 threads: p50 3.4 ms without spinning, 7.4 ms with it.
- Memory: one CPU arena shared by the child's sessions (``create_and_register_allocator``
  + ``session.use_env_allocators``) that grows by exactly what is requested
  (``kSameAsRequested``), and the memory-pattern planner off.  Then the memory cap and the
  measured peak describe the model.  Measured with a model whose live activations are
  1.2 GB (Expand + Add of 600 MB tensors, three runs)::

      options                               VmData    peak RSS   stream_add kernel
      onnxruntime defaults (arena x2 growth,
        memory pattern on)                  4.2 GB    2.4 GB     2.3-3.9 ms
      arena off                             0.0 GB*   1.15 GB    6.7-84 ms
      shared kSameAsRequested arena,
        memory pattern off (used)           1.19 GB   1.19 GB    2.5-3.3 ms

  (*freed after each run.)  The defaults double the memory (the arena grows in powers of
  two, and the memory-pattern block of run 2 comes on top of run 1's chunks); with the arena
  off every large tensor is a fresh ``mmap`` whose page faults are timed on every run (this
  VM's page faults are slow: 32 MB took up to 80 ms).  ResNet-50 times the same with the
  chosen options as with the defaults (19.8-20.1 vs 19.7-20.3 ms, 2 threads).
- CPU execution provider only, and no custom op library is ever registered: the emulation
  must not depend on the host's accelerators, and a model cannot load code into the child.
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
