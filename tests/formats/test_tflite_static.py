"""Static figures of ``.tflite`` models read without TensorFlow: equal to their ONNX twin."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tflite_models import SMALL_CNN_MACS, SMALL_CNN_WEIGHTS, small_cnn, small_cnn_onnx

from bench.fitting.tflite_writer import RELU, SAME, TflWriter
from pytest_edgegate.analysis import analyze
from pytest_edgegate.formats import load, runtime_name


def _write(tmp_path: Path, data: bytes, name: str = "m.tflite") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def sine_model() -> Path:
    micro = pytest.importorskip(
        "tflite_micro.python.tflite_micro.runtime", reason="the [tflite] extra is not installed"
    )
    return Path(micro.__file__).with_name("sine_float.tflite")


def test_small_cnn_and_its_onnx_twin_have_identical_macs_and_params(tmp_path):
    loaded = load(_write(tmp_path, small_cnn()))
    tfl = analyze(loaded)
    twin = analyze(small_cnn_onnx())
    assert loaded.format == "tflite"
    assert tfl.macs == twin.macs == SMALL_CNN_MACS
    assert tfl.params == twin.params == SMALL_CNN_WEIGHTS
    assert tfl.metrics()["macs_m"] == twin.metrics()["macs_m"]
    assert tfl.metrics()["params_m"] == twin.metrics()["params_m"]
    assert tfl.metrics()["size_mb"] == loaded.file_bytes / 1e6
    assert tfl.params_by_dtype == {"float32": SMALL_CNN_WEIGHTS}
    assert not tfl.warnings


def test_int8_network_counts_the_same_macs_in_int8_with_per_channel_weights(tmp_path):
    tfl = analyze(load(_write(tmp_path, small_cnn(int8=True))))
    assert tfl.is_quantized
    assert tfl.macs == SMALL_CNN_MACS
    assert tfl.macs_by_dtype == {"int8": SMALL_CNN_MACS}
    weights = 216 + 72 + 64 + 1280
    # int8 weights plus the int8 zero points of the quantized tensors (one per channel of
    # the per-channel weights, one per activation), int32 biases, fp32 scales
    assert tfl.params_by_dtype["int8"] >= weights
    assert tfl.params_by_dtype["int32"] == 8 + 8 + 8 + 10
    ops = {n.op_type for n in tfl.nodes}
    assert {"QLinearConv", "QGemm", "QLinearAdd", "QLinearAveragePool"} <= ops
    assert not tfl.warnings


def test_sine_model_figures_counted_by_hand():
    path = sine_model()
    a = analyze(load(path))
    # three FULLY_CONNECTED layers 1->16->16->1 with biases
    assert a.params == (16 + 16) + (256 + 16) + (16 + 1)
    assert a.macs == 16 + 256 + 16
    # MACs count twice, plus one FLOP per bias add and per ReLU of the two hidden layers
    assert a.flops == 2 * 288 + (16 + 16 + 1) + (16 + 16)
    assert a.file_bytes == path.stat().st_size
    assert a.peak_activation_bytes == 2 * 16 * 4  # two 16-float hidden tensors at once
    assert runtime_name("tflite", is_mcu=False) == "litert"
    assert runtime_name("tflite", is_mcu=True) == "tflite-micro"


def test_fp16_weights_are_counted_once_at_their_stored_precision(tmp_path):
    b = TflWriter()
    x = b.tensor("x", [1, 8, 8, 4])
    w16 = b.tensor("w16", [6, 3, 3, 4], "FLOAT16", np.ones((6, 3, 3, 4), np.float16))
    w = b.tensor("w", [6, 3, 3, 4])
    bias = b.tensor("b", [6], data=np.zeros(6, np.float32))
    y = b.tensor("y", [1, 8, 8, 6])
    b.op("DEQUANTIZE", [w16], [w])
    b.op("CONV_2D", [x, w, bias], [y], padding=SAME, stride_w=1, stride_h=1, activation=RELU)
    a = analyze(load(_write(tmp_path, b.build([x], [y]))))
    assert a.params_by_dtype == {"float16": 216, "float32": 6}
    assert a.macs == 8 * 8 * 6 * 36


def test_transpose_conv_and_batch_matmul_macs_follow_the_onnx_convention(tmp_path):
    b = TflWriter()
    x = b.tensor("x", [1, 4, 4, 8])
    shape = b.tensor("oshape", [4], "INT32", np.array([1, 8, 8, 3], np.int32))
    w = b.tensor("w", [3, 2, 2, 8], data=np.ones((3, 2, 2, 8), np.float32))
    y = b.tensor("y", [1, 8, 8, 3])
    b.op("TRANSPOSE_CONV", [shape, w, x], [y], padding=SAME, stride_w=2, stride_h=2)
    q = b.tensor("q", [2, 5, 7])
    k = b.tensor("k", [2, 6, 7])
    s = b.tensor("s", [2, 5, 6])
    b.op("BATCH_MATMUL", [q, k], [s], adj_y=True)
    a = analyze(load(_write(tmp_path, b.build([x, q, k], [y, s]))))
    by_op = {n.op_type: n.macs for n in a.nodes}
    # ConvTranspose: every input element times the kernel (out channels x kh x kw)
    assert by_op["ConvTranspose"] == (4 * 4 * 8) * (3 * 2 * 2)
    assert by_op["MatMul"] == 2 * 5 * 6 * 7
    assert a.params == 3 * 2 * 2 * 8


def test_op_list_keeps_the_tflite_operator_names(tmp_path):
    loaded = load(_write(tmp_path, small_cnn()))
    ops = [op.op for op in loaded.source.main.operators]
    assert ops == ["CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D", "ADD", "AVERAGE_POOL_2D",
                   "RESHAPE", "FULLY_CONNECTED", "SOFTMAX"]  # fmt: skip
    a1, a2 = analyze(loaded), analyze(load(_write(tmp_path, small_cnn(), "again.tflite")))
    assert a1.to_dict()["nodes"] == a2.to_dict()["nodes"]  # deterministic


def _mobile_block(tmp_path: Path) -> Path:
    """PAD -> CONV_2D -> HARD_SWISH -> squeeze-excite (MEAN, FULLY_CONNECTED, LOGISTIC, MUL)
    -> CONCATENATION on channels -> TRANSPOSE -> QUANTIZE -> DEQUANTIZE: the glue of
    converted mobile networks."""
    b = TflWriter()
    x = b.tensor("x", [1, 8, 8, 4])
    pads = b.tensor("pads", [4, 2], "INT32", np.array([[0, 0], [1, 1], [1, 1], [0, 0]], np.int32))
    xp = b.tensor("xp", [1, 10, 10, 4])
    b.op("PAD", [x, pads], [xp])
    w = b.tensor("w", [6, 3, 3, 4], data=np.ones((6, 3, 3, 4), np.float32))
    cb = b.tensor("cb", [6], data=np.zeros(6, np.float32))
    c = b.tensor("c", [1, 8, 8, 6])
    b.op("CONV_2D", [xp, w, cb], [c], padding=1, stride_w=1, stride_h=1)  # VALID
    h = b.tensor("h", [1, 8, 8, 6])
    b.op("HARD_SWISH", [c], [h])
    axes = b.tensor("axes", [2], "INT32", np.array([1, 2], np.int32))
    m = b.tensor("m", [1, 6])
    b.op("MEAN", [h, axes], [m], keep_dims=False)
    fw = b.tensor("fw", [6, 6], data=np.ones((6, 6), np.float32))
    f = b.tensor("f", [1, 6])
    b.op("FULLY_CONNECTED", [m, fw, -1], [f])
    g = b.tensor("g", [1, 6])
    b.op("LOGISTIC", [f], [g])
    s = b.tensor("s", [1, 8, 8, 6])
    b.op("MUL", [h, g], [s])
    cat = b.tensor("cat", [1, 8, 8, 12])
    b.op("CONCATENATION", [s, h], [cat], axis=3)
    perm = b.tensor("perm", [4], "INT32", np.array([0, 3, 1, 2], np.int32))
    t = b.tensor("t", [1, 12, 8, 8])
    b.op("TRANSPOSE", [cat, perm], [t])
    q = b.tensor("q", [1, 12, 8, 8], "INT8", quant=([0.1], [0], 0))
    b.op("QUANTIZE", [t], [q])
    y = b.tensor("y", [1, 12, 8, 8])
    b.op("DEQUANTIZE", [q], [y])
    path = tmp_path / "block.tflite"
    path.write_bytes(b.build([x], [y]))
    return path


def test_glue_operators_translate_with_their_shapes(tmp_path):
    a = analyze(load(_mobile_block(tmp_path)))
    assert not a.warnings, a.warnings
    shapes = {n.op_type: n.output_shapes[0] for n in a.nodes}
    assert shapes["Pad"] == (1, 4, 10, 10)  # NCHW inside the translation
    assert shapes["ReduceMean"] == (1, 6)
    assert shapes["Concat"] == (1, 12, 8, 8)  # channels: TFLite axis 3 is ONNX axis 1
    assert shapes["Transpose"] == (1, 12, 8, 8)  # a plain 4-D tensor keeps its axes
    assert a.macs == 8 * 8 * 6 * 36 + 36
    assert a.outputs[0].shape == (1, 12, 8, 8)


def test_glue_operators_run_on_litert(tmp_path):
    litert = pytest.importorskip("ai_edge_litert.interpreter", reason="no [tflite] extra")
    interp = litert.Interpreter(model_path=str(_mobile_block(tmp_path)))
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], np.ones((1, 8, 8, 4), np.float32))
    interp.invoke()
    assert interp.get_tensor(interp.get_output_details()[0]["index"]).shape == (1, 12, 8, 8)
