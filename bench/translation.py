"""How close is the *measured* (host-translated) device latency to a real device?  (A benchmark.)

``--edge-latency=measured`` reports the cortex-a76 (Raspberry Pi 5) latency of a model as its
cost-model estimate scaled by what this host measured (:mod:`pytest_edgegate.translate`).
HW-NAS-Bench-360 measured ONNX Runtime on a Pi 5 with one thread for every NAS-Bench-201
network, so the translation can be checked against the real device: a seeded sample of
``--networks`` networks from the reporting split of that column (never used to fit the
profile), each rebuilt as the column's export variant, run by :func:`run_model` on this host
(one thread, the paired rounds with the reference networks), translated, and compared with
the Pi 5's measured latency.  Printed: MAPE and share within +-10 % for

- the cost-model estimate alone (what ``--edge-latency=estimate`` gates);
- the measured translation as the gate computes it (model ratio over the reference
  networks' ratio);
- the model's own ratio without the references (the method before them).

Usage: ``python bench/translation.py [DATA_DIR] [--networks 30] [--time-cap 2]``; DATA_DIR
defaults to ``$EDGEGATE_DATA_DIR/hwnas``.  About 2-3 s per network.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx

# Run as `python bench/NAME.py`: the repository root on the path makes `bench.*` importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fitting import columns as cols
from bench.fitting.networks import analyse_arch
from pytest_edgegate.costmodel import estimate
from pytest_edgegate.costmodel.host import host_work
from pytest_edgegate.profiles import load_catalogue
from pytest_edgegate.runner import RunSpec, run_model
from pytest_edgegate.runner.nb201 import build_nb201
from pytest_edgegate.translate import translate

COLUMN = "Pi 5 ORT latency"


def accuracy(predicted: np.ndarray, measured: np.ndarray) -> str:
    error = np.abs(predicted / measured - 1)
    return f"MAPE {100 * error.mean():5.1f} %, within +-10 % {100 * (error <= 0.1).mean():5.1f} %"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", default=None)
    parser.add_argument("--networks", type=int, default=30)
    parser.add_argument("--time-cap", type=float, default=2.0)
    args = parser.parse_args()
    data = cols.load_data(args.data_dir)
    column = next(c for c in cols.COLUMNS if c.label == COLUMN)
    rows = cols.column_rows(data, column)
    picks = np.random.default_rng(7).choice(np.flatnonzero(rows.report), args.networks, False)
    profile = load_catalogue().get(column.profile)
    print(f"# {COLUMN} vs {profile.id}, {len(picks)} networks of the reporting split; "
          f"load average {os.getloadavg()}")  # fmt: skip
    measured, estimated, translated, unnormalised = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "network.onnx")
        for k in sorted(picks):
            arch = data.arch_strs[rows.network[k]]
            model = build_nb201(
                arch, num_classes=column.variant.num_classes, keep_none=column.variant.keep_none
            )
            onnx.save(model, path)
            analysis = analyse_arch(arch, column.variant)
            est = estimate(analysis, profile, threads=1)
            run = run_model(
                RunSpec(
                    path, threads=1, memory_limit_mb=None, target_id=profile.id,
                    work=host_work(analysis), profile_nodes=False, time_cap_s=0.5,
                    paired_time_s=args.time_cap, calibration_time_s=0.2,
                )
            )  # fmt: skip
            device, how = translate(analysis, est, run)
            measured.append(float(rows.values[k]))
            estimated.append(est.latency_ms)
            translated.append(device)
            unnormalised.append(est.latency_ms * how.get("model_ratio", how["ratio"]))
            print(
                f"  {analysis.macs / 1e6:6.1f} M MACs  Pi 5 {measured[-1]:6.2f} ms  "
                f"estimate {est.latency_ms:6.2f}  measured {device:6.2f} "
                f"(ratio {how['ratio']:.3f}, host {run.timing.p50_ms:.3f} ms)",
                flush=True,
            )
    m = np.array(measured)
    print(f"estimate                      {accuracy(np.array(estimated), m)}")
    print(f"measured (as gated)           {accuracy(np.array(translated), m)}")
    print(f"measured without references   {accuracy(np.array(unnormalised), m)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
