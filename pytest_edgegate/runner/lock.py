"""A cross-process lock around the timed part of a run.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/runner/lock.py``.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


@dataclass
class LockRecord:
    """The lock file, the total wait for it, and each held window (monotonic ns)."""

    path: str | None
    wait_ns: int = 0
    windows: list[tuple[int, int]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "wait_ms": self.wait_ns / 1e6,
            "windows_ns": [list(w) for w in self.windows],
        }


@contextlib.contextmanager
def held(
    record: LockRecord,
    on_wait: Callable[[], None] | None = None,
    on_acquired: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Hold the lock of ``record.path`` (none if ``None``) and record the wait and window.

    ``on_wait``/``on_acquired`` let the child tell the parent it is waiting, so that the
    wait does not count against the run's timeout.
    """
    if record.path is None:
        start = time.monotonic_ns()
        try:
            yield
        finally:
            record.windows.append((start, time.monotonic_ns()))
        return
    import fcntl

    fd = os.open(record.path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        if on_wait is not None:
            on_wait()
        t0 = time.monotonic_ns()
        fcntl.flock(fd, fcntl.LOCK_EX)
        acquired = time.monotonic_ns()
        record.wait_ns += acquired - t0
        if on_acquired is not None:
            on_acquired()
        try:
            yield
        finally:
            released = time.monotonic_ns()
            fcntl.flock(fd, fcntl.LOCK_UN)
            record.windows.append((acquired, released))
    finally:
        os.close(fd)
