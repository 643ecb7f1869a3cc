"""Fit and write ``cortex-a76-litert``: the Raspberry Pi 5 as LiteRT prices a network.

The method of :mod:`.nb201_level` (cortex-a76-ncnn's shape structure, three levels fitted by
NNLS in relative error), with the saturated MAC level chosen on the fitting split too, on
HW-NAS-Bench-360's Pi 5 LiteRT latency column instead of the ONNX Runtime one.  LiteRT runs
what the TFLite converter produced: dead branches pruned and input-independent networks folded
to a constant (dropped, as for the other TFLite columns in :mod:`.columns`).  The energy
constants are fitted on the same benchmark's Pi 5 LiteRT energy column.

Usage::

    .venv/bin/python -m bench.fitting.litert_level HWNAS_DIR [--write]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from bench.fitting import columns as cols
from bench.fitting import hwnas
from bench.fitting.nb201_level import candidate, fit_energy, levelled_table, parts, saturated_level
from bench.fitting.networks import Variant
from pytest_edgegate.calibrate.agreement import fidelity_stats
from pytest_edgegate.costmodel import estimate
from pytest_edgegate.costmodel.params import CostParams
from pytest_edgegate.profiles import DeviceProfile, load_catalogue, validate
from pytest_edgegate.profiles.catalogue import build_profile

PROFILE_ID = "cortex-a76-litert"
BASE_ID = "cortex-a76"
RUNTIME = "litert"
TFLITE_CIFAR100 = Variant("tflite-pruned-cifar100", num_classes=100, prune=True)
LATENCY = cols.Column(
    "Pi 5 LiteRT latency",
    "b360_pi5_litert_cifar100_latency_ms",
    PROFILE_ID,
    "latency",
    TFLITE_CIFAR100,
    representative=True,
    drop_constant=True,
)
ENERGY = cols.Column(
    "Pi 5 LiteRT energy",
    "b360_pi5_litert_cifar100_energy_mj",
    PROFILE_ID,
    "energy",
    TFLITE_CIFAR100,
    representative=True,
    drop_constant=True,
)
#: The saturated MAC level is chosen on the fitting split (a grid, the least MAPE of the
#: profile it gives) unless --fixed-mac: nb201_level's ncnn-peak argument (0.5 on the A76)
#: leaves LiteRT's convolutions 20-30 % too slow (reporting MAPE 21.8 % against 6.1 %).
SCAN_MAC = True
GRID = np.round(np.arange(0.2, 1.0001, 0.05), 2)
ORIGIN = (
    "HW-NAS-Bench-360 column {c} (nb201_hw_metrics.csv), roldebijvank/HW-NAS-Bench-360; "
    "NAS-Bench-201 cells as the TFLite converter gives them (dead branches pruned, "
    "input-independent networks dropped), 100 classes, fitting split arch_idx % 5 != 0"
)


def load(data_dir: str) -> cols.HwnasData:
    """The HW-NAS data with the two LiteRT columns read as written (for the cleaning rules)."""
    data = cols.load_data(data_dir)
    path = hwnas.resolve_data_dir(data_dir) / hwnas.NB201_FILE
    data.raw.update(cols._raw_columns(path, [LATENCY.column, ENERGY.column]))
    return data


def base_profile(catalogue) -> DeviceProfile:
    """cortex-a76 as LiteRT runs it (its peaks and energy, the litert runtime)."""
    base = catalogue.get(BASE_ID)
    raw = dict(base.raw)
    raw.update(id=PROFILE_ID, runtime=RUNTIME)
    return build_profile(validate(raw, PROFILE_ID), base.origin)


def fit(
    data: cols.HwnasData, sets, prof: DeviceProfile
) -> tuple[dict, np.ndarray, dict, DeviceProfile]:
    """The levelled ``[costmodel]`` table, the levels, the reporting-split statistics and
    the profile they make."""
    from bench.fitting.realdev import nnls_gram

    rows = cols.column_rows(data, LATENCY)
    netset = sets[LATENCY.variant]
    viewed = netset.viewed(LATENCY.view)
    params = CostParams.from_table(prof.raw["costmodel"])
    threads = int(prof.raw["costmodel"]["threads"])
    per_net = np.array([parts(a, prof, params, threads) for a in viewed])
    x_all = per_net[[netset.index[int(p)] for p in rows.network]]
    x, memory = x_all[:, :4], x_all[:, 4]
    y = rows.values * 1e-3
    f = rows.fit

    def levels(sat: float) -> np.ndarray:
        rest = (y[f] - memory[f] - x[f, 0] * sat) / y[f]
        xw = x[f, 1:] / y[f, None]
        scale = np.linalg.norm(xw, axis=0)
        scale[scale == 0] = 1.0
        a = xw / scale
        return np.concatenate([[sat], nnls_gram(a.T @ a, a.T @ rest) / scale])

    fit_nets = sorted({netset.index[int(p)] for p in rows.network[f]})
    fit_keys = np.array([netset.index[int(p)] for p in rows.network[f]])

    def fit_mape(level: np.ndarray) -> float:
        """MAPE on the fitting split of the profile the levels give (kernel caps included)."""
        trial = dict(prof.raw)
        trial["costmodel"] = levelled_table(prof, level)
        trial_prof = build_profile(validate(trial, PROFILE_ID), prof.origin)
        by_net = {k: estimate(viewed[k], trial_prof, threads=threads).latency_ms for k in fit_nets}
        pred = np.array([by_net[k] for k in fit_keys])
        return float(np.mean(np.abs(pred / rows.values[f] - 1.0)))

    level = levels(saturated_level(prof))
    if SCAN_MAC:  # the saturated MAC level too: the one of a grid with the least fitting MAPE
        grid = [levels(s) for s in GRID]
        level = min(grid, key=fit_mape)
    print(f"fitting-split MAPE: {100 * fit_mape(level):.2f} %")
    table = levelled_table(prof, level)
    raw = dict(prof.raw)
    raw["costmodel"] = table
    final = build_profile(validate(raw, PROFILE_ID), prof.origin)
    pred = np.array(
        [
            estimate(viewed[netset.index[int(p)]], final, threads=threads).latency_ms
            for p in rows.network[rows.report]
        ]
    )
    print(f"dropped rows: {rows.dropped}")
    stats = fidelity_stats(pred, rows.values[rows.report])
    base = load_catalogue([]).get(BASE_ID)
    shipped = np.array(
        [
            estimate(viewed[netset.index[int(p)]], base, threads=threads).latency_ms
            for p in rows.network[rows.report]
        ]
    )
    s = fidelity_stats(shipped, rows.values[rows.report])
    print(
        f"{BASE_ID} (onnxruntime constants) on {LATENCY.label}: MAPE {s['mape_pct']:.2f}  "
        f"+-10 {s['within_10_pct']:.1f}  +-20 {s['within_20_pct']:.1f}  tau {s['kendall_tau']:.3f}"
    )
    return table, level, stats, final


def profile_text(table: dict, energy: dict, level: np.ndarray, stats: dict) -> str:
    """The profile file: cortex-a76 with LiteRT's fitted constants."""
    cite = (
        f"fitted: shape structure of cortex-a76-ncnn.toml (ncnn benchmark table, "
        f"Tencent/ncnn@a4d2ea1d benchmark/README.md), saturated MAC level {level[0]:.3g} (the "
        f"least fitting-split MAPE on a grid {GRID[0]:g}..{GRID[-1]:g} step 0.05), small-shape, "
        f"other-kernel and dispatch levels fitted by NNLS on HW-NAS-Bench-360 Pi 5 LiteRT "
        f"latency ({ORIGIN.format(c=LATENCY.column)}): reporting split MAPE "
        f"{stats['mape_pct']:.2f} %, {stats['within_10_pct']:.1f} % "
        f"within +-10 %; python -m bench.fitting.litert_level HWNAS_DIR --write"
    )
    ecite = (
        f"fitted: HW-NAS-Bench-360 Pi 5 LiteRT energy ({ORIGIN.format(c=ENERGY.column)}), NNLS "
        f"in relative error on the levelled latency model's compute / memory / overhead time; "
        f"W at one busy core; python -m bench.fitting.litert_level HWNAS_DIR --write"
    )
    lines = [
        "# Raspberry Pi 5 running LiteRT: cortex-a76 with LiteRT's constants.",
        "# Written by python -m bench.fitting.litert_level HWNAS_DIR --write; do not edit.",
        f'id = "{PROFILE_ID}"',
        'version = "1.0"',
        'name = "Raspberry Pi 5, LiteRT runtime (TensorFlow Lite interpreter, fp32, 1 thread)"',
        'kind = "cpu"',
        f'extends = "{BASE_ID}"',
        f'runtime = "{RUNTIME}"',
        'description = "cortex-a76 as it runs a .tflite with LiteRT; levelled on the '
        'HW-NAS-Bench-360 Pi 5 LiteRT data (1 thread)."',
        "",
        "[costmodel]",
    ]
    lines += [f"{k} = {v}" for k, v in table.items()]
    lines += [f"{k} = {v}" for k, v in energy.items()]
    lines += ["", "[sources]"]
    lines += [f'"costmodel.{k}" = "{cite}"' for k in table]
    lines += [f'"costmodel.{k}" = "{ecite}"' for k in energy]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", help="HW-NAS data directory")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--write", action="store_true", help=f"write {PROFILE_ID}.toml")
    parser.add_argument(
        "--fixed-mac", action="store_true", help="the saturated MAC level as nb201_level sets it"
    )
    args = parser.parse_args(argv)
    global SCAN_MAC
    SCAN_MAC = not args.fixed_mac
    data = load(args.data_dir)
    sets = cols.network_sets(data, (LATENCY,), jobs=args.jobs)
    prof = candidate(base_profile(load_catalogue()), load_catalogue().get(f"{BASE_ID}-ncnn"))
    table, level, stats, final = fit(data, sets, prof)
    threads = int(table["threads"])
    print(f"{PROFILE_ID} on {LATENCY.label} (reporting split, n={int(stats['n'])}):")
    print(
        f"  MAPE {stats['mape_pct']:.2f}  +-10 {stats['within_10_pct']:.1f}  "
        f"+-20 {stats['within_20_pct']:.1f}  tau {stats['kendall_tau']:.3f}"
    )
    print(f"  levels (MAC, MAC small-shape, other, dispatch us): {np.round(level, 4).tolist()}")
    energy = fit_energy(data, sets, ENERGY, final, threads)
    cpu = {k: v for k, v in table.items() if not k.startswith("energy_")}
    text = profile_text(cpu, energy, level, stats)
    print(text)
    if args.write:
        path = Path(__file__).resolve().parents[2] / "pytest_edgegate/profiles/data"
        target = path / f"{PROFILE_ID}.toml"
        tmp = target.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(target)
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
