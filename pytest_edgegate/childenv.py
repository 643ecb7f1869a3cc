"""The environment of edgegate's child processes (runner, accuracy worker, TFLite Micro probe).

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/runner/launch.py``.
"""

from __future__ import annotations

import os
from pathlib import Path


def child_env() -> dict[str, str]:
    """The parent's environment, with this package importable, numpy's BLAS single-threaded
    (numpy is not timed; its BLAS threads would only add memory and noise) and onnxruntime's
    telemetry off.

    onnxruntime 1.2x/1.3x on Linux ships a telemetry client that, on import, writes a session
    file into ``$TMPDIR`` (``.ses``) and an event store under ``~/.cache/Microsoft`` and may
    send events over the network: a CI gate must not write outside the model's folder and its
    reports, nor call out.  ``ORT_DISABLE_TELEMETRY=1`` stops all of it (checked with strace);
    a value the user set explicitly is kept."""
    import pytest_edgegate

    env = dict(os.environ)
    root = str(Path(pytest_edgegate.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    env.setdefault("ORT_DISABLE_TELEMETRY", "1")
    return env
