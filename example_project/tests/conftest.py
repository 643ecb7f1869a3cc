"""Which model is meant for which device: this repository's per-target expectations.

Every edge test runs on every target of pytest.ini.  Two markers (registered in pytest.ini)
say where a test does not apply, or where a model is known not to fit:

``@pytest.mark.only_kinds("cpu", "npu")``
    The test is about a class of devices: a real-time budget needs a latency estimate, which a
    microcontroller profile does not give; an ``npu_coverage`` budget needs an NPU.  Without
    the marker those budgets would fail there ("not available on cortex-m7"), which is right
    for a test that forgot its scope, and wrong for one that has none.  Other kinds skip.

``@pytest.mark.does_not_fit("cortex-m7", breaks=["flash_mb", "sram_mb"], reason="...")``
    The model is evaluated there anyway and known not to fit, for exactly these reasons: a
    strict xfail.  The result is recorded, so the terminal table, the HTML and the JSON show
    the broken figures, and the session stays green.  The expectation is checked both ways:
    if the model starts fitting, XPASS(strict) fails the run (update the marker); if it
    breaks other limits than ``breaks`` names, the test errors at teardown saying which.

Why markers and not ``if`` statements in the tests: the expectations stay next to the
budgets they qualify, read as a support matrix, and a reviewer sees them change in a diff.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _deployment_expectations(request: pytest.FixtureRequest) -> Iterator[None]:
    if "edge_target" not in request.fixturenames:
        yield
        return
    target = request.getfixturevalue("edge_target")
    kinds = request.node.get_closest_marker("only_kinds")
    if kinds is not None and target.kind not in kinds.args:
        wanted = ", ".join(kinds.args)
        pytest.skip(f"{target.id} is a {target.kind} target; this test is for {wanted} targets")
    expected: set[str] = set()
    reasons = []
    for mark in request.node.iter_markers("does_not_fit"):
        if target.id in mark.args:
            expected |= set(mark.kwargs.get("breaks", ()))
            reasons.append(mark.kwargs.get("reason", "known not to fit"))
    if not expected:
        yield
        return
    edge = request.getfixturevalue("edge")
    request.applymarker(
        pytest.mark.xfail(
            reason=f"does not fit {target.id}: {'; '.join(reasons)}",
            raises=pytest.fail.Exception,  # only edgegate's budget failure is expected
            strict=True,
        )
    )
    yield
    broken = {v.metric for result in edge.results for v in result.broken}
    # An AssertionError, not pytest.fail: the xfail above expects pytest.fail's exception,
    # in every phase, and must not swallow this one.
    assert not broken or broken == expected, (
        f"{request.node.nodeid} was expected to break {sorted(expected)} on {target.id} but "
        f"broke {sorted(broken)}: update its does_not_fit marker or fix the model"
    )
