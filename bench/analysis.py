"""Benchmark of the static analysis on the onnx "light" models, side by side with onnx-tool.

Usage::

    .venv/bin/python bench/analysis.py [--runs N] [--model NAME ...]

For each light model shipped with onnx (``onnx/backend/test/data/light/``) it prints the
node count, parameters, MACs, the best of N CPU times (``time.process_time``; on a shared
machine other processes only ever add time, so the best run is the closest to the code's
own cost, as ``timeit`` advises) of ``analyze`` alone (model already
loaded), of ``load_model`` + ``analyze``, and of onnx-tool on the same file (its
``Model(path)`` + ``shape_infer`` + ``profile``, i.e. load, shapes and MACs), with the ratio
edgegate / onnx-tool of the best times and, as its spread, the median and quartiles of the
ratio of the two runs of each round.  The two tools are timed in alternation, so load from
other processes on the machine weighs on both alike, and the garbage collector runs between
timed calls, so neither pays for collecting the other's objects.

onnx-tool is a bench-only tool, not a dependency of edgegate: install it with
``.venv/bin/pip install onnx-tool``; without it its columns are left out.

The budget is DenseNet-121 analysed in under 0.3 s; the script exits with status 1 when the
budget is exceeded so that it can run in CI, but the test suite never times anything.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import os
import statistics
import sys
import time
from collections.abc import Callable

import onnx

from pytest_edgegate.analysis import analyze, load_model

LIGHT_DIR = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")
MODELS = tuple(
    sorted(
        f[len("light_") : -len(".onnx")]
        for f in (os.listdir(LIGHT_DIR) if os.path.isdir(LIGHT_DIR) else ())
        if f.startswith("light_") and f.endswith(".onnx")
    )
)
BUDGET_MODEL, BUDGET_SECONDS = "densenet121", 0.3


COST_BUDGET_SECONDS = 0.2


def _best_seconds(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def _alternating_times(fns: list[Callable[[], object]], runs: int) -> list[list[float]]:
    """CPU seconds of each function's runs, timed in turn (a, b, a, b, ...)."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for fn, out in zip(fns, times, strict=True):
            gc.collect()  # each tool's garbage is collected outside the other's timing
            start = time.process_time()
            fn()
            out.append(time.process_time() - start)
    return times


def _paired_ratio_spread(ours: list[float], other: list[float]) -> tuple[float, float, float]:
    """Quartiles of the ratio of the two tools' runs of the same round: a round's neighbours
    on the machine weigh on both of its runs, so the ratios vary less than either time."""
    ratios = [a / b for a, b in zip(ours, other, strict=True)]
    q1, median, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
    return q1, median, q3


def _onnx_tool_runner(path: str) -> Callable[[], object] | None:
    """onnx-tool's load + shape inference + profile of ``path``, or None when not installed."""
    try:
        import onnx_tool
    except ImportError:
        return None

    def run() -> object:
        with contextlib.redirect_stdout(io.StringIO()):  # it prints progress
            model = onnx_tool.Model(path, {"verbose": False})
            model.graph.shape_infer(None)
            model.graph.profile()
        return model

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per model (best)")
    parser.add_argument("--model", action="append", choices=MODELS, help="only these models")
    args = parser.parse_args(argv)

    try:
        import onnx_tool
    except ImportError:
        onnx_tool = None
    tool = (
        f"onnx-tool {onnx_tool.VERSION}"
        if onnx_tool is not None
        else "onnx-tool not installed (.venv/bin/pip install onnx-tool to compare)"
    )
    print(
        f"onnx {onnx.__version__}, {tool}, python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs, CPU time, best of {args.runs} runs"
    )
    header = f"{'model':<14}{'nodes':>7}{'params (M)':>12}{'MACs (M)':>11}"
    header += f"{'analyze ms':>12}{'load+analyze ms':>17}"
    print(
        header
        + (f"{'onnx-tool ms':>14}{'ratio':>8}{'paired ratio (IQR)':>22}" if onnx_tool else "")
    )
    status = 0
    slower: list[str] = []
    for name in args.model or MODELS:
        path = os.path.join(LIGHT_DIR, f"light_{name}.onnx")
        loaded = load_model(path)
        result = analyze(loaded)  # warm-up (imports, caches)
        analyze_s = _best_seconds(lambda loaded=loaded: analyze(loaded), args.runs)
        ours: Callable[[], object] = lambda path=path: analyze(load_model(path))  # noqa: E731
        row = (
            f"{name:<14}{len(result.nodes):>7}{result.params / 1e6:>12.3f}"
            f"{result.macs / 1e6:>11.1f}{analyze_s * 1e3:>12.1f}"
        )
        other = _onnx_tool_runner(path)
        if other is None:
            total_s = _best_seconds(ours, args.runs)
            print(f"{row}{total_s * 1e3:>17.1f}")
        else:
            other()  # warm-up
            ours_t, other_t = _alternating_times([ours, other], args.runs)
            total_s, other_s = min(ours_t), min(other_t)
            ratio = total_s / other_s
            q1, median, q3 = _paired_ratio_spread(ours_t, other_t)
            print(
                f"{row}{total_s * 1e3:>17.1f}{other_s * 1e3:>14.1f}{ratio:>8.2f}"
                f"{f'{median:.2f} ({q1:.2f}-{q3:.2f})':>22}"
            )
            if ratio >= 1:
                slower.append(name)
        if name == BUDGET_MODEL and total_s >= BUDGET_SECONDS:
            status = 1
    if onnx_tool is not None:
        print(
            "edgegate (load+analyze) slower than onnx-tool on: "
            + (", ".join(slower) if slower else "none")
        )
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
    seconds = _best_seconds(all_profiles, runs)
    ok = seconds < COST_BUDGET_SECONDS
    print(
        f"cost model: {BUDGET_MODEL} on {estimated} of {len(profiles)} profiles "
        f"(the rest without constants): {seconds * 1e3:.1f} ms; budget < "
        f"{COST_BUDGET_SECONDS * 1e3:.0f} ms: {'within budget' if ok else 'over budget'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
