"""Measure a rendered HTML report's layout in headless Chromium, at a given viewport width.

Usage::

    .venv/bin/python bench/browser_probe.py REPORT.html [--width 1280 --width 390] [--shots DIR]

The report forbids every script (its Content-Security-Policy), so the probe works on a copy:
it appends one measuring script and allows exactly that script by its hash.  The copy is
opened in an ``<iframe>`` of the wanted width inside a wrapper page, because headless Chromium
will not make a window narrower than 500 px; the iframe is a true viewport of that width
(media queries included).  The measurements come back through ``postMessage`` into the
wrapper's DOM, which ``--dump-dom`` prints.  Chromium's own log gives the console messages.

It reports the page's scroll width against its viewport (page-level horizontal overflow),
the per-target tables wider than their box (``table.res``), and the console messages.  The
tests (``tests/report/test_html_layout.py``) and ``bench/report.py --layout`` use it.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--enable-logging=stderr",
    "--v=0",
)
HEIGHT = 900

#: Runs in the report's copy: the page's widths, and per-target tables wider than their box.
MEASURE = (
    "(function(){var d=document.documentElement;"
    "var boxes=[].slice.call(document.querySelectorAll('table.res')).map(function(t){"
    "var b=t.parentElement;return {table:Math.ceil(t.getBoundingClientRect().width),"
    "box:b.clientWidth,section:(t.closest('section')||{}).id||''}});"
    "var bg=getComputedStyle(document.body).backgroundColor;"
    "var o=JSON.stringify({scroll:d.scrollWidth,viewport:d.clientWidth,boxes:boxes,bg:bg});"
    "if(window.parent!==window){window.parent.postMessage(o,'*')}"
    "else{var p=document.createElement('pre');p.id='edgegate-probe';p.textContent=o;"
    "document.body.appendChild(p)}})();"
)
#: Runs in the wrapper: writes what the iframe measured into the wrapper's DOM.
RECEIVE = (
    "addEventListener('message',function(e){var p=document.createElement('pre');"
    "p.id='edgegate-probe';p.textContent=e.data;document.body.appendChild(p)});"
)


@dataclass
class Layout:
    width: int
    scroll: int
    viewport: int
    wide_tables: list[dict] = field(default_factory=list)  # per-target tables over their box
    console: list[str] = field(default_factory=list)
    background: str = ""  # the body's computed background colour

    @property
    def page_overflow(self) -> int:
        """Pixels the page is wider than its viewport (0: no sideways scrolling)."""
        return max(0, self.scroll - self.viewport)


def find_chromium() -> str | None:
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _sha256(script: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()


def probe_copy(html: str) -> str:
    """The report with the measuring script added and allowed (by hash) by its own policy."""
    policy = "default-src 'none';"
    if policy not in html or "</body>" not in html:
        raise ValueError("not an edgegate report: no Content-Security-Policy or </body>")
    html = html.replace(policy, f"{policy} script-src '{_sha256(MEASURE)}';", 1)
    return html.replace("</body>", f"<script>{MEASURE}</script></body>", 1)


def wrapper(page: str, width: int, height: int = HEIGHT) -> str:
    csp = (
        f"default-src 'none'; frame-src file:; script-src '{_sha256(RECEIVE)}'; "
        "style-src 'unsafe-inline'"
    )
    return (
        f'<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
        f'content="{csp}"><script>{RECEIVE}</script></head><body style="margin:0">'
        f'<iframe src="{page}" style="width:{width}px;height:{height}px;border:0;'
        'display:block"></iframe></body></html>'
    )


def run(chromium: str, home: Path, url: str, *args: str, timeout: int = 120):
    """Chromium on ``url`` with a throw-away profile: the finished process."""
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
           "XDG_CACHE_HOME": str(home / ".cache")}  # fmt: skip
    cmd = [chromium, *FLAGS, f"--user-data-dir={home / 'profile'}", *args, url]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"Chromium failed ({done.returncode}): {done.stderr[-2000:]}")
    return done


def console_messages(stderr: str) -> list[str]:
    """What the page wrote to the console (errors, CSP violations), from Chromium's log."""
    return [line.split("] ", 1)[-1] for line in stderr.splitlines() if ":CONSOLE" in line]


def measure(chromium: str, report: Path, width: int, work: Path, *extra: str) -> Layout:
    """The layout of ``report`` in a viewport ``width`` px wide (``extra``: Chromium flags,
    e.g. ``--blink-settings=preferredColorScheme=0`` for the dark colour scheme)."""
    work.mkdir(parents=True, exist_ok=True)
    copy = work / f"probe-{width}.html"
    copy.write_text(probe_copy(report.read_text(encoding="utf-8")), encoding="utf-8")
    outer = work / f"wrapper-{width}.html"
    outer.write_text(wrapper(copy.name, width), encoding="utf-8")
    done = run(chromium, work / f"home-{width}", outer.as_uri(), *extra,
               "--virtual-time-budget=5000",
               "--dump-dom", f"--window-size={max(width, 500) + 40},{HEIGHT + 40}")  # fmt: skip
    found = re.search(r'<pre id="edgegate-probe">([^<]*)</pre>', done.stdout)
    if not found:
        raise RuntimeError(f"the measuring script did not report: {done.stderr[-2000:]}")
    data = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    wide = [b for b in data["boxes"] if b["table"] > b["box"]]
    return Layout(
        width, data["scroll"], data["viewport"], wide, console_messages(done.stderr), data["bg"]
    )


def screenshot(chromium: str, report: Path, width: int, height: int, shot: Path, work: Path):
    """A PNG of the report's top ``height`` px at viewport ``width`` (narrow: in an iframe)."""
    if width >= 500:
        run(chromium, work / f"shot-{width}", report.resolve().as_uri(), f"--screenshot={shot}",
            f"--window-size={width},{height}")  # fmt: skip
        return
    outer = work / f"shot-wrapper-{width}.html"
    shutil.copy(report, work / "shot-page.html")
    outer.write_text(wrapper("shot-page.html", width, height), encoding="utf-8")
    run(chromium, work / f"shot-{width}", outer.as_uri(), f"--screenshot={shot}",
        f"--window-size={width},{height}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--width", type=int, action="append", help="viewport widths (px)")
    parser.add_argument("--shots", type=Path, help="also save screenshots in this folder")
    args = parser.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print("Chromium is not installed (apt-get install chromium)")
        return 2
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for width in args.width or [1280, 390]:
            layout = measure(chromium, args.report, width, Path(tmp))
            wide = ", ".join(f"{b['section']} {b['table']}>{b['box']}" for b in layout.wide_tables)
            print(
                f"{width:>5} px: page {layout.scroll} px wide in a {layout.viewport} px viewport"
                f" (overflow {layout.page_overflow} px); per-target tables wider than their box:"
                f" {len(layout.wide_tables)}{' (' + wide + ')' if wide else ''}; console messages:"
                f" {len(layout.console)}"
            )
            bad += bool(layout.page_overflow or layout.console)
            bad += bool(width >= 1000 and layout.wide_tables)
            if args.shots:
                args.shots.mkdir(parents=True, exist_ok=True)
                shot = args.shots / f"{args.report.stem}-{width}.png"
                screenshot(chromium, args.report, width, 1600, shot, Path(tmp))
                print(f"        screenshot {shot}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
