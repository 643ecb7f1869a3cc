"""What to evaluate and under which constraints: :class:`AccuracySpec`.

Plain data, checked once on construction so that a bad value fails before any process
starts, with the field named.  The data set and the metric are checked later, against the
models (:mod:`.dataset`, :mod:`.metrics`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pytest_edgegate.accuracy.accuracy_error import AccuracyError
from pytest_edgegate.runner.spec import is_positive

#: Samples per batch for a model whose batch dimension is dynamic, when ``batch_size`` is
#: not given: large enough that the per-batch cost (a pipe round trip, onnxruntime's call
#: overhead) vanishes for small models, small enough that a batch of a large model fits an
#: edge device's memory cap (a batch that does not is split in halves, see :mod:`.worker`).
DEFAULT_BATCH = 64

#: A model given as a file or in memory.
ModelLike = Any  # str | os.PathLike[str] | onnx.ModelProto


@dataclass(frozen=True, eq=False)
class AccuracySpec:
    """One accuracy evaluation of ``candidate`` against ``reference`` on ``dataset``.

    Models: a path (``str`` or ``os.PathLike``) or an ``onnx.ModelProto``;
    ``candidate_label``/``reference_label`` say how messages name them (default: the path,
    or the graph's name for a proto).

    ``dataset`` (see :mod:`.dataset`): an iterable of ``(inputs, labels)`` batches, a single
    ``(inputs, labels)`` tuple, an ``.npz`` path (``x``, and ``y`` for a metric) or a mapping
    with the same keys, a callable returning any of these, or ``None`` for ``random_samples``
    seeded random inputs (output fidelity only).  ``inputs`` is an array for a single-input
    model (or for the input named ``input_name``), or a dict of arrays by input name for a
    multi-input model; axis 0 is the sample axis of every array and of the labels; ``labels``
    may be ``None`` (fidelity only).

    ``inputs``: unlabelled inputs for the fidelity when ``dataset`` is ``None`` (a dict of
    arrays by input name, one array for a single-input model, or an ``.npz`` path holding one
    array per input name, as the runner takes them); they stream like a data set.  Only
    without both are random inputs generated, and the result says so (``random_inputs``).

    ``metric``: ``"top1"``, ``"top5"`` (or any ``"topK"``, ``"topk:K"``), ``"mae"``, a
    callable ``metric(outputs, labels) -> float`` (then ``higher_is_better`` is required),
    or ``None``: top-1 when the labels are integer classes and the output is ``[N, C]``
    scores (:mod:`.default_metric`), else output fidelity only.  ``output`` selects the model
    output the metric and the fidelity use: a name or an index (default: the first output).

    Caps: ``threads`` is the device's core count (the run uses at most the host's cores),
    ``memory_limit_mb`` (MB = 10^6 bytes, ``None`` = uncapped) the device's RAM for each
    model, on top of the runtime's own footprint, as in :mod:`pytest_edgegate.runner`.
    ``timeout_s`` bounds every step of a child process (start-up and model load, each batch,
    the layer diagnosis), not the whole evaluation, whose length grows with the data set.

    ``batch_size``: samples per run for a dynamic batch dimension (default
    :data:`DEFAULT_BATCH`); a model with a fixed batch dimension always runs batches of that
    size, the last one padded.  ``layer_diagnosis`` matches the models' intermediate tensors
    and measures the per-layer SQNR on the first ``layer_samples`` samples.
    """

    candidate: ModelLike
    reference: ModelLike | None = None
    dataset: Any = None
    inputs: Any = None
    metric: str | Callable[[Any, Any], float] | None = None
    higher_is_better: bool | None = None
    input_name: str | None = None
    output: str | int = 0
    threads: int = 1
    memory_limit_mb: float | None = None
    timeout_s: float = 60.0
    batch_size: int | None = None
    layer_diagnosis: bool = True
    layer_samples: int = 256
    random_samples: int = 64
    seed: int = 0
    target_id: str = ""
    candidate_label: str | None = None
    reference_label: str | None = None

    def __post_init__(self) -> None:
        for name in ("candidate", "reference"):
            value = getattr(self, name)
            if isinstance(value, os.PathLike):
                object.__setattr__(self, name, os.fspath(value))
        for name in ("dataset", "inputs"):
            if isinstance(getattr(self, name), os.PathLike):
                object.__setattr__(self, name, os.fspath(getattr(self, name)))
        self.validate()

    def validate(self) -> None:
        """Reject values no evaluation could honour, naming each field."""
        problems = []
        if not _is_model(self.candidate):
            problems.append(
                "candidate must be a model path or an onnx.ModelProto, "
                f"got {type(self.candidate).__name__}"
            )
        if self.reference is not None and not _is_model(self.reference):
            problems.append(
                "reference must be a model path, an onnx.ModelProto or None, "
                f"got {type(self.reference).__name__}"
            )
        if not _positive_int(self.threads):
            problems.append(f"threads must be a positive integer, got {self.threads!r}")
        if self.memory_limit_mb is not None and not is_positive(self.memory_limit_mb):
            problems.append(
                f"memory_limit_mb must be positive or None, got {self.memory_limit_mb!r}"
            )
        if not is_positive(self.timeout_s):
            problems.append(f"timeout_s must be positive, got {self.timeout_s!r}")
        if self.batch_size is not None and not _positive_int(self.batch_size):
            problems.append(
                f"batch_size must be a positive integer or None, got {self.batch_size!r}"
            )
        for name in ("layer_samples", "random_samples"):
            if not _positive_int(getattr(self, name)):
                problems.append(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            problems.append(f"seed must be an integer >= 0, got {self.seed!r}")
        if self.higher_is_better is not None and not isinstance(self.higher_is_better, bool):
            problems.append(
                f"higher_is_better must be True, False or None, got {self.higher_is_better!r}"
            )
        if not isinstance(self.output, (str, int)) or isinstance(self.output, bool):
            problems.append(f"output must be an output name or index, got {self.output!r}")
        elif isinstance(self.output, int) and self.output < 0:
            problems.append(f"output index must be >= 0, got {self.output}")
        if self.input_name is not None and not isinstance(self.input_name, str):
            problems.append(f"input_name must be a string or None, got {self.input_name!r}")
        if (
            self.metric is not None
            and not isinstance(self.metric, str)
            and not callable(self.metric)
        ):
            problems.append(
                "metric must be a name ('top1', 'top5', 'topk:K', 'mae'), a callable "
                f"metric(outputs, labels) -> float, or None; got {type(self.metric).__name__}"
            )
        if problems:
            raise AccuracyError(
                f"{self.candidate_name}: invalid accuracy settings: " + "; ".join(problems),
                kind="spec",
                model=self.candidate_name,
            )

    @property
    def candidate_name(self) -> str:
        """The candidate as messages name it."""
        return self.candidate_label or _model_name(self.candidate)

    @property
    def reference_name(self) -> str | None:
        """The reference as messages name it, or ``None`` without a reference."""
        if self.reference is None:
            return None
        return self.reference_label or _model_name(self.reference)


def _is_model(value: object) -> bool:
    return isinstance(value, str) or type(value).__name__ == "ModelProto"


def _model_name(model: object) -> str:
    if isinstance(model, str):
        return model
    name = getattr(getattr(model, "graph", None), "name", "") or "model"
    return f"<in-memory model {name}>"


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
