"""The first-look script: its counters, its shortcut, its baseline, and an end-to-end run.

The end-to-end run uses a tiny synthetic data directory, so it needs no shared data and takes
well under a second; the real figures are printed by running the module by hand.
"""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

import numpy as np
import pytest

from bench.fitting import explore, hwnas
from pytest_edgegate.runner.nb201 import CELL_OPS, build_nb201

from .test_nb201 import ARCH_ALL_NONE, ARCH_MIXED, ARCH_ZERO_FEEDS, count_macs_flops

ALL_ARCHS = [
    f"|{a}~0|+|{b}~0|{c}~1|+|{d}~0|{e}~1|{f}~2|"
    for a, b, c, d, e, f in itertools.product(CELL_OPS, repeat=6)
]


@pytest.mark.parametrize("arch", [ARCH_MIXED, ARCH_ALL_NONE, ARCH_ZERO_FEEDS])
@pytest.mark.parametrize("num_classes", [10, 100])
def test_graph_costs_agree_with_the_independent_counter(arch: str, num_classes: int) -> None:
    model = build_nb201(arch, num_classes=num_classes)
    assert explore.graph_costs(model) == count_macs_flops(model)


def test_cost_key_identifies_networks_of_equal_cost() -> None:
    """Architectures sharing a key must give graphs with identical MACs and FLOPs."""
    assert len(ALL_ARCHS) == 15_625
    by_key: dict[tuple[int, ...], list[str]] = {}
    for arch in ALL_ARCHS:
        by_key.setdefault(explore.cost_key(arch), []).append(arch)
    assert 300 < len(by_key) < 400
    rng = np.random.default_rng(5)
    shared = [k for k, v in by_key.items() if len(v) > 1]
    for k in rng.choice(len(shared), 25, replace=False):
        members = by_key[shared[k]]
        first, second = rng.choice(len(members), 2, replace=False)
        assert explore.graph_costs(build_nb201(members[first])) == explore.graph_costs(
            build_nb201(members[second])
        ), shared[k]


def test_network_costs_reuse_builds_but_not_results() -> None:
    archs = [ARCH_MIXED, ARCH_ZERO_FEEDS, ARCH_MIXED]
    macs, flops = explore.network_costs(archs, 10)
    for k, arch in enumerate(archs):
        assert (macs[k], flops[k]) == count_macs_flops(build_nb201(arch))


def test_op_count_baseline_recovers_an_exactly_linear_target() -> None:
    rng = np.random.default_rng(6)
    archs = [ALL_ARCHS[k] for k in rng.choice(len(ALL_ARCHS), 500, replace=False)]
    counts = explore.op_count_matrix(archs)
    assert (counts.sum(axis=1) == 6).all()
    target = 1.0 + counts @ np.array([0.0, 0.1, 0.5, 2.0, 0.4])
    target[3] = np.nan  # missing values are left out of fit and report
    fit, report = hwnas.split_masks(np.arange(len(archs)))
    stats = explore.op_count_baseline(counts, target, fit, report)
    assert stats["within_10_pct"] == 100.0
    assert stats["mape_pct"] < 1e-9
    assert stats["n"] == int(report.sum()) - (1 if report[3] else 0)


def write_fake_data(directory: Path, n: int = 15) -> None:
    """A miniature data directory with the columns the script reads."""
    rng = np.random.default_rng(7)
    archs = [ALL_ARCHS[k] for k in rng.choice(len(ALL_ARCHS), n, replace=False)]
    value_columns = [column for _, column in explore.BASELINE_TARGETS]
    value_columns += ["hwnas_pixel3_latency_ms", "help_pixel2_latency_ms"]
    header = "arch_idx,arch_str,op0,op1,op2,op3,op4,op5,nb201_cifar10_mflops," + ",".join(
        value_columns
    )
    lines = [header]
    b360 = [
        "arch_idx,rep_arch_idx,device,framework,task,lat_ms_median,lat_ms_var,energy_mj,"
        "accuracy,status"
    ]
    for idx, arch in enumerate(archs):
        ops = [item.split("~")[0] for item in arch.replace("+", "").split("|") if item]
        values = rng.uniform(1.0, 10.0, len(value_columns))
        row = [str(idx), arch, *ops, f"{rng.uniform(8, 200):.6g}"]
        row += [f"{v:.6g}" for v in values]
        lines.append(",".join(row))
        b360.append(f"{idx},{idx},pi5,onnx,cifar100,{values[1]:.6g},0.0,{values[3]:.6g},50,ok")
    (directory / hwnas.NB201_FILE).write_text("\n".join(lines) + "\n")
    with gzip.open(directory / hwnas.B360_FILE, "wt") as handle:
        handle.write("\n".join(b360) + "\n")


def test_main_prints_the_tables_on_a_small_data_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_fake_data(tmp_path)
    assert explore.main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "rebuild check" in out
    assert "hwnas_raspi4_latency_ms" in out
    for label, _ in explore.BASELINE_TARGETS:
        assert label in out


def test_main_reports_a_missing_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert explore.main([str(tmp_path / "nowhere")]) == 2
    assert "HW-NAS data not found" in capsys.readouterr().err
