"""MLPerf Tiny result rows as the MCU fit sees them: board, core, clock, runtime, network.

Reads ``mlperf_tiny/mlperf_tiny.csv`` (MLPerf Tiny inference results v1.0-v1.3,
mlcommons/tiny_results_v1.x) and keeps the rows a Cortex-M cost model describes: a Cortex-M
core running the network itself (no NPU, DSP co-processor, FPGA or application processor) with
a named inference engine.  Every other row is counted with the reason it was left out.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

BENCHMARKS = {
    "kws": "kws", "keyword_spotting": "kws", "vww": "vww", "visual_wake_words": "vww",
    "ic": "ic", "image_classification": "ic", "ad": "ad", "anomaly_detection": "ad",
}  # fmt: skip

#: Part number in the system name -> (board id, core, clock in MHz when the row omits it).
BOARDS = (
    ("H7A3", "stm32h7a3", "cortex-m7", 280.0),
    ("F746", "stm32f746", "cortex-m7", 216.0),
    ("L4R5", "stm32l4r5", "cortex-m4", 120.0),
    ("U575", "stm32u575", "cortex-m33", 160.0),
    ("U585", "stm32u585", "cortex-m33", 160.0),
    ("U385", "stm32u385", "cortex-m33", 96.0),
    ("G0B1", "stm32g0b1", "cortex-m0plus", 64.0),
    ("062", "psoc62", "cortex-m4", 150.0),
    ("M467", "numaker-m467", "cortex-m4", 200.0),
    ("NRF5340", "nrf5340", "cortex-m33", 128.0),
    ("RA8D1", "ra8d1", "cortex-m85", 480.0),
)


@dataclass(frozen=True)
class Row:
    board: str
    core: str
    clock_mhz: float
    runtime: str
    fp32: bool
    net: str
    latency_ms: float
    energy_mj: float | None
    submission: str  # version/submitter/system: one measurement campaign
    source: str


def runtime_of(framework: str, system: str, submitter: str) -> str | None:
    """The runtime id of a row, or None when the inference engine is not named."""
    text = f"{framework} {system}".lower()
    if "stedge" in text:
        return None  # ST's internal tool for the U3C5's DSP co-processor
    if "x-cube-ai" in text or (submitter == "STMicroelectronics" and not framework):
        match = re.search(r"(\d+)\.(\d+)", framework or system.split("X-CUBE-AI")[-1])
        version = (int(match.group(1)), int(match.group(2))) if match else (7, 0)
        return "x-cube-ai" if version >= (8, 1) else "x-cube-ai-7"
    if "plumerai" in text:
        return "plumerai"
    if "microtvm" in text:
        return "microtvm-cmsis-nn" if "cmsis" in text else "microtvm"
    if "onnc" in text:
        return "onnc"
    if "bosch" in text:
        return "bosch"
    return None


def _clock(text: str, default: float) -> float:
    match = re.search(r"([\d.]+)\s*MHz", text, re.IGNORECASE)
    return float(match.group(1)) if match else default


def read_rows(data_dir: Path) -> tuple[list[Row], Counter]:
    """(kept rows, count of left-out rows by reason)."""
    path = Path(data_dir) / "mlperf_tiny" / "mlperf_tiny.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: expected the MLPerf Tiny table (mlperf_tiny.csv)")
    kept: list[Row] = []
    dropped: Counter = Counter()
    with path.open(newline="") as handle:
        for rec in csv.DictReader(handle):
            net = BENCHMARKS.get(rec["benchmark"])
            system = rec["system"]
            board = next((b for b in BOARDS if b[0] in system.upper()), None)
            if net is None:
                dropped["not one of the four benchmarks"] += 1
                continue
            if board is None or rec["accelerator"].strip() not in ("", "N/A"):
                dropped["not a Cortex-M core alone (accelerator, DSP, FPGA, RISC-V...)"] += 1
                continue
            runtime = runtime_of(rec["framework"], system, rec["submitter"])
            if runtime is None:
                dropped["inference engine not named or not a CPU runtime"] += 1
                continue
            energy = rec["energy_uj"].strip()
            kept.append(
                Row(
                    board=board[1],
                    core=board[2],
                    clock_mhz=_clock(rec["frequency"], board[3]),
                    runtime=runtime,
                    fp32="float" in system.lower(),
                    net=net,
                    latency_ms=float(rec["latency_ms"]),
                    energy_mj=float(energy) / 1000.0 if energy else None,
                    submission=f"{rec['version']}/{rec['submitter']}/{system}",
                    source=rec["perf_source"],
                )
            )
    return kept, dropped
