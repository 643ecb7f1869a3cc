"""Hostile inputs other than model bytes, through the real plugin: profile files, markers,
baselines, data sets, input files and in-memory models.  Each must end in a usage error or a
failing test whose message names the input and the problem: never an INTERNALERROR, a
traceback, a hang, or a read or write outside where it belongs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import onnx
import pytest
from modelgen import conv_model, save, with_external_location

from bench.fuzzing import inputs as fuzz_inputs

GOOD_TEST = "def test_good(edge):\n    edge.evaluate('models/tiny.onnx')\n"


def _no_crash(result: pytest.RunResult) -> str:
    output = result.stdout.str() + "\n" + result.stderr.str()
    assert "INTERNALERROR" not in output
    assert "Traceback" not in output
    return output


#: Files that block or never end when read: those runs go to a subprocess with a timeout, so a
#: regression hangs one test, not the session.  The others run in this process (a subprocess
#: start, with onnx and the plugin imported again, costs seconds on a loaded machine).
BLOCKING = ("fifo", "devzero")


def _run(project: pytest.Pytester, kind: str, *args: str, timeout: float) -> pytest.RunResult:
    if kind in BLOCKING:
        return project.runpytest_subprocess(*args, timeout=timeout)
    return project.runpytest(*args)


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    save(conv_model(), pytester.path / "models" / "tiny.onnx")
    save(conv_model(seed=1), pytester.path / "models" / "reference.onnx")
    return pytester


# ----------------------------------------------------------------------------- profiles

PROFILE = (
    'id = "my-board"\nversion = "1"\nname = "x"\nkind = "cpu"\nextends = "cortex-a72"\n'
    "[memory]\nram_mib = {ram}\n"
)


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("fifo", "not a regular file"),
        ("devzero", "not a regular file"),
        ("unit-string", "ram_mib"),
        ("negative", "ram_mib"),
        ("nan", "ram_mib"),
        ("truncated", "not valid TOML"),
        ("binary", "not valid TOML"),
        ("unknown-key", "surprise"),
        ("extends-unknown", "extends"),
        ("empty", "id"),
    ],
)
def test_malformed_profile_file_is_a_usage_error_naming_it(
    project: pytest.Pytester, kind: str, says: str
) -> None:
    path = project.path / "board.toml"
    text = {
        "unit-string": PROFILE.format(ram='"4MB"'),
        "negative": PROFILE.format(ram="-1"),
        "nan": PROFILE.format(ram="nan"),
        "truncated": PROFILE.format(ram=1024)[:27],  # mid-value
        "binary": "\x00\xff\xfe garbage",
        "unknown-key": PROFILE.format(ram=1024) + "surprise = 1\n",
        "extends-unknown": PROFILE.format(ram=1024).replace('"cortex-a72"', '"nope"'),
        "empty": "",
    }
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "devzero":
        os.symlink("/dev/zero", path)
    else:
        path.write_bytes(text[kind].encode("utf-8", "surrogateescape"))
    project.makepyfile(GOOD_TEST)
    result = _run(project, kind, "--edge-profiles=board.toml", "--edge-target=my-board", timeout=60)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = _no_crash(result)
    assert "board.toml" in output and says in output


# ------------------------------------------------------------------------------ markers


@pytest.mark.parametrize(
    "args",
    [
        "size_mb=10**400",
        "size_mb=-(10**400)",
        "size_mb=10**5000",
        "size_mb='4MB'",
        "size_mb=float('nan')",
        "size_mb=object()",
        "sizemb=1",
        "'positional'",
        "regression={'latency_ms': 10**400}",
        "regression={'nope': '5%'}",
        "regression='latency_ms'",
        "**{'\\n::error::injected': 1}",
    ],
)
def test_malformed_marker_is_a_collection_error_naming_the_test(
    project: pytest.Pytester, args: str
) -> None:
    project.makepyfile(
        test_marked=f"""
        import pytest

        @pytest.mark.edge_budget({args})
        def test_marked(edge):
            edge.evaluate("models/tiny.onnx")
        """,
        test_good=GOOD_TEST,
    )
    result = project.runpytest("--edge-target=cortex-a72", "--continue-on-collection-errors")
    result.assert_outcomes(passed=1, errors=1)
    output = _no_crash(result)
    assert "test_marked" in output and "edge_budget" in output
    assert not [ln for ln in output.splitlines() if ln.lstrip().startswith("::")]


# ---------------------------------------------------------------------------- baselines

NODEID = "test_malformed_baseline_names_it.py::test_good[cortex-a72]"


def _baseline(kind: str) -> dict | bytes | None:
    doc = fuzz_inputs.valid_baseline(NODEID)
    entry = doc["entries"][NODEID]
    if kind == "deep":
        return ("[" * 100_000 + "]" * 100_000).encode()
    if kind == "truncated":
        return json.dumps(doc).encode()[:50]
    if kind == "nan":
        entry["metrics"]["size_mb"] = float("nan")
    elif kind == "metric-dict":
        entry["metrics"]["size_mb"] = {"a": 1}
    elif kind == "metrics-string":
        entry["metrics"] = "x"
    elif kind == "entry-string":
        doc["entries"][NODEID] = "x"
    elif kind == "schema":
        doc["schema_version"] = 99
    elif kind in ("fifo", "devzero", "folder"):
        return None
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    "kind",
    ["fifo", "devzero", "folder", "deep", "truncated", "nan", "metric-dict", "metrics-string",
     "entry-string", "schema"],
)  # fmt: skip
@pytest.mark.parametrize("update", [False, True], ids=["compare", "update"])
def test_malformed_baseline_names_it(project: pytest.Pytester, kind: str, update: bool) -> None:
    path = project.path / "base.json"
    data = _baseline(kind)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "devzero":
        os.symlink("/dev/zero", path)
    elif kind == "folder":
        path.mkdir()
    else:
        path.write_bytes(data)
    project.makepyfile(test_malformed_baseline_names_it=GOOD_TEST)
    args = ["--edge-target=cortex-a72", "--edge-baseline=base.json", "--edge-json=r.json"]
    if update:
        args.append("--edge-update-baseline")
    result = _run(project, kind, *args, timeout=60)
    output = _no_crash(result)
    lines = [ln for ln in output.splitlines() if "base.json" in ln and "edgegate" in ln]
    assert lines, output[-2000:]
    if update:  # the bad file is reported and rewritten from this run (a folder cannot be)
        assert "rewriting it from this run only" in output or kind == "folder"
        if kind not in ("folder",):
            assert json.loads(path.read_text())["entries"][NODEID]["metrics"]
    else:
        assert result.ret == 1 and "edgegate error: baseline" in output
    json.loads((project.path / "r.json").read_text())  # the results are still written


# ----------------------------------------------------------------------- data and inputs


def _data_file(path: Path, kind: str) -> None:
    x = np.zeros((3, 3, 16, 16), np.float32)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "devzero":
        os.symlink("/dev/zero", path)
    elif kind == "npy":
        with open(path, "wb") as fh:
            np.save(fh, x)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated-zip":
        with open(path, "wb") as fh:
            np.savez(fh, x=x, y=np.zeros(3, np.int64))
        path.write_bytes(path.read_bytes()[:200])
    elif kind == "claims-terabytes":
        header = fuzz_inputs._npy_header((10**12,))
        path.write_bytes(fuzz_inputs._zip({"x.npy": header, "y.npy": header}))
    elif kind == "string-labels":
        with open(path, "wb") as fh:
            np.savez(fh, x=x, y=np.array(["a", "b", "c"]))
    else:
        raise ValueError(kind)


@pytest.mark.parametrize(
    "kind",
    ["fifo", "devzero", "npy", "empty", "truncated-zip", "claims-terabytes", "string-labels"],
)
def test_malformed_data_set_fails_its_test_naming_it(project: pytest.Pytester, kind: str):
    _data_file(project.path / "data.npz", kind)
    project.makepyfile(
        test_accuracy="""
        def test_accuracy(edge):
            edge.evaluate("models/tiny.onnx", reference="models/reference.onnx",
                          dataset="data.npz", metric="top1")
        """,
        test_good=GOOD_TEST,
    )
    result = _run(project, kind, "--edge-target=cortex-a72", timeout=120)
    result.assert_outcomes(passed=1, failed=1)
    output = _no_crash(result)
    result.stdout.re_match_lines([r"edgegate: .*(tiny\.onnx.*data\.npz|data\.npz.*tiny\.onnx)"])
    del output


@pytest.mark.parametrize("kind", ["fifo", "npy", "empty", "truncated-zip", "claims-terabytes"])
def test_malformed_inputs_file_fails_its_test_naming_it(project: pytest.Pytester, kind: str):
    _data_file(project.path / "inputs.npz", kind)
    project.makepyfile(
        test_run="""
        def test_run(edge):
            edge.evaluate("models/tiny.onnx", inputs="inputs.npz", measure=True)
        """,
        test_good=GOOD_TEST,
    )
    result = _run(project, kind, "--edge-target=cortex-a72", timeout=120)
    result.assert_outcomes(passed=1, failed=1)
    _no_crash(result)
    result.stdout.fnmatch_lines(["edgegate: *tiny.onnx*cannot read the inputs file*inputs.npz*"])


# -------------------------------------------------------------------- in-memory models


def test_in_memory_model_cannot_write_outside_its_folder(project: pytest.Pytester) -> None:
    """An in-memory model is saved for its run under a fixed name: a graph named
    ``../../x`` (or holding a slash) must not choose where that file goes."""
    project.makepyfile(
        """
        import onnx

        def test_traversal(edge):
            model = onnx.load("models/tiny.onnx")
            model.graph.name = "../../../../../../../../tmp/edgegate-escaped-" + "x" * 8
            edge.evaluate(model, measure=True)

        def test_slash(edge):
            model = onnx.load("models/tiny.onnx")
            model.graph.name = "a/b"
            edge.evaluate(model, measure=True)
        """
    )
    escaped = Path("/tmp/edgegate-escaped-xxxxxxxx.onnx")
    escaped.unlink(missing_ok=True)
    result = project.runpytest_subprocess(
        "--edge-target=cortex-a72", "--edge-time-cap=0.1", timeout=120
    )
    result.assert_outcomes(passed=2)
    assert not escaped.exists()


def test_in_memory_model_with_external_data_is_refused(project: pytest.Pytester) -> None:
    """External data of a model given in memory has no folder to be resolved against: refused,
    whatever the location (absolute, ``..``, or plain), before anything opens it."""
    secret = project.path / "secret.bin"
    secret.write_bytes(b"\0" * 4096)
    for name, location in (("abs", str(secret)), ("dotdot", "../secret.bin"), ("plain", "w.bin")):
        save(with_external_location(conv_model(), location), project.path / "m" / f"{name}.onnx")
    project.makepyfile(
        """
        import onnx
        import pytest

        @pytest.mark.parametrize("name", ["abs", "dotdot", "plain"])
        def test_memory(edge, name):
            model = onnx.load(f"m/{name}.onnx", load_external_data=False)
            edge.evaluate(model, measure=True)
        """
    )
    result = project.runpytest("--edge-target=cortex-a72")
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(["edgegate: *tensor 'w' has its data in an external file*"] * 3)
    _no_crash(result)


def test_unknown_element_type_in_memory_fails_clearly(project: pytest.Pytester) -> None:
    model = conv_model()
    model.graph.input[0].type.tensor_type.elem_type = -3
    onnx.save(model, str(project.path / "models" / "odd.onnx"))
    project.makepyfile(
        """
        import onnx

        def test_odd(edge):
            model = onnx.load("models/odd.onnx")
            model.graph.name = "odd-graph"
            edge.evaluate(model, measure=True)
        """
    )
    result = project.runpytest("--edge-target=cortex-a72")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["edgegate: odd-graph: *undefined element type -3*"])
    _no_crash(result)


def test_a_reference_attribute_outside_a_function_counts_as_absent() -> None:
    """``ref_attr_name`` means something only inside a function body; the checker rejects it
    elsewhere, but an in-memory model never meets the checker: the analysis must not raise."""
    from pytest_edgegate.analysis import analyze

    model = conv_model()
    model.graph.node[0].attribute[0].ref_attr_name = "/etc/passwd"  # the Conv's pads
    assert analyze(model).macs > 0
