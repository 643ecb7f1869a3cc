"""The model x target overview: rows, cells, links, and its Markdown twin in the job summary."""

from __future__ import annotations

import re
from typing import Any

from pytest_edgegate.report.github import summary_markdown
from pytest_edgegate.report.html import build_view, render_html
from pytest_edgegate.report.overview import build_overview

HOSTILE = "<script>x</script>|[a](b)"


def verdict(metric: str, limit: float, value: float | None, kind: str = "max") -> dict:
    passed = value is not None and (value <= limit if kind == "max" else value >= limit)
    return {"metric": metric, "kind": kind, "limit": limit, "value": value, "passed": passed,
            "source": "static", "reason": "", "keyword": metric}  # fmt: skip


def result(nodeid: str, target: str, model: str, verdicts: list[dict], **kw: Any) -> dict:
    metrics = {v["metric"]: v["value"] for v in verdicts if v["value"] is not None}
    return {
        "nodeid": nodeid, "target": target, "model": model, "metrics": metrics,
        "sources": {m: "static" for m in metrics}, "verdicts": verdicts, "error": None,
        "passed": all(v["passed"] for v in verdicts), "notes": [], "details": {}, **kw,
    }  # fmt: skip


def document() -> dict:
    results = [
        # One model on two targets: one row, two cells.
        result("t.py::test_a[cpu]", "cpu", "a.onnx",
               [verdict("size_mb", 8, 2.0), verdict("latency_ms", 100, 88.0)]),
        result("t.py::test_a[npu]", "npu", "a.onnx",
               [verdict("latency_ms", 10, 12.5), verdict("npu_coverage", 0.8, 0.9, "min")]),
        # One model in two tests on the same target: its rows split by test.
        result("t.py::test_b_small[cpu]", "cpu", "b.onnx", [verdict("size_mb", 1, 0.5)]),
        result("t.py::test_b_fast[cpu]", "cpu", "b.onnx", [], error="cannot load b.onnx"),
        result(f"t.py::test_{HOSTILE}[npu]", "npu", f"{HOSTILE}.onnx", [verdict("size_mb", 1, 2)]),
    ]  # fmt: skip
    entries = [
        {"key": "t.py::test_a[cpu]", "nodeid": "t.py::test_a[cpu]", "target": "cpu",
         "metric": "latency_ms", "baseline": 80.0, "current": 88.0, "delta": 8.0,
         "delta_pct": 10.0, "threshold": "5%", "status": "regressed"},
        {"key": "t.py::test_a[cpu]", "nodeid": "t.py::test_a[cpu]", "target": "cpu",
         "metric": "size_mb", "baseline": 2.0, "current": 2.0, "delta": 0.0,
         "delta_pct": 0.0, "threshold": "2%", "status": "unchanged"},
    ]  # fmt: skip
    return {"results": results, "comparison": {"baseline": "b.json", "entries": entries,
            "warnings": []}, "summary": {}}  # fmt: skip


def test_rows_are_models_split_by_test_only_when_needed() -> None:
    targets, rows = build_overview(document())
    assert targets == ["cpu", "npu"]
    labels = [(r.model, r.test) for r in rows]
    assert labels == [
        (f"{HOSTILE}.onnx", ""),
        ("a.onnx", ""),
        ("b.onnx", "test_b_fast"),
        ("b.onnx", "test_b_small"),
    ]
    a = rows[1]
    assert set(a.cells) == {"cpu", "npu"}
    # The tightest budget: latency 88 of 100 (0.88) beats size 2 of 8; a broken one beats all.
    assert a.cells["cpu"].budget["metric"] == "latency_ms"
    assert a.cells["npu"].budget["metric"] == "latency_ms" and a.cells["npu"].status == "fail"
    assert a.cells["cpu"].change == {"metric": "latency_ms", "status": "regressed", "pct": 10.0}
    assert rows[2].cells["cpu"].status == "error" and rows[2].cells["cpu"].budget is None


def test_html_cells_link_to_details_and_say_budget_and_change() -> None:
    doc = document()
    html = render_html(doc)
    overview = html[html.index('<section id="overview">') : html.index('<section id="summary">')]
    ids = set(re.findall(r'id="(r\d+)"', html))
    links = re.findall(r'<td class="oc [a-z]+"><a href="#(r\d+)">', overview)
    assert len(links) == 5 and set(links) <= ids
    assert "latency 88 / 100 ms" in overview and "latency +10.0%" in overview
    assert "latency 12.5 / 10 ms" in overview  # the broken budget, not the met minimum
    assert "&lt;script&gt;" in overview and "<script>" not in html
    # The overview comes right after the verdict, before the per-target summary and tables.
    assert html.index('id="verdict"') < html.index('id="overview"') < html.index('id="summary"')
    view = build_view(doc)
    assert [len(r["cells"]) for r in view["overview"]["rows"]] == [2, 2, 2, 2]


def test_job_summary_has_the_matrix_with_escaped_text() -> None:
    text = summary_markdown(document())
    assert "### Models by target" in text
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert table[0] == "| model | cpu | npu |"
    row_a = next(line for line in table if line.startswith("| **a.onnx**"))
    assert "✅ pass<br>latency 88 / 100 ms<br>latency +10.0%" in row_a
    assert "❌ fail<br>latency 12.5 / 10 ms" in row_a
    assert "| **b.onnx**<br>test_b_fast | 💥 error | — |" in text
    hostile = next(line for line in table if "script" in line)
    assert "<script>" not in hostile and "&lt;script&gt;" in hostile
    assert "&#124;" in hostile and "&#91;a&#93;" in hostile  # no cell break, no link


def test_no_results_no_matrix() -> None:
    doc = {"results": [], "comparison": None, "summary": {}}
    assert "Models by target" not in summary_markdown(doc)
    assert 'id="overview"' not in render_html(doc)
