"""Readers, cleaning, split, isomorphism grouping and fidelity statistics of the HW-NAS data.

The statistics are what the fidelity benchmark will publish, so they are checked against
brute-force definitions; the readers are checked against the README's description of the
files (row counts, cleaning rules) on the real data, and skip without it.
"""

from __future__ import annotations

import gzip
import math
import time
from pathlib import Path

import numpy as np
import pytest

from bench.fitting import hwnas

# --------------------------------------------------------------------------------------------
# Kendall's tau-b and fidelity statistics (no data needed)


def brute_force_tau_b(x: np.ndarray, y: np.ndarray) -> float:
    """Tau-b from its definition, O(n^2): the reference for the fast implementation."""
    sx = np.sign(x[:, None] - x[None, :])
    sy = np.sign(y[:, None] - y[None, :])
    upper = np.triu_indices(len(x), 1)
    s = (sx * sy)[upper].sum()
    tx = (sx[upper] != 0).sum()
    ty = (sy[upper] != 0).sum()
    return float(s / math.sqrt(tx * ty))


@pytest.mark.parametrize("n", [2, 3, 7, 64, 257, 1000])
@pytest.mark.parametrize("ties", [False, True])
def test_kendall_tau_b_matches_its_definition(n: int, ties: bool) -> None:
    rng = np.random.default_rng(n + ties)
    if ties:  # few distinct values: many ties in x, y and jointly
        x = rng.integers(0, 5, n).astype(float)
        y = x + rng.integers(0, 3, n)
    else:
        x = rng.standard_normal(n)
        y = x + rng.standard_normal(n)
    if n == 2 and ties and (x[0] == x[1] or y[0] == y[1]):
        assert math.isnan(hwnas.kendall_tau_b(x, y))
        return
    assert hwnas.kendall_tau_b(x, y) == pytest.approx(brute_force_tau_b(x, y), abs=1e-12)


def test_kendall_tau_b_edge_cases() -> None:
    assert hwnas.kendall_tau_b([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert hwnas.kendall_tau_b([1, 2, 3], [30, 20, 10]) == pytest.approx(-1.0)
    assert math.isnan(hwnas.kendall_tau_b([1.0], [2.0]))
    assert math.isnan(hwnas.kendall_tau_b([1, 1, 1], [1, 2, 3]))
    with pytest.raises(ValueError):
        hwnas.kendall_tau_b([1, 2], [1, 2, 3])


def test_kendall_tau_b_is_fast() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(15_625)
    y = x + rng.standard_normal(15_625)
    start = time.perf_counter()
    hwnas.kendall_tau_b(x[:3125], y[:3125])
    hwnas.kendall_tau_b(x, y)  # the whole data set, too
    assert time.perf_counter() - start < 0.5


def test_fidelity_stats_on_a_hand_example() -> None:
    meas = [1.0, 2.0, 4.0, 8.0]
    pred = [1.05, 2.5, 4.0, 7.0]  # errors 5 %, 25 %, 0 %, 12.5 %
    stats = hwnas.fidelity_stats(pred, meas)
    assert stats["n"] == 4
    assert stats["mape_pct"] == pytest.approx(100 * (0.05 + 0.25 + 0.0 + 0.125) / 4)
    assert stats["within_10_pct"] == pytest.approx(50.0)
    assert stats["within_20_pct"] == pytest.approx(75.0)
    assert stats["kendall_tau"] == pytest.approx(1.0)


def test_fidelity_stats_counts_exact_ten_percent_as_within() -> None:
    stats = hwnas.fidelity_stats([1.1, 0.9, 2.2], [1.0, 1.0, 2.0])
    assert stats["within_10_pct"] == pytest.approx(100.0)


def test_fidelity_stats_leaves_out_missing_pairs() -> None:
    stats = hwnas.fidelity_stats([1.0, np.nan, 3.0, 4.0], [1.0, 2.0, np.nan, 0.0])
    assert stats["n"] == 1
    assert stats["mape_pct"] == 0.0
    empty = hwnas.fidelity_stats([np.nan], [1.0])
    assert empty["n"] == 0 and math.isnan(empty["mape_pct"])
    with pytest.raises(ValueError):
        hwnas.fidelity_stats([1.0, 2.0], [1.0])


def test_split_masks_follow_the_readme_convention() -> None:
    fit, report = hwnas.split_masks(range(11))
    assert report.tolist() == [i % 5 == 0 for i in range(11)]
    assert (fit == ~report).all()
    assert hwnas.is_report_arch(15_620) and not hwnas.is_report_arch(15_624)


def test_canonical_cell_merges_isomorphic_cells() -> None:
    # skip_connect passes its input through: conv-then-skip equals skip-then-conv
    a = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|"
    b = "|skip_connect~0|+|none~0|nor_conv_3x3~1|+|none~0|none~1|skip_connect~2|"
    assert hwnas.canonical_cell(a) == hwnas.canonical_cell(b)
    # addition commutes
    c = "|nor_conv_1x1~0|+|avg_pool_3x3~0|skip_connect~1|+|none~0|none~1|skip_connect~2|"
    d = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|none~0|none~1|skip_connect~2|"
    assert hwnas.canonical_cell(c) == hwnas.canonical_cell(d)
    assert hwnas.canonical_cell(a) != hwnas.canonical_cell(c)
    assert hwnas.group_by_canonical_cell([a, c, b, d]) == [[0, 2], [1, 3]]


def test_resolve_data_dir_names_the_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=hwnas.NB201_FILE):
        hwnas.resolve_data_dir(tmp_path)


def test_readers_apply_the_cleaning_rules_on_a_small_file(tmp_path: Path) -> None:
    header = (
        "arch_idx,arch_str,op0,op1,op2,op3,op4,op5,hwnas_raspi4_latency_ms,"
        "hwnas_edgetpu_latency_ms,b360_pi5_litert_cifar100_latency_ms,"
        "b360_pi5_litert_cifar100_energy_mj\n"
    )
    arch = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    ops = ",".join(["none"] * 6)
    (tmp_path / hwnas.NB201_FILE).write_text(
        header + f"1,{arch},{ops},10.5,,0.003,0.001\n" + f"0,{arch},{ops},0.02,-1,2.5,3.5\n"
    )
    with gzip.open(tmp_path / hwnas.B360_FILE, "wt") as handle:
        handle.write(
            "arch_idx,rep_arch_idx,device,framework,task,lat_ms_median,lat_ms_var,"
            "energy_mj,accuracy,status\n"
            "0,0,pi5,onnx,cifar100,1.5,0.1,2.0,50,ok\n"
            "1,0,pi5,onnx,cifar100,0.004,0.1,0.001,50,ok\n"
            "1,0,pi5,litert,cifar100,1.5,0.1,2.0,50,failed\n"
            "2,2,pixel,litert,cifar100,1.0,0.1,,40,ok\n"
        )
    rows = hwnas.read_nb201_metrics(tmp_path)
    assert [r.arch_idx for r in rows] == [0, 1]
    assert math.isnan(rows[0].get("hwnas_raspi4_latency_ms"))  # < 0.05 ms
    assert math.isnan(rows[0].get("hwnas_edgetpu_latency_ms"))  # -1
    assert math.isnan(rows[1].get("hwnas_edgetpu_latency_ms"))  # empty
    assert rows[1].get("hwnas_raspi4_latency_ms") == 10.5
    assert rows[0].get("b360_pi5_litert_cifar100_energy_mj") == 3.5
    # the energy measured with a dropped latency goes with it
    assert math.isnan(rows[1].get("b360_pi5_litert_cifar100_energy_mj"))
    assert rows[0].ops == ("none",) * 6
    np.testing.assert_array_equal(
        hwnas.metric_array(rows, "hwnas_raspi4_latency_ms"), [np.nan, 10.5]
    )

    onnx_rows = hwnas.read_b360(tmp_path, framework="onnx")
    assert [(r.arch_idx, r.lat_ms_median, r.energy_mj) for r in onnx_rows][0] == (0, 1.5, 2.0)
    assert math.isnan(onnx_rows[1].lat_ms_median) and math.isnan(onnx_rows[1].energy_mj)
    failed = hwnas.read_b360(tmp_path, framework="litert", device="pi5")
    assert len(failed) == 1 and math.isnan(failed[0].lat_ms_median)
    pixel = hwnas.read_b360(tmp_path, device="pixel")
    assert pixel[0].lat_ms_median == 1.0 and math.isnan(pixel[0].energy_mj)
    assert hwnas.isomorphism_groups(hwnas.read_b360(tmp_path)) == {0: [0, 1], 2: [2]}


# --------------------------------------------------------------------------------------------
# the real data (skipped without it)


def test_nb201_file_has_every_architecture_once(nb201_records) -> None:
    assert [r.arch_idx for r in nb201_records] == list(range(15_625))
    assert len({r.arch_str for r in nb201_records}) == 15_625


def test_no_latency_under_the_floor_survives_cleaning(nb201_records) -> None:
    columns = [c for c in nb201_records[0].metrics if c.endswith("_latency_ms")]
    for column in columns:
        values = hwnas.metric_array(nb201_records, column)
        assert not np.any(values < hwnas.MIN_VALID_LATENCY_MS), column
    pi4 = hwnas.metric_array(nb201_records, "hwnas_raspi4_latency_ms")
    assert int(np.isnan(pi4).sum()) == 128  # the degenerate networks the README mentions
    tpu = hwnas.metric_array(nb201_records, "hwnas_edgetpu_latency_ms")
    assert int(np.isfinite(tpu).sum()) == 8_787


def test_b360_slice_and_isomorphism_groups(b360_pi5_onnx, nb201_records) -> None:
    assert len(b360_pi5_onnx) == 15_625
    groups = hwnas.isomorphism_groups(b360_pi5_onnx)
    assert len(groups) == 6_466  # NAS-Bench-201's number of unique cells
    assert all(rep == members[0] for rep, members in groups.items())
    # the file's grouping is exactly NAS-Bench-201's zero-aware canonical form
    by_form = hwnas.group_by_canonical_cell([r.arch_str for r in nb201_records])
    assert {tuple(g) for g in by_form} == {tuple(m) for m in groups.values()}
    # b360 copies the representative's measurement to every member
    pi5 = hwnas.metric_array(nb201_records, "b360_pi5_onnx_cifar100_latency_ms")
    for rep, members in groups.items():
        assert np.all(pi5[members] == pi5[rep])


def test_b360_file_matches_the_joined_columns(b360_pi5_onnx, nb201_records) -> None:
    joined = hwnas.metric_array(nb201_records, "b360_pi5_onnx_cifar100_latency_ms")
    direct = np.array([r.lat_ms_median for r in b360_pi5_onnx])
    np.testing.assert_allclose(direct, joined, rtol=1e-5)
