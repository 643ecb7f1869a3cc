"""Peak activation memory: liveness over the topological order (see liveness.py)."""

from __future__ import annotations

from onnx import helper

from pytest_edgegate.analysis import analyze

from . import builders as b
from .builders import U8

ROW = 100 * 4  # bytes of a (1, 100) float32 tensor


def run(nodes, outputs=("y",), inits=(), x_elem=b.F):
    m = b.model(nodes, [b.vi("x", (1, 100), x_elem)], [b.vi(o, None) for o in outputs], inits)
    return analyze(m).peak_activation_bytes


def test_chain_holds_one_input_and_one_output():
    nodes = [
        helper.make_node("Relu", ["x"], ["a"]),
        helper.make_node("Relu", ["a"], ["c"]),
        helper.make_node("Relu", ["c"], ["y"]),
    ]
    assert run(nodes) == 2 * ROW


def test_branches_keep_the_shared_input_alive():
    nodes = [
        helper.make_node("Relu", ["x"], ["a"]),
        helper.make_node("Sigmoid", ["x"], ["c"]),  # x, a and c live together here
        helper.make_node("Add", ["a", "c"], ["y"]),
    ]
    assert run(nodes) == 3 * ROW


def test_graph_outputs_stay_live_to_the_end():
    nodes = [
        helper.make_node("Relu", ["x"], ["early"]),
        helper.make_node("Relu", ["early"], ["c"]),
        helper.make_node("Relu", ["c"], ["y"]),
    ]
    assert run(nodes, outputs=("early", "y")) == 3 * ROW  # early + c + y at the last step
    assert run(nodes[:1] + [helper.make_node("Relu", ["early"], ["y"])]) == 2 * ROW


def test_unconsumed_outputs_live_only_during_their_step():
    nodes = [
        helper.make_node("Dropout", ["x"], ["d", "mask"]),  # bool mask: 100 bytes, unused
        helper.make_node("Relu", ["d"], ["y"]),
    ]
    assert run(nodes) == 2 * ROW + 100


def test_weights_are_not_activations():
    nodes = [helper.make_node("Add", ["x", "W"], ["y"])]
    assert run(nodes, inits=[b.init("W", (1, 100))]) == 2 * ROW


def test_element_size_follows_the_dtype():
    nodes = [helper.make_node("Identity", ["x"], ["y"])]
    assert run(nodes, x_elem=U8) == 200


def test_subgraph_peak_adds_to_the_outer_live_set():
    a = analyze(b.loop_model(trip_count=3))
    # outer: x0 (32 B) and xf (32 B) live around the Loop; inside one iteration: cond (1 B),
    # x_in (32 B), then c_out (1 B) and x_out (32 B): the peak adds 65 B at the MatMul.
    assert a.peak_activation_bytes == 64 + 65
