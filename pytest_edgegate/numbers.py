"""How a number is printed for people: one formatter for the terminal table, the HTML report
and the budget messages, so the same figure reads the same everywhere."""

from __future__ import annotations

import math


def format_number(value: float | int | None, *, aligned: bool = False) -> str:
    """``0.2903``, ``23.45``, ``12,345``, ``1.5e-05``; ``n/a`` for None.

    Four significant figures between 0.001 and 1000, thousands separators above, scientific
    notation below; ``NaN`` and ``∞`` print as such.  ``aligned`` (durations side by side,
    e.g. an interval's two ends) fixes the decimals per magnitude instead: ``150.1, 153.0``
    rather than ``150.1, 153``.
    """
    if value is None:
        return "n/a"
    v = float(value)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "\u221e" if v > 0 else "-\u221e"
    a = abs(v)
    if aligned:
        if a >= 100:
            return f"{v:.1f}"
        if a >= 1:
            return f"{v:.2f}"
        return f"{v:.3g}"
    if v == 0:
        return "0"
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 0.001:
        return f"{v:.4g}"
    return f"{v:.3g}"
