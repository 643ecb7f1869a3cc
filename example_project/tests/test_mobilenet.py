"""Edge budgets for the example's image classifier, fp32 and int8.

Run from example_project/: ``pytest`` (targets come from pytest.ini) or
``pytest --edge-target=cortex-a53,cortex-m7``.
"""

from pathlib import Path

import pytest

MODELS = Path(__file__).parent.parent / "models"

# Every model in this module must stay under 1 MB on disk.
pytestmark = pytest.mark.edge_budget(size_mb=1.0)


@pytest.mark.edge_budget(params_m=0.1, macs_m=20, peak_memory_mb=2.0)
def test_fp32_classifier(edge):
    result = edge.evaluate(MODELS / "mobilenet_tiny_fp32.onnx")
    assert result.metrics["macs_m"] > 0


@pytest.mark.edge_budget(peak_memory_mb=1.0)
class TestInt8:
    def test_int8_is_smaller(self, edge, edge_model):
        fp32 = edge_model(MODELS / "mobilenet_tiny_fp32.onnx")
        result = edge.evaluate(MODELS / "mobilenet_tiny_int8.onnx")
        assert result.metrics["size_mb"] < fp32.analysis.file_bytes / 1e6 / 2

    @pytest.mark.edge_budget(size_mb=0.15)
    def test_int8_tight_size(self, edge):
        edge.evaluate(MODELS / "mobilenet_tiny_int8.onnx")
