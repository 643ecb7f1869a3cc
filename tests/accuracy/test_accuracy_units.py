"""The parts of the accuracy evaluation that need no child process: metrics, fidelity,
data set handling, layer matching and ranking, the result, the spec."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from accuracy_models import mlp, mlp_qdq, mlp_qoperator, two_input_model

from pytest_edgegate.accuracy import AccuracyError, AccuracyResult, AccuracySpec, LayerSQNR
from pytest_edgegate.accuracy.dataset import DataSource, rechunk
from pytest_edgegate.accuracy.fidelity import MAX_SQNR_DB, FidelityAccumulator, sqnr_db
from pytest_edgegate.accuracy.layers import layer_results, match_layers, worst_layers
from pytest_edgegate.accuracy.pair import TensorSig
from pytest_edgegate.accuracy.scores import MetricAccumulator, resolve_metric

X = TensorSig("x", "float32", ("N", 4))


def source(dataset, inputs=(X,), need_labels=True, **kw) -> DataSource:
    settings = dict(input_name=None, random_samples=10, seed=0, batch=4)
    settings.update(kw)
    return DataSource(dataset, list(inputs), need_labels=need_labels, **settings)


# -- metrics -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "name", "k"), [("top1", "top1", 1), ("TOP5", "top5", 5), ("topk:3", "top3", 3)]
)
def test_topk_names_resolve(given, name, k):
    m = resolve_metric(given, None)
    assert (m.name, m.k, m.higher_is_better) == (name, k, True)


def test_metric_resolution_errors_name_the_problem():
    with pytest.raises(AccuracyError, match="unknown metric 'f1'") as exc:
        resolve_metric("f1", None)
    assert exc.value.kind == "spec"
    with pytest.raises(AccuracyError, match="callable metric my_metric needs higher_is_better"):

        def my_metric(outputs, labels):
            return 0.0

        resolve_metric(my_metric, None)
    with pytest.raises(AccuracyError, match="mae' is lower-is-better"):
        resolve_metric("mae", True)


def test_topk_counts_exactly_over_any_batching():
    scores = np.array([[0.1, 0.9, 0.0], [0.5, 0.3, 0.2], [0.2, 0.3, 0.5], [0.4, 0.35, 0.25]])
    labels = np.array([1, 1, 0, 2])
    top1 = MetricAccumulator(resolve_metric("top1", None), "m")
    top2 = MetricAccumulator(resolve_metric("top2", None), "m")
    for lo in (0, 3):  # uneven batches: 3 then 1
        top1.update(scores[lo : lo + 3], labels[lo : lo + 3], "b")
        top2.update(scores[lo : lo + 3], labels[lo : lo + 3], "b")
    assert top1.value() == 0.25  # only sample 0
    assert top2.value() == 0.5  # samples 0 and 1
    onehot = MetricAccumulator(resolve_metric("top1", None), "m")
    onehot.update(scores, np.eye(3)[labels], "b")
    assert onehot.value() == 0.25


def test_label_shape_and_range_errors_name_the_batch():
    acc = MetricAccumulator(resolve_metric("top1", None), "cand.onnx")
    scores = np.zeros((4, 3), np.float32)
    with pytest.raises(AccuracyError, match=r"labels of batch 2 have shape \[4, 2\]; top1 expects"):
        acc.update(scores, np.zeros((4, 2)), "batch 2")
    with pytest.raises(AccuracyError, match="class id 7, outside the model's 3 classes"):
        acc.update(scores, np.array([0, 1, 7, 2]), "batch 1")
    with pytest.raises(AccuracyError, match="not whole numbers"):
        acc.update(scores, np.array([0.5, 1, 1, 2]), "batch 1")
    with pytest.raises(AccuracyError, match=r"top1 needs class scores .* \[4, 3, 2\]"):
        acc.update(np.zeros((4, 3, 2)), np.zeros(4), "batch 1")
    mae = MetricAccumulator(resolve_metric("mae", None), "m")
    with pytest.raises(AccuracyError, match=r"mae expects the output's shape \[4, 3\]"):
        mae.update(scores, np.zeros((4, 2)), "batch 1")


def test_mae_and_callable_metrics():
    mae = MetricAccumulator(resolve_metric("mae", None), "m")
    mae.update(np.array([[1.0], [2.0]]), np.array([1.5, 2.0]), "b")  # [n] labels for [n, 1]
    assert mae.value() == pytest.approx(0.25)

    def mean_output(outputs, labels):
        return float(outputs.mean())

    custom = MetricAccumulator(resolve_metric(mean_output, True), "m")
    custom.update(np.ones((3, 1)), np.zeros(3), "b")
    custom.update(np.zeros((1, 1)), np.zeros(1), "b")
    assert custom.value() == pytest.approx(0.75)  # weighted by samples, not by batches


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda o, y: 1 / 0, "metric <lambda> raised ZeroDivisionError: division by zero"),
        (lambda o, y: float("nan"), "metric <lambda> returned nan"),
        (lambda o, y: "good", "metric <lambda> returned str 'good', not a number"),
    ],
)
def test_bad_callable_metric_is_an_error_naming_it(fn, message):
    acc = MetricAccumulator(resolve_metric(fn, True), "cand.onnx")
    with pytest.raises(AccuracyError, match=message) as exc:
        acc.update(np.zeros((2, 2)), np.zeros(2), "batch 1")
    assert exc.value.kind == "metric" and "cand.onnx" in str(exc.value)


# -- fidelity ----------------------------------------------------------------------------------


def test_fidelity_figures_are_exact_on_a_known_error():
    ref = np.array([[3.0, 4.0], [0.0, 2.0]])
    cand = ref + np.array([[0.3, 0.4], [0.0, -0.2]])
    fid = FidelityAccumulator(None)
    fid.update(cand[:1], ref[:1])
    fid.update(cand[1:], ref[1:])
    f = fid.figures()
    assert f["sqnr_db"] == pytest.approx(10 * math.log10(29 / 0.29))  # 20 dB
    assert f["max_abs_err"] == pytest.approx(0.4)
    assert f["mean_abs_err"] == pytest.approx(0.9 / 4)
    assert f["cosine"] == pytest.approx(1.0)  # both samples only scaled: same direction
    assert f["top1_agreement"] == 1.0


def test_sqnr_is_clamped_and_top1_agreement_only_for_classifiers():
    assert sqnr_db(1.0, 0.0) == MAX_SQNR_DB
    assert sqnr_db(0.0, 1.0) == -MAX_SQNR_DB
    fid = FidelityAccumulator(False)  # e.g. mae
    fid.update(np.ones((2, 3)), np.ones((2, 3)))
    assert fid.figures()["top1_agreement"] is None
    assert fid.figures()["sqnr_db"] == MAX_SQNR_DB
    zeros = FidelityAccumulator(None)
    zeros.update(np.zeros((1, 3)), np.zeros((1, 3)))
    assert zeros.figures()["cosine"] == 1.0


# -- data sets ---------------------------------------------------------------------------------


def test_every_dataset_form_gives_the_same_batches(tmp_path):
    x = np.arange(40, dtype=np.float64).reshape(10, 4)  # float64: cast to the model's float32
    y = np.arange(10)
    path = tmp_path / "d.npz"
    np.savez(path, x=x, y=y)
    forms = [
        [(x[:3], y[:3]), (x[3:], y[3:])],
        (x, y),
        str(path),
        {"x": x, "y": y},
        lambda: ((x[i : i + 1], y[i : i + 1]) for i in range(10)),
    ]
    for form in forms:
        chunks = list(rechunk(source(form).batches(), 4, pad=False))
        assert [c.n for c in chunks] == [4, 4, 2]
        assert [c.start for c in chunks] == [0, 4, 8]
        assert chunks[0].feeds["x"].dtype == np.float32
        np.testing.assert_array_equal(np.concatenate([c.labels for c in chunks]), y)


def test_fixed_batch_pads_the_last_chunk():
    x = np.ones((5, 4), np.float32)
    chunks = list(rechunk(source((x, np.zeros(5))).batches(), 4, pad=True))
    assert [(c.n, c.padded, c.feeds["x"].shape[0]) for c in chunks] == [(4, 0, 4), (1, 3, 4)]


def test_multi_input_batches_are_dicts():
    sigs = [TensorSig("a", "float32", ("N", 3)), TensorSig("b", "float32", ("N", 3))]
    ok = source([({"a": np.zeros((2, 3)), "b": np.ones((2, 3))}, None)], sigs, need_labels=False)
    (batch,) = list(ok.batches())
    assert set(batch.inputs) == {"a", "b"} and batch.n == 2
    with pytest.raises(AccuracyError, match="single array but the model has 2 inputs"):
        list(source([(np.zeros((2, 3)), None)], sigs, need_labels=False).batches())
    with pytest.raises(AccuracyError, match="lacks input 'b'"):
        list(source([({"a": np.zeros((2, 3))}, None)], sigs, need_labels=False).batches())


@pytest.mark.parametrize(
    ("dataset", "message"),
    [
        ([(np.zeros((2, 5), np.float32), np.zeros(2))], r"input 'x' has shape \[2, 5\]"),
        ([(np.zeros((2, 4), np.complex64), np.zeros(2))], "is complex64, the model expects"),
        ([(np.zeros((3, 4)), np.zeros(2))], r"labels of batch 1 .* \(2 rows\) for 3 input"),
        ([(np.zeros((3, 4)), np.zeros(3)), (np.zeros((3, 4)), None)], "batch 2 .* no labels"),
        ([42], "batch 1 of the data set is a int"),
        (3.5, "the data set is a float"),
    ],
)
def test_malformed_batches_are_named(dataset, message):
    with pytest.raises(AccuracyError, match=message) as exc:
        list(source(dataset).batches())
    assert exc.value.kind == "data"


def test_npz_without_x_or_y_names_its_arrays(tmp_path):
    np.savez(tmp_path / "nox.npz", inputs=np.zeros((2, 4)), y=np.zeros(2))
    np.savez(tmp_path / "noy.npz", x=np.zeros((2, 4)), labels=np.zeros(2))
    with pytest.raises(AccuracyError, match=r"no 'x' array \(its arrays: inputs, y\)"):
        source(str(tmp_path / "nox.npz"))
    with pytest.raises(AccuracyError, match=r"no 'y' array of labels \(its arrays: labels, x\)"):
        source(str(tmp_path / "noy.npz"))
    # without a metric, labels are not needed
    (batch,) = list(source(str(tmp_path / "noy.npz"), need_labels=False).batches())
    assert batch.labels is None and batch.n == 2
    with pytest.raises(AccuracyError, match="cannot read the data set file"):
        source(str(tmp_path / "missing.npz"))


def test_a_failing_generator_is_reported():
    def broken():
        yield np.zeros((2, 4)), np.zeros(2)
        raise RuntimeError("disk gone")

    with pytest.raises(AccuracyError, match="raised RuntimeError while producing batch 2"):
        list(source(broken).batches())


def test_random_inputs_are_seeded():
    a = list(source(None, need_labels=False, random_samples=6).batches())
    b = list(source(None, need_labels=False, random_samples=6).batches())
    assert [x.n for x in a] == [4, 2]
    np.testing.assert_array_equal(a[0].inputs["x"], b[0].inputs["x"])


# -- layers ------------------------------------------------------------------------------------


def test_qdq_names_are_matched_and_folded_layers_named_by_the_candidate():
    found = match_layers(mlp(), mlp_qdq())
    by_tensor = {p.tensor: p for p in found.probes}
    assert by_tensor["x"].candidate == "x_DequantizeLinear_Output"
    assert by_tensor["x"].name == "input x"
    hidden = by_tensor["relu1.out"]
    assert hidden.candidate == "relu1.out_DequantizeLinear_Output"
    assert hidden.name == "fc1_relu" and hidden.parents == ("x",)
    out = by_tensor["logits"]
    assert out.candidate == "logits" and out.name == "fc2"  # DQ output, named by its compute
    assert out.parents == ("relu1.out",)
    assert found.unmatched == ["fc1.out"]  # the pre-activation the candidate renamed


def test_qoperator_names_are_matched_with_their_scale():
    found = match_layers(mlp(), mlp_qoperator())
    hidden = {p.tensor: p for p in found.probes}["relu1.out"]
    assert hidden.candidate == "relu1.out_quantized"
    assert (hidden.scale, hidden.zero_point) == ("relu1.out_scale", "relu1.out_zero_point")


def test_qoperator_folded_activation_and_quantized_input_are_matched():
    """onnxruntime's QOperator form: QLinearMatMul writes ``fc1.out_quantized``, already
    clipped like the Relu it absorbed; the input is quantized with no DequantizeLinear."""
    from onnx import helper, numpy_helper

    scalar = {
        "x_scale": np.float32(0.05),
        "x_zero_point": np.uint8(0),
        "fc1.out_scale": np.float32(0.05),
        "fc1.out_zero_point": np.uint8(0),
    }
    nodes = [
        helper.make_node(
            "QuantizeLinear", ["x", "x_scale", "x_zero_point"], ["x_quantized"], name="x_q"
        ),
        helper.make_node(
            "QLinearMatMul",
            [
                "x_quantized",
                "x_scale",
                "x_zero_point",
                "fc1.w_quantized",
                "w_scale",
                "w_zp",
                "fc1.out_scale",
                "fc1.out_zero_point",
            ],
            ["fc1.out_quantized"],
            name="fc1_quant",
        ),
        helper.make_node(
            "DequantizeLinear",
            ["fc1.out_quantized", "fc1.out_scale", "fc1.out_zero_point"],
            ["relu1.dq"],
            name="dq",
        ),
        helper.make_node("MatMul", ["relu1.dq", "fc2.w"], ["logits"], name="fc2"),
    ]
    inits = [numpy_helper.from_array(np.asarray(v), k) for k, v in scalar.items()]
    graph = helper.make_graph(nodes, "qop", [], [], initializer=inits)
    graph.input.extend(mlp().graph.input)
    found = match_layers(mlp(), helper.make_model(graph))
    by_tensor = {p.tensor: p for p in found.probes}
    assert (by_tensor["x"].candidate, by_tensor["x"].scale) == ("x_quantized", "x_scale")
    hidden = by_tensor["relu1.out"]  # the Relu's output, not the MatMul's
    assert hidden.candidate == "relu1.dq" and hidden.name == "fc1_quant"
    assert "fc1.out" not in by_tensor and "fc1.out" in found.unmatched


def test_identical_graphs_match_every_layer_and_never_the_input():
    found = match_layers(mlp(), mlp())
    assert [p.tensor for p in found.probes] == ["fc1.out", "relu1.out", "logits"]
    assert [p.name for p in found.probes] == ["fc1", "relu1", "fc2"]
    assert not found.unmatched


def test_worst_layers_rank_by_added_noise_not_by_the_drop_from_exact():
    found = match_layers(mlp(), mlp_qdq())
    # input 50 dB; relu1 crushed to 8 dB; output 7 dB: relu1 added by far the most noise
    layers = layer_results(found.probes, {"x": 50.0, "relu1.out": 8.0, "logits": 7.0})
    assert [(x.name, x.previous) for x in layers] == [
        ("input x", None),
        ("fc1_relu", "input x"),
        ("fc2", "fc1_relu"),
    ]
    assert layers[1].drop_db == pytest.approx(42.0)
    worst = worst_layers(layers)
    assert [x.name for x in worst] == ["fc1_relu", "fc2", "input x"]
    assert worst[0].describe() == "fc1_relu 8.0 dB (-42.0 dB)"
    assert layers[0].describe() == "input x 50.0 dB (from exact)"


# -- result and spec ---------------------------------------------------------------------------


def test_result_is_json_ready_and_round_trips():
    layer = LayerSQNR("conv3", "relu3.out", "relu3.out_DQ", "Conv", 12.1, 9.8, "conv2", 0.06)
    result = AccuracyResult(
        candidate="c.onnx",
        reference="r.onnx",
        target_id="cortex-a53",
        metric="top1",
        higher_is_better=True,
        output="logits",
        n_samples=10,
        seconds=0.5,
        accuracy=0.8,
        reference_accuracy=0.9,
        accuracy_drop=0.1,
        accuracy_drop_rel=0.1111,
        sqnr_db=MAX_SQNR_DB,
        top1_agreement=0.85,
        layers=(layer,),
        worst_layers=(layer,),
        notes=("a note",),
    )
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert AccuracyResult.from_dict(data) == result
    assert data["layers"][0]["name"] == "conv3" and data["layers"][0]["sqnr_db"] == 12.1
    assert result.metrics() == {
        "accuracy_drop": 0.1,
        "accuracy_drop_rel": 0.1111,
        "sqnr_db": MAX_SQNR_DB,
        "top1_agreement": 0.85,
    }
    assert result.diagnosis() == (
        "top1 0.8000 vs 0.9000 for the reference (drop 0.1000 on 10 samples); output SQNR "
        "140.0 dB, top-1 agreement 0.8500; worst layers: conv3 12.1 dB (-9.8 dB)"
    )


def test_spec_rejects_bad_values_naming_each_field():
    with pytest.raises(AccuracyError) as exc:
        AccuracySpec(
            "m.onnx", threads=0, timeout_s=-1, batch_size=0, metric=3, memory_limit_mb=float("nan")
        )
    message = str(exc.value)
    for field in ("threads", "timeout_s", "batch_size", "metric", "memory_limit_mb"):
        assert field in message
    assert exc.value.kind == "spec"


def test_two_input_signature_is_read(tmp_path):
    from pytest_edgegate.accuracy.pair import open_model

    info = open_model(two_input_model(), "two", tmp_path, "cand")
    assert [s.name for s in info.inputs] == ["a", "b"]
    assert info.output(0).name == "logits" and info.inputs[0].batch is None
