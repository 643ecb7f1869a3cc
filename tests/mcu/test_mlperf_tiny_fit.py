"""The MLPerf Tiny fit: row parsing and recovering known constants from synthetic rows."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from bench.fitting import mlperf_tiny as fitmod
from bench.fitting.mlperf_tiny_rows import Row, read_rows, runtime_of

COLUMNS = [
    "version", "division", "submitter", "system", "benchmark", "latency_ms", "throughput_ips",
    "energy_uj", "processor", "frequency", "accelerator", "framework", "memory", "soc", "board",
    "flash", "perf_source", "energy_source",
]  # fmt: skip


def test_runtime_ids() -> None:
    assert runtime_of("X-CUBE-AI v8.1.0", "NUCLEO_H7A3ZI_Q", "STMicroelectronics") == "x-cube-ai"
    assert runtime_of("", "NUCLEO-H7A3ZI-Q_X-CUBE-AI-7.3", "Krai") == "x-cube-ai-7"
    assert runtime_of("", "NUCLEO_L4R5ZI", "STMicroelectronics") == "x-cube-ai-7"
    assert runtime_of("microTVM", "NUCLEO-L4R5ZI_MICROTVM-CMSIS-NN", "Krai") == "microtvm-cmsis-nn"
    assert runtime_of("Plumerai Inference Engine", "DISCO_F746NG", "plumerai") == "plumerai"
    assert runtime_of("", "EK-RA8D1", "Renesas") is None
    assert runtime_of("STEDGE-AI Internal version", "NUCLEO_U3C5ZIT6_Q", "ST") is None


def test_read_rows_keeps_cortex_m_cpu_rows(tmp_path: Path) -> None:
    table = tmp_path / "mlperf_tiny" / "mlperf_tiny.csv"
    table.parent.mkdir()
    rows = [
        ["v1.1", "closed", "bosch", "NUCLEO_L4R5ZI_float", "ic", "480", "", "", "Cortex-M4",
         "120 MHz", "", "Bosch Hardware-Aware Lowering", "", "", "", "", "src", ""],
        ["v1.1", "closed", "STMicroelectronics", "NUCLEO_U575ZI_Q", "kws", "38.5", "", "1004.2",
         "M33", "160 MHz", "", "X-CUBE-AI v8.1.0", "", "", "", "", "src", "e"],
        ["v1.0", "closed", "greenwaves", "gap9", "kws", "0.7", "", "18", "GAP9 Risc-v",
         "240 MHz", "NE16", "N/A", "", "", "", "", "src", "e"],
        ["v1.1", "closed", "x", "NUCLEO_U575ZI_Q", "streaming", "1", "", "", "", "", "", "",
         "", "", "", "", "src", ""],
    ]  # fmt: skip
    with table.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    kept, dropped = read_rows(tmp_path)
    assert [(r.board, r.core, r.runtime, r.fp32, r.net) for r in kept] == [
        ("stm32l4r5", "cortex-m4", "bosch", True, "ic"),
        ("stm32u575", "cortex-m33", "x-cube-ai", False, "kws"),
    ]
    assert kept[1].energy_mj == pytest.approx(1.0042)
    assert sum(dropped.values()) == 2
    with pytest.raises(FileNotFoundError, match="mlperf_tiny.csv"):
        read_rows(tmp_path / "nowhere")


def test_fit_recovers_synthetic_latencies() -> None:
    feats = fitmod.net_features()
    boards = [("a", "cortex-m4", 120.0, "r1"), ("b", "cortex-m7", 280.0, "r1"),
              ("c", "cortex-m4", 150.0, "r2"), ("d", "cortex-m7", 216.0, "r2")]  # fmt: skip
    rows = [
        Row(b, core, mhz, rt, False, net, 1.0, None, b, "")
        for b, core, mhz, rt in boards
        for net in ("kws", "vww", "ic", "ad")
    ]
    truth_layout = fitmod.Layout(["r1", "r2"], ["cortex-m4", "cortex-m7"])
    truth = truth_layout.start()
    truth[truth_layout.index["s_cortex-m7"]] = np.log(0.6)
    truth[truth_layout.index["d_r2_pointwise"]] = np.log(1.5)
    latency = fitmod.predict(truth, truth_layout, rows, feats)
    rows = [
        dataclasses.replace(r, latency_ms=float(ms)) for r, ms in zip(rows, latency, strict=True)
    ]
    x, lay = fitmod.fit(rows, feats)
    again, _ = fitmod.fit(rows, feats)
    assert np.array_equal(x, again)  # deterministic
    ratio = fitmod.predict(x, lay, rows, feats) / latency
    assert np.all(np.abs(ratio - 1) < 0.05), ratio
    assert (
        lay.constants(x, "cortex-m7", "r1")["cycles_per_mac_conv"]
        < lay.constants(x, "cortex-m4", "r1")["cycles_per_mac_conv"]
    )
