"""Paired rounds: the model, the host kernels and the reference networks, interleaved run by
run on one thread, so that the model and the speeds it is divided by share one time window.

The arithmetic on the rounds is :mod:`pytest_edgegate.runner.hostwork`; why rounds are
interleaved, single-threaded, reduced by deciles and referenced: ``docs/translation.md``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from pytest_edgegate.runner.hostwork import (
    QUANTILE,
    is_precise,
    needed,
    ratio_estimate,
    work_units,
)

#: Intra-op threads of the paired rounds (model and kernels alike); see the module docstring.
PAIRED_THREADS = 1
#: Fewest rounds, even past the cap: the decile of fewer runs is just their minimum.  A model
#: taking seconds per run gets no more than that, so the child stays within its timeout.
MIN_ROUNDS = 3
#: Rounds before the first precision check (no interval is proper before 53 anyway).
FIRST_CHECK = 10
MAX_ROUNDS = 2000
#: Target half-width of the ratio's 95 % interval, relative to the ratio.
PAIRED_REL_CI = 0.01

__all__ = ["MIN_ROUNDS", "PAIRED_REL_CI", "PAIRED_THREADS", "QUANTILE", "paired_rounds"]


def _cpu_ms(run: Callable[[], object]) -> float:
    start = time.process_time_ns()
    run()
    return (time.process_time_ns() - start) / 1e6


def paired_rounds(
    run_model: Callable[[], object],
    time_cap_s: float,
    work: Mapping[str, float] | None = None,
    rel_ci: float = PAIRED_REL_CI,
    references: bool = True,
) -> dict:
    """CPU milliseconds per round of the model, each kernel and each reference network, plus
    the kernels' and the references' work.

    ``run_model`` must already use ``PAIRED_THREADS`` threads and be warm.
    """
    from pytest_edgegate.runner.host_speed import kernel_models
    from pytest_edgegate.runner.ort_session import create_session
    from pytest_edgegate.runner.references import reference_networks

    networks = reference_networks() if references else []
    wanted = needed(work)
    for _name, _model, _feeds, ref_work in networks:
        wanted |= needed(ref_work)
    kernels: list[tuple[str, Any, dict]] = []
    kernel_work: dict[str, dict[str, int]] = {}
    for name, _description, flops, nbytes, nodes, model, feeds in kernel_models():
        if name not in wanted:
            continue
        session = create_session(model, PAIRED_THREADS)
        session.run(None, feeds)  # warm-up
        kernels.append((name, session, feeds))
        kernel_work[name] = work_units(flops, nbytes, nodes)
    for name, model, feeds, _work in networks:
        session = create_session(model, PAIRED_THREADS)
        session.run(None, feeds)  # warm-up
        kernels.append((name, session, feeds))
    rounds: dict[str, list[float]] = {"model": [], **{k[0]: [] for k in kernels}}
    reference_work = {name: dict(ref_work) for name, _m, _f, ref_work in networks}
    record = {"cpu_ms": rounds, "work": kernel_work, "references": reference_work}
    converged = False
    start = time.perf_counter()
    deadline = start + time_cap_s
    next_check = FIRST_CHECK
    while len(rounds["model"]) < MAX_ROUNDS:
        rounds["model"].append(_cpu_ms(run_model))
        for name, session, feeds in kernels:
            rounds[name].append(_cpu_ms(lambda s=session, f=feeds: s.run(None, f)))
        n = len(rounds["model"])
        if n < MIN_ROUNDS:
            continue
        if work is not None and n >= next_check:
            next_check = n + max(1, n // 10)
            try:
                converged = is_precise(ratio_estimate(record, work), rel_ci)
            except (ZeroDivisionError, ValueError):
                converged = False
            if converged:
                break
        if time.perf_counter() > deadline:
            break
    return {
        "threads": PAIRED_THREADS,
        "rounds": len(rounds["model"]),
        "converged": converged,
        "rel_ci": rel_ci,
        "time_cap_s": time_cap_s,
        "elapsed_s": round(time.perf_counter() - start, 6),
        "cpu_ms": {k: [round(v, 6) for v in vs] for k, vs in rounds.items()},
        "work": kernel_work,
        "references": reference_work,
    }
