"""``edge_workload`` in real runs: merging, collection errors, budgets and the rate check."""

from __future__ import annotations

import json

import pytest

from pytest_edgegate.workload import merge, parse_marker

pytestmark = pytest.mark.usefixtures("models_dir")


def test_markers_merge_closest_keyword_wins() -> None:
    module = [parse_marker((), {"rate_hz": 10, "battery_wh": 20})]
    klass = [parse_marker((), {"battery_wh": 5, "duration_s": None})]
    function = [parse_marker((), {"rate_hz": 30})]
    merged = merge([function, klass, module])
    assert (merged.rate_hz, merged.battery_wh, merged.duration_s) == (30, 5, None)
    assert merge([[], []]) is None


def test_workload_budgets_in_a_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.edge_workload(rate_hz=1000000, battery_wh=37)
        class TestCamera:
            @pytest.mark.edge_workload(rate_hz=5)
            @pytest.mark.edge_budget(battery_life_h=1, sustained_latency_ms=1000, power_w=100)
            def test_camera(self, edge):
                r = edge.evaluate("models/tiny.onnx")
                assert r.sources["battery_life_h"] == "estimate"
                assert r.metrics["sustained_latency_ms"] == r.metrics["latency_ms"]

            def test_too_fast(self, edge):
                edge.evaluate("models/tiny.onnx")

            @pytest.mark.edge_budget(battery_life_h=1000000)
            @pytest.mark.edge_workload(rate_hz=5)
            def test_battery_too_small(self, edge):
                edge.evaluate("models/tiny.onnx")

        @pytest.mark.edge_budget(sustained_latency_ms=1000)
        def test_no_workload(edge):
            edge.evaluate("models/tiny.onnx")
        """
    )
    result = pytester.runpytest("--edge-target=cortex-a72", "--edge-json=out.json")
    result.stdout.fnmatch_lines(
        [
            "*rate_hz (cortex-a72 holds at most * Hz once throttled, * Hz before): "
            "1,000,000 Hz, estimate on cortex-a72, limit <= * Hz",
            "*battery_life_h: * h, estimate on cortex-a72, limit >= 1,000,000 h (114 years)",
        ]
    )
    assert "sustained_latency_ms: not available on cortex-a72: needs a workload" in str(
        result.stdout
    )
    result.stdout.fnmatch_lines(
        ["workload * rate * burst * sustained * throttles after * holds * power * battery",
         "*TestCamera::test_camera * 5 Hz * ms * ms * none * Hz * W * h"]
    )  # fmt: skip
    result.assert_outcomes(passed=1, failed=3)
    doc = json.loads((pytester.path / "out.json").read_text())
    camera = next(r for r in doc["results"] if "test_camera" in r["nodeid"])
    workload = camera["details"]["workload"]
    assert workload["workload"] == {"rate_hz": 5.0, "battery_wh": 37.0, "duration_s": None}
    assert workload["battery_from"] == "marker"
    assert camera["units"]["power_w"] == "W" and camera["units"]["battery_life_h"] == "h"


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        ("edge_workload(rate_hz='30Hz')", "expects a number, got '30Hz'"),
        ("edge_workload(rate_hz=-1)", "above 0"),
        ("edge_workload(30)", "keyword arguments only"),
        ("edge_workload(rate=30)", "unknown keyword 'rate'"),
        ("edge_workload(battery_wh=10)", "needs rate_hz"),
    ],
)
def test_bad_markers_are_collection_errors_naming_the_test(
    pytester: pytest.Pytester, marker: str, expected: str
) -> None:
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.{marker}
        def test_bad(edge):
            edge.evaluate("models/tiny.onnx")
        """
    )
    result = pytester.runpytest("--edge-target=cortex-a72")
    result.stdout.fnmatch_lines([f"*test_bad*{expected}*"])
    result.assert_outcomes(errors=1)


def test_same_level_conflict_is_an_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.edge_workload(rate_hz=5)
        @pytest.mark.edge_workload(rate_hz=10)
        def test_twice(edge):
            edge.evaluate("models/tiny.onnx")
        """
    )
    result = pytester.runpytest("--edge-target=cortex-a72")
    result.stdout.fnmatch_lines(["*test_twice*'rate_hz' is given twice at the same level*"])


def test_regression_thresholds_know_battery_life_is_a_minimum() -> None:
    from pytest_edgegate.baseline.regression import compare_entry, parse_thresholds

    thresholds = parse_thresholds("battery_life_h:5%,sustained_latency_ms:5%,power_w:0.1", "t")

    def entry(life: float, sustained: float, power: float) -> dict:
        return {
            "nodeid": "t",
            "target": "cortex-a72",
            "profile_version": "1",
            "costmodel_version": "v",
            "metrics": {
                "battery_life_h": life,
                "sustained_latency_ms": sustained,
                "power_w": power,
            },
            "sources": dict.fromkeys(
                ("battery_life_h", "sustained_latency_ms", "power_w"), "estimate"
            ),
        }

    old = entry(10.0, 40.0, 4.0)
    statuses = {
        d.metric: d.status for d in compare_entry("k", entry(9.0, 43.0, 4.2), old, thresholds, "v")
    }
    assert statuses == {
        "battery_life_h": "regressed",
        "sustained_latency_ms": "regressed",
        "power_w": "regressed",
    }
    better = compare_entry("k", entry(11.0, 37.0, 3.8), old, thresholds, "v")
    assert {d.status for d in better} == {"improved"}
