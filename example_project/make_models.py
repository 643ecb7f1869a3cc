"""Build the example's vision and audio models deterministically, in fp32 and int8.

Run from this folder: ``python make_models.py``.  It writes

- ``models/mobilenet_v2_035_fp32.onnx``: MobileNet-v2 at width 0.35 for 224x224 RGB images
  and the 1,000 ImageNet classes (Sandler et al., "MobileNetV2: Inverted Residuals and Linear
  Bottlenecks", CVPR 2018), built layer by layer with ``onnx.helper``: batch normalisation
  folded into the convolutions (as deployed models are), ReLU6 as ``Clip(0, 6)``.  Width 0.35
  keeps the fp32 file at 6.6 MB, small enough to commit (width 1.0 is 14 MB), and it is a
  published configuration: 1.66 M parameters and 59 M multiply-accumulates in the paper's
  table, which ``edgegate analyze`` reproduces;
- ``models/mobilenet_v2_035_int8.onnx``: the same network through onnxruntime's
  ``quantize_static`` (QDQ, int8 weights per channel and int8 activations), calibrated on
  fixed pseudo-images: the model a team would actually ship;
- ``models/kws_dscnn_fp32.onnx`` / ``kws_dscnn_int8.onnx``: the DS-CNN keyword spotter of
  MLPerf Tiny (Banbury et al., "MLPerf Tiny Benchmark", 2021; architecture from Zhang et al.,
  "Hello Edge: Keyword Spotting on Microcontrollers", 2017): 49x10 MFCC frames in, 12 classes
  out, 64 channels, four depthwise-separable blocks; about 24 k parameters and 2.7 M MACs.

The weights are random (seeded, He-initialised): the point of the example is the gate, not
ImageNet accuracy.  The trained model of the example is the digit classifier of
``train_digits.py``, whose accuracy the tests check.

Why it is deterministic: one seeded generator per model, fixed calibration data, and
onnxruntime's MinMax calibration (no sampling).  Running it twice gives byte-identical files
(``md5sum models/*.onnx``); another onnxruntime release may lay the int8 graph out
differently, so the committed files are the reference and ``edge-baseline.json`` pins their
figures.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).parent
MODELS = HERE / "models"

#: MobileNet-v2's inverted residual stages: expansion t, output channels c, repeats n, stride s.
MOBILENET_V2_STAGES = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
IMAGE_SHAPE = (1, 3, 224, 224)
MFCC_SHAPE = (1, 1, 49, 10)  # one second of audio: 49 frames of 10 MFCCs
KWS_CLASSES = 12  # "yes", "no", ..., plus "silence" and "unknown" (Speech Commands v2)


@dataclass
class Graph:
    """Nodes and initializers of a network under construction, with a seeded generator."""

    seed: int
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    inits: list[onnx.TensorProto] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def conv(
        self,
        name: str,
        x: str,
        cin: int,
        cout: int,
        kernel: tuple[int, int],
        stride: tuple[int, int] = (1, 1),
        pads: tuple[int, int, int, int] | None = None,
        group: int = 1,
        act: str | None = "relu6",
    ) -> str:
        """A convolution with its batch norm folded in (a bias), then ``act``.

        He initialisation (variance 2 / fan-in) keeps activations in a sane range through the
        depth of the network, so the int8 calibration sees realistic, non-degenerate ranges.
        """
        kh, kw = kernel
        fan_in = cin // group * kh * kw
        gain = 2.0 if act else 1.0  # a linear bottleneck keeps variance 1 / fan-in
        w = self.rng.standard_normal((cout, cin // group, kh, kw)) * np.sqrt(gain / fan_in)
        b = self.rng.standard_normal(cout) * 0.01
        self.inits.append(numpy_helper.from_array(w.astype(np.float32), f"{name}.weight"))
        self.inits.append(numpy_helper.from_array(b.astype(np.float32), f"{name}.bias"))
        if pads is None:
            pads = (kh // 2, kw // 2, kh // 2, kw // 2)
        out = f"{name}.out"
        self.nodes.append(
            helper.make_node(
                "Conv",
                [x, f"{name}.weight", f"{name}.bias"],
                [out],
                name=name,
                kernel_shape=list(kernel),
                strides=list(stride),
                pads=list(pads),
                group=group,
            )
        )
        if act == "relu6":
            self.nodes.append(
                helper.make_node(
                    "Clip", [out, "six.min", "six.max"], [f"{name}.act"], name=f"{name}.relu6"
                )
            )
            return f"{name}.act"
        if act == "relu":
            self.nodes.append(helper.make_node("Relu", [out], [f"{name}.act"], name=f"{name}.relu"))
            return f"{name}.act"
        return out

    def add(self, name: str, a: str, b: str) -> str:
        self.nodes.append(helper.make_node("Add", [a, b], [f"{name}.out"], name=name))
        return f"{name}.out"

    def classifier(self, x: str, cin: int, classes: int, output: str) -> None:
        """Global average pool, flatten, fully connected layer to the logits."""
        self.nodes.append(helper.make_node("GlobalAveragePool", [x], ["pooled"], name="pool"))
        self.nodes.append(helper.make_node("Flatten", ["pooled"], ["flat"], name="flatten"))
        w = self.rng.standard_normal((classes, cin)) / np.sqrt(cin)
        self.inits.append(numpy_helper.from_array(w.astype(np.float32), "fc.weight"))
        self.inits.append(numpy_helper.from_array(np.zeros(classes, np.float32), "fc.bias"))
        self.nodes.append(
            helper.make_node(
                "Gemm", ["flat", "fc.weight", "fc.bias"], [output], name="fc", transB=1
            )
        )

    def model(
        self, name: str, input_name: str, shape: tuple[int, ...], output: str, classes: int
    ) -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes,
            name,
            [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, list(shape))],
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, [shape[0], classes])],
            initializer=self.inits,
        )
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="edgegate-example"
        )
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model


def make_divisible(value: float, divisor: int = 8) -> int:
    """Channel rounding of the reference implementations (TF-slim, Keras, torchvision)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def mobilenet_v2(width: float = 0.35, classes: int = 1000, seed: int = 0) -> onnx.ModelProto:
    """MobileNet-v2 at ``width`` for 224x224 images (the last 1x1 conv keeps 1280 channels)."""
    g = Graph(seed)
    g.inits += [
        numpy_helper.from_array(np.array(0.0, np.float32), "six.min"),
        numpy_helper.from_array(np.array(6.0, np.float32), "six.max"),
    ]
    cin = make_divisible(32 * width)
    x = g.conv("stem", "image", 3, cin, (3, 3), (2, 2))
    block = 0
    for t, c, n, s in MOBILENET_V2_STAGES:
        cout = make_divisible(c * width)
        for i in range(n):
            stride = s if i == 0 else 1
            name = f"block{block}"
            hidden = cin * t
            y = x
            if t != 1:
                y = g.conv(f"{name}.expand", y, cin, hidden, (1, 1))
            y = g.conv(f"{name}.dw", y, hidden, hidden, (3, 3), (stride, stride), group=hidden)
            y = g.conv(f"{name}.project", y, hidden, cout, (1, 1), act=None)
            x = g.add(f"{name}.add", x, y) if stride == 1 and cin == cout else y
            cin = cout
            block += 1
    last = max(1280, make_divisible(1280 * width))
    x = g.conv("head", x, cin, last, (1, 1))
    g.classifier(x, last, classes, "logits")
    return g.model("mobilenet_v2_035", "image", IMAGE_SHAPE, "logits", classes)


def kws_dscnn(channels: int = 64, classes: int = KWS_CLASSES, seed: int = 1) -> onnx.ModelProto:
    """MLPerf Tiny's DS-CNN keyword spotter on 49x10 MFCCs (NCHW: 1x1x49x10).

    The first convolution is 10x4 with stride 2 and TensorFlow's "same" padding (4/5 rows,
    1/1 columns), giving 25x5 feature maps; then four depthwise-separable blocks with batch
    norm folded in and ReLU, as in the reference Keras model.
    """
    g = Graph(seed)
    x = g.conv("conv1", "mfcc", 1, channels, (10, 4), (2, 2), pads=(4, 1, 5, 1), act="relu")
    for i in range(4):
        x = g.conv(f"ds{i}.dw", x, channels, channels, (3, 3), group=channels, act="relu")
        x = g.conv(f"ds{i}.pw", x, channels, channels, (1, 1), act="relu")
    g.classifier(x, channels, classes, "scores")
    return g.model("kws_dscnn", "mfcc", MFCC_SHAPE, "scores", classes)


def quantize_int8(
    fp32_path: Path, int8_path: Path, input_name: str, shape: tuple[int, ...], samples: int
) -> None:
    """Static int8 quantization (QDQ), weights per channel, calibrated on fixed inputs.

    Images are calibrated on uniform pixels in [0, 1); MFCC frames on standard-normal values,
    what normalised features look like (and what edgegate's seeded random inputs are, so the
    fidelity test of the keyword spotter sees the range it was calibrated for).
    """
    import logging

    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            rng = np.random.default_rng(1234)
            draw = rng.random if input_name == "image" else rng.standard_normal
            data = [{input_name: draw(shape, dtype=np.float32)} for _ in range(samples)]
            self.batches = iter(data)

        def get_next(self):
            return next(self.batches, None)

    # onnxruntime logs a pre-processing hint on the root logger; the graphs here need none.
    logging.getLogger().setLevel(logging.ERROR)
    quantize_static(
        str(fp32_path),
        str(int8_path),
        Reader(),
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QInt8,
        weight_type=QuantType.QInt8,
        per_channel=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=MODELS, help="folder to write (models/)")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    built = [
        ("mobilenet_v2_035", mobilenet_v2(), "image", IMAGE_SHAPE, 16),
        ("kws_dscnn", kws_dscnn(), "mfcc", MFCC_SHAPE, 64),
    ]
    for stem, model, input_name, shape, samples in built:
        fp32 = out / f"{stem}_fp32.onnx"
        onnx.save(model, str(fp32))
        quantize_int8(fp32, out / f"{stem}_int8.onnx", input_name, shape, samples)
    for path in sorted(out.glob("*.onnx")):
        print(f"{path.name}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
