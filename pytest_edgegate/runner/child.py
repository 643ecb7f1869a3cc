"""The child process of an emulated run: ``python -m pytest_edgegate.runner.child WORKDIR``.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/runner/child.py``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from pytest_edgegate.runner.measure import ChildFailure, Measurement

FAULT_ENV = "EDGEGATE_RUNNER_FAULT"
EXIT_FAILED = 3


class Progress:
    """Appends phase lines to the progress file, and fires the test-only fault hook."""

    def __init__(self, path: Path) -> None:
        self._fh = open(path, "a", encoding="ascii", buffering=1)  # noqa: SIM115
        self.phase = "start"
        fault = os.environ.get(FAULT_ENV, "")
        self._fault_action, _, self._fault_phase = fault.partition(":")

    def __call__(self, phase: str) -> None:
        self.phase = phase
        self._fh.write(f"{time.monotonic_ns()} {phase}\n")
        self._fh.flush()
        if self._fault_phase == phase:
            inject_fault(self._fault_action)


def inject_fault(action: str) -> None:
    """What the tests' fault variable asks a child to do: abort, segfault or hang."""
    if action == "abort":
        os.abort()
    elif action == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif action == "hang":
        while True:
            time.sleep(3600)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str]) -> int:
    workdir = Path(argv[1])
    progress = Progress(workdir / "progress")
    progress("start")
    try:
        spec = json.loads((workdir / "spec.json").read_text(encoding="utf-8"))
        _write_json(workdir / "result.json", Measurement(spec, workdir, progress).run())
        return 0
    except ChildFailure as failure:
        error = {"kind": failure.kind, "phase": progress.phase, "message": failure.message}
        error.update(failure.extra)
    except MemoryError as exc:
        error = {"kind": "oom", "phase": progress.phase, "message": f"MemoryError: {exc}"}
    except BaseException as exc:  # noqa: BLE001 - everything must reach the parent
        error = {
            "kind": "internal",
            "phase": progress.phase,
            "message": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }
    try:
        from pytest_edgegate.runner.memory import lift_data_limit

        lift_data_limit()  # reporting must not fail for the memory the model exhausted
        _write_json(workdir / "error.json", error)
    except MemoryError:
        pass
    return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main(sys.argv))
