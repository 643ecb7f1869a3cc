"""The ``edgegate`` console script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from modelgen import conv_model, save

from pytest_edgegate.cli import main


def test_targets_lists_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["targets"]) == 0
    out = capsys.readouterr().out
    assert "cortex-a72" in out and "edgetpu" in out and "cortex-m7" in out


def test_targets_verbose_shows_sources(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["targets", "-v"]) == 0
    assert "cortex-a72 sources:" in capsys.readouterr().out


def test_analyze_prints_metrics_and_fit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = save(conv_model(channels=8, hw=16), tmp_path / "m.onnx")
    assert main(["analyze", str(path), "--target", "cortex-m7"]) == 0
    out = capsys.readouterr().out
    assert "macs_m" in out and "fits" in out
    assert main(["analyze", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    # Conv: 16*16 outputs x 8 channels x 27 MACs; Gemm: 8 x 10.
    assert data["metrics"]["macs_m"] == pytest.approx((16 * 16 * 8 * 27 + 80) / 1e6)


def test_errors_are_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(tmp_path / "missing.onnx")]) == 4
    assert "missing.onnx" in capsys.readouterr().err
    path = save(conv_model(), tmp_path / "m.onnx")
    assert main(["analyze", str(path), "--target", "nope"]) == 4
    assert "known targets" in capsys.readouterr().err
    assert main(["analyze", str(path), "--input-shape", "x=1xAx3"]) == 4
    assert "NAME=1x3x224x224" in capsys.readouterr().err
