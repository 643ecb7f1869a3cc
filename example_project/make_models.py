"""Build the example's models deterministically: a small MobileNet-style classifier in fp32
and its int8 version from onnxruntime's static quantization.

Run from this folder: ``python make_models.py``.  The output is committed; running the script
again gives byte-identical files (fixed seeds, fixed calibration data).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).parent
MODELS = HERE / "models"
INPUT = "image"
SHAPE = (1, 3, 96, 96)


def _conv(nodes, inits, rng, name, x, cin, cout, k, stride, group=1, relu=True):
    w = rng.standard_normal((cout, cin // group, k, k)) * np.sqrt(2.0 / (cin // group * k * k))
    inits.append(numpy_helper.from_array(w.astype(np.float32), f"{name}.w"))
    inits.append(numpy_helper.from_array(np.zeros(cout, np.float32), f"{name}.b"))
    out = f"{name}.out"
    nodes.append(
        helper.make_node(
            "Conv",
            [x, f"{name}.w", f"{name}.b"],
            [out],
            name=name,
            kernel_shape=[k, k],
            strides=[stride, stride],
            pads=[k // 2] * 4,
            group=group,
        )
    )
    if relu:
        nodes.append(helper.make_node("Relu", [out], [f"{name}.relu"], name=f"{name}.relu"))
        return f"{name}.relu"
    return out


def mobilenet_tiny(seed: int = 0, width: int = 16, classes: int = 10) -> onnx.ModelProto:
    """A MobileNet-v1-style stack of depthwise-separable blocks at 96x96."""
    rng = np.random.default_rng(seed)
    nodes: list = []
    inits: list = []
    x = _conv(nodes, inits, rng, "stem", INPUT, 3, width, 3, 2)
    cin = width
    for i, (cout, stride) in enumerate([(32, 1), (64, 2), (64, 1), (128, 2), (128, 1), (256, 2)]):
        x = _conv(nodes, inits, rng, f"block{i}.dw", x, cin, cin, 3, stride, group=cin)
        x = _conv(nodes, inits, rng, f"block{i}.pw", x, cin, cout, 1, 1)
        cin = cout
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["pooled"], name="pool"))
    nodes.append(helper.make_node("Flatten", ["pooled"], ["flat"], name="flatten"))
    fc = (rng.standard_normal((cin, classes)) / np.sqrt(cin)).astype(np.float32)
    inits.append(numpy_helper.from_array(fc, "fc.w"))
    inits.append(numpy_helper.from_array(np.zeros(classes, np.float32), "fc.b"))
    nodes.append(helper.make_node("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], name="fc"))
    graph = helper.make_graph(
        nodes,
        "mobilenet_tiny",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, list(SHAPE))],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, classes])],
        initializer=inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="edgegate-example"
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def quantize_int8(fp32_path: Path, int8_path: Path) -> None:
    """Static int8 quantization (QDQ) calibrated on fixed pseudo-images."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            rng = np.random.default_rng(1)
            self.batches = iter([{INPUT: rng.random(SHAPE, dtype=np.float32)} for _ in range(8)])

        def get_next(self):
            return next(self.batches, None)

    quantize_static(
        str(fp32_path),
        str(int8_path),
        Reader(),
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QInt8,
        weight_type=QuantType.QInt8,
    )


def main() -> None:
    MODELS.mkdir(exist_ok=True)
    fp32 = MODELS / "mobilenet_tiny_fp32.onnx"
    onnx.save(mobilenet_tiny(), str(fp32))
    quantize_int8(fp32, MODELS / "mobilenet_tiny_int8.onnx")
    for path in sorted(MODELS.glob("*.onnx")):
        print(f"{path.relative_to(HERE)}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
