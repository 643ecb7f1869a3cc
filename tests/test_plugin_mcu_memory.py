"""Microcontroller SRAM and flash through a real pytest run: verdicts, JSON, terminal, HTML."""

from __future__ import annotations

import json

import onnx
import pytest

from bench.fitting import mcu_twins


def test_mcu_memory_is_reported_everywhere(pytester: pytest.Pytester) -> None:
    models = pytester.path / "models"
    models.mkdir()
    onnx.save(mcu_twins.build("resnet8"), str(models / "resnet8.onnx"))
    pytester.makepyfile(
        """
        def test_ic(edge):
            edge.evaluate("models/resnet8.onnx")
        """
    )
    result = pytester.runpytest(
        "--edge-target=cortex-m7", "--edge-json=out.json", "--edge-html=out.html"
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["*memory resnet8.onnx: SRAM 55.7 kB = arena 49.7 kB (scratch at the peak 0.6 kB)*"]
    )
    (res,) = json.loads((pytester.path / "out.json").read_text())["results"]
    mcu = res["details"]["mcu_memory"]
    arena = mcu["arena"]
    assert mcu["sram_bytes"] == arena["planned_bytes"] + arena["persistent_bytes"]
    assert arena["scratch_bytes"] == 576  # CMSIS-NN im2col of the 3x3 conv on 16 channels
    assert arena["peak_tensors"] and arena["buffers"]
    assert mcu["flash_bytes"] == mcu["weights_bytes"] + mcu["code"]["total_bytes"]
    assert set(mcu["code"]["kernel_bytes"]) == {"add", "average_pool", "conv", "fully_connected"}
    assert mcu["code"]["unmeasured_ops"] == ["Softmax"]  # a float Softmax after the last DQ
    sram = next(v for v in res["verdicts"] if v["metric"] == "sram_mb")
    assert sram["value"] == pytest.approx(mcu["sram_bytes"] / 1e6)
    html = (pytester.path / "out.html").read_text()
    assert "Microcontroller memory" in html and "Live at the peak" in html
