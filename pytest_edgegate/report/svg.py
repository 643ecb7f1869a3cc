"""Geometry of the report's small inline SVG charts: sparklines, node bars, trade-off plots.

Each function returns numbers and path strings made of numbers only; the templates lay them
out and escape every label, so no chart ever carries markup built from the document.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

SPARK_W, SPARK_H = 64, 16
BAR_W, BAR_ROW, BAR_LABEL = 760, 17, 260
PLOT_W, PLOT_H = 560, 200
_PLOT_PAD = (52, 14, 14, 34)  # left, right, top, bottom


def _r(value: float) -> str:
    """A coordinate with one decimal, without a trailing ``.0``: small, stable output."""
    return f"{round(value, 1):g}"


def sparkline(values: Sequence[float | None]) -> dict[str, Any] | None:
    """A line through the finite values (gaps skipped), the last point marked.

    ``None`` when fewer than two values are known or they never change: a flat line says
    nothing the number beside it does not.
    """
    points = [(i, v) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    if len(points) < 2:
        return None
    lo = min(v for _, v in points)
    hi = max(v for _, v in points)
    if hi - lo <= 1e-12 * max(1.0, abs(hi)):
        return None
    span_x = max(1, len(values) - 1)
    pad = 2.0

    def xy(i: int, v: float) -> tuple[str, str]:
        x = pad + (SPARK_W - 2 * pad) * i / span_x
        y = SPARK_H - pad - (SPARK_H - 2 * pad) * (v - lo) / (hi - lo)
        return _r(x), _r(y)

    coords = [xy(i, v) for i, v in points]
    path = "M" + "L".join(f"{x} {y}" for x, y in coords)
    return {"w": SPARK_W, "h": SPARK_H, "path": path, "cx": coords[-1][0], "cy": coords[-1][1]}


def node_bars(
    rows: Sequence[tuple[str, float, str]], rest: tuple[int, float] | None, fmt: Callable
) -> dict[str, Any] | None:
    """Horizontal bars of estimated time per node: ``rows`` is (label, ms, device).

    ``rest`` is (count, ms) of the nodes not shown, drawn as one grey bar.
    """
    bars = list(rows) + ([(f"{rest[0]} more nodes", rest[1], "rest")] if rest else [])
    if not bars:
        return None
    top = max(t for _, t, _ in bars) or 1.0
    plot = BAR_W - BAR_LABEL - 70
    out = []
    paths: dict[str, str] = {}
    for k, (label, t, device) in enumerate(bars):
        y = 4 + k * BAR_ROW
        w = max(1.0, plot * t / top) if t > 0 else 0.0
        cls = {"npu": "npu", "cpu": "cpu"}.get(device, "rest")
        if w:
            paths[cls] = paths.get(cls, "") + f"M{BAR_LABEL} {y}h{_r(w)}v{BAR_ROW - 4}H{BAR_LABEL}z"
        out.append(
            {
                "label": label if len(label) <= 40 else "\u2026" + label[-39:],
                "ty": y + BAR_ROW - 6,
                "vx": _r(BAR_LABEL + w + 4),
                "value": f"{fmt(t)} ms",
            }
        )
    return {
        "w": BAR_W,
        "h": 8 + len(bars) * BAR_ROW,
        "bars": out,
        "paths": sorted(paths.items()),
        "lx": BAR_LABEL - 6,
    }


def scatter(
    points: Sequence[dict[str, Any]], x_label: str, y_label: str, fmt: Callable
) -> dict[str, Any] | None:
    """A trade-off plot: ``points`` carry ``x``, ``y``, ``label`` and ``cls``.

    The x axis is logarithmic when the values span more than a factor of 20 (a float model
    on a CPU next to its int8 build on an NPU), linear otherwise.
    """
    pts = [p for p in points if p["x"] is not None and p["y"] is not None]
    if len(pts) < 2:
        return None
    left, right, top, bottom = _PLOT_PAD
    xs, ys = [p["x"] for p in pts], [p["y"] for p in pts]
    log_x = min(xs) > 0 and max(xs) / min(xs) > 20
    fx = math.log10 if log_x else (lambda v: v)
    x0, x1 = fx(min(xs)), fx(max(xs))
    y0, y1 = min(ys), max(ys)
    if x1 - x0 <= 1e-12:
        x0, x1 = x0 - 1, x1 + 1
    if y1 - y0 <= 1e-12:
        y0, y1 = y0 - abs(y0) * 0.05 - 1e-3, y1 + abs(y1) * 0.05 + 1e-3
    pw, ph = PLOT_W - left - right, PLOT_H - top - bottom

    def px(v: float) -> float:
        return left + 10 + (pw - 20) * (fx(v) - x0) / (x1 - x0)

    def py(v: float) -> float:
        return top + 8 + (ph - 16) * (1 - (v - y0) / (y1 - y0))

    dots = []
    for p in sorted(pts, key=lambda p: (p["x"], p["y"], p["label"])):
        x, y = px(p["x"]), py(p["y"])
        right_side = x > left + pw * 0.7
        label = p["label"] if len(p["label"]) <= 28 else p["label"][:27] + "\u2026"
        dots.append(
            {
                "x": _r(x),
                "y": _r(y),
                "lx": _r(x - 6 if right_side else x + 6),
                "ly": _r(y + 4),
                "anchor": "end" if right_side else "start",
                "label": label,
                "title": f"{p['label']}: {x_label} {fmt(p['x'])}, {y_label} {fmt(p['y'])}",
                "cls": p["cls"],
            }
        )
    return {
        "w": PLOT_W,
        "h": PLOT_H,
        "left": left,
        "right": PLOT_W - right,
        "top": top,
        "base": PLOT_H - bottom,
        "dots": dots,
        "x_lo": fmt(min(xs)),
        "x_hi": fmt(max(xs)),
        "y_lo": fmt(y0 if y0 == min(ys) else min(ys)),
        "y_hi": fmt(max(ys)),
        "y_lo_y": _r(py(min(ys)) + 4),
        "y_hi_y": _r(py(max(ys)) + 4),
        "x_label": x_label + (" (log scale)" if log_x else ""),
        "y_label": y_label,
        "label_y": PLOT_H - bottom + 16,
        "axis_y": PLOT_H - 4,
    }
