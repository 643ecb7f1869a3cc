"""ONNX Runtime's 1-vs-2-thread speed-up on NAS-Bench-201 networks, as ``parallel_fraction``.

The Pi 5 data is single-threaded, so it cannot say how a network speeds up on more cores,
yet the estimate runs at the profile's core count by default.  This script measures the
speed-up on *this host* and turns it into the Amdahl ``parallel_fraction`` of the cost
model's compute terms (the only ones :mod:`pytest_edgegate.costmodel.cpu` scales with
threads).  The host is x86 (ours: 2 cores), not an Arm board: carrying the figure to the
Cortex-A profiles is an assumption, stated in their ``[sources]``.

Method: a fixed, seeded sample of networks (``--networks`` of those whose output depends on
the input, built as the ONNX Runtime export variant of the Pi 5 column), each run in one ONNX
Runtime session per thread count (``intra_op_num_threads`` 1 and 2, sequential execution),
``--runs`` timed runs after warm-up, alternating the two sessions so that a change in the
machine's load hits both.  Per network ``s = t2 / t1`` (medians); the cost model's own split of
the same network on the ``cortex-a76`` profile gives the compute share ``f`` of its time, and
Amdahl on the compute part alone, ``s = 1 - f + f * ((1 - p) + p / 2)``, gives
``p = 2 * (1 - s) / f``.

The figure reported for the profiles is the median ``p`` over the networks with at least the
sample's median MACs.  On the small ones the host (an x86 core runs a 16-channel 32x32 layer
in microseconds) spends most of the time in per-operator overhead and thread hand-offs, which
the cost model does not scale with threads anyway (dispatch and fixed terms), and which the
``f`` taken from the Pi 5 model underestimates; the larger networks are the regime the
compute terms describe, and the Pi's layers are several times slower than the host's, so
its threads have more work per hand-off.  The script also prints the median over all networks
and a time-weighted figure, and the load average, because a shared host makes two threads
slower than one whenever the other core is busy.  ``bench/fit_profiles.py`` writes the
recorded figure (it times nothing itself, so its output stays deterministic).

Usage: ``python bench/thread_scaling.py [--networks 20] [--runs 60]``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

# Run as `python bench/NAME.py`: the repository root on the path makes `bench.*` importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fitting.columns import ORT_CIFAR100
from bench.fitting.nb201_cells import output_depends_on_input
from bench.fitting.networks import analyse_arch
from pytest_edgegate.costmodel import estimate
from pytest_edgegate.profiles import load_catalogue
from pytest_edgegate.runner.nb201 import CELL_OPS, build_nb201


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def _session(model_bytes: bytes, threads: int) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--networks", type=int, default=20, help="sample size (seeded)")
    parser.add_argument("--runs", type=int, default=60, help="timed runs per session")
    args = parser.parse_args()
    archs = [
        f"|{a}~0|+|{b}~0|{c}~1|+|{d}~0|{e}~1|{f}~2|"
        for a, b, c, d, e, f in itertools.product(CELL_OPS, repeat=6)
    ]
    archs = [a for a in archs if output_depends_on_input(a)]
    picks = np.random.default_rng(2024).choice(len(archs), args.networks, replace=False)
    sample = [archs[int(k)] for k in sorted(picks)]
    profile = load_catalogue().get("cortex-a76")
    x = np.random.default_rng(0).standard_normal((1, 3, 32, 32), dtype=np.float32)
    print(
        f"host: {os.cpu_count()} CPUs, onnxruntime {ort.__version__}; {len(sample)} networks; "
        f"load average {_load()}"
    )
    print(f"{'MMACs':>7s} {'t1 ms':>8s} {'t2 ms':>8s} {'t2/t1':>6s} {'f':>5s} {'p':>5s}  arch")
    rows = []
    for arch in sample:
        model = build_nb201(
            arch, num_classes=ORT_CIFAR100.num_classes, keep_none=ORT_CIFAR100.keep_none
        )
        data = model.SerializeToString()
        sessions = {n: _session(data, n) for n in (1, 2)}
        for s in sessions.values():
            for _ in range(10):
                s.run(None, {"input": x})
        times: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(args.runs):
            for n, s in sessions.items():
                t0 = time.perf_counter()
                s.run(None, {"input": x})
                times[n].append(time.perf_counter() - t0)
        t1, t2 = statistics.median(times[1]), statistics.median(times[2])
        analysis = analyse_arch(arch, ORT_CIFAR100)
        est = estimate(analysis, profile, threads=1)
        total = sum(est.breakdown[k] for k in ("compute_ms", "memory_ms", "overhead_ms"))
        f = est.breakdown["compute_ms"] / total
        ratio = t2 / t1
        p = min(1.0, max(0.0, 2 * (1 - ratio) / f))
        rows.append((analysis.macs, t1, t2, f, p))
        print(
            f"{analysis.macs / 1e6:7.1f} {t1 * 1e3:8.3f} {t2 * 1e3:8.3f} {ratio:6.3f} {f:5.2f} "
            f"{p:5.2f}  {arch}"
        )
    macs = statistics.median(r[0] for r in rows)
    heavy = [r[4] for r in rows if r[0] >= macs]
    pooled = 2 * sum(r[1] - r[2] for r in rows) / sum(r[3] * r[1] for r in rows)
    print(
        f"parallel_fraction: median {statistics.median(heavy):.3f} over the {len(heavy)} "
        f"networks with at least the sample's median MACs ({macs / 1e6:.0f} M); median "
        f"{statistics.median(r[4] for r in rows):.3f} over all {len(rows)}; time-weighted "
        f"2 * sum(t1 - t2) / sum(f * t1) = {min(1.0, max(0.0, pooled)):.3f}; "
        f"load average {_load()}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
