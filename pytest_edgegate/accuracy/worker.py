"""The parent's handle on one evaluation child: start, request, watch, classify, stop.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/accuracy/worker.py``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from pytest_edgegate.accuracy.accuracy_error import AccuracyError
from pytest_edgegate.accuracy.channel import Channel, ChannelClosed

#: Seconds to wait for a child to exit after ``close`` (or after its pipe ended).
EXIT_GRACE_S = 5.0


class Worker:
    """One model in one child process."""

    def __init__(
        self,
        *,
        role: str,
        model_path: str,
        label: str,
        output: str,
        threads: int,
        memory_limit_mb: float | None,
        timeout_s: float,
        target_id: str,
        workdir: Path,
        splittable: bool,
    ) -> None:
        self.role = role
        self.model_path = model_path
        self.label = label
        self.output = output
        self.threads = threads
        self.memory_limit_mb = memory_limit_mb
        self.timeout_s = timeout_s
        self.target_id = target_id
        self.workdir = workdir
        self.splittable = splittable
        self.max_batch: int | None = None
        self.split_notes: list[str] = []
        self.limit_enforced = False
        self._proc: subprocess.Popen | None = None
        self._channel: Channel | None = None
        self._watchdog = _Watchdog(timeout_s, self._on_timeout)
        self._timed_out = False
        self._step = "starting"
        self._stderr_path = workdir / f"{role}.stderr"

    # -- process -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the child and send ``open``; :meth:`finish_open` reads the reply."""
        from pytest_edgegate.childenv import child_env

        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        cmd = [
            sys.executable,
            "-m",
            "pytest_edgegate.accuracy.eval_child",
            str(to_child_r),
            str(from_child_w),
        ]
        try:
            with open(self._stderr_path, "wb") as err:
                self._proc = subprocess.Popen(
                    cmd,
                    stdin=subprocess.DEVNULL,
                    stdout=err,
                    stderr=err,
                    env=child_env(),
                    cwd=self.workdir,
                    start_new_session=True,
                    pass_fds=(to_child_r, from_child_w),
                )
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self._channel = Channel(from_child_r, to_child_w)
        self.submit(
            {
                "op": "open",
                "model_path": self.model_path,
                "output": self.output,
                "threads": self.threads,
                "memory_limit_mb": self.memory_limit_mb,
            },
            step="starting onnxruntime and loading the model",
        )

    def finish_open(self) -> None:
        reply, _ = self.collect()
        self.limit_enforced = bool(reply.get("limit_enforced"))

    def close(self) -> None:
        """Ask the child to exit; kill it if it does not; always reap it."""
        if self._proc is None:
            return
        try:
            if self._proc.poll() is None and self._channel is not None:
                self._step = "closing"
                self._arm()  # a child stuck in a batch must not hold the parent forever
                self._channel.send({"op": "close"})
                self._channel.receive()
                self._proc.wait(timeout=EXIT_GRACE_S)
        except (ChannelClosed, subprocess.TimeoutExpired, OSError):
            pass
        finally:
            self.kill()

    def kill(self) -> None:
        """SIGKILL the child's group and reap it; idempotent."""
        self._watchdog.stop()
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=EXIT_GRACE_S)
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    # -- requests ------------------------------------------------------------------------------

    def submit(
        self, header: dict[str, Any], arrays: dict[str, np.ndarray] | None = None, *, step: str
    ) -> None:
        """Send one request; the reply is read by :meth:`collect` (so two children can work
        at the same time)."""
        self._step = step
        self._arm()
        try:
            assert self._channel is not None
            self._channel.send(header, arrays)
        except ChannelClosed:
            raise self._died() from None

    def collect(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Read the reply to the last request; an error reply or a dead child raises."""
        try:
            assert self._channel is not None
            reply, arrays = self._channel.receive()
        except ChannelClosed:
            raise self._died() from None
        finally:
            self._disarm()
        if not reply.get("ok"):
            raise self._error(reply)
        return reply, arrays

    def run(self, feeds: dict[str, np.ndarray], n: int, where: str) -> np.ndarray:
        """The selected output for ``feeds`` (``n`` samples), split if memory demands it."""
        self.submit_run(feeds, n, where)
        return self.collect_run(feeds, n, where)

    def submit_run(self, feeds: dict[str, np.ndarray], n: int, where: str) -> None:
        if self.max_batch is not None and n > self.max_batch:
            return  # collect_run runs it in pieces
        self.submit({"op": "run"}, feeds, step=f"running {where}")

    def collect_run(self, feeds: dict[str, np.ndarray], n: int, where: str) -> np.ndarray:
        if self.max_batch is not None and n > self.max_batch:
            return self._run_pieces(feeds, n, self.max_batch, where)
        try:
            _, arrays = self.collect()
        except AccuracyError as exc:
            alive = self._proc is not None and self._proc.poll() is None
            if exc.kind != "oom" or not self.splittable or n <= 1 or not alive:
                raise
            half = (n + 1) // 2
            self.max_batch = half
            self.split_notes.append(
                f"{self.label}: a batch of {n} ran out of memory under the cap; "
                f"ran batches of at most {half} from then on"
            )
            return self._run_pieces(feeds, n, half, where)
        return arrays["out"]

    def _run_pieces(self, feeds: dict[str, np.ndarray], n: int, size: int, where: str):
        parts = []
        for lo in range(0, n, size):
            hi = min(n, lo + size)
            piece = {k: v[lo:hi] for k, v in feeds.items()}
            parts.append(self.run(piece, hi - lo, where))
        return np.concatenate(parts)

    # -- watchdog and errors -------------------------------------------------------------------

    def _arm(self) -> None:
        self._timed_out = False
        self._watchdog.arm()

    def _disarm(self) -> None:
        self._watchdog.disarm()

    def _on_timeout(self) -> None:
        self._timed_out = True
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, signal.SIGKILL)

    def _stderr_tail(self, lines: int = 20) -> str:
        try:
            text = self._stderr_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])

    def _died(self) -> AccuracyError:
        """The error for a child whose pipe closed: timed out, crashed, or exited."""
        from pytest_edgegate.runner.classify import NATIVE_OOM

        self._disarm()
        code = None
        if self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = self._proc.wait(timeout=EXIT_GRACE_S)
        stderr = self._stderr_tail()
        details = {"returncode": code, "stderr_tail": stderr, "step": self._step}
        on = f" on `{self.target_id}`" if self.target_id else ""
        if self._timed_out:
            return AccuracyError(
                f"{self.label}: timed out after {self.timeout_s:g} s{on} while {self._step}; "
                "the evaluation was killed (raise timeout_s if the model is just slow)",
                kind="timeout",
                model=self.label,
                details=details,
            )
        if any(marker in stderr for marker in NATIVE_OOM) and self.memory_limit_mb is not None:
            return AccuracyError(
                f"{self.label}: ran out of memory{on} while {self._step} (the cap allows "
                f"{self.memory_limit_mb:.0f} MB)",
                kind="oom",
                model=self.label,
                details=details,
            )
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return AccuracyError(
                f"onnxruntime crashed ({name}) running {self.label}{on} while {self._step}",
                kind="crash",
                model=self.label,
                details=details,
            )
        last = "\n".join(stderr.splitlines()[-5:]) or "(nothing)"
        return AccuracyError(
            f"{self.label}: the evaluation process exited with code {code} while "
            f"{self._step}; its stderr ends with: {last}",
            kind="internal",
            model=self.label,
            details=details,
        )

    def _error(self, reply: dict[str, Any]) -> AccuracyError:
        """The error for a failure the child reported."""
        from pytest_edgegate.runner.classify import trim_ort_message

        kind = str(reply.get("kind", "internal"))
        quoted = trim_ort_message(str(reply.get("message", "")))
        on = f" on `{self.target_id}`" if self.target_id else ""
        details = {"step": self._step, "traceback": reply.get("traceback", "")}
        if kind == "oom":
            cap = (
                f"the cap allows {self.memory_limit_mb:.0f} MB"
                if self.memory_limit_mb is not None
                else "no cap was set"
            )
            message = f"{self.label}: ran out of memory{on} while {self._step} ({cap}): {quoted}"
        elif kind == "load":
            message = f"{self.label}: onnxruntime cannot load the model: {quoted}"
        elif kind == "data":
            message = f"{self.label}: the inputs do not fit the model ({self._step}): {quoted}"
        elif kind == "run":
            message = f"{self.label}: onnxruntime failed{on} while {self._step}: {quoted}"
        else:
            kind = "internal"
            message = f"{self.label}: the evaluation failed while {self._step}: {quoted}"
        return AccuracyError(message, kind=kind, model=self.label, details=details)


class _Watchdog:
    """Calls ``fire`` when an armed deadline passes; one daemon thread, started lazily."""

    def __init__(self, timeout_s: float, fire) -> None:
        self._timeout_s = timeout_s
        self._fire = fire
        self._cond = threading.Condition()
        self._deadline: float | None = None
        self._stopped = False
        self._thread: threading.Thread | None = None

    def arm(self) -> None:
        with self._cond:
            self._deadline = time.monotonic() + self._timeout_s
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, daemon=True)
                self._thread.start()
            self._cond.notify()

    def disarm(self) -> None:
        with self._cond:
            self._deadline = None
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._deadline = None
            self._cond.notify()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def _loop(self) -> None:
        with self._cond:
            while not self._stopped:
                if self._deadline is None:
                    self._cond.wait()
                    continue
                left = self._deadline - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                self._deadline = None
                self._fire()
