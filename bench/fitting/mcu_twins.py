"""The microcontroller networks, each built twice: as ONNX (fp32 or QDQ) and as ``.tflite``.

The one builder of these networks: the same layer list writes both files, so the static SRAM
estimate of the ONNX model can be checked against the arena TFLite Micro needs for its twin
(``bench/mcu_memory.py``), and the MCU cost model is fitted on the same ONNX graphs
(``bench/fitting/mlperf_tiny_nets.py`` names them as MLPerf Tiny does).  The networks follow
their public definitions: ``resnet8``, ``ds_cnn``, ``mobilenet_v1_025`` (96x96, 2 classes) and
``fc_autoencoder`` are MLPerf Tiny's image-classification, keyword-spotting, visual-wake-word
and anomaly-detection references (mlcommons/tiny, benchmark/training), ``mobilenet_v2_035`` is
Keras' MobileNetV2 alpha 0.35 at 128x128 with 5 classes (the flower model of ST's STM32 model
zoo).  Batch norm is folded; weights are seeded pseudo-random numbers (memory and cost depend
on the graph, not on values); the QDQ variant has int8 activations at a fixed scale.

    build(name, quantized=True) -> onnx.ModelProto
    build_tflite(name) -> bytes          # the int8 twin
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .tflite_writer import NONE, RELU, RELU6, SAME, VALID, TflWriter

NAMES = ("resnet8", "ds_cnn", "mobilenet_v1_025", "mobilenet_v2_035")
ACT_SCALE = 1.0 / 32.0
OPSET = 13


@dataclass
class _T:
    """One activation in both files: ONNX name, TFLite tensor index, NHWC shape."""

    onnx: str
    tfl: int
    shape: tuple[int, ...]


class _Twin:
    def __init__(self, name: str, quantized: bool, seed: int) -> None:
        self.name = name
        self.q = quantized
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[TensorProto] = []
        self.tfl = TflWriter()
        self.count = 0
        if quantized:
            self._init("act_s", np.array(ACT_SCALE, np.float32))
            self._init("act_zp", np.array(0, np.int8))

    # ---------------------------------------------------------------------------- plumbing

    def _id(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def _init(self, name: str, value: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def _node(self, op: str, inputs: list[str], prefix: str, **attrs: object) -> str:
        out = self._id(prefix)
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def _qdq(self, x: str) -> str:
        if not self.q:
            return x
        q = self._node("QuantizeLinear", [x, "act_s", "act_zp"], "q")
        return self._node("DequantizeLinear", [q, "act_s", "act_zp"], "dq")

    def _act_tensor(self, shape: tuple[int, ...]) -> int:
        return self.tfl.tensor(self._id("t"), [1, *shape], "INT8", quant=([ACT_SCALE], [0], 0))

    def _activation(self, y: str, act: str) -> str:
        if act == "relu":
            return self._node("Relu", [y], "relu")
        if act == "relu6":
            lo = self._init(self._id("lo"), np.array(0.0, np.float32))
            hi = self._init(self._id("hi"), np.array(6.0, np.float32))
            return self._node("Clip", [y, lo, hi], "relu6")
        return y

    def _weights(
        self, w: np.ndarray, b: np.ndarray, scale: np.ndarray | None = None
    ) -> tuple[str, str, np.ndarray]:
        """ONNX (weight, bias) inputs, int8 in the QDQ form (per channel unless ``scale`` is
        given), and the scales."""
        if scale is None:
            axes = tuple(range(1, w.ndim))
            scale = np.maximum(np.abs(w).max(axis=axes), 1e-6).astype(np.float32) / 127.0
        base = self._id("w")
        if not self.q:
            return self._init(base, w), self._init(base + "_b", b), scale
        wq = np.clip(np.round(w / scale.reshape((-1,) + (1,) * (w.ndim - 1))), -127, 127)
        self._init(base + "_q", wq.astype(np.int8))
        self._init(base + "_s", scale)
        self._init(base + "_zp", np.zeros(len(scale), np.int8))
        bs = (scale * ACT_SCALE).astype(np.float32)
        self._init(base + "_bq", np.round(b / bs).astype(np.int32))
        self._init(base + "_bs", bs)
        self._init(base + "_bzp", np.zeros(len(scale), np.int32))
        wn = self._node("DequantizeLinear", [base + "_q", base + "_s", base + "_zp"], "dqw", axis=0)
        bn = self._node(
            "DequantizeLinear", [base + "_bq", base + "_bs", base + "_bzp"], "dqb", axis=0
        )
        return wn, bn, scale

    def _tfl_weight(self, w: np.ndarray, scale: np.ndarray, axis: int) -> int:
        shape = [1] * w.ndim
        shape[axis] = len(scale)
        q = np.clip(np.round(w / scale.reshape(shape)), -127, 127).astype(np.int8)
        quant = ([float(s) for s in scale], [0] * len(scale), axis)
        return self.tfl.tensor(self._id("tw"), w.shape, "INT8", q, quant)

    def _tfl_bias(self, b: np.ndarray, scale: np.ndarray) -> int:
        bs = scale.astype(np.float64) * ACT_SCALE
        quant = ([float(s) for s in bs], [0] * len(b), 0)
        return self.tfl.tensor(
            self._id("tb"), b.shape, "INT32", np.round(b / bs).astype(np.int32), quant
        )

    # ------------------------------------------------------------------------------ layers

    def input(self, shape: tuple[int, ...]) -> _T:
        """The input: (H, W, C), NCHW in ONNX, or (features,)."""
        self.input_shape = [1, shape[2], shape[0], shape[1]] if len(shape) == 3 else [1, *shape]
        idx = self.tfl.tensor("input", [1, *shape], "INT8", quant=([ACT_SCALE], [0], 0))
        self.tfl_input = idx
        return _T(self._qdq("input"), idx, shape)

    def conv(self, x: _T, cout: int, k: tuple[int, int], stride: int = 1, act: str = "relu",
             depthwise: bool = False) -> _T:  # fmt: skip
        h, w_, cin = x.shape
        group = cin if depthwise else 1
        fan_in = (cin // group) * k[0] * k[1]
        w = self.rng.normal(0, (2.0 / fan_in) ** 0.5, (cout, cin // group, *k)).astype(np.float32)
        b = self.rng.normal(0, 0.05, cout).astype(np.float32)
        wn, bn, scale = self._weights(w, b)
        y = self._node("Conv", [x.onnx, wn, bn], "conv", kernel_shape=list(k),
                       strides=[stride, stride], group=group, auto_pad="SAME_UPPER")  # fmt: skip
        y = self._qdq(self._activation(y, act))
        out_shape = (-(-h // stride), -(-w_ // stride), cout)
        out = self._act_tensor(out_shape)
        fused = {"relu": RELU, "relu6": RELU6, "none": NONE}[act]
        bias = self._tfl_bias(b, scale)
        if depthwise:
            wt = self._tfl_weight(w.transpose(1, 2, 3, 0), scale, 3)
            self.tfl.op("DEPTHWISE_CONV_2D", [x.tfl, wt, bias], [out], padding=SAME,
                        stride_w=stride, stride_h=stride, depth_multiplier=1,
                        activation=fused)  # fmt: skip
        else:
            wt = self._tfl_weight(w.transpose(0, 2, 3, 1), scale, 0)
            self.tfl.op("CONV_2D", [x.tfl, wt, bias], [out], padding=SAME, stride_w=stride,
                        stride_h=stride, activation=fused)  # fmt: skip
        return _T(y, out, out_shape)

    def add(self, a: _T, b: _T, act: str = "none") -> _T:
        y = self._qdq(self._activation(self._node("Add", [a.onnx, b.onnx], "add"), act))
        out = self._act_tensor(a.shape)
        self.tfl.op("ADD", [a.tfl, b.tfl], [out], activation={"relu": RELU, "none": NONE}[act])
        return _T(y, out, a.shape)

    def pool_flatten(self, x: _T) -> _T:
        h, w, c = x.shape
        y = self._node("AveragePool", [x.onnx], "pool", kernel_shape=[h, w])
        y = self._qdq(self._node("Flatten", [y], "flatten", axis=1))
        pooled = self._act_tensor((1, 1, c))
        self.tfl.op("AVERAGE_POOL_2D", [x.tfl], [pooled], padding=VALID, stride_w=1,
                    stride_h=1, filter_w=w, filter_h=h, activation=NONE)  # fmt: skip
        shape = self.tfl.tensor(self._id("shape"), [2], "INT32", np.array([1, c], np.int32))
        flat = self._act_tensor((c,))
        self.tfl.op("RESHAPE", [pooled, shape], [flat])
        return _T(y, flat, (c,))

    def dense(self, x: _T, cout: int, out_name: str | None = None, act: str = "none") -> _T:
        """FULLY_CONNECTED (int8 weights, one scale: TFLM's int8 FC is per-tensor)."""
        (cin,) = x.shape
        w = self.rng.normal(0, (2.0 / cin) ** 0.5, (cout, cin)).astype(np.float32)
        b = self.rng.normal(0, 0.05, cout).astype(np.float32)
        per_tensor = np.full(cout, np.abs(w).max() / 127.0, np.float32)
        wn, bn, _ = self._weights(w, b, per_tensor)
        y = self._qdq(self._activation(self._node("Gemm", [x.onnx, wn, bn], "fc", transB=1), act))
        name = out_name or self._id("t")
        out = self.tfl.tensor(name, [1, cout], "INT8", quant=([ACT_SCALE], [0], 0))
        wt = self._tfl_weight(w, per_tensor[:1], 0)
        bias = self._tfl_bias(b, per_tensor)
        self.tfl.op("FULLY_CONNECTED", [x.tfl, wt, bias], [out],
                    activation={"relu": RELU, "none": NONE}[act])  # fmt: skip
        return _T(y, out, (cout,))

    def dense_softmax(self, x: _T, cout: int) -> tuple[onnx.ModelProto, bytes]:
        """FULLY_CONNECTED ``cout``, SOFTMAX, and the finished files."""
        logits = self.dense(x, cout)
        y = self._node("Softmax", [logits.onnx], "softmax", axis=1)
        probs = self.tfl.tensor("output", [1, cout], "INT8", quant=([1.0 / 256.0], [-128], 0))
        self.tfl.op("SOFTMAX", [logits.tfl], [probs], beta=1.0)
        return self.finish(_T(y, probs, (cout,)))

    def finish(self, out: _T) -> tuple[onnx.ModelProto, bytes]:
        """The ONNX model and the ``.tflite`` bytes with ``out`` as their output."""
        graph = helper.make_graph(
            self.nodes, self.name,
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, self.input_shape)],
            [helper.make_tensor_value_info(out.onnx, TensorProto.FLOAT, [1, *out.shape])],
            self.inits,
        )  # fmt: skip
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="edgegate-mcu-twins")  # fmt: skip
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model, self.tfl.build([self.tfl_input], [out.tfl], "edgegate mcu twin")


def resnet8(net: _Twin) -> tuple:
    """IC ResNet-8 (EEMBC ResNetv1, three stacks of 16/32/64 filters, 32x32x3, 10 classes)."""
    x = net.conv(net.input((32, 32, 3)), 16, (3, 3))
    for filters, stride in ((16, 1), (32, 2), (64, 2)):
        y = net.conv(x, filters, (3, 3), stride)
        y = net.conv(y, filters, (3, 3), act="none")
        if stride != 1:
            x = net.conv(x, filters, (1, 1), stride, act="none")
        x = net.add(x, y, act="relu")
    return net.dense_softmax(net.pool_flatten(x), 10)


def ds_cnn(net: _Twin) -> tuple:
    """KWS DS-CNN (49x10 MFCC): conv 10x4 /2, four depthwise-separable blocks, pool, FC 12."""
    x = net.conv(net.input((49, 10, 1)), 64, (10, 4), 2)
    for _ in range(4):
        x = net.conv(x, 64, (3, 3), depthwise=True)
        x = net.conv(x, 64, (1, 1))
    return net.dense_softmax(net.pool_flatten(x), 12)


#: MobileNetV1's depthwise-separable blocks: (output channels at alpha 1, stride).
_MOBILENET_BLOCKS = (
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
)  # fmt: skip


def mobilenet_v1(net: _Twin, alpha: float = 0.25, size: int = 96, classes: int = 2) -> tuple:
    """MobileNetV1 (VWW: alpha 0.25, 96x96x3, 2 classes)."""
    x = net.conv(net.input((size, size, 3)), int(32 * alpha), (3, 3), 2)
    for channels, stride in _MOBILENET_BLOCKS:
        x = net.conv(x, x.shape[2], (3, 3), stride, depthwise=True)
        x = net.conv(x, int(channels * alpha), (1, 1))
    return net.dense_softmax(net.pool_flatten(x), classes)


def _divisible(v: float, divisor: int = 8) -> int:
    """Keras' ``_make_divisible``."""
    new = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * v else new


def mobilenet_v2_035(net: _Twin) -> tuple:
    """Keras' MobileNetV2 alpha 0.35, 128x128x3, 5 classes."""
    alpha = 0.35
    x = net.conv(net.input((128, 128, 3)), _divisible(32 * alpha), (3, 3), 2, act="relu6")
    blocks = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
              (6, 160, 3, 2), (6, 320, 1, 1))  # fmt: skip
    for t, c, n, s in blocks:
        cout = _divisible(c * alpha)
        for i in range(n):
            stride = s if i == 0 else 1
            y = x
            if t != 1:
                y = net.conv(y, x.shape[2] * t, (1, 1), act="relu6")
            y = net.conv(y, y.shape[2], (3, 3), stride, act="relu6", depthwise=True)
            y = net.conv(y, cout, (1, 1), act="none")
            x = net.add(x, y) if stride == 1 and x.shape[2] == cout else y
    x = net.conv(x, 1280, (1, 1), act="relu6")
    return net.dense_softmax(net.pool_flatten(x), 5)


def fc_autoencoder(net: _Twin, inputs: int = 640) -> tuple:
    """AD deep autoencoder: 4 x FC 128, bottleneck FC 8, 4 x FC 128, FC 640 (no activation)."""
    x = net.input((inputs,))
    for width in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        x = net.dense(x, width, act="relu")
    return net.finish(net.dense(x, inputs, out_name="output"))


#: name -> (builder, seed of its weights).
_BUILDERS: dict[str, tuple[Callable[[_Twin], tuple], int]] = {
    "resnet8": (resnet8, 8),
    "ds_cnn": (ds_cnn, 1),
    "mobilenet_v1_025": (mobilenet_v1, 2),
    "mobilenet_v2_035": (mobilenet_v2_035, 3),
    "fc_autoencoder": (fc_autoencoder, 4),
}


def make(name: str, quantized: bool, builder: Callable[[_Twin], tuple] | None = None
         ) -> tuple[onnx.ModelProto, bytes]:  # fmt: skip
    """Both files of network ``name`` (``builder``, e.g. a ``partial`` of one above, overrides
    its layers, keeping its seed)."""
    if name not in _BUILDERS:
        raise ValueError(f"unknown network {name!r}; expected one of {', '.join(_BUILDERS)}")
    default, seed = _BUILDERS[name]
    return (builder or default)(_Twin(name, quantized, seed))


def build(name: str, quantized: bool = True) -> onnx.ModelProto:
    """The ONNX network: int8 QDQ when ``quantized``, else fp32."""
    return make(name, quantized)[0]


def build_tflite(name: str) -> bytes:
    """The fully int8 ``.tflite`` twin (int8 input and output, as MLPerf Tiny runs it)."""
    return make(name, True)[1]
