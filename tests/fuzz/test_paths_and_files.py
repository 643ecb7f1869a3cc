"""Paths and files: model files over ``--edge-max-model-mb`` are refused before they are read,
and reports and baselines are written atomically, so that concurrent writers of one path
leave one complete file, never a mix.  (External data resolved inside the model's folder
only: ``test_hostile_models.py`` and the loader's own tests.)"""

from __future__ import annotations

import builtins
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from modelgen import big_dense_model, conv_model, save

from pytest_edgegate.settings import OPTIONS

TWO_TESTS = """
def test_big(edge):
    edge.evaluate("models/big.onnx")

def test_tiny(edge):
    edge.evaluate("models/tiny.onnx")
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    save(conv_model(), pytester.path / "models" / "tiny.onnx")
    save(big_dense_model(1.0), pytester.path / "models" / "big.onnx")  # 4 MB of weights
    pytester.makepyfile(TWO_TESTS)
    return pytester


def test_the_option_is_declared_like_the_others() -> None:
    [option] = [o for o in OPTIONS if o.flag == "--edge-max-model-mb"]
    assert (option.ini, option.kind, option.default) == ("edge_max_model_mb", "float", 2000.0)
    assert option.env == "EDGEGATE_MAX_MODEL_MB"


@pytest.mark.parametrize("how", ["option", "ini", "env"])
def test_a_model_file_over_the_limit_fails_its_test(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    args = ["--edge-target=cortex-a72"]
    if how == "option":
        args.append("--edge-max-model-mb=1")
    elif how == "ini":
        project.makeini("[pytest]\nedge_max_model_mb = 1\n")
    else:
        monkeypatch.setenv("EDGEGATE_MAX_MODEL_MB", "1")
    result = project.runpytest(*args)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "edgegate: *models/big.onnx: model file is 4,000,*bytes, over the limit of "
            "1,000,000 bytes*--edge-max-model-mb*refused without reading it"
        ]
    )


def test_the_file_is_refused_before_it_is_opened(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = str((project.path / "models" / "big.onnx").resolve())
    opened: list[str] = []
    real_open, real_os_open = builtins.open, os.open

    def record(path) -> None:
        if not isinstance(path, int) and os.path.realpath(os.fspath(path)) == big:
            opened.append(big)

    def guarded_open(file, *args, **kwargs):
        record(file)
        return real_open(file, *args, **kwargs)

    def guarded_os_open(path, *args, **kwargs):
        record(path)
        return real_os_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(os, "open", guarded_os_open)
    result = project.runpytest("--edge-target=cortex-a72", "--edge-max-model-mb=1")
    result.assert_outcomes(passed=1, failed=1)
    assert opened == []


def test_the_default_limit_refuses_a_sparse_2_gb_file(project: pytest.Pytester) -> None:
    with open(project.path / "models" / "big.onnx", "r+b") as fh:
        fh.truncate(2_100_000_000)  # sparse: no disk used, and never read
    result = project.runpytest("--edge-target=cortex-a72")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*over the limit of 2,000,000,000 bytes*"])


@pytest.mark.parametrize("value", ["abc", "-1", "0", "inf"])
def test_a_bad_limit_is_a_usage_error(project: pytest.Pytester, value: str) -> None:
    result = project.runpytest("--edge-target=cortex-a72", f"--edge-max-model-mb={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--edge-max-model-mb expects a *"])


# ----------------------------------------------------------------------- atomic writes

WRITER = textwrap.dedent(
    """
    import sys
    from pytest_edgegate.report.jsonio import write_json

    path, tag, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    doc = {"writer": tag, "rows": [tag * 50] * 20_000}  # about 1 MB
    for i in range(rounds):
        doc["round"] = i
        write_json(path, doc)
    """
)


def test_concurrent_writers_leave_one_complete_file(tmp_path: Path) -> None:
    """Two processes rewrite one report path 30 times each while it is read: every read, and
    the file left at the end, is one writer's complete document."""
    path = tmp_path / "report.json"
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), tag, "30"]) for tag in ("a", "b")
    ]
    reads = 0
    while any(p.poll() is None for p in procs):
        if path.exists():
            doc = json.loads(path.read_text(encoding="utf-8"))  # never half a file
            assert doc["rows"] == [doc["writer"] * 50] * 20_000
            reads += 1
    assert [p.returncode for p in procs] == [0, 0]
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["writer"] in ("a", "b") and doc["round"] == 29
    assert reads > 0
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary file left


def test_two_sessions_writing_the_same_reports_leave_complete_files(
    project: pytest.Pytester,
) -> None:
    """Two pytest runs of the gate at once, with the same --edge-json, --edge-html and
    baseline paths (two CI jobs sharing a workspace, say)."""
    out = project.path / "out"
    args = [
        "-m", "pytest", "-p", "no:cacheprovider", "--edge-target=cortex-a72",
        f"--edge-json={out / 'r.json'}", f"--edge-html={out / 'r.html'}",
        f"--edge-baseline={out / 'base.json'}", "--edge-update-baseline",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "EDGEGATE_"))}
    procs = [
        subprocess.Popen(
            [sys.executable, *args, "-k", k],
            cwd=project.path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for k in ("big", "tiny")
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    doc = json.loads((out / "r.json").read_text(encoding="utf-8"))
    assert len(doc["results"]) == 1 and doc["results"][0]["model"] in ("big.onnx", "tiny.onnx")
    html = (out / "r.html").read_text(encoding="utf-8")
    assert html.rstrip().endswith("</html>") and html.count("<html") == 1
    base = json.loads((out / "base.json").read_text(encoding="utf-8"))
    assert base["entries"]
    assert sorted(p.name for p in out.iterdir()) == ["base.json", "r.html", "r.json"]
