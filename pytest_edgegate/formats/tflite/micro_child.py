"""Child process: the smallest TFLite Micro arena that allocates a model and runs it once.

``python -m pytest_edgegate.formats.tflite.micro_child MODEL OUT.json``.  Each probe is a
``fork`` of this process (TFLite Micro is single-threaded, so forking is safe): an arena
that is too small makes the interpreter abort or crash the whole process, which only loses
that probe.  The search doubles up from 1 KiB, then bisects on multiples of the arena's
16-byte alignment, so the same model gives the same figure on every run.
"""

from __future__ import annotations

import json
import os
import sys

ALIGN = 16  # MicroArenaBufferAlignment() in TFLite Micro
START = 1024
MAX_ARENA = 256 * 1024 * 1024


def _probe(runtime, data: bytes, arena: int) -> bool:
    """Whether a fresh interpreter with ``arena`` bytes allocates and runs one inference."""
    pid = os.fork()
    if pid == 0:  # the probe: exit 0 on success; anything else (abort, crash) is a failure
        code = 1
        try:
            fd = os.open(os.devnull, os.O_WRONLY)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            _invoke(runtime, data, arena)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def _invoke(runtime, data: bytes, arena: int):
    import numpy as np

    from .reader import read_tflite

    interp = runtime.Interpreter.from_bytes(data, arena_size=arena)
    for k in range(len(read_tflite(data, "model").main.inputs)):
        detail = interp.get_input_details(k)
        interp.set_input(np.zeros(detail["shape"], dtype=detail["dtype"]), k)
    interp.invoke()
    return interp


def search(data: bytes) -> dict:
    from tflite_micro.python.tflite_micro import runtime

    # One unbounded attempt in this process's own child first: an op TFLite Micro lacks, or a
    # broken model, is said once with TFLite Micro's own message instead of as "no arena fits".
    try:
        pid_ok = _probe(runtime, data, MAX_ARENA)
    except OSError as exc:
        return {"error": f"cannot fork a probe: {exc}"}
    if not pid_ok:
        return _diagnose(runtime, data)
    hi = START
    while not _probe(runtime, data, hi):
        hi *= 2
    lo = hi // 2 if hi > START else 0  # lo fails (or is 0), hi works
    probes = 0
    while hi - lo > ALIGN:
        mid = (lo + hi) // 2 // ALIGN * ALIGN
        if mid <= lo:
            break
        probes += 1
        if _probe(runtime, data, mid):
            hi = mid
        else:
            lo = mid
    recorded = _recorded_total(runtime, data, hi)
    return {"arena_bytes": hi, "failing_bytes": lo, "probes": probes, "recorded_bytes": recorded}


def _captured(runtime, data: bytes, arena: int, action) -> str:
    """What a forked probe running ``action(interpreter)`` writes to stderr (where
    MicroPrintf writes on a host), the probe's own exception included."""
    import tempfile

    with tempfile.TemporaryFile() as tmp:
        pid = os.fork()
        if pid == 0:
            try:
                os.dup2(tmp.fileno(), 2)
                action(_invoke(runtime, data, arena))
            except BaseException as exc:  # noqa: BLE001 - reported through the file
                os.write(2, f"\n{type(exc).__name__}: {exc}\n".encode())
            finally:
                os._exit(0)  # C stderr, where MicroPrintf writes, is unbuffered
        os.waitpid(pid, 0)
        tmp.seek(0)
        return tmp.read().decode("utf-8", "replace")


def _diagnose(runtime, data: bytes) -> dict:
    """Why the model does not run even with the largest arena: TFLite Micro's own words."""
    import re

    text = _captured(runtime, data, MAX_ARENA, lambda interp: None)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    missing = re.search(r"Didn't find op for builtin opcode '(\w+)'", text)
    out: dict = {"error": "; ".join(lines[-4:]) or "the interpreter crashed"}
    if missing:
        out["missing_op"] = missing.group(1)
    return out


def _recorded_total(runtime, data: bytes, arena: int) -> int | None:
    """TFLite Micro's own 'Arena allocation total' (``print_allocations``) for ``arena``."""
    import re

    text = _captured(runtime, data, arena, lambda interp: interp.print_allocations())
    m = re.search(r"Arena allocation total (\d+) bytes", text)
    return int(m.group(1)) if m else None


def main(argv: list[str]) -> int:
    model, out = argv
    with open(model, "rb") as f:
        data = f.read()
    result = search(data)
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(result, f)
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
