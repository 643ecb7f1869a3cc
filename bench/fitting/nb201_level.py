"""Carry the ncnn-fitted shape structure to another runtime, levelled on NAS-Bench-201 rows.

The ncnn fit (:mod:`.realdev`) teaches how a Cortex-A core's efficiency depends on the
kernel and its GEMM shape; HW-NAS-Bench's NAS-Bench-201 rows (Raspberry Pi 5 with ONNX
Runtime, Raspberry Pi 4 with TFLite) say how fast *that* runtime is on that core, but only for
tiny cells.  This script keeps the structure of the ``<profile>-ncnn`` constants (the runtime's
own arithmetic: fp32 and no Winograd unless the runtime has them) and fits four levels on the
fitting split: the MAC kernels' time, the other kernels' compute time, the memory time and the
per-node dispatch, by NNLS in relative error.  It prints the result on the reporting split
next to the shipped profile's, and the ``[costmodel]`` table it stands for.

Usage::

    .venv/bin/python -m bench.fitting.nb201_level HWNAS_DIR
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from bench.fitting import columns as cols
from pytest_edgegate.calibrate.agreement import fidelity_stats
from pytest_edgegate.costmodel import estimate
from pytest_edgegate.costmodel.cpu import coefficient, shape_terms
from pytest_edgegate.costmodel.kernels import MAC_KINDS
from pytest_edgegate.costmodel.params import CostParams
from pytest_edgegate.costmodel.terms import executed
from pytest_edgegate.profiles import DeviceProfile, load_catalogue, validate
from pytest_edgegate.profiles.catalogue import build_profile

#: The column each base profile is levelled on.
LEVELLED = {"cortex-a76": "Pi 5 ORT latency", "cortex-a72": "Pi 4 latency"}
#: Base profiles whose constants --write replaces (cortex-a72's levels are also carried to
#: cortex-a53 and the Coral's host).
REWRITTEN = ("cortex-a76", "cortex-a72")
SMALL_TERMS = ("small_m", "small_n", "small_k", "small_m_winograd")
MAC_TERMS = {f"eff_{k}" for k in MAC_KINDS} | set(SMALL_TERMS)


def candidate(base: DeviceProfile, structure: DeviceProfile) -> DeviceProfile:
    """``base`` (its runtime, peaks and energy) with the ncnn variant's shape constants."""
    raw = dict(base.raw)
    table = dict(base.raw.get("costmodel", {}))
    table.update(structure.raw["costmodel"])
    raw["costmodel"] = table
    return build_profile(validate(raw, base.id), base.origin)


def parts(analysis, profile: DeviceProfile, params: CostParams, threads: int) -> np.ndarray:
    """Seconds of MAC compute at saturation, of the MAC small-shape penalties, of other
    compute, the dispatch count (x 1e-6), and memory seconds."""
    out = np.zeros(5)
    for node in executed(analysis.nodes):
        terms = shape_terms(node, profile, params, threads) or {}
        for name, q in terms.items():
            if not q:
                continue
            if name in ("dispatch_us", "sync_us"):
                out[3] += q * 1e-6 if name == "dispatch_us" else 0.0
                continue
            s = q * coefficient(params, name, node)
            if name in ("eff_cache", "eff_dram"):
                out[4] += s
            elif name.startswith("small_"):
                out[1] += s
            elif name in MAC_TERMS:
                out[0] += s
            else:
                out[2] += s
    return out


def levelled_table(profile: DeviceProfile, level: np.ndarray) -> dict[str, float]:
    """The ``[costmodel]`` table of ``profile`` with the levels folded into it: ``level`` =
    (saturated MAC time, small-shape MAC time, other compute time, dispatch us)."""
    table = dict(profile.raw["costmodel"])
    a, a_small, b, d = (float(v) for v in level)
    for key, value in list(table.items()):
        if key in ("eff_cache", "eff_dram"):
            continue
        if key == "eff_depthwise":
            # load-bound: the same share of the peak in fp16 as in fp32 (half the bytes)
            table[key] = _sig(min(1.0, value))
        elif key in MAC_TERMS and key.startswith("eff_"):
            # no kernel above the core's peak (Winograd does less arithmetic than it counts)
            table[key] = _sig(min(1.0, value / a))
        elif key in SMALL_TERMS:
            table[key] = _sig(value * a_small)
        elif key.startswith("eff_"):  # no kernel above the peak
            table[key] = _sig(min(1.0, value / max(b, 1e-9)))
    table["eff_vector"] = table["eff_elementwise"]
    table["dispatch_us"] = _sig(d)
    return table


def saturated_level(base: DeviceProfile) -> float:
    """The saturated MAC level is not fitted (NAS-Bench-201's tiny convolutions cannot tell
    it): a large kernel reaches the same share of the peak of the arithmetic it runs in as
    ncnn's on that core, so the level is ncnn's peak over this runtime's (fp16 over fp32 on
    an ARMv8.2 core, 1 elsewhere), the efficiencies capped at the peak."""
    thr = base.throughput
    return thr["fp32_gflops"] / thr["fp16_gflops"] if "fp16_gflops" in thr else 1.0


def _sig(v: float) -> float:
    return float(f"{v:.4g}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", help="HW-NAS data directory")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="rewrite the base profiles")
    args = parser.parse_args(argv)
    tables: dict[str, tuple[dict[str, float], np.ndarray, dict]] = {}
    data = cols.load_data(args.data_dir)
    catalogue = load_catalogue()
    by_label = {c.label: c for c in cols.COLUMNS}
    columns = tuple(by_label[label] for label in LEVELLED.values())
    sets = cols.network_sets(data, columns, jobs=args.jobs)
    for base_id, label in LEVELLED.items():
        column = by_label[label]
        rows = cols.column_rows(data, column)
        netset = sets[column.variant]
        viewed = netset.viewed(column.view)
        base = catalogue.get(base_id)
        prof = candidate(base, catalogue.get(f"{base_id}-ncnn"))
        params = CostParams.from_table(prof.raw["costmodel"])
        threads = int(base.raw["costmodel"]["threads"])
        per_net = np.array([parts(a, prof, params, threads) for a in viewed])
        x_all = per_net[[netset.index[int(p)] for p in rows.network]]
        x, memory = x_all[:, :4], x_all[:, 4]  # memory stays at the structure's level
        y = rows.values * 1e-3
        fit = rows.fit
        sat = saturated_level(base)
        rest = (y[fit] - memory[fit] - x[fit, 0] * sat) / y[fit]
        xw = x[fit, 1:] / y[fit, None]
        scale = np.linalg.norm(xw, axis=0)
        scale[scale == 0] = 1.0
        from bench.fitting.realdev import nnls_gram

        a = xw / scale
        level = np.concatenate([[sat], nnls_gram(a.T @ a, a.T @ rest) / scale])
        table = levelled_table(prof, level)
        raw = dict(prof.raw)
        raw["costmodel"] = table
        final = build_profile(validate(raw, base_id), base.origin)
        cache: dict[int, float] = {}
        pred = np.empty(len(rows.rows))
        for k, p in enumerate(rows.network):
            key = netset.index[int(p)]
            if key not in cache:
                cache[key] = estimate(viewed[key], final, threads=threads).latency_ms
            pred[k] = cache[key]
        shipped = np.array(
            [
                estimate(viewed[netset.index[int(p)]], base, threads=threads).latency_ms
                for p in rows.network[rows.report]
            ]
        )
        new = fidelity_stats(pred[rows.report], rows.values[rows.report])
        old = fidelity_stats(shipped, rows.values[rows.report])
        print(f"{base_id} on {label} (reporting split, n={int(new['n'])}):")
        for name, s in (("shipped", old), ("levelled", new)):
            print(
                f"  {name:9s} MAPE {s['mape_pct']:6.2f}  +-10 {s['within_10_pct']:5.1f}  "
                f"+-20 {s['within_20_pct']:5.1f}  tau {s['kendall_tau']:.3f}"
            )
        print(f"  levels (MAC, MAC small-shape, other, dispatch us): {np.round(level, 4).tolist()}")
        print("  [costmodel]")
        for key, value in table.items():
            print(f"  {key} = {value}")
        if base_id == "cortex-a76":
            table.update(fit_energy(data, sets, by_label["Pi 5 ORT energy"], final, threads))
            print(f"  energy refit on the new time split: {table}")
        tables[base_id] = (table, level, new)
        sys.stdout.flush()
    if args.write:
        write_profiles(tables, catalogue)
    return 0


def fit_energy(data, sets, column, profile: DeviceProfile, threads: int) -> dict[str, float]:
    """CPU energy constants (W while computing, moving data, in overheads) on the fitting
    split of the energy column, on the levelled model's own time split."""
    rows = cols.column_rows(data, column)
    netset = sets[column.variant]
    viewed = netset.viewed(column.view)
    parts_by_net: dict[int, np.ndarray] = {}
    x = np.empty((len(rows.rows), 3))
    for k, p in enumerate(rows.network):
        key = netset.index[int(p)]
        if key not in parts_by_net:
            b = estimate(viewed[key], profile, threads=threads).breakdown
            parts_by_net[key] = np.array([b["compute_ms"], b["memory_ms"], b["overhead_ms"]])
        x[k] = parts_by_net[key]  # ms x W = mJ
    from bench.fitting.realdev import nnls_gram

    fit = rows.fit
    xw = x[fit] / rows.values[fit, None]
    scale = np.linalg.norm(xw, axis=0)
    scale[scale == 0] = 1.0
    a = xw / scale
    w = nnls_gram(a.T @ a, a.T @ np.ones(int(fit.sum()))) / scale
    pred = x[rows.report] @ w
    s = fidelity_stats(pred, rows.values[rows.report])
    print(
        f"  Pi 5 energy (reporting split): MAPE {s['mape_pct']:.2f} +-10 {s['within_10_pct']:.1f} "
        f"+-20 {s['within_20_pct']:.1f} tau {s['kendall_tau']:.3f}"
    )
    keys = ("energy_compute_w", "energy_memory_w", "energy_static_w")
    return {k: _sig(float(v)) for k, v in zip(keys, w, strict=True)}


def write_profiles(tables, catalogue) -> None:
    """Rewrite the CPU constants of the REWRITTEN base profiles (levelled here) and of
    cortex-a53 and the Edge TPU's host (the A53 ncnn structure at cortex-a72's levels)."""
    from pathlib import Path

    data_dir = Path(__file__).resolve().parents[2] / "pytest_edgegate" / "profiles" / "data"
    ncnn = (
        "ncnn benchmark table (Tencent/ncnn@a4d2ea1d benchmark/README.md) via the {p}-ncnn profile"
    )
    for base_id, label in LEVELLED.items():
        if base_id not in REWRITTEN:
            continue
        table, level, stats = tables[base_id]
        cite = (
            f"fitted: shape structure of {base_id}-ncnn.toml ({ncnn.format(p=base_id)}), saturated "
            f"MAC efficiency carried at this runtime's peak (level {level[0]:.3g}), small-shape, "
            f"other-kernel and dispatch levels fitted on HW-NAS-Bench {label} ({_origin(label)}; "
            f"NAS-Bench-201 cells, fitting split arch_idx % 5 != 0): reporting split MAPE "
            f"{stats['mape_pct']:.2f} %, {stats['within_10_pct']:.1f} % within +-10 %; "
            f"python -m bench.fitting.nb201_level HWNAS_DIR --write"
        )
        # energy: refitted below for cortex-a76; cortex-a72 keeps its [power]-derived constants
        energy = {k: table.pop(k) for k in list(table) if k.startswith("energy_")}
        rewrite_costmodel(data_dir / f"{base_id}.toml", table, cite)
        if base_id == "cortex-a76":
            rewrite_costmodel(
                data_dir / f"{base_id}.toml",
                energy,
                "fitted: HW-NAS-Bench-360 Raspberry Pi 5 CPU energy (b360_pi5_onnx_cifar100_"
                "energy_mj, fitting split arch_idx % 5 != 0), NNLS in relative error on the "
                "levelled latency model's compute / memory / overhead time; W at one busy core; "
                "python -m bench.fitting.nb201_level HWNAS_DIR --write",
            )
    table72, level72, _ = tables["cortex-a72"]
    for target in ("cortex-a53", "edgetpu"):
        prof = candidate(catalogue.get(target), catalogue.get("cortex-a53-ncnn"))
        table = levelled_table(prof, level72)
        for key in ("energy_compute_w", "energy_memory_w", "energy_static_w"):
            table.pop(key, None)
        cite = (
            f"derived: shape structure of cortex-a53-ncnn.toml ({ncnn.format(p='cortex-a53')}: "
            f"Cortex-A53 boards) at cortex-a72.toml's levels for its runtime (small-shape "
            f"{level72[1]:.3g}, other kernels {level72[2]:.3g}, dispatch {level72[3]:.3g} us, "
            f"fitted on HW-NAS-Bench Raspberry Pi 4 TFLite rows); assumption: the runtime's "
            f"overheads relative to ncnn are the same on an A53 as on an A72; "
            f"python -m bench.fitting.nb201_level HWNAS_DIR --write"
        )
        rewrite_costmodel(data_dir / f"{target}.toml", table, cite)


def _origin(label: str) -> str:
    """Where a levelled column comes from: its file and public origin."""
    column = next(c.column for c in cols.COLUMNS if c.label == label)
    if column.startswith("b360_"):
        return f"HW-NAS-Bench-360 column {column}, roldebijvank/HW-NAS-Bench-360"
    return f"HW-NAS-Bench nb201_hw_metrics.csv column {column}, GATECH-EIC/HW-NAS-Bench"


#: Energy and NPU keys a rewrite leaves alone.
_KEEP = ("npu_", "transfer_")


def rewrite_costmodel(path, table: dict[str, float], cite: str, carried: str = "") -> None:
    """Replace the CPU constants of a profile file's ``[costmodel]`` and their sources."""
    import re
    from pathlib import Path

    path = Path(path)
    lines = path.read_text().splitlines()
    cpu_keys = [k for k in table if not k.startswith(_KEEP)]
    out: list[str] = []
    section = ""
    seen: set[str] = set()
    for line in lines:
        header = re.match(r"^\[([^\]]+)\]", line)
        if header:
            if section == "costmodel":
                out.extend(f"{k} = {table[k]}" for k in cpu_keys if k not in seen)
            section = header.group(1)
            out.append(line)
            if section == "sources":
                out.extend(f'"costmodel.{k}" = "{carried or cite}"' for k in cpu_keys)
            continue
        key = re.match(r"^([A-Za-z0-9_]+)\s*=", line)
        if section == "costmodel" and key and key.group(1) in cpu_keys:
            out.append(f"{key.group(1)} = {table[key.group(1)]}")
            seen.add(key.group(1))
            continue
        src = re.match(r'^"costmodel\.([A-Za-z0-9_]+)"', line)
        if section == "sources" and src and src.group(1) in cpu_keys:
            continue
        out.append(line)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(out) + "\n")
    tmp.replace(path)


if __name__ == "__main__":
    raise SystemExit(main())
