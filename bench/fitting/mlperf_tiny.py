"""Fit the MCU cost model on MLPerf Tiny and validate it leave-one-board/network-out.

    python bench/fitting/mlperf_tiny.py DATA_DIR [--write-profiles]

DATA_DIR holds ``mlperf_tiny/mlperf_tiny.csv`` (MLPerf Tiny inference results v1.0-v1.3,
mlcommons/tiny_results_v1.x).  The model (see ``pytest_edgegate/costmodel/mcu.py``)::

    cycles = s[core] * (sum_k a[runtime, k] * MACs_k * (phi if fp32) + P * MAC-layer outputs
                        + v * vector elements + o[runtime] * layers + F)

with a[runtime, k] = A * exp(c[k] + d[runtime, k]) and o[runtime] = O * exp(e[runtime]).
Ridge penalties draw each class's cycles per MAC toward the shared A (c) and each runtime's
toward the shared class figure (d, e), so a class or runtime the training rows hardly see
(a network held out) falls back on what the others teach.  Fitted by Gauss-Newton on log
latency (relative error).

Energy = power while inferring x latency.  Leave-one-board-out, the held-out board's power is
predicted from what is known before measuring it (``bench/fitting/mcu_power.py``): its MCU's
datasheet run current per MHz x its clock x a voltage (the harness's supply voltage for an
LDO, the figure's for an SMPS), times the measured/datasheet ratio learned on the *other*
boards' energy rows (the alternative structure, datasheet power + an offset current, is
printed beside it); its latency comes from the fit without it.  No energy row of the held-out
board is read.  Leave-one-network-out, the board's power is its measured power on the other
networks.  ``--write-profiles`` writes the fitted constants into the MCU profiles' ``[mcu]``
tables and each measured board's power (median over its X-CUBE-AI >= 8.1 rows) into
``[power]``.
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.fitting import mcu_power  # noqa: E402
from bench.fitting.mlperf_tiny_nets import build  # noqa: E402
from bench.fitting.mlperf_tiny_rows import Row, read_rows  # noqa: E402
from pytest_edgegate.analysis import analyze  # noqa: E402
from pytest_edgegate.calibrate.agreement import kendall_tau_b  # noqa: E402
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


#: The runtime whose rows give a measured board's power for its profile: X-CUBE-AI >= 8.1,
#: the profiles' runtime (ST's own submissions of v1.1 and v1.2).
PROFILE_RUNTIME = "x-cube-ai"


def board_power_w(rows: Sequence[Row], runtime: str = PROFILE_RUNTIME) -> dict[str, float]:
    """Median power while inferring (energy / latency) of each board over its ``runtime`` rows."""
    per: dict[str, list[float]] = {}
    for r in rows:
        if r.energy_mj is not None and r.runtime == runtime:
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
    rows: list[Row],
    feats: dict,
    key: Callable[[Row], str],
    fits: dict[str, tuple[np.ndarray, Layout]] | None = None,
) -> tuple[list[tuple[Row, float]], list[Row]]:
    """Predictions for every group of ``key`` from a fit on all other groups.

    A held-out row whose core or runtime no training row has cannot be predicted (its
    constants would be pure prior): it is returned among the skipped rows instead.  ``fits``,
    when given, receives each group's fit (the constants that never saw the group).
    """
    out: list[tuple[Row, float]] = []
    skipped: list[Row] = []
    for group in sorted({key(r) for r in rows}):
        train = [r for r in rows if key(r) != group]
        cores, runtimes = {r.core for r in train}, {r.runtime for r in train}
        test = [r for r in rows if key(r) == group]
        seen = [r for r in test if r.core in cores and r.runtime in runtimes]
        skipped += [r for r in test if r not in seen]
        x, lay = fit(train, feats)
        if fits is not None:
            fits[group] = (x, lay)
        if seen:
            out += list(zip(seen, predict(x, lay, seen, feats), strict=True))
    return out, skipped


def _key(row: Row) -> tuple:
    return (row.submission, row.board, row.net, row.fp32)


def lobo_energy(
    rows: Sequence[Row],
    lobo_latency: list[tuple[Row, float]],
    structure: str = mcu_power.STRUCTURES[0],
) -> list[tuple[Row, float]]:
    """(row, predicted mJ) of every energy row with its board held out: latency and power both.

    Latency comes from the fit without the board (``lobo_latency``); power from the board's
    datasheet and the structure's parameter learned on the *other* boards' energy rows
    (:func:`mcu_power.held_out_power`).  No energy row of the held-out board is read.
    """
    latency = {_key(r): ms for r, ms in lobo_latency}
    return [
        (r, watts * latency[_key(r)])
        for r, watts in mcu_power.held_out_power(rows, structure)
        if _key(r) in latency
    ]


def lono_energy(
    rows: Sequence[Row], lono_latency: list[tuple[Row, float]]
) -> list[tuple[Row, float]]:
    """(row, predicted mJ) with its network held out: the board's measured power on the other
    networks (median energy / latency) x the latency predicted without the network."""
    out = []
    for r, ms in lono_latency:
        if r.energy_mj is None:
            continue
        others = [
            o.energy_mj / o.latency_ms
            for o in rows
            if o.board == r.board and o.net != r.net and o.energy_mj is not None
        ]
        if others:
            out.append((r, statistics.median(others) * ms))
    return out


def per_mhz_energy(
    rows: Sequence[Row], lobo_latency: list[tuple[Row, float]]
) -> list[tuple[Row, float]]:
    """Baseline without a datasheet: the other boards' median power per MHz x the clock x the
    held-out latency (each board's power is its median energy / latency over all its rows)."""
    per_mhz: dict[str, float] = {}
    for board in {r.board for r in rows if r.energy_mj is not None}:
        mine = [r for r in rows if r.board == board and r.energy_mj is not None]
        per_mhz[board] = statistics.median(r.energy_mj / r.latency_ms / r.clock_mhz for r in mine)
    return [
        (r, statistics.median(w for b, w in per_mhz.items() if b != r.board) * r.clock_mhz * ms)
        for r, ms in lobo_latency
        if r.energy_mj is not None and len(per_mhz) > 1
    ]


def _print_energy(name: str, preds: list[tuple[Row, float]]) -> None:
    print(f"{name}: {summary([p for _, p in preds], [r.energy_mj for r, _ in preds])}")


def _param_note(structure: str, param: float) -> str:
    return f"ratio {param:.2f}" if structure == "ratio" else f"offset {param * 1e3:+.1f} mA"


def _print_lobo_energy(rows: list[Row], lobo: list[tuple[Row, float]]) -> None:
    """LOBO energy of both power structures, the chosen one (ratio) first, and per board."""
    for structure in mcu_power.STRUCTURES:
        energy = lobo_energy(rows, lobo, structure)
        cores = "/".join(sorted({r.core for r, _ in energy}))
        tag = "chosen" if structure == mcu_power.STRUCTURES[0] else "alternative"
        _print_energy(f"LOBO energy, {structure} structure ({tag}), rows of {cores}", energy)
        power = mcu_power.held_out_power(rows, structure)
        measured_w = [r.energy_mj / r.latency_ms for r, _ in power]
        print(f"  power alone (measured latency): {summary([w for _, w in power], measured_w)}")
        for board in sorted({r.board for r, _ in energy}):
            others = [r for r in rows if r.board != board and mcu_power.predictable(r)]
            note = _param_note(structure, mcu_power.learn(others, structure))
            own = [(r, e) for r, e in energy if r.board == board]
            _print_energy(f"  {board:10s} ({note} from the other boards)", own)
    _print_energy(
        "  baseline without datasheet (other boards' W/MHz x clock)", per_mhz_energy(rows, lobo)
    )
    print("  per board, its own parameter (never used for its own prediction):")
    for board in sorted({r.board for r, _ in lobo if r.energy_mj is not None}):
        own = [r for r in rows if r.board == board and mcu_power.predictable(r)]
        if not own or board not in mcu_power.BOARDS:
            continue
        notes = [_param_note(s, mcu_power.learn(own, s)) for s in mcu_power.STRUCTURES]
        print(f"    {board}: {', '.join(notes)} ({mcu_power.BOARDS[board].basis} figure)")


def _uncovered_energy_rows(data_dir: Path, kept: Sequence[Row]) -> Counter:
    """Energy rows of the table that the MCU model does not cover, by submitter and system."""
    kept_sources = {r.source for r in kept}
    out: Counter = Counter()
    with (data_dir / "mlperf_tiny" / "mlperf_tiny.csv").open(newline="") as handle:
        for rec in csv.DictReader(handle):
            if rec["energy_uj"].strip() and rec["perf_source"] not in kept_sources:
                out[
                    f"{rec['submitter']} {rec['system']} ({rec['processor'] or 'no processor'})"
                ] += 1
    return out


#: profile id -> (board in the data, core, runtime, supply voltage of its harness: ST's v1.1 runs)
PROFILE_BOARDS = {
    "stm32h7": ("stm32h7a3", "cortex-m7", "x-cube-ai", 3.0),
    "cortex-m4": ("stm32l4r5", "cortex-m4", "x-cube-ai", 1.8),
    "cortex-m33": ("stm32u575", "cortex-m33", "x-cube-ai", 1.8),
    "cortex-m7": ("stm32f746", "cortex-m7", "x-cube-ai", 3.3),
}


def profile_report(
    rows: Sequence[Row], feats: dict, fits: dict[str, tuple[np.ndarray, Layout]]
) -> None:
    """Each MCU profile's board held out: predicted vs measured latency and energy per network."""
    print("MCU profiles, their board held out (predicted | measured median of the board's rows):")
    for pid, (board, core, runtime, volts) in PROFILE_BOARDS.items():
        x, lay = fits[board]
        clock = next(r.clock_mhz for r in rows if r.board == board)
        watts = None
        if board in mcu_power.BOARDS:
            others = [r for r in rows if r.board != board and mcu_power.predictable(r)]
            watts = mcu_power.predict_w(board, clock, volts, mcu_power.learn(others))
        mine = [r for r in rows if r.board == board and r.runtime == runtime and not r.fp32]
        label = runtime
        if not mine:  # no row of the profile's runtime: the board's int8 rows of any runtime
            mine = [r for r in rows if r.board == board and not r.fp32]
            label = "/".join(sorted({r.runtime for r in mine}))
        power_note = f"{watts * 1e3:.1f} mW predicted" if watts else "no datasheet figure"
        print(f"  {pid} ({board} at {clock:g} MHz, {volts:g} V; {power_note}; measured: {label})")
        for net in ("kws", "vww", "ic", "ad"):
            probe = Row(board, core, clock, runtime, False, net, 1.0, None, board, "")
            ms = float(predict(x, lay, [probe], feats)[0])
            meas = [r for r in mine if r.net == net]
            m_ms = statistics.median(r.latency_ms for r in meas) if meas else float("nan")
            energies = [r.energy_mj for r in meas if r.energy_mj is not None]
            e_pred = f"{watts * ms * 1e3:8.0f} uJ" if watts else "       - uJ"
            e_meas = f"{statistics.median(energies) * 1e3:8.0f} uJ" if energies else "       - uJ"
            print(f"    {net:4s} {ms:8.2f} ms | {m_ms:8.2f} ms   {e_pred} | {e_meas}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", type=Path, help="directory holding mlperf_tiny/")
    parser.add_argument("--write-profiles", action="store_true")
    args = parser.parse_args(argv)
    rows, dropped = read_rows(args.data_dir)
    feats = net_features()
    energy_rows = [r for r in rows if r.energy_mj is not None]
    print(f"rows kept: {len(rows)} ({len(energy_rows)} with energy)")
    for reason, n in sorted(dropped.items()):
        print(f"  left out {n}: {reason}")
    blank = sum(1 for r in energy_rows if r.submission.startswith("v1.0/"))
    print(
        f"  {blank} energy rows of v1.0 with blank processor/clock/framework columns kept: board"
        " from the system name, clock from the board's other submissions, X-CUBE-AI 7"
    )
    print("energy rows the MCU model does not cover (not a Cortex-M core running the network):")
    for what, n in sorted(_uncovered_energy_rows(args.data_dir, rows).items()):
        print(f"  {n:3d} {what}")
    x, lay = fit(rows, feats)
    fitted = predict(x, lay, rows, feats)
    print(f"in-sample latency: {summary(fitted, [r.latency_ms for r in rows])}")

    fits: dict[str, tuple[np.ndarray, Layout]] = {}
    lobo, skipped = held_out(rows, feats, lambda r: r.board, fits)
    left = sorted({f"{r.board} ({r.core}, {r.runtime})" for r in skipped})
    print("LEAVE-ONE-BOARD-OUT (the board's rows never fitted on)")
    print(f"  {len(skipped)} rows not predictable (core or runtime on no other board):")
    print(f"  {', '.join(left)}")
    print(f"LOBO latency: {summary([p for _, p in lobo], [r.latency_ms for r, _ in lobo])}")
    _print_lobo_energy(rows, lobo)
    print("LOBO latency per board:")
    for board in sorted({r.board for r, _ in lobo}):
        pairs = [(p, r.latency_ms) for r, p in lobo if r.board == board]
        print(f"  {board:14s} {summary([p for p, _ in pairs], [m for _, m in pairs])}")

    lono, _ = held_out(rows, feats, lambda r: r.net)
    print("LEAVE-ONE-NETWORK-OUT (the network's rows never fitted on)")
    print(f"LONO latency: {summary([p for _, p in lono], [r.latency_ms for r, _ in lono])}")
    _print_energy(
        "LONO energy (board power from its other networks' rows)", lono_energy(rows, lono)
    )
    print("LONO latency per network:")
    for net in ("ad", "kws", "vww", "ic"):
        pairs = [(p, r.latency_ms) for r, p in lono if r.net == net]
        print(f"  {net:14s} {summary([p for p, _ in pairs], [m for _, m in pairs])}")

    profile_report(rows, feats, fits)
    power = board_power_w(rows)
    print("board power while inferring (W, median energy/latency over its X-CUBE-AI >= 8.1 rows):")
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
