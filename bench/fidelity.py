"""How close the shipped profiles' estimates come to real devices (a benchmark, not a test).

Usage::

    .venv/bin/python bench/fidelity.py [DATA_DIR] [--jobs 2]

``DATA_DIR`` defaults to ``$EDGEGATE_DATA_DIR/hwnas``.  The script rebuilds
the NAS-Bench-201 networks the way each device saw them, estimates every one with
:func:`pytest_edgegate.costmodel.estimate` **using the profile files as shipped** (so it checks
what users get), and prints per device and metric, on the reporting split
(``arch_idx % 5 == 0``, never used for fitting): n, MAPE, the shares within +-10 % and +-20 %,
and Kendall's tau, next to the issue's target; then the same table for the op-count baseline
(least squares of the value on the count of each cell operation plus an intercept, fitted on
the fitting split of the same rows).

Rows, graphs and views are those of :mod:`bench.fitting.columns` (the same the
constants were fitted with); each estimate runs at the thread count the column was measured
at, which is the profile's ``[costmodel] threads``.  One network is built and analysed per
distinct cell structure (:mod:`bench.fitting.networks`), about a thousand in
all; the run takes well under a minute with two workers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Run as `python bench/NAME.py`: the repository root on the path makes `bench.*` importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fitting import columns as cols
from bench.fitting import explore, hwnas, litert_level
from bench.fitting.networks import NetworkSet
from pytest_edgegate.costmodel import estimate
from pytest_edgegate.profiles import load_catalogue

#: The issue's targets on the reporting split: (column label, share key, minimum %).
TARGETS: dict[str, tuple[str, float]] = {
    "Pi 5 ORT latency": ("within_10_pct", 90.0),
    "Pi 4 latency": ("within_20_pct", 80.0),
    "Edge TPU latency": ("within_20_pct", 70.0),
    "Pi 5 ORT energy": ("within_10_pct", 80.0),
    "Eyeriss energy": ("within_10_pct", 80.0),
}
MIN_TAU = 0.85
#: HW-NAS-Bench measured isomorphic Pi 4 networks separately: share within +-10 % of their
#: group's median (the issue's figure; recomputed from the data below).
PI4_NOISE_PCT = 55.0


@dataclass(frozen=True)
class Row:
    label: str
    profile: str
    stats: dict[str, float]
    target: str
    met: bool | None


def predict(rows: cols.ColumnRows, netset: NetworkSet, profile_id: str, catalogue) -> np.ndarray:
    """The shipped profile's estimate for every usable row (ms or mJ), one estimate per network."""
    profile = catalogue.get(profile_id)
    threads = int(profile.raw["costmodel"]["threads"])
    viewed = netset.viewed(rows.column.view)
    cache: dict[int, float] = {}
    out = np.empty(len(rows.rows))
    for k, position in enumerate(rows.network):
        key = netset.index[int(position)]
        if key not in cache:
            est = estimate(viewed[key], profile, threads=threads)
            if profile.is_npu:
                NetworkSet.check_homogeneous([n.device for n in est.nodes], rows.column.label)
            value = est.latency_ms if rows.column.metric == "latency" else est.energy_mj
            cache[key] = math.nan if value is None else value
        out[k] = cache[key]
    return out


def verdict(label: str, stats: dict[str, float]) -> tuple[str, bool]:
    parts, ok = [], True
    if label in TARGETS:
        key, minimum = TARGETS[label]
        share = "+-10" if key == "within_10_pct" else "+-20"
        hit = stats[key] >= minimum
        ok &= hit
        parts.append(f"{share} >= {minimum:g} %")
    hit = stats["kendall_tau"] >= MIN_TAU
    ok &= hit
    parts.append(f"tau >= {MIN_TAU:g}")
    return " and ".join(parts), ok


def table(title: str, rows: list[Row]) -> None:
    print(title)
    header = (
        f"{'device / metric':19s} {'profile':17s} {'n':>5s} {'MAPE %':>7s} {'+-10 %':>7s} "
        f"{'+-20 %':>7s} {'tau':>6s}  target"
    )
    print(header)
    print("-" * (len(header) + 30))
    for r in rows:
        s = r.stats
        mark = "" if r.met is None else ("  MET" if r.met else "  MISSED")
        print(
            f"{r.label:19s} {r.profile:17s} {int(s['n']):5d} {s['mape_pct']:7.2f} "
            f"{s['within_10_pct']:7.1f} {s['within_20_pct']:7.1f} {s['kendall_tau']:6.3f}  "
            f"{r.target}{mark}"
        )
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", nargs="?", default=None, help="HW-NAS data directory")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument(
        "--realdev",
        default=None,
        help="real-device data directory (ncnn/): also validate on standard networks",
    )
    args = parser.parse_args(argv)
    if args.realdev:
        from bench.fitting.realdev import report

        report(args.realdev)
    start = time.perf_counter()
    try:
        data = litert_level.load(args.data_dir)  # + the Pi 5 LiteRT columns
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    catalogue = load_catalogue()
    columns = cols.COLUMNS + (litert_level.LATENCY, litert_level.ENERGY)
    sets = cols.network_sets(data, columns, jobs=args.jobs)
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    print(f"{today}: python bench/fidelity.py {' '.join(sys.argv[1:])}".rstrip())
    print(f"data: {data.data_dir}")
    print(
        "networks analysed (one per distinct cell structure): "
        + ", ".join(f"{len(s.analyses)} {v.name}" for v, s in sets.items())
    )
    all_rows = {c.label: cols.column_rows(data, c) for c in columns}
    for label, r in all_rows.items():
        dropped = "; ".join(f"{k}: {v}" for k, v in r.dropped.items() if v) or "none"
        print(
            f"  {label}: {hwnas.NB201_FILE}:{r.column.column}, {len(r.rows)} usable rows, "
            f"{int(r.report.sum())} reported; dropped: {dropped}"
        )
    print()

    model_rows: list[Row] = []
    base_rows: list[Row] = []
    counts = explore.op_count_matrix(data.arch_strs)
    pi4_share = math.nan
    for label, r in all_rows.items():
        col = r.column
        pred = predict(r, sets[col.variant], col.profile, catalogue)
        stats = hwnas.fidelity_stats(pred[r.report], r.values[r.report])
        target, met = verdict(label, stats)
        model_rows.append(Row(label, col.profile, stats, target, met))
        base = explore.op_count_baseline(counts[r.network], r.values, r.fit, r.report)
        target_b, met_b = verdict(label, base)
        base_rows.append(Row(label, "op counts", base, target_b, met_b))
        if label == "Pi 4 latency":
            pi4_share = stats["within_10_pct"]

    table("Cost model (shipped profiles), reporting split arch_idx % 5 == 0:", model_rows)
    groups = list(
        hwnas.isomorphism_groups(
            hwnas.read_b360(data.data_dir, device="pi5", framework="onnx", task="cifar100")
        ).values()
    )
    pi4 = hwnas.metric_array(data.records, "hwnas_raspi4_latency_ms")
    noise = explore._group_median_share(pi4, groups)
    print(
        f"Pi 4 latency within +-10 %: {pi4_share:.1f} % of networks, against a same-group "
        f"noise figure of {noise:.1f} % (isomorphic networks, measured separately, within "
        f"+-10 % of their group's median; the issue quotes {PI4_NOISE_PCT:g} %)"
    )
    print()
    table(
        "Baseline: least squares on the count of each cell operation + intercept (fitted on "
        "the fitting split of the same rows and networks):",
        base_rows,
    )
    missed = [r.label for r in model_rows if r.met is False]
    print(
        "targets: "
        + ("all met" if not missed else f"MISSED for {', '.join(missed)}")
        + f"  [{time.perf_counter() - start:.1f} s]"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
