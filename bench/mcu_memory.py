"""Static SRAM estimate of int8 ONNX networks against the TFLite Micro arena of their twins.

For each network of bench/fitting/mcu_twins.py: the ONNX QDQ model is analysed and its arena
planned with the rules of the host build of the tflite-micro wheel (reference kernels, 64-bit
pointers); the ``.tflite`` twin is run by the wheel in ever smaller arenas (subprocesses) to
find the smallest that allocates and runs.  Prints both, their difference (target: within
10 %), and the estimate for a Cortex-M7 (CMSIS-NN scratch, 32-bit pointers) the gate uses.
Needs the ``[tflite]`` extra.  Run:

    python bench/mcu_memory.py [--networks resnet8,ds_cnn,...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tabulate import tabulate  # noqa: E402

from bench.fitting import mcu_twins, tflm_arena  # noqa: E402
from pytest_edgegate.analysis import analyze  # noqa: E402
from pytest_edgegate.analysis.arena import TFLM_CMSIS_NN, TFLM_HOST, plan_arena  # noqa: E402

TOLERANCE = 0.10


def compare(name: str) -> dict[str, object]:
    """Figures of one network: static estimates and the measured TFLite Micro arena."""
    fp32 = analyze(mcu_twins.build(name, quantized=False))
    int8 = analyze(mcu_twins.build(name, quantized=True))
    host = plan_arena(int8, TFLM_HOST)
    device = plan_arena(int8, TFLM_CMSIS_NN)
    twin = mcu_twins.build_tflite(name)
    measured = tflm_arena.smallest_arena(twin)
    account = tflm_arena.allocations(twin)
    return {
        "network": name,
        "fp32_peak": fp32.peak_activation_bytes,
        "int8_peak": int8.peak_activation_bytes,
        "planned": host.planned_bytes,
        "tflm_head": account.get("head"),
        "persistent": host.persistent_bytes,
        "tflm_tail": account.get("tail"),
        "estimate": host.arena_bytes,
        "measured": measured,
        "diff": host.arena_bytes / measured - 1.0,
        "device": device.arena_bytes,
        "device_scratch": device.scratch_bytes,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", default=",".join(mcu_twins.NAMES))
    args = parser.parse_args(argv)
    if not tflm_arena.available():
        print("the tflite-micro wheel is not installed: pip install 'pytest-edgegate[tflite]'")
        return 2
    rows = [compare(n) for n in args.networks.split(",") if n]
    table = [
        [
            r["network"], r["fp32_peak"], r["int8_peak"], r["planned"], r["tflm_head"],
            r["persistent"], r["tflm_tail"], r["estimate"], r["measured"],
            f"{100 * r['diff']:+.2f} %", r["device"], r["device_scratch"],
        ]
        for r in rows
    ]  # fmt: skip
    headers = [
        "network", "peak fp32", "peak int8", "planned", "TFLM head", "persistent est.",
        "TFLM tail", "static SRAM", "TFLM arena", "diff", "Cortex-M7 est.", "CMSIS-NN scratch",
    ]  # fmt: skip
    print("bytes; static = ONNX QDQ model, TFLM = its .tflite twin run by the tflite-micro wheel")
    print(tabulate(table, headers=headers, disable_numparse=True))
    bad = [r["network"] for r in rows if abs(float(r["diff"])) > TOLERANCE]  # type: ignore[arg-type]
    print(
        f"within {TOLERANCE:.0%}: {len(rows) - len(bad)}/{len(rows)}"
        + (f" (not: {bad})" if bad else "")
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
