"""The HTML report in a real browser: headless Chromium renders a generated report.

It checks what a reader gets, not the markup we meant to write: the DOM after Chromium parsed
the page (the verdict, the failing metric, hostile test ids as inert text), that the page
requests nothing from the network (Chromium's own net log), and a screenshot that CI keeps as an
artifact (``$EDGEGATE_ARTIFACTS``, or the test's ``tmp_path`` when unset) for people to look at.

Debian's ``chromium`` package provides the browser.  Without it the test skips, except under
``CI`` where a missing browser fails: CI must not pass by silently skipping this check.
"""

from __future__ import annotations

import importlib.util
import json
import os
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType

import pytest

from bench.browser_probe import (
    FLAGS,
    find_chromium,  # noqa: F401  (tests/test_example_project.py)
)
from pytest_edgegate.report.html import render_html, write_html

BENCH = Path(__file__).resolve().parents[2] / "bench" / "report.py"
WIDTH, HEIGHT = 1280, 2000


def bench_module() -> ModuleType:
    """``bench/report.py``, which holds the synthetic document generator."""
    spec = importlib.util.spec_from_file_location("edgegate_bench_report", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_chromium(chromium: str, home: Path, page: Path, *args: str) -> str:
    """Run headless Chromium on ``page`` with a throw-away profile; its stdout."""
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
           "XDG_CACHE_HOME": str(home / ".cache")}  # fmt: skip
    cmd = [chromium, *FLAGS, f"--user-data-dir={home / 'profile'}", *args, page.as_uri()]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"Chromium did not finish within 120 s: {' '.join(cmd)}")
    assert done.returncode == 0, f"Chromium failed ({done.returncode}): {done.stderr[-2000:]}"
    return done.stdout


class Dom(HTMLParser):
    """The elements and the visible text of a dumped DOM (``<style>`` content excluded)."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.chunks: list[str] = []
        self._in_style = False
        self.feed(text)
        self.close()
        self.text = " ".join("".join(self.chunks).replace("\xa0", " ").split())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._in_style = tag == "style"
        if tag in ("td", "th", "li", "p", "div", "h2", "h3", "summary", "tr"):
            self.chunks.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if not self._in_style:
            self.chunks.append(data)


def page_requests(netlog: Path) -> list[str]:
    """URLs that the page (a ``file://`` top frame) asked the network stack for."""
    log = json.loads(netlog.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for event in log["events"]:
        params = event.get("params") or {}
        if event["type"] == start_job and "file://" in params.get("network_isolation_key", ""):
            urls.append(params.get("url", ""))
    return [u for u in urls if not u.startswith("file:")]


def png_size_and_pixels(path: Path) -> tuple[int, int, bytes]:
    """Width, height and the inflated (still filtered) image data of a PNG file."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    pos, width, height, idat = 8, 0, 0, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return width, height, zlib.decompress(idat)


def test_report_in_headless_chromium(chromium: str, artifacts: Path, tmp_path: Path) -> None:
    doc = bench_module().synthetic_report(15, hostile=True)
    page = artifacts / "edgegate-report.html"
    write_html(doc, page)

    # What Chromium made of the page: the summary and the failing metric are shown, and the
    # hostile test ids and notes are text, not elements.
    netlog = tmp_path / "net.json"
    dom = Dom(run_chromium(chromium, tmp_path / "dom", page, "--dump-dom",
                           f"--log-net-log={netlog}"))  # fmt: skip
    assert "Gate failed" in dom.text
    assert "2 of 15 results broke a budget; 1 could not be evaluated; 1 regressed" in dom.text
    assert "Needs attention (3)" in dom.text
    assert "error: cannot load model_0004.onnx: the protobuf is truncated" in dom.text
    assert "npu_coverage 0, limit ≥ 0.8 (short by 100%)" in dom.text
    assert "latency_ms regressed +26.6% (threshold 5%)" in dom.text
    bad_cells = [a for tag, a in dom.elements if tag == "div" and a.get("class") == "m bad"]
    assert len(bad_cells) == 2
    tags = {tag for tag, _ in dom.elements}
    assert not tags & {"script", "img", "iframe", "object", "embed", "link"}
    assert not [a for _, attrs in dom.elements for a in attrs if a.startswith("on")]
    assert "test_model_0000<script>alert(1)</script>" in dom.text
    assert 'model_0002"><img src=x onerror=alert(1)>.onnx' in dom.text
    assert "::error file=x::pwned%0A::warning::" in dom.text
    folded = [a for t, a in dom.elements if t == "details" and a.get("class", "")[:2] == "t "]
    assert len(folded) == 15

    # The page fetches nothing.  The same check on a page that does fetch proves it can see one.
    probe = tmp_path / "probe.html"
    probe.write_text('<p>probe</p><img src="http://edgegate-probe.invalid/x.png">')
    run_chromium(chromium, tmp_path / "probe", probe, "--dump-dom",
                 f"--log-net-log={tmp_path / 'probe.json'}")  # fmt: skip
    assert page_requests(tmp_path / "probe.json") == ["http://edgegate-probe.invalid/x.png"]
    assert page_requests(netlog) == []

    # The screenshot CI keeps: the top of the page as a reviewer first sees it.
    shot = artifacts / "edgegate-report.png"
    shot.unlink(missing_ok=True)
    run_chromium(chromium, tmp_path / "shot", page, f"--screenshot={shot}",
                 f"--window-size={WIDTH},{HEIGHT}")  # fmt: skip
    width, height, pixels = png_size_and_pixels(shot)
    assert (width, height) == (WIDTH, HEIGHT)
    assert len(set(pixels)) > 64, "the screenshot is blank"

    # And one with every test unfolded, so the charts and tables can be looked at too.
    expanded = artifacts / "edgegate-report-expanded.html"
    expanded.write_text(render_html(doc).replace("<details ", "<details open "), "utf-8")
    shot = artifacts / "edgegate-report-expanded.png"
    run_chromium(chromium, tmp_path / "shot2", expanded, f"--screenshot={shot}",
                 f"--window-size={WIDTH},{HEIGHT * 3}")  # fmt: skip
    assert png_size_and_pixels(shot)[:2] == (WIDTH, HEIGHT * 3)
