"""Fit the MCU cost model on MLPerf Tiny and validate it leave-one-board/network-out.

    python bench/fitting/mlperf_tiny.py DATA_DIR [--write-profiles]

DATA_DIR holds ``mlperf_tiny/mlperf_tiny.csv`` (MLPerf Tiny inference results v1.0-v1.3,
mlcommons/tiny_results_v1.x).  The model (see ``pytest_edgegate/costmodel/mcu.py``)::

    cycles = s[core] * (sum_k a[runtime, k] * MACs_k * (phi if fp32) + P * MAC-layer outputs
                        + v * vector elements + o[runtime] * layers + F)

with a[runtime, k] = A * exp(c[k] + d[runtime, k]) and o[runtime] = O * exp(e[runtime]).
Ridge penalties draw each class's cycles per MAC toward the shared A (c) and each runtime's
toward the shared class figure (d, e), so a class or runtime the training rows hardly see
(a network held out) falls back on what the others teach.  Fitted by
Gauss-Newton on log latency (relative error).  Energy = the board's power while inferring
(energy / latency, median over its energy rows: whole board, as MLPerf Tiny measures it) x
latency.  ``--write-profiles`` writes the fitted constants into the MCU profiles' ``[mcu]``
and ``[power]`` tables.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.fitting.mlperf_tiny_nets import build  # noqa: E402
from bench.fitting.mlperf_tiny_rows import Row, read_rows  # noqa: E402
from pytest_edgegate.analysis import analyze  # noqa: E402
from pytest_edgegate.calibrate.stats import kendall_tau_b  # noqa: E402
from pytest_edgegate.costmodel.mcu import MAC_CLASSES, features  # noqa: E402

REFERENCE_CORE = "cortex-m4"
RIDGE = 0.5  # weight of the pull of each runtime's constants toward the shared ones
CLASS_RIDGE = 3.0  # weight of the pull of each class's cycles per MAC toward the shared one
PRIOR = 0.05  # weak pull of every log-constant toward its starting value (keeps GN stable)
START = {"A": 2.0, "O": 2000.0, "v": 4.0, "P": 10.0, "F": 20000.0, "phi": 2.5}


@dataclass
class Layout:
    """Where each constant sits in the parameter vector (all log values)."""

    runtimes: list[str]
    cores: list[str]

    def __post_init__(self) -> None:
        names = ["A"] + [f"c_{k}" for k in MAC_CLASSES] + ["O", "v", "P", "F", "phi"]
        names += [f"d_{r}_{k}" for r in self.runtimes for k in MAC_CLASSES]
        names += [f"e_{r}" for r in self.runtimes]
        names += [f"s_{c}" for c in self.cores if c != REFERENCE_CORE]
        self.names = names
        self.index = {n: i for i, n in enumerate(names)}

    def start(self) -> np.ndarray:
        x = np.zeros(len(self.names))
        for key in ("A", "O", "v", "P", "F", "phi"):
            x[self.index[key]] = math.log(START[key])
        return x

    def constants(self, x: np.ndarray, core: str, runtime: str) -> dict[str, float]:
        """The profile's [mcu] constants for one core and runtime."""
        i = self.index
        s = math.exp(x[i[f"s_{core}"]]) if f"s_{core}" in i else 1.0
        out = {}
        for k in MAC_CLASSES:
            d = x[i[f"d_{runtime}_{k}"]] if f"d_{runtime}_{k}" in i else 0.0
            out[f"cycles_per_mac_{k}"] = s * math.exp(x[i["A"]] + x[i[f"c_{k}"]] + d)
        e = x[i[f"e_{runtime}"]] if f"e_{runtime}" in i else 0.0
        out["cycles_per_vector_element"] = s * math.exp(x[i["v"]])
        out["cycles_per_output"] = s * math.exp(x[i["P"]])
        out["cycles_per_layer"] = s * math.exp(x[i["O"]] + e)
        out["cycles_per_inference"] = s * math.exp(x[i["F"]])
        out["fp32_factor"] = math.exp(x[i["phi"]])
        return out


def net_features() -> dict[tuple[str, bool], dict[str, float]]:
    return {
        (net, fp32): features(analyze(build(net, quantized=not fp32)))
        for net in ("kws", "vww", "ic", "ad")
        for fp32 in (False, True)
    }


def _design(rows: Sequence[Row], feats: dict) -> dict[str, np.ndarray]:
    """Per-row feature arrays (the same totals :func:`mcu.cycles` multiplies)."""
    f = [feats[(r.net, r.fp32)] for r in rows]
    return {
        "int8": np.array([[x[f"macs_{k}"] for k in MAC_CLASSES] for x in f]),
        "fp32": np.array([[x[f"fp32_macs_{k}"] for k in MAC_CLASSES] for x in f]),
        "vector": np.array([x["vector_elements"] for x in f]),
        "outputs": np.array([x["outputs"] for x in f]),
        "layers": np.array([x["layers"] for x in f]),
        "hz": np.array([r.clock_mhz * 1e6 for r in rows]),
    }


def predict(x: np.ndarray, lay: Layout, rows: Sequence[Row], feats: dict) -> np.ndarray:
    """Latency in ms of every row: :func:`mcu.cycles` of each row's constants, vectorized."""
    d = _design(rows, feats)
    consts = [lay.constants(x, r.core, r.runtime) for r in rows]
    per_mac = np.array([[c[f"cycles_per_mac_{k}"] for k in MAC_CLASSES] for c in consts])
    phi = np.array([c["fp32_factor"] for c in consts])
    total = (per_mac * (d["int8"] + phi[:, None] * d["fp32"])).sum(axis=1)
    total += d["vector"] * np.array([c["cycles_per_vector_element"] for c in consts])
    total += d["outputs"] * np.array([c["cycles_per_output"] for c in consts])
    total += d["layers"] * np.array([c["cycles_per_layer"] for c in consts])
    total += np.array([c["cycles_per_inference"] for c in consts])
    return total / d["hz"] * 1e3


def fit(rows: Sequence[Row], feats: dict, iterations: int = 60) -> tuple[np.ndarray, Layout]:
    lay = Layout(sorted({r.runtime for r in rows}), sorted({r.core for r in rows}))
    x0 = lay.start()
    weight = {"d_": RIDGE, "e_": RIDGE, "c_": CLASS_RIDGE}
    penal = np.array([weight.get(n[:2], PRIOR) for n in lay.names])
    meas = np.log([r.latency_ms for r in rows])

    def residuals(x: np.ndarray) -> np.ndarray:
        pred = np.log(predict(x, lay, rows, feats))
        return np.concatenate([pred - meas, np.sqrt(penal) * (x - x0)])

    x = x0.copy()
    lam = 1e-3
    res = residuals(x)
    for _ in range(iterations):
        jac = np.empty((len(res), len(x)))
        for j in range(len(x)):
            step = np.zeros_like(x)
            step[j] = 1e-6
            jac[:, j] = (residuals(x + step) - res) / 1e-6
        lhs = jac.T @ jac + lam * np.eye(len(x))
        delta = np.linalg.solve(lhs, -jac.T @ res)
        trial = residuals(x + delta)
        if trial @ trial < res @ res:
            x, res, lam = x + delta, trial, max(lam / 3, 1e-9)
            if np.abs(delta).max() < 1e-7:
                break
        else:
            lam *= 10
    return x, lay


def board_power_w(rows: Sequence[Row]) -> dict[str, float]:
    """Median power while inferring (energy / latency) of each board with energy rows."""
    per: dict[str, list[float]] = {}
    for r in rows:
        if r.energy_mj is not None:
            per.setdefault(r.board, []).append(r.energy_mj / r.latency_ms)
    return {b: statistics.median(v) for b, v in sorted(per.items())}


def summary(pred: Sequence[float], meas: Sequence[float]) -> str:
    p, m = np.asarray(pred), np.asarray(meas)
    if not len(p):
        return "n=0"
    ratio = p / m
    within = np.mean((ratio <= 1.5) & (ratio >= 1 / 1.5))
    mape = np.mean(np.abs(ratio - 1.0)) * 100
    tau = kendall_tau_b(p, m) if len(p) > 2 else float("nan")
    return f"n={len(p)}  MAPE {mape:5.1f} %  within x1.5 {within * 100:5.1f} %  tau {tau:.3f}"


def held_out(
    rows: list[Row], feats: dict, key: Callable[[Row], str]
) -> tuple[list[tuple[Row, float]], list[Row]]:
    """Predictions for every group of ``key`` from a fit on all other groups.

    A held-out row whose core or runtime no training row has cannot be predicted (its
    constants would be pure prior): it is returned among the skipped rows instead.
    """
    out: list[tuple[Row, float]] = []
    skipped: list[Row] = []
    for group in sorted({key(r) for r in rows}):
        train = [r for r in rows if key(r) != group]
        cores, runtimes = {r.core for r in train}, {r.runtime for r in train}
        test = [r for r in rows if key(r) == group]
        seen = [r for r in test if r.core in cores and r.runtime in runtimes]
        skipped += [r for r in test if r not in seen]
        if seen:
            x, lay = fit(train, feats)
            out += list(zip(seen, predict(x, lay, seen, feats), strict=True))
    return out, skipped


def report(name: str, preds: list[tuple[Row, float]], power: dict[str, float]) -> None:
    rows = [r for r, _ in preds]
    print(f"{name} latency: {summary([p for _, p in preds], [r.latency_ms for r in rows])}")
    energy = [(r, p) for r, p in preds if r.energy_mj is not None]
    loso = []
    for r, p in energy:
        # The board's power from its *other* submissions: a profile carries its board's
        # measured power, never the held-out row's own.
        others = [
            o.energy_mj / o.latency_ms
            for o in ALL_ROWS
            if o.board == r.board and o.energy_mj is not None and o.submission != r.submission
        ]
        if others:
            loso.append((statistics.median(others) * p, r.energy_mj))
    print(
        f"{name} energy (power from the board's other submissions): "
        f"{summary([p for p, _ in loso], [m for _, m in loso])}"
    )
    strict = []
    for r, p in energy:
        others = {b: w for b, w in power.items() if b != r.board}
        per_mhz = statistics.median(
            w / next(o.clock_mhz for o in ALL_ROWS if o.board == b) for b, w in others.items()
        )
        strict.append((per_mhz * r.clock_mhz * p, r.energy_mj))
    print(
        f"{name} energy (power from other boards' W/MHz, no datasheet): "
        f"{summary([p for p, _ in strict], [m for _, m in strict])}"
    )


ALL_ROWS: list[Row] = []


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", type=Path, help="directory holding mlperf_tiny/")
    parser.add_argument("--write-profiles", action="store_true")
    args = parser.parse_args(argv)
    rows, dropped = read_rows(args.data_dir)
    ALL_ROWS[:] = rows
    feats = net_features()
    print(f"rows kept: {len(rows)} ({sum(r.energy_mj is not None for r in rows)} with energy)")
    for reason, n in sorted(dropped.items()):
        print(f"  left out {n}: {reason}")
    power = board_power_w(rows)
    x, lay = fit(rows, feats)
    fitted = predict(x, lay, rows, feats)
    print(f"in-sample latency: {summary(fitted, [r.latency_ms for r in rows])}")
    lobo, skipped = held_out(rows, feats, lambda r: r.board)
    left = sorted({f"{r.board} ({r.core}, {r.runtime})" for r in skipped})
    print(f"leave-one-board-out; {len(skipped)} rows not predictable (core or runtime on")
    print(f"  no other board): {', '.join(left)}")
    report("LOBO", lobo, power)
    lono, _ = held_out(rows, feats, lambda r: r.net)
    print("leave-one-network-out")
    report("LONO", lono, power)
    print("per-network LONO latency:")
    for net in ("ad", "kws", "vww", "ic"):
        pairs = [(p, r.latency_ms) for r, p in lono if r.net == net]
        print(f"  {net:14s} {summary([p for p, _ in pairs], [m for _, m in pairs])}")
    print("per-board LOBO latency:")
    for board in sorted({r.board for r, _ in lobo}):
        pairs = [(p, r.latency_ms) for r, p in lobo if r.board == board]
        print(f"  {board:14s} {summary([p for p, _ in pairs], [m for _, m in pairs])}")
    print("board power while inferring (W, median energy/latency over its energy rows):")
    for board, watts in power.items():
        print(f"  {board}: {watts:.6g}")
    print("fitted constants (all rows):")
    for name in lay.names:
        print(f"  {name} = {math.exp(x[lay.index[name]]):.6g}")
    if args.write_profiles:
        from bench.fitting.mlperf_tiny_profiles import write_profiles

        write_profiles(x, lay, power, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
