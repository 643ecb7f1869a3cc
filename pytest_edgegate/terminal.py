"""The terminal summary: one ``tabulate`` table per target after the run.

Each metric cell shows the value, the limit when the test set a budget on it, and the change
against the baseline when one is compared, so a red row says at a glance which budget broke or
which number moved.  ``-q`` keeps only the verdicts; ``-v`` adds each test's top operators.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from tabulate import tabulate

from pytest_edgegate.edge_result import EdgeResult
from pytest_edgegate.mcu_memory import terminal_lines as mcu_terminal_lines
from pytest_edgegate.metrics import finite_or_none
from pytest_edgegate.numbers import format_number
from pytest_edgegate.runtime_view import arena_table, model_label
from pytest_edgegate.terminal_workload import workload_table

#: Columns shown when present in any result, in this order.
COLUMNS = (
    "size_mb", "params_m", "macs_m", "peak_memory_mb", "latency_ms", "energy_mj",
    "npu_coverage", "accuracy_drop", "accuracy_drop_rel", "sqnr_db", "top1_agreement",
)  # fmt: skip


def _test_name(nodeid: str, target: str) -> str:
    name = nodeid.split("::", 1)[-1]
    suffix = f"[{target}]"
    return name[: -len(suffix)] if name.endswith(suffix) else name.replace(f"-{target}]", "]")


def _cell(result: EdgeResult, metric: str, delta: Mapping[str, Any] | None) -> str:
    value = result.metrics.get(metric)
    text = "n/a" if value is None else format_number(value)
    if value is None and result.unavailable.get(metric, "").startswith("unknown"):
        text = "unknown"
    for verdict in result.verdicts:
        if verdict.metric == metric and verdict.keyword != "device":
            sign = "<=" if verdict.kind == "max" else ">="
            mark = "" if verdict.passed else " FAIL"
            text += f" ({sign}{format_number(verdict.bound)}{mark})"
    if delta and delta.get("delta_pct") is not None and delta["status"] != "unchanged":
        flag = {"regressed": " REGRESSED", "improved": "", "incomparable": " ?"}.get(
            delta["status"], ""
        )
        text += f" [{delta['delta_pct']:+.1f}%{flag}]"
    return text


def _verdict(result: EdgeResult, regressed: bool) -> str:
    if result.error:
        return "XFAIL (error)" if result.expected_failure else "ERROR"
    broken = sorted({v.metric for v in result.broken})
    word = "XFAIL" if result.expected_failure else "FAIL"
    parts = [f"{word}: " + ", ".join(broken)] if broken else []
    if regressed:
        parts.append("REGRESSED")
    return "; ".join(parts) or "pass"


def _top_ops(result: EdgeResult, n: int = 3) -> str:
    estimate = result.details.get("estimate") or {}
    nodes = estimate.get("nodes")
    if nodes:
        by_op: dict[str, float] = defaultdict(float)
        for node in nodes:
            by_op[node["op_type"]] += node["time_ms"]
        total = sum(by_op.values()) or 1.0
        top = sorted(by_op.items(), key=lambda kv: -kv[1])[:n]
        return ", ".join(f"{op} {100 * t / total:.0f}% time" for op, t in top)
    macs: dict[str, int] = defaultdict(int)
    for node in result.details.get("nodes", []):
        macs[node["op_type"]] += node["macs"]
    total = sum(macs.values()) or 1
    top = sorted(macs.items(), key=lambda kv: -kv[1])[:n]
    return ", ".join(f"{op} {100 * m / total:.0f}% MACs" for op, m in top if m)


def _ms(value: Any) -> str:
    """A duration with about four significant figures and fixed decimals per magnitude, so
    an interval's two ends line up (``150.1, 153.0`` rather than ``150.1, 153``)."""
    return format_number(finite_or_none(value), aligned=True)


def _measured_row(result: EdgeResult, target: str) -> list[str] | None:
    """Host p50 with its IQR and run count, the emulated device figure with its ~95 %
    interval, the measured peak next to the static estimate; ``None`` without a run."""
    m = result.details.get("measured")
    if not isinstance(m, dict) or finite_or_none(m.get("p50_ms")) is None:
        return None
    runs = m.get("n_runs") if isinstance(m.get("n_runs"), int) else "?"
    host = f"{_ms(m['p50_ms'])} ms (IQR {_ms(m.get('iqr_ms'))}, {runs} runs)"
    device = "n/a"
    if finite_or_none(m.get("device_ms")) is not None:
        device = f"{_ms(m['device_ms'])} ms"
        ci = m.get("device_ci_ms")
        if isinstance(ci, list) and len(ci) == 2:
            device += f" [{_ms(ci[0])}, {_ms(ci[1])}]"
        if result.sources.get("latency_ms") == "measured":
            device += " (gated)"
    threads = m.get("threads_used")
    return [
        _test_name(result.nodeid, target),
        str(threads) if isinstance(threads, int) else "?",
        host,
        device,
        f"{_ms(m.get('peak_rss_mb'))} MB",
        f"{_ms(m.get('static_peak_mb'))} MB",
    ]


def measured_table(rows: Iterable[EdgeResult], target: str) -> list[str]:
    """The runs behind a target's figures: what the host measured and what it implies."""
    table = [r for r in (_measured_row(res, target) for res in rows) if r is not None]
    if not table:
        return []
    headers = [
        "measured", "threads", "host p50", "device (95% interval)", "peak RSS", "static est.",
    ]  # fmt: skip
    return [tabulate(table, headers=headers, disable_numparse=True)]


def summary_tables(
    results: Iterable[EdgeResult],
    quiet: bool = False,
    deltas: Iterable[Mapping[str, Any]] = (),
    verbose: bool = False,
) -> list[str]:
    """Lines of text: a one-line verdict, then a table, per target (targets sorted)."""
    by_target: dict[str, list[EdgeResult]] = defaultdict(list)
    for result in results:
        by_target[result.target].append(result)
    index: dict[tuple[str, str], dict[str, Any]] = {}
    regressed_keys: set[tuple[str, str]] = set()
    for d in deltas:
        index[(d["nodeid"], d["metric"])] = d
        if d["status"] == "regressed":
            regressed_keys.add((d["target"], d["nodeid"]))
    lines: list[str] = []
    for target in sorted(by_target):
        rows = by_target[target]
        xfailed = sum(1 for r in rows if not r.passed and r.expected_failure)
        failed = sum(1 for r in rows if not r.passed) - xfailed
        regressed = sum(1 for r in rows if (target, r.nodeid) in regressed_keys)
        verdict = "FAIL" if failed or regressed else "PASS"
        line = f"target {target}: {len(rows) - failed - xfailed} passed, {failed} failed"
        if xfailed:
            line += f", {xfailed} xfailed"
        if deltas:
            line += f", {regressed} regressed"
        lines.append(f"{line} -> {verdict}")
        if quiet:
            table = [
                [
                    _test_name(r.nodeid, target),
                    model_label(r),
                    _verdict(r, (target, r.nodeid) in regressed_keys),
                ]
                for r in rows
            ]
            lines.append(tabulate(table, headers=["test", "model", "verdict"]))
            continue
        shown = [
            m
            for m in COLUMNS
            if any(m in r.metrics or any(v.metric == m for v in r.verdicts) for r in rows)
        ]
        headers = ["test", "model", *shown, "verdict"]
        if verbose:
            headers.append("top operators")
        table = []
        for r in rows:
            row = [_test_name(r.nodeid, target), model_label(r)]
            row += [_cell(r, m, index.get((r.nodeid, m))) for m in shown]
            row.append(_verdict(r, (target, r.nodeid) in regressed_keys))
            if verbose:
                row.append(_top_ops(r))
            table.append(row)
        lines.append(tabulate(table, headers=headers, disable_numparse=True))
        lines.extend(measured_table(rows, target))
        lines.extend(arena_table(rows))
        lines.extend(mcu_terminal_lines(rows))
        lines.extend(workload_table((r, _test_name(r.nodeid, target)) for r in rows))
        notes = sorted({r.notes[0] for r in rows if r.notes})
        lines.extend(f"  note: {n}" for n in notes)
        lines.append("")
    return lines


def regression_lines(comparison: Mapping[str, Any]) -> list[str]:
    """What regressed against the baseline, by how much, plus comparison warnings."""
    if not comparison:
        return []
    entries = comparison.get("entries", [])
    lines = [f"baseline {comparison.get('baseline')}:"]
    regressed = [d for d in entries if d["status"] == "regressed"]
    for d in regressed:
        pct = "" if d.get("delta_pct") is None else f" ({d['delta_pct']:+.1f} %)"
        lines.append(
            f"REGRESSED {d['nodeid']}: {d['metric']} {d['baseline']:.4g} -> {d['current']:.4g}"
            f"{pct}, threshold {d['threshold']}"
        )
    counts = defaultdict(int)
    for d in entries:
        counts[d["status"]] += 1
    lines.append(
        "  " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "  empty"
    )
    lines.extend(f"  warning: incomparable: {w}" for w in comparison.get("warnings", []))
    return lines
