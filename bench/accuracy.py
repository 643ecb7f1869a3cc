"""Benchmark of the accuracy evaluation (not a test: no assertions on time in the suite).

Usage::

    .venv/bin/python bench/accuracy.py [--samples N] [--threads T] [--runs R] [--no-layers]
                                       [--candidate PATH] [--reference PATH]

Evaluates the example's int8 digit classifier against its fp32 reference on ``--samples``
samples (the example's held-out test split, tiled to the count), metric top-1, with the
layer diagnosis on, the way the gate runs it.  Prints, per run, the wall time of the whole
``evaluate_accuracy`` call (both child processes' start-up included) and samples per second,
then the median, and the fixed cost of an evaluation of one sample.  The budget is 2,000
samples in under 10 s (issue 5: "seconds, not minutes"); the script exits with status 1 when
the median exceeds it, so that it can run in CI, but the test suite never times anything.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from pytest_edgegate.accuracy import AccuracySpec, evaluate_accuracy

EXAMPLE = Path(__file__).resolve().parent.parent / "example_project"
BUDGET_SAMPLES, BUDGET_SECONDS = 2000, 10.0


def tiled_dataset(samples: int, batch: int = 100):
    """``samples`` digits in batches of ``batch``, as a generator (the streaming path)."""
    with np.load(EXAMPLE / "data" / "digits_test.npz") as npz:
        x, y = npz["x"], npz["y"]
    reps = -(-samples // len(y))
    x, y = np.concatenate([x] * reps)[:samples], np.concatenate([y] * reps)[:samples]

    def batches():
        for lo in range(0, samples, batch):
            yield x[lo : lo + batch], y[lo : lo + batch]

    return batches


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=BUDGET_SAMPLES)
    parser.add_argument("--threads", type=int, default=2, help="the device's cores")
    parser.add_argument("--runs", type=int, default=3, help="timed runs (median)")
    parser.add_argument("--no-layers", action="store_true", help="skip the layer diagnosis")
    parser.add_argument("--candidate", default=str(EXAMPLE / "models" / "digits_int8.onnx"))
    parser.add_argument("--reference", default=str(EXAMPLE / "models" / "digits_fp32.onnx"))
    args = parser.parse_args(argv)

    import onnxruntime

    print(
        f"onnxruntime {onnxruntime.__version__}, python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs, {args.samples} samples, threads={args.threads}, "
        f"layer diagnosis {'off' if args.no_layers else 'on'}"
    )
    times = []
    result = None
    for run in range(1, args.runs + 1):
        spec = AccuracySpec(
            args.candidate,
            reference=args.reference,
            dataset=tiled_dataset(args.samples),
            metric="top1",
            threads=args.threads,
            memory_limit_mb=512.0,
            layer_diagnosis=not args.no_layers,
            target_id="bench",
        )
        start = time.perf_counter()
        result = evaluate_accuracy(spec)
        wall = time.perf_counter() - start
        times.append(wall)
        print(
            f"run {run}: {wall:.2f} s wall, {result.n_samples / wall:,.0f} samples/s "
            f"(batch {result.batch_size}, {result.layer_samples} samples diagnosed)"
        )
    assert result is not None
    median = statistics.median(times)
    print(f"median: {median:.2f} s wall, {result.n_samples / median:,.0f} samples/s")
    start = time.perf_counter()
    evaluate_accuracy(
        AccuracySpec(
            args.candidate,
            reference=args.reference,
            dataset=tiled_dataset(1),
            metric="top1",
            threads=args.threads,
            layer_diagnosis=False,
        )
    )
    print(
        f"fixed cost (1 sample, no diagnosis: mostly the two children's start-up): "
        f"{time.perf_counter() - start:.2f} s"
    )
    print(result.diagnosis())
    budget = BUDGET_SECONDS * args.samples / BUDGET_SAMPLES
    if median > budget:
        print(f"OVER BUDGET: {median:.2f} s > {budget:.1f} s", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
