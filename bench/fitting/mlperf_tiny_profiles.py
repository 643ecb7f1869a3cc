"""Write the MCU fit's constants into the shipped MCU profiles (between marker comments)."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.fitting.mlperf_tiny_rows import Row

PROFILE_DIR = Path(__file__).resolve().parents[2] / "pytest_edgegate" / "profiles" / "data"
#: profile id -> (core, runtime, board whose measured power the profile carries or None)
PROFILES = {
    "cortex-m7": ("cortex-m7", "x-cube-ai", None),
    "stm32h7": ("cortex-m7", "x-cube-ai", "stm32h7a3"),
    "cortex-m4": ("cortex-m4", "x-cube-ai", "stm32l4r5"),
    "cortex-m33": ("cortex-m33", "x-cube-ai", "stm32u575"),
}
#: profile id -> the MCU's own sleep power in W (Stop-mode supply current with SRAM retained, at
#: 25 C), written as ``[power] sleep_w``; each value's source or assumption is in the profile's
#: ``[sources]`` entry "power.sleep_w".  The MCU's alone: a Nucleo board's other parts draw more.
SLEEP_W = {
    "cortex-m7": 6.6e-4,  # assumption: 200 uA x 3.3 V (no citable STM32F746 Stop-mode figure found)
    "stm32h7": 1.056e-4,  # STM32H7A3/7B3 low-power Stop, typical 32 uA x 3.3 V (see sources)
    "cortex-m4": 3.6e-6,  # STM32L4R5 Stop 2, 1.2 uA x 3.0 V (DS12023, as summarised; see sources)
    "cortex-m33": 1.65e-5,  # assumption: 5 uA x 3.3 V (no citable STM32U575 Stop 2 figure found)
}
BEGIN = "# BEGIN fitted by bench/fitting/mlperf_tiny.py --write-profiles (do not edit by hand)"
END = "# END fitted"


def _block(constants: dict[str, float], watts: float | None, sleep_w: float | None) -> str:
    lines = [BEGIN]
    if watts is not None:
        # MLPerf Tiny measures energy on the board's supply: the whole board while it infers.
        lines += ["[power]", 'covers = "board"', f"active_w = {watts:.6g}"]
    if sleep_w is not None:
        lines += ["[power]"] if watts is None else []
        lines.append(f"sleep_w = {sleep_w:.6g}")
    if watts is not None or sleep_w is not None:
        lines.append("")
    lines.append("[mcu]")
    lines += [f"{key} = {value:.6g}" for key, value in constants.items()]
    lines.append(END)
    return "\n".join(lines)


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def write_profiles(x: np.ndarray, lay, power: dict[str, float], rows: Sequence[Row]) -> None:
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
    for pid, (core, runtime, board) in PROFILES.items():
        path = PROFILE_DIR / f"{pid}.toml"
        text = path.read_text()
        if BEGIN not in text:
            raise ValueError(f"{path}: no '{BEGIN}' block to replace")
        watts = power.get(board) if board else None
        block = _block(lay.constants(x, core, runtime), watts, SLEEP_W.get(pid))
        _atomic_write(path, pattern.sub(lambda _m, b=block: b, text))
        n = sum(
            1 for r in rows if r.board == board and r.energy_mj is not None and r.runtime == runtime
        )
        power_note = f", power of {board} ({n} {runtime} rows)" if board else ""
        print(f"wrote {path.name}: {core} / {runtime}{power_note}")
