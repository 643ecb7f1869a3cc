"""Flash taken by the runtime's code on a microcontroller, from the operators a model uses.

``code_size(analysis)`` = TFLite Micro's framework (interpreter, allocator, planner: 9,732 B
on an Arm Cortex-M3 "bluepill", tensorflow/tflite-micro
tensorflow/lite/micro/examples/memory_footprint/README.md, "Sample code size of the TFLM
Framework") + the CMSIS-NN int8 kernels of each operator type the model runs.  The kernel
sizes are ``.text`` bytes measured by ``bench/fitting/cmsis_nn_code_size.py``
(arm-none-eabi-gcc 12.2.1 -Os -mcpu=cortex-m7, CMSIS-NN @99f736a): each operator alone, so
helpers two kernels share count twice (an upper bound for the library).  Not included: the
TFLite Micro glue of each kernel (its Prepare/Eval), kernels without a CMSIS-NN version
and float kernels (listed in ``unmeasured``), the model's flatbuffer structure, the application.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_edgegate.analysis.scratch import runs_int8

if TYPE_CHECKING:
    from pytest_edgegate.analysis import ModelAnalysis

FRAMEWORK_BYTES = 9_732
#: CMSIS-NN int8 kernel .text bytes (bench/fitting/cmsis_nn_code_size.py).
KERNEL_BYTES = {
    "conv": 7_036,
    "depthwise_conv": 5_220,
    "fully_connected": 1_458,
    "add": 1_238,
    "mul": 614,
    "average_pool": 508,
    "max_pool": 1_044,
    "softmax": 3_248,
    "transpose_conv": 6_624,
}
_KERNEL_OF = {
    "Conv": "conv", "QLinearConv": "conv", "ConvInteger": "conv",
    "ConvTranspose": "transpose_conv",
    "Gemm": "fully_connected", "MatMul": "fully_connected", "QGemm": "fully_connected",
    "QLinearMatMul": "fully_connected", "MatMulInteger": "fully_connected",
    "Add": "add", "Sub": "add", "QLinearAdd": "add", "Mul": "mul", "QLinearMul": "mul",
    "AveragePool": "average_pool", "GlobalAveragePool": "average_pool",
    "QLinearAveragePool": "average_pool", "QLinearGlobalAveragePool": "average_pool",
    "MaxPool": "max_pool", "GlobalMaxPool": "max_pool",
    "Softmax": "softmax", "QLinearSoftmax": "softmax",
}  # fmt: skip
#: Nodes that leave no kernel of their own once a converter fuses the graph.
_NO_KERNEL = frozenset(
    ("QuantizeLinear", "DequantizeLinear", "Relu", "Clip", "Identity", "Constant", "Flatten")
)


@dataclass(frozen=True)
class CodeSize:
    framework_bytes: int
    kernel_bytes: dict[str, int]
    unmeasured: tuple[str, ...]

    @property
    def total_bytes(self) -> int:
        return self.framework_bytes + sum(self.kernel_bytes.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "total_bytes": self.total_bytes,
            "framework_bytes": self.framework_bytes,
            "kernel_bytes": dict(self.kernel_bytes),
            "unmeasured_ops": list(self.unmeasured),
        }


def code_size(analysis: ModelAnalysis) -> CodeSize:
    """Framework plus one CMSIS-NN kernel per operator type the model runs."""
    kernels: dict[str, int] = {}
    unmeasured: set[str] = set()
    for node in analysis.nodes:
        if node.folded or node.executions == 0 or node.op_type in _NO_KERNEL:
            continue
        if node.op_type == "Conv" and int(node.attrs.get("group", 1)) > 1:
            kind: str | None = "depthwise_conv"
        else:
            kind = _KERNEL_OF.get(node.op_type) if node.domain == "" else None
        if kind is None and node.op_type.startswith("QLinear"):
            kind = _KERNEL_OF.get(node.op_type)
        if kind is not None and not runs_int8(node, analysis.activation_bytes):
            kind = None  # a float kernel (TFLite Micro's reference float kernels)
        if kind is None:
            unmeasured.add(node.op_type)
        else:
            kernels[kind] = KERNEL_BYTES[kind]
    return CodeSize(FRAMEWORK_BYTES, dict(sorted(kernels.items())), tuple(sorted(unmeasured)))
