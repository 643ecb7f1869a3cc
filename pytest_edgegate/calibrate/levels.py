"""Calibrating a shape-model base profile: per-class levels on its shape constants.

A base whose ``[costmodel]`` carries the shape model's constants (per-kernel efficiencies,
small-shape penalties, per-node thread split) keeps their structure; the measurements fit
one level per group of constants (:data:`GROUPS`), which divides the group's efficiencies
and multiplies its penalties and overheads.  ``fixed_us`` is fitted as itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pytest_edgegate.calibrate import fit

#: Level -> the ``[costmodel]`` constants it scales (efficiencies are divided by it, the
#: others multiplied).  The groups are the classes of ``edgegate calibrate``'s per-class fit.
GROUPS: dict[str, tuple[str, ...]] = {
    "conv": ("eff_conv", "eff_winograd", "eff_grouped"),
    "pointwise": ("eff_pointwise",),
    "depthwise": ("eff_depthwise",),
    "gemm": ("eff_gemm",),
    "vector": ("eff_vector", "eff_elementwise", "eff_pool", "eff_resize", "eff_norm", "eff_data"),
    "small_shape": ("small_m", "small_n", "small_k", "small_m_winograd"),
    "cache": ("eff_cache",),
    "dram": ("eff_dram",),
    "dispatch": ("dispatch_us", "sync_us"),
}
#: Constants only the shape model has; a base with any of them is calibrated by levels.
SHAPE_KEYS = (
    "eff_winograd", "eff_grouped", "eff_elementwise", "eff_pool", "eff_resize", "eff_norm",
    "eff_data", "small_m", "small_n", "small_k", "small_m_winograd", "parallel_grain_mflop",
)  # fmt: skip
#: The largest physical value of an efficiency (the catalogue's bounds, bench/fitting/
#: realdev.py): no kernel beats the peak, except Winograd, which does less arithmetic than
#: the direct convolution its FLOPs count; the cache at most MAX_CACHE_MULTIPLE x the DRAM
#: copy rate.
MAXIMUM = {"eff_winograd": 9.0, "eff_cache": fit.MAX_CACHE_MULTIPLE}
_HUGE = 1e30


@dataclass(frozen=True)
class LevelTerm(fit.Term):
    """A level: a plain multiplier, at least ``floor`` (so that no efficiency of its group
    passes its physical maximum)."""

    floor: float = 0.0

    @property
    def lower(self) -> float:
        return self.floor


def level_terms(table: Mapping[str, Any]) -> tuple[fit.Term, ...]:
    """The terms fitted on a base: one level per group, and ``fixed_us`` itself."""
    out: list[fit.Term] = []
    for group, keys in GROUPS.items():
        floor = max(
            (float(table[k]) / MAXIMUM.get(k, 1.0) for k in keys
             if k.startswith("eff_") and table.get(k) is not None),
            default=0.0,
        )  # fmt: skip
        out.append(LevelTerm(f"level_{group}", floor=floor))
    return (*out, fit.Term("fixed_us"))


#: The term names (bounds aside).
LEVEL_TERMS = level_terms({})


def is_shape_table(table: Mapping[str, Any]) -> bool:
    """Whether a ``[costmodel]`` table carries the shape model's constants."""
    return any(table.get(k) is not None for k in SHAPE_KEYS)


def apply(table: Mapping[str, Any], levels: Mapping[str, float]) -> dict[str, Any]:
    """``table`` with each ``level_<group>`` of ``levels`` folded into its constants (a
    level of 0 makes the group free: efficiencies infinite, penalties zero)."""
    out = dict(table)
    for term, level in levels.items():
        if term == "fixed_us":
            out["fixed_us"] = level
            continue
        for key in GROUPS[term.removeprefix("level_")]:
            value = table.get(key)
            if value is None:
                continue
            if key.startswith("eff_"):
                out[key] = _HUGE if level == 0 else value / level
            else:
                out[key] = value * level
    return out


def base_levels(table: Mapping[str, Any]) -> dict[str, float]:
    """The base's own point: every level 1, ``fixed_us`` its value."""
    return {t.key: 1.0 if t.key != "fixed_us" else float(table.get("fixed_us", 0.0))
            for t in LEVEL_TERMS}  # fmt: skip


def constants_of(term: str, table: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``[costmodel]`` keys a level term stands for (those the base has)."""
    if term == "fixed_us":
        return ("fixed_us",)
    return tuple(k for k in GROUPS[term.removeprefix("level_")] if table.get(k) is not None)


def per_constant(terms: Sequence[str], table: Mapping[str, Any]) -> tuple[str, ...]:
    """Level terms named by the constants they scale, in order."""
    return tuple(k for t in terms for k in constants_of(t, table))


def probe(value, table: Mapping[str, Any]) -> np.ndarray:
    """``[offset, column_1, ...]`` of one model: ``value(table)`` (seconds) with every level
    at zero, and what setting one level to 1 adds (the estimate is linear in each level)."""
    zero = apply(table, {t.key: 0.0 for t in LEVEL_TERMS})
    offset = value(zero)
    cols = [value(apply(table, {**{t.key: 0.0 for t in LEVEL_TERMS}, term.key: 1.0})) - offset
            for term in LEVEL_TERMS]  # fmt: skip
    return np.array([offset, *cols])
