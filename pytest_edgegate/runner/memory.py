"""Memory measurement and the memory cap of the child process.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/runner/memory.py``.
"""

from __future__ import annotations

import resource
import sys

MB = 1_000_000


def proc_status() -> dict[str, int]:
    """``/proc/self/status`` memory lines in bytes (empty off Linux)."""
    out: dict[str, int] = {}
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key.startswith("Vm"):
                    parts = value.split()
                    if len(parts) == 2 and parts[1] == "kB":
                        out[key] = int(parts[0]) * 1024
    except OSError:
        pass
    return out


def current_rss_bytes() -> int:
    """Resident memory now; off Linux, the peak so far (the best available figure)."""
    status = proc_status()
    if "VmRSS" in status:
        return status["VmRSS"]
    return peak_rss_bytes()


def peak_rss_bytes() -> int:
    """Peak resident memory of this process so far: ``VmHWM`` on Linux, else ``ru_maxrss``.

    Not ``ru_maxrss`` on Linux: the kernel carries it across ``execve`` (it keeps the
    largest of the old and new address spaces), and ``subprocess`` starts the child with
    ``vfork``, so the child's ``ru_maxrss`` starts at the *parent's* peak, e.g. a 200 MB
    pytest worker.  ``VmHWM`` belongs to the address space the child got at ``exec``.
    """
    status = proc_status()
    if "VmHWM" in status:
        return status["VmHWM"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def data_bytes() -> int | None:
    """What ``RLIMIT_DATA`` counts now (``VmData``), or ``None`` where it is not known."""
    return proc_status().get("VmData")


def limit_is_enforced() -> bool:
    """Whether ``RLIMIT_DATA`` covers ``mmap`` here: Linux (4.7 or later, assumed)."""
    return sys.platform.startswith("linux")


def set_data_limit(limit_bytes: int) -> None:
    """Lower the soft ``RLIMIT_DATA`` to ``limit_bytes``, keeping the hard limit."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit_bytes = min(limit_bytes, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit_bytes, hard))


def lift_data_limit() -> None:
    """Raise the soft ``RLIMIT_DATA`` back to the hard limit."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    resource.setrlimit(resource.RLIMIT_DATA, (hard, hard))
