"""Paired rounds: the model, the calibration kernels and the reference networks, interleaved
run by run, one thread.

Why interleaved.  The host's speed drifts while a child runs: another tenant starts, the
clock steps, the neighbours' memory traffic comes and goes.  A host-to-device translation
that divides the model's time by speeds measured in another window inherits every drift
between the two windows.  Interleaving one model run with one run of each kernel, round after
round, samples both over the same window.

Why one thread.  The ratio the translation needs is how efficiently the runtime executes
this model's nodes on one core compared with the kernels' roofline; the device's own
parallelism comes from its profile (fitted on the device's measurements), not from the
host, whose core count is not the device's anyway.  And a single thread is what a shared
host disturbs least: on this 2-core host (five fresh processes per cell, a busy process on
the other core for "loaded"), the ratio moved by 0.993-1.010 loaded/idle at one thread and
by 1.02-1.13 at two, with a spread across processes of 1.2-4 % against 3-24 %.
Multi-threaded CPU time carries the cost of waking and synchronising workers, which is
exactly what a neighbour disturbs.

Why the lower decile.  Disturbances only ever slow a run, so each series (the model, each
kernel) is a floor plus a right tail whose weight changes from minute to minute with the
neighbours.  The tail is not shared fairly: the small compute kernels slow more than a large
model under the same contention, and the memory-bound kernel follows other tenants' memory
traffic, which the model barely feels.  A per-round ratio inherits all of that.  Over eight
fresh processes per model and phase (a one-off experiment of 2026-11-21, recorded in the
issue 3 note), the median of per-round ratios varied by 4-12 % between processes, the ratio
of each series' 10th percentile by 1.6-3.8 % (standard deviation 0.5-1.3 %), loaded/idle
0.990-0.994.  ``bench/stability.py --estimators F`` repeats the comparison on any run of the
benchmark (the minimum is as good in some runs and worse in others: one lucky sample).

Why reference networks.  Even at their deciles, kernels and a model answer a neighbour
differently; three NAS-Bench-201 networks (:data:`.calibration.REFERENCE_ARCHS`) timed in the
same rounds answer it like the model, and the device estimate is exact on that family, so the
translation uses the model's ratio over theirs (:mod:`pytest_edgegate.translate`), the three
summed round by round into one workload: a steadier decile than any one of them, and no
choice among them to flip between processes.  Measured (``bench/stability.py``, 2026-11-21,
five runs made after the sum was chosen on three earlier ones; five fresh processes per
model and phase): the emulated latency's spread over five processes under 3 % in 28 of 30
cells (median 2.2 %; 3.9 and 4.1 % in the other two), loaded/idle 0.983-1.014, while the raw
host p50 spread 3-40 % and moved 1.5-2.0x under load; RMS standard deviation across processes
0.91 % with the sum, 1.05 % with the middle network's ratio, 1.16 % without references
(``--estimators`` on the same rounds).  Against the Pi 5 (``bench/translation.py``): MAPE
9.0 % instead of 11.8 % without them.

How long.  Rounds continue until the ratio's ~95 % interval is within ``rel_ci`` (1 %) of
it, or the time cap, with at least ``MIN_ROUNDS`` (3); an interval counts only from 53 rounds
on, where the decile's interval stops reaching down to the minimum (ten tight rounds taken
in a quiet second would otherwise stop the loop with a biased decile).  The interval
combines the series' order-statistic intervals of their deciles (:func:`ratio_estimate`).
The stopping rule needs the model's work by kernel kind (``work``: FLOPs of float and int8
products, streamed bytes, nodes), which the parent computes from the static analysis;
without it the rounds run to the cap.

This module is the child's and the parent's common ground: pure arithmetic on plain data
next to the loop that produces it, so both compute the ratio the same way.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from pytest_edgegate.runner.stats import proper_interval_size, quantile_ci

#: Intra-op threads of the paired rounds (model and kernels alike); see the module docstring.
PAIRED_THREADS = 1
#: Fewest rounds, even past the cap: the decile of fewer runs is just their minimum.  A model
#: taking seconds per run gets no more than that, so the child stays within its timeout.
MIN_ROUNDS = 3
#: Rounds before the first precision check (no interval is proper before 53 anyway).
FIRST_CHECK = 10
MAX_ROUNDS = 2000
#: Target half-width of the ratio's 95 % interval, relative to the ratio.
PAIRED_REL_CI = 0.01
#: Which quantile of each series (model, kernels) the ratio uses: the lower decile.
QUANTILE = 0.1

#: The calibration kernel that measures the host's speed at each kind of work, and what of
#: that kernel's work counts (FLOPs for the compute kernels, bytes for the streaming one).
#: Quantized MACs have kernels of their own, and so has the runtime's fixed cost of a ``run``
#: call and of each node (see :mod:`.calibration`): without them a small model, whose time
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


def _cpu_ms(run: Callable[[], object]) -> float:
    start = time.process_time_ns()
    run()
    return (time.process_time_ns() - start) / 1e6


def paired_rounds(
    run_model: Callable[[], object],
    time_cap_s: float,
    work: Mapping[str, float] | None = None,
    rel_ci: float = PAIRED_REL_CI,
    references: bool = True,
) -> dict:
    """CPU milliseconds per round of the model, each kernel and each reference network, plus
    the kernels' and the references' work.

    ``run_model`` must already use ``PAIRED_THREADS`` threads and be warm.
    """
    from pytest_edgegate.runner.calibration import kernel_models, reference_networks, work_units
    from pytest_edgegate.runner.session import create_session

    networks = reference_networks() if references else []
    wanted = needed(work)
    for _name, _model, _feeds, ref_work in networks:
        wanted |= needed(ref_work)
    kernels: list[tuple[str, Any, dict]] = []
    kernel_work: dict[str, dict[str, int]] = {}
    for name, _description, flops, nbytes, nodes, model, feeds in kernel_models():
        if name not in wanted:
            continue
        session = create_session(model, PAIRED_THREADS)
        session.run(None, feeds)  # warm-up
        kernels.append((name, session, feeds))
        kernel_work[name] = work_units(flops, nbytes, nodes)
    for name, model, feeds, _work in networks:
        session = create_session(model, PAIRED_THREADS)
        session.run(None, feeds)  # warm-up
        kernels.append((name, session, feeds))
    rounds: dict[str, list[float]] = {"model": [], **{k[0]: [] for k in kernels}}
    reference_work = {name: dict(ref_work) for name, _m, _f, ref_work in networks}
    record = {"cpu_ms": rounds, "work": kernel_work, "references": reference_work}
    converged = False
    start = time.perf_counter()
    deadline = start + time_cap_s
    next_check = FIRST_CHECK
    while len(rounds["model"]) < MAX_ROUNDS:
        rounds["model"].append(_cpu_ms(run_model))
        for name, session, feeds in kernels:
            rounds[name].append(_cpu_ms(lambda s=session, f=feeds: s.run(None, f)))
        n = len(rounds["model"])
        if n < MIN_ROUNDS:
            continue
        if work is not None and n >= next_check:
            next_check = n + max(1, n // 10)
            try:
                converged = is_precise(ratio_estimate(record, work), rel_ci)
            except (ZeroDivisionError, ValueError):
                converged = False
            if converged:
                break
        if time.perf_counter() > deadline:
            break
    return {
        "threads": PAIRED_THREADS,
        "rounds": len(rounds["model"]),
        "converged": converged,
        "rel_ci": rel_ci,
        "time_cap_s": time_cap_s,
        "elapsed_s": round(time.perf_counter() - start, 6),
        "cpu_ms": {k: [round(v, 6) for v in vs] for k, vs in rounds.items()},
        "work": kernel_work,
        "references": reference_work,
    }
