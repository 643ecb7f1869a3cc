"""Reading a user's ``.npz`` file of named arrays, refusing what would hang or exhaust memory.

Shared by the runner (``inputs=``) and the accuracy data sets (``dataset=``, ``inputs=``).
"""

from __future__ import annotations

import os
import stat
import zipfile

import numpy as np


def check_regular_file(path: str) -> None:
    """Raise ``ValueError`` unless ``path`` is a regular file, before anything opens it.

    Opening a FIFO blocks until a writer comes (the test would hang past every timeout) and a
    device such as ``/dev/zero`` never ends; a folder is a plain mistake.  ``MemoryError`` is
    the other hostile case: an ``.npy`` header can claim an array of terabytes, which numpy
    tries to allocate before it reads a byte, so callers catch it too.
    """
    st = os.stat(path)  # OSError (missing, no permission) is the caller's to report
    if stat.S_ISDIR(st.st_mode):
        raise ValueError("it is a folder, not an .npz file")
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(
            "it is not a regular file (a FIFO or a device would block or never end); "
            "expected an .npz file"
        )


def load_npz(path: str) -> dict[str, np.ndarray]:
    """The named arrays of an ``.npz`` file; ``ValueError`` (and the errors numpy raises for
    an empty, truncated or oversized file: ``OSError``, ``EOFError``, ``MemoryError``) when it
    is not one."""
    check_regular_file(path)
    try:
        loaded = np.load(path, allow_pickle=False)
        if not hasattr(loaded, "files"):  # an .npy: one array, not a context manager
            raise ValueError("it holds a single array, not named arrays (use np.savez)")
        with loaded as npz:
            return {name: npz[name] for name in npz.files}
    except zipfile.BadZipFile as exc:  # starts like a zip (an .npz) but is truncated or corrupt
        raise ValueError(f"not a valid .npz file, the zip archive is corrupt ({exc})") from None
