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


def test_profile_prints_per_node_breakdown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from costmodel.test_estimate import CPU_TABLE, NPU_TABLE, qdq_model

    board = tmp_path / "board.toml"
    board.write_text(
        'id = "tpu-test"\nversion = "t"\nname = "t"\nkind = "npu"\nextends = "edgetpu"\n'
        + CPU_TABLE
        + NPU_TABLE
    )
    path = save(qdq_model(middle="Erf"), tmp_path / "q.onnx")
    args = ["profile", str(path), "--target", "tpu-test", "--profiles", str(board)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "conv1" in out and "npu" in out and "Erf is not an operator" in out
    assert "partition(s)" in out and "latency" in out
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["partitions"] == 1 and 0 < data["npu_coverage"] < 1
    assert main(["profile", str(path), "--target", "cortex-m7"]) == 0
    assert "latency" in capsys.readouterr().out


def _doc(target: str, size: float) -> dict:
    from pytest_edgegate.report.document import build

    result = {
        "nodeid": f"t.py::test_m[{target}]", "target": target, "profile_version": "1.0",
        "model": "m.onnx", "metrics": {"size_mb": size}, "sources": {"size_mb": "static"},
        "verdicts": [], "passed": True, "error": None,
    }  # fmt: skip
    return build([result], {"profiles": {target: "1.0"}}, None, "2026-01-01T00:00:00Z")


def test_merge_and_report_gate_after_the_fact(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pytest_edgegate.baseline import store as baseline
    from pytest_edgegate.report.jsonio import write_json

    write_json(tmp_path / "a.json", _doc("cortex-a72", 1.0))
    write_json(tmp_path / "b.json", _doc("edgetpu", 2.0))
    out = tmp_path / "all.json"
    assert main(["merge", str(tmp_path / "b.json"), str(tmp_path / "a.json"), "-o", str(out)]) == 0
    merged = json.loads(out.read_text())
    assert [r["target"] for r in merged["results"]] == ["cortex-a72", "edgetpu"]
    assert merged["environment"]["profiles"] == {"cortex-a72": "1.0", "edgetpu": "1.0"}
    base = tmp_path / "base.json"
    baseline.write(base, baseline.merged(None, merged["results"], "1"))
    capsys.readouterr()
    assert main(["report", str(out), "--baseline", str(base)]) == 0
    write_json(tmp_path / "c.json", _doc("edgetpu", 3.0))
    assert main(["merge", str(tmp_path / "a.json"), str(tmp_path / "c.json"), "-o", str(out)]) == 0
    assert (
        main(["report", str(out), "--baseline", str(base), "--json", str(tmp_path / "g.json")]) == 1
    )
    text = capsys.readouterr().out
    assert "REGRESSED t.py::test_m[edgetpu]: size_mb 2 -> 3 (+50.0 %)" in text
    assert json.loads((tmp_path / "g.json").read_text())["summary"]["edgetpu"]["regressed"] == 1


def test_report_rejects_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["report", str(bad)]) == 4
    assert "not a readable edgegate JSON results file" in capsys.readouterr().err
    assert main(["merge", str(tmp_path / "none.json"), "-o", str(tmp_path / "o.json")]) == 4
    assert "no such results file" in capsys.readouterr().err


def test_export_for_benchmark_trackers(tmp_path: Path) -> None:
    from pytest_edgegate.report.jsonio import write_json

    doc = _doc("cortex-a72", 1.5)
    doc["results"][0]["metrics"]["npu_coverage"] = 0.5
    write_json(tmp_path / "r.json", doc)
    assert main(["export", str(tmp_path / "r.json"), "-o", str(tmp_path / "s.json")]) == 0
    rows = json.loads((tmp_path / "s.json").read_text())
    assert rows == [
        {
            "name": "t.py::test_m[cortex-a72] size_mb", "unit": "MB", "value": 1.5,
            "extra": "model m.onnx; target cortex-a72; source static",
        }
    ]  # fmt: skip
    args = ["export", str(tmp_path / "r.json"), "-o", str(tmp_path / "b.json")]
    assert main([*args, "--direction", "bigger"]) == 0
    assert [r["name"] for r in json.loads((tmp_path / "b.json").read_text())] == [
        "t.py::test_m[cortex-a72] npu_coverage"
    ]
