"""MCU power while inferring, from the datasheet and one parameter learned on other boards.

    ratio  (the chosen structure):  power = k x datasheet_power(board, supply voltage)
    offset (the alternative):       power = datasheet_power + I_off x supply voltage

``datasheet_power`` is the MCU's typical run current per MHz (a run-mode table row at the clock
used where one was found, else the feature list's headline figure; ``BoardPower.basis`` says
which) x the clock x a voltage: the supply voltage for an LDO (its current does not depend on
VDD) or the voltage the figure is quoted at for an SMPS (which passes power, not current).
``k`` or ``I_off`` is learned on the energy rows of the boards given, so a held-out board's own
energy rows never enter its prediction (:func:`held_out_power`).  Figures, sources and why the
ratio is the chosen structure: docs/mcu-energy.md.
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
    basis: str  # "table": a run-mode table row at the clock used; "headline": feature-list figure
    source: str


#: Datasheet figures of the boards with MLPerf Tiny energy rows and of the catalogue's MCUs.
BOARDS = {
    "stm32h7a3": BoardPower(
        "STM32H7A3",
        120.0,
        3.3,
        "smps",
        "headline",
        "STM32H7A3/7B3 feature list: typical 120 uA/MHz in Run mode, peripherals off, SMPS, "
        "VDD = 3.3 V, 25 C (as quoted in SoCXin/doc docs/ST/H/STM32H7B3.rst); ST datasheet "
        "DS13195's run-mode table was not reached (a third-party design note quoting its "
        "Table 37 gives about 34 mA on SMPS at 280 MHz, i.e. 121 uA/MHz, the headline figure at "
        "the clock MLPerf Tiny used); SMPS: NUCLEO-H7A3ZI-Q system description 'Operating at "
        "3V with SMPS' (mlcommons/tiny_results_v1.1)",
    ),
    "stm32l4r5": BoardPower(
        "STM32L4R5",
        100.0,
        3.3,
        "ldo",
        "headline",
        "STM32L4R5ZI feature list: 'down to ... 100 uA/MHz run mode' (zephyrproject-rtos/zephyr "
        "boards/st/nucleo_l4r5zi/doc/index.rst, from ST's list; its operating point is not "
        "stated; ST datasheet DS12023's run-mode table at 120 MHz, Range 1 boost, was not "
        "reached; quoted voltage unused for an LDO); LDO: NUCLEO-L4R5ZI (no -P suffix) has no "
        "SMPS (STM32L4R5ZIT6U, system description)",
    ),
    "stm32u575": BoardPower(
        "STM32U575",
        10.50e3 / 160.0,
        1.8,
        "smps",
        "table",
        "STM32U585xx datasheet (ST DS13086 Rev 10), Table 39 'Current consumption in Run mode "
        "on SMPS, code with data processing running from Flash memory, ICACHE ON (1-way), "
        "prefetch ON', row f_HCLK = 160 MHz (PLL on HSE 16 MHz bypass), Range 1, all "
        "peripherals and AHB/APB disabled, flash bank 2 powered down, all SRAMs on: typical "
        "10.50 mA at VDD = 1.8 V, 25 C (Table 40, VDD = 3.0 V: 7.15 mA); the U585 is the U575 "
        "die with crypto, its own DS13737 was not reached; SMPS: NUCLEO-U575ZI-Q system "
        "description 'Operating at 1.8V / SMPS' (mlcommons/tiny_results_v1.1), the voltage of "
        "every U575 energy run",
    ),
}

#: The two structures :func:`held_out_power` can learn; the first is the chosen one.
STRUCTURES = ("ratio", "offset")

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


def _measured_w(row: Row) -> float:
    """Measured power while inferring (energy / latency) of one energy row."""
    if row.energy_mj is None:
        raise ValueError(f"row {row.submission} {row.net} has no energy")
    return row.energy_mj / row.latency_ms  # mJ / ms = W


def _row_ratio(row: Row) -> float:
    """Measured power while inferring over the datasheet power, one row."""
    return _measured_w(row) / datasheet_power_w(row.board, row.clock_mhz, supply_voltage(row))


def _row_offset_a(row: Row) -> float:
    """Measured minus datasheet power, as a current drawn at the row's supply voltage (A)."""
    volts = supply_voltage(row)
    return (_measured_w(row) - datasheet_power_w(row.board, row.clock_mhz, volts)) / volts


def _per_board(rows: Sequence[Row], value) -> dict[str, list[float]]:
    per_board: dict[str, list[float]] = {}
    for row in rows:
        if row.energy_mj is not None and row.board in BOARDS:
            per_board.setdefault(row.board, []).append(value(row))
    if not per_board:
        raise ValueError("no energy row of a board with datasheet figures to learn the power on")
    return per_board


def learn_ratio(rows: Sequence[Row]) -> float:
    """Measured / datasheet power: geometric mean over boards of each board's geometric mean.

    Every board weighs the same, however many energy rows it has.
    """
    per_board = _per_board(rows, lambda r: math.log(_row_ratio(r)))
    return math.exp(statistics.fmean(statistics.fmean(v) for v in per_board.values()))


def learn_offset(rows: Sequence[Row]) -> float:
    """Measured minus datasheet power as a current at the supply (A): mean over boards of each
    board's mean, every board weighing the same."""
    per_board = _per_board(rows, _row_offset_a)
    return statistics.fmean(statistics.fmean(v) for v in per_board.values())


def learn(rows: Sequence[Row], structure: str = STRUCTURES[0]) -> float:
    """The structure's one parameter (ratio, or offset current in A) learned on ``rows``."""
    if structure == "ratio":
        return learn_ratio(rows)
    if structure == "offset":
        return learn_offset(rows)
    raise ValueError(f"unknown power structure {structure!r}: expected one of {STRUCTURES}")


def predict_w(
    board: str, clock_mhz: float, supply_v: float, param: float, structure: str = STRUCTURES[0]
) -> float:
    """Predicted power while inferring from the datasheet and the learned parameter."""
    if structure not in STRUCTURES:
        raise ValueError(f"unknown power structure {structure!r}: expected one of {STRUCTURES}")
    sheet_w = datasheet_power_w(board, clock_mhz, supply_v)
    watts = param * sheet_w if structure == "ratio" else sheet_w + param * supply_v
    if watts <= 0.0:
        raise ValueError(f"{structure} structure predicts {watts:.3g} W for {board}: not positive")
    return watts


def predictable(row: Row) -> bool:
    """Whether the power of ``row``'s run can be predicted (datasheet figure and supply known)."""
    version, submitter = row.submission.split("/")[:2]
    return row.board in BOARDS and (version, submitter, row.board) in SUPPLY_V


def held_out_power(rows: Sequence[Row], structure: str = STRUCTURES[0]) -> list[tuple[Row, float]]:
    """(row, predicted W) for every predictable energy row, its board held out.

    The structure's parameter for a board is learned on the energy rows of all *other* boards
    only: the held-out board contributes its datasheet figure, clock and supply voltage, never
    a measurement.
    """
    out = []
    for board in sorted({r.board for r in rows if r.energy_mj is not None}):
        test = [r for r in rows if r.board == board and r.energy_mj is not None and predictable(r)]
        if not test:
            continue
        param = learn([r for r in rows if r.board != board and predictable(r)], structure)
        out += [
            (r, predict_w(board, r.clock_mhz, supply_voltage(r), param, structure)) for r in test
        ]
    return out
