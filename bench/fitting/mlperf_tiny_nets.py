"""The four MLPerf Tiny reference networks under their benchmark names, as ONNX fp32 or int8 QDQ.

``kws`` DS-CNN (49x10x1 MFCC), ``vww`` MobileNetV1 alpha 0.25 (96x96x3), ``ic`` ResNet-8
(32x32x3 CIFAR-10), ``ad`` FC autoencoder (640 inputs), rebuilt from mlcommons/tiny's reference
training code (``benchmark/training/*``) by the one builder of the MCU networks,
``bench/fitting/mcu_twins.py``.  The MCU cost model is fitted on these graphs
(``bench/fitting/mlperf_tiny.py``).

    build(name, quantized) -> onnx.ModelProto
"""

from __future__ import annotations

from functools import partial

import onnx

from bench.fitting import mcu_twins

NAMES = ("kws", "vww", "ic", "ad")
#: benchmark name -> network of mcu_twins.
_TWINS = {"kws": "ds_cnn", "vww": "mobilenet_v1_025", "ic": "resnet8", "ad": "fc_autoencoder"}


def build(name: str, quantized: bool) -> onnx.ModelProto:
    """The MLPerf Tiny network ``name`` (one of :data:`NAMES`), fp32 or int8 QDQ."""
    if name not in _TWINS:
        raise ValueError(f"unknown MLPerf Tiny network {name!r}: expected one of {NAMES}")
    return mcu_twins.build(_TWINS[name], quantized)


def mobilenet_v1(
    quantized: bool, alpha: float = 0.25, size: int = 96, classes: int = 2
) -> onnx.ModelProto:
    """MobileNetV1 at any width, resolution and class count (VWW's is the default)."""
    layers = partial(mcu_twins.mobilenet_v1, alpha=alpha, size=size, classes=classes)
    return mcu_twins.make("mobilenet_v1_025", quantized, layers)[0]
