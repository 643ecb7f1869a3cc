"""Memory measurement and the memory cap of the child process.

Which limit.  A Python process with numpy and onnxruntime loaded maps far more address
space than it uses: glibc reserves a 64 MiB malloc arena (``PROT_NONE``) for every thread
that allocates, every thread gets an 8 MiB stack, and the shared libraries are mapped whole.
Measured on the development host (x86-64, Linux 6.18, CPython 3.11, numpy 2.4, onnx 1.23,
onnxruntime 1.31) in the child's own state: modules imported, numpy's BLAS single-threaded,
the one-node probe session run and freed::

    intra-op threads      1        2        4
    VmSize (RLIMIT_AS)    174 MB   249 MB   400 MB    (+75 MB per extra thread)
    VmData (RLIMIT_DATA)   77 MB    86 MB   103 MB    (+8.5 MB per thread: its stack)
    VmRSS                  72 MB    72 MB    72 MB

(With OpenBLAS left multi-threaded, VmData is 42 MB higher; the child sets
``OPENBLAS_NUM_THREADS=1``: numpy is never timed.)

``RLIMIT_AS`` would therefore need a baseline of 170-400 MB that depends on the thread
count and on glibc's arena heuristics, and it would count reservations that never become
memory.  ``RLIMIT_DATA`` (enforced for ``mmap`` since Linux 4.7) counts private writable
mappings only: the heap, anonymous ``mmap`` (every large tensor), thread stacks; not the
``PROT_NONE`` arena reservations nor the libraries' code.  It tracks what the model commits,
so it is the limit used, and ``RLIMIT_AS`` is not touched.

Baseline.  The cap is the profile's RAM for the model *on top of* the runtime's own
footprint, so the child measures that footprint itself instead of trusting a constant:
after importing numpy and onnxruntime it builds and runs a one-node probe session with the
same thread options (which creates the intra-op thread pool and its stacks), frees it, reads
``VmData``, and sets ``RLIMIT_DATA = VmData + cap``.  That makes the limit right for any
Python, numpy, onnxruntime or thread count.  It is set *after* onnxruntime is imported for
that reason: the import is not the model's memory, and ``setrlimit`` governs every later
allocation (the model file, session creation, initializers, inputs, every run), which is
all the model's.  Only the soft limit is lowered, so the child can lift it again for the
calibration kernels, whose memory is not the model's either.

onnxruntime's default CPU arena would make the cap measure the arena, not the model (it grows
in powers of two and keeps run 1's chunks beside run 2's memory-pattern block: 4.2 GB of
``VmData`` for 1.2 GB of activations), so the child uses an arena that grows by exactly what
is requested, without the memory pattern; see :mod:`.session` for the measurements.

Measured figures.  The child's peak RSS (``VmHWM`` on Linux, ``ru_maxrss`` elsewhere; see
:func:`peak_rss_bytes` for why not ``ru_maxrss`` on Linux) is read after the timed runs,
before calibration and profiling allocate anything; the RSS before the session was created
is the baseline, and their difference is the model's share.

Elsewhere (macOS, other Unixes) ``RLIMIT_DATA`` is not enforced for ``mmap``: the cap is
then checked after the run against the measured peak, and the result says so.
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
