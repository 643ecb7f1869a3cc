"""Benchmark of the HTML report, and the generator of synthetic results documents it uses.

Usage::

    .venv/bin/python bench/report.py [--results N] [--runs R] [-o report.html]
    .venv/bin/python bench/report.py --tests 200 --targets 6 --history 20 --before ec98f7f

Renders a synthetic document of N results (default 1,000; or TESTS x TARGETS) and prints the
median render time (wall clock and CPU) and the file size; with ``--before REV`` also those of
the package as at a git revision (exported with ``git archive``), side by side.  Each render
runs in a fresh process.  The budgets are 2 s and 5 MB for 1,000 results (issue 6), 1 s and
5 MB for 200 tests x 6 targets (issue 19); the script exits with status 1 when the current
code exceeds them (CPU time, since the wall clock of a shared CI machine says little), but the
test suite never times anything.

``synthetic_report`` is also what the report's tests render: a document shaped like the one
the plugin writes (see ``pytest_edgegate/report/html.py``), deterministic for a given seed, with
every optional part present in some results (failing budgets, errors, CPU fallback, measured
latency samples, per-layer accuracy, baseline deltas of every status) and, with
``hostile=True``, HTML and GitHub annotation control strings wherever the data can carry text.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

#: Strings a contributor's test id, model or metadata may carry; the report must show them inert.
HOSTILE = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "::error file=x::pwned%0A::warning::",
)

TARGETS = {
    # id: (profile version, is NPU, is microcontroller)
    "cortex-a72": ("1.0", False, False),
    "edgetpu": ("1.2", True, False),
    "cortex-m7": ("1.0", False, True),
}
#: Further targets for a six-target report (``targets=6``), after the three above.
MORE_TARGETS = {
    "cortex-a53": ("1.1", False, False),
    "ethos-n77": ("1.0", True, False),
    "cortex-a76": ("1.0", False, False),
}
ALL_TARGETS = {**TARGETS, **MORE_TARGETS}
OPS = ("Conv", "Relu", "Add", "MatMul", "Gemm", "MaxPool", "Concat", "Softmax", "Resize", "Mul")


def synthetic_report(
    n: int = 1000,
    *,
    seed: int = 0,
    hostile: bool = False,
    nodes: int = 48,
    samples: int = 200,
    baseline: bool = True,
    targets: int = 3,
    history: int = 0,
    accuracy: bool = False,
) -> dict[str, Any]:
    """A results document with ``n`` results spread over ``targets`` targets (deterministic).

    ``history`` > 0 adds a ``trends`` section over that many baseline commits, and per-node
    explanations of the latency regressions, as a run with a committed baseline has.
    ``accuracy`` gives the results with per-layer accuracy the accuracy metrics too (and a
    budget on one of them), as ``edge.evaluate(reference=..., dataset=...)`` measures them.
    """
    rng = random.Random(seed)
    chosen = list(ALL_TARGETS)[: max(1, min(targets, len(ALL_TARGETS)))]
    results = []
    for i in range(n):
        target = chosen[i % len(chosen)]
        results.append(_result(rng, i, target, nodes, samples, hostile and i % 7 == 0, len(chosen)))
    if accuracy:
        _add_accuracy(random.Random(seed + 1), results)
    results.sort(key=lambda r: (r["nodeid"], r["target"]))
    comparison = _comparison(rng, results, hostile) if baseline else None
    trends = _trends(rng, results, history) if history else None
    if comparison is not None and history:
        comparison["node_changes"] = _node_changes(rng, results, comparison)
    summary: dict[str, dict[str, int]] = {}
    for r in results:
        s = summary.setdefault(
            r["target"], {"passed": 0, "failed": 0, "errors": 0, "regressed": 0, "improved": 0}
        )
        key = "errors" if r["error"] else ("passed" if r["passed"] else "failed")
        s[key] += 1
    return {
        "schema_version": 1,
        "tool": {"name": "pytest-edgegate", "version": "0.1.0", "costmodel_version": "1"},
        "environment": {
            "onnxruntime": "1.31.1",
            "onnx": "1.23.2",
            "python": "3.11.7",
            "git_commit": "abc123def456",
            "profiles": {t: ALL_TARGETS[t][0] for t in chosen},
        },
        "generated": "2026-11-21T06:00:00Z",
        "results": results,
        "comparison": comparison,
        "summary": summary,
        **({"trends": trends} if trends else {}),
    }


def _result(
    rng: random.Random,
    i: int,
    target: str,
    n_nodes: int,
    n_samples: int,
    hostile: bool,
    n_targets: int = 3,
) -> dict[str, Any]:
    version, is_npu, is_mcu = ALL_TARGETS[target]
    name = f"model_{i // n_targets:04d}"
    evil = HOSTILE[i % len(HOSTILE)] if hostile else ""
    nodeid = f"tests/test_models_{i // (20 * n_targets):02d}.py::test_{name}{evil}[{target}]"
    model = f"{name}{evil}.onnx"
    size = round(rng.uniform(0.05, 8.4), 4)
    macs = round(rng.uniform(1.0, 900.0), 3)
    latency = round(macs * rng.uniform(0.02, 0.08) * (0.2 if is_npu else 1.0), 4)
    metrics: dict[str, float] = {
        "size_mb": size,
        "params_m": round(size / 4.1, 4),
        "macs_m": macs,
        "flops_m": round(macs * 2.05, 3),
        "peak_memory_mb": round(size * 1.3 + rng.uniform(0.1, 4), 4),
    }
    sources = {m: "static" for m in metrics}
    unavailable: dict[str, str] = {
        "accuracy_drop": "pass reference= and dataset= to edge.evaluate to measure it"
    }
    notes: list[str] = []
    verdicts = [_verdict("size_mb", "max", 8.0, size, "static")]
    details: dict[str, Any] = {
        "op_histogram": {op: rng.randint(1, 30) for op in OPS[: rng.randint(3, len(OPS))]},
        "params_by_dtype": {"float32": metrics["params_m"]},
        "nodes": [_static_node(rng, k, evil) for k in range(n_nodes)],
    }
    if is_mcu:
        reason = f"{target} is a microcontroller profile: static checks only"
        unavailable.update(latency_ms=reason, energy_mj=reason, npu_coverage=f"{target} has no NPU")
        if i % 11 == 0:
            verdicts.append(_verdict("latency_ms", "max", 50.0, None, None, reason))
        verdicts.append(_verdict("flash_mb", "max", 8.0, size, "static", keyword="device"))
    else:
        metrics["latency_ms"] = latency
        metrics["energy_mj"] = round(latency * rng.uniform(0.5, 2.5), 4)
        sources.update(latency_ms="estimate", energy_mj="estimate")
        verdicts.append(_verdict("latency_ms", "max", 60.0, latency, "estimate"))
        fallback = is_npu and i % 10 == 1
        if is_npu:
            coverage = 0.0 if fallback else round(rng.uniform(0.76, 1.0), 3)
            metrics["npu_coverage"] = coverage
            sources["npu_coverage"] = "estimate"
            verdicts.append(_verdict("npu_coverage", "min", 0.8, coverage, "estimate"))
            if fallback:
                notes.append(
                    "CPU FALLBACK: float model runs entirely on edgetpu's host CPU (Cortex-A53), "
                    f"not on its NPU: Conv on float32 is not supported by the NPU{evil}"
                )
            else:
                notes.append(f"3 of {n_nodes} nodes run on edgetpu's host CPU (2 NPU partition(s))")
        details["estimate"] = _estimate(rng, metrics, n_nodes, is_npu, fallback, evil)
        if i % 3 == 0:
            details["measured"] = _measured(rng, latency, n_samples)
    if i % 5 == 0:
        details["accuracy"] = {
            "sqnr_db": round(rng.uniform(15, 45), 2),
            "layers": [
                {"name": f"layer_{k}{evil}", "sqnr_db": round(rng.uniform(8, 60), 2)}
                for k in range(24)
            ],
        }
    if evil:
        notes.append(f"model metadata: producer {evil}")
    error = None
    if i % 97 == 13:
        error = f"cannot load {model}: the protobuf is truncated (read 812 of 4096 bytes){evil}"
        metrics, sources, verdicts, details = {}, {}, [], {}
    passed = error is None and all(v["passed"] for v in verdicts)
    return {
        "nodeid": nodeid,
        "target": target,
        "profile_version": version,
        "model": model,
        "model_path": f"/work/models/{model}",
        "sha256": f"{rng.getrandbits(256):064x}",
        "metrics": metrics,
        "sources": sources,
        "units": {m: u for m, u in _UNITS.items() if m in metrics},
        "unavailable": unavailable,
        "verdicts": verdicts,
        "notes": notes,
        "error": error,
        "passed": passed,
        "details": details,
    }


_UNITS = {
    "size_mb": "MB",
    "params_m": "M",
    "macs_m": "M",
    "flops_m": "M",
    "peak_memory_mb": "MB",
    "latency_ms": "ms",
    "energy_mj": "mJ",
    "npu_coverage": "",
}


def _verdict(
    metric: str,
    kind: str,
    limit: float,
    value: float | None,
    source: str | None,
    reason: str = "",
    keyword: str | None = None,
) -> dict[str, Any]:
    passed = value is not None and (value <= limit if kind == "max" else value >= limit)
    return {
        "metric": metric,
        "kind": kind,
        "limit": limit,
        "value": value,
        "passed": passed,
        "source": source,
        "reason": reason,
        "keyword": keyword or metric,
    }


def _static_node(rng: random.Random, k: int, evil: str) -> dict[str, Any]:
    op = OPS[k % len(OPS)]
    macs = rng.randint(10_000, 5_000_000) if op in ("Conv", "MatMul", "Gemm") else 0
    return {
        "name": f"/backbone/block{k // 4}/{op.lower()}_{k}{evil if k == 0 else ''}",
        "op_type": op,
        "scope": f"/backbone/block{k // 4}",
        "macs": macs,
        "flops": macs * 2 + rng.randint(0, 50_000),
        "bytes_read": rng.randint(1_000, 2_000_000),
        "bytes_written": rng.randint(1_000, 1_000_000),
        "compute_dtype": "float32",
    }


def _estimate(
    rng: random.Random,
    metrics: dict[str, float],
    n_nodes: int,
    is_npu: bool,
    fallback: bool,
    evil: str,
) -> dict[str, Any]:
    weights = [rng.paretovariate(1.2) for _ in range(n_nodes)]
    total = sum(weights)
    nodes = []
    for k, w in enumerate(weights):
        op = OPS[k % len(OPS)]
        on_cpu = fallback or (is_npu and op in ("Softmax", "Resize") and k < 30)
        device = "cpu" if (on_cpu or not is_npu) else "npu"
        reason = ""
        if is_npu and device == "cpu":
            reason = (
                "the model is float: the NPU runs int8 only"
                if fallback
                else f"{op} is not an operator the NPU runs"
            )
        nodes.append(
            {
                "name": f"/backbone/block{k // 4}/{op.lower()}_{k}{evil if k == 0 else ''}",
                "op_type": op,
                "device": device,
                "time_ms": round(metrics["latency_ms"] * w / total, 6),
                "energy_mj": round(metrics["energy_mj"] * w / total, 6),
                "bound": ("compute", "memory", "overhead")[k % 3],
                "macs": rng.randint(0, 5_000_000),
                "reason": reason,
            }
        )
    return {
        "latency_ms": metrics["latency_ms"],
        "energy_mj": metrics["energy_mj"],
        "threads": 4,
        "npu_coverage": metrics.get("npu_coverage"),
        "partitions": 2 if is_npu and not fallback else 0,
        "cpu_fallback": fallback,
        "transfer_ms": 0.12 if is_npu else 0.0,
        "notes": [],
        "nodes": nodes,
    }


def _measured(rng: random.Random, latency: float, n: int) -> dict[str, Any]:
    centre = latency * 3.1 + 0.2
    samples = sorted(round(centre * rng.lognormvariate(0, 0.08), 4) for _ in range(n))
    if n:
        samples[-1] = round(samples[-1] * 1.6, 4)  # one outlier, as on a shared CI machine

    def q(p: float) -> float:
        return samples[max(0, math.ceil(p * n) - 1)]

    return {
        "p50_ms": q(0.5),
        "p90_ms": q(0.9),
        "p99_ms": q(0.99),
        "min_ms": samples[0],
        "n_runs": n,
        "samples_ms": samples,
        "host_p50_ms": q(0.5),
        "peak_rss_mb": round(rng.uniform(40, 300), 1),
    }


def _comparison(rng: random.Random, results: list[dict[str, Any]], hostile: bool) -> dict:
    entries = []
    for k, r in enumerate(results):
        for metric in ("size_mb", "macs_m", "latency_ms", "energy_mj"):
            current = r["metrics"].get(metric)
            if current is None:
                continue
            roll = rng.random()
            if k % 53 == 5:
                status, factor = "incomparable", 1.0
            elif roll < 0.015 or (k == 2 and metric == "latency_ms"):
                status, factor = "regressed", rng.uniform(1.06, 1.4)
            elif roll < 0.04:
                status, factor = "improved", rng.uniform(0.7, 0.95)
            else:
                status, factor = "unchanged", rng.uniform(0.995, 1.005)
            base = round(current / factor, 6)
            delta = current - base
            entries.append(
                {
                    "nodeid": r["nodeid"],
                    "target": r["target"],
                    "metric": metric,
                    "baseline": base,
                    "current": current,
                    "delta": round(delta, 6),
                    "delta_pct": round(100 * delta / base, 3) if base else None,
                    "threshold": "5%" if metric == "latency_ms" else "2%",
                    "status": status,
                }
            )
    gone = "tests/test_removed.py::test_old_model" + (HOSTILE[0] if hostile else "")
    for target in ("cortex-a72", "edgetpu"):
        entries.append(
            {
                "nodeid": f"{gone}[{target}]",
                "target": target,
                "metric": "latency_ms",
                "baseline": 4.2,
                "current": None,
                "delta": None,
                "delta_pct": None,
                "threshold": "5%",
                "status": "not run",
            }
        )
    entries.sort(key=lambda e: (e["nodeid"], e["target"], e["metric"]))
    warnings = ["profile edgetpu changed version 1.1 -> 1.2: its results are incomparable"]
    if hostile:
        warnings.append(f"baseline entry {HOSTILE[1]} skipped")
    return {"baseline": "git:origin/main", "entries": entries, "warnings": warnings}


def _add_accuracy(rng: random.Random, results: list[dict[str, Any]]) -> None:
    for r in results:
        acc = r["details"].get("accuracy")
        if not acc:
            continue
        top1 = round(rng.uniform(0.9, 1.0), 4)
        r["metrics"].update(
            sqnr_db=acc["sqnr_db"],
            top1_agreement=top1,
            accuracy_drop=round(rng.uniform(0.0, 0.03), 4),
            accuracy_drop_rel=round(rng.uniform(0.0, 0.04), 4),
        )
        for m in ("sqnr_db", "top1_agreement", "accuracy_drop", "accuracy_drop_rel"):
            r["sources"][m] = "measured"
            r["unavailable"].pop(m, None)
        r["units"]["sqnr_db"] = "dB"
        r["verdicts"].append(_verdict("top1_agreement", "min", 0.95, top1, "measured"))
        r["passed"] = r["error"] is None and all(v["passed"] for v in r["verdicts"])


def _trends(rng: random.Random, results: list[dict[str, Any]], commits: int) -> dict[str, Any]:
    """A baseline history of ``commits`` commits: most figures constant, a few moving, one in
    twenty latencies creeping up by 0.5-1.5 % a commit (cumulative drift)."""
    series: dict[str, dict[str, list[float | None]]] = {}
    drift = []
    for k, r in enumerate(results):
        latency = r["metrics"].get("latency_ms")
        if latency is None or k % 4:
            continue
        step = rng.uniform(0.005, 0.015) if k % 20 == 0 else rng.uniform(-0.004, 0.004)
        values = [round(latency / (1 + step) ** (commits - j), 6) for j in range(commits)]
        if k % 7 == 3:
            values[: commits // 3] = [None] * (commits // 3)  # the test is younger
        series[r["nodeid"]] = {"latency_ms": values}
        first = next(v for v in values if v is not None)
        if (latency - first) / first > 0.05:
            drift.append(
                {
                    "key": r["nodeid"],
                    "nodeid": r["nodeid"],
                    "target": r["target"],
                    "metric": "latency_ms",
                    "threshold": "5%",
                    "first": first,
                    "last": latency,
                    "pct": round(100 * (latency - first) / first, 3),
                    "steps": sum(1 for v in values if v is not None),
                    "max_step_pct": round(100 * step, 3),
                }
            )
    return {
        "baseline": "edge-baseline.json",
        "commits": [
            {"commit": f"{rng.getrandbits(48):012x}", "date": f"2026-11-{j + 1:02d}"}
            for j in range(commits)
        ],
        "series": series,
        "drift": drift,
    }


def _node_changes(
    rng: random.Random, results: list[dict[str, Any]], comparison: dict[str, Any]
) -> list[dict[str, Any]]:
    """The nodes behind each latency regression, as ``baseline.gate`` lists them."""
    regressed = {
        (e["nodeid"], e["target"])
        for e in comparison["entries"]
        if e["status"] == "regressed" and e["metric"] in ("latency_ms", "energy_mj")
    }
    out = []
    for r in results:
        if (r["nodeid"], r["target"]) not in regressed:
            continue
        nodes = sorted(r["details"]["estimate"]["nodes"], key=lambda n: -n["time_ms"])[:8]
        rows = []
        for n in nodes:
            before = round(n["time_ms"] / rng.uniform(1.0, 1.6), 6)
            rows.append(
                {"name": n["name"], "op_type": n["op_type"], "device": n["device"],
                 "baseline_ms": before, "current_ms": n["time_ms"],
                 "delta_ms": round(n["time_ms"] - before, 6), "approx": False}
            )  # fmt: skip
        rows.sort(key=lambda x: -abs(x["delta_ms"]))
        out.append({"key": r["nodeid"], "nodeid": r["nodeid"], "target": r["target"],
                    "nodes": rows})  # fmt: skip
    return out


#: Run in a fresh interpreter: render a document with the package found first on ``sys.path``
#: (an old tree exported with ``git archive``, or this checkout) and print the figures.
_CHILD = r"""
import json, statistics, sys, time
tree, doc_path, runs, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
if tree:
    sys.meta_path[:] = [f for f in sys.meta_path
                        if not getattr(f, "__module__", "").startswith("__editable__")]
    sys.path.insert(0, tree)
from pytest_edgegate.report.html import render_html
doc = json.load(open(doc_path))
render_html(json.loads(json.dumps(doc)))  # jinja2 loaded, templates compiled
walls, cpus = [], []
for _ in range(runs):
    w, c = time.perf_counter(), time.process_time()
    html = render_html(doc)
    walls.append(time.perf_counter() - w)
    cpus.append(time.process_time() - c)
if out:
    open(out, "w", encoding="utf-8").write(html)
import pytest_edgegate.report.html as m
print(json.dumps({"wall": statistics.median(walls), "cpu": statistics.median(cpus),
                  "size": len(html.encode("utf-8")), "module": m.__file__}))
"""


def _render_in(tree: str, doc_path: Path, runs: int, out: str) -> dict[str, Any]:
    import json
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", _CHILD, tree, str(doc_path), str(runs), out],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"rendering with {tree or 'this checkout'} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _export(rev: str, dest: Path) -> Path:
    """The package as at ``rev`` (``git archive``, nothing checked out) under ``dest``."""
    import subprocess
    import tarfile

    root = Path(__file__).resolve().parents[1]
    tar = dest / "tree.tar"
    with tar.open("wb") as fh:
        subprocess.run(["git", "archive", rev, "pytest_edgegate"], cwd=root, stdout=fh,
                       check=True)  # fmt: skip
    with tarfile.open(tar) as archive:
        archive.extractall(dest / "tree", filter="data")
    return dest / "tree"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, default=1000, help="results to render")
    parser.add_argument("--tests", type=int, help="tests, each run on every target "
                        "(overrides --results: tests x targets results)")  # fmt: skip
    parser.add_argument("--targets", type=int, default=3, help="targets (3 or up to 6)")
    parser.add_argument("--history", type=int, default=0,
                        help="baseline commits of trend history in the document")  # fmt: skip
    parser.add_argument("--before", metavar="REV",
                        help="also render with the package as at this git revision")  # fmt: skip
    parser.add_argument("--runs", type=int, default=3, help="renders to time (median)")
    parser.add_argument("-o", "--output", help="also keep the HTML here (REV's: .before.html)")
    args = parser.parse_args(argv)

    import json

    n = args.tests * args.targets if args.tests else args.results
    report = synthetic_report(n, targets=args.targets, history=args.history)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        doc_path = Path(tmp) / "results.json"
        doc_path.write_text(json.dumps(report))
        out = args.output or ""
        if args.before:
            before_out = str(Path(out).with_suffix(".before.html")) if out else ""
            tree = _export(args.before, Path(tmp))
            rows.append((f"before ({args.before})", _render_in(str(tree), doc_path, args.runs,
                                                              before_out)))  # fmt: skip
        rows.append(("after (this checkout)", _render_in("", doc_path, args.runs, out)))
    shape = f"{args.tests} tests x {args.targets} targets" if args.tests else f"{n:,} results"
    print(f"results:      {n:,} ({shape}; {args.history} baseline commits of history)")
    print(f"{'':24}{'render wall s':>14}{'render CPU s':>14}{'size MB':>10}")
    for label, r in rows:
        print(f"{label:24}{r['wall']:>14.3f}{r['cpu']:>14.3f}{r['size'] / 1e6:>10.2f}")
    print(
        f"(median of {max(1, args.runs)} renders each, in a fresh process; budget: "
        "under 1 s and 5 MB for 200 tests x 6 targets, 2 s and 5 MB for 1,000 results)"
    )
    after = rows[-1][1]
    limit_s = 1.0 if args.tests else 2.0
    over = n <= 1200 and (after["cpu"] >= limit_s or after["size"] >= 5_000_000)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
