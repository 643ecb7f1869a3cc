"""Per-node figures in the baseline, and the nodes that explain a latency regression."""

from __future__ import annotations

import json

from pytest_edgegate.baseline import store
from pytest_edgegate.baseline.gate import compare
from pytest_edgegate.baseline.nodes import TOP, node_changes, top_nodes
from pytest_edgegate.report.html import render_html


def details(times: dict[str, float], device: str = "cpu") -> dict:
    nodes = [{"name": n, "op_type": "Conv", "device": device, "time_ms": t}
             for n, t in times.items()]  # fmt: skip
    return {"estimate": {"nodes": nodes}}


def result(times: dict[str, float], latency: float) -> dict:
    return {
        "nodeid": "t.py::test_m[cpu]", "target": "cpu", "profile_version": "1.0",
        "model": "m.onnx", "metrics": {"latency_ms": latency},
        "sources": {"latency_ms": "estimate"}, "details": details(times),
        "verdicts": [], "passed": True, "error": None,
    }  # fmt: skip


def test_baseline_keeps_the_slowest_nodes_only_and_stays_diff_friendly() -> None:
    times = {f"/n{i:02d}": float(i) + 0.123456789 for i in range(50)}
    kept = top_nodes(details(times))
    assert len(kept) == TOP and min(kept.values()) == 30.1235
    assert list(kept) == sorted(kept)  # sorted keys: a stable, reviewable diff
    entry = store.merged(None, [result(times, 5.0)], "2")["entries"]["t.py::test_m[cpu]"]
    assert entry["nodes"] == kept
    assert top_nodes({}) == {} and top_nodes({"estimate": {"nodes": [None, {"name": 1}]}}) == {}
    # No estimate (a microcontroller target): no "nodes" key at all.
    plain = store.merged(None, [{**result({}, 1.0), "details": {}}], "2")
    assert "nodes" not in plain["entries"]["t.py::test_m[cpu]"]


def test_changes_largest_first_with_removed_and_unknown_nodes() -> None:
    old = {"/conv1": 2.0, "/conv2": 1.0, "/gone": 0.5}
    now = details({"/conv1": 2.1, "/conv2": 3.0, "/new": 0.7})
    rows = node_changes(now, old)
    assert [(r["name"], r["delta_ms"]) for r in rows] == [
        ("/conv2", 2.0), ("/new", 0.7), ("/gone", -0.5), ("/conv1", 0.1)
    ]  # fmt: skip
    assert rows[2]["current_ms"] is None and rows[1]["baseline_ms"] is None
    assert not any(r["approx"] for r in rows)  # the baseline kept all its nodes
    # A full baseline list: a node outside it was at most its smallest kept node.
    full = {f"/k{i:02d}": 1.0 + i for i in range(TOP)}
    rows = node_changes(details({**full, "/k00": 1.0, "/x": 4.0}), full)
    assert rows == [{"name": "/x", "op_type": "Conv", "device": "cpu", "baseline_ms": None,
                     "current_ms": 4.0, "delta_ms": 3.0, "approx": True}]  # fmt: skip
    assert node_changes(now, None) == [] and node_changes(now, {"a": "x"}) == []


def test_a_latency_regression_lists_its_nodes_in_the_comparison_and_report() -> None:
    base = store.merged(None, [result({"/conv1": 2.0, "/conv2": 1.0}, 3.0)], "2")
    base = json.loads(json.dumps(base))  # as read back from the file
    slower = result({"/conv1": 2.0, "/conv2": 1.6}, 3.6)
    comparison, problems = compare([slower], base, {}, "edge-baseline.json", "2")
    assert problems == []
    [explained] = comparison["node_changes"]
    assert explained["key"] == "t.py::test_m[cpu]"
    assert [(n["name"], n["delta_ms"]) for n in explained["nodes"]] == [("/conv2", 0.6)]
    html = render_html({"results": [slower], "comparison": comparison})
    assert "Nodes whose estimated time changed most" in html
    assert '<td class="n d reg">+0.6</td>' in html
    # Unchanged latency: nothing to explain.
    same, _ = compare([result({"/conv1": 2.0, "/conv2": 1.0}, 3.0)], base, {}, "b", "2")
    assert "node_changes" not in same
