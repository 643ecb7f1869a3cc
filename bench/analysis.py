"""Benchmark of the static analysis on the onnx "light" models (not a test: no assertions).

Usage::

    .venv/bin/python bench/analysis.py [--runs N] [--model NAME ...]

For each model it prints the node count, parameters, MACs and the median wall time of
``analyze`` alone (model already loaded) and of ``load_model`` + ``analyze``.  The budget
is DenseNet-121 (1,746 nodes) analysed in under 0.3 s; the script exits with status 1 when
the budget is exceeded so that it can run in CI, but the test suite never times anything.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import onnx

from pytest_edgegate.analysis import analyze, load_model

LIGHT_DIR = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")
MODELS = (
    "bvlc_alexnet",
    "densenet121",
    "inception_v1",
    "inception_v2",
    "resnet50",
    "shufflenet",
    "squeezenet",
    "vgg19",
    "zfnet512",
)
BUDGET_MODEL, BUDGET_SECONDS = "densenet121", 0.3


COST_BUDGET_SECONDS = 0.2


def _median_seconds(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per model (median)")
    parser.add_argument("--model", action="append", choices=MODELS, help="only these models")
    args = parser.parse_args(argv)

    print(
        f"onnx {onnx.__version__}, python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"median of {args.runs} runs"
    )
    header = f"{'model':<14}{'nodes':>7}{'params (M)':>12}{'MACs (M)':>11}"
    print(f"{header}{'analyze ms':>12}{'load+analyze ms':>17}")
    status = 0
    for name in args.model or MODELS:
        path = os.path.join(LIGHT_DIR, f"light_{name}.onnx")
        loaded = load_model(path)
        result = analyze(loaded)  # warm-up (imports, caches)
        analyze_s = _median_seconds(lambda loaded=loaded: analyze(loaded), args.runs)
        total_s = _median_seconds(lambda path=path: analyze(load_model(path)), args.runs)
        print(
            f"{name:<14}{len(result.nodes):>7}{result.params / 1e6:>12.3f}"
            f"{result.macs / 1e6:>11.1f}{analyze_s * 1e3:>12.1f}{total_s * 1e3:>17.1f}"
        )
        if name == BUDGET_MODEL and total_s >= BUDGET_SECONDS:
            status = 1
    if BUDGET_MODEL in (args.model or MODELS):
        verdict = "over budget" if status else "within budget"
        print(f"budget: {BUDGET_MODEL} load+analyze < {BUDGET_SECONDS * 1e3:.0f} ms: {verdict}")
        status |= _cost_model(args.runs)
    return status


def _cost_model(runs: int) -> int:
    """Cost-model estimate of DenseNet-121 on every catalogue profile, after analysis."""
    from pytest_edgegate.costmodel import CostModelUnavailable, estimate
    from pytest_edgegate.profiles import load_catalogue

    analysis = analyze(load_model(os.path.join(LIGHT_DIR, f"light_{BUDGET_MODEL}.onnx")))
    profiles = list(load_catalogue())

    def all_profiles() -> int:
        done = 0
        for profile in profiles:
            try:
                estimate(analysis, profile)
                done += 1
            except CostModelUnavailable:
                pass  # a profile without cost-model constants
        return done

    estimated = all_profiles()
    seconds = _median_seconds(all_profiles, runs)
    ok = seconds < COST_BUDGET_SECONDS
    print(
        f"cost model: {BUDGET_MODEL} on {estimated} of {len(profiles)} profiles "
        f"(the rest without constants): {seconds * 1e3:.1f} ms; budget < "
        f"{COST_BUDGET_SECONDS * 1e3:.0f} ms: {'within budget' if ok else 'over budget'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
