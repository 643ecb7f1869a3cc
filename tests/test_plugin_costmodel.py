"""Latency, energy and NPU coverage from the shipped, calibrated profiles, in a real run."""

from __future__ import annotations

import json

import pytest
from costmodel.test_estimate import qdq_model
from modelgen import save

pytestmark = pytest.mark.usefixtures("models_dir")


def test_estimates_are_enforced_per_target(pytester: pytest.Pytester) -> None:
    save(qdq_model(), pytester.path / "models" / "int8.onnx")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.edge_budget(latency_ms=1000, energy_mj=1000, npu_coverage=0.9)
        def test_int8(edge):
            r = edge.evaluate("models/int8.onnx")
            assert r.sources["latency_ms"] == "estimate" and r.sources["energy_mj"] == "estimate"

        @pytest.mark.edge_budget(npu_coverage=0.9)
        def test_float_on_npu(edge):
            edge.evaluate("models/tiny.onnx")

        @pytest.mark.edge_budget(latency_ms=0.000001, energy_mj=0.000001)
        def test_too_slow(edge):
            edge.evaluate("models/tiny.onnx")
        """
    )
    args = ["--edge-target=cortex-a76,edgetpu", "--edge-json=out.json"]
    result = pytester.runpytest(*args)
    # int8 on cortex-a76 has no NPU: npu_coverage is not available there, never a silent pass.
    result.stdout.fnmatch_lines(
        [
            "*npu_coverage: not available on cortex-a76: cortex-a76 has no NPU*",
            "*npu_coverage: 0, estimate on edgetpu, limit >= 0.9*",
            "*latency_ms: * ms, estimate on cortex-a76, limit <= 1e-06 ms*",
            "*energy_mj: * mJ, estimate on edgetpu, limit <= 1e-06 mJ*",
        ]
    )
    result.assert_outcomes(passed=1, failed=5)
    doc = json.loads((pytester.path / "out.json").read_text())
    int8 = next(r for r in doc["results"] if "test_int8[edgetpu]" in r["nodeid"])
    assert int8["metrics"]["npu_coverage"] == 1.0
    est = int8["details"]["estimate"]
    assert est["partitions"] == 1 and {n["device"] for n in est["nodes"]} == {"npu"}
    # Deterministic: a second run gives bit-identical estimates.
    pytester.runpytest(*args[:1], "--edge-json=again.json")
    again = json.loads((pytester.path / "again.json").read_text())
    assert [r["metrics"] for r in again["results"]] == [r["metrics"] for r in doc["results"]]
