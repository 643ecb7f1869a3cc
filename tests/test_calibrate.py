"""``edgegate calibrate``: measurements generated from a known profile give it back.

The measurements are the cost model's own estimates of a dozen models built here, on a
profile whose constants we chose; calibrating on them must recover those constants, and the
profile file written must load through ``--edge-profiles`` and reproduce the latencies.  The
catalogue's cortex-a72 carries the shape model's constants (calibrated by group levels); a
base with per-class constants only (a user's older profile) is calibrated per class.  Bad
input fails with exit code 4 and a message naming the CSV row.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from bench.fitting.networks import quantized_view
from pytest_edgegate.analysis import analyze
from pytest_edgegate.calibrate import board as user
from pytest_edgegate.calibrate import fit, levels
from pytest_edgegate.cli import main
from pytest_edgegate.costmodel import estimate
from pytest_edgegate.profiles import load_catalogue

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

#: The board we pretend to have on the shape-model base: cortex-a72's shape constants at
#: these group levels (a level divides a group's efficiencies and multiplies its penalties
#: and overheads), and these energy constants.
LEVELS = {
    "level_conv": 2.0,
    "level_pointwise": 1.25,
    "level_depthwise": 3.0,
    "level_gemm": 1.5,
    "level_vector": 2.5,
    "level_small_shape": 1.0,
    "level_cache": 1.0,
    "level_dram": 1.5,
    "level_dispatch": 0.4,
    "fixed_us": 120.0,
}
#: The board we pretend to have on a per-class base: cortex-a72's peaks, other constants (4
#: significant digits, so the written file, rounded like the shipped ones, can hold them).
TRUTH = {
    "eff_conv": 0.2,
    "eff_pointwise": 0.15,
    "eff_depthwise": 0.03,
    "eff_gemm": 0.12,
    "eff_vector": 0.02,
    "eff_cache": 4.0,
    "eff_dram": 0.6,
    "dispatch_us": 8.0,
    "fixed_us": 120.0,
    "energy_compute_w": 1.4,
    "energy_memory_w": 0.9,
    "energy_static_w": 0.5,
}
LATENCY_KEYS = [t.key for t in fit.CPU_LATENCY_TERMS]
ENERGY_KEYS = [t.key for t in fit.CPU_ENERGY_TERMS]


def network(k: int) -> onnx.ModelProto:
    """A small network exercising every CPU class in proportions that vary with ``k``.

    Dense, 1x1 and depthwise convolutions, a fully connected layer and elementwise nodes, at
    sizes drawn so that each class's share of the time varies independently, and the larger
    maps move tensors past the Cortex-A72's 1 MiB L2 (the DRAM term).
    """
    rng = np.random.default_rng(k)
    c = int(rng.choice([8, 16, 24, 32, 48]))
    hw = int(rng.choice([8, 16, 32, 48, 64, 96]))
    fc = int(rng.choice([10, 100, 500, 1000, 2000]))
    cin = int(rng.choice([1, 3, 4]))
    inits = {
        "w3": rng.standard_normal((c, cin, 3, 3)),
        "w1": rng.standard_normal((c, c, 1, 1)),
        "wd": rng.standard_normal((c, 1, 3, 3)),
        "wfc": rng.standard_normal((fc, c)),
        "bfc": np.zeros(fc),
    }
    n = helper.make_node
    nodes = [n("Conv", ["x", "w3"], ["a"], pads=[1] * 4, name="dense")]
    x = "a"
    for i in range(int(rng.integers(1, 4))):  # depthwise-separable blocks
        nodes += [
            n("Relu", [x], [f"r{i}"], name=f"relu{i}"),
            n("Conv", [f"r{i}", "wd"], [f"d{i}"], pads=[1] * 4, group=c, name=f"dw{i}"),
            n("Conv", [f"d{i}", "w1"], [f"p{i}"], name=f"pw{i}"),
            n("Add", [f"p{i}", x], [f"s{i}"], name=f"add{i}"),
        ]
        x = f"s{i}"
    for i in range(int(rng.integers(0, 4))):  # cheap nodes: the per-node overhead
        nodes.append(n("Relu", [x], [f"e{i}"], name=f"extra{i}"))
        x = f"e{i}"
    nodes += [
        n("GlobalAveragePool", [x], ["g"], name="gap"),
        n("Flatten", ["g"], ["f"], name="flatten"),
        n("Gemm", ["f", "wfc", "bfc"], ["y"], transB=1, name="fc"),
    ]
    graph = helper.make_graph(
        nodes,
        f"net{k}",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, cin, hw, hw])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, fc])],
        initializer=[numpy_helper.from_array(v.astype(np.float32), k) for k, v in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dozen models on disk, in a folder of their own (the CSV names them relatively)."""
    folder = tmp_path_factory.mktemp("board")
    (folder / "models").mkdir()
    for k in range(12):
        onnx.save(network(k), str(folder / "models" / f"net{k}.onnx"))
    return folder


ENERGY = {k: TRUTH[k] for k in ENERGY_KEYS}


@pytest.fixture(scope="module")
def base():
    profile = load_catalogue().get("cortex-a72")
    assert levels.is_shape_table(profile.raw["costmodel"])
    return profile


@pytest.fixture(scope="module")
def v2_base(base):
    """cortex-a72 with per-class constants only (no shape-model constants)."""
    keep = {"threads", "parallel_fraction", *LATENCY_KEYS, *ENERGY_KEYS}
    return fit.with_constants(base, {k: v for k, v in base.raw["costmodel"].items() if k in keep})


def shape_truth(base) -> dict:
    """``base``'s constants at :data:`LEVELS`, rounded as a written profile holds them."""
    table = levels.apply(base.raw["costmodel"], LEVELS)
    return {k: user.rounded(v) for k, v in {**table, **ENERGY}.items()}


def truth_profile(base, **changes):
    if levels.is_shape_table(base.raw["costmodel"]):
        return fit.with_constants(base, {**shape_truth(base), **changes})
    return fit.with_constants(base, {**base.raw["costmodel"], **TRUTH, **changes})


def write_csv(folder: Path, profile, rows: int = 12, threads=None, energy=True) -> Path:
    """The measurements a perfect stopwatch would take on ``profile``."""
    lines = ["model,latency_ms,energy_mj,threads"]
    for k in range(rows):
        t = threads[k % len(threads)] if threads else None
        e = estimate(analyze(network(k)), profile, threads=t)
        joules = repr(e.energy_mj) if energy else ""
        lines.append(f"models/net{k}.onnx,{e.latency_ms!r},{joules},{t or ''}")
    path = folder / "measurements.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def call_cli(*args: str) -> tuple[int, str, str]:
    """``edgegate ARGS`` in this process (a process start per bad input would cost seconds
    each on a loaded machine); :func:`run_cli` runs the real command once."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue(), err.getvalue()


def run_cli(*args: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest_edgegate.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr


# --------------------------------------------------------------------------------------------
# Round trips


def test_round_trip_recovers_the_constants_and_the_profile_reproduces_them(
    board: Path, base, capsys: pytest.CaptureFixture[str]
) -> None:
    truth = truth_profile(base)
    csv = write_csv(board, truth, threads=[1, 4])
    out = board / "my-board.toml"
    code = main(
        ["calibrate", str(csv), "--base", "cortex-a72", "-o", str(out), "--date", "2026-01-02"]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    # the truth's constants are rounded, so its levels are exact to about 1e-4
    assert "latency: MAPE 0.0" in printed and "energy: MAPE 0.0" in printed
    assert "models/net3.onnx" in printed  # the error of every model is listed
    assert "shape-model base" in printed

    written = tomllib.loads(out.read_text(encoding="utf-8"))
    assert written["id"] == "my-board" and written["extends"] == "cortex-a72"
    want = shape_truth(base)
    for key in levels.per_constant(list(LEVELS), base.raw["costmodel"]) + tuple(ENERGY_KEYS):
        assert written["costmodel"][key] == pytest.approx(want[key], rel=2e-3, abs=1e-9), key
    source = written["sources"]["costmodel.eff_winograd"]
    assert source.startswith(f"fitted: {csv}, 12 models, 2026-01-02, edgegate calibrate ")
    for key in ("parallel_grain_mflop", "parallel_efficiency", "parallel_fraction"):
        assert written["costmodel"][key] == base.raw["costmodel"][key]
        assert "kept: cortex-a72's value" in written["sources"][f"costmodel.{key}"]

    profile = load_catalogue([out]).get("my-board")  # what --edge-profiles does
    assert profile.name.startswith("my-board") and profile.cpu == base.cpu
    assert profile.raw["runtime"] == base.raw["runtime"]
    for k in range(12):
        a = analyze(network(k))
        t = (1, 4)[k % 2]
        want, got = estimate(a, truth, threads=t), estimate(a, profile, threads=t)
        assert got.latency_ms == pytest.approx(want.latency_ms, rel=1e-3)
        assert got.energy_mj == pytest.approx(want.energy_mj, rel=1e-3)


def test_the_written_profile_is_a_pytest_target(board: Path, tmp_path: Path) -> None:
    csv = write_csv(board, truth_profile(base=load_catalogue().get("cortex-a72")), energy=False)
    out = tmp_path / "boards" / "lab-pi.toml"
    code, stdout, stderr = run_cli("calibrate", str(csv), "--base", "cortex-a72", "-o", str(out))
    assert code == 0, stdout + stderr
    assert f"pytest --edge-profiles={out} --edge-target=lab-pi" in stdout
    assert "energy constants kept at cortex-a72's values" in stdout
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--edge-profiles={out}",
         "--edge-list-targets", "-v"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "lab-pi" in done.stdout and "fitted: " in done.stdout


def test_rows_at_two_thread_counts_fit_the_parallel_fraction(board: Path, v2_base) -> None:
    truth = truth_profile(v2_base, parallel_fraction=0.8)
    rows, _ = user.read_measurements(write_csv(board, truth, threads=[1, 4]))
    cal = user.calibrate(rows, v2_base)
    assert cal.constants["parallel_fraction"] == pytest.approx(0.8, abs=0.005)
    assert "parallel_fraction" in cal.latency.fitted
    for key in ("eff_conv", "eff_pointwise", "eff_depthwise"):
        assert cal.constants[key] == pytest.approx(TRUTH[key], rel=0.01), key
    assert cal.latency.max_error_pct < 0.5


def test_a_few_models_fit_a_few_constants_and_keep_the_rest(board: Path, v2_base) -> None:
    base = v2_base
    truth = truth_profile(base)
    rows, _ = user.read_measurements(write_csv(board, truth, rows=4, energy=False))
    cal = user.calibrate(rows, base)
    assert 1 <= len(cal.latency.fitted) <= 3  # at least one model more than constants
    kept = set(cal.latency.kept)
    assert kept | set(cal.latency.fitted) == set(LATENCY_KEYS) | {"parallel_fraction"}
    for key in kept - {"parallel_fraction"}:
        assert cal.constants[key] == base.raw["costmodel"][key]
    kept_lines = [ln for ln in user.report_lines(cal) if "kept at cortex-a72's values (" in ln]
    for key in kept:
        assert sum(f" {key} " in ln for ln in kept_lines) == 1, (key, kept_lines)
    file = user.profile_text(cal, profile_id="few", csv_label="m.csv", command="c", date="d")
    sources = tomllib.loads(file)["sources"]
    assert all(sources[f"costmodel.{k}"].startswith("kept: cortex-a72's value") for k in kept)


def test_a_few_models_fit_a_few_levels_on_a_shape_base(board: Path, base) -> None:
    rows, _ = user.read_measurements(write_csv(board, truth_profile(base), rows=4, energy=False))
    cal = user.calibrate(rows, base)
    table = base.raw["costmodel"]
    assert len(cal.latency.fitted) >= 1 and all(k in table for k in cal.latency.fitted)
    for key in set(cal.latency.kept) - {"parallel_fraction"}:
        assert cal.constants[key] == user.rounded(table[key]), key
    assert set(cal.latency.kept) | set(cal.latency.fitted) == {
        *levels.per_constant(list(LEVELS), table),
        "parallel_fraction",
    }
    before = [abs(estimate(analyze(network(k)), base).latency_ms / r.latency_ms - 1) for k, r in
              enumerate(rows)]  # fmt: skip
    assert cal.latency.stats["mape_pct"] < 100 * float(np.mean(before))  # better than the base


def test_npu_round_trip_fits_the_npu_terms(board: Path) -> None:
    """An Edge TPU board: int8 models placed on the NPU; the host CPU's constants stay."""
    edgetpu = load_catalogue().get("edgetpu")
    truth = {"npu_eff_mac": 0.3, "npu_eff_vector": 0.002, "npu_dispatch_us": 2.0,
             "transfer_fixed_us": 60.0}  # fmt: skip
    profile = fit.with_constants(edgetpu, {**edgetpu.raw["costmodel"], **truth})
    analyses = [quantized_view(analyze(network(k)), "int8") for k in range(12)]
    rows = [
        user.Measurement(k, f"net{k}", Path(f"net{k}.onnx"), estimate(a, profile).latency_ms)
        for k, a in enumerate(analyses)
    ]
    cal = user.calibrate(rows, edgetpu, analyses=analyses)
    for key, value in truth.items():
        assert cal.constants[key] == pytest.approx(value, rel=1e-3), key
    assert cal.constants["eff_conv"] == edgetpu.raw["costmodel"]["eff_conv"]  # host kept
    assert cal.latency.max_error_pct < 0.1


# --------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        ("model,latency_ms\nmodels/net0.onnx,1\nmodels/nope.onnx,2\nmodels/net1.onnx,3\n",
         "line 3: model models/nope.onnx not found"),
        ("model,latency_ms\nmodels/net0.onnx,1\nmodels/net1.onnx,fast\nmodels/net2.onnx,3\n",
         "line 3: latency_ms 'fast' is not a number"),
        ("model,latency_ms\nmodels/net0.onnx,1\nmodels/net1.onnx,-2\nmodels/net2.onnx,3\n",
         "line 3: latency_ms must be positive"),
        ("model,latency_ms\nmodels/net0.onnx,1\nmodels/net1.onnx,2\n",
         "too few models: 2 row(s); a calibration needs at least 3 models"),
        ("model,latency\nmodels/net0.onnx,1\n", "header has no latency_ms column"),
        ("# only a comment\n", "empty; expected a header row"),
        ("model,latency_ms,threads\nmodels/net0.onnx,1,2.5\nmodels/net1.onnx,2,1\n"
         "models/net2.onnx,3,1\n", "line 2: threads '2.5' is not a whole number"),
        ("model,latency_ms,energy_mj\nmodels/net0.onnx,1,5\nmodels/net1.onnx,2,\n"
         "models/net2.onnx,3,\n", "energy_mj is given for 1 model(s)"),
        ("model,latency_ms,input_shapes\nmodels/net0.onnx,1,x:1x3\nmodels/net1.onnx,2,\n"
         "models/net2.onnx,3,\n", "line 2: input_shapes expects NAME=1x3x224x224"),
        ("model,latency_ms\nmodels/net0.onnx,1,extra\nmodels/net1.onnx,2\n"
         "models/net2.onnx,3\n", "line 2: 3 cells for 2 columns"),
    ],
)  # fmt: skip
def test_bad_measurements_name_the_row(board: Path, csv: str, message: str) -> None:
    path = board / "bad.csv"
    path.write_text(csv, encoding="utf-8")
    code, stdout, stderr = call_cli("calibrate", str(path), "--base", "cortex-a72", "-o",
                                   str(board / "out.toml"))  # fmt: skip
    assert code == 4, stdout + stderr
    assert stderr.startswith("edgegate: error: ") and message in stderr, stderr
    assert "Traceback" not in stderr


def test_bad_model_file_and_bad_options(board: Path, tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "broken.onnx").write_bytes(b"not a model")
    for k in range(2):
        onnx.save(network(k), str(tmp_path / "models" / f"net{k}.onnx"))
    csv = tmp_path / "m.csv"
    csv.write_text(
        "model,latency_ms\nmodels/net0.onnx,1\nmodels/broken.onnx,2\nmodels/net1.onnx,3\n",
        encoding="utf-8",
    )
    out = str(tmp_path / "o.toml")
    code, _, stderr = call_cli("calibrate", str(csv), "--base", "cortex-a72", "-o", out)
    assert code == 4 and "line 3: models/broken.onnx: " in stderr, stderr
    good = write_csv(board, load_catalogue().get("cortex-a72"), energy=False)
    cases = {
        ("--base", "cortex-m7"): "cortex-m7 is a microcontroller profile",
        ("--base", "no-such-board"): "unknown edge target 'no-such-board'",
        ("--base", "cortex-a72", "--threads", "0"): "--threads must be at least 1",
        ("--base", "cortex-a72", "--id", "my board"): "--id must be a target id",
        ("--base", "cortex-a72", "--profiles", "missing.toml"): "profile path not found",
    }
    for options, message in cases.items():
        code, _, stderr = call_cli("calibrate", str(good), *options, "-o", out)
        assert code == 4 and message in stderr, (options, stderr)
    assert not Path(out).exists()
