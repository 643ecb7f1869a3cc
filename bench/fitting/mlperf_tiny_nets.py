"""The four MLPerf Tiny reference networks as ONNX graphs, fp32 or int8 QDQ.

Rebuilt with ``onnx.helper`` from the layer definitions of mlcommons/tiny's reference training
code (``benchmark/training/*``): ``kws`` DS-CNN (49x10x1 MFCC), ``vww`` MobileNetV1 alpha 0.25
(96x96x3), ``ic`` ResNet-8 (32x32x3 CIFAR-10), ``ad`` FC autoencoder (640 inputs).  Batch
normalisation is folded into the convolutions (as in the int8 TFLite models the benchmark
runs); weights are deterministic pseudo-random numbers: cost models and memory checks need the
graph, not the trained values.  The int8 variant is QDQ with per-channel symmetric int8
weights, int32 biases and int8 activations at a fixed scale (no calibration data needed).

    build(name, quantized) -> onnx.ModelProto
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

NAMES = ("kws", "vww", "ic", "ad")
OPSET = 13
#: Activation scale of the int8 variant: values in about [-4, 4) (no real data to calibrate on).
ACT_SCALE = 1.0 / 32.0


class _Net:
    """Accumulates nodes and initializers; every layer returns its output tensor name."""

    def __init__(self, name: str, quantized: bool, seed: int) -> None:
        self.name = name
        self.quantized = quantized
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[TensorProto] = []
        self.count = 0
        if quantized:
            self._const("act_scale", np.array(ACT_SCALE, np.float32))
            self._const("act_zp", np.array(0, np.int8))

    def _id(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def _const(self, name: str, value: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def _node(self, op: str, inputs: list[str], prefix: str, **attrs: object) -> str:
        out = self._id(prefix)
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def act(self, x: str) -> str:
        """Quantize/dequantize an activation (int8 variant only)."""
        if not self.quantized:
            return x
        q = self._node("QuantizeLinear", [x, "act_scale", "act_zp"], "q")
        return self._node("DequantizeLinear", [q, "act_scale", "act_zp"], "dq")

    def _weights(self, shape: tuple[int, ...], fan_in: int) -> tuple[str, str]:
        """(weight, bias) inputs of a layer whose output channels are ``shape[0]``."""
        w = self.rng.normal(0.0, (2.0 / fan_in) ** 0.5, size=shape).astype(np.float32)
        b = self.rng.normal(0.0, 0.05, size=(shape[0],)).astype(np.float32)
        base = self._id("w")
        if not self.quantized:
            return self._const(base, w), self._const(base + "_b", b)
        axes = tuple(range(1, w.ndim))
        scale = (np.abs(w).max(axis=axes) / 127.0).astype(np.float32)
        scale[scale == 0] = 1.0
        wq = np.clip(np.round(w / scale.reshape((-1,) + (1,) * (w.ndim - 1))), -127, 127)
        self._const(base + "_q", wq.astype(np.int8))
        self._const(base + "_s", scale)
        self._const(base + "_zp", np.zeros(shape[0], np.int8))
        bias_scale = (scale * ACT_SCALE).astype(np.float32)
        self._const(base + "_bq", np.round(b / bias_scale).astype(np.int32))
        self._const(base + "_bs", bias_scale)
        self._const(base + "_bzp", np.zeros(shape[0], np.int32))
        wn = self._node("DequantizeLinear", [base + "_q", base + "_s", base + "_zp"], "dqw", axis=0)
        bn = self._node(
            "DequantizeLinear", [base + "_bq", base + "_bs", base + "_bzp"], "dqb", axis=0
        )
        return wn, bn

    def conv(
        self,
        x: str,
        cin: int,
        cout: int,
        kernel: tuple[int, int],
        stride: int = 1,
        group: int = 1,
        relu: bool = True,
    ) -> str:
        """A 'same'-padded convolution (Keras padding='same', as the reference code uses)."""
        w, b = self._weights((cout, cin // group, *kernel), cin // group * kernel[0] * kernel[1])
        y = self._node(
            "Conv",
            [x, w, b],
            "conv",
            kernel_shape=list(kernel),
            strides=[stride, stride],
            group=group,
            auto_pad="SAME_UPPER",
        )
        if relu:
            y = self._node("Relu", [y], "relu")
        return self.act(y)

    def dense(self, x: str, cin: int, cout: int, relu: bool = True) -> str:
        w, b = self._weights((cout, cin), cin)
        y = self._node("Gemm", [x, w, b], "fc", transB=1)
        if relu:
            y = self._node("Relu", [y], "relu")
        return self.act(y)

    def add_relu(self, a: str, b: str) -> str:
        return self.act(self._node("Relu", [self._node("Add", [a, b], "add")], "relu"))

    def avgpool_flatten(self, x: str, kernel: tuple[int, int]) -> str:
        y = self._node("AveragePool", [x], "pool", kernel_shape=list(kernel))
        return self.act(self._node("Flatten", [y], "flatten", axis=1))

    def softmax(self, x: str) -> str:
        return self._node("Softmax", [x], "softmax", axis=1)

    def model(self, shape: list[int], out: str, out_shape: list[int]) -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes,
            self.name,
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, shape)],
            [helper.make_tensor_value_info(out, TensorProto.FLOAT, out_shape)],
            self.inits,
        )
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name="edgegate-mlperf-tiny",
        )
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model


def ds_cnn(quantized: bool, filters: int = 64, blocks: int = 4) -> onnx.ModelProto:
    """KWS DS-CNN: conv 10x4 /2, four depthwise-separable blocks, average pool, FC 12."""
    net = _Net("kws_ds_cnn", quantized, seed=1)
    x = net.act("input")
    x = net.conv(x, 1, filters, (10, 4), stride=2)  # 49x10 -> 25x5
    for _ in range(blocks):
        x = net.conv(x, filters, filters, (3, 3), group=filters)
        x = net.conv(x, filters, filters, (1, 1))
    x = net.avgpool_flatten(x, (25, 5))
    x = net.softmax(net.dense(x, filters, 12, relu=False))
    return net.model([1, 1, 49, 10], x, [1, 12])


#: MobileNetV1's depthwise-separable blocks: (output channels at alpha 1, stride).
_MOBILENET_BLOCKS = (
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
)  # fmt: skip


def mobilenet_v1(
    quantized: bool, alpha: float = 0.25, size: int = 96, classes: int = 2
) -> onnx.ModelProto:
    """VWW MobileNetV1 (alpha 0.25, 96x96x3, 2 classes in the benchmark)."""
    net = _Net(f"mobilenet_v1_{alpha:g}_{size}", quantized, seed=2)
    cin = int(32 * alpha)
    x = net.conv(net.act("input"), 3, cin, (3, 3), stride=2)
    side = -(-size // 2)
    for channels, stride in _MOBILENET_BLOCKS:
        cout = int(channels * alpha)
        x = net.conv(x, cin, cin, (3, 3), stride=stride, group=cin)
        x = net.conv(x, cin, cout, (1, 1))
        cin, side = cout, -(-side // stride)
    x = net.avgpool_flatten(x, (side, side))
    x = net.softmax(net.dense(x, cin, classes, relu=False))
    return net.model([1, 3, size, size], x, [1, classes])


def resnet8(quantized: bool, filters: int = 16) -> onnx.ModelProto:
    """IC ResNet-8 (EEMBC ResNetv1, three stacks of 16/32/64 filters, 32x32x3, 10 classes)."""
    net = _Net("ic_resnet8", quantized, seed=3)
    x = net.conv(net.act("input"), 3, filters, (3, 3))
    cin = filters
    for stack in range(3):
        cout, stride = filters * 2**stack, 1 if stack == 0 else 2
        y = net.conv(x, cin, cout, (3, 3), stride=stride)
        y = net.conv(y, cout, cout, (3, 3), relu=False)
        if stack:
            x = net.conv(x, cin, cout, (1, 1), stride=stride, relu=False)
        x, cin = net.add_relu(x, y), cout
    x = net.avgpool_flatten(x, (8, 8))
    x = net.softmax(net.dense(x, cin, 10, relu=False))
    return net.model([1, 3, 32, 32], x, [1, 10])


def fc_autoencoder(quantized: bool, inputs: int = 640) -> onnx.ModelProto:
    """AD deep autoencoder: 4 x FC 128, bottleneck FC 8, 4 x FC 128, FC 640 (no activation)."""
    net = _Net("ad_fc_autoencoder", quantized, seed=4)
    x, cin = net.act("input"), inputs
    for width in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        x, cin = net.dense(x, cin, width), width
    x = net.dense(x, cin, inputs, relu=False)
    return net.model([1, inputs], x, [1, inputs])


def build(name: str, quantized: bool) -> onnx.ModelProto:
    """The MLPerf Tiny network ``name`` (one of :data:`NAMES`), fp32 or int8 QDQ."""
    builders = {"kws": ds_cnn, "vww": mobilenet_v1, "ic": resnet8, "ad": fc_autoencoder}
    if name not in builders:
        raise ValueError(f"unknown MLPerf Tiny network {name!r}: expected one of {NAMES}")
    return builders[name](quantized)
