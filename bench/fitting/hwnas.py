"""Read the HW-NAS measurement files, split them honestly, and score predictions against them.

The cost model's constants are fitted on measured latency and energy of the NAS-Bench-201
networks (HW-NAS-Bench and HW-NAS-Bench-360, see :func:`default_data_dir`).  This module is
the single place that
knows the files' columns and the README's rules, so that the calibration and the fidelity
benchmark (``bench/fidelity.py``) cannot disagree on them:

* cleaning: an empty cell or ``-1`` is a missing value (``nan``), and a latency under
  :data:`MIN_VALID_LATENCY_MS` is dropped (those are degenerate networks a converter folded to
  a constant, not measurements); the energy of the same measurement (the ``*_energy_mj``
  column with the same prefix, or the same row of the b360 file) is dropped with it;
* split: architectures with ``arch_idx % 5 != 0`` are for fitting, ``== 0`` for reporting;
* fidelity: MAPE, share within +-10 % and +-20 %, and Kendall's tau-b.

Only the standard library (``csv``, ``gzip``) and numpy are used.  The data is read where it
lies; nothing is copied into the project.
"""

from __future__ import annotations

import csv
import gzip
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# The fidelity statistics live in the package (``edgegate calibrate`` reports them too).
from pytest_edgegate.calibrate.agreement import fidelity_stats, kendall_tau_b  # noqa: F401

__all__ = [
    "B360_FILE",
    "B360Record",
    "MIN_VALID_LATENCY_MS",
    "NB201_FILE",
    "NB201Record",
    "REPORT_MODULUS",
    "canonical_cell",
    "default_data_dir",
    "fidelity_stats",
    "group_by_canonical_cell",
    "is_report_arch",
    "isomorphism_groups",
    "kendall_tau_b",
    "metric_array",
    "read_b360",
    "read_nb201_metrics",
    "resolve_data_dir",
    "split_masks",
]

NB201_FILE = "nb201_hw_metrics.csv"
B360_FILE = "b360_pi5_pixel.csv.gz"

#: Latencies below this are degenerate networks folded to a constant (README caveat), in ms.
MIN_VALID_LATENCY_MS = 0.05

#: ``arch_idx % REPORT_MODULUS == 0`` is the reporting part, the rest the fitting part.
REPORT_MODULUS = 5

_NB201_TEXT_COLUMNS = ("arch_idx", "arch_str", "op0", "op1", "op2", "op3", "op4", "op5")


#: Environment variable naming the folder that holds the data sets (``hwnas/``, ``realdev/``).
DATA_ENV = "EDGEGATE_DATA_DIR"


def default_data_dir() -> Path | None:
    """``$EDGEGATE_DATA_DIR/hwnas`` when the variable is set, else ``None``.

    The measurement files are public data sets (HW-NAS-Bench, Li et al., ICLR 2021,
    GATECH-EIC/HW-NAS-Bench; HW-NAS-Bench-360, roldebijvank/HW-NAS-Bench-360) kept outside the
    repository; the scripts take their folder as an argument or from this variable.
    """
    root = os.environ.get(DATA_ENV)
    return Path(root) / "hwnas" if root else None


def resolve_data_dir(data_dir: str | Path | None = None) -> Path:
    """Return ``data_dir`` (or :func:`default_data_dir`) after checking the files are there.

    Raises ``FileNotFoundError`` naming the directory and the missing file, so a script run
    without the shared data says what to pass instead of failing deep inside a reader.
    """
    path = Path(data_dir) if data_dir is not None else default_data_dir()
    if path is None:
        raise FileNotFoundError(
            f"HW-NAS data: pass the folder that holds {NB201_FILE} and {B360_FILE}, or set "
            f"{DATA_ENV} to the folder that holds hwnas/"
        )
    for name in (NB201_FILE, B360_FILE):
        if not (path / name).is_file():
            raise FileNotFoundError(
                f"HW-NAS data not found: {path / name} is missing (pass the directory that "
                f"holds {NB201_FILE} and {B360_FILE})"
            )
    return path


def _parse_float(text: str) -> float:
    """A cell as a float; empty, ``-1`` and unparsable cells are missing (``nan``)."""
    text = text.strip()
    if not text:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        return math.nan
    if value == -1.0 or not math.isfinite(value):
        return math.nan
    return value


@dataclass(frozen=True)
class NB201Record:
    """One row of ``nb201_hw_metrics.csv``.

    ``metrics`` maps every numeric column (``hwnas_raspi4_latency_ms``,
    ``nb201_cifar10_mflops``, ...) to a float, ``nan`` where missing or dropped by the
    cleaning rules.  ``ops`` are the six edge operations in ``arch_str`` order.
    """

    arch_idx: int
    arch_str: str
    ops: tuple[str, ...]
    metrics: dict[str, float]

    def get(self, column: str) -> float:
        """The value of ``column`` (``nan`` if missing); ``KeyError`` for an unknown column."""
        return self.metrics[column]


def _clean_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """Apply the latency floor, dropping the energy measured with a dropped latency too."""
    for column, value in list(metrics.items()):
        if column.endswith("_latency_ms") and value < MIN_VALID_LATENCY_MS:
            metrics[column] = math.nan
            energy = column[: -len("_latency_ms")] + "_energy_mj"
            if energy in metrics:
                metrics[energy] = math.nan
    return metrics


def read_nb201_metrics(data_dir: str | Path | None = None) -> list[NB201Record]:
    """Read ``nb201_hw_metrics.csv`` (15,625 rows), cleaned, sorted by ``arch_idx``."""
    path = resolve_data_dir(data_dir) / NB201_FILE
    records: list[NB201Record] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        numeric = [c for c in reader.fieldnames or () if c not in _NB201_TEXT_COLUMNS]
        for row in reader:
            metrics = {c: _parse_float(row[c]) for c in numeric}
            records.append(
                NB201Record(
                    arch_idx=int(row["arch_idx"]),
                    arch_str=row["arch_str"],
                    ops=tuple(row[f"op{k}"] for k in range(6)),
                    metrics=_clean_metrics(metrics),
                )
            )
    records.sort(key=lambda r: r.arch_idx)
    return records


def metric_array(records: Sequence[NB201Record], column: str) -> np.ndarray:
    """One column of ``records`` as a float64 array (``nan`` = missing), in record order."""
    return np.array([r.metrics[column] for r in records], dtype=np.float64)


@dataclass(frozen=True)
class B360Record:
    """One row of ``b360_pi5_pixel.csv.gz`` (HW-NAS-Bench-360).

    ``rep_arch_idx`` is the isomorphic architecture that was actually measured for
    ``arch_idx``.  Latency and energy are ``nan`` when missing, when ``status`` is not ``ok``,
    or when the latency is under :data:`MIN_VALID_LATENCY_MS` (energy dropped with it).
    """

    arch_idx: int
    rep_arch_idx: int
    device: str
    framework: str
    task: str
    lat_ms_median: float
    lat_ms_var: float
    energy_mj: float
    accuracy: float
    status: str


def read_b360(
    data_dir: str | Path | None = None,
    *,
    device: str | None = None,
    framework: str | None = None,
    task: str | None = None,
) -> list[B360Record]:
    """Read the b360 file (187,500 rows), keeping only rows matching the given filters.

    Filtering while reading keeps memory and time down: one device/framework/task slice is
    15,625 rows.  Rows come back sorted by ``(device, framework, task, arch_idx)``.
    """
    path = resolve_data_dir(data_dir) / B360_FILE
    records: list[B360Record] = []
    with gzip.open(path, "rt", newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        col = {name: k for k, name in enumerate(header)}
        i_dev, i_fw, i_task = col["device"], col["framework"], col["task"]
        for row in reader:
            if (
                (device is not None and row[i_dev] != device)
                or (framework is not None and row[i_fw] != framework)
                or (task is not None and row[i_task] != task)
            ):
                continue
            status = row[col["status"]].strip()
            latency = _parse_float(row[col["lat_ms_median"]])
            energy = _parse_float(row[col["energy_mj"]])
            if status != "ok" or not latency >= MIN_VALID_LATENCY_MS:
                latency, energy = math.nan, math.nan
            records.append(
                B360Record(
                    arch_idx=int(row[col["arch_idx"]]),
                    rep_arch_idx=int(row[col["rep_arch_idx"]]),
                    device=row[i_dev],
                    framework=row[i_fw],
                    task=row[i_task],
                    lat_ms_median=latency,
                    lat_ms_var=_parse_float(row[col["lat_ms_var"]]),
                    energy_mj=energy,
                    accuracy=_parse_float(row[col["accuracy"]]),
                    status=status,
                )
            )
    records.sort(key=lambda r: (r.device, r.framework, r.task, r.arch_idx))
    return records


def is_report_arch(arch_idx: int) -> bool:
    """True for the reporting part (``arch_idx % 5 == 0``), False for the fitting part."""
    return arch_idx % REPORT_MODULUS == 0


def split_masks(arch_idx: Iterable[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boolean ``(fit, report)`` masks over ``arch_idx``: fit on one part, report on the other."""
    idx = np.asarray(list(arch_idx) if not isinstance(arch_idx, np.ndarray) else arch_idx)
    report = (idx.astype(np.int64) % REPORT_MODULUS) == 0
    return ~report, report


def isomorphism_groups(records: Iterable[B360Record]) -> dict[int, list[int]]:
    """Group architectures by the isomorphic representative HW-NAS-Bench-360 measured.

    Returns ``{rep_arch_idx: sorted member arch_idx}``.  Pass one device/framework/task slice
    (or all rows: a pair seen twice is counted once).  NAS-Bench-201's 15,625 cells collapse to
    6,466 such groups, and the representative is the group's smallest ``arch_idx``.  Networks
    of one group compute the same function, so where a device measured them separately (the
    HW-NAS-Bench Pi 4 column) their spread is measurement noise; b360 measured only the
    representative and copied its values to the other members.
    """
    groups: dict[int, set[int]] = {}
    for r in records:
        groups.setdefault(r.rep_arch_idx, set()).add(r.arch_idx)
    return {rep: sorted(members) for rep, members in sorted(groups.items())}


def canonical_cell(arch_str: str) -> str:
    """A string equal for isomorphic cells: NAS-Bench-201's zero-aware unique form.

    Follows ``Structure.to_unique_str(consider_zero=True)`` of the reference code
    (D-X-Y/AutoDL-Projects) exactly: a ``none`` edge, or an edge from a node whose form is
    exactly ``"#"``, gives ``"#"``; ``skip_connect`` passes its input's form through; the other
    operations give ``"(input)@op"``; a node joins its sorted terms with ``+``.  The reference's
    quirk is kept on purpose: a node fed by several ``none`` edges is ``"#+#"``, not ``"#"``, so
    operations on it are not treated as zero.  Only this exact form reproduces NAS-Bench-201's
    6,466 classes and the b360 file's ``rep_arch_idx`` grouping (a "cleaner" zero propagation
    gives 6,285 classes that disagree with the file).
    """
    from pytest_edgegate.runner.nb201 import parse_arch_str

    nodes = {0: "0"}
    edges = parse_arch_str(arch_str)
    last = max(to for _, _, to in edges)
    for j in range(1, last + 1):
        terms = []
        for op, i, to in edges:
            if to != j:
                continue
            if op == "none" or nodes[i] == "#":
                terms.append("#")
            elif op == "skip_connect":
                terms.append(nodes[i])
            else:
                terms.append(f"({nodes[i]})@{op}")
        nodes[j] = "+".join(sorted(terms))
    return nodes[last]


def group_by_canonical_cell(arch_strs: Sequence[str]) -> list[list[int]]:
    """Positions in ``arch_strs`` grouped by :func:`canonical_cell`, groups in first-seen order."""
    groups: dict[str, list[int]] = {}
    for pos, arch in enumerate(arch_strs):
        groups.setdefault(canonical_cell(arch), []).append(pos)
    return list(groups.values())
