"""Fuzz the gate: seeded hostile and broken inputs, each run through pytest as a user's test.

Mutated models (onnx's light models and small models built in code: truncation, byte flips,
protobuf field edits, external data escaping the folder, ...), malformed data sets, input
files, markers, profile files and baselines are written into fresh sandboxes and run in
batches by ``python -m pytest`` with ``--edge-target=cortex-a72`` (a share of them with
``--edge-measure``, so onnxruntime runs the mutants under a short ``--edge-timeout``).  Prints
the count of cases by outcome; exits 1 if any case hit an internal error, a crash, a hang, an
escape, an injection or an unclear message.

    python bench/fuzz.py --cases 2000 --seed 1 [--jobs 2] [--strace] [--json out.json]

``--case ID`` re-runs single cases of the same seed (their sandboxes are kept, for a look).
See ``bench/fuzzing/`` for what is mutated and how outcomes are decided.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

# Run as `python bench/NAME.py`: the repository root on the path makes `bench.*` importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fuzzing import FuzzConfig, plan, run_cases
from bench.fuzzing.runner import as_json, summarize_bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000, help="number of cases (2000)")
    parser.add_argument("--seed", type=int, default=1, help="the run's seed (1)")
    parser.add_argument("--jobs", type=int, default=2, help="pytest sessions at once (2)")
    parser.add_argument("--batch", type=int, default=50, help="static cases per session (50)")
    parser.add_argument("--measured-batch", type=int, default=20, help="run cases per session")
    parser.add_argument("--edge-timeout", type=float, default=5.0, help="--edge-timeout (5 s)")
    parser.add_argument("--time-cap", type=float, default=0.2, help="--edge-time-cap (0.2 s)")
    parser.add_argument("--strace", action="store_true", help="also trace file access")
    parser.add_argument("--workdir", type=Path, help="where the sandboxes go (system temp)")
    parser.add_argument("--keep", action="store_true", help="keep every sandbox")
    parser.add_argument("--case", action="append", default=[], help="only these case ids")
    parser.add_argument("--json", type=Path, help="write every case and session here")
    args = parser.parse_args(argv)

    cases = plan(args.cases, args.seed)
    if args.case:
        cases = [c for c in cases if c.id in set(args.case)]
    config = FuzzConfig(
        seed=args.seed,
        batch=args.batch,
        measured_batch=args.measured_batch,
        jobs=args.jobs,
        edge_timeout=args.edge_timeout,
        time_cap=args.time_cap,
        workdir=args.workdir,
        strace=args.strace,
        keep=args.keep or bool(args.case),
    )
    started = time.monotonic()
    print(f"fuzzing {len(cases)} cases, seed {args.seed}, {args.jobs} sessions at a time")

    def progress(record) -> None:
        flag = f" PROBLEMS {record.problems[:2]}" if record.problems else ""
        print(
            f"  session {record.index:>4} {record.kind:<9} {len(record.case_ids):>3} cases "
            f"exit {record.returncode} in {record.seconds:5.1f} s{flag}",
            flush=True,
        )

    report = run_cases(cases, config, progress)
    print()
    print(report.table())
    print(f"\n{time.monotonic() - started:.0f} s in all")
    bad = summarize_bad(report.cases)
    if bad:
        print("\ncases to look at:")
        for line in bad:
            print("  " + line)
    for record in report.sessions:
        for outcome, detail in record.problems:
            print(f"  session {record.index} ({record.root}): {outcome}: {detail[:400]}")
    if args.json:
        args.json.write_text(json.dumps(as_json(report), indent=1, default=str))
    return 0 if report.ok() else 1


if __name__ == "__main__":
    sys.exit(main())
