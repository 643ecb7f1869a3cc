"""What to run and under which constraints: :class:`RunSpec`.

A spec is plain data so that the parent can validate it before paying for a child process
and ship it to the child as JSON.  Every field has a default that matches the
documented options (warm-up, 2 % CI, a few seconds of timing, a per-run timeout).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

from pytest_edgegate.runner.hostwork import KERNELS
from pytest_edgegate.runner.run_error import RunError


@dataclass(frozen=True, eq=False)
class RunSpec:
    """One emulated run of one model on one device profile.

    ``threads`` is the profile's core count; the run uses ``min(threads, os.cpu_count())``
    intra-op threads.  ``memory_limit_mb`` (MB = 10^6 bytes) is the profile's RAM for the
    model, on top of the runtime's own baseline; ``None`` runs uncapped.  ``expected_mb`` is
    the caller's static estimate of the model's peak memory, used only to word the message
    when the cap is hit ("needs about X MB").  ``inputs`` is a dict of arrays, a ``.npz``
    path, or ``None`` for seeded random inputs; ``input_shapes`` fixes dynamic dimensions.

    ``timeout_s`` bounds the whole child (time spent waiting for ``lock_path`` excluded);
    ``time_cap_s``, ``warmup`` and ``rel_ci`` drive the timing loop.  ``calibrate`` runs the
    host calibration kernels (``calibration_time_s`` in total) and ``profile_nodes`` the
    onnxruntime per-node profile; tests switch them off to stay fast.  With ``calibrate``, the
    model and the kernels also run interleaved on one thread (:mod:`.paired`, the basis of the
    device figure) until the median ratio is known to 1 % or ``paired_time_s`` passes; the
    stopping rule needs ``work``, the model's float and int8 conv/GEMM FLOPs and streamed
    bytes (``costmodel.host.host_work``); without it the rounds run to the cap (and every kernel
    runs).  ``reference_threads``
    (e.g. 1) also times the model with that many threads, in a session of its own: on a
    shared host a single-threaded time is far less disturbed by load than a time that needs
    every core (see bench/stability.py), so it is the candidate basis for the device figure.
    ``label`` is how messages name the model (default: ``model_path``); a caller that wrote
    an in-memory model to a temporary file passes the model's own name here.
    """

    model_path: str
    threads: int
    memory_limit_mb: float | None
    target_id: str
    inputs: dict[str, Any] | str | os.PathLike[str] | None = None
    input_shapes: dict[str, list[int]] | None = None
    seed: int = 0
    timeout_s: float = 60.0
    time_cap_s: float = 3.0
    warmup: int = 3
    rel_ci: float = 0.02
    profile_nodes: bool = True
    lock_path: str | None = None
    expected_mb: float | None = None
    calibrate: bool = True
    calibration_time_s: float = 1.0
    paired_time_s: float = 3.0
    work: dict[str, float] | None = None
    reference_threads: int | None = None
    label: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.model_path, os.PathLike):
            object.__setattr__(self, "model_path", os.fspath(self.model_path))
        if isinstance(self.inputs, os.PathLike):
            object.__setattr__(self, "inputs", os.fspath(self.inputs))
        if self.lock_path is not None:
            object.__setattr__(self, "lock_path", os.fspath(self.lock_path))
        self.validate()

    def validate(self) -> None:
        """Reject values no run could honour, with the field named."""
        problems = []
        if not isinstance(self.threads, int) or isinstance(self.threads, bool) or self.threads < 1:
            problems.append(f"threads must be a positive integer, got {self.threads!r}")
        if self.memory_limit_mb is not None and not is_positive(self.memory_limit_mb):
            problems.append(
                f"memory_limit_mb must be positive or None, got {self.memory_limit_mb!r}"
            )
        if self.expected_mb is not None and not is_non_negative(self.expected_mb):
            problems.append(f"expected_mb must be >= 0 or None, got {self.expected_mb!r}")
        if not is_positive(self.timeout_s):
            problems.append(f"timeout_s must be positive, got {self.timeout_s!r}")
        if not is_non_negative(self.time_cap_s):
            problems.append(f"time_cap_s must be >= 0, got {self.time_cap_s!r}")
        if not is_non_negative(self.calibration_time_s):
            problems.append(f"calibration_time_s must be >= 0, got {self.calibration_time_s!r}")
        if not is_non_negative(self.paired_time_s):
            problems.append(f"paired_time_s must be >= 0, got {self.paired_time_s!r}")
        if self.work is not None and not (
            isinstance(self.work, dict)
            and set(self.work) == set(KERNELS)
            and all(is_non_negative(v) for v in self.work.values())
        ):
            problems.append(
                f"work must map {', '.join(KERNELS)} to amounts >= 0, got {self.work!r}"
            )
        if self.reference_threads is not None and (
            not isinstance(self.reference_threads, int) or self.reference_threads < 1
        ):
            problems.append(
                f"reference_threads must be a positive integer or None, "
                f"got {self.reference_threads!r}"
            )
        if not isinstance(self.warmup, int) or self.warmup < 0:
            problems.append(f"warmup must be an integer >= 0, got {self.warmup!r}")
        if not (is_positive(self.rel_ci) and self.rel_ci < 1):
            problems.append(f"rel_ci must be in (0, 1), got {self.rel_ci!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            problems.append(f"seed must be an integer >= 0, got {self.seed!r}")
        if self.input_shapes is not None and not isinstance(self.input_shapes, dict):
            problems.append("input_shapes must map input names to lists of ints")
        if problems:
            raise RunError(
                f"{self.model_name}: invalid run settings: " + "; ".join(problems),
                kind="spec",
                model=str(self.model_path),
            )

    @property
    def model_name(self) -> str:
        """The model as messages name it."""
        return self.label or self.model_path


def is_positive(value: object) -> bool:
    """A finite number above zero (not a bool)."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def is_non_negative(value: object) -> bool:
    """A finite number at or above zero (not a bool)."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )
