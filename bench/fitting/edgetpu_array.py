"""Refit the Edge TPU's NPU latency constants with the MAC-array utilisation in the model.

Only the NPU latency terms are refitted (the host CPU constants of edgetpu.toml are kept), on
the HW-NAS-Bench Edge TPU column's fitting split; the held-out split's fidelity is printed.
The printed constants are copied into edgetpu.toml by hand (with their [sources] entries).
Usage: python -m bench.fitting.edgetpu_array HWNAS_DIR [--tile N] [--jobs N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench.fitting import columns as cols
from pytest_edgegate.calibrate import fit
from pytest_edgegate.calibrate.agreement import fidelity_stats
from pytest_edgegate.costmodel import estimate
from pytest_edgegate.profiles import load_catalogue

NPU_KEYS = ("npu_eff_mac", "npu_eff_vector", "npu_dispatch_us", "npu_fixed_us", "transfer_fixed_us")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", help="directory with the HW-NAS-Bench files")
    parser.add_argument("--tile", type=int, default=64, help="array side (0: no padding)")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args(argv)
    data = cols.load_data(args.data_dir)
    column = next(c for c in cols.COLUMNS if c.label == "Edge TPU latency")
    t0 = time.perf_counter()
    sets = cols.network_sets(data, (column,), jobs=args.jobs)
    rows = cols.column_rows(data, column)
    print(f"analysed in {time.perf_counter() - t0:.1f} s; {len(rows.rows)} usable rows")
    tpu = load_catalogue().get("edgetpu")
    table = dict(tpu.raw["costmodel"])
    host = {k: v for k, v in table.items() if k not in NPU_KEYS}  # incl. the NPU's switches
    host["npu_array_tile"] = args.tile
    netset = sets[column.variant]
    an_fit = cols.row_analyses(rows, netset, rows.fit)
    an_rep = cols.row_analyses(rows, netset, rows.report)
    result = fit.fit_npu_latency(an_fit, rows.values[rows.fit], tpu, host)
    print("\n".join(result.report.lines()))
    constants = {**host, **{k: float(f"{v:.4g}") for k, v in result.constants.items()}}
    shown = (*NPU_KEYS, "npu_array_tile", "npu_fused_epilogue", "npu_pool_as_conv")
    print("constants:", {k: constants.get(k) for k in shown})
    profile = fit.with_constants(tpu, constants)
    pred = np.array([estimate(a, profile, threads=1).latency_ms for a in an_rep])
    s = fidelity_stats(pred, rows.values[rows.report])
    print(
        f"held-out split (n={len(an_rep)}): MAPE {s['mape_pct']:.2f} %, "
        f"{s['within_10_pct']:.1f} % within +-10 %, {s['within_20_pct']:.1f} % within +-20 %, "
        f"tau {s['kendall_tau']:.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
