"""Which ncnn rows the fit uses (bench/fitting/realdev.py): unpinned threads, anomalous blocks."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.fitting.realdev import (  # noqa: E402
    Row,
    _cluster_for,
    _read_rows,
    anomalous_blocks,
    block_deviation,
)

BIG_LITTLE = "Quad Core A76 2.4GHz + Quad Core A55 1.8GHz"
NETS = ("resnet18", "mobilenet", "squeezenet", "vgg16")


def test_one_unpinned_thread_on_big_little_is_a_big_core_row():
    assert _cluster_for(BIG_LITTLE, "0", 1) == ("A76", 2.4, 4)
    assert _cluster_for(BIG_LITTLE, "0", 8) is None  # both clusters
    assert _cluster_for(BIG_LITTLE, "0") is None  # thread count unknown
    assert _cluster_for(BIG_LITTLE, "1", 1) == ("A55", 1.8, 4)


def rows(board: str, scale: float, int8_scale: float | None = None) -> list[Row]:
    out = []
    for k, net in enumerate(NETS):
        for model, s in ((net, scale), (f"{net}_int8", int8_scale or scale)):
            ms = (10.0 + 3 * k) * s
            out.append(Row(board, "A53", 1.5, 4, 4, model, (224, 224, 3), ms, len(out)))
    return out


def test_a_block_off_from_its_peers_on_every_kernel_is_anomalous():
    data = rows("a", 1.0) + rows("b", 1.1) + rows("c", 0.95) + rows("slow", 2.0)
    assert anomalous_blocks(data) == ["slow"]
    ratio = block_deviation(data)[("slow", "A53", False)]
    assert ratio[0] == len(NETS) and ratio[1] == pytest.approx(2.0 / 1.0, rel=0.06)


def test_a_block_off_in_float_only_is_kept():
    data = rows("a", 1.0) + rows("b", 1.1) + rows("c", 0.95) + rows("odd", 1.7, int8_scale=1.2)
    assert anomalous_blocks(data) == []


def test_two_blocks_cannot_tell_which_one_is_off():
    assert anomalous_blocks(rows("a", 1.0) + rows("b", 3.0)) == []


def test_on_the_ncnn_table_only_the_2022_rk3588_android_block_is_left_out():
    root = Path(os.environ.get("EDGEGATE_DATA_DIR", Path(__file__).parents[3] / "shared/data"))
    if not (root / "realdev" / "ncnn" / "ncnn_benchmark.csv.gz").is_file():
        pytest.skip(f"ncnn benchmark table not under {root}/realdev")
    assert anomalous_blocks(_read_rows(root / "realdev")) == [
        "Rockchip RK3588 (Cortex-A76 2.4GHz x 4 + Cortex-A55 1.8GHz x 4)"
    ]


def test_peer_reference_predicts_a_row_from_the_other_boards():
    from bench.fitting.realdev import peer_reference

    data = rows("a", 1.0) + rows("b", 1.0) + rows("c", 1.0)
    ref = peer_reference(data)["A53"]
    assert ref["n"] == len(data) and ref["x1.5_pct"] == 100.0 and ref["tau"] > 0.9
    off = peer_reference(rows("a", 1.0) + rows("b", 2.0))["A53"]
    assert off["x1.5_pct"] == 0.0  # each board predicted by the other, 2x away
