"""The arena TFLite Micro needs for a ``.tflite`` model, measured with the tflite-micro wheel.

``smallest_arena`` bisects on the arena size and tries each size in a fresh subprocess (an
arena that is too small can abort the process); a size passes when the interpreter allocates
and runs one inference.  ``allocations`` returns the RecordingMicroAllocator's account (head =
planned tensors and scratch buffers, tail = persistent data) at a comfortable size.  Needs the
``[tflite]`` extra (``pip install tflite-micro``); host build, so reference kernels and 64-bit
pointers.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile

_RUN = """
import sys, numpy as np
from tflite_micro.python.tflite_micro import runtime
data = open(sys.argv[1], 'rb').read()
it = runtime.Interpreter.from_bytes(data, arena_size=int(sys.argv[2]))
d = it.get_input_details(0)
it.set_input(np.zeros(d['shape'], d['dtype']), 0)
it.invoke()
if sys.argv[3] == '1':
    sys.stdout.flush()
    it.print_allocations()
"""


def available() -> bool:
    """True when the tflite-micro wheel can be imported."""
    try:
        from tflite_micro.python.tflite_micro import runtime  # noqa: F401
    except Exception:
        return False
    return True


def try_arena(path: str, arena: int, report: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", _RUN, path, str(arena), "1" if report else "0"],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _with_file(model: bytes, fn):
    fd, path = tempfile.mkstemp(suffix=".tflite")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(model)
        return fn(path)
    finally:
        os.unlink(path)


def smallest_arena(model: bytes, upper: int = 4_000_000, step: int = 16) -> int:
    """Smallest arena (bytes, a multiple of ``step``) in which the model allocates and runs."""

    def search(path: str) -> int:
        if try_arena(path, upper).returncode != 0:
            raise RuntimeError(f"the model does not run in a {upper}-byte arena")
        lo, hi = 0, upper // step
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if try_arena(path, mid * step).returncode == 0:
                hi = mid
            else:
                lo = mid
        return hi * step

    return _with_file(model, search)


def allocations(model: bytes, arena: int = 4_000_000) -> dict[str, int]:
    """Head, tail and total bytes of the arena as TFLite Micro's recording allocator reports."""

    def run(path: str) -> dict[str, int]:
        proc = try_arena(path, arena, report=True)
        if proc.returncode != 0:
            raise RuntimeError(f"TFLite Micro failed: {proc.stderr.strip()[-500:]}")
        out: dict[str, int] = {}
        for key in ("total", "head", "tail"):
            m = re.search(rf"Arena allocation {key} (\d+) bytes", proc.stdout + proc.stderr)
            if m:
                out[key] = int(m.group(1))
        for m in re.finditer(r"'([^']+)' used (\d+) bytes", proc.stdout + proc.stderr):
            out[m.group(1)] = int(m.group(2))
        return out

    return _with_file(model, run)
