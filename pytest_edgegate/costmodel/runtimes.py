"""The inference runtimes a profile may name (its top-level ``runtime`` key).

The same board runs a network several times faster with one runtime than with another, so a
profile's constants hold for one runtime; what the cost model itself needs to know about it
is which arithmetic the float kernels use and whether 3x3 convolutions go through Winograd.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Runtime:
    id: str
    description: str
    fp16_arithmetic: bool = False  # float nodes run at the fp16 peak where the core has one
    winograd: bool = False  # 3x3 stride-1 convolutions are a kernel kind of their own


RUNTIMES: dict[str, Runtime] = {
    r.id: r
    for r in (
        Runtime(
            "onnxruntime",
            "ONNX Runtime, CPU execution provider (MLAS kernels, fp32): what edgegate executes",
        ),
        Runtime(
            "ncnn",
            "Tencent ncnn with its default options: fp16 storage and arithmetic on ARMv8.2+ "
            "cores, Winograd for 3x3 stride-1 convolutions, int8 kernels for int8 graphs",
            fp16_arithmetic=True,
            winograd=True,
        ),
        Runtime(
            "litert",
            "LiteRT (TensorFlow Lite) interpreter with its built-in kernels, fp32",
        ),
        Runtime(
            "litert-xnnpack",
            "LiteRT (TensorFlow Lite) with the XNNPACK delegate, fp32",
        ),
        # Microcontroller runtimes: their constants live in the profile's [mcu] table
        # (pytest_edgegate/costmodel/mcu.py); nothing here changes the CPU model.
        Runtime("x-cube-ai", "STMicroelectronics X-CUBE-AI (STM32Cube.AI), int8 kernels"),
        Runtime("tflite-micro", "TensorFlow Lite Micro with CMSIS-NN int8 kernels"),
    )
}
DEFAULT_RUNTIME = "onnxruntime"


def runtime_of(raw: dict) -> Runtime:
    """The runtime a validated profile names (the default when it names none)."""
    return RUNTIMES[raw.get("runtime") or DEFAULT_RUNTIME]
