"""MCU power while inferring, predicted from the datasheet and one ratio learned on other boards.

    power = ratio x datasheet_power(board, supply voltage)

``datasheet_power`` is the MCU's typical run-mode current per MHz (the datasheet's headline
figure) x the clock x a voltage: the supply voltage for an LDO (its current does not depend on
VDD) or the voltage the figure is quoted at for an SMPS (which passes power, not current).
``ratio`` (measured / datasheet power, an inference's memory traffic and the harness above a
datasheet loop) is learned on the energy rows of the boards given, so a held-out board's own
energy rows never enter its prediction (:func:`held_out_power`).  Figures, sources:
docs/mcu-energy.md.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from bench.fitting.mlperf_tiny_rows import Row


@dataclass(frozen=True)
class BoardPower:
    """What is known of a board's power before measuring it."""

    part: str
    run_ua_per_mhz: float  # typical run-mode supply current per MHz, the datasheet's figure
    quoted_v: float  # the supply voltage that figure is quoted at
    regulator: str  # "smps" or "ldo": which regulator makes the core supply on the board
    source: str


#: Datasheet figures of the boards with MLPerf Tiny energy rows and of the catalogue's MCUs.
BOARDS = {
    "stm32h7a3": BoardPower(
        "STM32H7A3",
        120.0,
        3.3,
        "smps",
        "STM32H7A3/7B3 feature list: typical 120 uA/MHz in Run mode, peripherals off, SMPS, "
        "VDD = 3.3 V, 25 C (as quoted in SoCXin/doc docs/ST/H/STM32H7B3.rst; ST datasheet "
        "DS13195 table not checked); SMPS: NUCLEO-H7A3ZI-Q system description 'Operating at "
        "3V with SMPS' (mlcommons/tiny_results_v1.1)",
    ),
    "stm32l4r5": BoardPower(
        "STM32L4R5",
        100.0,
        3.3,
        "ldo",
        "STM32L4R5ZI feature list: 'down to ... 100 uA/MHz run mode' (zephyrproject-rtos/zephyr "
        "boards/st/nucleo_l4r5zi/doc/index.rst, from ST's list; ST datasheet DS12023 table not "
        "checked; quoted voltage not stated there, assumed 3.3 V, unused for an LDO); LDO: "
        "NUCLEO-L4R5ZI (no -P suffix) has no SMPS (STM32L4R5ZIT6U, system description)",
    ),
    "stm32u575": BoardPower(
        "STM32U575",
        19.5,
        3.3,
        "smps",
        "STM32U575 feature list: '19.5 uA/MHz run mode' (zephyrproject-rtos/zephyr "
        "boards/st/nucleo_u575zi_q/doc/index.rst, from ST's list; ST datasheet DS13737 table "
        "not checked; the SMPS figure is ST's 'at 3.3 V' one, assumed); SMPS: NUCLEO-U575ZI-Q "
        "system description 'Operating at 1.8V / SMPS' (mlcommons/tiny_results_v1.1)",
    ),
}

#: (version, submitter, board) -> the supply voltage of that energy run: the energy monitor's
#: setting, "emon voltage" in each energy/log.txt of mlcommons/tiny_results_v1.0..v1.2
#: (closed/<submitter>/results/<system>/<benchmark>/energy/log.txt), a harness setting
#: chosen before the run, not a measurement.
SUPPLY_V = {
    ("v1.0", "STMicroelectronics", "stm32h7a3"): 3.3,
    ("v1.0", "STMicroelectronics", "stm32l4r5"): 1.8,
    ("v1.0", "STMicroelectronics", "stm32u575"): 1.8,
    ("v1.1", "STMicroelectronics", "stm32h7a3"): 3.0,
    ("v1.1", "STMicroelectronics", "stm32l4r5"): 1.8,
    ("v1.1", "STMicroelectronics", "stm32u575"): 1.8,
    ("v1.1", "Krai", "stm32h7a3"): 3.0,
    ("v1.1", "Krai", "stm32l4r5"): 3.0,
    ("v1.1", "Skymizer", "stm32l4r5"): 1.8,
    ("v1.2", "STMicroelectronics", "stm32h7a3"): 3.0,
    ("v1.2", "STMicroelectronics", "stm32l4r5"): 1.8,
    ("v1.2", "STMicroelectronics", "stm32u575"): 1.8,
}


def supply_voltage(row: Row) -> float:
    """The supply voltage of ``row``'s energy run; KeyError names the run when it is unknown."""
    version, submitter = row.submission.split("/")[:2]
    key = (version, submitter, row.board)
    if key not in SUPPLY_V:
        raise KeyError(f"no supply voltage for the energy run {key} ({row.source})")
    return SUPPLY_V[key]


def datasheet_power_w(board: str, clock_mhz: float, supply_v: float) -> float:
    """The MCU's typical run-mode power from its datasheet at ``clock_mhz`` and ``supply_v``."""
    if board not in BOARDS:
        raise KeyError(
            f"no datasheet run current for board {board!r}: expected one of {list(BOARDS)}"
        )
    sheet = BOARDS[board]
    amps = sheet.run_ua_per_mhz * 1e-6 * clock_mhz
    return amps * (sheet.quoted_v if sheet.regulator == "smps" else supply_v)


def _row_ratio(row: Row) -> float:
    """Measured power while inferring (energy / latency) over the datasheet power, one row."""
    if row.energy_mj is None:
        raise ValueError(f"row {row.submission} {row.net} has no energy")
    measured = row.energy_mj / row.latency_ms  # mJ / ms = W
    return measured / datasheet_power_w(row.board, row.clock_mhz, supply_voltage(row))


def learn_ratio(rows: Sequence[Row]) -> float:
    """Measured / datasheet power: geometric mean over boards of each board's geometric mean.

    Every board weighs the same, however many energy rows it has.
    """
    per_board: dict[str, list[float]] = {}
    for row in rows:
        if row.energy_mj is not None and row.board in BOARDS:
            per_board.setdefault(row.board, []).append(math.log(_row_ratio(row)))
    if not per_board:
        raise ValueError("no energy row of a board with datasheet figures to learn the ratio on")
    return math.exp(statistics.fmean(statistics.fmean(v) for v in per_board.values()))


def predictable(row: Row) -> bool:
    """Whether the power of ``row``'s run can be predicted (datasheet figure and supply known)."""
    version, submitter = row.submission.split("/")[:2]
    return row.board in BOARDS and (version, submitter, row.board) in SUPPLY_V


def held_out_power(rows: Sequence[Row]) -> list[tuple[Row, float]]:
    """(row, predicted W) for every predictable energy row, its board held out.

    The ratio for a board is learned on the energy rows of all *other* boards only: the held-out
    board contributes its datasheet figure, clock and supply voltage, never a measurement.
    """
    out = []
    for board in sorted({r.board for r in rows if r.energy_mj is not None}):
        test = [r for r in rows if r.board == board and r.energy_mj is not None and predictable(r)]
        if not test:
            continue
        ratio = learn_ratio([r for r in rows if r.board != board and predictable(r)])
        out += [(r, ratio * datasheet_power_w(board, r.clock_mhz, supply_voltage(r))) for r in test]
    return out
