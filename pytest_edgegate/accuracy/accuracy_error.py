"""The one error the accuracy evaluation raises, with a machine-readable ``kind``.

The plugin turns an :class:`AccuracyError` into a failure of the one test that asked for the
evaluation, so the message stands alone in a CI log: it names the model (or the data set,
or the metric) and says what did not match, in the user's terms.
"""

from __future__ import annotations

from pytest_edgegate.errors import EdgeGateError

#: Every value ``AccuracyError.kind`` can take.
KINDS = (
    "spec",  # the AccuracySpec itself is invalid (a bad value, a metric name, a missing flag)
    "load",  # a model cannot be read as ONNX, or onnxruntime cannot load it
    "mismatch",  # candidate and reference differ in their inputs or outputs
    "data",  # the data set: empty, unreadable, wrong shapes, dtypes or labels
    "metric",  # the metric raised, returned NaN or a non-number, or cannot apply to the output
    "run",  # onnxruntime failed while running a batch, or the outputs are not finite
    "oom",  # a model needed more memory than the cap allows
    "crash",  # a child process died from a signal (a native crash in onnxruntime)
    "timeout",  # a child process stopped answering within timeout_s
    "platform",  # this operating system cannot run the evaluation (no POSIX process control)
    "internal",  # the evaluation failed in a way edgegate did not foresee
)


class AccuracyError(EdgeGateError):
    """An accuracy evaluation failed; ``kind`` is one of :data:`KINDS`.

    ``model`` names the model concerned (empty when the problem is the data set or the
    metric); ``details`` carries plain JSON data for the reports (a child's stderr tail).
    """

    def __init__(
        self, message: str, *, kind: str, model: str = "", details: dict | None = None
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown AccuracyError kind {kind!r}")
        self.kind = kind
        self.model = model
        self.details = dict(details or {})
        super().__init__(message)
