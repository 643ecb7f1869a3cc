"""The cached host work of the reference networks is what their analysis gives today."""

from __future__ import annotations

from pytest_edgegate.runner.reference_work import REFERENCE_WORK
from pytest_edgegate.runner.references import compute_reference_work, reference_networks


def test_the_cached_reference_work_equals_a_fresh_analysis():
    # if this fails after a change of the analysis: python -m pytest_edgegate.runner.references
    assert compute_reference_work() == REFERENCE_WORK


def test_the_networks_carry_the_cached_work():
    networks = reference_networks()
    assert [n[0] for n in networks] == ["reference0", "reference1", "reference2"]
    assert tuple(n[3] for n in networks) == REFERENCE_WORK
    assert all(n[1] and n[2]["input"].shape == (1, 3, 32, 32) for n in networks)
