"""Measure the flash code of CMSIS-NN's int8 kernels on a Cortex-M7, one operator at a time.

Compiles CMSIS-NN (a checkout given on the command line) with ``arm-none-eabi-gcc -Os
-mcpu=cortex-m7 -mthumb -ffunction-sections``, then links, for each operator, a probe that
references the entry points TFLite Micro's CMSIS-NN kernel calls (``--gc-sections`` keeps
only what they reach) and prints the probe's ``.text`` minus an empty probe's.  These are
the figures of pytest_edgegate/code_size.py.  Needs ``gcc-arm-none-eabi`` and
``libnewlib-arm-none-eabi`` (Debian packages).  Run:

    python -m bench.fitting.cmsis_nn_code_size /path/to/CMSIS-NN
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

#: Operator -> CMSIS-NN entry points of TFLite Micro's kernels/cmsis_nn/<op>.cc (int8).
ENTRY_POINTS = {
    "conv": ["arm_convolve_wrapper_s8", "arm_convolve_wrapper_s8_get_buffer_size"],
    "depthwise_conv": [
        "arm_depthwise_conv_wrapper_s8",
        "arm_depthwise_conv_wrapper_s8_get_buffer_size",
    ],
    "fully_connected": ["arm_fully_connected_s8", "arm_fully_connected_s8_get_buffer_size"],
    "add": ["arm_elementwise_add_s8"],
    "mul": ["arm_elementwise_mul_s8"],
    "average_pool": ["arm_avgpool_s8", "arm_avgpool_s8_get_buffer_size"],
    "max_pool": ["arm_max_pool_s8"],
    "softmax": ["arm_softmax_s8"],
    "transpose_conv": ["arm_transpose_conv_wrapper_s8"],
}
_FLAGS = ["-Os", "-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"]


def _run(cmd: list[str]) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])}...: {proc.stderr[-2000:]}")
    return proc.stdout


def build_library(cmsis_nn: Path, work: Path) -> Path:
    objs = []
    for src in sorted((cmsis_nn / "Source").rglob("*.c")):
        if src.stem.endswith(("_f16", "_f32")):
            continue  # float kernels: not used by int8 models (and f16 needs Armv8.1-M)
        obj = work / (src.stem + ".o")
        _run(["arm-none-eabi-gcc", *_FLAGS, "-ffunction-sections", "-fdata-sections",
              f"-I{cmsis_nn / 'Include'}", "-c", str(src), "-o", str(obj)])  # fmt: skip
        objs.append(str(obj))
    lib = work / "libcmsisnn.a"
    _run(["arm-none-eabi-ar", "rcs", str(lib), *objs])
    return lib


def text_bytes(lib: Path, work: Path, symbols: list[str]) -> int:
    decls = "".join(f"extern int {s}();\n" for s in symbols)
    refs = ", ".join(f"(void *){s}" for s in symbols) or "0"
    src = work / "probe.c"
    src.write_text(
        f"{decls}void *const volatile keep[] = {{{refs}}};\n"
        "void _start(void) { (void)keep[0]; for (;;) {} }\n"
    )
    elf = work / "probe.elf"
    _run(["arm-none-eabi-gcc", *_FLAGS, "--specs=nano.specs", "-nostartfiles",
          "-Wl,--gc-sections", str(src), str(lib), "-lc", "-o", str(elf)])  # fmt: skip
    out = _run(["arm-none-eabi-size", "-A", str(elf)])
    return sum(int(line.split()[1]) for line in out.splitlines() if line.startswith(".text"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cmsis_nn", type=Path, help="a CMSIS-NN checkout (Include/, Source/)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        lib = build_library(args.cmsis_nn, work)
        base = text_bytes(lib, work, [])
        print(f"{'operator':16} {'.text bytes':>11}")
        for op, symbols in ENTRY_POINTS.items():
            print(f"{op:16} {text_bytes(lib, work, symbols) - base:11}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
