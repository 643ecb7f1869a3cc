"""Trends over the committed baseline's git history, and the cumulative-drift warning."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from pytest_edgegate.baseline.history import history
from pytest_edgegate.baseline.regression import Threshold
from pytest_edgegate.costmodel.estimates import COSTMODEL_VERSION
from pytest_edgegate.report.html import render_html
from pytest_edgegate.report.trends import build_trends

KEY = "tests/t.py::test_m[cpu]"


def entry(
    latency: float, size: float = 1.0, profile: str = "1.0", cm: str = COSTMODEL_VERSION
) -> dict:
    return {"nodeid": KEY, "target": "cpu", "profile_version": profile, "costmodel_version": cm,
            "metrics": {"latency_ms": latency, "size_mb": size},
            "sources": {"latency_ms": "estimate", "size_mb": "static"}}  # fmt: skip


def snapshot(i: int, **kw) -> dict:
    return {"commit": f"{i:012x}", "date": "2026-11-0" + str(i + 1), "entries": {KEY: kw}}


def past(latency: float, **kw) -> dict:
    e = entry(latency, **kw)
    return {"target": "cpu", "versions": [e["profile_version"], e["costmodel_version"]],
            "metrics": e["metrics"], "sources": e["sources"]}  # fmt: skip


def current(latency: float, size: float = 1.0) -> dict:
    e = entry(latency, size)
    return {**e, "profile_version": "1.0"}


def trends(points: list[dict], now: dict, configured=None) -> dict | None:
    hist = [{"commit": f"{i:012x}", "date": "2026-11-01", "entries": {KEY: p}}
            for i, p in enumerate(points)]  # fmt: skip
    return build_trends(hist, [now], configured or {}, COSTMODEL_VERSION, "edge-baseline.json")


def test_creeping_latency_is_drift_though_no_step_regressed() -> None:
    # +1.9 % per commit: under the 2 % default at every step, +7.8 % over four steps.
    values = [10.0 * 1.019**i for i in range(4)]
    found = trends([past(v) for v in values], current(10.0 * 1.019**4))
    assert found["series"][KEY] == {"latency_ms": [round(v, 4) for v in values]}
    [drift] = found["drift"]
    assert drift["metric"] == "latency_ms" and drift["threshold"] == "2%"
    assert drift["steps"] == 4 and drift["pct"] == pytest.approx(7.8, abs=0.05)
    assert drift["max_step_pct"] == pytest.approx(1.9, abs=0.01)


def test_no_drift_when_a_step_regressed_or_the_window_is_flat() -> None:
    # One 5 % step is a regression (the gate reports it), not drift.
    assert trends([past(10.0), past(10.0)], current(10.5))["drift"] == []
    # A constant metric has no series at all (a flat line says nothing).
    assert trends([past(10.0), past(10.0)], current(10.0)) == {
        "baseline": "edge-baseline.json",
        "commits": [{"commit": "000000000000", "date": "2026-11-01"},
                    {"commit": "000000000001", "date": "2026-11-01"}],
        "series": {}, "drift": [],
    }  # fmt: skip
    # A looser configured threshold lets the same creep pass.
    values = [10.0 * 1.019**i for i in range(5)]
    loose = {"latency_ms": Threshold(10.0, True)}
    assert trends([past(v) for v in values[:4]], current(values[4]), loose)["drift"] == []


def test_a_cost_model_change_restarts_the_drift_window() -> None:
    old = [past(5.0, cm="1"), past(5.0, cm="1")]  # a different cost model: incomparable
    new = [past(10.0 * 1.019**i) for i in range(3)]
    found = trends(old + new, current(10.0 * 1.019**3))
    assert found["series"][KEY]["latency_ms"][:2] == [5.0, 5.0]  # still drawn
    [drift] = found["drift"]
    assert drift["first"] == 10.0 and drift["steps"] == 3


def test_static_size_drift_and_higher_is_better_direction() -> None:
    found = trends([past(10.0, size=1.0), past(10.0, size=1.015)], current(10.0, size=1.03))
    assert [d["metric"] for d in found["drift"]] == ["size_mb"]


def git(cwd: Path, *args: str) -> None:
    who = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip
    env = {**who, "PATH": "/usr/bin:/bin", "HOME": str(cwd)}
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env)


def test_history_reads_the_files_past_commits_bounded(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    path = tmp_path / "sub" / "edge-baseline.json"
    path.parent.mkdir()
    for i, latency in enumerate((10.0, 10.1, 10.2, 10.3)):
        path.write_text(json.dumps({"schema_version": 1, "entries": {KEY: entry(latency)}}))
        git(tmp_path, "add", ".")
        git(tmp_path, "commit", "-qm", f"baseline {i}")
    (tmp_path / "other.txt").write_text("a commit that does not touch the baseline")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "other")
    path.write_text("{ not committed, not JSON")
    found = history(path, limit=3)
    assert [h["entries"][KEY]["metrics"]["latency_ms"] for h in found] == [10.1, 10.2, 10.3]
    assert all(re.fullmatch(r"[0-9a-f]{12}", h["commit"]) for h in found)
    assert found[0]["entries"][KEY]["versions"] == ["1.0", COSTMODEL_VERSION]


def test_history_outside_git_or_uncommitted_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "edge-baseline.json"
    path.write_text("{}")
    assert history(path) == []
    assert history(tmp_path / "missing" / "b.json") == []
    git(tmp_path, "init", "-q")
    assert history(path) == []


def test_report_draws_sparklines_and_lists_drift() -> None:
    values = [10.0 * 1.019**i for i in range(4)]
    now = current(10.0 * 1.019**4)
    doc = {
        "results": [{**now, "model": "m.onnx", "verdicts": [], "passed": True, "error": None}],
        "comparison": None,
        "trends": trends([past(v) for v in values], now),
    }
    html = render_html(doc)
    assert html.count("<svg class=spark") == 1
    assert "latency_ms over 4 baseline commits and this run: 10 → 10.78" in html
    assert "Cumulative drift (1)" in html
    assert "latency_ms 10 → 10.78 (+7.8%) over 4 steps, threshold 2%; largest step +1.9%" in html
    assert re.search(r'<li><a href="#r1"><code>tests/t.py::test_m\[cpu\]</code></a>', html)


def test_edgegate_report_reads_the_baseline_history_too(tmp_path: Path, capsys) -> None:
    """``edgegate report results.json --baseline b.json`` gives the trends a run would."""
    from pytest_edgegate.cli import main

    git(tmp_path, "init", "-q")
    base = tmp_path / "b.json"
    for i in range(3):
        base.write_text(json.dumps({"schema_version": 1,
                                    "entries": {KEY: entry(10.0 * 1.019**i)}}))  # fmt: skip
        git(tmp_path, "add", ".")
        git(tmp_path, "commit", "-qm", f"baseline {i}")
    now = {**current(10.0 * 1.019**3), "model": "m.onnx", "verdicts": [], "passed": True,
           "error": None}  # fmt: skip
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"schema_version": 1, "results": [now], "environment": {}}))
    out = tmp_path / "out.json"
    assert main(["report", str(results), "--baseline", str(base), "--json", str(out)]) == 0
    trends = json.loads(out.read_text())["trends"]
    assert len(trends["commits"]) == 3 and [d["metric"] for d in trends["drift"]] == ["latency_ms"]
