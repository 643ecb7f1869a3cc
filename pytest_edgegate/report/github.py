"""GitHub Actions outputs: a Markdown job summary and ``::error`` annotations.

Everything that comes from a test id, a model name or a message is escaped the way the runner
requires (workflow-command data: ``%``, CR, LF; properties also ``:`` and ``,``), and Markdown
special characters are neutralised, so a crafted test id cannot inject a command or markup.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping
from typing import Any

from pytest_edgegate.metrics import format_value


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(message: str, file: str | None, line: int | None, title: str) -> str:
    props = []
    if file:
        props.append(f"file={escape_property(file)}")
        if line:
            props.append(f"line={line}")
    props.append(f"title={escape_property(title)}")
    return f"::error {','.join(props)}::{escape_data(message)}"


def md(text: Any) -> str:
    """Text safe inside a Markdown table cell (HTML-escaped, pipes and newlines neutralised)."""
    return (
        html.escape(str(text), quote=True)
        .replace("|", "&#124;")
        .replace("\n", " ")
        .replace("\r", " ")
        .replace("`", "&#96;")
        .replace("[", "&#91;")
        .replace("]", "&#93;")
    )


def annotations(
    document: Mapping[str, Any], locations: Mapping[str, tuple[str, int | None]]
) -> list[str]:
    """One ``::error`` per broken budget and per regression, on the test's file and line."""
    lines = []
    for r in document["results"]:
        if r.get("expected_failure"):
            continue  # an xfail test: the breach is the point of the test
        file, line = locations.get(r["nodeid"], (None, None))
        if r.get("error"):
            lines.append(annotation(r["error"], file, line, f"edgegate: {r['nodeid']}"))
        for v in r.get("verdicts", []):
            if v["passed"]:
                continue
            if v["value"] is None:
                what = f"{v['metric']} not available on {r['target']}: {v['reason']}"
            else:
                sign = "<=" if v["kind"] == "max" else ">="
                what = (
                    f"{v['metric']} {format_value(v['metric'], v['value'])} on {r['target']}, "
                    f"limit {sign} {format_value(v['metric'], v['limit'])}"
                )
            lines.append(annotation(what, file, line, f"edgegate budget: {r['nodeid']}"))
    comparison = document.get("comparison") or {}
    for d in comparison.get("entries", []):
        if d["status"] != "regressed":
            continue
        file, line = locations.get(d["nodeid"], (None, None))
        message = (
            f"{d['metric']} regressed on {d['target']}: {d['baseline']:.4g} -> "
            f"{d['current']:.4g} ({d['delta_pct']:+.1f} %), threshold {d['threshold']}"
            if d.get("delta_pct") is not None
            else f"{d['metric']} regressed on {d['target']}"
        )
        lines.append(annotation(message, file, line, f"edgegate regression: {d['nodeid']}"))
    return lines


#: The job summary's own lines besides its tables (the fuzzer accepts exactly these).
OVERVIEW_LEGEND = (
    "\u2705 within budget \u00b7 \u274c broke a budget \u00b7 \U0001f4a5 error \u00b7 "
    "\u2796 expected failure; each cell: the budget with the least headroom (value / limit) "
    "and the change against the baseline."
)
SUMMARY_HEADINGS = (
    "## edgegate",
    "### Models by target",
    "### Per target",
    "### Broken budgets",
    "### Regressions against the baseline",
    OVERVIEW_LEGEND,
)
_STATUS_MARK = {"pass": "\u2705", "fail": "\u274c", "error": "\U0001f4a5", "xfail": "\u2796"}


def overview_markdown(document: Mapping[str, Any]) -> list[str]:
    """The HTML report's model x target matrix as a Markdown table (no lines without results)."""
    from pytest_edgegate.report.overview import budget_text, build_overview, change_text

    targets, rows = build_overview(document)
    if not rows:
        return []
    out = ["| model | " + " | ".join(md(t) for t in targets) + " |"]
    out.append("|---" * (len(targets) + 1) + "|")
    for row in rows:
        label = f"**{md(row.model)}**" + (f"<br>{md(row.test)}" if row.test else "")
        cells = []
        for target in targets:
            cell = row.cells.get(target)
            if cell is None:
                cells.append("\u2014")
                continue
            parts = [_STATUS_MARK.get(cell.status, "") + " " + cell.status]
            if cell.budget:
                parts.append(md(budget_text(cell.budget, _short)))
            if cell.change and cell.change["status"] != "unchanged":
                parts.append(md(change_text(cell.change)))
            cells.append("<br>".join(parts))
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return [*out, "", OVERVIEW_LEGEND]


def _short(value: Any) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def summary_markdown(document: Mapping[str, Any]) -> str:
    """The job summary: the model x target overview, verdict per target, then broken budgets
    and regressions."""
    out = ["## edgegate", ""]
    overview = overview_markdown(document)
    if overview:
        out += ["### Models by target", "", *overview, "", "### Per target", ""]
    out.append("| target | passed | failed | errors | xfailed | regressed | improved |")
    out.append("|---|---|---|---|---|---|---|")
    for target, s in document["summary"].items():
        out.append(
            f"| {md(target)} | {s['passed']} | {s['failed']} | {s['errors']} | "
            f"{s.get('xfailed', 0)} | {s['regressed']} | {s['improved']} |"
        )
    broken = [
        (r, v)
        for r in document["results"]
        if not r.get("expected_failure")
        for v in r.get("verdicts", [])
        if not v["passed"]
    ]
    if broken:
        out += ["", "### Broken budgets", "", "| test | model | metric | value | limit |"]
        out.append("|---|---|---|---|---|")
        for r, v in broken:
            value = "n/a" if v["value"] is None else format_value(v["metric"], v["value"])
            sign = "<=" if v["kind"] == "max" else ">="
            out.append(
                f"| {md(r['nodeid'])} | {md(r['model'])} | {md(v['metric'])} | {md(value)} | "
                f"{sign} {md(format_value(v['metric'], v['limit']))} |"
            )
    regressions = [
        d
        for d in (document.get("comparison") or {}).get("entries", [])
        if d["status"] == "regressed"
    ]
    if regressions:
        out += ["", "### Regressions against the baseline", ""]
        out += [
            "| test | metric | baseline | now | change | threshold |",
            "|---|---|---|---|---|---|",
        ]
        for d in regressions:
            pct = "" if d.get("delta_pct") is None else f"{d['delta_pct']:+.1f} %"
            out.append(
                f"| {md(d['nodeid'])} | {md(d['metric'])} | {d['baseline']:.4g} | "
                f"{d['current']:.4g} | {pct} | {md(d['threshold'])} |"
            )
    return "\n".join(out) + "\n"


def write_step_summary(document: Mapping[str, Any], env: Mapping[str, str] | None = None) -> bool:
    """Append the summary to ``$GITHUB_STEP_SUMMARY`` when running in GitHub Actions."""
    env = os.environ if env is None else env
    path = env.get("GITHUB_STEP_SUMMARY")
    if env.get("GITHUB_ACTIONS") != "true" or not path:
        return False
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(summary_markdown(document))
    return True


def in_actions(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return env.get("GITHUB_ACTIONS") == "true"
