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
BEGIN = "# BEGIN fitted by bench/fitting/mlperf_tiny.py --write-profiles (do not edit by hand)"
END = "# END fitted"


def _block(constants: dict[str, float], watts: float | None) -> str:
    lines = [BEGIN]
    if watts is not None:
        # MLPerf Tiny measures energy on the board's supply: the whole board while it infers.
        lines += ["[power]", 'covers = "board"', f"active_w = {watts:.6g}", ""]
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
        block = _block(lay.constants(x, core, runtime), power.get(board) if board else None)
        _atomic_write(path, pattern.sub(lambda _m, b=block: b, text))
        n = sum(1 for r in rows if r.board == board and r.energy_mj is not None)
        power_note = f", power of {board} ({n} rows)" if board else ""
        print(f"wrote {path.name}: {core} / {runtime}{power_note}")
