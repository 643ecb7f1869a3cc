"""Turning how the child ended into a :class:`RunError` a CI log reader understands.

The child reports the failures it can catch (``error.json``: out of memory, load failure,
bad input, run failure); the parent sees the rest from outside: a timeout it enforced, a
signal (native crash), or an exit without a report.  An ``abort`` after
``std::bad_alloc`` in a native thread is an out-of-memory, not a crash, when a cap was set:
stderr tells them apart.
"""

from __future__ import annotations

import re
import signal
from dataclasses import dataclass, field
from typing import Any

from pytest_edgegate.runner.run_error import RunError
from pytest_edgegate.runner.spec import RunSpec

#: Longest onnxruntime message quoted in a RunError, in characters.
MAX_QUOTE = 400

#: stderr lines that show a native allocation failure.
NATIVE_OOM = ("std::bad_alloc", "Failed to allocate", "Cannot allocate memory", "MemoryError")

PHASES = {
    "start": "starting Python",
    "imported": "starting onnxruntime",
    "probed": "measuring the runtime baseline",
    "limited": "preparing the inputs",
    "inputs": "creating the session",
    "session": "creating the session",
    "lock-wait": "waiting for the timing lock",
    "locked": "running the model",
    "first-run": "running the model (first run)",
    "warmup": "running the model (warm-up)",
    "timing": "running the model (timed runs)",
    "calibration": "running the host calibration",
    "unlocked": "finishing the run",
    "profile-session": "creating the profiling session",
    "profile": "profiling the model",
    "reference-session": "creating the reference session",
    "reference": "timing the model with the reference thread count",
    "done": "writing the result",
}


@dataclass
class Outcome:
    """What the parent saw of one child."""

    returncode: int | None
    timed_out: bool
    phase: str
    elapsed_s: float
    stderr: str
    error: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)


def trim_ort_message(message: str) -> str:
    """onnxruntime's message without its status prefix, source path and C++ signature."""
    text = re.sub(r"^\w+: ", "", message.strip())  # the exception type the child prefixed
    text = re.sub(r"\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*", "", text)
    # the model path is in the RunError already, and here it may be a temporary file
    text = re.sub(r"^Load model from \S+ (?:failed:)?\s*", "", text)
    # "/onnxruntime_src/.../model.cc:256 onnxruntime::Model::Model(args...) Real message"
    while True:
        m = re.search(r"\S+\.(?:cc|cpp|h|hpp|cu):\d+ ", text)
        if not m:
            break
        end = m.end()
        rest = text[end:]
        sig = re.match(r"[^()\s]*(?:\s[^()\s]*)*?\(", rest)
        if sig:
            depth, i = 0, sig.end() - 1
            while i < len(rest):
                depth += {"(": 1, ")": -1}.get(rest[i], 0)
                i += 1
                if depth == 0:
                    break
            end += i
            # a trailing "const" qualifier of a method signature
            end += len(re.match(r"(?:\s*const)?\s*", text[end:]).group(0))
        text = text[: m.start()] + text[end:]
    text = " ".join(text.split())
    if len(text) > MAX_QUOTE:
        text = text[: MAX_QUOTE - 3].rstrip() + "..."
    return text


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def to_error(spec: RunSpec, outcome: Outcome) -> RunError:
    """The RunError for a child that did not produce a result."""
    label = spec.model_name
    target = spec.target_id
    phase = PHASES.get(outcome.phase, outcome.phase)
    details: dict[str, Any] = {
        "phase": outcome.phase,
        "returncode": outcome.returncode,
        "elapsed_s": outcome.elapsed_s,
        "stderr_tail": _tail(outcome.stderr),
        **outcome.details,
    }

    def error(kind: str, message: str) -> RunError:
        return RunError(message, kind=kind, model=label, details=details)

    if outcome.timed_out:
        return error(
            "timeout",
            f"{label}: timed out after {spec.timeout_s:g} s on `{target}` while {phase}; "
            "the run was killed (raise the timeout if the model is just slow)",
        )
    err = outcome.error
    if err is not None:
        details.update({k: v for k, v in err.items() if k not in ("message", "traceback")})
        kind = err.get("kind", "internal")
        quoted = trim_ort_message(str(err.get("message", "")))
        err_phase = PHASES.get(err.get("phase", ""), err.get("phase", ""))
        if kind == "oom":
            return error("oom", oom_message(spec, err, err_phase))
        if kind == "load":
            return error("load", f"{label}: onnxruntime cannot load the model: {quoted}")
        if kind == "input":
            return error("input", f"{label}: the inputs do not fit the model: {quoted}")
        if kind == "run":
            return error(
                "run", f"{label}: onnxruntime failed while {err_phase} on `{target}`: {quoted}"
            )
        details["traceback"] = err.get("traceback", "")
        return error(
            "internal",
            f"{label}: the edgegate runner failed while {err_phase}: {err.get('message', '')}",
        )
    code = outcome.returncode
    native_oom = any(marker in outcome.stderr for marker in NATIVE_OOM)
    if code is not None and code < 0:
        if native_oom and spec.memory_limit_mb is not None:
            return error("oom", oom_message(spec, {}, phase))
        return error(
            "crash",
            f"onnxruntime crashed ({_signal_name(-code)}) running {label} on `{target}` "
            f"while {phase}",
        )
    if native_oom and spec.memory_limit_mb is not None:
        return error("oom", oom_message(spec, {}, phase))
    return error(
        "internal",
        f"{label}: the runner process exited with code {code} while {phase} without a "
        f"report; its stderr ends with: {_tail(outcome.stderr, 5) or '(nothing)'}",
    )


def oom_message(spec: RunSpec, err: dict[str, Any], phase: str) -> str:
    """ "needs about X MB, `target` allows Y MB".

    X is the caller's static estimate when given; otherwise the child's figures give a lower
    bound ("needs at least": held + the allocation that failed) or only the cap itself.
    """
    label = spec.model_name
    limit = spec.memory_limit_mb
    seen = err.get("model_seen_mb")
    requested = err.get("requested_bytes")
    if limit is None:
        return f"{label}: ran out of memory on the host while {phase} (no memory cap was set)"
    allows = f"`{spec.target_id}` allows {limit:.0f} MB"
    where = f"out of memory while {phase}"
    if spec.expected_mb is not None:
        return f"{label}: needs about {spec.expected_mb:.0f} MB, {allows} ({where})"
    if seen is not None and requested and seen + requested / 1e6 > limit:
        # The run stops at the first allocation that fails: a lower bound, not an estimate.
        return (
            f"{label}: needs at least {seen + requested / 1e6:.0f} MB, {allows} ({where}: it "
            f"held {seen:.0f} MB and asked for {requested / 1e6:.0f} MB more)"
        )
    return f"{label}: needs more than the {limit:.0f} MB `{spec.target_id}` allows ({where})"
