"""Latency statistics and the adaptive timing loop.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/runner/stats.py``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Z_95 = 1.959963984540054

#: Fewest timed runs before convergence is even checked: the order-statistic interval is
#: undefined below 7 samples and too coarse to trust below about 10.
MIN_RUNS = 10

#: Most timed runs ever taken, so that a microsecond model with a long cap stays bounded.
MAX_RUNS = 100_000


def quantile_ci(sorted_values: Sequence[float] | np.ndarray, q: float) -> tuple[float, float]:
    """The ~95 % order-statistic confidence interval of the ``q`` quantile of sorted samples.

    Ranks ``floor(nq - z*sqrt(nq(1-q)))`` and ``ceil(1 + nq + z*sqrt(nq(1-q)))`` (1-based,
    normal approximation of Binomial(n, q)); where a rank falls outside the samples, the
    interval extends to that end of the range.
    """
    n = len(sorted_values)
    if n == 0:
        return (math.nan, math.nan)
    half_width = Z_95 * math.sqrt(n * q * (1 - q))
    lo_rank = math.floor(n * q - half_width)  # 1-based
    hi_rank = math.ceil(1 + n * q + half_width)
    lo = sorted_values[lo_rank - 1] if lo_rank >= 1 else sorted_values[0]
    hi = sorted_values[hi_rank - 1] if hi_rank <= n else sorted_values[-1]
    return (float(lo), float(hi))


def proper_interval_size(q: float) -> int:
    """The fewest samples whose ``q`` quantile has a proper order-statistic interval (its low
    rank inside the samples): 53 for the lower decile, 8 for the median.  Fewer samples can
    look tight by luck, their interval reaching down to the minimum."""
    n = 1
    while math.floor(n * q - Z_95 * math.sqrt(n * q * (1 - q))) < 1:
        n += 1
    return n


def median_ci(sorted_ns: Sequence[int] | np.ndarray) -> tuple[float, float]:
    """The ~95 % order-statistic confidence interval of the median of sorted samples.

    With fewer than 7 samples no rank pair achieves 95 %, so the full range is returned.
    """
    n = len(sorted_ns)
    if n == 0:
        return (math.nan, math.nan)
    lo, hi = quantile_ci(sorted_ns, 0.5)
    if math.floor(n / 2 - Z_95 * math.sqrt(n) / 2) < 1:
        return (float(sorted_ns[0]), float(sorted_ns[-1]))
    return (lo, hi)


def is_converged(sorted_ns: Sequence[int] | np.ndarray, rel_ci: float) -> bool:
    """Both ends of the median's interval are within ``rel_ci`` of the median."""
    if len(sorted_ns) < MIN_RUNS:
        return False
    median = float(np.median(sorted_ns))
    lo, hi = median_ci(sorted_ns)
    return max(median - lo, hi - median) <= rel_ci * median


@dataclass(frozen=True)
class TimingStats:
    """Summary of one series of timed runs, in milliseconds.

    ``mad_ms`` is the median absolute deviation and ``iqr_ms`` the inter-quartile range: the
    spread figures that a few descheduled runs do not inflate, unlike ``std_ms``.
    ``converged`` says whether the CI target was met before ``time_cap_s``.
    """

    n_runs: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    min_ms: float
    max_ms: float
    mean_ms: float
    std_ms: float
    mad_ms: float
    iqr_ms: float
    ci_low_ms: float
    ci_high_ms: float
    converged: bool
    rel_ci: float
    time_cap_s: float
    elapsed_s: float
    #: The runs themselves (sorted, at most MAX_SAMPLES evenly spaced ones), for the reports'
    #: latency distribution chart.
    samples_ms: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, float | int | bool]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict) -> TimingStats:
        return cls(**data)


def summarize(
    samples_ns: Sequence[int], *, rel_ci: float, time_cap_s: float, elapsed_s: float
) -> TimingStats:
    """Summary statistics of ``samples_ns`` (nanoseconds), converted to milliseconds."""
    if not samples_ns:
        raise ValueError("no timed runs to summarize")
    arr = np.sort(np.asarray(samples_ns, dtype=np.float64))
    ms = arr / 1e6
    median = float(np.median(ms))
    lo, hi = median_ci(ms)
    q25, q75, p90, p99 = (float(v) for v in np.percentile(ms, [25, 75, 90, 99]))
    return TimingStats(
        n_runs=len(ms),
        p50_ms=median,
        p90_ms=p90,
        p99_ms=p99,
        min_ms=float(ms[0]),
        max_ms=float(ms[-1]),
        mean_ms=float(ms.mean()),
        std_ms=float(ms.std(ddof=1)) if len(ms) > 1 else 0.0,
        mad_ms=float(np.median(np.abs(ms - median))),
        iqr_ms=q75 - q25,
        ci_low_ms=lo,
        ci_high_ms=hi,
        converged=is_converged(arr, rel_ci),
        rel_ci=rel_ci,
        time_cap_s=time_cap_s,
        elapsed_s=elapsed_s,
        samples_ms=tuple(round(float(v), 6) for v in _spread(ms)),
    )


MAX_SAMPLES = 500


def _spread(sorted_ms: np.ndarray) -> np.ndarray:
    """At most MAX_SAMPLES values that keep the shape of the distribution (even quantiles)."""
    if len(sorted_ms) <= MAX_SAMPLES:
        return sorted_ms
    index = np.linspace(0, len(sorted_ms) - 1, MAX_SAMPLES).round().astype(int)
    return sorted_ms[index]


def time_repeatedly(
    run: Callable[[], object], *, rel_ci: float, time_cap_s: float, min_runs: int = MIN_RUNS
) -> tuple[TimingStats, TimingStats]:
    """Call ``run`` until the median's CI is within ``rel_ci`` or ``time_cap_s`` has passed.

    Returns the wall-clock statistics and the CPU-time statistics of the same runs.  Each
    wall sample is the whole call, timed with ``perf_counter_ns``, as a user of the model
    would time it; the CPU sample is the process CPU time (all threads, user + system,
    ``process_time_ns``) the call consumed.  With thread spinning off, CPU time counts the
    work done and not the time a thread waited for a core, so it is the figure a loaded
    machine disturbs least.  The stopping rule follows the wall clock.

    At least one run is always taken, even past the cap.  Convergence is checked after
    ``min_runs`` runs and then every ~10 % more runs, so the check's sort stays negligible
    next to the runs themselves.
    """
    wall: list[int] = []
    cpu: list[int] = []
    clock = time.perf_counter_ns
    cpu_clock = time.process_time_ns
    start = clock()
    deadline = start + int(time_cap_s * 1e9)
    next_check = min_runs
    while True:
        c0 = cpu_clock()
        t0 = clock()
        run()
        t1 = clock()
        c1 = cpu_clock()
        wall.append(t1 - t0)
        cpu.append(c1 - c0)
        n = len(wall)
        if t1 >= deadline or n >= MAX_RUNS:
            break
        if n >= next_check:
            if is_converged(np.sort(np.asarray(wall)), rel_ci):
                break
            next_check = n + max(1, n // 10)
    elapsed = (clock() - start) / 1e9
    return (
        summarize(wall, rel_ci=rel_ci, time_cap_s=time_cap_s, elapsed_s=elapsed),
        summarize(cpu, rel_ci=rel_ci, time_cap_s=time_cap_s, elapsed_s=elapsed),
    )
