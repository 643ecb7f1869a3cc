"""A short seeded slice of the fuzz bench (``bench/fuzz.py`` runs 2,000 cases and more).

The cases are mutated models (files and in-memory protos), malformed data sets, input
files, markers, profiles and baselines, each run by pytest in a fresh sandbox as a user's
test; the run must show no internal error, crash, hang, escape, injection or unclear message.
Split in two so that ``-n 2`` runs the static and the executed cases side by side.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bench.fuzzing import FuzzConfig, plan, run_cases
from bench.fuzzing.bases import BUILT, serialized
from bench.fuzzing.cases import Sandbox
from bench.fuzzing.mutate import MUTATIONS, Context
from bench.fuzzing.runner import summarize_bad

SEED = 8
CASES = 120


def _executed(case) -> bool:
    return case.measure or case.kind in ("dataset", "inputs")


@pytest.mark.parametrize("executed", [False, True], ids=["static-and-config", "executed"])
def test_seeded_fuzz_slice(tmp_path: Path, executed: bool) -> None:
    cases = [c for c in plan(CASES, SEED) if _executed(c) == executed]
    config = FuzzConfig(seed=SEED, jobs=1, workdir=tmp_path, edge_timeout=10.0, time_cap=0.1)
    report = run_cases(cases, config)
    print(report.table())
    problems = [f"session {s.index}: {p}" for s in report.sessions for p in s.problems]
    assert report.ok(), "\n".join(summarize_bad(report.cases) + problems)
    assert {c.outcome for c in report.cases} <= {"passed", "failed-clear", "errored"}
    assert sum(c.outcome == "failed-clear" for c in report.cases) > len(cases) // 2
    expected = {"dataset", "inputs", "model", "proto"} if executed else {"marker", "model"}
    assert expected <= {c.kind for c in cases}


def test_the_plan_is_reproducible() -> None:
    first, again, other = plan(200, 3), plan(200, 3), plan(200, 4)
    assert [c.to_dict() for c in first] == [c.to_dict() for c in again]
    assert [c.to_dict() for c in first] != [c.to_dict() for c in other]
    assert {c.kind for c in first} == {
        "model", "proto", "dataset", "inputs", "marker", "profile", "baseline",
    }  # fmt: skip


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_every_mutation_writes_its_case(tmp_path: Path, mutation: str) -> None:
    """Each mutation, on each built base, writes a file (a harness that breaks silently would
    test nothing)."""
    box = Sandbox(tmp_path)
    box.create()
    func = MUTATIONS[mutation][0]
    for i, base in enumerate(BUILT):
        for seed in range(3):
            folder = box.models / f"{base.name}-{seed}"
            folder.mkdir()
            ctx = Context(
                f"c{i:03d}{seed:02d}",
                folder,
                box.canary("c"),
                random.Random(seed),
                serialized(base),
            )
            assert func(ctx)
            assert ctx.model_path.exists() or ctx.model_path.is_symlink()


def test_the_detectors_see_an_escape_and_an_injection(tmp_path: Path) -> None:
    """The harness's own checks, on a session where things did go wrong: a canary read, a file
    written beside the project, a workflow command in stdout, markup in the HTML report."""
    from bench.fuzzing.cases import Case
    from bench.fuzzing.runner import (
        SessionRecord,
        _arm_canaries,
        _check_escapes,
        _check_outputs,
        _snapshot,
        atime_works,
    )

    box = Sandbox(tmp_path)
    box.create()
    read, written, quiet = (Case(f"c0000{i}", "model", "flip", "conv", i) for i in range(3))
    group = [read, written, quiet]
    for case in group:
        box.canary(case.id).write_bytes(b"canary")
    armed = _arm_canaries(box, group)
    before = _snapshot(box.root, box)
    box.canary(read.id).read_bytes()
    (box.root / f"pwned-{written.id}.onnx").write_bytes(b"")
    record = SessionRecord(0, "static", [c.id for c in group], returncode=1)
    _check_escapes(record, group, box, armed, before, FuzzConfig())
    assert (written.outcome, quiet.outcome) == ("escape", "")
    if atime_works(tmp_path):  # else only --strace sees reads
        assert read.outcome == "escape"

    (box.reports / "report.html").write_text(f"<p>{quiet.id}</p><script>x</script>")
    _check_outputs(record, group, box, f"ok\n  ::error::{quiet.id}\n", 1)
    assert quiet.outcome == "injection"
