"""The small ``.tflite`` networks the tests use, fp32 and int8, and their ONNX twin.

``small_cnn``: input 1x16x16x3 -> CONV_2D 3x3 (8, relu) -> DEPTHWISE_CONV_2D 3x3 stride 2
(relu6) -> CONV_2D 1x1 (8) -> ADD (residual) -> AVERAGE_POOL_2D 2x2 -> RESHAPE 1x128 ->
FULLY_CONNECTED 10 -> SOFTMAX.  By hand: MACs 16*16*8*27 + 8*8*8*9 + 8*8*8*8 + 128*10 =
65,280; weights and biases 224 + 80 + 72 + 1,290 = 1,666.
"""

from __future__ import annotations

import numpy as np

from bench.fitting.tflite_writer import RELU, RELU6, SAME, VALID, TflWriter

SMALL_CNN_MACS = 16 * 16 * 8 * 27 + 8 * 8 * 8 * 9 + 8 * 8 * 8 * 8 + 128 * 10
SMALL_CNN_WEIGHTS = (216 + 8) + (72 + 8) + (64 + 8) + (1280 + 10)


def _weights(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)

    def w(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.3).astype(np.float32)

    return {
        "c1": w(8, 3, 3, 3), "c1b": w(8), "dw": w(1, 3, 3, 8), "dwb": w(8),
        "c2": w(8, 1, 1, 8), "c2b": w(8), "fc": w(10, 128), "fcb": w(10),
    }  # fmt: skip


def small_cnn(int8: bool = False, seed: int = 0) -> bytes:
    """The network of the module docstring as ``.tflite`` bytes."""
    ws = _weights(seed)
    b = TflWriter()
    act_q = ([0.05], [0], 0)

    def act(name: str, shape: list[int], quant=act_q) -> int:
        if int8:
            return b.tensor(name, shape, "INT8", quant=quant)
        return b.tensor(name, shape)

    def weight(name: str, data: np.ndarray, axis: int, in_scale: float) -> tuple[int, float]:
        if not int8:
            return b.tensor(name, data.shape, data=data), 1.0
        channels = data.shape[axis]
        moved = np.moveaxis(data, axis, 0).reshape(channels, -1)
        scales = np.maximum(np.abs(moved).max(axis=1), 1e-6) / 127.0
        shape = [1] * data.ndim
        shape[axis] = channels
        q = np.clip(np.round(data / scales.reshape(shape)), -127, 127).astype(np.int8)
        quant = ([float(s) for s in scales], [0] * channels, axis)
        return b.tensor(name, data.shape, "INT8", q, quant), scales * in_scale

    def bias(name: str, data: np.ndarray, scales) -> int:
        if not int8:
            return b.tensor(name, data.shape, data=data)
        scales = np.broadcast_to(np.asarray(scales, dtype=np.float64), data.shape)
        q = np.round(data / scales).astype(np.int32)
        quant = ([float(s) for s in scales], [0] * len(data), 0)
        return b.tensor(name, data.shape, "INT32", q, quant)

    x = act("input", [1, 16, 16, 3], ([1 / 128], [0], 0))
    in_s = 1 / 128 if int8 else 1.0
    w1, s1 = weight("conv1/w", ws["c1"], 0, in_s)
    y1 = act("conv1", [1, 16, 16, 8])
    b.op("CONV_2D", [x, w1, bias("conv1/b", ws["c1b"], s1)], [y1],
         padding=SAME, stride_w=1, stride_h=1, activation=RELU)  # fmt: skip
    wd, sd = weight("dw/w", ws["dw"], 3, 0.05)
    y2 = act("dw", [1, 8, 8, 8])
    b.op("DEPTHWISE_CONV_2D", [y1, wd, bias("dw/b", ws["dwb"], sd)], [y2],
         padding=SAME, stride_w=2, stride_h=2, depth_multiplier=1, activation=RELU6)  # fmt: skip
    w2, s2 = weight("conv2/w", ws["c2"], 0, 0.05)
    y3 = act("conv2", [1, 8, 8, 8])
    b.op("CONV_2D", [y2, w2, bias("conv2/b", ws["c2b"], s2)], [y3],
         padding=VALID, stride_w=1, stride_h=1)  # fmt: skip
    y4 = act("add", [1, 8, 8, 8], ([0.1], [0], 0))
    b.op("ADD", [y3, y2], [y4])
    y5 = act("pool", [1, 4, 4, 8], ([0.1], [0], 0))
    b.op("AVERAGE_POOL_2D", [y4], [y5], padding=VALID, stride_w=2, stride_h=2,
         filter_w=2, filter_h=2)  # fmt: skip
    shape = b.tensor("flat/shape", [2], "INT32", np.array([1, 128], dtype=np.int32))
    y6 = act("flat", [1, 128], ([0.1], [0], 0))
    b.op("RESHAPE", [y5, shape], [y6])
    if int8:
        fw = ws["fc"]
        fs = float(np.abs(fw).max() / 127.0)
        q = np.clip(np.round(fw / fs), -127, 127).astype(np.int8)
        w3 = b.tensor("fc/w", fw.shape, "INT8", q, ([fs], [0], 0))
        b3 = bias("fc/b", ws["fcb"], fs * 0.1)
    else:
        w3 = b.tensor("fc/w", ws["fc"].shape, data=ws["fc"])
        b3 = bias("fc/b", ws["fcb"], 1.0)
    y7 = act("logits", [1, 10], ([0.2], [0], 0))
    b.op("FULLY_CONNECTED", [y6, w3, b3], [y7])
    y8 = act("probs", [1, 10], ([1 / 256], [-128], 0))
    b.op("SOFTMAX", [y7], [y8], beta=1.0)
    return b.build([x], [y8])


def small_cnn_onnx(seed: int = 0, nhwc_input: bool = False):
    """The fp32 network as an ONNX model (NCHW), the twin of ``small_cnn(int8=False)``.

    ``nhwc_input``: the input is ``input`` [1, 16, 16, 3] followed by a Transpose, and the
    flatten happens in NHWC order (as tf2onnx exports a Keras model), so it takes what the
    ``.tflite`` takes and computes the same numbers."""
    from onnx import TensorProto, helper, numpy_helper

    ws = _weights(seed)
    inits = [
        numpy_helper.from_array(ws["c1"].transpose(0, 3, 1, 2).copy(), "c1"),
        numpy_helper.from_array(ws["c1b"], "c1b"),
        numpy_helper.from_array(ws["dw"].transpose(3, 0, 1, 2).copy(), "dw"),
        numpy_helper.from_array(ws["dwb"], "dwb"),
        numpy_helper.from_array(ws["c2"].transpose(0, 3, 1, 2).copy(), "c2"),
        numpy_helper.from_array(ws["c2b"], "c2b"),
        numpy_helper.from_array(ws["fc"], "fc"),
        numpy_helper.from_array(ws["fcb"], "fcb"),
        numpy_helper.from_array(np.array([1, 128], dtype=np.int64), "shape"),
        numpy_helper.from_array(np.array(0, dtype=np.float32), "lo"),
        numpy_helper.from_array(np.array(6, dtype=np.float32), "hi"),
    ]
    n = helper.make_node
    nodes = [
        n("Conv", ["x", "c1", "c1b"], ["a"], pads=[1, 1, 1, 1]),
        n("Relu", ["a"], ["a1"]),
        n("Conv", ["a1", "dw", "dwb"], ["b"], group=8, strides=[2, 2], pads=[0, 0, 1, 1]),
        n("Clip", ["b", "lo", "hi"], ["b1"]),
        n("Conv", ["b1", "c2", "c2b"], ["c"]),
        n("Add", ["c", "b1"], ["d"]),
        n("AveragePool", ["d"], ["e"], kernel_shape=[2, 2], strides=[2, 2]),
        n("Reshape", ["e", "shape"], ["f"]),
        n("Gemm", ["f", "fc", "fcb"], ["g"], transB=1),
        n("Softmax", ["g"], ["y"], axis=1),
    ]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])
    if nhwc_input:  # and flattened in NHWC order, as TFLite's RESHAPE does
        x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 16, 16, 3])
        nodes.insert(0, n("Transpose", ["input"], ["x"], perm=[0, 3, 1, 2]))
        at = next(i for i, node in enumerate(nodes) if node.op_type == "Reshape")
        nodes[at] = n("Reshape", ["e_nhwc", "shape"], ["f"])
        nodes.insert(at, n("Transpose", ["e"], ["e_nhwc"], perm=[0, 2, 3, 1]))
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])
    graph = helper.make_graph(nodes, "small_cnn", [x], [y], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
