"""Control flow: If counts its costlier branch, Loop/Scan their bodies per iteration; the
views of nested graphs hold no reference cycles."""

from __future__ import annotations

import gc
import json

import pytest

from pytest_edgegate.analysis import analyze, load_model

from . import builders as b


def test_loop_with_constant_trip_count():
    a = analyze(b.loop_model(trip_count=5))
    loop = a.nodes[0]
    assert (loop.op_type, loop.op_class, loop.scope) == ("Loop", "control", "")
    body = [n for n in a.nodes if n.scope == "loop_0/body"]
    assert [n.op_type for n in body] == ["Identity", "MatMul"]
    matmul = body[1]
    assert matmul.executions == 5
    assert matmul.macs == 5 * 2 * 4 * 4
    assert a.macs == 160
    assert a.warnings == ()
    assert a.op_histogram == {"Identity": 1, "Loop": 1, "MatMul": 1}


def test_loop_with_runtime_trip_count_counts_the_body_once():
    a = analyze(b.loop_model(trip_count=None))
    assert a.macs == 2 * 4 * 4
    assert (
        "trip count of Loop node 'loop_0' is not a constant: its body is counted once" in a.warnings
    )


def test_if_counts_the_costlier_branch():
    a = analyze(b.if_model())
    by_scope = {n.scope: n for n in a.nodes}
    then_node = by_scope["if_0/then_branch"]
    else_node = by_scope["if_0/else_branch"]
    assert (then_node.op_type, then_node.executions, then_node.macs) == ("MatMul", 1, 64)
    assert (else_node.op_type, else_node.executions, else_node.flops) == ("Relu", 0, 0)
    assert else_node.output_shapes == ((1, 8),)  # structure kept for the reports
    assert a.macs == 64
    assert a.flops == 128
    assert a.op_histogram == {"If": 1, "MatMul": 1, "Relu": 1}
    assert a.params == 64


def test_scan_counts_its_body_per_iteration():
    a = analyze(b.scan_model(steps=6))
    matmul = next(n for n in a.nodes if n.op_type == "MatMul")
    assert matmul.scope == "scan_0/body"
    assert matmul.executions == 6
    assert a.macs == 6 * 16
    assert a.outputs[1].shape == (6, 1, 4)


def test_subgraph_results_serialize():
    a = analyze(b.if_model())
    data = json.loads(json.dumps(a.to_dict()))
    assert [n["scope"] for n in data["nodes"]] == ["", "if_0/else_branch", "if_0/then_branch"]


@pytest.mark.parametrize(
    "build",
    [b.if_model, b.loop_model, b.scan_model, lambda: load_model(b.light("bvlc_alexnet"))],
    ids=["if", "loop", "scan", "alexnet"],
)
def test_an_analysis_leaves_no_reference_cycles(build):
    """A session analyses many models: each analysis must be freed by reference counting
    when it ends, not kept (with its type tables and protos) until a garbage collection."""
    model = build()
    gc.collect()
    gc.disable()
    try:
        analyze(model)
        unreachable = gc.collect()
    finally:
        gc.enable()
    assert unreachable == 0
