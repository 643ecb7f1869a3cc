"""The example project: its gate is green on four targets against its committed baseline, its
verdicts are the ones the README describes, and the README's commands are the ones CI runs.

The example's main run happens once per module (``gate``); the tests read its output and its
JSON results.  Reports go to a temporary folder, never into the working tree.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example_project"
README = ROOT / "README.md"
TARGETS = ("cortex-a72", "cortex-a53", "edgetpu", "cortex-m7")
BROWSER_TEST = ROOT / "tests" / "report" / "test_html_browser.py"

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def run(*args: str, cwd: Path = EXAMPLE) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, dict]:
    """The example's main run: ``pytest`` in example_project/, settings from its pytest.ini."""
    out = tmp_path_factory.mktemp("example")
    done = run("-v", "-rxs", f"--edge-html={out / 'report.html'}",
               f"--edge-json={out / 'results.json'}")  # fmt: skip
    results = json.loads((out / "results.json").read_text()) if done.returncode == 0 else {}
    return done, results


def broken(results: dict, nodeid: str, target: str) -> set[str]:
    (entry,) = [r for r in results["results"] if r["nodeid"] == f"{nodeid}[{target}]"]
    return {v["metric"] for v in entry["verdicts"] if not v["passed"]}


# --------------------------------------------------------------------------------------------
# The gate and its verdicts


def test_example_gate_is_green_on_four_targets_against_its_baseline(gate) -> None:
    done, results = gate
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"38 passed, 13 skipped, 5 xfailed in ", done.stdout), done.stdout
    assert sorted(results["summary"]) == sorted(TARGETS)
    comparison = results["comparison"]
    assert comparison["baseline"] == "edge-baseline.json"
    statuses = {d["status"] for d in comparison["entries"]}
    assert statuses == {"unchanged"}, statuses  # the committed baseline compares clean
    for target in TARGETS:
        assert f"target {target}: " in done.stdout


def test_verdicts_int8_fits_where_fp32_does_not(gate) -> None:
    done, results = gate
    camera = "tests/test_camera.py"
    realtime, npu = f"{camera}::TestRealTime", f"{camera}::TestOnTheNpu"
    # 30 frames/s: the Raspberry Pi 4 runs both models in time, the Pi 3 neither (int8 about
    # 33.4 ms a frame); the Edge TPU board runs int8 on the NPU, the float model on its host
    # CPU, which still holds the rate.
    assert broken(results, f"{realtime}::test_int8", "cortex-a53") == {"latency_ms"}
    assert broken(results, f"{realtime}::test_fp32", "cortex-a53") == {"latency_ms"}
    assert broken(results, f"{realtime}::test_int8", "cortex-a72") == set()
    assert broken(results, f"{realtime}::test_fp32", "cortex-a72") == set()
    assert broken(results, f"{realtime}::test_int8", "edgetpu") == set()
    assert broken(results, f"{realtime}::test_fp32", "edgetpu") == set()
    # On the Edge TPU the float model falls back to the host CPU; int8 runs on the NPU.
    assert broken(results, f"{npu}::test_int8", "edgetpu") == set()
    assert broken(results, f"{npu}::test_fp32", "edgetpu") == {"npu_coverage"}
    assert "CPU FALLBACK: float model runs entirely on edgetpu's host CPU" in done.stdout
    # The microcontroller rejects MobileNet for flash and SRAM, and runs the keyword spotter.
    app = f"{camera}::test_int8_is_small_enough_for_the_app"
    assert broken(results, app, "cortex-m7") == {"flash_mb", "sram_mb"}
    kws = "tests/test_keyword_spotting.py::test_int8_fits_the_firmware"
    assert broken(results, kws, "cortex-m7") == set()
    # At 30 frames/s on a power bank: a Pi 3 throttles below the rate; the Pi 4 and the Edge
    # TPU board hold it, for more than the budget's 8 hours.
    battery = f"{camera}::TestOnBattery::test_int8"
    assert broken(results, battery, "cortex-a53") == {"rate_hz", "sustained_latency_ms"}
    for board in ("cortex-a72", "edgetpu"):
        assert broken(results, battery, board) == set()
        (r,) = [r for r in results["results"] if r["nodeid"] == f"{battery}[{board}]"]
        assert r["metrics"]["battery_life_h"] > 8
    # The same keyword spotter as the firmware ships it: int8 .tflite on TFLite Micro, its
    # SRAM need the smallest arena that runs it; LiteRT on the boards.
    tfl = "tests/test_keyword_spotting_tflite.py::test_tflite_fits_the_firmware"
    for target in TARGETS:
        assert broken(results, tfl, target) == set()
    (mcu,) = [r for r in results["results"] if r["nodeid"] == f"{tfl}[cortex-m7]"]
    runtime = mcu["details"]["runtime"]
    assert runtime["runtime"] == "tflite-micro"
    sram = [v for v in mcu["verdicts"] if v["metric"] == "sram_mb"][0]
    assert sram["value"] == runtime["arena_bytes"] / 1e6 and sram["source"] == "measured"
    for line in (
        f"XFAIL {battery}[cortex-a53] - does not fit cortex-a53: 30 frames/s",
        f"XFAIL {app}[cortex-m7] - does not fit cortex-m7: MobileNet is not meant",
        f"XFAIL {realtime}::test_fp32[cortex-a53] - does not fit cortex-a53",
        f"XFAIL {npu}::test_fp32[edgetpu] - does not fit edgetpu",
    ):
        assert line in done.stdout, line


def test_deliberate_failures_name_metric_limit_and_value(tmp_path: Path) -> None:
    reports = (f"--edge-html={tmp_path / 'r.html'}", f"--edge-json={tmp_path / 'r.json'}")
    done = run("failing", "--edge-target=cortex-a72,edgetpu", *reports, "--edge-baseline=")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "4 failed" in done.stdout
    assert "worst layers: conv3" in done.stdout
    assert "accuracy_drop: 0.663, measured on cortex-a72, limit <= 0.01" in done.stdout
    for target in ("cortex-a72", "edgetpu"):
        assert f"size_mb: 6.697 MB, static on {target}, limit <= 4 MB" in done.stdout
        assert f"macs_m: 59.29 M, static on {target}, limit <= 50 M" in done.stdout


def test_does_not_fit_is_checked_both_ways(tmp_path: Path) -> None:
    """A misfit that starts fitting fails (XPASS strict); one that breaks otherwise errors."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "models").mkdir()
    shutil.copy(EXAMPLE / "pytest.ini", tmp_path)
    shutil.copy(EXAMPLE / "tests" / "conftest.py", tmp_path / "tests")
    shutil.copy(EXAMPLE / "models" / "kws_dscnn_int8.onnx", tmp_path / "models")
    (tmp_path / "tests" / "test_x.py").write_text(
        "import pytest\n"
        "MODEL = 'models/kws_dscnn_int8.onnx'\n"
        "NOT_HERE = pytest.mark.does_not_fit('cortex-a72', breaks=['size_mb'], reason='r')\n"
        "@NOT_HERE\n"
        "def test_now_fits(edge):\n    edge.evaluate(MODEL)\n"
        "@NOT_HERE\n@pytest.mark.edge_budget(size_mb=0.01, macs_m=1)\n"
        "def test_breaks_more(edge):\n    edge.evaluate(MODEL)\n"
        "@NOT_HERE\n@pytest.mark.edge_budget(size_mb=0.01)\n"
        "def test_as_declared(edge):\n    edge.evaluate(MODEL)\n"
        "@pytest.mark.only_kinds('npu')\n@pytest.mark.edge_budget(npu_coverage=0.9)\n"
        "def test_npu_only(edge):\n    edge.evaluate(MODEL)\n"
    )
    done = run("--edge-target=cortex-a72", "-rxXfEs", "--edge-baseline=", "--edge-html=",
               "--edge-json=", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "FAILED tests/test_x.py::test_now_fits[cortex-a72] - [XPASS(strict)]" in out
    assert "ERROR tests/test_x.py::test_breaks_more[cortex-a72]" in out
    assert "was expected to break ['size_mb'] on cortex-a72 but broke ['macs_m', 'size_mb']" in out
    assert "XFAIL tests/test_x.py::test_as_declared[cortex-a72]" in out
    assert "cortex-a72 is a cpu target; this test is for npu targets" in out


# --------------------------------------------------------------------------------------------
# Consistency of the example's files


def test_workflow_gates_the_same_targets_and_baseline_as_pytest_ini() -> None:
    ini = (EXAMPLE / "pytest.ini").read_text()
    targets = re.search(r"^edge_targets\s*=\s*(.+)$", ini, re.M).group(1).split()
    assert tuple(targets) == TARGETS
    baseline = re.search(r"^edge_baseline\s*=\s*(\S+)$", ini, re.M).group(1)
    assert (EXAMPLE / baseline).is_file()
    workflow = (EXAMPLE / ".github" / "workflows" / "edge-gate.yml").read_text()
    assert f"targets: {','.join(TARGETS)}\n" in workflow
    assert f"baseline: {baseline}\n" in workflow


def test_make_models_rebuilds_the_committed_models(tmp_path: Path) -> None:
    """The float models byte for byte; the int8 ones (onnxruntime's quantizer may lay a graph
    out differently across releases) by what the gate reads from them."""
    from pytest_edgegate.analysis import analyze, load_model

    done = subprocess.run(
        [sys.executable, str(EXAMPLE / "make_models.py"), "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    for stem in ("mobilenet_v2_035", "kws_dscnn"):
        fp32 = f"{stem}_fp32.onnx"
        assert (tmp_path / fp32).read_bytes() == (EXAMPLE / "models" / fp32).read_bytes()
        new, old = (
            analyze(load_model(folder / f"{stem}_int8.onnx"))
            for folder in (tmp_path, EXAMPLE / "models")
        )
        assert new.metrics() == pytest.approx(old.metrics(), rel=1e-3), stem


def test_make_tflite_rebuilds_the_committed_model(tmp_path: Path) -> None:
    """Byte for byte, with the same MACs as the ONNX keyword spotter."""
    pytest.importorskip("ai_edge_litert", reason="the [tflite] extra is not installed")
    from pytest_edgegate.analysis import analyze
    from pytest_edgegate.formats import load

    done = subprocess.run(
        [sys.executable, str(EXAMPLE / "make_tflite.py"), "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    name = "kws_dscnn_int8.tflite"
    assert (tmp_path / name).read_bytes() == (EXAMPLE / "models" / name).read_bytes()
    tfl = analyze(load(EXAMPLE / "models" / name))
    onnx_twin = analyze(load(EXAMPLE / "models" / "kws_dscnn_int8.onnx"))
    assert tfl.macs == onnx_twin.macs


# --------------------------------------------------------------------------------------------
# The README's commands


def readme_blocks(heading: str) -> list[str]:
    """The fenced code blocks of one ``## heading`` section of the README."""
    text = README.read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return [b.strip() for b in re.findall(r"```[a-z]*\n(.*?)```", section, re.S)]


def ci_command(marker: str) -> str:
    """The line of ``.ci/run`` after the ``echo`` naming ``marker``."""
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    k = next(i for i, line in enumerate(lines) if line.startswith("echo") and marker in line)
    return lines[k + 1]


def pytest_args(command: str) -> list[str]:
    """The arguments after ``-m pytest`` of the last pytest call in a shell command."""
    words = shlex.split(command.replace("(", " ").replace(")", " "))
    start = max(i for i, w in enumerate(words) if w == "pytest" and words[i - 1] == "-m")
    args = []
    for word in words[start + 1 :]:
        if word in ("&&", ";", "||"):
            break
        args.append(word)
    return args


def test_readme_quick_start_commands_are_the_ones_ci_runs() -> None:
    first, second = readme_blocks("Quick start")[:2]
    setup = 'python3 -m venv .venv && .venv/bin/pip install -e ".[dev,tflite]"'
    for command in (first, second):
        assert command.startswith(setup + " && "), command
        assert "\n" not in command  # one line: copy, paste, run
    # 1: the example gate, from example_project/, with the settings of its pytest.ini.
    assert " && cd example_project && ../.venv/bin/python -m pytest" in first
    ci = ci_command("example project")
    assert "cd example_project" in ci
    report_options = ("--edge-html=", "--edge-json=")
    assert [a for a in pytest_args(first) if not a.startswith(report_options)] == [
        a for a in pytest_args(ci) if not a.startswith(report_options)
    ]
    ini = (EXAMPLE / "pytest.ini").read_text()
    assert "edge_html = edgegate-report.html" in ini
    assert "example_project/edgegate-report.html" in README.read_text()
    # 2: the test suite, exactly as .ci/run runs it.
    assert pytest_args(second) == pytest_args(ci_command("tests"))


def test_readme_commands_name_real_subcommands_and_options() -> None:
    from pytest_edgegate.cli import build_parser

    parser = build_parser()
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, re.S)
    commands = [
        line.split("#", 1)[0].strip().removeprefix("$ ").removeprefix("../.venv/bin/")
        for block in blocks
        for line in block.splitlines()
    ]
    # Commands, not their output ("edgegate calibrate: 6 models ...", "edgegate: error").
    used = [c for c in commands if re.match(r"edgegate [a-z]+( |$)", c)]
    assert any(c.startswith("edgegate calibrate ") for c in used)
    sub = parser._subparsers._group_actions[0].choices  # noqa: SLF001 - argparse has no API
    for command in used:
        words = command.split()
        assert words[1] in sub, command
        options = {o for a in sub[words[1]]._actions for o in a.option_strings}
        for word in (w.strip("[]") for w in words[2:]):
            if word.startswith("-"):
                assert word.split("=")[0] in options, (command, word)


def test_readme_calibration_example_reproduces_the_committed_profile(tmp_path: Path) -> None:
    """The worked example, as the README writes it, from example_project/ (output elsewhere)."""
    (command,) = [
        line.removeprefix("../.venv/bin/")
        for block in readme_blocks("Teach edgegate your own board")
        for line in block.splitlines()
        if "edgegate calibrate " in line and not line.startswith("#")
    ]
    words = shlex.split(command)
    out = words[words.index("-o") + 1]
    words[words.index("-o") + 1] = str(tmp_path / Path(out).name)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest_edgegate.cli", *words[1:]],
        cwd=EXAMPLE, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "latency: MAPE " in done.stdout and "kept at cortex-a72's values" in done.stdout
    new = tomllib.loads((tmp_path / Path(out).name).read_text())
    committed = tomllib.loads((EXAMPLE / out).read_text())
    assert new["costmodel"] == committed["costmodel"]
    assert new["id"] == committed["id"] == "lab-pi4"


# --------------------------------------------------------------------------------------------
# The example's report in a real browser


def browser_helpers() -> ModuleType:
    spec = importlib.util.spec_from_file_location("edgegate_browser_helpers", BROWSER_TEST)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_report_in_headless_chromium(gate, tmp_path: Path) -> None:
    """What a newcomer opens after the quick start; the screenshot CI keeps is the README's."""
    helpers = browser_helpers()
    chromium = helpers.find_chromium()
    if chromium is None:
        if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail("CI is set but Chromium is not installed")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    done, results = gate
    assert done.returncode == 0, done.stdout + done.stderr
    from pytest_edgegate.report.html import write_html

    folder = Path(os.environ.get("EDGEGATE_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "example-report.html"
    write_html(results, page)
    dom = helpers.Dom(helpers.run_chromium(chromium, tmp_path / "dom", page, "--dump-dom"))
    for target in TARGETS:
        assert target in dom.text
    assert "CPU FALLBACK" in dom.text
    # The MCU misfit is a declared (xfail) result: shown as expected, not as a failure.
    assert "expected failure" in dom.text and "flash_mb" in dom.text
    assert "Gate passed" in dom.text
    # The overview matrix comes before the per-target tables; the estimate's per-node chart is
    # in the details; the committed baseline's history gives trends (in a git checkout).
    assert dom.text.index("Overview") < dom.text.index("Summary")
    assert "mobilenet_v2_035_int8.onnx" in dom.text and "latency 33.39 / 33 ms" in dom.text
    assert sum(1 for tag, a in dom.elements if tag == "svg" and a.get("class") == "nbars") > 20
    history = subprocess.run(["git", "log", "-1", "--format=%h", "--", "edge-baseline.json"],
                             cwd=EXAMPLE, capture_output=True, text=True, check=False)  # fmt: skip
    if history.returncode == 0 and history.stdout.strip():
        assert "Trends: the last" in dom.text and "of edge-baseline.json" in dom.text
    from bench import browser_probe

    for width in (1280, 390):
        layout = browser_probe.measure(chromium, page, width, tmp_path / f"probe-{width}")
        assert layout.page_overflow == 0, f"the page is {layout.scroll} px wide at {width} px"
        assert layout.console == []
        if width == 1280:
            assert layout.wide_tables == [], "a per-target table is wider than 1280 px"
    shot = folder / "example-report.png"
    helpers.run_chromium(chromium, tmp_path / "shot", page, f"--screenshot={shot}",
                         "--window-size=1280,2400")  # fmt: skip
    width, height, pixels = helpers.png_size_and_pixels(shot)
    assert (width, height) == (1280, 2400) and len(set(pixels)) > 64
    # One result unfolded, alone on a page (the int8 MobileNet on the Edge TPU): its per-node
    # chart is the docs' second picture.
    text = page.read_text(encoding="utf-8")
    at = text.index("::TestOnTheNpu::test_int8[edgetpu]</code>")
    start = text.rindex("<details ", 0, at)
    end = text.index("</div></details>", at) + len("</div></details>")
    body = text.index("<body>") + len("<body>")
    unfolded = folder / "example-report-details.html"
    unfolded.write_text(text[:body] + "<details open " + text[start + 9 : end] + "</body></html>",
                        encoding="utf-8")  # fmt: skip
    shot = folder / "example-report-details.png"
    helpers.run_chromium(chromium, tmp_path / "shot2", unfolded, f"--screenshot={shot}",
                         "--window-size=1280,1000")  # fmt: skip
    assert helpers.png_size_and_pixels(shot)[:2] == (1280, 1000)
