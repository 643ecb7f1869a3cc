"""Paired rounds: the model and the calibration kernels, interleaved run by run.

Why.  The host's speed drifts while a child runs: another tenant starts, the clock steps, the
neighbours' memory traffic comes and goes.  A host-to-device translation that divides the
model's time by speeds measured *after* the model's timing inherits every drift between the
two windows.  Interleaving one model run with one run of each kernel, round after round,
exposes both to the same conditions within milliseconds; the translation then takes, per
round, the model's CPU time over the time the kernels of that same round imply, and the
median over rounds.  Drifts slower than a round cancel.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

MIN_ROUNDS = 7
MAX_ROUNDS = 400


def _cpu_ms(run: Callable[[], object]) -> float:
    start = time.process_time_ns()
    run()
    return (time.process_time_ns() - start) / 1e6


def paired_rounds(run_model: Callable[[], object], threads: int, time_cap_s: float) -> dict:
    """CPU milliseconds per round of the model and of each kernel, plus the kernels' work."""
    from pytest_edgegate.runner.calibration import kernel_models
    from pytest_edgegate.runner.session import create_session

    kernels: list[tuple[str, int, int, Any, dict]] = []
    for name, _description, flops, nbytes, model, feeds in kernel_models():
        session = create_session(model, threads)
        session.run(None, feeds)  # warm-up
        kernels.append((name, flops, nbytes, session, feeds))
    run_model()
    rounds: dict[str, list[float]] = {"model": [], **{k[0]: [] for k in kernels}}
    deadline = time.perf_counter() + time_cap_s
    while len(rounds["model"]) < MAX_ROUNDS:
        rounds["model"].append(_cpu_ms(run_model))
        for name, _flops, _nbytes, session, feeds in kernels:
            rounds[name].append(_cpu_ms(lambda s=session, f=feeds: s.run(None, f)))
        if len(rounds["model"]) >= MIN_ROUNDS and time.perf_counter() > deadline:
            break
    return {
        "rounds": len(rounds["model"]),
        "cpu_ms": {k: [round(v, 6) for v in vs] for k, vs in rounds.items()},
        "work": {name: {"flops": flops, "bytes": nbytes} for name, flops, nbytes, _, _ in kernels},
    }
