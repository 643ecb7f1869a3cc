"""``.tflite`` models through the plugin: LiteRT on CPU boards, TFLite Micro on the MCU."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tflite_models import small_cnn

from bench.fitting.tflite_writer import TflWriter

HAS_EXTRA = all(
    __import__("importlib").util.find_spec(m) is not None
    for m in ("ai_edge_litert", "tflite_micro")
)
needs_extra = pytest.mark.skipif(not HAS_EXTRA, reason="the [tflite] extra is not installed")


def _models(root: Path) -> None:
    (root / "models").mkdir(exist_ok=True)
    (root / "models" / "cnn_int8.tflite").write_bytes(small_cnn(int8=True))
    (root / "models" / "cnn_fp32.tflite").write_bytes(small_cnn())


@needs_extra
def test_cpu_and_mcu_measured_memory_pass_and_fail_budgets(pytester: pytest.Pytester) -> None:
    _models(pytester.path)
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.edge_budget(peak_memory_mb=200, macs_m=1)
        def test_meets(edge):
            edge.evaluate("models/cnn_int8.tflite")

        @pytest.mark.edge_budget(peak_memory_mb=0.001)
        def test_breaks(edge):
            edge.evaluate("models/cnn_int8.tflite")
        """
    )
    result = pytester.runpytest(
        "--edge-target=cortex-a72,cortex-m7", "--edge-memory=measured", "--edge-json=out.json"
    )
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines_random(
        [
            "*peak_memory_mb: * MB, measured on cortex-m7, limit <= 0.001 MB*",
            "*peak_memory_mb: * MB, measured on cortex-a72, limit <= 0.001 MB*",
            "*cnn_int8.tflite (tflite-micro)*",
            "*cnn_int8.tflite (litert)*",
            "*runtime memory*arena (SRAM need)*",
        ]
    )
    assert "INTERNALERROR" not in result.stdout.str()
    data = json.loads((pytester.path / "out.json").read_text())
    results = {r["nodeid"]: r for r in data["results"]}
    mcu = results[
        "test_cpu_and_mcu_measured_memory_pass_and_fail_budgets.py::test_meets[cortex-m7]"
    ]
    rt = mcu["details"]["runtime"]
    assert rt["format"] == "tflite" and rt["runtime"] == "tflite-micro"
    # the gated figure is the arena; one 16-byte step below it TFLite Micro fails
    assert mcu["metrics"]["peak_memory_mb"] == rt["arena_bytes"] / 1e6
    assert rt["arena_fails_at_bytes"] == rt["arena_bytes"] - 16
    assert rt["tflm_recorded_bytes"] == rt["arena_bytes"]  # this model: TFLM's own figure
    assert rt["flash_bytes"] == (pytester.path / "models/cnn_int8.tflite").stat().st_size + 16384
    sram = [v for v in mcu["verdicts"] if v["metric"] == "sram_mb"][0]
    assert sram["value"] == rt["arena_bytes"] / 1e6 and sram["source"] == "measured"
    cpu = results[
        "test_cpu_and_mcu_measured_memory_pass_and_fail_budgets.py::test_meets[cortex-a72]"
    ]
    assert cpu["details"]["runtime"]["runtime"] == "litert"
    assert cpu["sources"]["peak_memory_mb"] == "measured"
    assert cpu["details"]["measured"]["threads_used"] >= 1


@needs_extra
def test_an_op_tflite_micro_lacks_fails_naming_op_and_target(pytester: pytest.Pytester) -> None:
    b = TflWriter()
    x, y = b.tensor("x", [1, 4]), b.tensor("y", [1, 4])
    b.op("RANK", [x], [y])
    (pytester.path / "rank.tflite").write_bytes(b.build([x], [y]))
    _models(pytester.path)
    pytester.makepyfile(
        """
        def test_rank(edge):
            edge.evaluate("rank.tflite")

        def test_fine(edge):
            edge.evaluate("models/cnn_int8.tflite")
        """
    )
    result = pytester.runpytest("--edge-target=cortex-m7")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*rank.tflite: TFLite Micro does not register the operator RANK*cortex-m7*"]
    )


def _bad_models(root: Path) -> None:
    good = small_cnn()
    (root / "truncated.tflite").write_bytes(good[: len(good) // 3])
    (root / "text.tflite").write_text("not a flatbuffer at all\n")
    (root / "garbage.tflite").write_bytes(b"\xff\xff\xff\x7fTFL3" + bytes(range(256)) * 4)
    (root / "renamed.onnx").write_bytes(good)
    import onnx
    from tflite_models import small_cnn_onnx

    (root / "renamed.tflite").write_bytes(small_cnn_onnx().SerializeToString())
    for code, name in (("MyCustomOp", "custom"), ("FlexRFFT", "flex")):
        b = TflWriter()
        x, y = b.tensor("x", [1, 4]), b.tensor("y", [1, 4])
        b.op(f"CUSTOM:{code}", [x], [y])
        (root / f"{name}.tflite").write_bytes(b.build([x], [y]))
    b = TflWriter()
    x = b.tensor("x", [100000, 100000, 1000])
    y = b.tensor("y", [100000, 100000, 1000])
    b.op("RELU", [x], [y])
    (root / "huge.tflite").write_bytes(b.build([x], [y]))
    assert onnx  # the twin is written with onnx


BAD = {
    "truncated": "truncated.tflite: looks like a TensorFlow Lite model but cannot be read*",
    "text": "text.tflite: is not a TensorFlow Lite model: the file identifier 'TFL3' is missing*",
    "garbage": "garbage.tflite: *truncated or corrupt*",
    "renamed_onnx": "renamed.onnx: is a TensorFlow Lite flatbuffer*rename it to .tflite*",
    "renamed_tflite": "renamed.tflite: is named .tflite but is not a TensorFlow Lite*.onnx*",
    "custom": "custom.tflite: operator 0 is the custom op 'MyCustomOp'*",
    "flex": "flex.tflite: operator 0 is the TF Select (Flex) op 'FlexRFFT'*",
    "huge": "huge.tflite: tensor 'x' declares shape ?100000, 100000, 1000? (FLOAT32)*over*",
}


def test_each_bad_tflite_fails_its_own_test_and_the_session_goes_on(
    pytester: pytest.Pytester,
) -> None:
    _bad_models(pytester.path)
    files = {
        "truncated": "truncated.tflite", "text": "text.tflite", "garbage": "garbage.tflite",
        "renamed_onnx": "renamed.onnx", "renamed_tflite": "renamed.tflite",
        "custom": "custom.tflite", "flex": "flex.tflite", "huge": "huge.tflite",
    }  # fmt: skip
    body = "\n".join(
        f"def test_{name}(edge):\n    edge.evaluate({path!r})\n" for name, path in files.items()
    )
    pytester.makepyfile(body + "\ndef test_after(edge):\n    edge.evaluate('good.tflite')\n")
    (pytester.path / "good.tflite").write_bytes(small_cnn())
    result = pytester.runpytest("--edge-target=cortex-a72", "--edge-json=out.json")
    result.assert_outcomes(passed=1, failed=len(files))
    result.stdout.fnmatch_lines_random([f"*edgegate: *{pattern}" for pattern in BAD.values()])
    out = result.stdout.str()
    assert "INTERNALERROR" not in out and "Traceback" not in out
    assert json.loads((pytester.path / "out.json").read_text())["results"]


def test_without_the_extra_only_runtime_paths_fail_naming_the_extra(
    pytester: pytest.Pytester,
) -> None:
    _models(pytester.path)
    pytester.makeconftest(
        """
        import sys
        sys.modules["tflite_micro"] = None  # as if the [tflite] extra were not installed
        sys.modules["ai_edge_litert"] = None
        """
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.edge_budget(macs_m=1)
        def test_static(edge):
            r = edge.evaluate("models/cnn_int8.tflite")
            assert r.metrics["macs_m"] > 0
        """
    )
    result = pytester.runpytest("--edge-target=cortex-a72,cortex-m7")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*cnn_int8.tflite: judging it on the microcontroller cortex-m7 needs the tflite-micro "
            'runtime*pip install "pytest-edgegate?tflite?"*'
        ]  # fmt: skip
    )
    assert "INTERNALERROR" not in result.stdout.str()


@needs_extra
def test_arena_search_is_deterministic(tmp_path: Path) -> None:
    from pytest_edgegate.formats.tflite.micro import micro_fit

    path = tmp_path / "m.tflite"
    path.write_bytes(small_cnn(int8=True))
    a = micro_fit(str(path), "m.tflite", path.stat().st_size, "cortex-m7", 60)
    b = micro_fit(str(path), "m.tflite", path.stat().st_size, "cortex-m7", 60)
    assert a == b and a.arena_bytes % 16 == 0 and a.failing_bytes == a.arena_bytes - 16


@needs_extra
def test_litert_runs_the_built_models_like_the_translation_counts(tmp_path: Path) -> None:
    from pytest_edgegate.formats.tflite.litert import LiteRTSession, input_signature

    path = tmp_path / "m.tflite"
    path.write_bytes(small_cnn())
    ((name, dtype, shape),) = input_signature(str(path), "m")
    assert (name, dtype, shape) == ("input", "float32", (1, 16, 16, 3))
    out = LiteRTSession(str(path), 2).run(None, {name: np.ones(shape, np.float32)})
    assert out[0].shape == (1, 10) and abs(float(out[0].sum()) - 1.0) < 1e-5


@needs_extra
def test_int8_tflite_against_float_references_in_both_formats(pytester: pytest.Pytester) -> None:
    from tflite_models import small_cnn_onnx

    _models(pytester.path)
    models = pytester.path / "models"
    (models / "ref_nhwc.onnx").write_bytes(small_cnn_onnx(nhwc_input=True).SerializeToString())
    pytester.makepyfile(
        """
        import numpy as np

        X = np.random.default_rng(0).uniform(-1, 1, size=(16, 16, 16, 3)).astype(np.float32)

        def test_same_network_across_formats(edge):
            # the fp32 .tflite on LiteRT against its ONNX twin on onnxruntime: same numbers
            r = edge.evaluate("models/cnn_fp32.tflite", reference="models/ref_nhwc.onnx",
                              dataset={"input": X})
            assert r.metrics["sqnr_db"] > 60 and r.metrics["top1_agreement"] == 1.0

        def test_int8_against_onnx_and_tflite_references(edge):
            a = edge.evaluate("models/cnn_int8.tflite", reference="models/ref_nhwc.onnx",
                              dataset={"input": X})
            b = edge.evaluate("models/cnn_int8.tflite", reference="models/cnn_fp32.tflite",
                              dataset={"input": X})
            # float inputs quantized at the input's scale, outputs dequantized: both
            # references are the same float network, so they judge the candidate alike
            assert abs(a.metrics["sqnr_db"] - b.metrics["sqnr_db"]) < 0.01
            assert 0 < a.metrics["sqnr_db"] < 60
            assert any("no per-layer SQNR" in n for n in a.details["accuracy"]["notes"])
        """
    )
    result = pytester.runpytest("--edge-target=cortex-a72")
    result.assert_outcomes(passed=2)


@needs_extra
def test_sine_model_on_a_cpu_and_an_mcu_target(pytester: pytest.Pytester) -> None:
    """The TensorFlow-written model of the tflite-micro wheel, through edge_model and
    edge.evaluate: figures counted by hand, LiteRT on the board, TFLite Micro on the MCU."""
    from tflite_micro.python.tflite_micro import runtime

    sine = Path(runtime.__file__).with_name("sine_float.tflite")
    (pytester.path / "sine.tflite").write_bytes(sine.read_bytes())
    pytester.makepyfile(
        """
        import pytest

        # 1 -> 16 -> 16 -> 1 fully connected: 16 + 256 + 16 MACs, (16+16) + (256+16) + (16+1)
        # parameters
        @pytest.mark.edge_budget(macs_m=0.000288, params_m=0.000321)
        def test_sine(edge, edge_model, edge_target):
            handle = edge_model("sine.tflite")
            assert handle.loaded.format == "tflite"
            r = edge.evaluate(handle)
            assert r.metrics["macs_m"] == 288 / 1e6
            assert r.metrics["params_m"] == 321 / 1e6
            assert r.metrics["flops_m"] == (2 * 288 + 33 + 32) / 1e6
            rt = r.details["runtime"]
            if edge_target.is_mcu:
                assert rt["runtime"] == "tflite-micro"
                # what TFLite Micro records leaves out what running needs (tflite-micro#2738)
                assert rt["arena_bytes"] > rt["tflm_recorded_bytes"]
                assert any("float model on the microcontroller" in n for n in r.notes)
            else:
                assert rt["runtime"] == "litert"
        """
    )
    result = pytester.runpytest("--edge-target=cortex-a72,cortex-m7")
    result.assert_outcomes(passed=2)
