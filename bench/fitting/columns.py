"""Which measured column calibrates which profile, on which graph, with which rows.

One place for the decisions ``bench/fit_profiles.py`` (fitting) and ``bench/fidelity.py``
(scoring) must share, so that they cannot disagree.  Each :class:`Column` says:

* the profile it calibrates and the metric (``latency`` or ``energy``);
* the graph the device ran (:class:`~.networks.Variant`):

  - **Pi 5 ONNX Runtime** (b360): the PyTorch export of the reference model, which keeps every
    ``none`` edge as ``Mul(x, 0)`` and every dead branch (ONNX Runtime prunes neither), with
    100 classes; and the row's value belongs to its *representative* network
    (``rep_arch_idx``): HW-NAS-Bench-360 measured one member per isomorphism class and copied
    the value to the others, whose graphs may cost quite differently;
  - **TFLite-measured columns** (HW-NAS-Bench Pi 4, Edge TPU): dead branches pruned
    (:func:`~.networks.prune_dead`), as the converter gave the device; 10 classes;
  - **Eyeriss** (simulated): every edge the reference model has, 10 classes (the simulator's
    latency is exactly linear in the six edge operations, dead or not);

* the view the device computes in (``int8`` for the Edge TPU's fully-quantized models,
  ``int16`` for Eyeriss's 16-bit fixed point, see :func:`~.networks.quantized_view`);
* which rows are dropped, each rule counted by :func:`column_rows`:

  1. missing values (empty or ``-1``);
  2. latencies under the README's 0.05 ms floor (degenerate networks), with their energy;
  3. for TFLite-measured columns only, the 341 networks whose output does not depend on
     their input (every path from the input crosses a ``none`` edge): the converter folds
     the whole network to a constant, so the device ran no network at all and there is
     nothing a cost model could price (their measured values, ~0.4 ms, are the runtime's
     overhead around a constant).  ONNX Runtime and the Eyeriss simulator run them in full,
     so those columns keep them.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.fitting import hwnas
from bench.fitting.nb201_cells import output_depends_on_input
from bench.fitting.networks import NetworkSet, Variant
from pytest_edgegate.analysis import ModelAnalysis

__all__ = [
    "COLUMNS",
    "Column",
    "ColumnRows",
    "HwnasData",
    "column_rows",
    "load_data",
    "network_sets",
    "row_analyses",
]

ORT_CIFAR100 = Variant("onnxruntime-export-cifar100", num_classes=100, keep_none=True)
TFLITE_CIFAR10 = Variant("tflite-pruned-cifar10", num_classes=10, prune=True)
REFERENCE_CIFAR10 = Variant("reference-cifar10", num_classes=10)


@dataclass(frozen=True)
class Column:
    """One measured column and how to compare the cost model with it."""

    label: str
    column: str
    profile: str
    metric: str  # "latency" or "energy"
    variant: Variant
    representative: bool = False  # b360: the value belongs to rep_arch_idx's network
    drop_constant: bool = False  # TFLite: input-independent networks were folded away
    view: str | None = None  # "int8" / "int16": analyse as a fully-quantized model

    @property
    def unit(self) -> str:
        return "ms" if self.metric == "latency" else "mJ"


COLUMNS: tuple[Column, ...] = (
    Column(
        "Pi 5 ORT latency",
        "b360_pi5_onnx_cifar100_latency_ms",
        "cortex-a76",
        "latency",
        ORT_CIFAR100,
        representative=True,
    ),
    Column(
        "Pi 5 ORT energy",
        "b360_pi5_onnx_cifar100_energy_mj",
        "cortex-a76",
        "energy",
        ORT_CIFAR100,
        representative=True,
    ),
    Column(
        "Pi 4 latency",
        "hwnas_raspi4_latency_ms",
        "cortex-a72",
        "latency",
        TFLITE_CIFAR10,
        drop_constant=True,
    ),
    Column(
        "Edge TPU latency",
        "hwnas_edgetpu_latency_ms",
        "edgetpu",
        "latency",
        TFLITE_CIFAR10,
        drop_constant=True,
        view="int8",
    ),
    Column(
        "Eyeriss latency",
        "hwnas_eyeriss_latency_ms",
        "eyeriss",
        "latency",
        REFERENCE_CIFAR10,
        view="int16",
    ),
    Column(
        "Eyeriss energy",
        "hwnas_eyeriss_energy_mj",
        "eyeriss",
        "energy",
        REFERENCE_CIFAR10,
        view="int16",
    ),
)


@dataclass(frozen=True)
class HwnasData:
    """The measurement files, read once: records in ``arch_idx`` order and b360's mapping."""

    data_dir: Path
    records: list[hwnas.NB201Record]
    arch_strs: list[str]
    rep: np.ndarray  # rep_arch_idx per arch_idx (own index where b360 gives none)
    depends_on_input: np.ndarray
    raw: dict[str, np.ndarray]  # uncleaned values per column (nan = empty or -1)


def _raw_columns(path: Path, columns: list[str]) -> dict[str, np.ndarray]:
    """Columns as written (only empty and ``-1`` are missing), to count the cleaning rules."""
    values: dict[str, list[float]] = {c: [] for c in columns}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            for c in columns:
                text = row[c].strip()
                v = float(text) if text else math.nan
                values[c].append(math.nan if v == -1.0 else v)
    return {c: np.array(v) for c, v in values.items()}


def load_data(data_dir: str | Path | None = None) -> HwnasData:
    """Read the files the columns need (a second or two)."""
    path = hwnas.resolve_data_dir(data_dir)
    records = hwnas.read_nb201_metrics(path)
    idx = np.array([r.arch_idx for r in records])
    if not np.array_equal(idx, np.arange(len(records))):
        raise ValueError(f"{hwnas.NB201_FILE}: arch_idx is not 0..N-1 in order")
    rep = np.arange(len(records), dtype=np.int64)
    for r in hwnas.read_b360(path, device="pi5", framework="onnx", task="cifar100"):
        rep[r.arch_idx] = r.rep_arch_idx
    arch_strs = [r.arch_str for r in records]
    depends = np.array([output_depends_on_input(a) for a in arch_strs])
    raw = _raw_columns(path / hwnas.NB201_FILE, sorted({c.column for c in COLUMNS}))
    return HwnasData(path, records, arch_strs, rep, depends, raw)


@dataclass(frozen=True)
class ColumnRows:
    """The usable rows of one column: positions, their networks, values and the split."""

    column: Column
    rows: np.ndarray  # arch_idx of the usable rows
    network: np.ndarray  # arch_idx whose network each row is compared with
    values: np.ndarray
    fit: np.ndarray  # boolean masks over ``rows``
    report: np.ndarray
    dropped: dict[str, int]  # rule -> rows it dropped (each row counted by its first rule)


def column_rows(data: HwnasData, column: Column) -> ColumnRows:
    """Apply the cleaning rules of the module docstring to ``column``."""
    cleaned = hwnas.metric_array(data.records, column.column)
    raw = data.raw[column.column]
    network = data.rep if column.representative else np.arange(len(cleaned))
    missing = ~np.isfinite(raw)
    floor = ~missing & ~np.isfinite(cleaned)
    constant = ~missing & ~floor & ~data.depends_on_input[network] & column.drop_constant
    keep = ~(missing | floor | constant)
    rows = np.flatnonzero(keep)
    fit, report = hwnas.split_masks(rows)
    dropped = {
        "missing (empty or -1)": int(missing.sum()),
        f"under the README's {hwnas.MIN_VALID_LATENCY_MS:g} ms latency floor": int(floor.sum()),
        "output independent of the input (folded to a constant by TFLite)": int(constant.sum()),
    }
    return ColumnRows(column, rows, network[rows], cleaned[rows], fit, report, dropped)


def network_sets(
    data: HwnasData, columns: tuple[Column, ...] = COLUMNS, *, jobs: int = 1
) -> dict[Variant, NetworkSet]:
    """One :class:`~.networks.NetworkSet` over all 15,625 cells per variant the columns use."""
    variants = sorted({c.variant for c in columns}, key=lambda v: v.name)
    return {v: NetworkSet(data.arch_strs, v, jobs=jobs) for v in variants}


def row_analyses(
    rows: ColumnRows, netset: NetworkSet, mask: np.ndarray | None = None
) -> list[ModelAnalysis]:
    """The analysis (in the column's view) each usable row is compared with, in row order."""
    viewed = netset.viewed(rows.column.view)
    positions = rows.network if mask is None else rows.network[mask]
    return [viewed[netset.index[int(p)]] for p in positions]
