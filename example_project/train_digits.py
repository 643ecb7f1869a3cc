"""Train the example's digit classifier and build its three ONNX models, deterministically.

Run from this folder: ``python train_digits.py`` (needs ``requirements.txt``: scikit-learn
ships the data set).  It writes

- ``models/digits_fp32.onnx``: a small CNN trained here in numpy on scikit-learn's
  handwritten digits (8x8 grey images, 10 classes), exported with ``onnx.helper``;
- ``models/digits_int8.onnx``: the same model quantized by onnxruntime's ``quantize_static``
  (QDQ, int8 weights and activations), calibrated on a split of the training data;
- ``models/digits_overcompressed.onnx``: the int8 model with the weights of ``conv3`` and
  ``fc1`` made ternary (2 bits, badly scaled): a compression step gone too far, which loses
  a lot of accuracy in identifiable layers (the accuracy gate's diagnosis names them);
- ``data/digits_test.npz``: the held-out test split (``x`` float32 ``[N, 1, 8, 8]`` in
  ``[0, 1]``, ``y`` int64 class ids), never seen by training or calibration.

Why it is deterministic: every random draw comes from one seeded generator, numpy's BLAS is
limited to one thread before numpy is imported (a multi-threaded reduction may sum in another
order), training runs in float64 with a fixed schedule, the calibration batches are fixed,
and the ``.npz`` is written with fixed zip timestamps.  Running the script twice gives
byte-identical files (``md5sum models/digits_*.onnx data/digits_test.npz``).  Another machine
or numpy build may round differently and give slightly different weights; the committed files
are the reference.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import io  # noqa: E402
import zipfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

HERE = Path(__file__).parent
MODELS = HERE / "models"
DATA = HERE / "data"
INPUT, OUTPUT = "image", "logits"
SEED = 0
TEST_SHARE = 0.2
CALIBRATION_SAMPLES = 256
EPOCHS, BATCH, LEARNING_RATE = 30, 64, 3e-3
#: (name, input channels, output channels, stride) of the 3x3 convolutions, each + ReLU.
CONVS = (("conv1", 1, 16, 1), ("conv2", 16, 32, 2), ("conv3", 32, 32, 1))
HIDDEN = 64
#: Layers whose weights the over-compressed variant makes ternary (see :func:`overcompress`).
CRUSHED = ("conv3", "fc1")


# ----------------------------------------------------------------------------------- data


def load_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Train and test splits of scikit-learn's digits, stratified, with a fixed seed.

    Images are scaled from the data set's 0..16 grey levels to ``[0, 1]``, shaped NCHW.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0).reshape(-1, 1, 8, 8)
    y = digits.target.astype(np.int64)
    rng = np.random.default_rng(SEED)
    test = np.zeros(len(y), bool)
    for label in range(10):
        members = np.flatnonzero(y == label)
        test[rng.permutation(members)[: round(len(members) * TEST_SHARE)]] = True
    return x[~test], y[~test], x[test], y[test]


def save_npz(path: Path, **arrays: np.ndarray) -> None:
    """``np.savez`` with fixed zip timestamps, so the file is byte-identical on every run."""
    path.parent.mkdir(exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, array in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())


# ------------------------------------------------------------------------------ the network


def _patches(x: np.ndarray, stride: int) -> tuple[np.ndarray, int, int]:
    """3x3 patches of ``x`` (padding 1): ``[N, C*9, OH*OW]``, plus OH and OW."""
    n, c, h, w = x.shape
    oh, ow = (h - 1) // stride + 1, (w - 1) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = np.empty((n, c, 3, 3, oh, ow))
    for di in range(3):
        for dj in range(3):
            rows = slice(di, di + stride * oh, stride)
            cols[:, :, di, dj] = xp[:, :, rows, dj : dj + stride * ow : stride]
    return cols.reshape(n, c * 9, oh * ow), oh, ow


def _unpatch(dcols: np.ndarray, shape: tuple[int, ...], stride: int, oh: int, ow: int):
    """The gradient of :func:`_patches`: patch gradients summed back onto the input."""
    n, c, h, w = shape
    dxp = np.zeros((n, c, h + 2, w + 2))
    dcols = dcols.reshape(n, c, 3, 3, oh, ow)
    for di in range(3):
        for dj in range(3):
            dxp[:, :, di : di + stride * oh : stride, dj : dj + stride * ow : stride] += dcols[
                :, :, di, dj
            ]
    return dxp[:, :, 1:-1, 1:-1]


def init_params(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """He-initialised weights, zero biases."""
    params: dict[str, np.ndarray] = {}
    for name, cin, cout, _stride in CONVS:
        params[f"{name}.w"] = rng.standard_normal((cout, cin, 3, 3)) * np.sqrt(2.0 / (cin * 9))
        params[f"{name}.b"] = np.zeros(cout)
    side = 8
    for _name, _cin, _cout, stride in CONVS:
        side = (side - 1) // stride + 1
    flat = CONVS[-1][2] * side * side
    params["fc1.w"] = rng.standard_normal((flat, HIDDEN)) * np.sqrt(2.0 / flat)
    params["fc1.b"] = np.zeros(HIDDEN)
    params["fc2.w"] = rng.standard_normal((HIDDEN, 10)) * np.sqrt(1.0 / HIDDEN)
    params["fc2.b"] = np.zeros(10)
    return params


def forward(params: dict[str, np.ndarray], x: np.ndarray, cache: list | None = None):
    """Logits of the CNN; with ``cache``, keeps what :func:`backward` needs."""
    h = x
    for name, _cin, cout, stride in CONVS:
        cols, oh, ow = _patches(h, stride)
        z = np.einsum("ok,nkp->nop", params[f"{name}.w"].reshape(cout, -1), cols)
        z = z.reshape(len(x), cout, oh, ow) + params[f"{name}.b"][None, :, None, None]
        if cache is not None:
            cache.append((name, h.shape, cols, oh, ow, stride, z))
        h = np.maximum(z, 0.0)
    flat = h.reshape(len(x), -1)
    z1 = flat @ params["fc1.w"] + params["fc1.b"]
    a1 = np.maximum(z1, 0.0)
    logits = a1 @ params["fc2.w"] + params["fc2.b"]
    if cache is not None:
        cache.append((flat, z1, a1))
    return logits


def backward(params, cache: list, logits: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Gradients of the mean cross-entropy."""
    grads: dict[str, np.ndarray] = {}
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1.0
    d = p / len(y)
    flat, z1, a1 = cache.pop()
    grads["fc2.w"], grads["fc2.b"] = a1.T @ d, d.sum(axis=0)
    d = (d @ params["fc2.w"].T) * (z1 > 0)
    grads["fc1.w"], grads["fc1.b"] = flat.T @ d, d.sum(axis=0)
    d = d @ params["fc1.w"].T
    for name, shape, cols, oh, ow, stride, z in reversed(cache):
        d = d.reshape(z.shape) * (z > 0)
        cout = z.shape[1]
        dz = d.reshape(len(d), cout, -1)
        grads[f"{name}.w"] = np.einsum("nop,nkp->ok", dz, cols).reshape(params[f"{name}.w"].shape)
        grads[f"{name}.b"] = dz.sum(axis=(0, 2))
        dcols = np.einsum("ok,nop->nkp", params[f"{name}.w"].reshape(cout, -1), dz)
        d = _unpatch(dcols, shape, stride, oh, ow)
    return grads


def train(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Adam on mini-batches, fixed seed and schedule (the learning rate halves twice)."""
    rng = np.random.default_rng(SEED)
    params = init_params(rng)
    moments = {k: (np.zeros_like(v), np.zeros_like(v)) for k, v in params.items()}
    step = 0
    for epoch in range(EPOCHS):
        lr = LEARNING_RATE * (0.5 ** (epoch * 3 // EPOCHS))
        order = rng.permutation(len(y))
        for start in range(0, len(y), BATCH):
            idx = order[start : start + BATCH]
            cache: list = []
            logits = forward(params, x[idx], cache)
            grads = backward(params, cache, logits, y[idx])
            step += 1
            for key, g in grads.items():
                m, v = moments[key]
                m[:] = 0.9 * m + 0.1 * g
                v[:] = 0.999 * v + 0.001 * g * g
                m_hat, v_hat = m / (1 - 0.9**step), v / (1 - 0.999**step)
                params[key] -= lr * m_hat / (np.sqrt(v_hat) + 1e-8)
    return params


# ------------------------------------------------------------------------------ the models


def export(params: dict[str, np.ndarray]) -> onnx.ModelProto:
    """The trained CNN as an fp32 ONNX model with a dynamic batch dimension ``N``."""
    nodes, inits = [], []
    x = INPUT
    for name, _cin, _cout, stride in CONVS:
        inits.append(numpy_helper.from_array(params[f"{name}.w"].astype(np.float32), f"{name}.w"))
        inits.append(numpy_helper.from_array(params[f"{name}.b"].astype(np.float32), f"{name}.b"))
        nodes.append(
            helper.make_node(
                "Conv",
                [x, f"{name}.w", f"{name}.b"],
                [f"{name}.out"],
                name=name,
                kernel_shape=[3, 3],
                strides=[stride, stride],
                pads=[1, 1, 1, 1],
            )
        )
        relu = name.replace("conv", "relu")
        nodes.append(helper.make_node("Relu", [f"{name}.out"], [f"{relu}.out"], name=relu))
        x = f"{relu}.out"
    nodes.append(helper.make_node("Flatten", [x], ["flat"], name="flatten", axis=1))
    for name in ("fc1", "fc2"):
        inits.append(numpy_helper.from_array(params[f"{name}.w"].astype(np.float32), f"{name}.w"))
        inits.append(numpy_helper.from_array(params[f"{name}.b"].astype(np.float32), f"{name}.b"))
    nodes.append(helper.make_node("Gemm", ["flat", "fc1.w", "fc1.b"], ["fc1.out"], name="fc1"))
    nodes.append(helper.make_node("Relu", ["fc1.out"], ["relu4.out"], name="relu4"))
    nodes.append(helper.make_node("Gemm", ["relu4.out", "fc2.w", "fc2.b"], [OUTPUT], name="fc2"))
    graph = helper.make_graph(
        nodes,
        "digits_cnn",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["N", 1, 8, 8])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["N", 10])],
        initializer=inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="edgegate-example"
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def quantize_int8(fp32_path: Path, int8_path: Path, calibration: np.ndarray) -> None:
    """onnxruntime's static quantization (QDQ, int8), calibrated on ``calibration``."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter(
                [{INPUT: calibration[i : i + 32]} for i in range(0, len(calibration), 32)]
            )

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


def overcompress(int8: onnx.ModelProto) -> onnx.ModelProto:
    """The int8 model with the weights of :data:`CRUSHED` made ternary.

    Each crushed weight becomes -1, 0 or +1 times the tensor's largest magnitude: a 2-bit code
    scaled naively to the range's maximum, so that most weights round to zero, the way an
    over-aggressive compression step fails.  The int8 weight and its DequantizeLinear scale
    are replaced in place: the graph keeps its shape and tensor names (the accuracy gate
    matches its layers to the fp32 model's), only the weights lose their precision.
    """
    model = onnx.ModelProto()
    model.CopyFrom(int8)
    inits = {init.name: init for init in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type != "DequantizeLinear" or not any(
            node.input[0] == f"{layer}.w_quantized" for layer in CRUSHED
        ):
            continue
        q = numpy_helper.to_array(inits[node.input[0]]).astype(np.float64)
        scale = numpy_helper.to_array(inits[node.input[1]]).astype(np.float64)
        w = q * scale
        new_scale = np.abs(w).max()
        new_q = np.round(w / new_scale).astype(np.int8)
        inits[node.input[0]].CopyFrom(numpy_helper.from_array(new_q, node.input[0]))
        inits[node.input[1]].CopyFrom(
            numpy_helper.from_array(np.asarray(new_scale, np.float32), node.input[1])
        )
    onnx.checker.check_model(model)
    return model


def main() -> None:
    x_train, y_train, x_test, y_test = load_split()
    params = train(x_train, y_train)
    test_acc = float((forward(params, x_test).argmax(axis=1) == y_test).mean())

    MODELS.mkdir(exist_ok=True)
    fp32 = MODELS / "digits_fp32.onnx"
    int8 = MODELS / "digits_int8.onnx"
    onnx.save(export(params), str(fp32))
    calibration = x_train[np.random.default_rng(SEED + 1).permutation(len(x_train))]
    quantize_int8(fp32, int8, calibration[:CALIBRATION_SAMPLES].astype(np.float32))
    crushed = overcompress(onnx.load(str(int8)))
    onnx.save(crushed, str(MODELS / "digits_overcompressed.onnx"))
    save_npz(DATA / "digits_test.npz", x=x_test.astype(np.float32), y=y_test)

    print(f"trained: {len(y_train)} samples, test accuracy (numpy, float64) {test_acc:.4f}")
    import onnxruntime as ort

    for path in sorted(MODELS.glob("digits_*.onnx")):
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        (logits,) = session.run(None, {INPUT: x_test.astype(np.float32)})
        accuracy = float((logits.argmax(axis=1) == y_test).mean())
        print(f"{path.relative_to(HERE)}: {path.stat().st_size} bytes, test top-1 {accuracy:.4f}")
    print(f"data/digits_test.npz: {len(y_test)} held-out samples")


if __name__ == "__main__":
    main()
