"""Deliberate budget failures, to show what a red gate says.

Not part of the example's main run (pytest.ini's testpaths is tests/); run it with
``pytest failing/`` from example_project/.  The float MobileNet breaks a size and a compute
budget meant for a much smaller model::

    edgegate: mobilenet_v2_035_fp32.onnx breaks 2 budget(s):
      macs_m: 59.29 M, static on cortex-a72, limit <= 50 M
      size_mb: 6.697 MB, static on cortex-a72, limit <= 4 MB
"""

import pytest


@pytest.mark.edge_budget(size_mb=4, macs_m=50)
def test_fp32_over_budget(edge):
    edge.evaluate("models/mobilenet_v2_035_fp32.onnx")
