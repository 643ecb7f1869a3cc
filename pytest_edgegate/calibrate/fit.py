"""Fit a profile's cost-model constants on measured latencies and energies.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/calibrate/fit.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from pytest_edgegate.analysis import ModelAnalysis
from pytest_edgegate.calibrate.agreement import fidelity_stats
from pytest_edgegate.costmodel.cpu import cpu_time
from pytest_edgegate.costmodel.estimate import estimate
from pytest_edgegate.costmodel.params import CPU_CLASSES, CostParams
from pytest_edgegate.costmodel.terms import cpu_terms, executed
from pytest_edgegate.profiles import DeviceProfile

__all__ = [
    "CPU_ENERGY_TERMS",
    "CPU_LATENCY_TERMS",
    "DEFAULT_CPU_PRIORS",
    "DEFAULT_NPU_PRIORS",
    "MAX_CACHE_MULTIPLE",
    "NPU_ENERGY_TERMS",
    "NPU_LATENCY_TERMS",
    "FitReport",
    "FitResult",
    "Fixed",
    "Term",
    "Tie",
    "cpu_energy_design",
    "cpu_latency_design",
    "fit_cpu_energy",
    "fit_cpu_latency",
    "fit_linear",
    "fit_npu_energy",
    "fit_npu_latency",
    "nnls",
    "npu_energy_design",
    "npu_latency_design",
    "with_constants",
]

#: ``eff_cache`` is a bandwidth multiple over the profile's DRAM copy rate, bounded by what
#: the cache interfaces can move: on the Cortex-A76, 32 bytes per cycle each way between L1 and
#: L2 ("256-bit write interface to the L2 and a 256-bit read interface from the L2", Arm
#: Cortex-A76 TRM, A6.1.2; WikiChip, "Cortex-A76 - Microarchitectures"), 153.6 GB/s of reads
#: plus writes at 2.4 GHz, 12.7 times the Pi 5's 12.13 GB/s.  The same bound serves every
#: profile (no profile states its cache bandwidth); a fit that ends there says so.
MAX_CACHE_MULTIPLE = 12.0

#: Stands for "infinitely fast" when probing the estimate one term at a time.
_HUGE = 1e30


# --------------------------------------------------------------------------------------------
# Non-negative least squares


def nnls(a: np.ndarray, b: np.ndarray, *, max_iter: int | None = None) -> np.ndarray:
    """``argmin ||a @ x - b||`` subject to ``x >= 0``: Lawson and Hanson's active-set method.

    C. L. Lawson and R. J. Hanson, *Solving Least Squares Problems* (1974), ch. 23: start
    with every variable held at zero; repeatedly free the one whose gradient most wants to
    grow, solve the unconstrained problem on the free set, and step back towards the previous
    point whenever that solution leaves the feasible region.  Finite, deterministic (no
    randomness, a fixed tie-break by index), and exact on well-posed problems.  Columns are
    scaled to unit norm internally, so constants of very different magnitudes (seconds per
    FLOP next to microseconds per node) are treated alike; a zero column gets zero.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.shape != (a.shape[0],):
        raise ValueError(f"nnls: shapes {a.shape} and {b.shape} do not match")
    m, n = a.shape
    norms = np.linalg.norm(a, axis=0)
    scale = np.where(norms > 0, norms, 1.0)
    a = a / scale
    x = np.zeros(n)
    passive = np.zeros(n, dtype=bool)
    usable = norms > 0
    tol = 10 * np.finfo(np.float64).eps * max(m, n) * max(1.0, float(np.abs(a).sum(axis=0).max()))
    limit = max_iter if max_iter is not None else 3 * n + 30
    w = a.T @ (b - a @ x)
    for _ in range(limit):
        candidates = np.where(~passive & usable, w, -np.inf)
        j = int(np.argmax(candidates))
        if candidates[j] <= tol:
            break
        passive[j] = True
        for _inner in range(limit):
            s = np.zeros(n)
            s[passive] = np.linalg.lstsq(a[:, passive], b, rcond=None)[0]
            if np.all(s[passive] > tol):
                break
            blocking = passive & (s <= tol)
            alpha = float(np.min(x[blocking] / (x[blocking] - s[blocking])))
            x = x + alpha * (s - x)
            passive &= x > tol
            x[~passive] = 0.0
        else:  # pragma: no cover - Lawson-Hanson terminates; this guards a degenerate loop
            raise RuntimeError("nnls: inner loop did not converge")
        x = s
        x[~passive] = 0.0
        w = a.T @ (b - a @ x)
    return x / scale


# --------------------------------------------------------------------------------------------
# Terms, priors and the generic fit


@dataclass(frozen=True)
class Term:
    """One column of a design: a ``[costmodel]`` key and how the model uses it.

    ``inverse``: the model divides by the constant (an efficiency), so the column's
    coefficient is ``1 / value``; ``maximum`` is then the largest physical value (an
    efficiency of at most 1), i.e. a lower bound ``1 / maximum`` on the coefficient.  A column
    is in the target's unit per unit of coefficient (a microsecond constant's column counts
    events times 1e-6 s), so the coefficient is the ``[costmodel]`` value itself.
    """

    key: str
    inverse: bool = False
    maximum: float | None = None

    @property
    def lower(self) -> float:
        if self.inverse and self.maximum:
            return 1.0 / self.maximum
        return 0.0

    def value(self, coef: float) -> float:
        """The ``[costmodel]`` value of a fitted coefficient."""
        if not self.inverse:
            return coef
        return math.inf if coef <= 0 else 1.0 / coef


@dataclass(frozen=True)
class Fixed:
    """Prior: when the data cannot identify a term, set it to ``value`` (reason documented)."""

    value: float
    reason: str


@dataclass(frozen=True)
class Tie:
    """Prior: when the data cannot identify a term, give it the fitted value of term ``to``.

    Used for the efficiency of the nearest operator class: the term's column joins ``to``'s,
    so both share one coefficient (a Gemm priced at the 1x1 convolution's efficiency).
    """

    to: str
    reason: str


Prior = Fixed | Tie

CPU_LATENCY_TERMS: tuple[Term, ...] = (
    *(Term(f"eff_{c}", inverse=True, maximum=1.0) for c in CPU_CLASSES),
    Term("eff_cache", inverse=True, maximum=MAX_CACHE_MULTIPLE),
    Term("eff_dram", inverse=True, maximum=1.0),
    Term("dispatch_us"),
    Term("fixed_us"),
)
CPU_ENERGY_TERMS: tuple[Term, ...] = (
    Term("energy_compute_w"),
    Term("energy_memory_w"),
    Term("energy_static_w"),
)
NPU_LATENCY_TERMS: tuple[Term, ...] = (
    Term("npu_eff_mac", inverse=True, maximum=1.0),
    Term("npu_eff_vector", inverse=True, maximum=1.0),
    Term("npu_dispatch_us"),
    Term("npu_fixed_us"),
    Term("transfer_fixed_us"),
)
NPU_ENERGY_TERMS: tuple[Term, ...] = (
    Term("npu_pj_per_mac"),
    Term("npu_pj_per_vector_op"),
    Term("npu_pj_per_sram_byte"),
    Term("npu_pj_per_dram_byte"),
    Term("npu_static_w"),
)

#: Priors for CPU terms the data may not identify, in the order they are given up.
DEFAULT_CPU_PRIORS: dict[str, Prior] = {
    "eff_gemm": Tie(
        "eff_pointwise", "a Gemm is a 1x1 convolution over a 1x1 map: same kernel, same efficiency"
    ),
    "eff_depthwise": Tie(
        "eff_vector",
        "a depthwise convolution is an average pool with learned weights: the same per-channel "
        "stencil and memory access as the pooling the vector class is fitted on",
    ),
    "eff_dram": Fixed(
        1.0,
        "the profile's bandwidth is a measured single-core copy rate, so data that misses the "
        "cache is assumed to move at that rate",
    ),
    "eff_cache": Fixed(1.0, "no cache effect assumed: cache-resident data at the DRAM rate"),
    "eff_pointwise": Tie("eff_conv", "a 1x1 convolution priced like a dense convolution"),
    "eff_vector": Fixed(1.0, "elementwise work at the CPU's peak (no data for it)"),
    "dispatch_us": Fixed(0.0, "no per-node overhead identifiable"),
    "fixed_us": Fixed(0.0, "no per-inference overhead identifiable"),
}

#: Priors for NPU terms, in the order they are given up.
DEFAULT_NPU_PRIORS: dict[str, Prior] = {
    "npu_fixed_us": Fixed(
        0.0,
        "a whole-graph NPU run always crosses the host boundary twice (input, output), so a "
        "per-invocation cost cannot be told from a per-hop one; it is charged per hop "
        "(transfer_fixed_us): each NPU partition is one invocation",
    ),
    "transfer_fixed_us": Fixed(0.0, "no per-hop cost identifiable"),
    "npu_dispatch_us": Fixed(0.0, "no per-node overhead identifiable"),
    "npu_eff_vector": Fixed(1.0, "other operators at the NPU's peak (no data for them)"),
}


@dataclass(frozen=True)
class FitReport:
    """What a fit did: on which rows, which terms it fitted and which priors set the rest.

    ``stats`` are the fidelity statistics on the rows it was fitted on (MAPE, shares within
    +-10 % and +-20 %, Kendall's tau); ``at_bound`` lists fitted terms that ended at a
    physical bound (an efficiency of exactly 1, a power of 0): the data wanted more.
    """

    target: str
    n: int
    fitted: tuple[str, ...]
    priors: dict[str, str]
    at_bound: tuple[str, ...]
    stats: dict[str, float]
    condition: float

    def lines(self) -> list[str]:
        """A few human-readable lines for a script's output."""
        s = self.stats
        out = [
            f"{self.target}: n={self.n}, fitted {', '.join(self.fitted) or 'nothing'}; on the "
            f"fitted rows MAPE {s['mape_pct']:.2f} %, {s['within_10_pct']:.1f} % within +-10 %, "
            f"{s['within_20_pct']:.1f} % within +-20 %, tau {s['kendall_tau']:.3f}; "
            f"condition {self.condition:.3g}"
        ]
        out += [f"  prior {k}: {v}" for k, v in self.priors.items()]
        if self.at_bound:
            out.append(f"  at a physical bound: {', '.join(self.at_bound)}")
        return out


@dataclass(frozen=True)
class FitResult:
    """Fitted ``[costmodel]`` constants (``constants``) and the :class:`FitReport`."""

    constants: dict[str, float]
    report: FitReport
    predicted: np.ndarray = field(repr=False)


def _effective_design(
    x: np.ndarray, terms: Sequence[Term], free: Sequence[str], ties: Mapping[str, str]
) -> np.ndarray:
    """Columns of the free terms, each with the columns tied to it added in."""
    col = {t.key: k for k, t in enumerate(terms)}
    out = np.zeros((x.shape[0], len(free)))
    for j, key in enumerate(free):
        out[:, j] = x[:, col[key]]
    for key, to in ties.items():
        root = _root(to, ties)
        if root in free:
            out[:, list(free).index(root)] += x[:, col[key]]
    return out


def _root(key: str, ties: Mapping[str, str]) -> str:
    seen = set()
    while key in ties and key not in seen:
        seen.add(key)
        key = ties[key]
    return key


def fit_linear(
    x: np.ndarray,
    offset: np.ndarray,
    measured: np.ndarray,
    terms: Sequence[Term],
    *,
    priors: Mapping[str, Prior] | None = None,
    forced: Mapping[str, Prior] | None = None,
    target: str = "",
    rcond: float = 1e-7,
) -> FitResult:
    """Fit ``measured ~ offset + x @ coef`` in relative error, with bounds and priors.

    ``x`` has one column per term of ``terms`` (in that order), in the target's unit per unit
    of coefficient.  ``forced`` priors always apply; ``priors`` apply to terms the data cannot
    identify, tried in the mapping's order: a term whose column is zero, or that takes part in
    a (near) collinearity of the relatively weighted, unit-norm columns (smallest singular
    value below ``rcond`` times the largest), gets its prior; a collinearity among terms
    without a prior is left to NNLS and shows in ``condition``.
    """
    priors = dict(priors or {})
    forced = dict(forced or {})
    measured = np.asarray(measured, dtype=np.float64)
    if x.shape != (measured.size, len(terms)) or offset.shape != measured.shape:
        raise ValueError("fit_linear: design, offset and measured values do not match")
    if measured.size == 0 or not np.all(np.isfinite(measured) & (measured > 0)):
        raise ValueError("fit_linear: measured values must be finite and positive")
    w = 1.0 / measured
    xw = x * w[:, None]
    target_w = (measured - offset) * w  # = 1 - offset / measured
    applied: dict[str, Prior] = {}
    applied.update(forced)
    keys = [t.key for t in terms]

    def state() -> tuple[list[str], dict[str, str]]:
        ties = {k: p.to for k, p in applied.items() if isinstance(p, Tie)}
        free = [k for k in keys if k not in applied]
        return free, ties

    while True:
        free, ties = state()
        xe = _effective_design(xw, terms, free, ties)
        norms = np.linalg.norm(xe, axis=0)
        zero = [k for k, nrm in zip(free, norms, strict=True) if nrm == 0]
        # A zero column with a prior takes it; one without stays at its bound (reported).
        give_up = next((k for k in priors if k in zero and k not in applied), None)
        if give_up is None:
            live = [k for k, nrm in zip(free, norms, strict=True) if nrm > 0]
            if len(live) > 1:
                unit = xe[:, [free.index(k) for k in live]]
                unit = unit / np.linalg.norm(unit, axis=0)
                _, sv, vt = np.linalg.svd(unit, full_matrices=False)
                if sv[-1] < rcond * sv[0]:
                    v = np.abs(vt[-1])
                    involved = {k for k, c in zip(live, v, strict=True) if c > 0.05 * v.max()}
                    give_up = next((k for k in priors if k in involved and k not in applied), None)
        if give_up is None:
            break
        applied[give_up] = priors[give_up]

    free, ties = state()
    term_of = {t.key: t for t in terms}
    xe = _effective_design(xw, terms, free, ties)
    # Fixed priors move to the offset; lower bounds by substitution c = lower + z, z >= 0.
    rhs = target_w.copy()
    for key, p in applied.items():
        if isinstance(p, Fixed):
            coef = _coef_of_value(term_of[key], p.value)
            rhs -= coef * xw[:, keys.index(key)]
    for key in ties:  # a term tied to a fixed one is fixed with it
        root = _root(key, ties)
        if root not in free and isinstance(applied.get(root), Fixed):
            rhs -= _coef_of_value(term_of[key], applied[root].value) * xw[:, keys.index(key)]
    lower = np.array([term_of[k].lower for k in free])
    rhs_z = rhs - xe @ lower
    z = nnls(xe, rhs_z) if free else np.zeros(0)
    coef = lower + z
    values: dict[str, float] = {}
    for k, c in zip(free, coef, strict=True):
        values[k] = term_of[k].value(float(c))
    for key, p in applied.items():
        if isinstance(p, Fixed):
            values[key] = p.value
    for key in ties:
        values[key] = values[_root(key, ties)]
    full = np.array([_coef_of_value(term_of[k], values[k]) for k in keys])
    predicted = offset + x @ full
    live_norms = np.linalg.norm(xe, axis=0) if free else np.zeros(0)
    cond = math.inf
    if free and np.all(live_norms > 0):
        sv = np.linalg.svd(xe / live_norms, compute_uv=False)
        cond = float(sv[0] / sv[-1]) if sv[-1] > 0 else math.inf
    at_bound = tuple(k for k, zz in zip(free, z, strict=True) if zz <= 0)
    reasons = {k: _describe(p) for k, p in applied.items()}
    report = FitReport(
        target=target,
        n=int(measured.size),
        fitted=tuple(free),
        priors=reasons,
        at_bound=at_bound,
        stats=fidelity_stats(predicted, measured),
        condition=cond,
    )
    return FitResult(values, report, predicted)


def _describe(prior: Prior) -> str:
    if isinstance(prior, Fixed):
        return f"fixed at {prior.value:g}: {prior.reason}"
    return f"= {prior.to}: {prior.reason}"


def _coef_of_value(term: Term, value: float) -> float:
    if not term.inverse:
        return value
    return 0.0 if math.isinf(value) else 1.0 / value


# --------------------------------------------------------------------------------------------
# Designs


def with_constants(profile: DeviceProfile, constants: Mapping[str, Any]) -> DeviceProfile:
    """``profile`` with its ``[costmodel]`` table replaced by ``constants`` (for estimating)."""
    raw = dict(profile.raw)
    raw["costmodel"] = dict(constants)
    return replace(profile, raw=raw)


def _per_unique(
    analyses: Sequence[ModelAnalysis], row: Callable[[ModelAnalysis], np.ndarray]
) -> np.ndarray:
    """``row(a)`` for each analysis, computed once per distinct object (repeats are common)."""
    cache: dict[int, np.ndarray] = {}
    out = []
    for a in analyses:
        key = id(a)
        if key not in cache:
            cache[key] = row(a)
        out.append(cache[key])
    return np.array(out, dtype=np.float64)


def cpu_latency_design(analyses: Sequence[ModelAnalysis], profile: DeviceProfile) -> np.ndarray:
    """Columns of :data:`CPU_LATENCY_TERMS` in seconds, one row per analysis.

    Row = the network's summed :func:`~pytest_edgegate.costmodel.terms.cpu_terms` at the
    fitted thread count: compute seconds at peak per class, cache and DRAM seconds at the
    profile's bandwidth, dispatches (x 1e-6 s per microsecond) and one fixed microsecond.
    """
    index = {c: k for k, c in enumerate(CPU_CLASSES)}
    n_cls = len(CPU_CLASSES)

    def row(a: ModelAnalysis) -> np.ndarray:
        r = np.zeros(len(CPU_LATENCY_TERMS))
        for node in executed(a.nodes):
            t = cpu_terms(node, profile)
            if t is None:
                raise ValueError(
                    f"profile {profile.id} has no peak throughput for {node.compute_dtype} "
                    f"(node {node.name or node.op_type} of {a.name})"
                )
            r[index[t.cls]] += t.compute_s_at_peak
            r[n_cls] += t.cache_s_at_bw
            r[n_cls + 1] += t.dram_s_at_bw
            r[n_cls + 2] += t.dispatch * 1e-6
        r[n_cls + 3] = 1e-6
        return r

    return _per_unique(analyses, row)


def fit_cpu_latency(
    analyses: Sequence[ModelAnalysis],
    measured_ms: Sequence[float] | np.ndarray,
    profile: DeviceProfile,
    *,
    threads: int = 1,
    priors: Mapping[str, Prior] | None = None,
    forced: Mapping[str, Prior] | None = None,
) -> FitResult:
    """CPU efficiencies, dispatch and fixed overhead from latencies measured at ``threads``.

    The returned constants include ``threads`` (the thread count they hold at); the caller
    adds ``parallel_fraction``, which single-thread-count data cannot give.
    """
    x = cpu_latency_design(analyses, profile)
    measured = np.asarray(measured_ms, dtype=np.float64) / 1e3
    result = fit_linear(
        x,
        np.zeros(len(measured)),
        measured,
        CPU_LATENCY_TERMS,
        priors=DEFAULT_CPU_PRIORS if priors is None else priors,
        forced=forced,
        target=f"{profile.id} latency",
    )
    constants = {"threads": threads, **result.constants}
    return replace(result, constants=constants, predicted=result.predicted * 1e3)


def cpu_energy_design(
    analyses: Sequence[ModelAnalysis], profile: DeviceProfile, constants: Mapping[str, Any]
) -> np.ndarray:
    """Columns of :data:`CPU_ENERGY_TERMS`: compute, memory and overhead seconds per network.

    The times are the fitted latency model's own split (``constants``, at its thread count),
    so an energy constant is a power: joules = watts x the seconds the model spends there.
    """
    params = CostParams.from_table(dict(constants))

    def row(a: ModelAnalysis) -> np.ndarray:
        r = np.zeros(3)
        for node in executed(a.nodes):
            t = cpu_time(node, profile, params, params.threads)
            if t is None:
                raise ValueError(f"profile {profile.id} cannot price {node.compute_dtype}")
            r += (t.compute_s, t.memory_s, t.overhead_s)
        return r

    return _per_unique(analyses, row)


def fit_cpu_energy(
    analyses: Sequence[ModelAnalysis],
    measured_mj: Sequence[float] | np.ndarray,
    profile: DeviceProfile,
    constants: Mapping[str, Any],
    *,
    priors: Mapping[str, Prior] | None = None,
) -> FitResult:
    """``energy_compute_w``, ``energy_memory_w``, ``energy_static_w`` from measured energies."""
    x = cpu_energy_design(analyses, profile, constants)
    measured = np.asarray(measured_mj, dtype=np.float64) / 1e3
    fallback = {
        "energy_memory_w": Tie("energy_compute_w", "memory time priced at the compute power"),
        "energy_static_w": Tie("energy_compute_w", "overhead time priced at the compute power"),
    }
    result = fit_linear(
        x,
        np.zeros(len(measured)),
        measured,
        CPU_ENERGY_TERMS,
        priors=fallback if priors is None else priors,
        target=f"{profile.id} energy",
    )
    return replace(result, predicted=result.predicted * 1e3)


def _probe(
    analysis: ModelAnalysis,
    profile: DeviceProfile,
    base: Mapping[str, Any],
    terms: Sequence[Term],
    metric: str,
) -> np.ndarray:
    """``[offset, column_1, ...]`` of one analysis, read off :func:`estimate` (SI units).

    The model is linear in each term's coefficient, so the estimate with every probed
    coefficient at zero is the offset, and raising one coefficient to 1 adds its column.
    """
    threads = int(base.get("threads", 1))

    def value(table: Mapping[str, Any]) -> float:
        e = estimate(analysis, with_constants(profile, table), threads=threads)
        v = e.latency_ms if metric == "latency" else e.energy_mj
        if v is None:
            raise ValueError(f"profile {profile.id}: no {metric} for {analysis.name}")
        return v / 1e3

    zero = dict(base)
    for t in terms:
        zero[t.key] = _HUGE if t.inverse else 0.0
    offset = value(zero)
    out = [offset]
    for t in terms:
        probe = dict(zero)
        probe[t.key] = 1.0
        out.append(value(probe) - offset)
    return np.array(out)


def _npu_design(
    analyses: Sequence[ModelAnalysis],
    profile: DeviceProfile,
    constants: Mapping[str, Any],
    terms: Sequence[Term],
    metric: str,
) -> tuple[np.ndarray, np.ndarray]:
    rows = _per_unique(analyses, lambda a: _probe(a, profile, constants, terms, metric))
    return rows[:, 0], rows[:, 1:]


def _fit_npu(
    metric: str,
    analyses: Sequence[ModelAnalysis],
    measured_milli: Sequence[float] | np.ndarray,
    profile: DeviceProfile,
    constants: Mapping[str, Any],
    priors: Mapping[str, Prior],
    forced: Mapping[str, Prior] | None,
) -> FitResult:
    """One NPU fit: the design of ``metric``'s terms, NNLS, predictions back in ms or mJ."""
    terms = NPU_LATENCY_TERMS if metric == "latency" else NPU_ENERGY_TERMS
    offset, x = _npu_design(analyses, profile, constants, terms, metric)
    measured = np.asarray(measured_milli, dtype=np.float64) / 1e3
    result = fit_linear(
        x, offset, measured, terms, priors=priors, forced=forced,
        target=f"{profile.id} NPU {metric}",
    )  # fmt: skip
    return replace(result, predicted=result.predicted * 1e3)


def npu_latency_design(
    analyses: Sequence[ModelAnalysis], profile: DeviceProfile, constants: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """``(offset, columns of NPU_LATENCY_TERMS)`` in seconds, one row per analysis.

    ``constants`` holds the host CPU's constants (they price the nodes placed on the CPU and
    go into the offset, with the link's transfer time) and ``npu_pool_as_conv``.
    """
    return _npu_design(analyses, profile, constants, NPU_LATENCY_TERMS, "latency")


def fit_npu_latency(
    analyses: Sequence[ModelAnalysis],
    measured_ms: Sequence[float] | np.ndarray,
    profile: DeviceProfile,
    constants: Mapping[str, Any],
    *,
    priors: Mapping[str, Prior] | None = None,
    forced: Mapping[str, Prior] | None = None,
) -> FitResult:
    """NPU efficiencies and overheads from latencies of networks placed (mostly) on the NPU."""
    priors = DEFAULT_NPU_PRIORS if priors is None else priors
    return _fit_npu("latency", analyses, measured_ms, profile, constants, priors, forced)


def npu_energy_design(
    analyses: Sequence[ModelAnalysis], profile: DeviceProfile, constants: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """``(offset, columns of NPU_ENERGY_TERMS)`` in joules, one row per analysis.

    The columns are MACs and other operations on the NPU, bytes its nodes move, bytes over
    the link or streamed from DRAM (each x 1e-12 J per pJ), and NPU seconds (x 1 W); the
    offset is the host CPU's energy for what it runs.  ``constants`` must hold the fitted
    latency constants and the host's energy constants.
    """
    return _npu_design(analyses, profile, constants, NPU_ENERGY_TERMS, "energy")


def fit_npu_energy(
    analyses: Sequence[ModelAnalysis],
    measured_mj: Sequence[float] | np.ndarray,
    profile: DeviceProfile,
    constants: Mapping[str, Any],
    *,
    priors: Mapping[str, Prior] | None = None,
    forced: Mapping[str, Prior] | None = None,
) -> FitResult:
    """NPU energy per MAC, per other op, per on-chip and off-chip byte, and static power."""
    return _fit_npu("energy", analyses, measured_mj, profile, constants, priors or {}, forced)
