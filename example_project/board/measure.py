"""Time ONNX models on the machine this runs on and write the CSV ``edgegate calibrate`` reads.

Run it on your board (it needs only numpy and onnxruntime)::

    python board/measure.py models/*.onnx --threads 4 -o board/measurements.csv

Each model runs with ONNX Runtime (sequential execution, ``--threads`` intra-op threads, the
CPU provider) on seeded random inputs of its own shapes, dynamic dimensions set to 1; the
latency is the median of ``--runs`` timed runs after ``--warmup`` untimed ones, which is
robust to the odd interrupted run.  Model paths are written relative to the CSV, so the CSV
and the models can be copied back to the machine that calibrates together.

``--stand-in`` writes what a hypothetical board would measure instead of timing this
machine: the estimates of :data:`STAND_IN_BOARD` (an overclocked Raspberry Pi 4 whose
runtime has per-node and per-inference overheads) plus seeded +-3 % noise.  The committed
``board/measurements.csv`` was made that way, so the README's worked example runs anywhere;
replace it with real measurements.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

#: The hypothetical board of the stand-in: a Raspberry Pi 4 clocked at 1.8 GHz instead of the
#: profile's 1.5 GHz (every compute efficiency, a share of the 1.5 GHz peak, x 1.2), its
#: runtime adding 5 us per node and 80 us per inference.
STAND_IN_BOARD = {"base": "cortex-a72", "speed": 1.2, "extra_dispatch_us": 5.0, "fixed_us": 80.0}
NUMPY_TYPES = {"tensor(float)": np.float32, "tensor(int64)": np.int64, "tensor(uint8)": np.uint8}


def input_shapes(model: Path) -> dict[str, list[int]]:
    """Each input's shape with dynamic dimensions set to 1 (what the CSV records)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return {
        i.name: [d if isinstance(d, int) and d > 0 else 1 for d in i.shape]
        for i in session.get_inputs()
    }


def time_model(model: Path, threads: int, runs: int, warmup: int) -> float:
    """Median latency in ms of one inference of ``model`` on this machine."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {}
    for i in session.get_inputs():
        shape = [d if isinstance(d, int) and d > 0 else 1 for d in i.shape]
        dtype = NUMPY_TYPES.get(i.type, np.float32)
        feeds[i.name] = rng.standard_normal(shape).astype(dtype)
    for _ in range(warmup):
        session.run(None, feeds)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def stand_in(models: list[Path], threads: int) -> list[float]:
    """What :data:`STAND_IN_BOARD` would measure: its estimates with seeded +-3 % noise."""
    from pytest_edgegate.analysis import analyze, load_model
    from pytest_edgegate.calibrate import levels
    from pytest_edgegate.calibrate.fit import with_constants
    from pytest_edgegate.costmodel import estimate
    from pytest_edgegate.profiles import load_catalogue

    base = load_catalogue().get(STAND_IN_BOARD["base"])
    table = base.raw["costmodel"]
    compute = ("conv", "pointwise", "depthwise", "gemm", "vector")
    constants = levels.apply(table, {f"level_{g}": 1 / STAND_IN_BOARD["speed"] for g in compute})
    constants["dispatch_us"] = table["dispatch_us"] + STAND_IN_BOARD["extra_dispatch_us"]
    constants["fixed_us"] = STAND_IN_BOARD["fixed_us"]
    board = with_constants(base, constants)
    rng = np.random.default_rng(2026)
    out = []
    for model in models:
        latency = estimate(analyze(load_model(model), input_shapes(model)), board, threads)
        out.append(round(latency.latency_ms * rng.uniform(0.97, 1.03), 3))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="CSV")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--stand-in", action="store_true", help="do not time: see docstring")
    args = parser.parse_args(argv)
    models = sorted(args.models)
    if args.stand_in:
        latencies = stand_in(models, args.threads)
        header = [
            "# Stand-in measurements, not a real board: python board/measure.py --stand-in",
            f"# ({STAND_IN_BOARD}, +-3 % noise). Replace them with your board's.",
        ]
    else:
        latencies = [time_model(m, args.threads, args.runs, args.warmup) for m in models]
        header = [f"# Measured by board/measure.py, median of {args.runs} runs"]
    rows = ["model,latency_ms,threads,input_shapes"]
    for model, latency in zip(models, latencies, strict=True):
        shapes = ";".join(f"{k}={'x'.join(map(str, v))}" for k, v in input_shapes(model).items())
        relative = os.path.relpath(model, args.output.parent)
        rows.append(f"{relative},{latency},{args.threads},{shapes}")
        print(f"{relative}: {latency:.3f} ms at {args.threads} threads")
    args.output.write_text("\n".join(header + rows) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
