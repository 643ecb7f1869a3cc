"""Isolation: whatever executes a model runs where a native crash, an abort, a hang or a
runaway allocation takes down only the test that asked for it, never the session; no custom
operator library is ever loaded; onnxruntime's telemetry writes nothing and sends nothing.

The crashes come from the test hooks of the children (``EDGEGATE_RUNNER_FAULT`` and
``EDGEGATE_ACCURACY_FAULT``), set by one test only, so its neighbours run clean children.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest
from modelgen import conv_model, save

import pytest_edgegate
from pytest_edgegate.runner import ort_session
from pytest_edgegate.runner.launch import child_env

PACKAGE = Path(pytest_edgegate.__file__).parent


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    save(conv_model(), pytester.path / "models" / "tiny.onnx")
    save(conv_model(seed=1), pytester.path / "models" / "reference.onnx")
    return pytester


@pytest.mark.parametrize(
    ("fault", "says"), [("segv", "crashed (SIGSEGV)"), ("abort", "crashed (SIGABRT)")]
)
def test_a_crashing_run_fails_only_its_test(
    project: pytest.Pytester, fault: str, says: str
) -> None:
    """The run after the crash also shows that the timing lock the crashed child held is
    free again.  (A hanging child is killed at ``--edge-timeout``: tests/runner.)"""
    project.makepyfile(
        f"""
        def test_before(edge):
            edge.evaluate("models/tiny.onnx", measure=True)

        def test_faulty(edge, monkeypatch):
            monkeypatch.setenv("EDGEGATE_RUNNER_FAULT", "{fault}:first-run")
            edge.evaluate("models/tiny.onnx", measure=True)

        def test_after(edge):
            edge.evaluate("models/tiny.onnx", measure=True)
        """
    )
    result = project.runpytest_subprocess(
        "--edge-target=cortex-a72", "--edge-timeout=60", "--edge-time-cap=0.1", timeout=300
    )
    result.assert_outcomes(passed=2, failed=1)
    said = re.escape(says)
    result.stdout.re_match_lines([rf"edgegate: .*(tiny\.onnx.*{said}|{said}.*tiny\.onnx)"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize(("fault", "op"), [("segv", "run"), ("abort", "open")])
def test_a_crashing_accuracy_child_fails_only_its_test(
    project: pytest.Pytester, fault: str, op: str
) -> None:
    project.makepyfile(
        f"""
        import numpy as np

        DATA = [(np.zeros((1, 3, 16, 16), np.float32), np.array([1]))] * 3

        def test_faulty(edge, monkeypatch):
            monkeypatch.setenv("EDGEGATE_ACCURACY_FAULT", "{fault}:{op}")
            edge.evaluate("models/tiny.onnx", reference="models/reference.onnx",
                          dataset=DATA, metric="top1")

        def test_after(edge):
            edge.evaluate("models/tiny.onnx", reference="models/reference.onnx",
                          dataset=DATA, metric="top1")
        """
    )
    result = project.runpytest_subprocess(
        "--edge-target=cortex-a72", "--edge-timeout=60", timeout=300
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["edgegate: *tiny.onnx*"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_runaway_allocation_in_an_accuracy_child_fails_only_its_test(
    project: pytest.Pytester,
) -> None:
    """A model that expands each sample to 2 GB, on a board of 64 MiB: the child's memory cap
    stops it, the test fails as out of memory, the next test runs."""
    from onnx import TensorProto, helper

    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [1, 500_000_000])
    graph = helper.make_graph(
        [helper.make_node("Expand", ["x", "shape"], ["y"])],
        "hog",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 500_000_000])],
        [shape],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    save(model, project.path / "models" / "hog.onnx")
    project.makefile(
        ".toml",
        board='id = "small-board"\nversion = "1"\nname = "64 MiB"\nkind = "cpu"\n'
        'extends = "cortex-a72"\n[memory]\nram_mib = 64\navailable_ram_mib = 64\n',
    )
    project.makepyfile(
        """
        import numpy as np

        def test_hog(edge):
            edge.evaluate("models/hog.onnx", reference="models/hog.onnx",
                          dataset=[np.ones((2, 1), np.float32)])

        def test_after(edge):
            edge.evaluate("models/tiny.onnx", measure=True)
        """
    )
    result = project.runpytest_subprocess(
        "--edge-profiles=board.toml", "--edge-target=small-board", "--edge-time-cap=0.1",
        timeout=120,
    )  # fmt: skip
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["edgegate: *hog.onnx*memory*"])


def test_no_custom_operator_library_is_ever_loaded() -> None:
    """No code path registers a custom op library or loads native code: a model cannot
    bring its own kernels into the process that runs it.  (edgegate has no option to name a
    library, so none is loaded, ever.)"""
    forbidden = ("register_custom_ops_library", "CDLL", "LoadLibrary", "dlopen", "ctypes")
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            name = (
                node.attr
                if isinstance(node, ast.Attribute)
                else node.id
                if isinstance(node, ast.Name)
                else None
            )
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", "") or ""]
                if any(n.split(".")[0] == "ctypes" for n in names):
                    offenders.append(f"{path}:{node.lineno}: imports ctypes")
            elif name in forbidden:
                offenders.append(f"{path}:{node.lineno}: {name}")
    assert not offenders, offenders
    assert ort_session.describe(2)["custom_op_libraries"] == []
    assert ort_session.PROVIDERS == ["CPUExecutionProvider"]


def test_onnxruntime_telemetry_is_off_in_every_child(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """onnxruntime's telemetry client writes ``$TMPDIR/.ses`` and a store under
    ``~/.cache/Microsoft`` and may send events: the children run with it disabled."""
    monkeypatch.delenv("ORT_DISABLE_TELEMETRY", raising=False)
    assert child_env()["ORT_DISABLE_TELEMETRY"] == "1"
    monkeypatch.setenv("ORT_DISABLE_TELEMETRY", "0")  # a user's explicit choice is kept
    assert child_env()["ORT_DISABLE_TELEMETRY"] == "0"
    monkeypatch.delenv("ORT_DISABLE_TELEMETRY")

    tmp = project.path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    project.makepyfile(
        """
        import numpy as np

        def test_run(edge):
            edge.evaluate("models/tiny.onnx", measure=True)

        def test_accuracy(edge):
            edge.evaluate("models/tiny.onnx", reference="models/reference.onnx",
                          dataset=[np.zeros((1, 3, 16, 16), np.float32)])
        """
    )
    result = project.runpytest_subprocess(
        "--edge-target=cortex-a72", "--edge-time-cap=0.1", timeout=120
    )
    result.assert_outcomes(passed=2)
    left = sorted(p.name for p in tmp.iterdir() if not p.name.startswith("edgegate-timing-"))
    assert left == [], f"files left in TMPDIR: {left}"
    assert not os.path.exists(tmp / ".ses")
