"""Deterministic, atomic JSON files (results, baselines).

Every JSON edgegate writes is meant to be committed or diffed: keys sorted, two-space indent,
a trailing newline, and written through a temporary file in the same folder that is then
``os.replace``d, so a crash or a concurrent writer never leaves half a file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n"


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically; an ``OSError`` names the path."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise _named(exc, target) from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600; a report is an ordinary file
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _named(exc, target) from None
        raise


def _named(exc: OSError, target: Path) -> OSError:
    """The same error (errno kept) with the path in its message."""
    return OSError(exc.errno, f"cannot write {target}: {exc.strerror or exc}")


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    write_atomic(path, dumps(data))
