"""Unit tests of the runner's pure parts: statistics, messages, profiles, specs, results."""

from __future__ import annotations

import numpy as np
import pytest
from runner_models import add_model, two_input_model

from pytest_edgegate.runner import RunError, RunSpec
from pytest_edgegate.runner.classify import Outcome, to_error, trim_ort_message
from pytest_edgegate.runner.feeds import FeedSpec, digest, random_feeds
from pytest_edgegate.runner.model_inputs import InputSignature, resolve_feeds
from pytest_edgegate.runner.profiling import parse_profile
from pytest_edgegate.runner.stats import is_converged, median_ci, summarize

SPEC = dict(model_path="m.onnx", threads=4, memory_limit_mb=200.0, target_id="cortex-a53")


class TestStats:
    def test_median_ci_brackets_median_with_order_statistics(self):
        samples = np.arange(1, 101)  # 1..100
        lo, hi = median_ci(samples)
        # n=100: ranks floor(50 - 9.8) = 40 and ceil(51 + 9.8) = 61
        assert (lo, hi) == (40.0, 61.0)

    def test_small_sample_ci_is_full_range(self):
        assert median_ci([5, 6, 7]) == (5.0, 7.0)

    def test_tight_samples_converge_and_spread_ones_do_not(self):
        tight = np.sort(1000 + np.arange(50) % 3)
        wide = np.sort(np.linspace(500, 1500, 50))
        assert is_converged(tight, 0.02)
        assert not is_converged(wide, 0.02)
        assert not is_converged(tight[:5], 0.02)  # too few runs to judge

    def test_summarize_in_ms(self):
        stats = summarize([2_000_000] * 20 + [4_000_000], rel_ci=0.02, time_cap_s=1, elapsed_s=0.1)
        assert stats.p50_ms == 2.0
        assert stats.min_ms == 2.0
        assert stats.max_ms == 4.0
        assert stats.mad_ms == 0.0
        assert stats.n_runs == 21
        assert stats.converged


class TestFeeds:
    def test_random_feeds_are_seeded(self):
        feeds = [FeedSpec("x", "float32", (2, 3)), FeedSpec("ids", "int64", (4,))]
        a, b, c = random_feeds(feeds, 7), random_feeds(feeds, 7), random_feeds(feeds, 8)
        assert digest(a, ["x", "ids"]) == digest(b, ["x", "ids"])
        assert digest(a, ["x", "ids"]) != digest(c, ["x", "ids"])
        assert a["x"].dtype == np.float32 and a["ids"].dtype == np.int64
        assert a["ids"].min() >= 0 and a["ids"].max() < 10

    def test_dynamic_dims_from_input_shapes_shared_by_symbol(self):
        sig = [InputSignature("x", "float32", ("N", 4)), InputSignature("ids", "int64", ("N",))]
        feeds, assumed = resolve_feeds(sig, None, {"x": [5, 4]}, "m.onnx")
        assert [f.shape for f in feeds] == [(5, 4), (5,)]
        assert assumed == {}

    def test_initializer_backed_inputs_are_optional(self):
        sig = [
            InputSignature("x", "float32", (2,)),
            InputSignature("w", "float32", (2,), optional=True),
        ]
        feeds, _ = resolve_feeds(sig, None, None, "m.onnx")
        assert [f.name for f in feeds] == ["x"]
        arrays = {"x": np.zeros(2, np.float32), "w": np.ones(2, np.float32)}
        feeds, _ = resolve_feeds(sig, arrays, None, "m.onnx")
        assert [f.name for f in feeds] == ["x", "w"]

    def test_unnamed_dynamic_dims_are_assumed_one_and_reported(self):
        sig = [InputSignature("x", "float32", (None, 3))]
        feeds, assumed = resolve_feeds(sig, None, None, "m.onnx")
        assert feeds[0].shape == (1, 3)
        assert assumed == {"x.0": 1}

    @pytest.mark.parametrize(
        ("arrays", "shapes", "words"),
        [
            ({"x": np.zeros((2, 5), np.float32)}, None, ["input 'x' has shape [2, 5]", "[N, 4]"]),
            ({"x": np.zeros((2, 4), np.float64)}, None, ["'x'", "float64", "float32"]),
            ({}, None, ["'x'", "missing"]),
            ({"x": np.zeros((2, 4), np.float32), "z": np.zeros(1)}, None, ["'z'", "not an input"]),
            (None, {"y": [1]}, ["input_shapes", "'y'"]),
            (None, {"x": [2, 4, 1]}, ["'x'", "[2, 4, 1]", "[N, 4]"]),
        ],
    )
    def test_bad_inputs_name_the_input(self, arrays, shapes, words):
        sig = [InputSignature("x", "float32", ("N", 4))]
        with pytest.raises(RunError) as info:
            resolve_feeds(sig, arrays, shapes, "m.onnx")
        assert info.value.kind == "input"
        assert str(info.value).startswith("m.onnx: ")
        for word in words:
            assert word in str(info.value)


class TestMessages:
    def test_trim_ort_message_drops_prefix_path_and_signature(self):
        raw = (
            "Fail: [ONNXRuntimeError] : 1 : FAIL : /onnxruntime_src/onnxruntime/core/graph/"
            "model.cc:256 onnxruntime::Model::Model(onnx::ModelProto&&, const "
            "onnxruntime::PathString&, const onnxruntime::logging::Logger&) Unsupported model "
            "IR version: 14, max supported IR version: 13"
        )
        assert trim_ort_message(raw) == (
            "Unsupported model IR version: 14, max supported IR version: 13"
        )

    def test_oom_message_uses_the_static_estimate(self):
        spec = RunSpec(**SPEC, expected_mb=612.4)
        err = to_error(
            spec,
            Outcome(
                3,
                False,
                "first-run",
                1.0,
                "",
                error={"kind": "oom", "phase": "first-run", "message": "x"},
            ),
        )
        assert err.kind == "oom"
        assert "needs about 612 MB, `cortex-a53` allows 200 MB" in str(err)

    def test_oom_message_from_what_the_child_saw(self):
        spec = RunSpec(**SPEC)
        error = {
            "kind": "oom",
            "phase": "timing",
            "message": "m",
            "model_seen_mb": 150.0,
            "requested_bytes": 300_000_000,
        }
        err = to_error(spec, Outcome(3, False, "timing", 1.0, "", error=error))
        # the run stopped at the failed allocation: a lower bound
        assert "needs at least 450 MB, `cortex-a53` allows 200 MB" in str(err)

    def test_abort_after_bad_alloc_is_out_of_memory(self):
        stderr = "terminate called after throwing an instance of 'std::bad_alloc'\n"
        err = to_error(RunSpec(**SPEC), Outcome(-6, False, "first-run", 1.0, stderr))
        assert err.kind == "oom"
        assert "needs more than the 200 MB `cortex-a53` allows" in str(err)

    def test_signal_is_a_crash(self):
        err = to_error(RunSpec(**SPEC), Outcome(-11, False, "timing", 1.0, ""))
        assert err.kind == "crash"
        assert str(err).startswith("onnxruntime crashed (SIGSEGV) running m.onnx")


def test_parse_profile_keeps_the_last_run_and_aggregates():
    def node(name, op, ts, dur):
        return {
            "cat": "Node",
            "name": f"{name}_kernel_time",
            "ts": ts,
            "dur": dur,
            "args": {"op_name": op},
        }

    events = [
        {"cat": "Session", "name": "model_run", "ts": 0, "dur": 100},
        node("c1", "Conv", 1, 50),
        node("r1", "Relu", 60, 30),
        {"cat": "Session", "name": "model_run", "ts": 200, "dur": 100},
        node("c1", "FusedConv", 201, 30),
        node("g1", "Gemm", 240, 10),
        node("p", "MaxPool", 260, 10),
    ]
    profile = parse_profile(events)
    assert [n.name for n in profile.nodes] == ["c1", "g1", "p"]
    assert profile.total_us == 50
    assert profile.by_op_type[0].op_type == "FusedConv"
    assert profile.class_share == pytest.approx({"conv": 0.6, "gemm": 0.2, "other": 0.2})


@pytest.mark.parametrize(
    "bad",
    [
        dict(threads=0),
        dict(memory_limit_mb=-1.0),
        dict(timeout_s=0),
        dict(rel_ci=1.5),
        dict(warmup=-1),
        dict(paired_time_s=-1.0),
        dict(work={"conv": 1.0}),
        dict(work={"conv": 1.0, "gemm": -1.0, "stream": 0.0}),
    ],
)
def test_invalid_spec_is_a_run_error(bad):
    with pytest.raises(RunError) as info:
        RunSpec(**{**SPEC, **bad})
    assert info.value.kind == "spec"
    assert next(iter(bad)) in str(info.value)


def test_models_build():
    """The shared test models are valid ONNX (guards the helper module itself)."""
    import onnx

    for model in (add_model(), two_input_model()):
        onnx.checker.check_model(model)


class TestPairedArithmetic:
    """The ratio: the model's lower-decile CPU time over what the kernels' deciles imply."""

    WORK = {"conv3x3": {"flops": 2_000, "bytes": 0}, "gemm": {"flops": 1_000, "bytes": 0},
            "stream_add": {"flops": 0, "bytes": 3_000}}  # fmt: skip
    #: 5000 FLOP conv + 5000 FLOP gemm + 10000 bytes, each at 1e6/s: 20 ms modelled
    MODEL_WORK = {"conv": 5e3, "gemm": 5e3, "stream": 1e4}

    def record(self, model_ms, slow=1.0):
        rounds = len(model_ms)
        return {
            "cpu_ms": {
                "model": model_ms,
                "conv3x3": [2.0 * slow] * rounds,  # 2000 FLOP in 2 ms: 1e6 FLOP/s
                "gemm": [1.0 * slow] * rounds,
                "stream_add": [3.0 * slow] * rounds,
            },
            "work": self.WORK,
        }

    def test_ratio_is_model_time_over_modelled_time(self):
        from pytest_edgegate.runner.hostwork import ratio_estimate

        est = ratio_estimate(self.record([40.0] * 20), self.MODEL_WORK)
        assert est["ratio"] == pytest.approx(2.0)
        assert est["ci_low"] == est["ci_high"] == pytest.approx(2.0)
        assert est["rounds"] == 20

    def test_a_slowdown_shared_by_model_and_kernels_cancels(self):
        from pytest_edgegate.runner.hostwork import ratio_estimate

        idle = ratio_estimate(self.record([20.0] * 12), self.MODEL_WORK)
        loaded = ratio_estimate(self.record([30.0] * 12, slow=1.5), self.MODEL_WORK)
        assert loaded["ratio"] == pytest.approx(idle["ratio"]) == pytest.approx(1.0)

    def test_the_right_tail_of_disturbed_runs_does_not_move_the_ratio(self):
        """A third of the model's runs disturbed (2x slower): the lower decile ignores them."""
        from pytest_edgegate.runner.hostwork import is_precise, ratio_estimate

        steady = [20.0 + 0.01 * i for i in range(60)]
        disturbed = [v * (2.0 if i % 3 == 0 else 1.0) for i, v in enumerate(steady)]
        a = ratio_estimate(self.record(steady), self.MODEL_WORK)
        b = ratio_estimate(self.record(disturbed), self.MODEL_WORK)
        assert b["ratio"] == pytest.approx(a["ratio"], rel=0.01)
        assert b["ci_low"] <= b["ratio"] <= b["ci_high"]
        assert is_precise(b, 0.01)
        # ten runs spread over 20-29 ms: the decile's interval reaches the minimum and beyond 1 %
        few = ratio_estimate(self.record([20.0 + i for i in range(10)]), self.MODEL_WORK)
        assert few["ci_low"] < few["ratio"] and not is_precise(few, 0.01)

    def test_a_very_wide_interval_stays_positive(self):
        """A few rounds, some disturbed tenfold (a loaded CI machine): still a usable figure."""
        from pytest_edgegate.runner.hostwork import ratio_estimate

        record = self.record([20.0, 2000.0, 2100.0, 2200.0, 2300.0])
        record["cpu_ms"]["stream_add"] = [3.0, 300.0, 310.0, 320.0, 330.0]
        est = ratio_estimate(record, self.MODEL_WORK)
        # the combined relative error here is over 100 %: ratio * (1 - s) would be <= 0
        assert est["ci_high"] > 2 * est["ratio"]
        assert 0 < est["ci_low"] < est["ratio"]


class TestReferenceNetworks:
    """The model's ratio over a reference network's, both from the same rounds."""

    WORK = TestPairedArithmetic.WORK
    MODEL_WORK = TestPairedArithmetic.MODEL_WORK

    def record(self, model_ms, ref_ms, ref_work, slow=1.0):
        rounds = len(model_ms)
        return {
            "cpu_ms": {
                "model": model_ms,
                "reference0": ref_ms,
                "conv3x3": [2.0 * slow] * rounds,
                "gemm": [1.0 * slow] * rounds,
                "stream_add": [3.0 * slow] * rounds,
            },
            "work": self.WORK,
            "references": {"reference0": ref_work},
        }

    def test_a_model_like_the_reference_gets_ratio_one(self):
        from pytest_edgegate.runner.hostwork import ratio_estimate

        est = ratio_estimate(
            self.record([30.0] * 60, [30.0] * 60, self.MODEL_WORK), self.MODEL_WORK
        )
        assert est["ratio"] == pytest.approx(1.0)
        assert est["model_ratio"] == pytest.approx(1.5) == est["reference_ratio"]

    def test_the_model_twice_as_slow_as_its_roofline_relative_to_the_reference(self):
        from pytest_edgegate.runner.hostwork import ratio_estimate

        est = ratio_estimate(
            self.record([40.0] * 60, [20.0] * 60, self.MODEL_WORK), self.MODEL_WORK
        )
        assert est["ratio"] == pytest.approx(2.0)

    def test_the_references_count_as_one_workload(self):
        """Their times and work are summed round by round: 10 + 30 ms for twice the work
        is the reference ratio of one network taking 20 ms."""
        from pytest_edgegate.runner.hostwork import ratio_estimate

        record = self.record([20.0] * 60, [10.0] * 60, self.MODEL_WORK)
        record["cpu_ms"] |= {"reference1": [30.0] * 60}
        record["references"] |= {"reference1": self.MODEL_WORK}
        est = ratio_estimate(record, self.MODEL_WORK)
        assert est["ratio"] == pytest.approx(1.0)
        assert est["reference_ratio"] == pytest.approx(est["model_ratio"])

    def test_kernels_divide_out_where_model_and_reference_do_the_same_work(self):
        """Noisy kernels widen the interval only by the difference of the work mixes."""
        from pytest_edgegate.runner.hostwork import ratio_estimate

        rng = np.random.default_rng(0)
        record = self.record([20.0] * 60, [20.0] * 60, self.MODEL_WORK)
        record["cpu_ms"]["conv3x3"] = list(2.0 * (1 + 0.2 * rng.random(60)))
        same = ratio_estimate(record, self.MODEL_WORK)
        record["references"]["reference0"] = {"conv": 0.0, "gemm": 0.0, "stream": 2e4}
        other = ratio_estimate(record, self.MODEL_WORK)
        assert same["ci_high"] - same["ci_low"] == pytest.approx(0.0, abs=1e-12)
        assert other["ci_high"] - other["ci_low"] > 0.005


class TestQuantileInterval:
    def test_decile_interval_by_order_statistics(self):
        from pytest_edgegate.runner.stats import quantile_ci

        values = np.arange(1, 401)  # n=400, q=0.1: ranks floor(40 - 11.76) and ceil(52.76)
        assert quantile_ci(values, 0.1) == (28.0, 53.0)

    def test_proper_interval_sizes(self):
        from pytest_edgegate.runner.stats import proper_interval_size, quantile_ci

        assert proper_interval_size(0.1) == 53 and proper_interval_size(0.5) == 8
        assert quantile_ci(np.arange(1, 53), 0.1)[0] == 1.0  # reaches the minimum
        assert quantile_ci(np.arange(1, 54), 0.1)[0] == 1.0  # rank 1 itself, now proper

    def test_ten_tight_rounds_are_not_precise_yet(self):
        from pytest_edgegate.runner.hostwork import is_precise

        assert not is_precise({"ratio": 1.0, "ci_low": 1.0, "ci_high": 1.0, "quantile": 0.1,
                               "rounds": 10}, 0.01)  # fmt: skip
        assert is_precise({"ratio": 1.0, "ci_low": 1.0, "ci_high": 1.0, "quantile": 0.1,
                           "rounds": 53}, 0.01)  # fmt: skip

    def test_too_few_samples_extend_to_the_range(self):
        from pytest_edgegate.runner.stats import quantile_ci

        assert quantile_ci([3.0, 4.0, 5.0], 0.1) == (3.0, 5.0)


class TestPairedLoop:
    """The loop's stopping rule, with the clock of each run replaced by a fixed figure."""

    def test_stops_once_precise_and_runs_to_the_cap_without_work(self, monkeypatch):
        from pytest_edgegate.runner import paired

        monkeypatch.setattr(paired, "_cpu_ms", lambda run: 1.0)
        work = {"conv": 1e6, "gemm": 1e6, "stream": 1e6}
        precise = paired.paired_rounds(lambda: None, time_cap_s=60.0, work=work)
        assert precise["converged"] and precise["threads"] == 1
        # never before a proper interval of the decile (53 rounds), checked every ~10 %
        assert 53 <= precise["rounds"] <= 60 and precise["elapsed_s"] < 60
        capped = paired.paired_rounds(lambda: None, time_cap_s=0.0)
        assert not capped["converged"] and capped["rounds"] == paired.MIN_ROUNDS


def test_work_kinds_are_the_host_kernels_kinds() -> None:
    """The cost model's host work and the runner's kernels name the same kinds of work."""
    from pytest_edgegate.costmodel.host import WORK_KINDS
    from pytest_edgegate.runner.hostwork import KERNELS

    assert tuple(KERNELS) == WORK_KINDS
