"""A ``.tflite`` graph goes through the cost model like an ONNX graph, NPU placement included."""

from __future__ import annotations

from tflite_models import small_cnn

from pytest_edgegate.analysis import analyze
from pytest_edgegate.costmodel import estimate
from pytest_edgegate.costmodel.placement import place
from pytest_edgegate.costmodel.terms import executed
from pytest_edgegate.formats import load
from pytest_edgegate.profiles import load_catalogue


def test_int8_tflite_runs_entirely_on_the_edge_tpu(tmp_path):
    path = tmp_path / "m.tflite"
    path.write_bytes(small_cnn(int8=True))
    analysis = analyze(load(path))
    edgetpu = load_catalogue([]).get("edgetpu")
    placements = place(list(executed(analysis.nodes)), edgetpu)
    # the Edge TPU compiler's table lists ADD, AVERAGE_POOL_2D, FULLY_CONNECTED, SOFTMAX: their
    # QOperator forms (QLinearAdd, QLinearAveragePool, QGemm, QLinearSoftmax) go there too
    assert [p.device for p in placements] == ["npu"] * len(placements), placements
    assert estimate(analysis, edgetpu).npu_coverage == 1.0


def test_float_tflite_falls_back_to_the_edge_tpu_host_cpu(tmp_path):
    path = tmp_path / "m.tflite"
    path.write_bytes(small_cnn())
    est = estimate(analyze(load(path)), load_catalogue([]).get("edgetpu"))
    assert est.npu_coverage == 0.0
    assert any("CPU FALLBACK" in n for n in est.notes)
