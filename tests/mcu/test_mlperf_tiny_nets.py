"""The MLPerf Tiny rebuilds match the published MACs and parameters and run in onnxruntime."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from bench.fitting.mlperf_tiny_nets import NAMES, build, mobilenet_v1
from pytest_edgegate.analysis import analyze


def _close(value: float, published: float, tol: float = 0.02) -> bool:
    return abs(value - published) <= tol * published


@pytest.mark.parametrize("quantized", [False, True])
def test_published_macs(quantized: bool) -> None:
    macs = {name: analyze(build(name, quantized)).macs for name in NAMES}
    # ResNet-8: 12.5 M MACs (MLPerf Tiny, Banbury et al., arXiv:2106.07597).
    assert _close(macs["ic"], 12.5e6)
    # DS-CNN small: 5.4 M operations = 2.7 M MACs (Zhang et al., 'Hello Edge', arXiv:1711.07128).
    assert _close(macs["kws"], 2.7e6)
    # FC autoencoder 640-128x4-8-128x4-640: 0.264 M MACs.
    assert _close(macs["ad"], 264_192, tol=0.0)
    # MobileNetV1 0.25 at 96x96: 0.25-224's 41 M MACs (below) at (96/224)^2 of the pixels.
    assert _close(macs["vww"], 41.0e6 * (96 / 224) ** 2, tol=0.03)


def test_published_params() -> None:
    # 270 K parameters of the AD autoencoder (MLPerf Tiny); ours omit the 4 K of batch norm.
    assert _close(analyze(build("ad", False)).params, 270e3)
    # MobileNet paper (Howard et al., arXiv:1704.04861, Table 6/7): 1.0-224 569 M MACs, 4.2 M
    # params; 0.25-224 41 M MACs, 0.5 M params (rounded to one decimal).
    full = analyze(mobilenet_v1(False, alpha=1.0, size=224, classes=1000))
    assert _close(full.macs, 569e6, tol=0.005) and _close(full.params, 4.2e6)
    quarter = analyze(mobilenet_v1(False, alpha=0.25, size=224, classes=1000))
    assert _close(quarter.macs, 41e6, tol=0.01) and abs(quarter.params - 0.5e6) < 0.05e6


@pytest.mark.parametrize("name", NAMES)
def test_runs_and_is_deterministic(name: str) -> None:
    for quantized in (False, True):
        model = build(name, quantized)
        assert model.SerializeToString() == build(name, quantized).SerializeToString()
        assert analyze(model).is_quantized == quantized
        session = ort.InferenceSession(model.SerializeToString())
        feed = session.get_inputs()[0]
        x = np.full(feed.shape, 0.5, np.float32)
        assert np.isfinite(session.run(None, {feed.name: x})[0]).all()


def test_unknown_name() -> None:
    with pytest.raises(ValueError, match="kws"):
        build("resnet50", False)
