"""The plugin end to end, through pytester: options, parametrization, budgets, summaries."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.usefixtures("models_dir")

BASIC = """
import pytest

@pytest.mark.edge_budget(size_mb=1.0, params_m=0.01)
def test_tiny(edge):
    result = edge.evaluate("models/tiny.onnx")
    assert result.metrics["params_m"] > 0

@pytest.mark.edge_budget(size_mb=0.001)
def test_too_big(edge):
    edge.evaluate("models/tiny.onnx")

def test_plain():
    pass
"""


def test_list_targets_prints_catalogue_and_exits(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--edge-list-targets")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*edgegate device catalogue*", "*cortex-a72*", "*edgetpu*"])
    result.stdout.no_fnmatch_line("*collected*")


def test_unknown_target_is_usage_error_listing_known(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(BASIC)
    result = pytester.runpytest("--edge-target=cortex-z9")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown target 'cortex-z9'*known targets:*cortex-a72*"])


def test_no_target_skips_edge_tests_with_reason(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(BASIC)
    result = pytester.runpytest("-rs")
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(["*no edge target chosen: pass --edge-target=ID*edge_targets*"])


def test_two_targets_parametrize_and_budget_failure(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(BASIC)
    result = pytester.runpytest("--edge-target=cortex-a72,edgetpu", "-v")
    result.assert_outcomes(passed=3, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*test_tiny?cortex-a72? PASSED*",
            "*test_tiny?edgetpu? PASSED*",
            "*test_too_big?cortex-a72? FAILED*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*tiny.onnx breaks 1 budget(s):*",
            "*size_mb: * MB, static on cortex-a72, limit <= 0.001 MB*",
        ]
    )


def test_repeated_option_and_ini(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(BASIC)
    result = pytester.runpytest("--edge-target=cortex-a72", "--edge-target", "cortex-a53")
    result.assert_outcomes(passed=3, failed=2)
    pytester.makeini("[pytest]\nedge_targets = cortex-a76 cortex-a53\n")
    result = pytester.runpytest("-v")
    result.stdout.fnmatch_lines(
        ["*test_tiny?cortex-a76? PASSED*", "*test_tiny?cortex-a53? PASSED*"]
    )


def test_markers_documented(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.edge_budget(size_mb=None, peak_memory_mb=None*"])


def test_marker_merge_closest_wins(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        pytestmark = pytest.mark.edge_budget(size_mb=0.0001, params_m=0.0001)

        @pytest.mark.edge_budget(params_m=1.0)
        class TestGroup:
            @pytest.mark.edge_budget(size_mb=1.0)
            def test_all_overridden(self, edge):
                edge.evaluate("models/tiny.onnx")

            def test_class_only(self, edge):
                r = edge.evaluate("models/tiny.onnx")

        def test_module_only(edge):
            edge.evaluate("models/tiny.onnx")
        """
    )
    result = pytester.runpytest("--edge-target=cortex-a72", "-v")
    result.stdout.fnmatch_lines(
        [
            "*test_all_overridden*PASSED*",
            "*test_class_only*FAILED*",
            "*test_module_only*FAILED*",
        ]
    )
    # The class-level params_m=1.0 overrides the module's, so only size_mb breaks there.
    text = result.stdout.str()
    class_fail = text.split("TestGroup.test_class_only")[-1]
    assert "breaks 1 budget" in class_fail


@pytest.mark.parametrize(
    "marker, expected",
    [
        ("size_mb='4MB'", "*test_bad*expects a number, got '4MB'*"),
        ("latency=3", "*test_bad*unknown keyword 'latency'*"),
        ("size_mb=-1", "*test_bad*must not be negative*"),
        ("3", "*test_bad*keyword arguments only*"),
    ],
)
def test_bad_marker_is_collection_error_naming_test(
    pytester: pytest.Pytester, marker: str, expected: str
) -> None:
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.edge_budget({marker})
        def test_bad(edge):
            pass
        """
    )
    result = pytester.runpytest("--edge-target=cortex-a72")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*ERROR collecting*", expected])
    result.stdout.no_fnmatch_line("*INTERNALERROR*")


def test_unavailable_metric_never_passes_silently(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.edge_budget(energy_mj=1000, npu_coverage=0.5)
        def test_energy(edge):
            edge.evaluate("models/tiny.onnx")
        """
    )
    result = pytester.runpytest("--edge-target=cortex-m7")  # no measured board power
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*energy_mj: not available on cortex-m7:*", "*npu_coverage: not available*no NPU*"]
    )


def test_broken_models_fail_only_their_own_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_missing(edge):
            edge.evaluate("models/nope.onnx")

        def test_garbage(edge):
            edge.evaluate("models/not_onnx.onnx")

        def test_truncated(edge):
            edge.evaluate("models/truncated.onnx")

        def test_escape(edge):
            edge.evaluate("models/escape.onnx")

        def test_good(edge):
            edge.evaluate("models/tiny.onnx")
        """
    )
    result = pytester.runpytest("--edge-target=cortex-a72", "-rf")
    result.assert_outcomes(passed=1, failed=4)
    result.stdout.fnmatch_lines(
        [
            "*_ test_missing?cortex-a72? _*",
            "edgegate: *models/nope.onnx: no such file*",
            "*_ test_garbage?cortex-a72? _*",
            "edgegate: *models/not_onnx.onnx: is not an ONNX model*",
            "*_ test_truncated?cortex-a72? _*",
            "edgegate: *models/truncated.onnx: *truncated*",
            "*_ test_escape?cortex-a72? _*",
            "edgegate: *models/escape.onnx: external data location '../secret.bin'*Refused*",
        ]
    )
    result.stdout.no_fnmatch_line("*INTERNALERROR*")
    result.stdout.no_fnmatch_line("*Traceback*")


def test_device_fit_fails_without_budget(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_big(edge):
            edge.evaluate("models/big.onnx")
        """
    )
    result = pytester.runpytest("--edge-target=cortex-m7,cortex-a72", "-v")
    result.stdout.fnmatch_lines(["*test_big?cortex-m7? FAILED*", "*test_big?cortex-a72? PASSED*"])
    result.stdout.fnmatch_lines(
        ["*flash_mb (weights + runtime code in flash): 8.01* MB, static on cortex-m7, limit*"]
    )


def test_budget_without_edge_fixture_fails(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.edge_budget(size_mb=1)
        def test_forgot():
            pass
        """
    )
    result = pytester.runpytest("--edge-target=cortex-a72")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*does not use the `edge` fixture*"])


def test_edge_target_and_edge_model_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_profile(edge_target):
            assert edge_target.id == "cortex-a72"
            assert edge_target.cpu.cores == 4

        def test_model_cached(edge_model, edge):
            a = edge_model("models/tiny.onnx")
            b = edge_model("models/tiny.onnx")
            assert a is b
            assert a.analysis.params > 0
            result = edge.evaluate(a)
            assert result.sources["size_mb"] == "static"
        """
    )
    result = pytester.runpytest("--edge-target=cortex-a72")
    result.assert_outcomes(passed=2)


def test_terminal_summary_table_and_quiet(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(BASIC)
    result = pytester.runpytest("--edge-target=cortex-a72")
    result.stdout.fnmatch_lines(
        [
            "*= edgegate =*",
            "target cortex-a72: 1 passed, 1 failed -> FAIL",
            "*test*model*size_mb*params_m*macs_m*peak_memory_mb*verdict*",
            "*test_too_big*tiny.onnx*(<=0.001 FAIL)*FAIL: size_mb*",
        ]
    )
    quiet = pytester.runpytest("--edge-target=cortex-a72", "-q")
    quiet.stdout.fnmatch_lines(["*test*model*verdict*", "*test_too_big*FAIL: size_mb*"])
    quiet.stdout.no_fnmatch_line("*macs_m*")


def test_profile_file_adds_and_bad_profile_is_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(BASIC)
    pytester.makefile(
        ".toml",
        myboard="""
        id = "my-board"
        version = "1"
        name = "My board"
        kind = "cpu"
        extends = "cortex-a72"
        [memory]
        ram_mib = 512
        [sources]
        "memory.ram_mib" = "our board's datasheet"
        """,
    )
    result = pytester.runpytest("--edge-profiles=myboard.toml", "--edge-target=my-board", "-v")
    result.stdout.fnmatch_lines(["*test_tiny?my-board? PASSED*"])
    pytester.makefile(
        ".toml", broken='id = "x"\nversion = "1"\nname = "X"\nkind = "cpu"\nram = 3\n'
    )
    result = pytester.runpytest("--edge-profiles=broken.toml", "--edge-target=cortex-a72")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*broken.toml: key 'ram': unknown key*"])


def test_bad_option_values_are_usage_errors(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nedge_latency = fastest\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ini key 'edge_latency' expects one of estimate, measured*"])


def test_float_model_on_npu_notes_cpu_fallback(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_float(edge):
            r = edge.evaluate("models/tiny.onnx")
            assert "CPU FALLBACK" in r.notes[0]
        """
    )
    result = pytester.runpytest("--edge-target=edgetpu")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*note: CPU FALLBACK: float model runs entirely on edgetpu*"])


def test_xdist_gathers_every_result(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    pytester.makepyfile(BASIC)
    result = pytester.runpytest_subprocess("--edge-target=cortex-a72,cortex-a53", "-n", "2")
    result.assert_outcomes(passed=3, failed=2)
    result.stdout.fnmatch_lines(
        [
            "target cortex-a53: 1 passed, 1 failed -> FAIL",
            "*",
            "target cortex-a72: 1 passed, 1 failed -> FAIL",
        ],
        consecutive=False,
    )


def test_plugin_import_is_light() -> None:
    code = (
        "import sys, pytest_edgegate.plugin\n"
        "heavy = [m for m in ('onnx', 'onnxruntime', 'numpy', 'jinja2') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
