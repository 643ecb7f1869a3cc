"""``run_model``: validate in the parent, run in a child process, classify the outcome.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/runner/launch.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from pytest_edgegate.childenv import child_env
from pytest_edgegate.runner.classify import Outcome, to_error
from pytest_edgegate.runner.model_inputs import read_signature, resolve_feeds
from pytest_edgegate.runner.run_error import RunError
from pytest_edgegate.runner.run_result import RunResult
from pytest_edgegate.runner.spec import RunSpec

#: How often the parent looks at the child, in seconds.
POLL_S = 0.02

#: Longest a child may wait for the timing lock in total.  Every holder is itself bounded by
#: its own timeout, so this only trips if something outside edgegate holds the lock file.
MAX_LOCK_WAIT_S = 3600.0


def run_model(spec: RunSpec) -> RunResult:
    """Run ``spec.model_path`` under ``spec``'s caps in a child process and measure it.

    Raises :class:`RunError` for every failure, its message naming the model and the
    problem; never anything else for a problem of the model, the inputs or onnxruntime.
    """
    label = spec.model_name
    if os.name != "posix":
        raise RunError(
            f"{label}: emulated runs need a POSIX system (process groups, rlimits, flock)",
            kind="platform",
            model=label,
        )
    model_path = os.path.abspath(spec.model_path)
    if not os.path.isfile(model_path):
        raise RunError(f"{label}: model file not found: {model_path}", kind="load", model=label)
    if spec.lock_path is not None and not os.path.isdir(
        os.path.dirname(os.path.abspath(spec.lock_path))
    ):
        raise RunError(
            f"{label}: the folder of the timing lock file {spec.lock_path} does not exist",
            kind="spec",
            model=label,
        )
    arrays, provenance, npz_path = _user_inputs(spec)
    feeds, assumed = resolve_feeds(
        read_signature(model_path, label), arrays, spec.input_shapes, label
    )
    threads_used = min(spec.threads, host_cores())
    with tempfile.TemporaryDirectory(prefix="edgegate-run-") as tmp:
        workdir = Path(tmp)
        child_npz = npz_path
        if provenance == "arrays":
            child_npz = str(workdir / "inputs.npz")
            np.savez(child_npz, **{f.name: np.asarray(arrays[f.name]) for f in feeds})
        child_spec: dict[str, Any] = {
            "model_path": model_path,
            "label": label,
            "target_id": spec.target_id,
            "threads_requested": spec.threads,
            "threads_used": threads_used,
            "memory_limit_mb": spec.memory_limit_mb,
            "feeds": [f.to_dict() for f in feeds],
            "assumed_dims": assumed,
            "inputs": {
                "provenance": provenance,
                "seed": spec.seed if provenance == "random" else None,
                "npz_path": npz_path,
                "child_npz": child_npz,
            },
            "warmup": spec.warmup,
            "time_cap_s": spec.time_cap_s,
            "rel_ci": spec.rel_ci,
            "profile_nodes": spec.profile_nodes,
            "calibrate": spec.calibrate,
            "reference_threads": (
                None
                if spec.reference_threads is None
                else min(spec.reference_threads, host_cores())
            ),
            "calibration_time_s": spec.calibration_time_s,
            "paired_time_s": spec.paired_time_s,
            "work": spec.work,
            "lock_path": None if spec.lock_path is None else os.path.abspath(spec.lock_path),
        }
        (workdir / "spec.json").write_text(json.dumps(child_spec), encoding="utf-8")
        outcome = _run_child(workdir, spec.timeout_s)
        result_file = workdir / "result.json"
        if outcome.returncode == 0 and not outcome.timed_out and result_file.is_file():
            try:
                return RunResult.from_dict(json.loads(result_file.read_text(encoding="utf-8")))
            except (ValueError, KeyError, TypeError) as exc:
                raise RunError(
                    f"{label}: the runner's result could not be read: {exc}",
                    kind="internal",
                    model=label,
                ) from None
        error_file = workdir / "error.json"
        if error_file.is_file():
            with contextlib.suppress(ValueError, OSError):
                outcome.error = json.loads(error_file.read_text(encoding="utf-8"))
        raise to_error(spec, outcome)


def host_cores() -> int:
    """Cores this process may run on: its CPU affinity where the OS has one (a container or
    ``taskset`` may allow fewer than ``os.cpu_count()``), else ``os.cpu_count()``."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _user_inputs(spec: RunSpec) -> tuple[dict[str, np.ndarray] | None, str, str | None]:
    """(arrays, provenance, npz path) of ``spec.inputs``; arrays are loaded to check them."""
    label = spec.model_name
    if spec.inputs is None:
        return None, "random", None
    if isinstance(spec.inputs, str):
        from pytest_edgegate.npzfile import load_npz

        path = os.path.abspath(spec.inputs)
        try:
            arrays = load_npz(path)  # a FIFO or a device is refused before it is opened
        except (OSError, ValueError, EOFError, MemoryError) as exc:
            raise RunError(
                f"{label}: cannot read the inputs file {spec.inputs}: {exc}",
                kind="input",
                model=label,
            ) from None
        return arrays, "npz", path
    if isinstance(spec.inputs, dict):
        return {str(k): np.asarray(v) for k, v in spec.inputs.items()}, "arrays", None
    raise RunError(
        f"{label}: inputs must be a dict of arrays, an .npz path or None, "
        f"got {type(spec.inputs).__name__}",
        kind="input",
        model=label,
    )


def _run_child(workdir: Path, timeout_s: float) -> Outcome:
    """Start the child, watch its progress, kill its group on timeout; never leaves it running.

    Time the child spends waiting for the timing lock does not count against ``timeout_s``:
    with xdist, a run queued behind another's timed part is not hanging.
    """
    progress_path = workdir / "progress"
    progress_path.touch()
    cmd = [sys.executable, "-m", "pytest_edgegate.runner.child", str(workdir)]
    start = time.monotonic_ns()
    with open(workdir / "stdout.txt", "wb") as out, open(workdir / "stderr.txt", "wb") as err:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=child_env(),
            cwd=workdir,
            start_new_session=True,
            close_fds=True,
        )
    watcher = _ProgressWatcher(progress_path)
    timed_out = False
    try:
        while True:
            try:
                proc.wait(timeout=POLL_S)
                break
            except subprocess.TimeoutExpired:
                pass
            watcher.update()
            now = time.monotonic_ns()
            waited = watcher.waited_ns(now)
            active_s = (now - start - waited) / 1e9
            if active_s > timeout_s or waited / 1e9 > MAX_LOCK_WAIT_S:
                timed_out = True
                break
    finally:
        _kill_group(proc)
    watcher.update()
    stderr = (workdir / "stderr.txt").read_text(encoding="utf-8", errors="replace")
    return Outcome(
        returncode=None if timed_out else proc.returncode,
        timed_out=timed_out,
        phase=watcher.phase,
        elapsed_s=(time.monotonic_ns() - start) / 1e9,
        stderr=stderr,
        details={"lock_wait_s": watcher.waited_ns(time.monotonic_ns()) / 1e9},
    )


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the child's process group (it leads it) and reap the child."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


class _ProgressWatcher:
    """Follows the child's progress file: the current phase and the time spent in lock waits."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._offset = 0
        self._pending = ""
        self.phase = "start"
        self._waited_ns = 0
        self._wait_since: int | None = None

    def update(self) -> None:
        try:
            with open(self._path, encoding="ascii", errors="replace") as fh:
                fh.seek(self._offset)
                chunk = fh.read()
                self._offset = fh.tell()
        except OSError:
            return
        lines = (self._pending + chunk).split("\n")
        self._pending = lines.pop()
        for line in lines:
            stamp, _, phase = line.partition(" ")
            if not phase:
                continue
            ts = int(stamp)
            if phase == "lock-wait":
                self._wait_since = ts
            elif self._wait_since is not None:
                self._waited_ns += ts - self._wait_since
                self._wait_since = None
            self.phase = phase

    def waited_ns(self, now: int) -> int:
        open_wait = 0 if self._wait_since is None else max(0, now - self._wait_since)
        return self._waited_ns + open_wait
