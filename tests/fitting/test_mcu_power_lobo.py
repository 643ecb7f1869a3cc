"""MCU energy leave-one-board-out never reads the held-out board's energy rows.

Runs the power predictor (bench/fitting/mcu_power.py) and the energy composition of
bench/fitting/mlperf_tiny.py on the MLPerf Tiny rows with one board's energy poisoned: that
board's predictions must not move, while poisoning another board must move them (the ratio is
learned there).  Needs ``$EDGEGATE_DATA_DIR/realdev/mlperf_tiny``; skipped without it.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from bench.fitting import mcu_power
from bench.fitting.mlperf_tiny import lobo_energy
from bench.fitting.mlperf_tiny_rows import Row, read_rows


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    root = os.environ.get("EDGEGATE_DATA_DIR")
    path = Path(root) / "realdev" if root else None
    if path is None or not (path / "mlperf_tiny" / "mlperf_tiny.csv").is_file():
        pytest.skip("MLPerf Tiny table not available (set EDGEGATE_DATA_DIR)")
    return read_rows(path)[0]


def _poison(rows: list[Row], board: str) -> list[Row]:
    """The same rows with ``board``'s energies multiplied by 1000."""
    return [
        dataclasses.replace(r, energy_mj=r.energy_mj * 1000.0)
        if r.board == board and r.energy_mj is not None
        else r
        for r in rows
    ]


def _by_key(preds: list[tuple[Row, float]]) -> dict[tuple, float]:
    return {(r.submission, r.board, r.net, r.fp32): v for r, v in preds}


@pytest.mark.parametrize("structure", mcu_power.STRUCTURES)
def test_held_out_power_ignores_the_held_out_boards_energy(rows: list[Row], structure: str) -> None:
    clean = _by_key(mcu_power.held_out_power(rows, structure))
    boards = sorted({k[1] for k in clean})
    assert len(boards) >= 3, boards
    for board in boards:
        poisoned = _by_key(mcu_power.held_out_power(_poison(rows, board), structure))
        mine = [k for k in clean if k[1] == board]
        assert mine
        assert all(poisoned[k] == clean[k] for k in mine), board
        # The other boards learn their ratio on this one: their predictions move.
        others = [k for k in clean if k[1] != board]
        assert all(poisoned[k] != clean[k] for k in others), board


@pytest.mark.parametrize("structure", mcu_power.STRUCTURES)
def test_lobo_energy_is_latency_times_held_out_power(rows: list[Row], structure: str) -> None:
    # Latency stands in for the LOBO fit (a fixed 10 ms): the energy path must take the power
    # from held_out_power and the latency from the LOBO predictions, nothing from the row.
    latency = [(r, 10.0) for r in rows]
    energy = _by_key(lobo_energy(rows, latency, structure))
    power = _by_key(mcu_power.held_out_power(rows, structure))
    assert energy.keys() == power.keys()
    assert all(energy[k] == pytest.approx(power[k] * 10.0) for k in power)
    board = next(iter(power))[1]
    poisoned = _by_key(lobo_energy(_poison(rows, board), latency, structure))
    assert all(poisoned[k] == energy[k] for k in energy if k[1] == board)


def _energy_row(board: str, clock: float, watts: float, submission: str) -> Row:
    """A 10 ms energy row drawing ``watts``."""
    return Row(board, "cortex-m4", clock, "x-cube-ai", False, "kws", 10.0, watts * 10.0,
               submission, "src")  # fmt: skip


def test_structures_learn_their_parameter_per_board() -> None:
    # Two boards, each drawing a known multiple / a known extra current over its datasheet power.
    h7_v, l4_v = 3.0, 1.8  # supply voltages of these runs (SUPPLY_V)
    h7_sheet = mcu_power.datasheet_power_w("stm32h7a3", 280.0, h7_v)
    l4_sheet = mcu_power.datasheet_power_w("stm32l4r5", 120.0, l4_v)
    rows = [
        _energy_row("stm32h7a3", 280.0, 1.2 * h7_sheet, "v1.1/STMicroelectronics/NUCLEO_H7A3ZI_Q"),
        _energy_row("stm32l4r5", 120.0, 1.8 * l4_sheet, "v1.1/STMicroelectronics/NUCLEO_L4R5ZI"),
    ]
    # Geometric mean of the boards' ratios; every board weighs the same.
    assert mcu_power.learn(rows, "ratio") == pytest.approx((1.2 * 1.8) ** 0.5)
    offsets = [0.2 * h7_sheet / h7_v, 0.8 * l4_sheet / l4_v]  # extra current, A
    assert mcu_power.learn(rows, "offset") == pytest.approx(sum(offsets) / 2)
    # The offset is a current drawn at the supply voltage.
    watts = mcu_power.predict_w("stm32u575", 160.0, 1.8, 0.004, "offset")
    assert watts == pytest.approx(mcu_power.datasheet_power_w("stm32u575", 160.0, 1.8) + 0.0072)
    with pytest.raises(ValueError, match="unknown power structure 'cubic'"):
        mcu_power.predict_w("stm32u575", 160.0, 1.8, 1.0, "cubic")
    with pytest.raises(ValueError, match="not positive"):
        mcu_power.predict_w("stm32u575", 160.0, 1.8, -1.0, "offset")


def test_u575_figure_is_the_run_mode_table_row() -> None:
    # DS13086 Table 39: 10.50 mA at 160 MHz, Range 1, SMPS, VDD = 1.8 V.
    sheet = mcu_power.BOARDS["stm32u575"]
    assert sheet.basis == "table"
    assert mcu_power.datasheet_power_w("stm32u575", 160.0, 1.8) == pytest.approx(10.50e-3 * 1.8)


def test_datasheet_power_follows_the_regulator() -> None:
    # LDO: the current does not depend on the supply, so the power follows it.
    ldo_18 = mcu_power.datasheet_power_w("stm32l4r5", 120.0, 1.8)
    assert mcu_power.datasheet_power_w("stm32l4r5", 120.0, 3.0) == pytest.approx(ldo_18 * 3 / 1.8)
    assert ldo_18 == pytest.approx(100e-6 * 120 * 1.8)
    # SMPS: power passes the converter, the supply voltage does not change it.
    assert mcu_power.datasheet_power_w("stm32u575", 160.0, 1.8) == pytest.approx(
        mcu_power.datasheet_power_w("stm32u575", 160.0, 3.3)
    )
    with pytest.raises(KeyError, match="no datasheet run current"):
        mcu_power.datasheet_power_w("nrf5340", 128.0, 1.8)


def test_unknown_supply_voltage_is_named() -> None:
    row = Row("stm32u575", "cortex-m33", 160.0, "x-cube-ai", False, "kws", 1.0, 1.0,
              "v9.9/Someone/NUCLEO_U575ZI_Q", "src")  # fmt: skip
    assert not mcu_power.predictable(row)
    with pytest.raises(KeyError, match="v9.9"):
        mcu_power.supply_voltage(row)
