"""Baselines, regression thresholds and the GitHub outputs: pure functions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_edgegate.baseline import store as baseline
from pytest_edgegate.baseline.regression import Threshold, compare_entry, not_run, parse_thresholds
from pytest_edgegate.errors import SettingsError
from pytest_edgegate.report import github
from pytest_edgegate.report.jsonio import dumps, write_atomic


def result(nodeid="t.py::test_a[cortex-a72]", version="1.0", **metrics):
    metrics = metrics or {"size_mb": 1.0, "latency_ms": 10.0}
    sources = {m: ("measured" if m == "latency_ms" else "static") for m in metrics}
    return {
        "nodeid": nodeid, "target": "cortex-a72", "profile_version": version, "model": "m.onnx",
        "metrics": metrics, "sources": sources,
    }  # fmt: skip


def entry(r, costmodel="1"):
    return baseline.merged(None, [r], costmodel)["entries"][r["nodeid"]]


def statuses(deltas):
    return {d.metric: d.status for d in deltas}


def test_parse_thresholds() -> None:
    parsed = parse_thresholds("latency_ms:5%, size_mb:0", "--edge-regression")
    assert parsed == {"latency_ms": Threshold(5.0, True), "size_mb": Threshold(0.0, False)}
    with pytest.raises(SettingsError, match="unknown metric 'speed'"):
        parse_thresholds("speed:5%", "--edge-regression")
    with pytest.raises(SettingsError, match="METRIC:THRESHOLD"):
        parse_thresholds("latency_ms", "--edge-regression")
    with pytest.raises(SettingsError, match="number or a percentage"):
        parse_thresholds("latency_ms:fast", "--edge-regression")


def test_default_gates_deterministic_metrics_only() -> None:
    old = entry(result(size_mb=1.0, latency_ms=10.0))
    new = result(size_mb=1.03, latency_ms=20.0)
    deltas = compare_entry("k", new, old, {}, "1")
    assert statuses(deltas) == {"size_mb": "regressed", "latency_ms": "unchanged"}
    configured = parse_thresholds("latency_ms:5%", "x")
    assert statuses(compare_entry("k", new, old, configured, "1"))["latency_ms"] == "regressed"


def test_small_changes_and_improvements() -> None:
    old = entry(result(size_mb=1.0))
    assert statuses(compare_entry("k", result(size_mb=1.01), old, {}, "1")) == {
        "size_mb": "unchanged"
    }
    assert statuses(compare_entry("k", result(size_mb=0.5), old, {}, "1")) == {
        "size_mb": "improved"
    }
    absolute = {"size_mb": Threshold(0.0, False)}
    assert statuses(compare_entry("k", result(size_mb=1.001), old, absolute, "1")) == {
        "size_mb": "regressed"
    }


def test_higher_is_better_metrics_regress_downwards() -> None:
    old = entry(result(npu_coverage=0.9))
    r = result(npu_coverage=0.5)
    r["sources"] = {"npu_coverage": "estimate"}
    assert statuses(compare_entry("k", r, old, {}, "1")) == {"npu_coverage": "regressed"}


def test_version_changes_are_incomparable_not_regressions() -> None:
    r = result(latency_ms=10.0)
    r["sources"] = {"latency_ms": "estimate"}
    old = entry(r)
    slower = dict(r, metrics={"latency_ms": 20.0})
    deltas = compare_entry("k", dict(slower, profile_version="2.0"), old, {}, "1")
    assert statuses(deltas) == {"latency_ms": "incomparable"}
    assert "profile cortex-a72 changed version 1.0 -> 2.0" in deltas[0].reason
    deltas = compare_entry("k", slower, old, {}, "2")
    assert statuses(deltas) == {"latency_ms": "incomparable"}
    assert "cost model changed version 1 -> 2" in deltas[0].reason


def test_new_and_not_run() -> None:
    assert {d.status for d in compare_entry("k", result(), None, {}, "1")} == {"new"}
    missing = not_run({"gone": {"nodeid": "t.py::gone", "target": "x"}}, ["k"])
    assert [(d.nodeid, d.status) for d in missing] == [("t.py::gone", "not run")]


def test_baseline_merge_keeps_entries_of_a_partial_run() -> None:
    a, b = result("t.py::a[x]"), result("t.py::b[x]")
    full = baseline.merged(None, [a, b], "1")
    partial = baseline.merged(full, [dict(a, metrics={"size_mb": 2.0})], "1")
    assert set(partial["entries"]) == {"t.py::a[x]", "t.py::b[x]"}
    assert partial["entries"]["t.py::a[x]"]["metrics"] == {"size_mb": 2.0}
    assert list(partial["entries"]) == sorted(partial["entries"])


def test_second_model_of_a_test_gets_its_own_key() -> None:
    keyed = baseline.keyed([result("t.py::a"), result("t.py::a")])
    assert list(keyed) == ["t.py::a", "t.py::a#1"]


@pytest.mark.parametrize(
    "text, words",
    [
        ('{"schema_version": 1, "entries": {', "not valid JSON"),
        ("", "not valid JSON"),
        ('{"schema_version": 99, "entries": {}}', "newer than this pytest-edgegate"),
        ('{"entries": {}}', "schema_version"),
        ("[1, 2]", "expected an object with 'entries'"),
    ],
)
def test_bad_baselines_are_named(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "base.json"
    path.write_text(text)
    with pytest.raises(baseline.BaselineError, match=words) as info:
        baseline.load(path)
    assert str(path) in str(info.value)
    assert baseline.load(tmp_path / "missing.json") is None


def test_json_is_deterministic_and_written_atomically(tmp_path: Path) -> None:
    data = {"b": 1, "a": [1.5, None]}
    assert dumps(data) == '{\n  "a": [\n    1.5,\n    null\n  ],\n  "b": 1\n}\n'
    path = tmp_path / "out.json"
    write_atomic(path, dumps(data))
    assert json.loads(path.read_text()) == data
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OSError, match="cannot write"):
        write_atomic(blocker / "sub" / "out.json", "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "out.json"]


def test_github_escaping_and_annotations() -> None:
    evil = "t.py::test_<script>%0A::error::x,y:z\nnext[cortex-a72]"
    doc = {
        "summary": {"cortex-a72": dict(passed=0, failed=1, errors=0, regressed=1, improved=0)},
        "results": [
            {
                "nodeid": evil, "target": "cortex-a72", "model": "<img src=x>|m.onnx",
                "error": None,
                "verdicts": [
                    {"metric": "size_mb", "kind": "max", "limit": 1.0, "value": 2.0,
                     "passed": False, "reason": ""},
                ],
            }
        ],
        "comparison": {
            "entries": [
                {"nodeid": evil, "target": "cortex-a72", "metric": "size_mb", "baseline": 1.0,
                 "current": 2.0, "delta_pct": 100.0, "threshold": "2%", "status": "regressed"},
            ]
        },
    }  # fmt: skip
    lines = github.annotations(doc, {evil: ("tests/t.py", 12)})
    assert len(lines) == 2
    for line in lines:
        assert "\n" not in line and line.startswith("::error file=tests/t.py,line=12,title=")
        title = line.split("title=", 1)[1].split("::", 1)[0]
        assert "::" not in title and "," not in title and "%0A" in title and "%250A" in title
    assert "size_mb 2 MB on cortex-a72, limit <= 1 MB" in lines[0]
    markdown = github.summary_markdown(doc)
    assert "<script>" not in markdown and "<img" not in markdown
    assert "&lt;script&gt;" in markdown and "&#124;m.onnx" in markdown
    assert "| cortex-a72 | 0 | 1 | 0 | 0 | 1 | 0 |" in markdown


def test_step_summary_only_in_actions(tmp_path: Path) -> None:
    doc = {"summary": {}, "results": [], "comparison": None}
    path = tmp_path / "summary.md"
    assert not github.write_step_summary(doc, {"GITHUB_STEP_SUMMARY": str(path)})
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(path)}
    assert github.write_step_summary(doc, env)
    assert path.read_text().startswith("## edgegate")
