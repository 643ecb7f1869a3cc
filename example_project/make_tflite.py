"""Build the example's microcontroller model as a ``.tflite`` file, deterministically.

Run from this folder: ``python make_tflite.py``.  It writes ``models/kws_dscnn_int8.tflite``:
the DS-CNN keyword spotter of MLPerf Tiny (the network of ``make_models.py``'s
``kws_dscnn_*.onnx``: 49x10 MFCC frames in, a 10x4 stride-2 convolution to 64 channels, four
depthwise-separable blocks, average pooling, 12 classes) as TensorFlow Lite Micro runs it on
a microcontroller: int8 activations, int8 weights per output channel, int32 biases, ReLU
folded into the output ranges.  Weights are seeded random (He-initialised), like the ONNX
versions: the example gates the deployment, not the accuracy.

It is written with the flatbuffers object API that ``ai-edge-litert`` ships
(``ai_edge_litert.schema_py_generated``, TensorFlow Lite's schema), so it needs
``pip install "pytest-edgegate[tflite]"`` and no TensorFlow.  Running it twice gives the same
bytes (``md5sum models/kws_dscnn_int8.tflite``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
MODELS = HERE / "models"
MFCC = (1, 49, 10, 1)  # NHWC: one second of audio, 49 frames of 10 MFCCs
CHANNELS = 64
CLASSES = 12
BLOCKS = 4
INPUT_SCALE = 4.0 / 128  # standard-normal MFCCs: +-4 sigma in int8
ACT_SCALE, ACT_ZERO = 0.05, -128  # after ReLU: [0, 12.75]


class Builder:
    """Tensors, buffers and operators of one subgraph, in TFLite's object API."""

    def __init__(self) -> None:
        import ai_edge_litert.schema_py_generated as fb

        self.fb = fb
        self.rng = np.random.default_rng(20211)
        self.tensors: list = []
        self.buffers = [fb.BufferT()]
        self.ops: list = []
        self.codes: list[int] = []

    def tensor(self, name: str, shape, dtype: int, scale, zero, data=None, axis: int = 0) -> int:
        fb = self.fb
        t = fb.TensorT()
        t.name, t.shape, t.type = name, list(shape), dtype
        q = fb.QuantizationParametersT()
        q.scale = [float(s) for s in np.atleast_1d(scale)]
        q.zeroPoint = [int(z) for z in np.atleast_1d(zero)]
        q.quantizedDimension = axis
        t.quantization = q
        t.buffer = 0
        if data is not None:
            buf = fb.BufferT()
            buf.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), dtype=np.uint8)
            self.buffers.append(buf)
            t.buffer = len(self.buffers) - 1
        self.tensors.append(t)
        return len(self.tensors) - 1

    def activation(self, name: str, shape, scale=ACT_SCALE, zero=ACT_ZERO) -> int:
        return self.tensor(name, shape, self.fb.TensorType.INT8, scale, zero)

    def weights(self, name: str, shape, axis: int, fan_in: int, in_scale: float):
        """He-initialised float weights, quantized per channel along ``axis``; their bias."""
        w = self.rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
        moved = np.moveaxis(w, axis, 0).reshape(shape[axis], -1)
        scales = np.maximum(np.abs(moved).max(axis=1), 1e-8) / 127.0
        bshape = [1] * len(shape)
        bshape[axis] = shape[axis]
        q = np.clip(np.round(w / scales.reshape(bshape)), -127, 127).astype(np.int8)
        wi = self.tensor(name + "/w", shape, self.fb.TensorType.INT8, scales, [0] * len(scales),
                         q, axis)  # fmt: skip
        bias_scales = scales * in_scale
        b = np.round(self.rng.standard_normal(shape[axis]) * 0.01 / bias_scales).astype(np.int32)
        bi = self.tensor(name + "/b", [shape[axis]], self.fb.TensorType.INT32, bias_scales,
                         [0] * len(scales), b)  # fmt: skip
        return wi, bi

    def op(self, code: int, inputs, outputs, options_type: int = 0, options=None) -> None:
        if code not in self.codes:
            self.codes.append(code)
        op = self.fb.OperatorT()
        op.opcodeIndex = self.codes.index(code)
        op.inputs, op.outputs = list(inputs), list(outputs)
        op.builtinOptionsType, op.builtinOptions = options_type, options
        self.ops.append(op)

    def conv(self, x: int, name: str, shape_in, out_hw, kernel, stride, cout, depthwise: bool):
        fb = self.fb
        cin = shape_in[-1]
        if depthwise:
            wi, bi = self.weights(name, (1, *kernel, cin), 3, kernel[0] * kernel[1], ACT_SCALE)
            o = fb.DepthwiseConv2DOptionsT()
            o.depthMultiplier = 1
            code, kind = (
                fb.BuiltinOperator.DEPTHWISE_CONV_2D,
                fb.BuiltinOptions.DepthwiseConv2DOptions,
            )
        else:
            in_scale = INPUT_SCALE if x == 0 else ACT_SCALE
            wi, bi = self.weights(name, (cout, *kernel, cin), 0, kernel[0] * kernel[1] * cin,
                                  in_scale)  # fmt: skip
            o = fb.Conv2DOptionsT()
            code, kind = fb.BuiltinOperator.CONV_2D, fb.BuiltinOptions.Conv2DOptions
        o.padding = fb.Padding.SAME
        o.strideH, o.strideW = stride
        o.fusedActivationFunction = fb.ActivationFunctionType.RELU
        y = self.activation(name, (1, *out_hw, cout if not depthwise else cin))
        self.op(code, [x, wi, bi], [y], kind, o)
        return y

    def build(self, inputs, outputs) -> bytes:
        import flatbuffers

        fb = self.fb
        sg = fb.SubGraphT()
        sg.tensors, sg.inputs, sg.outputs, sg.operators = self.tensors, inputs, outputs, self.ops
        sg.name = "main"
        model = fb.ModelT()
        model.version = 3
        model.description = "example_project/make_tflite.py: DS-CNN keyword spotter, int8"
        model.subgraphs, model.buffers = [sg], self.buffers
        model.operatorCodes = []
        for code in self.codes:
            oc = fb.OperatorCodeT()
            oc.builtinCode, oc.deprecatedBuiltinCode, oc.version = code, min(code, 127), 1
            model.operatorCodes.append(oc)
        builder = flatbuffers.Builder(1024)
        builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
        return bytes(builder.Output())


def kws_dscnn_int8() -> bytes:
    b = Builder()
    fb = b.fb
    x = b.tensor("mfcc", MFCC, fb.TensorType.INT8, INPUT_SCALE, 0)
    hw = (25, 5)  # 49x10 at stride 2, SAME padding
    y = b.conv(x, "conv1", MFCC, hw, (10, 4), (2, 2), CHANNELS, depthwise=False)
    for i in range(BLOCKS):
        y = b.conv(y, f"block{i}/dw", (1, *hw, CHANNELS), hw, (3, 3), (1, 1), CHANNELS, True)
        y = b.conv(y, f"block{i}/pw", (1, *hw, CHANNELS), hw, (1, 1), (1, 1), CHANNELS, False)
    pool = b.activation("pool", (1, 1, 1, CHANNELS))
    o = fb.Pool2DOptionsT()
    o.padding, o.strideH, o.strideW, o.filterHeight, o.filterWidth = fb.Padding.VALID, 1, 1, *hw
    b.op(fb.BuiltinOperator.AVERAGE_POOL_2D, [y], [pool], fb.BuiltinOptions.Pool2DOptions, o)
    shape = b.tensor("flatten/shape", [2], fb.TensorType.INT32, 1.0, 0,
                     np.array([1, CHANNELS], np.int32))  # fmt: skip
    flat = b.activation("flatten", (1, CHANNELS))
    r = fb.ReshapeOptionsT()
    r.newShape = [1, CHANNELS]
    b.op(fb.BuiltinOperator.RESHAPE, [pool, shape], [flat], fb.BuiltinOptions.ReshapeOptions, r)
    w = b.rng.standard_normal((CLASSES, CHANNELS)) * np.sqrt(1.0 / CHANNELS)
    ws = float(np.abs(w).max() / 127.0)
    wi = b.tensor("fc/w", (CLASSES, CHANNELS), fb.TensorType.INT8, ws, 0,
                  np.clip(np.round(w / ws), -127, 127).astype(np.int8))  # fmt: skip
    bi = b.tensor("fc/b", (CLASSES,), fb.TensorType.INT32, ws * ACT_SCALE, 0,
                  np.zeros(CLASSES, np.int32))  # fmt: skip
    logits = b.activation("logits", (1, CLASSES), 0.1, 0)
    fo = fb.FullyConnectedOptionsT()
    b.op(fb.BuiltinOperator.FULLY_CONNECTED, [flat, wi, bi], [logits],
         fb.BuiltinOptions.FullyConnectedOptions, fo)  # fmt: skip
    probs = b.activation("probs", (1, CLASSES), 1.0 / 256, -128)
    so = fb.SoftmaxOptionsT()
    so.beta = 1.0
    b.op(fb.BuiltinOperator.SOFTMAX, [logits], [probs], fb.BuiltinOptions.SoftmaxOptions, so)
    return b.build([x], [probs])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=MODELS, help="folder to write into")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "kws_dscnn_int8.tflite"
    path.write_bytes(kws_dscnn_int8())
    print(f"wrote {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
