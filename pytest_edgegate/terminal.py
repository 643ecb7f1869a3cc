"""The terminal summary: one ``tabulate`` table per target after the run.

Each metric cell shows the value and, when the test set a budget on it, the limit, so a red
row says at a glance which budget broke and by how much.  ``-q`` keeps only the verdicts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from tabulate import tabulate

from pytest_edgegate.results import EdgeResult

#: Columns shown when present in any result, in this order.
COLUMNS = (
    "size_mb",
    "params_m",
    "macs_m",
    "peak_memory_mb",
    "latency_ms",
    "energy_mj",
    "npu_coverage",
    "accuracy_drop",
    "accuracy_drop_rel",
    "sqnr_db",
    "top1_agreement",
)


def _test_name(nodeid: str, target: str) -> str:
    name = nodeid.split("::", 1)[-1]
    suffix = f"[{target}]"
    return name[: -len(suffix)] if name.endswith(suffix) else name.replace(f"-{target}]", "]")


def _cell(result: EdgeResult, metric: str) -> str:
    value = result.metrics.get(metric)
    text = "n/a" if value is None else f"{value:.4g}"
    limits = [v for v in result.verdicts if v.metric == metric and v.keyword != "device"]
    for verdict in limits:
        sign = "<=" if verdict.kind == "max" else ">="
        mark = "" if verdict.passed else " FAIL"
        text += f" ({sign}{verdict.bound:g}{mark})"
    return text


def _verdict(result: EdgeResult) -> str:
    if result.error:
        return "ERROR"
    broken = result.broken
    if not broken:
        return "pass"
    return "FAIL: " + ", ".join(sorted({v.metric for v in broken}))


def summary_tables(results: Iterable[EdgeResult], quiet: bool = False) -> list[str]:
    """Lines of text: a header, then a table, per target (targets sorted)."""
    by_target: dict[str, list[EdgeResult]] = defaultdict(list)
    for result in results:
        by_target[result.target].append(result)
    lines: list[str] = []
    for target in sorted(by_target):
        rows = by_target[target]
        failed = sum(1 for r in rows if not r.passed)
        lines.append(f"target {target}: {len(rows) - failed} passed, {failed} failed")
        if quiet:
            table = [[_test_name(r.nodeid, target), r.model, _verdict(r)] for r in rows]
            lines.append(tabulate(table, headers=["test", "model", "verdict"]))
            continue
        shown = [
            m
            for m in COLUMNS
            if any(m in r.metrics or any(v.metric == m for v in r.verdicts) for r in rows)
        ]
        headers = ["test", "model", *shown, "verdict"]
        table = [
            [_test_name(r.nodeid, target), r.model] + [_cell(r, m) for m in shown] + [_verdict(r)]
            for r in rows
        ]
        lines.append(tabulate(table, headers=headers, disable_numparse=True))
        notes = sorted({n for r in rows for n in r.notes[:1] if r.notes})
        lines.extend(f"  note: {n}" for n in notes)
        lines.append("")
    return lines
