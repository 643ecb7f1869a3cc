"""Per-target tables that fit a laptop screen: metrics grouped into a few columns.

A column per metric made the table wider than a 1280 px window once a model had accuracy
figures; grouping related metrics into one column, one line per metric, keeps the table to
the test, its verdict and at most five metric columns, and a group appears only when some
result of the target has a value or a budget in it.
"""

from __future__ import annotations

from typing import Any

from pytest_edgegate.report.overview import short_metric

#: (title, metrics) in display order; a metric in none of them lands in "other".
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("time & energy", ("latency_ms", "energy_mj", "npu_coverage")),
    ("size & memory", ("size_mb", "params_m", "peak_memory_mb", "flash_mb", "sram_mb")),
    ("compute", ("macs_m", "flops_m")),
    ("accuracy", ("accuracy_drop", "accuracy_drop_rel", "sqnr_db", "top1_agreement")),
)

_LABELS = {"npu_coverage": "NPU coverage", "top1_agreement": "top-1 agreement",
           "peak_memory_mb": "peak memory", "accuracy_drop_rel": "relative drop",
           "accuracy_drop": "accuracy drop", "macs_m": "MACs", "flops_m": "FLOPs",
           "sqnr_db": "SQNR", "flash_mb": "flash", "sram_mb": "SRAM"}  # fmt: skip


def label(metric: str) -> str:
    """A metric's short name in a grouped cell: ``latency``, ``peak memory``, ``MACs``."""
    return _LABELS.get(metric) or short_metric(metric).replace("_", " ")


def group_columns(columns: list[str], units: dict[str, str]) -> list[dict[str, Any]]:
    """The grouped columns of a table: title, the units it shows, and the indices into
    ``columns`` (the per-metric cells of each row) it holds."""
    index = {m: i for i, m in enumerate(columns)}
    placed: set[str] = set()
    groups = []
    for title, metrics in GROUPS:
        mine = [m for m in metrics if m in index]
        placed.update(mine)
        if mine:
            groups.append(_group(title, mine, index, units))
    rest = [m for m in columns if m not in placed]
    if rest:
        groups.append(_group("other", rest, index, units))
    return groups


def _group(title: str, metrics: list[str], index: dict[str, int], units: dict[str, str]):
    seen: list[str] = []
    for m in metrics:
        if units.get(m) and units[m] not in seen:
            seen.append(units[m])
    return {"title": title, "units": " \u00b7 ".join(seen), "index": [index[m] for m in metrics]}
