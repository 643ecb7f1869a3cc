"""What one emulated run measured: :class:`RunResult` and its parts.

Frozen dataclasses of plain values, built by the child, shipped to the parent as JSON and
rebuilt there with :meth:`RunResult.from_dict`; :meth:`RunResult.to_dict` gives the same
JSON-ready dict back, so the plugin can store it in ``user_properties`` unchanged.  Units
are in the names (``_ms``, ``_mb`` with MB = 10^6 bytes, ``_ns``, ``_us``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pytest_edgegate.runner.feeds import FeedSpec
from pytest_edgegate.runner.host_speed import Calibration
from pytest_edgegate.runner.profiling import NodeProfile
from pytest_edgegate.runner.stats import TimingStats


@dataclass(frozen=True)
class InputsRecord:
    """Where the inputs came from and what was fed.

    ``provenance`` is ``random`` (``seed`` set), ``arrays`` (a dict given in memory) or
    ``npz`` (``npz_path`` set).  ``assumed_dims`` lists dynamic dims nobody gave (set to 1);
    ``digest`` is :func:`feeds.digest` of the fed arrays, equal across runs iff the inputs are.
    """

    provenance: str
    seed: int | None
    npz_path: str | None
    tensors: tuple[FeedSpec, ...]
    assumed_dims: dict[str, int]
    digest: str
    total_mb: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "provenance": self.provenance,
            "seed": self.seed,
            "npz_path": self.npz_path,
            "tensors": [t.to_dict() for t in self.tensors],
            "assumed_dims": dict(self.assumed_dims),
            "digest": self.digest,
            "total_mb": self.total_mb,
        }

    @classmethod
    def from_dict(cls, data: dict) -> InputsRecord:
        return cls(
            provenance=data["provenance"],
            seed=data["seed"],
            npz_path=data["npz_path"],
            tensors=tuple(FeedSpec.from_dict(t) for t in data["tensors"]),
            assumed_dims=dict(data["assumed_dims"]),
            digest=data["digest"],
            total_mb=float(data["total_mb"]),
        )


@dataclass(frozen=True)
class MemoryRecord:
    """Measured memory of the child and the cap it ran under.

    ``baseline_rss_mb`` is the child's RSS with Python, numpy and onnxruntime loaded and the
    thread pool started, before inputs and session; ``peak_rss_mb`` its peak up to the end
    of the timed runs; ``model_peak_mb`` their difference: the model's own share (inputs,
    weights, session, activations), comparable to the static ``peak_memory_mb``.
    ``limit_mb`` is the cap asked for, ``limit_kind`` the rlimit that enforced it (``None``
    when uncapped or when the OS does not enforce it: then it was checked against the peak
    after the run), ``baseline_data_mb`` the measured data-segment baseline the cap was
    added to, and ``rlimit_bytes`` the soft limit actually set.
    """

    baseline_rss_mb: float
    peak_rss_mb: float
    model_peak_mb: float
    limit_mb: float | None
    limit_kind: str | None
    limit_enforced: bool
    baseline_data_mb: float | None
    rlimit_bytes: int | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict) -> MemoryRecord:
        return cls(**data)


@dataclass(frozen=True)
class LockInfo:
    """The timing lock: its path, the total wait, and the held windows in monotonic ns."""

    path: str | None
    wait_ms: float
    windows_ns: tuple[tuple[int, int], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "wait_ms": self.wait_ms,
            "windows_ns": [list(w) for w in self.windows_ns],
        }

    @classmethod
    def from_dict(cls, data: dict) -> LockInfo:
        return cls(
            path=data["path"],
            wait_ms=float(data["wait_ms"]),
            windows_ns=tuple((int(a), int(b)) for a, b in data["windows_ns"]),
        )


@dataclass(frozen=True)
class ReferenceTiming:
    """The model timed again with ``threads`` intra-op threads (``RunSpec.reference_threads``)."""

    threads: int
    session_create_ms: float
    timing: TimingStats
    cpu_timing: TimingStats

    def to_dict(self) -> dict[str, Any]:
        return {
            "threads": self.threads,
            "session_create_ms": self.session_create_ms,
            "timing": self.timing.to_dict(),
            "cpu_timing": self.cpu_timing.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> ReferenceTiming:
        return cls(
            threads=int(data["threads"]),
            session_create_ms=float(data["session_create_ms"]),
            timing=TimingStats.from_dict(data["timing"]),
            cpu_timing=TimingStats.from_dict(data["cpu_timing"]),
        )


@dataclass(frozen=True)
class RunResult:
    """Everything one emulated run measured, with the settings it ran under.

    ``timing`` is the repeated, whole-``session.run`` timing after ``warmup_runs`` warm-up
    runs; ``cpu_timing`` the process CPU time (all threads) of the same runs, the figure a
    loaded host disturbs least; ``session_create_ms`` and ``first_run_ms`` are timed once,
    separately.
    ``profile`` is onnxruntime's per-node profile of one run (``None`` if not asked for),
    ``calibration`` the host speed figures (``None`` if not asked for), ``reference`` the
    timing with ``RunSpec.reference_threads`` threads (``None`` if not asked for).
    ``warnings`` lists what went wrong without failing the run (e.g. a calibration kernel
    that could not run).
    """

    model_path: str
    label: str
    target_id: str
    onnxruntime_version: str
    python_version: str
    host: dict[str, Any]
    threads_requested: int
    threads_used: int
    session_options: dict[str, Any]
    inputs: InputsRecord
    session_create_ms: float
    first_run_ms: float
    warmup_runs: int
    timing: TimingStats
    cpu_timing: TimingStats
    memory: MemoryRecord
    lock: LockInfo
    profile: NodeProfile | None
    calibration: Calibration | None
    child_wall_s: float
    reference: ReferenceTiming | None = None
    warnings: tuple[str, ...] = field(default=())
    #: Model and calibration kernels interleaved run by run (:mod:`.paired`): CPU ms per round.
    paired: dict[str, Any] | None = None

    @property
    def latency_ms(self) -> float:
        """The host latency figure: the median of the timed runs."""
        return self.timing.p50_ms

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_path": self.model_path,
            "label": self.label,
            "target_id": self.target_id,
            "onnxruntime_version": self.onnxruntime_version,
            "python_version": self.python_version,
            "host": dict(self.host),
            "threads_requested": self.threads_requested,
            "threads_used": self.threads_used,
            "session_options": dict(self.session_options),
            "inputs": self.inputs.to_dict(),
            "session_create_ms": self.session_create_ms,
            "first_run_ms": self.first_run_ms,
            "warmup_runs": self.warmup_runs,
            "timing": self.timing.to_dict(),
            "cpu_timing": self.cpu_timing.to_dict(),
            "memory": self.memory.to_dict(),
            "lock": self.lock.to_dict(),
            "profile": None if self.profile is None else self.profile.to_dict(),
            "calibration": None if self.calibration is None else self.calibration.to_dict(),
            "child_wall_s": self.child_wall_s,
            "reference": None if self.reference is None else self.reference.to_dict(),
            "warnings": list(self.warnings),
            "paired": self.paired,
        }

    @classmethod
    def from_dict(cls, data: dict) -> RunResult:
        return cls(
            model_path=data["model_path"],
            label=data["label"],
            target_id=data["target_id"],
            onnxruntime_version=data["onnxruntime_version"],
            python_version=data["python_version"],
            host=dict(data["host"]),
            threads_requested=int(data["threads_requested"]),
            threads_used=int(data["threads_used"]),
            session_options=dict(data["session_options"]),
            inputs=InputsRecord.from_dict(data["inputs"]),
            session_create_ms=float(data["session_create_ms"]),
            first_run_ms=float(data["first_run_ms"]),
            warmup_runs=int(data["warmup_runs"]),
            timing=TimingStats.from_dict(data["timing"]),
            cpu_timing=TimingStats.from_dict(data["cpu_timing"]),
            memory=MemoryRecord.from_dict(data["memory"]),
            lock=LockInfo.from_dict(data["lock"]),
            profile=None if data["profile"] is None else NodeProfile.from_dict(data["profile"]),
            calibration=(
                None if data["calibration"] is None else Calibration.from_dict(data["calibration"])
            ),
            child_wall_s=float(data["child_wall_s"]),
            reference=(
                None
                if data.get("reference") is None
                else ReferenceTiming.from_dict(data["reference"])
            ),
            warnings=tuple(data.get("warnings", ())),
            paired=data.get("paired"),
        )
