"""End-to-end evaluations in child processes: metrics, fidelity, layers, streaming, failures.

Each evaluation starts one child per model (a Python + onnxruntime start, about half a
second, both children at once), so the evaluations are few and each checks several things;
no assertion depends on how long anything took.
"""

from __future__ import annotations

import os
import tracemalloc

import numpy as np
import pytest
from accuracy_models import (
    blobs,
    memory_hog_model,
    mlp,
    mlp_qdq,
    scale_model,
    two_input_model,
    wide_sample_model,
)

from pytest_edgegate.accuracy import AccuracyError, AccuracySpec, evaluate_accuracy
from pytest_edgegate.accuracy.eval_child import FAULT_ENV

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the evaluation needs POSIX")


def spec(candidate, **kw) -> AccuracySpec:
    settings = dict(threads=1, timeout_s=30.0, target_id="cortex-a53")
    settings.update(kw)
    return AccuracySpec(candidate, **settings)


def test_quantized_candidate_against_reference(model_file):
    """Accuracy, drop, fidelity and the per-layer diagnosis of a crushed hidden layer."""
    ref = model_file(mlp(), "ref.onnx")
    cand = model_file(mlp_qdq(relu_scale=1.0), "cand.onnx")  # hidden activation crushed
    x, y = blobs(300)
    expected = (x.argmax(axis=1) == y).mean()  # mlp() is argmax of its input
    result = evaluate_accuracy(
        spec(
            cand,
            reference=ref,
            dataset=[(x[:100], y[:100]), (x[100:], y[100:])],
            metric="top1",
            batch_size=64,
            memory_limit_mb=300.0,
            threads=64,
        )
    )
    assert result.reference_accuracy == pytest.approx(expected)
    assert result.accuracy < result.reference_accuracy
    assert result.accuracy_drop == pytest.approx(result.reference_accuracy - result.accuracy)
    assert result.accuracy_drop_rel == pytest.approx(
        result.accuracy_drop / result.reference_accuracy
    )
    assert result.n_samples == 300 and result.batch_size == 64
    assert result.threads == min(64, len(os.sched_getaffinity(0)))
    assert result.sqnr_db < 25 and 0 < result.top1_agreement < 1
    assert 0 < result.cosine <= 1 and result.max_abs_err >= result.mean_abs_err > 0
    assert [layer.name for layer in result.layers] == ["input x", "fc1_relu", "fc2"]
    assert result.worst_layers[0].name == "fc1_relu"
    assert result.layer_samples == 256
    assert "worst layers: fc1_relu" in result.diagnosis()
    assert set(result.metrics()) == {
        "accuracy_drop",
        "accuracy_drop_rel",
        "sqnr_db",
        "top1_agreement",
    }


def test_identical_models_without_labels_give_exact_fidelity(model_file):
    """No metric: fidelity only, on seeded random inputs; the same model is exact."""
    path = model_file(mlp())
    result = evaluate_accuracy(spec(path, reference=mlp(), random_samples=20))  # a proto too
    assert result.reference == "<in-memory model test>"
    assert result.accuracy is None and result.accuracy_drop is None
    assert result.sqnr_db == 140.0 and result.top1_agreement == 1.0 and result.cosine == 1.0
    assert result.max_abs_err == 0.0 and result.n_samples == 20
    assert result.worst_layers == () and len(result.layers) == 3
    assert result.data == "20 seeded random inputs" and result.random_inputs
    assert "no layer lost precision" in result.diagnosis()
    assert result.metrics() == {"sqnr_db": 140.0, "top1_agreement": 1.0}


def test_regression_mae_and_a_callable_metric(model_file):
    """MAE is lower-is-better: the drop is candidate - reference, positive for a loss."""
    x = np.linspace(-1, 1, 40, dtype=np.float32).reshape(10, 4)
    ref, cand = model_file(scale_model(1.0), "ref.onnx"), model_file(scale_model(1.1), "c.onnx")
    result = evaluate_accuracy(
        spec(cand, reference=ref, dataset=(x, x), metric="mae", layer_diagnosis=False)
    )
    assert result.reference_accuracy == pytest.approx(0.0, abs=1e-7)
    assert result.accuracy == pytest.approx(0.1 * np.abs(x).mean(), rel=1e-5)
    assert result.accuracy_drop == pytest.approx(result.accuracy, rel=1e-5)
    assert result.accuracy_drop_rel is None and "reference scores 0" in result.notes[0]
    assert result.top1_agreement is None  # a regressor
    assert result.sqnr_db == pytest.approx(20.0, abs=1e-3)  # 10% error = 20 dB

    def within_5pct(outputs, labels):
        return float((np.abs(outputs - labels) <= 0.05 * np.abs(labels) + 1e-6).mean())

    custom = evaluate_accuracy(
        spec(
            cand,
            reference=ref,
            dataset=(x, x),
            metric=within_5pct,
            higher_is_better=True,
            layer_diagnosis=False,
        )
    )
    assert custom.metric == "within_5pct" and custom.reference_accuracy == 1.0
    assert custom.accuracy_drop == pytest.approx(1.0 - custom.accuracy)


def test_a_generator_larger_than_the_caps_streams_in_bounded_memory(model_file):
    """~100 MB of inputs through children capped at 40 MB each and a parent that never
    holds more than a few batches: a data set that had to be held whole would fail both."""
    path = model_file(scale_model(1.0, features=256))
    batches, rows = 200, 500  # 200 x 500 x 256 float32 = 102 MB

    def stream():
        rng = np.random.default_rng(0)
        for _ in range(batches):
            yield rng.standard_normal((rows, 256), dtype=np.float32), None

    tracemalloc.start()
    try:
        result = evaluate_accuracy(
            spec(
                path,
                reference=path,
                dataset=stream,
                memory_limit_mb=40.0,
                batch_size=1000,
                layer_samples=16,
            )
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.n_samples == batches * rows
    assert peak < 15e6, f"the parent held {peak / 1e6:.0f} MB: the data set did not stream"


def test_fixed_batch_models_pad_and_multi_input_models_take_dicts(model_file):
    fixed = model_file(mlp(batch=8), "fixed.onnx")
    x, y = blobs(20)
    result = evaluate_accuracy(
        spec(
            fixed,
            reference=model_file(mlp(), "dyn.onnx"),
            dataset=(x, y),
            metric="top1",
            layer_diagnosis=False,
        )
    )
    assert result.batch_size == 8 and result.n_samples == 20
    assert result.accuracy == pytest.approx((x.argmax(1) == y).mean())
    assert "padded with 4 copies" in result.notes[0]

    two = model_file(two_input_model(), "two.onnx")
    a, b = np.ones((5, 3), np.float32), np.arange(15, dtype=np.float32).reshape(5, 3)
    labels = (a + 2 * b).argmax(axis=1)
    multi = evaluate_accuracy(spec(two, dataset=[({"a": a, "b": b}, labels)], metric="top1"))
    assert multi.accuracy == 1.0 and multi.reference is None and multi.sqnr_db is None


# -- bad input: each a clear error naming what did not match -----------------------------------


def test_different_inputs_or_output_shapes_are_refused_before_running(model_file):
    ref = model_file(mlp(classes=4), "ref.onnx")
    x, y = blobs(8)
    with pytest.raises(AccuracyError, match=r"input 'x' has shape \[N, 3\] in the candidate"):
        evaluate_accuracy(
            spec(
                model_file(mlp(classes=3), "c3.onnx"), reference=ref, dataset=(x, y), metric="top1"
            )
        )
    with pytest.raises(AccuracyError, match=r"output shapes differ: .*\[N, 5\].*\[N, 4\]") as exc:
        evaluate_accuracy(
            spec(
                model_file(mlp(out_classes=5), "c5.onnx"),
                reference=ref,
                dataset=(x, y),
                metric="top1",
            )
        )
    assert exc.value.kind == "mismatch"
    with pytest.raises(AccuracyError, match=r"take different inputs: candidate \(a, b\)"):
        evaluate_accuracy(
            spec(
                model_file(two_input_model(), "two.onnx"),
                reference=ref,
                dataset=(x, y),
                metric="top1",
            )
        )


def test_empty_dataset_and_missing_labels(model_file):
    path = model_file(mlp())
    with pytest.raises(AccuracyError, match="the data set is empty") as exc:
        evaluate_accuracy(spec(path, dataset=[], metric="top1"))
    assert exc.value.kind == "data"
    with pytest.raises(AccuracyError, match="empty"):
        evaluate_accuracy(spec(path, dataset=lambda: iter([]), reference=path))
    with pytest.raises(AccuracyError, match="metric top1 needs a labelled dataset"):
        evaluate_accuracy(spec(path, metric="top1"))
    with pytest.raises(AccuracyError, match="nothing to evaluate"):
        evaluate_accuracy(spec(path, dataset=blobs(4)[0]))  # no labels, no reference
    with pytest.raises(AccuracyError, match="nothing to evaluate without a reference: labels"):
        evaluate_accuracy(spec(path, dataset=(blobs(4)[0], blobs(4)[0])))  # float targets
    # integer class labels: top-1 by default, the candidate alone
    alone = evaluate_accuracy(spec(path, dataset=blobs(4), layer_diagnosis=False))
    assert alone.metric == "top1" and alone.metric_default and alone.accuracy is not None


def test_wrong_labels_and_a_raising_metric_fail_the_evaluation(model_file):
    path = model_file(mlp())
    x, y = blobs(6)
    with pytest.raises(AccuracyError, match=r"labels of samples 0-5 have shape \[6, 3\]"):
        evaluate_accuracy(spec(path, dataset=(x, np.zeros((6, 3))), metric="top1"))

    def broken(outputs, labels):
        raise ValueError("labels are strings")

    with pytest.raises(AccuracyError, match="metric broken raised ValueError: labels are str"):
        evaluate_accuracy(spec(path, dataset=(x, y), metric=broken, higher_is_better=True))
    with pytest.raises(AccuracyError, match="returned nan"):
        evaluate_accuracy(
            spec(path, dataset=(x, y), metric=lambda o, labels: np.nan, higher_is_better=False)
        )


def test_out_of_memory_fails_with_the_model_named(model_file):
    hog = model_file(memory_hog_model(), "hog.onnx")
    x = np.ones((2, 1), np.float32)
    with pytest.raises(AccuracyError) as exc:
        evaluate_accuracy(spec(hog, dataset=(x, None), reference=hog, memory_limit_mb=50.0))
    assert exc.value.kind == "oom", str(exc.value)
    assert "hog.onnx" in str(exc.value) and "50 MB" in str(exc.value)


def test_a_batch_too_large_for_the_cap_is_run_in_halves(model_file):
    """64 samples x 4 MB do not fit 60 MB; 8 samples do: the evaluation adapts, and only a
    single sample that does not fit would be the model's out-of-memory."""
    path = model_file(wide_sample_model(), "wide.onnx")
    x = np.ones((64, 1), np.float32)
    result = evaluate_accuracy(
        spec(path, dataset=(x, x * 1_000_000), metric="mae", memory_limit_mb=60.0)
    )
    assert result.n_samples == 64 and result.accuracy == 0.0
    assert any("a batch of 64 ran out of memory under the cap" in n for n in result.notes)


@pytest.mark.parametrize(
    ("action", "kind", "timeout_s", "words"),
    [
        # a crash is not a timeout: the generous default keeps a slow start-up out of it
        ("segv", "crash", 60.0, "onnxruntime crashed (SIGSEGV) running"),
        # the step is "running samples 0-3", unless a loaded machine made the start-up slower:
        # either way the hang is stopped at the timeout, which is all this case checks
        ("hang", "timeout", 2.0, "timed out after 2 s on `cortex-a53` while"),
    ],
)
def test_a_crash_or_a_hang_in_a_child_fails_only_this_evaluation(
    model_file, monkeypatch, action, kind, timeout_s, words
):
    path = model_file(mlp(), "crashy.onnx")
    monkeypatch.setenv(FAULT_ENV, f"{action}:run")
    with pytest.raises(AccuracyError) as exc:
        evaluate_accuracy(spec(path, dataset=blobs(4), reference=path, timeout_s=timeout_s))
    assert exc.value.kind == kind
    assert words in str(exc.value) and "crashy.onnx" in str(exc.value)
    monkeypatch.delenv(FAULT_ENV)
    # the next evaluation is unaffected
    assert evaluate_accuracy(spec(path, dataset=blobs(4), reference=path)).sqnr_db == 140.0


def test_a_failing_layer_diagnosis_only_adds_a_note_and_nothing_leaks(model_file, monkeypatch):
    path = model_file(mlp(), "m.onnx")
    fds = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    monkeypatch.setenv(FAULT_ENV, "segv:diagnose")
    x, y = blobs(8)
    result = evaluate_accuracy(spec(path, reference=path, dataset=(x, y), metric="top1"))
    assert result.accuracy_drop == 0.0 and result.layers == ()
    assert "layer diagnosis failed" in result.notes[0] and "SIGSEGV" in result.notes[0]
    if fds is not None:
        assert len(os.listdir("/proc/self/fd")) == fds  # pipes closed, children reaped
