"""A model is priced with the constants of the runtime that runs it (issue 17 item 2)."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
from tflite_models import small_cnn, small_cnn_onnx

from pytest_edgegate.analysis import analyze
from pytest_edgegate.costmodel import estimate
from pytest_edgegate.formats import load
from pytest_edgegate.profiles import load_catalogue
from pytest_edgegate.runtime_pricing import pricing_profile, profile_runtime

LITERT_COLUMN = "b360_pi5_litert_cifar100_latency_ms"


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue([])


def test_cortex_a76_litert_loads_validates_and_cites_its_column(catalogue) -> None:
    prof = catalogue.get("cortex-a76-litert")
    base = catalogue.get("cortex-a76")
    assert profile_runtime(prof) == "litert" and prof.raw["extends"] == "cortex-a76"
    assert not prof.unsourced
    assert prof.cpu == base.cpu and prof.power == base.power
    assert prof.raw["costmodel"] != base.raw["costmodel"]
    for key in prof.raw["costmodel"]:
        cite = prof.sources[f"costmodel.{key}"]
        assert "HW-NAS-Bench-360" in cite and "roldebijvank/HW-NAS-Bench-360" in cite
        assert "b360_pi5_litert_cifar100_" in cite
    assert LITERT_COLUMN in prof.sources["costmodel.eff_conv"]


def test_variant_for_the_models_runtime(catalogue) -> None:
    a76 = catalogue.get("cortex-a76")
    priced, notes, record = pricing_profile(a76, "litert", catalogue)
    assert priced.id == "cortex-a76-litert"
    assert notes == [
        "priced as litert with cortex-a76-litert's constants (the model runs on litert)"
    ]
    assert record["profile"] == "cortex-a76-litert"
    # the profile's own runtime, and ONNX (imported by every runtime): the target's constants
    assert pricing_profile(a76, "onnxruntime", catalogue)[0] is a76
    assert pricing_profile(a76, "onnxruntime", catalogue)[1] == []
    a72 = catalogue.get("cortex-a72")
    assert pricing_profile(a72, "litert", catalogue) == (a72, [], None)
    # a variant finds its base: a .tflite on cortex-a72-ncnn is priced as cortex-a72 (litert)
    assert pricing_profile(catalogue.get("cortex-a72-ncnn"), "litert", catalogue)[0] is a72


def test_no_variant_keeps_the_constants_and_says_so(catalogue) -> None:
    m7 = catalogue.get("cortex-m7")
    priced, notes, record = pricing_profile(m7, "tflite-micro", catalogue)
    assert priced is m7
    assert notes == [
        "the cost model's constants of cortex-m7 hold for x-cube-ai, not for tflite-micro that "
        "runs this model: no tflite-micro variant of cortex-m7 is in the catalogue"
    ]
    assert record == {
        "runtime": "tflite-micro",
        "profile": "cortex-m7",
        "constants_for": "x-cube-ai",
    }


def test_tflite_and_its_onnx_twin_on_cortex_a76(pytester: pytest.Pytester, catalogue) -> None:
    (pytester.path / "cnn.tflite").write_bytes(small_cnn())
    onnx.save(small_cnn_onnx(), str(pytester.path / "cnn.onnx"))
    pytester.makepyfile(
        """
        def test_tflite(edge):
            edge.evaluate("cnn.tflite")

        def test_onnx(edge):
            edge.evaluate("cnn.onnx")
        """
    )
    result = pytester.runpytest("--edge-target=cortex-a76", "--edge-json=out.json")
    result.assert_outcomes(passed=2)
    data = json.loads((pytester.path / "out.json").read_text())
    by_test = {r["nodeid"].split("::")[1].split("[")[0]: r for r in data["results"]}
    tfl, twin = by_test["test_tflite"], by_test["test_onnx"]
    a76, litert = catalogue.get("cortex-a76"), catalogue.get("cortex-a76-litert")
    tfl_analysis = analyze(load(pytester.path / "cnn.tflite"))
    onnx_analysis = analyze(small_cnn_onnx())
    assert tfl["metrics"]["latency_ms"] == estimate(tfl_analysis, litert).latency_ms
    assert tfl["metrics"]["latency_ms"] != estimate(tfl_analysis, a76).latency_ms
    assert twin["metrics"]["latency_ms"] == estimate(onnx_analysis, a76).latency_ms
    assert tfl["target"] == twin["target"] == "cortex-a76"
    note = "priced as litert with cortex-a76-litert's constants (the model runs on litert)"
    assert note in tfl["notes"]
    assert not any("priced as" in n for n in twin["notes"])
    assert tfl["details"]["estimate"]["priced_as"]["profile"] == "cortex-a76-litert"
    assert "priced_as" not in twin["details"]["estimate"]


def test_builtin_catalogue_without_a_session(catalogue) -> None:
    """A handle made outside pytest (no catalogue) finds the built-in variant."""
    priced, _, _ = pricing_profile(catalogue.get("cortex-a76"), "litert", None)
    assert priced.id == "cortex-a76-litert"
    assert Path(priced.origin).name == "cortex-a76-litert.toml"
