"""The HTML report: what it shows, that data cannot inject markup, and how it is written.

The document fixtures are plain dicts shaped like the plugin's results document; the
1,000-result one comes from ``bench/report.py`` so the benchmark and the tests render the same.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import math
import os
import random
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pytest_edgegate.report import html as html_report
from pytest_edgegate.report.github import overview_markdown
from pytest_edgegate.report.html import render_html, write_html

BENCH = Path(__file__).resolve().parents[2] / "bench" / "report.py"

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
ANNOTATION = "::error file=x::owned%0A::warning::"
HOSTILE = SCRIPT + IMG + ANNOTATION


def bench_module() -> ModuleType:
    """``bench/report.py``, which holds the synthetic document generator."""
    spec = importlib.util.spec_from_file_location("edgegate_bench_report", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- fixtures


def verdict(metric: str, limit: float, value: float | None, kind: str = "max", **kw: Any) -> dict:
    passed = value is not None and (value <= limit if kind == "max" else value >= limit)
    return {
        "metric": metric,
        "kind": kind,
        "limit": limit,
        "value": value,
        "passed": passed,
        "source": kw.get("source", "estimate"),
        "reason": kw.get("reason", ""),
        "keyword": kw.get("keyword", metric),
    }


def estimate_nodes(n: int, name: str = "node") -> list[dict[str, Any]]:
    return [
        {
            "name": f"/{name}_{i}",
            "op_type": "Conv" if i % 2 else "Softmax",
            "device": "npu" if i % 2 else "cpu",
            "time_ms": float(n - i),
            "energy_mj": (n - i) / 10,
            "bound": ("compute", "memory", "overhead")[i % 3],
            "macs": 1000 * (n - i),
            "reason": "" if i % 2 else "Softmax is not an operator the NPU runs",
        }
        for i in range(n)
    ]


def result(nodeid: str, target: str, **kw: Any) -> dict[str, Any]:
    metrics = kw.pop("metrics", {"size_mb": 0.29, "macs_m": 11.5, "latency_ms": 3.2})
    verdicts = kw.pop("verdicts", [verdict("size_mb", 1.0, metrics.get("size_mb"))])
    out = {
        "nodeid": nodeid,
        "target": target,
        "profile_version": "1.0",
        "model": "m.onnx",
        "model_path": "/abs/models/m.onnx",
        "sha256": "ab" * 32,
        "metrics": metrics,
        "sources": {m: "static" for m in metrics},
        "units": {"size_mb": "MB", "macs_m": "M", "latency_ms": "ms", "npu_coverage": ""},
        "unavailable": {},
        "verdicts": verdicts,
        "notes": [],
        "error": None,
        "details": {"op_histogram": {"Conv": 14, "Relu": 14}},
    }
    out.update(kw)
    out.setdefault("passed", out["error"] is None and all(v["passed"] for v in out["verdicts"]))
    return out


def entry(nodeid: str, target: str, metric: str, base: float | None, cur: float | None, status: str,
          threshold: str = "5%") -> dict[str, Any]:  # fmt: skip
    delta = None if base is None or cur is None else cur - base
    pct = None if delta is None or not base else 100 * delta / base
    return {
        "nodeid": nodeid,
        "target": target,
        "metric": metric,
        "baseline": base,
        "current": cur,
        "delta": delta,
        "delta_pct": pct,
        "threshold": threshold,
        "status": status,
    }


def document(results: list[dict[str, Any]], comparison: dict | None = None) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "tool": {"name": "pytest-edgegate", "version": "0.1.0", "costmodel_version": "1"},
        "environment": {
            "onnxruntime": "1.31.1",
            "onnx": "1.23.2",
            "python": "3.11.7",
            "git_commit": "abc123",
            "profiles": {"cortex-a72": "1.0", "edgetpu": "1.2"},
        },
        "generated": "2026-11-21T06:00:00Z",
        "results": sorted(results, key=lambda r: (r["nodeid"], r["target"])),
        "comparison": comparison,
        "summary": {},
    }


A72 = "tests/test_m.py::test_{}[cortex-a72]"
TPU = "tests/test_m.py::test_{}[edgetpu]"


@pytest.fixture
def sample() -> dict[str, Any]:
    """Three results on cortex-a72 (pass, broken latency, error) and a CPU fallback on edgetpu."""
    slow = result(
        A72.format("slow"),
        "cortex-a72",
        metrics={"size_mb": 0.5, "latency_ms": 12.5},
        verdicts=[verdict("size_mb", 1.0, 0.5, source="static"), verdict("latency_ms", 10.0, 12.5)],
        details={
            "estimate": {"latency_ms": 12.5, "threads": 4, "nodes": estimate_nodes(30)},
            "measured": {
                "p50_ms": 3.0,
                "p90_ms": 3.5,
                "p99_ms": 4.0,
                "min_ms": 2.5,
                "n_runs": 50,
                "samples_ms": [2.5 + i / 25 for i in range(50)],
                "device_ms": 76.5,
                "device_ci_ms": [75.8, 77.1],
            },
            "accuracy": {"layers": [{"name": f"layer{i}", "sqnr_db": 10.0 + i} for i in range(12)]},
        },
    )
    ok = result(A72.format("ok"), "cortex-a72")
    broken = result(
        A72.format("broken"),
        "cortex-a72",
        metrics={},
        verdicts=[],
        error="cannot load broken.onnx: the protobuf is truncated",
    )
    fallback = result(
        TPU.format("ok"),
        "edgetpu",
        metrics={"size_mb": 0.29, "npu_coverage": 0.0},
        verdicts=[verdict("npu_coverage", 0.8, 0.0, kind="min")],
        notes=["CPU FALLBACK: float model runs entirely on edgetpu's host CPU (Cortex-A53)"],
        details={"estimate": {"cpu_fallback": True, "npu_coverage": 0.0, "nodes": []}},
    )
    comparison = {
        "baseline": "baseline.json",
        "entries": [
            entry(A72.format("ok"), "cortex-a72", "latency_ms", 2.857, 3.2, "regressed"),
            entry(A72.format("ok"), "cortex-a72", "size_mb", 0.29, 0.29, "unchanged", "2%"),
            entry(A72.format("slow"), "cortex-a72", "size_mb", 0.6, 0.5, "improved", "2%"),
            entry(A72.format("gone"), "cortex-a72", "latency_ms", 4.2, None, "not run"),
            entry(TPU.format("ok"), "edgetpu", "size_mb", 0.29, 0.29, "incomparable"),
        ],
        "warnings": ["profile edgetpu changed version 1.1 -> 1.2: incomparable"],
    }
    return document([slow, ok, broken, fallback], comparison)


# --------------------------------------------------------------------------- parsing helpers


class Page(HTMLParser):
    """The parsed page: every start tag with its attributes, and the cells of each table."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables: list[tuple[str, list[list[str]]]] = []
        self._stack: list[list[list[str]]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            rows: list[list[str]] = []
            self.tables.append((dict(attrs).get("class") or "", rows))
            self._stack.append(rows)
        elif tag == "tr" and self._stack:
            self._stack[-1].append([])
        elif tag in ("td", "th") and self._stack and self._stack[-1]:
            self._stack[-1][-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if self._stack and self._stack[-1] and self._stack[-1][-1]:
            self._stack[-1][-1][-1] += data

    def table(self, cls: str) -> list[list[str]]:
        """The first table of class ``cls``, its cells stripped of surrounding whitespace."""
        rows = next(rows for c, rows in self.tables if c == cls)
        return [[cell.strip() for cell in row] for row in rows]


def row_of(rows: list[list[str]], first: str) -> list[str]:
    return next(r for r in rows if r and r[0] == first)


# --------------------------------------------------------------------------- structure


def test_summary_counts_per_target_and_verdict_in_words(sample: dict[str, Any]) -> None:
    page = Page(render_html(sample))
    summary = page.table("sum")
    assert summary[0] == [
        "target", "profile", "results", "passed", "failed", "errors",
        "regressed", "improved", "not run", "verdict",
    ]  # fmt: skip
    assert row_of(summary, "cortex-a72") == [
        "cortex-a72", "1.0", "3", "1", "1", "1", "1", "1", "1", "failed",
    ]  # fmt: skip
    assert row_of(summary, "edgetpu") == ["edgetpu", "1.0", "1", "0", "1", "0", "0", "0", "0",
                                          "failed"]  # fmt: skip
    html = render_html(sample)
    assert "Gate failed" in html
    assert "2 of 4 results broke a budget; 1 could not be evaluated; 1 regressed against" in html
    # The summary comes before any table of results or details.
    assert html.index('id="summary"') < html.index("class=res") < html.index("<details")


def test_passing_run_says_so() -> None:
    doc = document([result(A72.format("ok"), "cortex-a72")], {"baseline": "b.json",
                   "entries": [], "warnings": []})  # fmt: skip
    html = render_html(doc)
    assert "Gate passed" in html
    assert "All 1 result is within budget, with no regression against b.json." in html


def test_empty_document_renders() -> None:
    for doc in ({}, document([]), {"results": None, "comparison": None}):
        assert "No edge results" in render_html(doc)


def test_broken_budget_is_red_with_its_limit_and_overshoot(sample: dict[str, Any]) -> None:
    html = render_html(sample)
    cells = re.findall(r'<div class="m bad">(.*?)</div>', html, re.S)
    latency = [c for c in cells if "12.5" in c]
    assert latency, "the broken latency cell is not marked bad"
    assert '<span class="bar bad" style="--w:100%">' in latency[0]
    assert "≤\u00a010\u00a0ms · over by 25%" in latency[0]
    # The min-kind budget (npu_coverage >= 0.8 with 0) is broken too, and said to be short.
    assert "≥\u00a00.8 · short by 100%" in html
    # A met max budget fills its bar by value/limit (0.29 of 1.0).
    assert '<span class="bar ok" style="--w:29%">' in html
    # The attention list names both failing tests and the error.
    attn = html[html.index("Needs attention") : html.index("</section>", html.index("Needs"))]
    assert "test_slow[cortex-a72]" in attn and "latency_ms 12.5\u00a0ms" in attn
    assert "error: cannot load broken.onnx" in attn
    assert "latency_ms regressed +12.0% (threshold 5%)" in attn


def test_baseline_delta_shown_coloured_with_threshold(sample: dict[str, Any]) -> None:
    html = render_html(sample)
    assert '<small class="d reg">+12.0% (thr&nbsp;5%)</small>' in html
    assert '<small class="d imp">-16.7% (thr&nbsp;2%)</small>' in html
    assert '<small class="d inc">incomparable</small>' in html
    page = Page(html)
    not_run = [r for c, rows in page.tables if c == "kv" for r in rows]
    assert any("tests/test_m.py::test_gone[cortex-a72]" in r[0] for r in not_run)
    assert "profile edgetpu changed version 1.1 -&gt; 1.2: incomparable" in html


def test_details_are_folded_one_per_result(sample: dict[str, Any]) -> None:
    html = render_html(sample)
    assert html.count('<details class="t ') == 4
    assert "<details open" not in html
    # Each test name in a table links to its details.
    page = Page(html)
    ids = {a.get("id") for t, a in page.tags if t == "details" and a.get("id")}
    links = {a["href"][1:] for t, a in page.tags if t == "a" and (a.get("href") or "")[:2] == "#r"}
    assert links == ids


def test_per_node_breakdown_capped_with_count_of_the_rest(sample: dict[str, Any]) -> None:
    page = Page(render_html(sample))
    nodes = page.table("nodes est")
    assert nodes[0][:4] == ["node", "op", "time ms", "share of time"]
    assert "why on CPU" in nodes[0] and "device" in nodes[0]
    assert len(nodes) - 1 == html_report.TOP_NODES
    # Largest time first; CPU nodes carry their reason.
    assert nodes[1][0] == "/node_0" and nodes[1][-1] == "Softmax is not an operator the NPU runs"
    html = render_html(sample)
    assert "and 20 more nodes (" in html and "30 in all" in html


def test_accuracy_and_latency_chart_when_present(sample: dict[str, Any]) -> None:
    html = render_html(sample)
    assert "Per-layer accuracy loss" in html
    assert "and 4 more layers." in html  # 12 layers, 8 shown, noisiest (layer0) first
    assert html.index("layer0") < html.index("layer7")
    assert html.count("<svg class=hist") == 1
    start = html.index("<svg class=hist")
    svg = html[start : html.index("</svg>", start)]
    for label in ("p50 3 ms", "p90 3.5 ms", "p99 4 ms"):
        assert label in svg
    assert "<path class=bars" in svg
    assert "translated to the device" in html and "75.8 to 77.1 ms" in html


def test_a_malformed_device_interval_is_left_out(sample: dict[str, Any]) -> None:
    slow = next(r for r in sample["results"] if "measured" in r["details"])
    slow["details"]["measured"]["device_ci_ms"] = ["<i>x</i>", 1]
    html = render_html(sample)
    assert "device 95 % interval" not in html
    assert "<i>x</i>" not in html


def test_latency_outlier_gets_its_own_bar() -> None:
    samples = [10.0 + (i % 7) / 10 for i in range(99)] + [40.0]
    doc = document([result(A72.format("x"), "cortex-a72", details={"measured": {
        "samples_ms": samples}})])  # fmt: skip
    svg = render_html(doc).split("<svg class=hist", 1)[1].split("</svg>", 1)[0]
    assert "1 slower" in svg and "max 40" in svg


def test_cpu_fallback_is_loud(sample: dict[str, Any]) -> None:
    html = render_html(sample)
    assert "<div class=loud>⚠ CPU FALLBACK: float model runs entirely" in html
    row = html[html.index("test_ok</a>", html.index('id="t2"')) :]
    assert '<span class="pill fb">CPU fallback</span>' in row[:600]


def test_error_is_shown_instead_of_metrics(sample: dict[str, Any]) -> None:
    html = render_html(sample)
    assert re.search(r'<td class=err colspan="\d+">cannot load broken.onnx', html)
    assert "Could not evaluate this model:</b>\ncannot load broken.onnx" in html


def test_output_is_deterministic_and_independent_of_input_order(sample: dict[str, Any]) -> None:
    first = render_html(sample)
    assert render_html(copy.deepcopy(sample)) == first
    shuffled = copy.deepcopy(sample)
    random.Random(1).shuffle(shuffled["results"])
    random.Random(2).shuffle(shuffled["comparison"]["entries"])
    assert render_html(shuffled) == first


def test_large_report_caps_tables_harder() -> None:
    doc = bench_module().synthetic_report(html_report.LARGE_REPORT + 1, baseline=False)
    page = Page(render_html(doc))
    est = [rows for c, rows in page.tables if c == "nodes est"]
    assert est and all(len(rows) - 1 == html_report.LARGE_TOP for rows in est)


def test_thousand_results_render_under_five_megabytes() -> None:
    doc = bench_module().synthetic_report(1000)
    html = render_html(doc)
    assert len(html.encode("utf-8")) < 5_000_000
    assert html.count('<details class="t ') == 1000
    assert "<details open" not in html
    assert html.index("Needs attention") < html.index("<details ")
    assert "more: see the tables below." in html


# --------------------------------------------------------------------------- safety


def hostile_document() -> dict[str, Any]:
    """Markup and GitHub annotation strings everywhere the data can carry text."""
    nodeid = f"tests/test_{HOSTILE}.py::test_x[{HOSTILE}]"
    evil = result(
        nodeid,
        HOSTILE,
        model=f"{HOSTILE}.onnx",
        model_path=f"/abs/{HOSTILE}/m.onnx",
        sha256=HOSTILE,
        profile_version=HOSTILE,
        metrics={"size_mb": 2.0, HOSTILE: 1.0},
        units={"size_mb": HOSTILE},
        sources={"size_mb": HOSTILE},
        unavailable={HOSTILE: HOSTILE},
        verdicts=[verdict("size_mb", 1.0, 2.0, source=HOSTILE, reason=HOSTILE, keyword=HOSTILE)],
        notes=[HOSTILE, "CPU FALLBACK: " + HOSTILE],
        details={
            "op_histogram": {HOSTILE: 3},
            "estimate": {
                "latency_ms": 1.0,
                "nodes": [
                    {
                        "name": HOSTILE,
                        "op_type": HOSTILE,
                        "device": HOSTILE,
                        "time_ms": 1.0,
                        "bound": HOSTILE,
                        "reason": HOSTILE,
                        "macs": 1,
                    },
                    {
                        "name": HOSTILE,
                        "op_type": "Conv",
                        "device": "cpu",
                        "time_ms": 0.5,
                        "bound": "compute",
                        "reason": HOSTILE,
                        "macs": 1,
                    },
                ],  # fmt: skip
            },
            "nodes": [{"name": HOSTILE, "op_type": HOSTILE, "compute_dtype": HOSTILE}],
            "accuracy": {"layers": [{"name": HOSTILE, "sqnr_db": 12.0}], HOSTILE: HOSTILE},
            "measured": {"samples_ms": [1.0, 2.0, 3.0], "p50_ms": 2.0},
        },
    )
    errored = result(A72.format(HOSTILE), "cortex-a72", error=f"{HOSTILE}\n{HOSTILE}")
    comparison = {
        "baseline": HOSTILE,
        "entries": [
            entry(nodeid, HOSTILE, "size_mb", 1.0, 2.0, "regressed", threshold=HOSTILE),
            entry(nodeid, HOSTILE, HOSTILE, 1.0, 2.0, HOSTILE, threshold=HOSTILE),
            entry(HOSTILE, "cortex-a72", HOSTILE, 1.0, None, "not run"),
        ],
        "warnings": [HOSTILE],
    }
    doc = document([evil, errored], comparison)
    doc["tool"] = {"name": HOSTILE, "version": HOSTILE, "costmodel_version": HOSTILE}
    doc["environment"] = {"git_commit": HOSTILE, "profiles": {HOSTILE: HOSTILE}}
    doc["generated"] = HOSTILE
    return doc


SAFE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "footer", "section", "div",
    "p", "span", "small", "b", "i", "a", "code", "h1", "h2", "h3", "h4", "ul", "li", "table",
    "thead", "tbody", "tfoot", "tr", "th", "td", "details", "summary", "svg", "path", "line",
    "text", "wbr", "br", "figure", "figcaption", "circle", "g",
}  # fmt: skip


def assert_inert(html: str) -> None:
    """No markup from the data: only the report's own tags, no event handlers, no URLs."""
    lowered = html.lower()
    assert "<script" not in lowered
    assert "<img" not in lowered
    page = Page(html)
    assert {tag for tag, _ in page.tags} <= SAFE_TAGS
    for tag, attrs in page.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        for name in ("href", "src"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (tag, attrs)


def test_hostile_strings_are_escaped_everywhere() -> None:
    html = render_html(hostile_document())
    assert_inert(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    # Annotation control strings are plain text here: shown as they are, never decoded.
    assert "::error file=x::owned%0A::warning::" in html
    # Escaped in SVG-free places and in attributes alike: the hostile target is a heading,
    # the hostile nodeid a details summary, and no attribute carries raw quotes from data.
    assert html.count("&lt;script&gt;") > 20


def test_control_characters_and_surrogates_are_replaced(tmp_path: Path) -> None:
    doc = document([result("tests/t.py::test_\x00\x1b[31m\ud800\x7f[x]", "x", notes=["a\x08b"])])
    html = render_html(doc)
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]", html)
    assert "test_\ufffd\ufffd[31m\ufffd\ufffd" in html
    write_html(doc, tmp_path / "r.html")
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == html


def test_no_script_and_no_network_fetches(sample: dict[str, Any]) -> None:
    html = render_html(sample)
    lowered = html.lower()
    assert "<script" not in lowered
    assert "http://" not in lowered and "https://" not in lowered
    assert not re.search(r"""(src|href|srcset|action|poster|data)\s*=\s*["']?\s*(\w+:)?//""",
                         lowered)  # fmt: skip
    assert "<link" not in lowered and "@import" not in lowered and "url(" not in lowered
    assert "<iframe" not in lowered and "<object" not in lowered and "<embed" not in lowered
    assert_inert(html)


GARBAGE = [None, "", [], {}, "x", -1, 0, 1e308, -1e308, math.nan, math.inf, True, HOSTILE,
           [None, "x", 1], {"a": None}]  # fmt: skip


def mutate(value: Any, rng: random.Random) -> Any:
    """Replace random parts of a document with values of the wrong type or range."""
    if rng.random() < 0.08:
        return rng.choice(GARBAGE)
    if isinstance(value, dict):
        return {k: mutate(v, rng) for k, v in value.items()}
    if isinstance(value, list):
        return [mutate(v, rng) for v in value]
    return value


def test_malformed_documents_never_raise(sample: dict[str, Any]) -> None:
    """A report is written after the run from data that crossed processes: it must not crash."""
    for seed in range(150):
        doc = mutate(sample, random.Random(seed))
        html = render_html(doc)
        assert html.startswith("<!DOCTYPE html>"), seed
        assert_inert(html)


def test_malformed_trends_overview_and_node_changes_never_raise() -> None:
    """The new parts read untrusted document data as defensively as the rest of the report."""
    doc = bench_module().synthetic_report(12, targets=6, history=5, hostile=True, accuracy=True)
    assert doc["trends"]["series"] and doc["comparison"]["node_changes"]
    for seed in range(30):
        broken = mutate(doc, random.Random(seed))
        html = render_html(broken)
        assert html.startswith("<!DOCTYPE html>"), seed
        assert "<script" not in html.lower(), seed
        overview_markdown(broken)


def test_a_part_that_fails_is_reported_and_the_rest_still_shows(
    sample: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(details: dict) -> None:
        raise ValueError("bad samples")

    monkeypatch.setattr(html_report, "_latency", broken)
    html = render_html(sample)
    assert "Report: could not show the latency distribution: ValueError: bad samples" in html
    assert "Per-layer accuracy loss" in html and "test_ok" in html


def test_extreme_samples_still_chart() -> None:
    doc = document([result(A72.format("x"), "cortex-a72", details={"measured": {
        "samples_ms": [-1e308, 1e308] + [5 + i / 100 for i in range(200)] + [1e7]}})])  # fmt: skip
    html = render_html(doc)
    assert "<svg class=hist" in html and "nan" not in html.lower()
    assert "2 invalid samples" in html and "1 slower" in html


# --------------------------------------------------------------------------- a real run


def test_report_of_a_real_run_with_hostile_test_ids(pytester: pytest.Pytester, models_dir: Path
                                                    ) -> None:  # fmt: skip
    """The document the plugin writes renders as the HTML it writes, and stays inert."""
    pytester.makepyfile(
        test_real=f"""
        import pytest

        @pytest.mark.edge_budget(size_mb=1.0, latency_ms=1e-6)
        @pytest.mark.parametrize("case", [{HOSTILE!r}])
        def test_tiny(edge, case):
            edge.evaluate("models/tiny.onnx")

        def test_broken(edge):
            edge.evaluate("models/truncated.onnx")
        """
    )
    pytester.runpytest("--edge-target=cortex-a72,edgetpu", "--edge-json=out.json",
                       "--edge-html=out/report.html")  # fmt: skip
    html = (pytester.path / "out" / "report.html").read_text(encoding="utf-8")
    doc = json.loads((pytester.path / "out.json").read_text())
    assert html == render_html(doc)
    assert_inert(html)
    assert "Gate failed" in html and "latency_ms" in html
    assert html.count('<details class="t ') == len(doc["results"]) == 4
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --------------------------------------------------------------------------- writing


def test_write_html_writes_the_rendered_page(tmp_path: Path, sample: dict[str, Any]) -> None:
    target = tmp_path / "out" / "report.html"
    write_html(sample, target)
    assert target.read_text(encoding="utf-8") == render_html(sample)
    assert os.listdir(target.parent) == ["report.html"]
    assert target.stat().st_mode & 0o777 != 0o600  # not mkstemp's private mode


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_failed_write_leaves_old_file_and_no_temp(
    tmp_path: Path, sample: dict[str, Any], monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    target = tmp_path / "report.html"
    target.write_text("previous report")

    def boom(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, boom)
    with pytest.raises(OSError, match=re.escape(str(target))) as info:
        write_html(sample, target)
    assert info.value.errno == 28
    monkeypatch.undo()
    assert target.read_text() == "previous report"
    assert os.listdir(tmp_path) == ["report.html"]


def test_failed_render_writes_nothing(
    tmp_path: Path, sample: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(report: dict) -> str:
        raise RuntimeError("template bug")

    monkeypatch.setattr(html_report, "render_html", boom)
    with pytest.raises(RuntimeError):
        write_html(sample, tmp_path / "report.html")
    assert os.listdir(tmp_path) == []


def test_unwritable_path_names_the_path(tmp_path: Path, sample: dict[str, Any]) -> None:
    # A path below a regular file cannot be created, even by root (CI containers run as root,
    # so permission bits would not prove anything).
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("")
    target = blocker / "report.html"
    with pytest.raises(OSError, match=re.escape(str(target))):
        write_html(sample, target)
    # A directory in the way: the temporary file is created, then removed again.
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(OSError, match=re.escape(str(folder))):
        write_html(sample, folder)
    assert sorted(os.listdir(tmp_path)) == ["folder", "not_a_dir"]
    assert os.listdir(folder) == []


def test_importing_the_module_does_not_import_jinja2() -> None:
    code = "import sys, pytest_edgegate.report.html; print('jinja2' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
