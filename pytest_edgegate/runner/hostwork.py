"""The host-work arithmetic of the translation: kernel speeds, modelled times, decile ratios.

Pure functions on plain data (numpy only): the child that times the rounds
(:mod:`pytest_edgegate.runner.paired`) and the parent that translates them
(:mod:`.device`) compute the ratio the same way.  Why deciles, references and one thread:
``docs/translation.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from pytest_edgegate.runner.stats import proper_interval_size, quantile_ci

#: Each series' quantile the ratio is taken at: the floor under the neighbours' tail.
QUANTILE = 0.1


def work_units(flops: int, bytes_moved: int, nodes: int) -> dict[str, int]:
    """A kernel's work in every unit a speed can be expressed in (the units of
    :data:`KERNELS`): one ``run`` call of ``nodes`` nodes."""
    return {"flops": flops, "bytes": bytes_moved, "nodes": nodes, "calls": 1}


#: The calibration kernel that measures the host's speed at each kind of work, and what of
#: that kernel's work counts (FLOPs for the compute kernels, bytes for the streaming one).
#: Quantized MACs have kernels of their own, and so has the runtime's fixed cost of a ``run``
#: call and of each node (see :mod:`pytest_edgegate.runner.host_speed`): without them a small
#: model, whose time
#: is mostly that overhead, would get a ratio of 5 and more, which the device's estimate
#: (with its own dispatch term) would then multiply.
KERNELS = {
    "conv": ("conv3x3", "flops"),
    "gemm": ("gemm", "flops"),
    "conv_int8": ("conv3x3_int8", "flops"),
    "gemm_int8": ("gemm_int8", "flops"),
    "stream": ("stream_add", "bytes"),
    "call": ("call", "calls"),
    "dispatch": ("dispatch", "nodes"),
}


def needed(work: Mapping[str, float] | None) -> set[str]:
    """The kernels a model's work needs (all of them when the work is unknown)."""
    kinds = KERNELS if work is None else [k for k in KERNELS if work.get(k, 0) > 0]
    return {KERNELS[k][0] for k in kinds}


def kernel_speeds(cpu_ms: Mapping[str, float], work: Mapping[str, Mapping[str, int]]) -> dict:
    """Speeds per CPU-second of the kernels that ran (from their CPU time and work)."""
    return {
        kind: work[kernel][unit] / (cpu_ms[kernel] * 1e-3)
        for kind, (kernel, unit) in KERNELS.items()
        if kernel in cpu_ms
    }


def modelled_ms(work: Mapping[str, float], speeds: Mapping[str, float]) -> float:
    """Milliseconds the model's ``work`` takes at ``speeds`` (the host's roofline); raises
    ``KeyError`` when a kind of work has no measured speed."""
    return sum(amount / speeds[kind] for kind, amount in work.items() if amount > 0) * 1e3


def round_ratios(paired: Mapping[str, Any], work: Mapping[str, float]) -> list[float]:
    """Per round, the model's CPU time over the time that round's kernels imply: the
    estimator this module replaced, kept for ``bench/stability.py --estimators``."""
    cpu = paired["cpu_ms"]
    return [
        model_ms
        / modelled_ms(work, kernel_speeds({k: v[r] for k, v in cpu.items()}, paired["work"]))
        for r, model_ms in enumerate(cpu["model"])
    ]


def _deciles(cpu: Mapping[str, Sequence[float]], q: float) -> tuple[dict, dict, dict]:
    """Each series' ``q`` quantile and the relative distances of its interval's two ends."""
    point: dict[str, float] = {}
    below: dict[str, float] = {}
    above: dict[str, float] = {}
    for name, values in cpu.items():
        arr = np.sort(np.asarray(values, dtype=np.float64))
        point[name] = float(np.quantile(arr, q))
        lo, hi = quantile_ci(arr, q)
        below[name], above[name] = (
            (point[name] - lo) / point[name],
            (hi - point[name]) / point[name],
        )
    return point, below, above


def _roofline(
    series: str, work: Mapping[str, float], point: Mapping[str, float], speeds: Mapping
) -> tuple[float, dict[str, float]]:
    """A series' time over the modelled time of its work, and each kernel's share of that."""
    parts = {kind: amount / speeds[kind] for kind, amount in work.items() if amount > 0}
    total = sum(parts.values())
    shares = {KERNELS[kind][0]: part / total for kind, part in parts.items()}
    return point[series] / (total * 1e3), shares


REFERENCES = "references"


def _with_references(paired: Mapping[str, Any]) -> tuple[dict, dict[str, float]]:
    """The rounds' series with the reference networks summed round by round into one series
    (:data:`REFERENCES`), and the summed work of those networks (empty without them)."""
    cpu = dict(paired["cpu_ms"])
    references = paired.get("references") or {}
    if not references:
        return cpu, {}
    cpu[REFERENCES] = list(np.sum([cpu.pop(name) for name in references], axis=0))
    work: dict[str, float] = {}
    for ref_work in references.values():
        for kind, amount in ref_work.items():
            work[kind] = work.get(kind, 0.0) + amount
    return cpu, work


def ratio_estimate(
    paired: Mapping[str, Any], work: Mapping[str, float], q: float = QUANTILE
) -> dict[str, float]:
    """The model's lower-decile CPU time over the time the kernels' lower deciles imply,
    divided by the same figure of the reference networks when the rounds ran them.

    With references (``paired["references"]``: name -> work), the model's ratio is divided
    by the references' ratio, the three networks taken as one workload (their times summed
    round by round, their work summed): the device's estimate is right on that family (the
    profiles are fitted on it), so only how the model departs from it on this host carries
    over to the device.  One summed series has a steadier decile than any one network, and
    no choice among them to flip from process to process: over 18 cells of five fresh
    processes (three runs of ``bench/stability.py``, 2026-11-21) the standard deviation of
    the ratio was 0.92 % with the sum against 1.10 % with the middle network's ratio.
    The ~95 % interval combines, in quadrature, the relative half-widths of the deciles'
    order-statistic intervals (:func:`stats.quantile_ci`) of the model, of the references
    and of each kernel, a kernel weighted by the difference of its shares in the two
    modelled times (the kernels divide out where the model and the references do the same
    kind of work); with ``s`` that combination on each side, the interval is
    ``[ratio / (1 + s_low), ratio * (1 + s_high)]``, positive however wide.
    Raises ``KeyError``/``ZeroDivisionError``/``TypeError``/``ValueError`` on a malformed
    record; callers reading stored results catch them.
    """
    cpu, ref_work = _with_references(paired)
    point, below, above = _deciles(cpu, q)
    speeds = kernel_speeds(point, paired["work"])
    model_ratio, model_shares = _roofline("model", work, point, speeds)
    ref_ratio, ref_shares, ref_below, ref_above = 1.0, {}, 0.0, 0.0
    if ref_work:
        ref_ratio, ref_shares = _roofline(REFERENCES, ref_work, point, speeds)
        ref_below, ref_above = below[REFERENCES], above[REFERENCES]
    kernels = set(model_shares) | set(ref_shares)
    weight = {k: model_shares.get(k, 0.0) - ref_shares.get(k, 0.0) for k in kernels}

    def spread(model_side: float, ref_side: float) -> float:
        # slower kernels lower the model's ratio and raise the reference's: the larger end
        kernel = sum((weight[k] * max(below[k], above[k])) ** 2 for k in kernels)
        return math.sqrt(model_side**2 + ref_side**2 + kernel)

    ratio = model_ratio / ref_ratio
    out = {
        "ratio": ratio,
        # divided, not multiplied by (1 - s): a wide interval stays above zero
        "ci_low": ratio / (1 + spread(below["model"], ref_above)),
        "ci_high": ratio * (1 + spread(above["model"], ref_below)),
        "quantile": q,
        "rounds": len(cpu["model"]),
    }
    if ref_work:
        out.update(model_ratio=model_ratio, reference_ratio=ref_ratio)
    return out


def is_precise(estimate: Mapping[str, float], rel_ci: float) -> bool:
    """Both ends of the ratio's interval are within ``rel_ci`` of it, and there are enough
    rounds for the interval to be a proper one (:func:`stats.proper_interval_size`)."""
    if estimate["rounds"] < proper_interval_size(estimate["quantile"]):
        return False
    r = estimate["ratio"]
    return max(r - estimate["ci_low"], estimate["ci_high"] - r) <= rel_ci * r
