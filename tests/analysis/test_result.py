"""The ModelAnalysis record: plain data, JSON, in-memory protos, graph order, domains."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest
from onnx import helper

from pytest_edgegate.analysis import ModelAnalysis, NodeStats, TensorInfo, analyze, load_model
from pytest_edgegate.errors import ModelError

from . import builders as b


@pytest.fixture(scope="module")
def resnet():
    return analyze(load_model(b.light("resnet50")))


def test_result_is_plain_data_and_serializes(resnet):
    assert isinstance(resnet, ModelAnalysis)
    data = json.loads(json.dumps(resnet.to_dict()))
    assert data["macs"] == resnet.macs
    assert data["nodes"][0]["op_type"] == resnet.nodes[0].op_type
    assert data["inputs"] == [
        {"name": "gpu_0/data_0", "shape": [1, 3, 224, 224], "dtype": "float32", "dynamic": []}
    ]
    assert isinstance(resnet.nodes[0], NodeStats)
    assert isinstance(resnet.outputs[0], TensorInfo)
    with pytest.raises(dataclasses.FrozenInstanceError):
        resnet.macs = 0  # type: ignore[misc]


def test_file_facts_and_metrics(resnet):
    assert resnet.name == "light_resnet50.onnx"
    assert resnet.path == b.light("resnet50")
    assert resnet.sha256 is not None and len(resnet.sha256) == 64
    assert resnet.opsets == {"ai.onnx": 9}
    assert resnet.ir_version == 3
    metrics = resnet.metrics()
    assert set(metrics) == {"size_mb", "params_m", "macs_m", "flops_m", "peak_memory_mb"}
    assert metrics["macs_m"] == resnet.macs / 1e6
    assert metrics["peak_memory_mb"] == (resnet.param_bytes + resnet.peak_activation_bytes) / 1e6


def test_histogram_and_totals(resnet):
    assert resnet.op_histogram["Conv"] == 53
    assert resnet.op_histogram["ConstantOfShape"] == 239
    assert sum(resnet.op_histogram.values()) == len(resnet.nodes) == 415
    assert resnet.macs == sum(n.macs for n in resnet.nodes)
    assert resnet.flops == sum(n.flops for n in resnet.nodes)
    assert resnet.flops > 2 * resnet.macs
    assert resnet.warnings == ()
    assert resnet.outputs[0].shape == (1, 1000)


def test_nodes_are_in_topological_order(resnet):
    produced = {t.name for t in resnet.inputs} | set(
        i.name for i in load_model(b.light("resnet50")).proto.graph.initializer
    )
    for node in resnet.nodes:
        assert all(i in produced for i in node.inputs if i), node.name
        produced.update(node.outputs)


def test_in_memory_proto():
    m = b.conv_model()
    a = analyze(m)
    assert (a.path, a.sha256, a.name) == (None, None, "g")
    assert a.file_bytes == m.ByteSize()


def test_unsorted_graph_is_sorted():
    nodes = [helper.make_node("Relu", ["a"], ["y"]), helper.make_node("Sigmoid", ["x"], ["a"])]
    a = analyze(b.model(nodes, [b.vi("x", (4,))], [b.vi("y", None)]))
    assert [n.op_type for n in a.nodes] == ["Sigmoid", "Relu"]
    assert a.flops == 4 * 4 + 4


def test_cyclic_graph_is_a_model_error():
    nodes = [helper.make_node("Add", ["x", "b"], ["a"]), helper.make_node("Relu", ["a"], ["b"])]
    with pytest.raises(ModelError, match="cycle"):
        analyze(b.model(nodes, [b.vi("x", (4,))], [b.vi("b", None)]))


def test_wrong_argument_type():
    with pytest.raises(TypeError, match="LoadedModel or an onnx.ModelProto"):
        analyze("model.onnx")  # type: ignore[arg-type]


def test_model_local_functions_are_inlined():
    fn = helper.make_function(
        "local",
        "Dense",
        ["x", "w"],
        ["y"],
        [helper.make_node("MatMul", ["x", "w"], ["m"]), helper.make_node("Relu", ["m"], ["y"])],
        [helper.make_opsetid("", 17)],
    )
    node = helper.make_node("Dense", ["x", "W"], ["y"], domain="local")
    m = b.model(
        [node],
        [b.vi("x", (2, 4))],
        [b.vi("y", None)],
        [b.init("W", (4, 3))],
        extra_opsets={"local": 1},
    )
    m.functions.append(fn)
    a = analyze(m)
    assert a.macs == 24
    assert a.op_histogram == {"MatMul": 1, "Relu": 1}


def test_ai_onnx_ml_pipeline(tmp_path):
    path = b.save(b.tree_classifier_model(), tmp_path / "tree.onnx")
    a = analyze(load_model(path), {"X": [10, 3]})
    assert a.op_histogram == {"ai.onnx.ml:TreeEnsembleClassifier": 1, "ai.onnx.ml:ZipMap": 1}
    assert a.opsets == {"ai.onnx": 17, "ai.onnx.ml": 3}
    assert a.macs == 0
    assert a.nodes[0].flops == 10 * 2  # ten rows, one tree of depth 2
    assert a.outputs[0].shape == (10,)
    assert a.outputs[1].dtype == "other"  # a sequence of maps
    assert a.warnings == ()
    json.dumps(a.to_dict())


def test_light_model_with_dropout_masks_has_no_gaps():
    a = analyze(load_model(b.light("vgg19")))
    dropout = next(n for n in a.nodes if n.op_type == "Dropout")
    assert dropout.output_shapes == ((1, 4096), (1, 4096))
    assert a.warnings == ()


def test_import_is_light():
    code = (
        "import sys, pytest_edgegate.analysis; "
        "assert 'onnxruntime' not in sys.modules; assert 'jinja2' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
