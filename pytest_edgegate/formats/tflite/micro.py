"""The SRAM and flash a ``.tflite`` model needs under TensorFlow Lite Micro.

SRAM: the smallest tensor arena with which TFLite Micro allocates the model *and* runs one
inference, found in an isolated child (:mod:`.micro_child`), because a too-small arena
aborts the whole process.  TFLite Micro's own recorded total is kept beside it: it can be
smaller, since it leaves out scratch and Prepare-time buffers (tflite-micro#2738, #890).
Flash: the model file (it is read in place from flash) plus the runtime's code.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ...errors import EdgeGateError
from .availability import require

#: Flash taken by TensorFlow Lite Micro's code, in bytes: "The core runtime just fits in
#: 16 KB on an Arm Cortex M3" (TensorFlow Lite for Microcontrollers overview,
#: https://www.tensorflow.org/lite/microcontrollers, repeated in tensorflow/tflite-micro
#: README history).  The core interpreter only: the model's kernels come on top, so the
#: flash figure is a lower bound.
RUNTIME_FLASH_BYTES = 16 * 1024
RUNTIME_FLASH_SOURCE = (
    "TensorFlow Lite for Microcontrollers overview: 'The core runtime just fits in 16 KB on "
    "an Arm Cortex M3', https://www.tensorflow.org/lite/microcontrollers (kernels excluded)"
)


@dataclass(frozen=True)
class MicroFit:
    arena_bytes: int
    failing_bytes: int
    recorded_bytes: int | None
    flash_bytes: int
    probes: int

    def to_dict(self) -> dict[str, object]:
        return {
            "runtime": "tflite-micro",
            "arena_bytes": self.arena_bytes,
            "arena_fails_at_bytes": self.failing_bytes,
            "tflm_recorded_bytes": self.recorded_bytes,
            "flash_bytes": self.flash_bytes,
            "runtime_flash_bytes": RUNTIME_FLASH_BYTES,
            "runtime_flash_source": RUNTIME_FLASH_SOURCE,
            "probes": self.probes,
        }


class MicroError(EdgeGateError):
    """TFLite Micro cannot allocate or run the model (``missing_op`` names an op it lacks)."""

    def __init__(self, message: str, missing_op: str | None = None) -> None:
        super().__init__(message)
        self.missing_op = missing_op


def micro_fit(path: str, label: str, file_bytes: int, target: str, timeout_s: float) -> MicroFit:
    """Probe the model at ``path`` with TFLite Micro; raise MicroError naming ``target``."""
    require("tflite-micro", label, f"judging it on the microcontroller {target}")
    from ...childenv import child_env

    with tempfile.TemporaryDirectory(prefix="edgegate-tflm-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "pytest_edgegate.formats.tflite.micro_child", path, str(out)]
        with open(Path(tmp) / "stderr.txt", "wb") as err:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                env=child_env(), cwd=tmp, start_new_session=True, close_fds=True,
            )  # fmt: skip
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                raise MicroError(
                    f"{label}: TFLite Micro's arena search on {target} did not finish in "
                    f"{timeout_s:g} s (--edge-timeout)"
                ) from None
            finally:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if not out.is_file():
            stderr = (Path(tmp) / "stderr.txt").read_text(errors="replace").strip()
            tail = stderr.splitlines()[-1] if stderr else f"exit code {proc.returncode}"
            raise MicroError(f"{label}: TFLite Micro's arena search crashed on {target}: {tail}")
        result = json.loads(out.read_text())
    if "error" in result:
        missing = result.get("missing_op")
        if missing:
            raise MicroError(
                f"{label}: TFLite Micro does not register the operator {missing}, so the "
                f"model cannot run on the microcontroller {target} ({result['error']})",
                missing,
            )
        raise MicroError(f"{label}: TFLite Micro cannot run the model on {target}: "
                         f"{result['error']}")  # fmt: skip
    return MicroFit(
        arena_bytes=int(result["arena_bytes"]),
        failing_bytes=int(result["failing_bytes"]),
        recorded_bytes=result.get("recorded_bytes"),
        flash_bytes=file_bytes + RUNTIME_FLASH_BYTES,
        probes=int(result["probes"]),
    )
