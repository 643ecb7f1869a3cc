"""The report's layout in headless Chromium: no sideways scrolling at 1280 and 390 px.

A laptop window (1280 px) must show each per-target table whole, and a phone (390 px) must
never scroll the page sideways (wide tables scroll inside their own box).  The page must not
log anything to the console (a script or style its policy blocks would), and every cell of
the overview must link to a result's details.  The measuring is done by
``bench/browser_probe.py`` on a copy of the report; screenshots at both widths are kept in
``$EDGEGATE_ARTIFACTS`` (or the test's ``tmp_path``).  Without Chromium the tests skip, except
under ``CI``, where a missing browser fails.
"""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bench import browser_probe as probe
from bench.report import synthetic_report
from pytest_edgegate.report.html import write_html


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """36 results on six targets, with a baseline history, drift and explained regressions.

    ``EDGEGATE_LAYOUT_REPORT=page.html`` checks that page instead (one rendered by an older
    version, say, to see these checks fail on it).
    """
    other = os.environ.get("EDGEGATE_LAYOUT_REPORT")
    if other:
        return Path(other)
    page = tmp_path_factory.mktemp("layout") / "edgegate-layout.html"
    write_html(layout_document(), page)
    return page


def layout_document() -> dict:
    return synthetic_report(36, targets=6, history=8, hostile=True, accuracy=True)


class Links(HTMLParser):
    """The ids of a dumped DOM, and the links inside the overview's cells."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.cells = 0
        self.cell_links: list[str] = []
        self._in_cell = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"] or "")
        if tag == "td":
            self._in_cell = "oc" in (a.get("class") or "").split() and "none" not in (
                a.get("class") or ""
            )
            self.cells += self._in_cell
        elif tag == "a" and self._in_cell:
            self.cell_links.append(a.get("href") or "")


@pytest.mark.parametrize("width", [1280, 390])
def test_no_sideways_scrolling_and_no_console_messages(
    chromium: str, report: Path, artifacts: Path, tmp_path: Path, width: int
) -> None:
    layout = probe.measure(chromium, report, width, tmp_path)
    assert layout.viewport == width
    assert layout.page_overflow == 0, f"the page is {layout.scroll} px wide at {width} px"
    if width >= 1280:
        assert layout.wide_tables == [], "a per-target table needs sideways scrolling at 1280 px"
    assert layout.console == []
    shot = artifacts / f"edgegate-layout-{width}.png"
    shot.unlink(missing_ok=True)
    probe.screenshot(chromium, report, width, 1600, shot, tmp_path)
    assert shot.stat().st_size > 10_000


def test_every_overview_cell_links_to_its_details(
    chromium: str, report: Path, tmp_path: Path
) -> None:
    done = probe.run(chromium, tmp_path / "dom", report.as_uri(), "--dump-dom")
    dom = Links(done.stdout)
    assert dom.cells == 36  # one per result: 6 models on 6 targets
    assert len(dom.cell_links) == dom.cells
    for href in dom.cell_links:
        assert href.startswith("#") and href[1:] in dom.ids, href
    assert probe.console_messages(done.stderr) == []


def test_the_probe_sees_overflow_and_console_messages(chromium: str, tmp_path: Path) -> None:
    """The checks above can fail: a page too wide, a table too wide, a blocked script."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\"></head><body>"
        '<section id=t1><div style="overflow-x:auto"><table class=res style="width:1500px">'
        '<tr><td>x</td></tr></table></div></section><div style="width:900px">wide</div>'
        "<script>console.log('not allowed')</script></body></html>"
    )
    wide = probe.measure(chromium, page, 390, tmp_path / "390")
    assert wide.page_overflow > 400
    assert any("Content Security Policy" in m for m in wide.console)
    laptop = probe.measure(chromium, page, 1280, tmp_path / "1280")
    assert laptop.page_overflow == 0
    assert [t["section"] for t in laptop.wide_tables] == ["t1"]


def test_dark_colour_scheme_and_print(
    chromium: str, report: Path, artifacts: Path, tmp_path: Path
) -> None:
    """The reader's dark scheme gives a dark page; printing gives a PDF of several pages."""
    light = probe.measure(chromium, report, 1280, tmp_path / "light")
    dark = probe.measure(
        chromium, report, 1280, tmp_path / "dark", "--blink-settings=preferredColorScheme=0"
    )
    assert light.background == "rgb(255, 255, 255)"
    assert dark.background == "rgb(13, 17, 23)"
    assert dark.page_overflow == 0 and dark.console == []
    pdf = artifacts / "edgegate-layout.pdf"
    pdf.unlink(missing_ok=True)
    probe.run(chromium, tmp_path / "pdf", report.as_uri(), f"--print-to-pdf={pdf}",
              "--no-pdf-header-footer")  # fmt: skip
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page(?!s)", data)) > 1
