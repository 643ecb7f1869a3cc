"""The one error the runner raises, with a machine-readable ``kind``.

The plugin turns a :class:`RunError` into a failure of the one test that ran the model, so
its message must stand alone in a CI log: it names the model and says what went wrong in the
user's terms (MB, seconds, input names), not in onnxruntime's.
"""

from __future__ import annotations

from pytest_edgegate.errors import EdgeGateError

#: Every value ``RunError.kind`` can take.
KINDS = (
    "oom",  # the model needed more memory than the profile allows
    "crash",  # the child died from a signal (native crash in onnxruntime)
    "timeout",  # the child ran past spec.timeout_s and was killed
    "load",  # onnxruntime could not load the model (unsupported op, opset, IR version, file)
    "input",  # inputs do not match the model (name, shape, dtype) or cannot be generated
    "run",  # onnxruntime failed while running the model for another reason
    "spec",  # the RunSpec itself is invalid
    "platform",  # this operating system cannot run the emulation (no POSIX process control)
    "internal",  # the child failed in a way edgegate did not foresee
)


class RunError(EdgeGateError):
    """Running a model failed; ``kind`` is one of :data:`KINDS`, ``model`` the model path.

    ``details`` carries what the reports may want beyond the message (the phase the child
    was in, the tail of its stderr, the memory figures it saw), as plain JSON types.
    """

    def __init__(
        self, message: str, *, kind: str, model: str = "", details: dict | None = None
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown RunError kind {kind!r}")
        self.kind = kind
        self.model = model
        self.details = dict(details or {})
        super().__init__(message)
