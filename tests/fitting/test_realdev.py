"""Pieces of the ncnn fit (bench/fitting/realdev.py): which cores a row ran on, the solver."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.fitting.realdev import _cluster_for, board_profile, nnls_gram  # noqa: E402
from pytest_edgegate.calibrate.fit import nnls  # noqa: E402


@pytest.mark.parametrize(
    ("description", "powersave", "expected"),
    [
        ("Cortex-A53 1.3GHz x 4", "0", ("A53", 1.3, 4)),
        ("ARM Cortex-A53 @ 2.0GHz x 4", "0", ("A53", 2.0, 4)),
        ("Cortex-A55 (ARMv82) 1.416 GHz x 4", "0", ("A55", 1.416, 4)),
        ("Cortex-A72 1.8GHz x 2 + Cortex-A53 1.5GHz x 4", "2", ("A72", 1.8, 2)),
        ("Cortex-A72 1.8GHz x 2 + Cortex-A53 1.5GHz x 4", "1", ("A53", 1.5, 4)),
        ("Quad Core A76 2.4GHz + Quad Core A55 1.8GHz", "2", ("A76", 2.4, 4)),
        ("Cortex-A72 1.8GHz x 2 + Cortex-A53 1.5GHz x 4", "0", None),  # both clusters
        ("NV-Denver2 2.0Ghz x 2 +  Cortex-A57 2.0Ghz x 4 + 256-core NVIDIA Pascal iGPU", "0", None),
        ("Cortex-X1 2.84GHz x1 + Cortex-A78 2.4GHz x3 + Cortex-A55 1.8GHz x4", "2", None),
        ("Kyro485 2.96 GHz + 2.42 GHz x 3 + 1.80 GHz x 4", "2", None),
    ],
)
def test_the_cluster_a_row_ran_on(description, powersave, expected):
    assert _cluster_for(description, powersave) == expected


def test_board_profile_peaks_follow_the_core_type():
    p = board_profile("A76", 2.4, 4)
    assert p.throughput["fp32_gflops"] == pytest.approx(4 * 2.4 * 16)
    assert p.throughput["fp16_gflops"] == pytest.approx(4 * 2.4 * 32)
    assert "fp16_gflops" not in board_profile("A53", 1.2, 4).throughput
    assert p.raw["runtime"] == "ncnn"


def test_gram_nnls_matches_the_reference_solver():
    rng = np.random.default_rng(3)
    a = rng.random((60, 8))
    b = a @ np.array([1.0, 0.0, 2.0, 0.0, 0.5, 0.0, 0.0, 3.0]) + rng.normal(0, 0.01, 60)
    b[::7] -= 2.0  # push some coefficients against their bound
    np.testing.assert_allclose(nnls_gram(a.T @ a, a.T @ b), nnls(a, b), atol=1e-8)
