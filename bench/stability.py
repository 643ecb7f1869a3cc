"""How stable are the runner's latency figures, idle and under load?  (A benchmark, not a test.)

For SqueezeNet, ResNet-50 and Inception v1 from onnx's ``backend/test/data/light`` (their
weights come from ``ConstantOfShape``, so the files are small and run in onnxruntime), run
``run_model`` with ``threads=4`` (capped to the host's cores) five times, each in a fresh
child process, first as the machine is, then with a CPU-bound busy process pinned to the
last core.  Per model it prints, for each figure, the median over the five runs, their
spread ((max - min) / median) and the loaded/idle ratio of the medians:

- ``host_p50``: the raw host latency (ms);
- ``p50/calib``: host p50 divided by the summed p50 of the three calibration kernels timed in
  the same child right after it (a dimensionless host-speed-normalised figure);
- ``device``: the emulated ``cortex-a72`` latency the gate reports with
  ``--edge-latency=measured`` (:mod:`pytest_edgegate.translate`: the cost-model estimate
  scaled by measured over modelled host CPU time relative to the reference networks', from
  model, kernels and references interleaved on one thread), in ms; ``device_ci%``: the
  half-width of its 95 % interval within one run;
- ``cpu_p50``: the model's process CPU time (all threads) instead of the wall clock;
- ``ref1_p50``, ``ref1_min``: median and minimum wall time of the same model timed with one
  thread (``reference_threads=1``) in the same child.

Usage: ``python bench/stability.py [--repeats 5] [--time-cap 3] [--threads 4] [--json F]
[--model PATH ... --target ID]``: ``--model`` times other models (the example's int8
MobileNet, say) on ``--target`` instead of the three light ones on cortex-a72.
The load averages before each phase are printed because the host may be shared.

``python bench/stability.py --estimators F [F ...]`` reads the runs ``--json F`` wrote and
prints, for the same paired rounds, the spread and loaded/idle ratio of other ways to reduce
them to one ratio (the middle reference network instead of their sum, no references, the
median of per-round ratios, other quantiles of each series), then over all the files' cells
how many spreads are under 3 % and the RMS standard deviation: the comparison behind the
choices of :mod:`pytest_edgegate.runner.paired`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import onnx

from pytest_edgegate.runner import RunResult, RunSpec, run_model

TARGET = "cortex-a72"
_GATE: dict[tuple[str, str], tuple] = {}


def light_model(name: str) -> str:
    return str(Path(onnx.__file__).parent / "backend/test/data/light" / f"light_{name}.onnx")


#: Label -> model file; ``--model PATH`` replaces them (the label is the file's stem).
MODELS = {name: light_model(name) for name in ("squeezenet", "resnet50", "inception_v1")}


def gate_inputs(path: str, target: str = TARGET) -> tuple:
    """The analysis and cost-model estimate the gate would use for ``path`` on ``target``."""
    if (path, target) not in _GATE:
        from pytest_edgegate.analysis import analyze, load_model
        from pytest_edgegate.costmodel import estimate
        from pytest_edgegate.profiles import load_catalogue

        analysis = analyze(load_model(path))
        _GATE[path, target] = (analysis, estimate(analysis, load_catalogue().get(target)))
    return _GATE[path, target]


FIGURES = ("device", "device_ci%", "host_p50", "cpu_p50", "p50/calib", "ref1_p50", "ref1_min")


def figures(result: RunResult) -> dict[str, float]:
    """The figures of one run: the gate's device figure, then host wall and CPU time."""
    device, (lo, hi) = interval(result)
    return {
        "device": device,
        "device_ci%": 100 * max(device - lo, hi - device) / device,
        "host_p50": result.timing.p50_ms,
        "cpu_p50": result.cpu_timing.p50_ms,
        "p50/calib": result.timing.p50_ms / result.calibration.total_p50_ms,
        "ref1_p50": result.reference.timing.p50_ms,
        "ref1_min": result.reference.timing.min_ms,
    }


def busy_process() -> subprocess.Popen:
    """A CPU-bound Python loop pinned to the last core."""
    core = max(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
    code = (
        "import os\n"
        f"if hasattr(os, 'sched_setaffinity'): os.sched_setaffinity(0, {{{core}}})\n"
        "while True: pass\n"
    )
    return subprocess.Popen([sys.executable, "-c", code])


def run_phase(
    label: str,
    repeats: int,
    time_cap: float,
    threads: int,
    calibration_s: float = 1.0,
    target: str = TARGET,
) -> dict[str, list[dict]]:
    print(f"# {label}: load average {os.getloadavg()}", flush=True)
    out: dict[str, list[dict]] = {m: [] for m in MODELS}
    for i in range(repeats):
        for name, path in MODELS.items():
            from pytest_edgegate.costmodel.host import host_work

            spec = RunSpec(
                path,
                threads=threads,
                memory_limit_mb=None,
                target_id=target,
                time_cap_s=time_cap,
                paired_time_s=time_cap,
                work=host_work(gate_inputs(path, target)[0]),
                reference_threads=1,
                calibration_time_s=calibration_s,
                label=name,
            )
            result = run_model(spec)
            out[name].append(result.to_dict())
            f = figures(result)
            print(
                f"  {label} run {i + 1} {name:13s} device {f['device']:8.2f} ms "
                f"+-{f['device_ci%']:.1f}% ({result.paired['rounds']} rounds)  "
                f"p50 {f['host_p50']:8.2f} ms  "
                f"cpu {f['cpu_p50']:8.2f} ms  1-thread {f['ref1_p50']:8.2f} ms  "
                f"n={result.timing.n_runs:4d} conv={result.calibration.conv_gflops:6.1f} "
                f"GFLOP/s stream={result.calibration.stream_gbps:5.1f} GB/s  "
                f"share conv/gemm/other="
                + "/".join(
                    f"{result.profile.class_share[c]:.2f}" for c in ("conv", "gemm", "other")
                ),
                flush=True,
            )
    return out


def summary(idle: dict, loaded: dict) -> None:
    print()
    header = f"{'model':13s} {'figure':10s} {'idle median':>12s} {'spread':>7s} "
    header += f"{'loaded median':>14s} {'spread':>7s} {'loaded/idle':>11s}"
    print(header)
    for name in idle:
        per = {}
        for phase, runs in (("idle", idle[name]), ("loaded", loaded[name])):
            per[phase] = [figures(RunResult.from_dict(r)) for r in runs]
        for key in FIGURES:
            cells = []
            medians = []
            for phase in ("idle", "loaded"):
                values = [f[key] for f in per[phase]]
                med = statistics.median(values)
                medians.append(med)
                spread = (max(values) - min(values)) / med * 100
                cells.append((med, spread))
            (im, isp), (lm, lsp) = cells
            print(
                f"{name:13s} {key:10s} {im:12.4g} {isp:6.1f}% {lm:14.4g} {lsp:6.1f}% "
                f"{lm / im:11.3f}"
            )
    print("\nDoes each run's 95 % interval of the device latency hold the median of its phase?")
    for name in idle:
        cells = []
        for phase, runs in (("idle", idle[name]), ("loaded", loaded[name])):
            found = [interval(RunResult.from_dict(r)) for r in runs]
            med = statistics.median(d for d, _ in found)
            held = sum(1 for _, (lo, hi) in found if lo <= med <= hi)
            cells.append(f"{phase} {held}/{len(found)}")
        print(f"{name:13s} " + ", ".join(cells))


def interval(result: RunResult) -> tuple[float, tuple[float, float]]:
    """The device latency of one run and its ~95 % interval."""
    from pytest_edgegate.translate import translate

    analysis, estimate = gate_inputs(result.model_path, result.target_id)
    device, how = translate(analysis, estimate, result)
    lo, hi = how.get("device_ci_ms") or (device, device)
    return device, (lo, hi)


ESTIMATORS = (
    "decile (used)",
    "middle reference",
    "no references",
    "per-round median",
    "min",
    "quartile",
    "median",
)


def estimates(result: dict, name: str) -> dict[str, float]:
    """The ratio of one run's paired rounds by each of ESTIMATORS.

    "decile (used)" divides by the reference networks summed into one workload; "middle
    reference" by the middle one of their three ratios (the method before the sum); "no
    references" is the model's own ratio.
    """
    from pytest_edgegate.costmodel.host import host_work
    from pytest_edgegate.runner.hostwork import ratio_estimate, round_ratios

    paired = result["paired"]
    work = host_work(gate_inputs(result["model_path"], result["target_id"])[0])
    references = paired.get("references") or {}
    alone = [
        ratio_estimate(paired | {"references": {ref: ref_work}}, work)["ratio"]
        for ref, ref_work in references.items()
    ]
    return {
        "decile (used)": ratio_estimate(paired, work)["ratio"],
        "middle reference": statistics.median(alone) if alone else math.nan,
        "no references": ratio_estimate(paired | {"references": {}}, work)["ratio"],
        "per-round median": statistics.median(round_ratios(paired, work)),
        "min": ratio_estimate(paired, work, 0.0)["ratio"],
        "quartile": ratio_estimate(paired, work, 0.25)["ratio"],
        "median": ratio_estimate(paired, work, 0.5)["ratio"],
    }


def compare_estimators(paths: list[str]) -> None:
    """Per file, model and estimator: spread over the runs of each phase and loaded/idle;
    then, over every (file, model, phase) cell, how many spreads are under 3 % and the
    root mean square of the cells' standard deviations (of the log, in %)."""
    spreads: dict[str, list[float]] = {key: [] for key in ESTIMATORS}
    sds: dict[str, list[float]] = {key: [] for key in ESTIMATORS}
    for path in paths:
        data = json.loads(Path(path).read_text())
        print(f"# {path}")
        print(f"{'model':13s} {'estimator':17s} {'idle spread':>11s} {'loaded spread':>13s} "
              f"{'loaded/idle':>11s}")  # fmt: skip
        for name in data["idle"]:
            per = {ph: [estimates(r, name) for r in data[ph][name]] for ph in ("idle", "loaded")}
            for key in ESTIMATORS:
                cells = []
                for phase in ("idle", "loaded"):
                    values = [e[key] for e in per[phase]]
                    med = statistics.median(values)
                    cells.append((med, (max(values) - min(values)) / med * 100))
                    spreads[key].append(cells[-1][1])
                    sds[key].append(100 * statistics.stdev(math.log(v) for v in values))
                (im, isp), (lm, lsp) = cells
                print(f"{name:13s} {key:17s} {isp:10.1f}% {lsp:12.1f}% {lm / im:11.3f}")
    print(f"\n{'estimator':17s} {'cells < 3 %':>12s} {'rms sd':>7s}")
    for key in ESTIMATORS:
        under = sum(s < 3 for s in spreads[key])
        rms = math.sqrt(statistics.fmean(sd**2 for sd in sds[key]))
        print(f"{key:17s} {under:6d} / {len(spreads[key]):<3d} {rms:6.2f}%")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--time-cap", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=4, help="the profile's cores")
    parser.add_argument("--json", help="write every RunResult here")
    parser.add_argument(
        "--estimators", metavar="F", nargs="+", help="compare ratio estimators on F ..."
    )
    parser.add_argument(
        "--calibration-time", type=float, default=1.0, help="seconds of calibration kernels"
    )
    parser.add_argument(
        "--model",
        action="append",
        metavar="PATH",
        help="an ONNX model instead of the three light ones (repeatable; label = file stem)",
    )
    parser.add_argument("--target", default=TARGET, help=f"the emulated device ({TARGET})")
    args = parser.parse_args()
    if args.estimators:
        compare_estimators(args.estimators)
        return 0
    if args.model:
        MODELS.clear()
        MODELS.update({Path(p).stem: str(Path(p).resolve()) for p in args.model})
    print(f"# host: {os.cpu_count()} cores; threads={args.threads} requested; {args.target}")
    start = time.time()
    phase = (args.repeats, args.time_cap, args.threads, args.calibration_time, args.target)
    idle = run_phase("idle", *phase)
    busy = busy_process()
    try:
        time.sleep(1.0)
        loaded = run_phase("loaded", *phase)
    finally:
        busy.kill()
        busy.wait()
    summary(idle, loaded)
    print(f"\n# {time.time() - start:.0f} s; load average at the end {os.getloadavg()}")
    if args.json:
        Path(args.json).write_text(json.dumps({"idle": idle, "loaded": loaded}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
