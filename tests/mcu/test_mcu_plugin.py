"""edge.evaluate on microcontroller targets: latency, energy and the flash/SRAM fit together."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.usefixtures("models_dir")


def test_evaluate_on_mcu_targets(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.edge_budget(latency_ms=1000, energy_mj=1000)
        def test_tiny(edge):
            r = edge.evaluate("models/tiny.onnx")
            assert r.sources["latency_ms"] == "estimate"
            assert r.sources["energy_mj"] == "estimate"
        """
    )
    args = ["--edge-target=stm32h7,cortex-m4,cortex-m33", "--edge-json=out.json"]
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=3)
    doc = json.loads((pytester.path / "out.json").read_text())
    for r in doc["results"]:
        metrics = r["metrics"]
        assert metrics["latency_ms"] > 0 and metrics["energy_mj"] > 0, r["target"]
        fit = {v["metric"] for v in r["verdicts"]}
        assert {"flash_mb", "sram_mb", "latency_ms", "energy_mj"} <= fit, r["target"]
    again = pytester.runpytest(args[0], "--edge-json=again.json")
    again.assert_outcomes(passed=3)
    second = json.loads((pytester.path / "again.json").read_text())
    assert [r["metrics"] for r in second["results"]] == [r["metrics"] for r in doc["results"]]
