"""Fit and validate the shape-aware CPU cost model on ncnn's benchmark table.

Rows: ncnn's ``benchncnn`` table (Tencent/ncnn@a4d2ea1 ``benchmark/README.md``, parsed as
``ncnn/ncnn_benchmark.csv.gz`` of the real-device data set), CPU rows of Arm Cortex-A boards
whose cores the row's ``powersave`` setting pins to one core type.  Each row's network is
rebuilt from its ``.param`` (:mod:`.ncnn_param`) and analysed; each board becomes a synthetic
profile from its core type's per-cycle peaks (:data:`CORES`), clock and core count; the
constants are fitted by non-negative least squares in relative error, per core group, with
the thread-scaling pair chosen on a small grid.  Validation holds out one board (device
block) or one network at a time.  Two row rules hold for every core group: one unpinned
thread on a big.LITTLE SoC is a big-core row (:data:`UNPINNED_ONE_THREAD`), and a device block
inconsistent with its same-core peers is left out (:data:`ANOMALY_FACTOR`).  No Raspberry Pi,
Pixel or Coral row is in the table (data README), and :func:`load_rows` refuses any that
would be.
"""

from __future__ import annotations

import csv
import gzip
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.fitting.ncnn_param import convert_file
from pytest_edgegate.analysis import ModelAnalysis, analyze
from pytest_edgegate.calibrate.fit import MAX_CACHE_MULTIPLE
from pytest_edgegate.costmodel import estimate
from pytest_edgegate.costmodel.cpu import shape_terms
from pytest_edgegate.costmodel.kernels import useful_threads
from pytest_edgegate.costmodel.params import CostParams
from pytest_edgegate.costmodel.terms import executed
from pytest_edgegate.profiles import DeviceProfile, validate
from pytest_edgegate.profiles.catalogue import build_profile

#: ncnn table source, as the profiles cite it.
SOURCE = (
    "ncnn benchmark table (Tencent/ncnn@a4d2ea1d benchmark/README.md, benchncnn CPU rows, "
    "ncnn default options: fp16 arithmetic on ARMv8.2 cores, Winograd 3x3)"
)


@dataclass(frozen=True)
class Core:
    """Per-core figures of a core type: peak ops per cycle and the cache the data sees."""

    fp32: int  # FLOP per cycle (FMA = 2)
    fp16: int | None  # FLOP per cycle with ARMv8.2 FP16 arithmetic, None without it
    int8: int  # int8 ops per cycle (MAC = 2)
    cache_kib: int
    group: str


#: Per-cycle peaks from each core's Software Optimization Guide (Arm): NEON issue width and
#: FMA/SDOT throughput.  A53/A55: one 64-bit FMA pipe (2 fp32 lanes); A57/A72/A73: one
#: 128-bit FMA per cycle; A76/A78: two 128-bit pipes; SDOT (ARMv8.2) counts 4 MACs per lane.
#: The cache is the last level a core sees on typical SoCs of its type (an assumption that
#: only sets where a node's data counts as cached).
CORES: dict[str, Core] = {
    "A53": Core(fp32=4, fp16=None, int8=8, cache_kib=512, group="A53"),
    "A55": Core(fp32=4, fp16=8, int8=16, cache_kib=512, group="A55"),
    "A57": Core(fp32=8, fp16=None, int8=16, cache_kib=2048, group="A72"),
    "A72": Core(fp32=8, fp16=None, int8=16, cache_kib=1024, group="A72"),
    "A73": Core(fp32=8, fp16=None, int8=16, cache_kib=1024, group="A72"),
    "A76": Core(fp32=16, fp16=32, int8=64, cache_kib=2048, group="A76"),
    "A78": Core(fp32=16, fp16=32, int8=64, cache_kib=2048, group="A78"),
}
#: Nominal DRAM bandwidth of the synthetic board profiles, GB/s: the table gives none, and
#: ncnn stores fp16 and overlaps loads with arithmetic, so a memory term summed onto the
#: compute cannot be identified; an upper bound for these boards (LPDDR5 class) keeps it
#: small.  The written profiles carry the fitted shares onto their own measured bandwidth
#: (an assumption: a board with less bandwidth pays for its memory traffic).
NOMINAL_BANDWIDTH_GBPS = 64.0

#: Networks left out, and why.
EXCLUDED = {
    "vision_transformer": "the analysis counts no MACs for the attention products",
}

#: The constants the fit solves for, in the units of :func:`cpu.shape_terms`' coefficients.
TERMS = (
    "eff_conv",
    "eff_winograd",
    "eff_pointwise",
    "eff_grouped",
    "eff_depthwise",
    "eff_gemm",
    "eff_elementwise",
    "eff_pool",
    "eff_resize",
    "eff_norm",
    "eff_data",
    "small_m",
    "small_n",
    "small_k",
    "small_m_winograd",
    "eff_cache",
    "eff_dram",
    "dispatch_us",
    "sync_us",
)
COMPUTE_TERMS = {t for t in TERMS if t not in ("eff_cache", "eff_dram", "dispatch_us", "sync_us")}
GRAINS_MFLOP = (0.25, 1.0, 4.0)
#: Parallel shares (Amdahl, per node: :func:`~pytest_edgegate.costmodel.kernels.useful_threads`).
EFFICIENCIES = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0)
FORBIDDEN = re.compile(r"raspberry|\bpi\s*[345]\b|pixel(?!_)|coral|edge\s*tpu", re.I)


@dataclass(frozen=True)
class Row:
    board: str  # the device block's header: one board as benchmarked
    core: str
    ghz: float
    cores: int  # cores of the cluster the row runs on
    threads: int
    model: str
    input_whc: tuple[int, int, int]
    ms: float
    line: int


_CLUSTER = re.compile(
    r"(?:Cortex-|Quad Core |Big Cortex-)?(A\d\d)(?:AE)?\s*(?:\(ARMv82\)\s*)?(?:@\s*)?"
    r"([\d.]+)\s*GHz\s*(?:[x*]\s*(\d+))?",
    re.I,
)


_UNKNOWN_CPU = re.compile(r"\bX\d\b|X1|X4|Denver|Kryo|Kyro|Carmel|A\d\d\d", re.I)


def clusters(description: str) -> list[tuple[str, float, int]]:
    """(core, GHz, count) of each cluster a ``cpu_description`` names, in its order."""
    out = []
    for part in description.split("+"):
        m = _CLUSTER.search(part)
        if m is None:
            continue
        count = int(m.group(3)) if m.group(3) else (4 if "quad" in part.lower() else 1)
        out.append((m.group(1).upper(), float(m.group(2)), count))
    return out


def _cluster_for(
    description: str, powersave: str, threads: int | None = None
) -> tuple[str, float, int] | None:
    """The cluster a row ran on: all cores of a one-type SoC, or the little (1) or big (2)
    cluster of a two-cluster one; one unpinned thread (powersave 0) on a two-cluster SoC runs
    on a big core (:data:`UNPINNED_ONE_THREAD`); ``None`` when that is ambiguous or not a
    known core."""
    if any(_UNKNOWN_CPU.search(part) for part in description.split("+")):
        return None
    found = clusters(description)
    if not found or any(c not in CORES for c, _, _ in found):
        return None
    if len({c for c, _, _ in found}) == 1 and powersave == "0":
        core, ghz, _ = found[0]
        return core, max(g for _, g, _ in found), sum(n for _, _, n in found)
    if len(found) == 2 and (powersave in ("1", "2") or (powersave == "0" and threads == 1)):
        big, little = sorted(found, key=lambda c: (CORES[c[0]].fp32, c[1]), reverse=True)
        return little if powersave == "1" else big
    return None


#: One thread with ``powersave`` 0 on a two-cluster SoC: the scheduler (Linux EAS, Android's
#: HMP) runs a busy thread on a big core, so the row is a big-core row.  Checked on the data
#: by :func:`unpinned_check`: the RK3588 rows (the only ones of known cores) are 3.1x the
#: same block's four-big-core rows, where a little core would be ~3x slower again.
UNPINNED_ONE_THREAD = True

#: A device block is *anomalous*, and left out of the fit and the validation, when for every
#: (core type, precision) set of its rows that can be checked, its times are more than
#: ``ANOMALY_FACTOR`` away (geometric mean over the networks) from the median of at least
#: two other blocks with the same cores at the same clock, thread count and network: a whole
#: board running slow or fast on every kernel (float and int8, big and little cores alike),
#: which no datasheet figure can predict.  Applied alike to every core group
#: (:func:`anomalous_blocks`).
ANOMALY_FACTOR = 1.5


def _read_rows(data_dir: Path) -> list[Row]:
    """Every CPU row of a known single cluster, float and int8, refusing validation devices."""
    path = data_dir / "ncnn" / "ncnn_benchmark.csv.gz"
    rows = []
    with gzip.open(path, "rt", newline="") as fh:
        for r in csv.DictReader(fh):
            if FORBIDDEN.search(r["device_header"] + " " + r["board"]):
                raise ValueError(f"{path}: row {r['line_number']} is a validation-set device")
            if r["processor"] != "cpu" or r["gpu_device"] not in ("-1", ""):
                continue
            model = r["model"]
            if model in EXCLUDED or "-" in model:
                continue
            if not (data_dir / "ncnn" / r["param_file"]).is_file():
                continue
            threads = int(r["threads"])
            cluster = _cluster_for(
                r["cpu_description"], r["powersave"], threads if UNPINNED_ONE_THREAD else None
            )
            if cluster is None or not r["avg_ms"]:
                continue
            core, ghz, count = cluster
            w, h, c = (int(v) for v in r["input_shape_whc"].split("x"))
            rows.append(
                Row(
                    board=r["device_header"],
                    core=core,
                    ghz=ghz,
                    cores=count,
                    threads=min(threads, count),
                    model=model,
                    input_whc=(w, h, c),
                    ms=float(r["avg_ms"]),
                    line=int(r["line_number"]),
                )
            )
    return rows


def block_deviation(rows: Sequence[Row]) -> dict[tuple[str, str, bool], tuple[int, float]]:
    """Per (board, core, int8): how many rows have >= 2 peer blocks (same core, clock, cores,
    threads, network) and the geometric mean of the row's time over the peers' median."""
    by: dict[tuple, dict[str, list[float]]] = {}
    for r in rows:
        key = (r.core, r.ghz, r.cores, r.threads, r.model)
        by.setdefault(key, {}).setdefault(r.board, []).append(r.ms)
    logs: dict[tuple[str, str, bool], list[float]] = {}
    for r in rows:
        peers = {
            b: float(np.median(v))
            for b, v in by[(r.core, r.ghz, r.cores, r.threads, r.model)].items()
            if b != r.board
        }
        if len(peers) >= 2:
            key = (r.board, r.core, r.model.endswith("_int8"))
            logs.setdefault(key, []).append(math.log(r.ms / float(np.median(list(peers.values())))))
    return {k: (len(v), math.exp(float(np.mean(v)))) for k, v in logs.items()}


def anomalous_blocks(rows: Sequence[Row]) -> list[str]:
    """The anomalous device blocks (see :data:`ANOMALY_FACTOR`), worst first, one at a time:
    each found block is set aside before the next is looked for, so that it cannot make its
    peers look anomalous."""
    rows = list(rows)
    found: list[str] = []
    while True:
        dev = block_deviation(rows)
        per_block: dict[str, list[float]] = {}
        for (board, _, _), (_, ratio) in dev.items():
            per_block.setdefault(board, []).append(abs(math.log(ratio)))
        limit = math.log(ANOMALY_FACTOR)
        bad = {b: min(v) for b, v in per_block.items() if min(v) > limit}
        if not bad:
            return found
        worst = max(bad, key=lambda b: bad[b])
        found.append(worst)
        rows = [r for r in rows if r.board != worst]


def load_rows(data_dir: Path, *, int8: bool = False, keep_anomalous: bool = False) -> list[Row]:
    """The usable CPU rows (float networks unless ``int8``), refusing validation-set devices
    and, unless ``keep_anomalous``, without the :func:`anomalous_blocks`."""
    every = _read_rows(data_dir)
    drop = set() if keep_anomalous else set(anomalous_blocks(every))
    return [r for r in every if r.model.endswith("_int8") == int8 and r.board not in drop]


def unpinned_check(rows: Sequence[Row]) -> list[tuple[str, float]]:
    """Per block with one-thread rows unpinned on a two-cluster SoC (:data:`UNPINNED_ONE_THREAD`)
    : the geometric mean of those rows' times over the same block's rows at the big cluster's
    full thread count (``cores`` if the thread ran on a big core at full scaling)."""
    out = []
    for board in dict.fromkeys(r.board for r in rows):
        mine = [r for r in rows if r.board == board]
        one = {r.model: r.ms for r in mine if r.threads == 1}
        full = {r.model: r.ms for r in mine if r.threads == r.cores > 1 and r.core == mine[0].core}
        common = sorted(set(one) & set(full))
        if common and len({r.core for r in mine}) == 1:
            out.append(
                (board, math.exp(float(np.mean([math.log(one[m] / full[m]) for m in common]))))
            )
    return out


class Networks:
    """Each benchmark network rebuilt and analysed once per input size."""

    def __init__(self, data_dir: Path):
        self.params = data_dir / "ncnn" / "params"
        self.cache: dict[tuple[str, tuple[int, int, int]], ModelAnalysis] = {}
        self.unsupported: dict[str, list[str]] = {}

    def get(self, model: str, whc: tuple[int, int, int]) -> ModelAnalysis:
        key = (model, whc)
        if key not in self.cache:
            conv = convert_file(self.params / f"{model}.param", whc)
            self.unsupported[model] = conv.unsupported
            self.cache[key] = analyze(conv.model)
        return self.cache[key]


def board_profile(
    core: str, ghz: float, cores: int, constants: dict | None = None, runtime: str = "ncnn"
) -> DeviceProfile:
    """A synthetic profile of ``cores`` cores of type ``core`` at ``ghz``."""
    spec = CORES[core]
    mhz = ghz * 1000
    throughput = {
        "fp32_gflops": cores * ghz * spec.fp32,
        "int8_gops": cores * ghz * spec.int8,
    }
    if spec.fp16:
        throughput["fp16_gflops"] = cores * ghz * spec.fp16
    raw = {
        "id": f"{core.lower()}-{mhz:g}x{cores}",
        "version": "fit",
        "name": f"{cores}x Cortex-{core} @ {mhz:g} MHz",
        "kind": "cpu",
        "runtime": runtime,
        "cpu": {"cores": cores, "clock_mhz": mhz, "l2_cache_kib": spec.cache_kib},
        "memory": {"ram_mib": 1024, "bandwidth_gbps": NOMINAL_BANDWIDTH_GBPS},
        "throughput": throughput,
        "costmodel": dict(constants or {}),
        "sources": {"cpu": "synthetic board of bench/fitting/realdev.py"},
    }
    return build_profile(validate(raw, raw["id"]), "bench/fitting/realdev.py")


def _node_table(analysis: ModelAnalysis, profile: DeviceProfile) -> tuple[np.ndarray, np.ndarray]:
    """Per node: the quantities of :data:`TERMS` at one thread, and the node's FLOPs."""
    params = CostParams.from_table({"threads": 1, "parallel_grain_mflop": 1.0})
    nodes = executed(analysis.nodes)
    q = np.zeros((len(nodes), len(TERMS)))
    flops = np.zeros(len(nodes))
    index = {t: k for k, t in enumerate(TERMS)}
    for i, node in enumerate(nodes):
        terms = shape_terms(node, profile, params, 1)
        if terms is None:
            raise ValueError(f"{profile.id}: no peak for {node.compute_dtype}")
        for name, value in terms.items():
            q[i, index[name]] = value
        flops[i] = node.flops
    return q, flops


class Design:
    """The fit's design matrix for any thread-scaling pair, from per-node tables."""

    def __init__(self, rows: Sequence[Row], networks: Networks):
        self.rows = list(rows)
        self.tables: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        for r in self.rows:
            key = (r.model, r.input_whc, r.core, r.ghz, r.cores)
            if key not in self.tables:
                profile = board_profile(r.core, r.ghz, r.cores)
                self.tables[key] = _node_table(networks.get(r.model, r.input_whc), profile)
        self.keys = [(r.model, r.input_whc, r.core, r.ghz, r.cores) for r in self.rows]
        self.y = np.array([r.ms * 1e-3 for r in self.rows])

    def matrix(self, grain_mflop: float, efficiency: float) -> np.ndarray:
        compute = np.array([t in COMPUTE_TERMS for t in TERMS])
        sync = TERMS.index("sync_us")
        dispatch = TERMS.index("dispatch_us")
        x = np.zeros((len(self.rows), len(TERMS)))
        for i, (r, key) in enumerate(zip(self.rows, self.keys, strict=True)):
            q, flops = self.tables[key]
            split = np.array(
                [useful_threads(f, r.threads, grain_mflop * 1e6, efficiency) for f in flops]
            )
            scaled = q.copy()
            scaled[:, compute] /= split[:, None]
            if r.threads > 1:
                scaled[:, sync] = scaled[:, dispatch]
            x[i] = scaled.sum(axis=0)
        x[:, dispatch] *= 1e-6
        x[:, sync] *= 1e-6
        return x


#: Constants each core group gets on top of the shared ones (the rest are shared by all
#: groups, as shares of each core's own peak): the big convolution kernels and the per-node
#: overhead, where cores differ most; the other kinds have too few rows per group to tell.
GROUP_TERMS = ("eff_conv", "eff_winograd", "eff_pointwise", "eff_depthwise", "dispatch_us")


@dataclass(frozen=True)
class Fit:
    coef: np.ndarray  # shared TERMS, then GROUP_TERMS for each of ``groups``
    groups: tuple[str, ...]
    grain_mflop: float
    efficiency: tuple[float, ...]  # per group

    def vector(self, group: str) -> np.ndarray:
        """The coefficients of :data:`TERMS` for one core group."""
        v = self.coef[: len(TERMS)].copy()
        if group in self.groups:
            start = len(TERMS) + self.groups.index(group) * len(GROUP_TERMS)
            for k, term in enumerate(GROUP_TERMS):
                v[TERMS.index(term)] += self.coef[start + k]
        return v

    def constants(self, group: str) -> dict[str, float]:
        """The ``[costmodel]`` table of a core group (efficiencies as 1 / coefficient)."""
        table: dict[str, float] = {"threads": 1}
        for name, c in zip(TERMS, self.vector(group), strict=True):
            table[name] = _sig(1.0 / c) if name.startswith("eff_") else _sig(c)
        table["eff_vector"] = table["eff_elementwise"]
        table["parallel_grain_mflop"] = self.grain_mflop
        table["parallel_efficiency"] = self.efficiency[self.groups.index(group)]
        table["parallel_fraction"] = 0.0
        table["fixed_us"] = 0.0
        return table


def _sig(v: float, digits: int = 4) -> float:
    return float(f"{v:.{digits}g}")


#: Lower bounds of the coefficients: no kernel beats its core's peak (1 / eff >= 1), except
#: Winograd, which does less arithmetic than the direct convolution its FLOPs count; a memory
#: constant is at most MAX_CACHE_MULTIPLE (cache) or 1 (DRAM) times the nominal bandwidth;
#: the rest are >= 0.
LOWER = np.array(
    [
        1.0 if t in COMPUTE_TERMS and t.startswith("eff_") and t != "eff_winograd" else 0.0
        for t in TERMS
    ]
)
LOWER[TERMS.index("eff_winograd")] = 1.0 / 9.0
LOWER[TERMS.index("eff_cache")] = 1.0 / MAX_CACHE_MULTIPLE
LOWER[TERMS.index("eff_dram")] = 1.0


def nnls_gram(gram: np.ndarray, rhs: np.ndarray, tol: float = 1e-12) -> np.ndarray:
    """``argmin |a x - b|, x >= 0`` from ``gram = a'a`` and ``rhs = a'b``: Lawson and Hanson's
    active set on the normal equations (Bro and De Jong's fast NNLS, J. Chemometrics 1997)."""
    n = len(rhs)
    x = np.zeros(n)
    passive = np.zeros(n, bool)
    w = rhs - gram @ x
    for _ in range(3 * n):
        candidates = np.where(~passive & (w > tol))[0]
        if candidates.size == 0:
            break
        passive[candidates[np.argmax(w[candidates])]] = True
        while True:
            idx = np.where(passive)[0]
            z = np.zeros(n)
            z[idx] = np.linalg.lstsq(gram[np.ix_(idx, idx)], rhs[idx], rcond=None)[0]
            if np.all(z[idx] > 0):
                x = z
                break
            neg = idx[z[idx] <= 0]
            alpha = np.min(x[neg] / (x[neg] - z[neg]))
            x = x + alpha * (z - x)
            passive &= x > tol
            x[~passive] = 0.0
        w = rhs - gram @ x
    return x


class Grid:
    """The design at every thread-scaling pair of the grid, built once for many fits."""

    def __init__(self, design: Design):
        self.design = design
        self.y = design.y
        self.groups = tuple(sorted({CORES[r.core].group for r in design.rows}))
        member = np.array([[CORES[r.core].group == g for g in self.groups] for r in design.rows])
        self.member = member
        cols = [TERMS.index(t) for t in GROUP_TERMS]
        self.pairs = [(g, e) for g in GRAINS_MFLOP for e in EFFICIENCIES]
        self.x = {}
        for pair in self.pairs:
            base = design.matrix(*pair)
            extra = [base[:, cols] * member[:, [k]] for k in range(len(self.groups))]
            self.x[pair] = np.hstack([base, *extra])
        self.lower = np.concatenate([LOWER, np.zeros(len(cols) * len(self.groups))])
        self._fits: dict[bytes, Fit] = {}  # by row mask: held-out float and int8 rows share them

    def _solve(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
        rest = 1.0 - (x @ self.lower) / y
        xw = x / y[:, None]
        scale = np.linalg.norm(xw, axis=0)
        scale[scale == 0] = 1.0
        a = xw / scale
        coef = self.lower + nnls_gram(a.T @ a, a.T @ rest) / scale
        pred = x @ coef
        err = float(np.sqrt(np.mean(np.log(pred / y) ** 2))) if np.all(pred > 0) else math.inf
        return coef, err

    def _matrix(self, grain: float, effs: Sequence[float]) -> np.ndarray:
        x = np.empty_like(self.x[(grain, effs[0])])
        for k, eff in enumerate(effs):
            rows = self.member[:, k]
            x[rows] = self.x[(grain, eff)][rows]
        return x

    def fit(self, mask: np.ndarray | None = None) -> Fit:
        """NNLS in relative error on the rows of ``mask`` (with :data:`LOWER` bounds): first
        the grid's (grain, efficiency) pair with the least RMS log error for all groups, then
        each group's own efficiency at that grain, one group at a time."""
        mask = np.ones(len(self.y), bool) if mask is None else mask
        key = mask.tobytes()
        if key not in self._fits:
            self._fits[key] = self._fit(mask)
        return self._fits[key]

    def _fit(self, mask: np.ndarray) -> Fit:
        y = self.y[mask]
        best: tuple[float, np.ndarray, float, list[float]] | None = None
        for grain, eff in self.pairs:
            coef, err = self._solve(self.x[(grain, eff)][mask], y)
            if best is None or err < best[0]:
                best = (err, coef, grain, [eff] * len(self.groups))
        assert best is not None
        err, coef, grain, effs = best
        for k in range(len(self.groups)):
            if not self.member[mask, k].any():
                continue
            for eff in EFFICIENCIES:
                if eff == effs[k]:
                    continue
                trial = [*effs[:k], eff, *effs[k + 1 :]]
                c, e = self._solve(self._matrix(grain, trial)[mask], y)
                if e < err:
                    err, coef, effs = e, c, trial
        return Fit(coef, self.groups, grain, tuple(effs))

    def predict_ms(self, fit: Fit, mask: np.ndarray) -> np.ndarray:
        """The fit's latency (ms) of the rows of ``mask``, by the linear model itself."""
        return self._matrix(fit.grain_mflop, fit.efficiency)[mask] @ fit.coef * 1e3


def peer_reference(rows: Sequence[Row]) -> dict[str, dict[str, float]]:
    """Per core group: x1.5 share and Kendall tau when each row is predicted by the geometric
    mean of the *measured* times of the same network at the same thread count on the group's
    other boards, scaled by clock: how far the boards themselves agree, a reference for
    what a model that does not know the board can reach held out by board."""

    out = {}
    for group in sorted({CORES[r.core].group for r in rows}):
        mine = [r for r in rows if CORES[r.core].group == group]
        pred, meas = [], []
        for r in mine:
            peers = [
                math.log(p.ms * p.ghz / r.ghz)
                for p in mine
                if p.board != r.board and p.model == r.model and p.threads == r.threads
            ]
            if peers:
                pred.append(math.exp(sum(peers) / len(peers)))
                meas.append(r.ms)
        if meas:
            p_arr, m_arr = np.array(pred), np.array(meas)
            s = group_stats(p_arr, m_arr)
            out[group] = {"n": len(meas), "x1.5_pct": s["x1.5_pct"], "tau": s["kendall_tau"]}
    return out


def print_peer_reference(rows: Sequence[Row]) -> None:
    for group, s in peer_reference(rows).items():
        print(
            f"{group:10s} peer reference (other boards' measured times): {int(s['n'])} rows, "
            f"{s['x1.5_pct']:.1f} % within x1.5, tau {s['tau']:.3f}"
        )


def held_out(grid: Grid, by: str) -> np.ndarray:
    """Each row's prediction by a fit that did not see its board (``by="board"``) or its
    network (``by="model"``).  A group's own constants come from its other boards; a group
    with one board is predicted from the shared constants alone."""
    keys = np.array([getattr(r, by) for r in grid.design.rows])
    pred = np.full(len(keys), np.nan)
    for key in dict.fromkeys(keys):
        test = keys == key
        if test.all():
            continue
        pred[test] = grid.predict_ms(grid.fit(~test), test)
    return pred


def predict(rows: Iterable[Row], networks: Networks, table: dict[str, float]) -> np.ndarray:
    """Each row's latency (ms) by :func:`~pytest_edgegate.costmodel.estimate` itself."""
    out = []
    for r in rows:
        profile = board_profile(r.core, r.ghz, r.cores, table)
        est = estimate(networks.get(r.model, r.input_whc), profile, threads=r.threads)
        out.append(est.latency_ms)
    return np.array(out)


def x15_share(pred: np.ndarray, meas: np.ndarray) -> float:
    """Share (%) of rows predicted within a factor of 1.5 either way."""
    ok = np.isfinite(pred) & (meas > 0)
    ratio = pred[ok] / meas[ok]
    return float(100.0 * np.mean((ratio <= 1.5) & (ratio >= 1 / 1.5))) if ok.any() else math.nan


def group_stats(pred: np.ndarray, meas: np.ndarray) -> dict[str, float]:
    """The fidelity figures of predictions against measurements, with the x1.5 share."""
    from pytest_edgegate.calibrate.agreement import fidelity_stats

    stats = fidelity_stats(pred, meas)
    stats["x1.5_pct"] = x15_share(pred, meas)
    return stats


#: The catalogue's CPU profiles and the core group whose ncnn constants they carry.
CATALOGUE = {"cortex-a53": "A53", "cortex-a72": "A72", "cortex-a76": "A76"}
_BOARD_NOTE = {
    "cortex-a53": "Raspberry Pi 3 Model B",
    "cortex-a72": "Raspberry Pi 4 Model B",
    "cortex-a76": "Raspberry Pi 5",
}


@dataclass(frozen=True)
class Validation:
    group: str
    rows: int
    boards: int
    stats: dict[str, dict[str, float]]  # "fit", "board", "network" -> figures


def validate_groups(grid: Grid) -> tuple[Fit, list[Validation]]:
    """The fit on every row, and per core group its figures in-sample, held out by board and
    held out by network."""

    full = grid.fit()
    meas = grid.y * 1e3
    preds = {
        "fit": grid.predict_ms(full, np.ones(len(meas), bool)),
        "board": held_out(grid, "board"),
        "network": held_out(grid, "model"),
    }
    groups = np.array([CORES[r.core].group for r in grid.design.rows])
    out = []
    for g in grid.groups:
        k = groups == g
        stats = {name: group_stats(p[k], meas[k]) for name, p in preds.items()}
        boards = len({r.board for r, m in zip(grid.design.rows, k, strict=True) if m})
        out.append(Validation(g, int(k.sum()), boards, stats))
    return full, out


def int8_held_out(grid: Grid, rows8: Sequence[Row], networks: Networks) -> list[Validation]:
    """Per core group, the int8 networks' rows, which no fit sees: each board's predicted by
    :func:`~pytest_edgegate.costmodel.estimate` with the constants fitted on the *other*
    boards' float rows (an int8 node at the core's int8 peak, SDOT on ARMv8.2 cores), so the
    figures say how far the float fit carries to quantized networks on an unseen board."""

    boards = np.array([r.board for r in grid.design.rows])
    pred = np.full(len(rows8), np.nan)
    for board in dict.fromkeys(r.board for r in rows8):
        fit = grid.fit(boards != board)
        mine = [i for i, r in enumerate(rows8) if r.board == board]
        group = CORES[rows8[mine[0]].core].group
        pred[mine] = predict([rows8[i] for i in mine], networks, fit.constants(group))
    meas = np.array([r.ms for r in rows8])
    out = []
    for g in sorted({CORES[r.core].group for r in rows8}):
        k = np.array([CORES[r.core].group == g for r in rows8])
        n_boards = len({r.board for r, m in zip(rows8, k, strict=True) if m})
        out.append(Validation(g, int(k.sum()), n_boards, {"int8": group_stats(pred[k], meas[k])}))
    return out


def print_int8(validations: Sequence[Validation]) -> None:
    print("int8 networks (never fitted on), held out by board:")
    for v in validations:
        s = v.stats["int8"]
        print(
            f"{v.group:10s} {v.rows:5d} rows {v.boards:2d} boards  MAPE {s['mape_pct']:.1f} %  "
            f"+-20 % {s['within_20_pct']:.1f}  x1.5 {s['x1.5_pct']:.1f} %  "
            f"tau {s['kendall_tau']:.3f}"
        )


def profile_text(
    profile_id: str,
    fit: Fit,
    rows: Sequence[Row],
    stats: Validation,
    anomalous: Sequence[str] = (),
) -> str:
    """A built-in profile that extends ``profile_id`` with ncnn as its runtime."""
    group = CATALOGUE[profile_id]
    table = fit.constants(group)
    mine = [r for r in rows if CORES[r.core].group == group]
    used = sorted({r.board.split("(")[0].strip() for r in mine})
    lobo = stats.stats["board"]
    cite = (
        f"fitted: {SOURCE}, {stats.rows} rows of {stats.boards} boards with "
        f"{'/'.join(sorted({r.core for r in mine}))} cores "
        f"({'; '.join(used)}), shared constants with the other Cortex-A groups, NNLS in "
        f"relative error with efficiencies as shares of one core's peak; rows: one unpinned "
        f"thread on a big.LITTLE SoC counted as a big-core row, device blocks inconsistent "
        f"with their same-core peers by more than x{ANOMALY_FACTOR:g} left out "
        f"({'; '.join(anomalous) or 'none'}); held out by board: "
        f"{lobo['x1.5_pct']:.0f} % within x1.5, tau {lobo['kendall_tau']:.2f}; "
        f"python -m bench.fitting.realdev DATA_DIR --write"
    )
    lines = [
        f"# {_BOARD_NOTE[profile_id]} running ncnn: {profile_id} with ncnn's constants.",
        f'id = "{profile_id}-ncnn"',
        'version = "1.0"',
        f'name = "{_BOARD_NOTE[profile_id]}, ncnn runtime '
        '(Winograd 3x3; fp16 arithmetic where the core has it)"',
        'kind = "cpu"',
        f'extends = "{profile_id}"',
        'runtime = "ncnn"',
        f'description = "{profile_id} as it runs Tencent ncnn with default options; constants '
        "learned on other boards with the same core type (no Raspberry Pi is in the fit data)."
        f'"',
        "",
        "[costmodel]",
    ]
    lines += [f"{k} = {v!r}" if isinstance(v, float) else f"{k} = {v}" for k, v in table.items()]
    lines += ["", "[sources]"]
    for key in table:
        lines.append(f'"costmodel.{key}" = "{cite}"')
    for key in ("energy_compute_w", "energy_memory_w", "energy_static_w"):
        lines.append(
            f'"costmodel.{key}" = "carried from {profile_id}.toml (per busy core, see its '
            f'sources); the constants hold at one thread as there"'
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", help="the real-device data directory (holds ncnn/)")
    parser.add_argument("--write", action="store_true", help="write the *-ncnn profiles")
    parser.add_argument(
        "--keep-anomalous",
        action="store_true",
        help="keep the device blocks the consistency rule leaves out (figures only)",
    )
    args = parser.parse_args(argv)
    data = Path(args.data_dir)
    rows = load_rows(data, keep_anomalous=args.keep_anomalous)
    anomalous = [] if args.keep_anomalous else anomalous_blocks(_read_rows(data))
    for board in anomalous:
        print(f"left out as anomalous (x{ANOMALY_FACTOR:g} from its peers): {board}")
    networks = Networks(data)
    grid = Grid(Design(rows, networks))
    fit_all, validations = validate_groups(grid)
    print_validation(validations)
    print_peer_reference(rows)
    rows8 = load_rows(data, int8=True, keep_anomalous=args.keep_anomalous)
    print_int8(int8_held_out(grid, rows8, networks))
    for g in grid.groups:
        print(f"{g}: {fit_all.constants(g)}")
    if args.write and args.keep_anomalous:
        parser.error("--write fits on the consistent rows only; drop --keep-anomalous")
    if args.write:
        out_dir = Path(__file__).resolve().parents[2] / "pytest_edgegate" / "profiles" / "data"
        by_group = {v.group: v for v in validations}
        for profile_id, group in CATALOGUE.items():
            path = out_dir / f"{profile_id}-ncnn.toml"
            tmp = path.with_suffix(".tmp")
            text = profile_text(profile_id, fit_all, rows, by_group[group], anomalous)
            tmp.write_text(text)
            tmp.replace(path)
            print(f"wrote {path}", file=sys.stderr)
    return 0


def report(data_dir: str | Path) -> None:
    """Print the ncnn validation: per core group (and the profile it feeds), in-sample, held
    out by board and held out by network."""
    data = Path(data_dir)
    rows = load_rows(data)
    networks = Networks(data)
    grid = Grid(Design(rows, networks))
    _, validations = validate_groups(grid)
    anomalous = anomalous_blocks(_read_rows(data))
    print(
        f"Standard networks on real boards: {SOURCE}; {len(rows)} CPU rows (float networks, "
        f"one core type per row), {len({r.model for r in rows})} networks; left out as "
        f"inconsistent with same-core peers (x{ANOMALY_FACTOR:g}): {'; '.join(anomalous) or 'none'}"
    )
    print_validation(validations)
    print_peer_reference(rows)
    print_int8(int8_held_out(grid, load_rows(data, int8=True), networks))
    print()


def print_validation(validations: Sequence[Validation]) -> None:
    profiles = {g: f"{p}-ncnn" for p, g in CATALOGUE.items()}
    print(
        f"{'core group':10s} {'profile':16s} {'rows':>5s} {'boards':>6s} {'held out':10s} "
        f"{'MAPE %':>7s} "
        f"{'+-10 %':>7s} {'+-20 %':>7s} {'x1.5 %':>7s} {'tau':>6s}"
    )
    for v in validations:
        for name in ("fit", "board", "network"):
            s = v.stats[name]
            label = {"fit": "none", "board": "by board", "network": "by network"}[name]
            print(
                f"{v.group:10s} {profiles.get(v.group, '-'):16s} {v.rows:5d} {v.boards:6d} "
                f"{label:10s} {s['mape_pct']:7.1f} "
                f"{s['within_10_pct']:7.1f} {s['within_20_pct']:7.1f} {s['x1.5_pct']:7.1f} "
                f"{s['kendall_tau']:6.3f}"
            )


if __name__ == "__main__":
    raise SystemExit(main())
