"""Deliberate budget failures, to show what a red gate says.

Not part of the example's main run (pytest.ini's testpaths is tests/); run it with
``pytest failing/`` from example_project/.
"""

from pathlib import Path

import pytest

MODELS = Path(__file__).parent.parent / "models"


@pytest.mark.edge_budget(size_mb=0.1, macs_m=5)
def test_fp32_over_budget(edge):
    edge.evaluate(MODELS / "mobilenet_tiny_fp32.onnx")
