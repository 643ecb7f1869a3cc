"""How reports show the runtime that runs a model, and what it measured (TFLite Micro arena).

Read from a result's ``details["runtime"]`` (see ``formats/deploy.py``): plain data, the same
for every format; a result without it (an older baseline, an error) shows nothing extra.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pytest_edgegate.edge_result import EdgeResult

DEFAULT_RUNTIME = "onnxruntime"
KIB = 1024


def runtime_of(details: Any) -> dict[str, Any]:
    runtime = details.get("runtime") if isinstance(details, dict) else None
    return runtime if isinstance(runtime, dict) else {}


def model_label(result: EdgeResult) -> str:
    """The model's name, with its runtime when it is not onnxruntime: ``m.tflite (litert)``."""
    name = runtime_of(result.details).get("runtime")
    if isinstance(name, str) and name != DEFAULT_RUNTIME:
        return f"{result.model} ({name})"
    return result.model


def _kib(value: Any) -> str:
    return f"{int(value):,} B" if isinstance(value, (int, float)) else "n/a"


def _bound(result: EdgeResult, metric: str) -> str:
    for v in result.verdicts:
        if v.metric == metric and v.keyword == "device":
            return f"{v.bound * 1e6 / KIB:.0f} KiB" + ("" if v.passed else " FAIL")
    return "n/a"


def arena_rows(results: Iterable[EdgeResult]) -> list[list[str]]:
    """One row per result whose runtime measured an arena: test, arena, SRAM, flash."""
    rows = []
    for r in results:
        rt = runtime_of(r.details)
        if "arena_bytes" not in rt:
            continue
        recorded = rt.get("tflm_recorded_bytes")
        rows.append(
            [
                r.nodeid.split("::", 1)[-1],
                str(rt.get("runtime", "?")),
                _kib(rt.get("arena_bytes"))
                + (f" (TFLM records {_kib(recorded)})" if recorded else ""),
                _bound(r, "sram_mb"),
                _kib(rt.get("flash_bytes")),
                _bound(r, "flash_mb"),
            ]
        )
    return rows


def arena_table(results: Iterable[EdgeResult]) -> list[str]:
    from tabulate import tabulate

    rows = arena_rows(results)
    if not rows:
        return []
    headers = ["runtime memory", "runtime", "arena (SRAM need)", "SRAM", "flash need", "flash"]
    return [tabulate(rows, headers=headers, disable_numparse=True)]


def runtime_pairs(details: Any) -> list[tuple[str, str]]:
    """Label/value pairs for the HTML report: format, runtime, and its measured memory."""
    rt = runtime_of(details)
    labels = (
        ("format", "model format"),
        ("runtime", "runtime"),
        ("arena_bytes", "tensor arena (SRAM need)"),
        ("tflm_recorded_bytes", "TFLite Micro's recorded arena"),
        ("arena_fails_at_bytes", "arena that fails"),
        ("flash_bytes", "flash need (model + runtime code)"),
    )
    out = []
    for key, label in labels:
        value = rt.get(key)
        if isinstance(value, str):
            out.append((label, value))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out.append((label, _kib(value)))
    return out
