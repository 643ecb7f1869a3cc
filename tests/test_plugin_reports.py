"""JSON results, baselines, regression gating and GitHub outputs through a real pytest run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from modelgen import conv_model, save

from pytest_edgegate.profiles import load_catalogue

pytestmark = pytest.mark.usefixtures("models_dir")

TESTS = """
import pytest

@pytest.mark.edge_budget(size_mb=1.0)
def test_model(edge):
    edge.evaluate("models/current.onnx")

def test_other(edge):
    edge.evaluate("models/tiny.onnx")
"""


def use_model(pytester: pytest.Pytester, channels: int) -> None:
    save(conv_model(channels=channels), pytester.path / "models" / "current.onnx")


def test_json_results_are_complete_and_sorted(pytester: pytest.Pytester) -> None:
    use_model(pytester, 8)
    pytester.makepyfile(TESTS)
    result = pytester.runpytest("--edge-target=cortex-a72,cortex-a53", "--edge-json=out.json")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["edgegate wrote JSON results: *out.json"])
    doc = json.loads((pytester.path / "out.json").read_text())
    assert doc["schema_version"] == 1 and doc["tool"]["name"] == "pytest-edgegate"
    shipped = load_catalogue()
    assert doc["environment"]["onnxruntime"] and doc["environment"]["profiles"] == {
        t: shipped.get(t).version for t in ("cortex-a53", "cortex-a72")
    }
    ids = [(r["nodeid"], r["target"]) for r in doc["results"]]
    assert ids == sorted(ids) and len(ids) == 4
    first = doc["results"][0]
    assert first["sha256"] and first["model_path"].endswith(".onnx")
    assert first["units"]["size_mb"] == "MB" and first["sources"]["size_mb"] == "static"
    assert first["details"]["nodes"] and first["verdicts"]


def test_xdist_writes_the_same_json(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    use_model(pytester, 8)
    pytester.makepyfile(TESTS)
    args = ["--edge-target=cortex-a72,cortex-a53"]
    pytester.runpytest_subprocess(*args, "--edge-json=serial.json")
    pytester.runpytest_subprocess(*args, "--edge-json=parallel.json", "-n", "2")
    serial = json.loads((pytester.path / "serial.json").read_text())
    parallel = json.loads((pytester.path / "parallel.json").read_text())
    for doc in (serial, parallel):
        doc.pop("generated")
    assert serial == parallel


def test_baseline_update_then_regression_fails_the_session(pytester: pytest.Pytester) -> None:
    use_model(pytester, 8)
    pytester.makepyfile(TESTS)
    args = ["--edge-target=cortex-a72", "--edge-baseline=edge-baseline.json"]
    result = pytester.runpytest(*args, "--edge-update-baseline")
    assert result.ret == 0
    base = json.loads((pytester.path / "edge-baseline.json").read_text())
    assert sorted(base["entries"]) == [
        "test_baseline_update_then_regression_fails_the_session.py::test_model[cortex-a72]",
        "test_baseline_update_then_regression_fails_the_session.py::test_other[cortex-a72]",
    ]
    # Same model: passes and nothing regresses.
    result = pytester.runpytest(*args)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["target cortex-a72: 2 passed, 0 failed, 0 regressed -> PASS"])
    # A bigger model, still under its 1 MB budget: the tests pass but the session fails.
    use_model(pytester, 16)
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "target cortex-a72: 2 passed, 0 failed, 1 regressed -> FAIL",
            "*test_model*current.onnx*REGRESSED*",
            "REGRESSED *test_model[[]cortex-a72[]]: macs_m * -> * (+*%), threshold 2%",
        ]
    )
    # A per-test threshold on the marker loosens it.
    metrics = ("macs_m", "size_mb", "flops_m", "params_m", "peak_memory_mb", "latency_ms")
    loose = ",".join(f"{m}:200%" for m in (*metrics, "energy_mj", "power_w"))
    pytester.makepyfile(TESTS.replace("size_mb=1.0", f"size_mb=1.0, regression='{loose}'"))
    assert pytester.runpytest(*args).ret == 0


def test_partial_run_keeps_baseline_entries(pytester: pytest.Pytester) -> None:
    use_model(pytester, 8)
    pytester.makepyfile(TESTS)
    args = ["--edge-target=cortex-a72", "--edge-baseline=b.json", "--edge-update-baseline"]
    pytester.runpytest(*args)
    pytester.runpytest(*args, "-k", "test_model")
    entries = json.loads((pytester.path / "b.json").read_text())["entries"]
    assert len(entries) == 2
    result = pytester.runpytest("--edge-target=cortex-a72", "--edge-baseline=b.json", "-k", "model")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*1 not run*"])


def test_corrupt_baseline_fails_clearly_and_still_writes_json(pytester: pytest.Pytester) -> None:
    use_model(pytester, 8)
    pytester.makepyfile(TESTS)
    (pytester.path / "b.json").write_text('{"schema_version": 1, "entr')
    result = pytester.runpytest(
        "--edge-target=cortex-a72", "--edge-baseline=b.json", "--edge-json=out.json"
    )
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["edgegate error: baseline *b.json: not valid JSON*"])
    assert json.loads((pytester.path / "out.json").read_text())["results"]
    result.stdout.no_fnmatch_line("*INTERNALERROR*")


def test_unwritable_report_path_is_a_warning(pytester: pytest.Pytester) -> None:
    use_model(pytester, 8)
    pytester.makepyfile(TESTS)
    (pytester.path / "blocker").write_text("a file, not a folder")
    result = pytester.runpytest("--edge-target=cortex-a72", "--edge-json=blocker/out.json")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["edgegate warning: could not write the JSON results to *blocker*"])


def test_update_baseline_needs_a_path(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--edge-update-baseline")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--edge-update-baseline needs --edge-baseline PATH*"])
    result = pytester.runpytest("--edge-regression=speed:5%")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown metric 'speed'*"])


def test_github_actions_outputs(pytester: pytest.Pytester, monkeypatch, tmp_path: Path) -> None:
    use_model(pytester, 8)
    pytester.makepyfile(TESTS.replace("size_mb=1.0", "size_mb=0.0001"))
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = pytester.runpytest("--edge-target=cortex-a72")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["::error file=test_github_actions_outputs.py,line=3,title=edgegate budget%3A *::size_mb *"]
    )
    text = summary.read_text()
    assert "## edgegate" in text and "### Broken budgets" in text and "size_mb" in text


def _git(cwd: Path, *args: str) -> None:
    import subprocess

    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd, check=True, capture_output=True,
    )  # fmt: skip


def test_git_baseline_evaluates_the_old_model_in_the_same_run(
    pytester: pytest.Pytester,
) -> None:
    use_model(pytester, 8)
    pytester.makepyfile(TESTS)
    _git(pytester.path, "init", "-q")
    _git(pytester.path, "add", "models/current.onnx", "models/tiny.onnx")
    _git(pytester.path, "commit", "-q", "-m", "models")
    args = ["--edge-target=cortex-a72", "--edge-baseline=git:HEAD", "--edge-json=out.json"]
    assert pytester.runpytest(*args).ret == 0
    use_model(pytester, 16)  # the branch makes the model bigger and slower
    result = pytester.runpytest(*args, "--edge-measure", "--edge-time-cap=0.2")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["REGRESSED *test_model*: latency_ms * -> * (+*%), threshold 2%"])
    doc = json.loads((pytester.path / "out.json").read_text())
    model = next(r for r in doc["results"] if "test_model" in r["nodeid"])
    old = model["details"]["git_baseline"]
    assert old["found"] and old["metrics"]["macs_m"] < model["metrics"]["macs_m"]
    assert old["measured"]["p50_ms"] > 0  # the old model was run too, in this same run
    bad = pytester.runpytest("--edge-target=cortex-a72", "--edge-baseline=git:no-such-ref")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*git:no-such-ref*'no-such-ref' is not a commit*"])


def test_regression_is_named_in_html_and_github_summary(
    pytester: pytest.Pytester, monkeypatch, tmp_path: Path
) -> None:
    use_model(pytester, 8)
    pytester.makepyfile(TESTS)
    args = ["--edge-target=cortex-a72", "--edge-baseline=b.json"]
    assert pytester.runpytest(*args, "--edge-update-baseline").ret == 0
    use_model(pytester, 16)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = pytester.runpytest(*args, "--edge-html=report.html", "-v")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    # -v adds each test's top operators to the table.
    result.stdout.fnmatch_lines(["*top operators*", "*test_model*Conv *% time*"])
    result.stdout.fnmatch_lines(["::error file=*title=edgegate regression%3A *::macs_m regressed*"])
    html = (pytester.path / "report.html").read_text()
    assert "regressed" in html and "macs_m" in html
    text = summary.read_text()
    assert "### Regressions against the baseline" in text and "macs_m" in text


def test_a_crashing_worker_leaves_the_other_results(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    use_model(pytester, 8)
    pytester.makepyfile(
        TESTS
        + """

def test_crash(edge):
    import os
    edge.evaluate("models/tiny.onnx")
    os._exit(3)  # the worker dies mid-test
"""
    )
    result = pytester.runpytest_subprocess(
        "--edge-target=cortex-a72", "-n", "2", "--edge-json=out.json"
    )
    result.stdout.no_fnmatch_line("*INTERNALERROR*")
    doc = json.loads((pytester.path / "out.json").read_text())
    ids = {r["nodeid"].split("::")[-1] for r in doc["results"]}
    assert {"test_model[cortex-a72]", "test_other[cortex-a72]"} <= ids
    assert "test_crash[cortex-a72]" not in ids  # no data, not a crash of the gate


def test_expected_failures_do_not_fail_the_gate(
    pytester: pytest.Pytester, monkeypatch, tmp_path: Path
) -> None:
    use_model(pytester, 8)
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.xfail(reason="this model is not meant for the device", strict=True)
        @pytest.mark.edge_budget(size_mb=0.0001)
        def test_not_for_this_device(edge):
            edge.evaluate("models/current.onnx")

        def test_fine(edge):
            edge.evaluate("models/tiny.onnx")
        """
    )
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = pytester.runpytest("--edge-target=cortex-a72", "--edge-html=r.html")
    assert result.ret == 0
    result.assert_outcomes(passed=1, xfailed=1)
    result.stdout.fnmatch_lines(["target cortex-a72: 1 passed, 0 failed, 1 xfailed -> PASS"])
    result.stdout.no_fnmatch_line("::error*")
    html = (pytester.path / "r.html").read_text()
    assert "Gate passed" in html and "expected failure" in html
    assert "### Broken budgets" not in summary.read_text()
