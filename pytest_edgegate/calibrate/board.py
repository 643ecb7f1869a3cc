"""``edgegate calibrate``: fit a profile's cost-model constants on a user's own measurements.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/calibrate/board.py``.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from pytest_edgegate.analysis import ModelAnalysis, analyze, load_model
from pytest_edgegate.calibrate import fit, levels
from pytest_edgegate.calibrate.agreement import fidelity_stats
from pytest_edgegate.costmodel import CostModelUnavailable, estimate
from pytest_edgegate.costmodel.params import CPU_CLASSES, CostParams
from pytest_edgegate.errors import EdgeGateError
from pytest_edgegate.profiles import DeviceProfile

#: Fewer rows than this cannot say anything about a fit's quality.
MIN_MODELS = 3
#: Largest condition number of the (relative, unit-norm) design of the fitted terms: beyond
#: it the terms are not told apart, whatever the error says.  The choice of terms is made by
#: the corrected Akaike criterion (:func:`_aicc`); on a synthetic trial (40 mixed models, true
#: constants up to 3x away from cortex-a72's, +-5 % noise on the measurements, 20 draws) the
#: median error on the models not fitted on was 5.4 % with 6 models, 2.1 % with 10 and 1.7 %
#: with 15 (cortex-a72's own constants: 62 %), the same for limits from 1e3 to 1e5.
MAX_CONDITION = 1e5
REQUIRED_COLUMNS = ("model", "latency_ms")
OPTIONAL_COLUMNS = ("energy_mj", "threads", "input_shapes")
_HUGE = 1e30  # stands for an infinitely fast unit while probing, as in fit.py


class CalibrationError(EdgeGateError):
    """The measurements cannot be calibrated on; the message names the file and row."""


# --------------------------------------------------------------------------------------------
# Reading the measurements


@dataclass(frozen=True)
class Measurement:
    """One CSV row: a model measured on the user's board.  ``line`` is the CSV line number."""

    line: int
    label: str
    path: Path
    latency_ms: float
    energy_mj: float | None = None
    threads: int | None = None
    input_shapes: dict[str, list[int]] | None = None


def _number(text: str, where: str, column: str, *, integer: bool = False) -> float:
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise CalibrationError(f"{where}: {column} {text!r} is not {kind}") from None
    if not math.isfinite(value) or value <= 0:
        raise CalibrationError(f"{where}: {column} must be positive, got {text!r}")
    return value


def _shapes(text: str, where: str) -> dict[str, list[int]]:
    """``image=1x3x224x224`` or several separated by ``;`` (commas separate CSV columns)."""
    shapes: dict[str, list[int]] = {}
    for item in filter(None, (part.strip() for part in text.split(";"))):
        name, sep, dims = item.rpartition("=")
        try:
            if not sep or not name:
                raise ValueError
            shapes[name.strip()] = [int(d) for d in dims.split("x")]
        except ValueError:
            raise CalibrationError(
                f"{where}: input_shapes expects NAME=1x3x224x224[;NAME=...], got {item!r}"
            ) from None
    return shapes


def read_measurements(path: str | Path) -> tuple[list[Measurement], list[str]]:
    """The rows of a measurements CSV, checked; and warnings (columns it ignores).

    Model paths are relative to the CSV's folder, so the CSV and the models it names can
    move together.  Blank lines and lines starting with ``#`` are skipped.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CalibrationError(f"{path}: no such measurements file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CalibrationError(f"{path}: cannot be read ({exc})") from None
    lines = [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise CalibrationError(f"{path}: empty; expected a header row: model,latency_ms[,...]")
    reader = csv.reader([line for _, line in lines])
    header = [h.strip() for h in next(reader)]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise CalibrationError(
            f"{path} line {lines[0][0]}: header has no {', '.join(missing)} column; expected "
            f"{', '.join(REQUIRED_COLUMNS)} and optionally {', '.join(OPTIONAL_COLUMNS)}, "
            f"got {', '.join(header) or 'nothing'}"
        )
    warnings = [
        f"{path}: ignored column {c!r} (known: {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)})"
        for c in header
        if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    ]
    rows = []
    for (number, _), cells in zip(lines[1:], reader, strict=True):
        where = f"{path} line {number}"
        if len(cells) != len(header):
            raise CalibrationError(
                f"{where}: {len(cells)} cells for {len(header)} columns ({', '.join(header)})"
            )
        row = {h: c.strip() for h, c in zip(header, cells, strict=True)}
        if not row["model"]:
            raise CalibrationError(f"{where}: the model column is empty")
        model = (path.parent / row["model"]).resolve()
        if not model.is_file():
            raise CalibrationError(f"{where}: model {row['model']} not found (looked at {model})")
        if not row["latency_ms"]:
            raise CalibrationError(f"{where}: latency_ms is empty")
        energy = row.get("energy_mj", "")
        threads = row.get("threads", "")
        shapes = row.get("input_shapes", "")
        rows.append(
            Measurement(
                line=number,
                label=row["model"],
                path=model,
                latency_ms=_number(row["latency_ms"], where, "latency_ms"),
                energy_mj=_number(energy, where, "energy_mj") if energy else None,
                threads=int(_number(threads, where, "threads", integer=True)) if threads else None,
                input_shapes=_shapes(shapes, where) if shapes else None,
            )
        )
    if len(rows) < MIN_MODELS:
        raise CalibrationError(
            f"{path}: too few models: {len(rows)} row(s); a calibration needs at least "
            f"{MIN_MODELS} models, ideally a dozen of different sizes and operator mixes "
            "(convolutions, depthwise, fully connected)"
        )
    return rows, warnings


def analyse_rows(rows: Sequence[Measurement]) -> list[ModelAnalysis]:
    """The static analysis of every row's model; a model that cannot be read names its row."""
    out = []
    for row in rows:
        try:
            out.append(analyze(load_model(row.path), row.input_shapes))
        except EdgeGateError as exc:
            raise CalibrationError(f"line {row.line}: {row.label}: {exc}") from None
    return out


# --------------------------------------------------------------------------------------------
# Fitting


@dataclass(frozen=True)
class FitQuality:
    """How one quantity (latency or energy) was fitted, and how close the result comes."""

    quantity: str  # "latency" or "energy"
    unit: str  # "ms" or "mJ"
    labels: tuple[str, ...]
    threads: tuple[int, ...]
    measured: tuple[float, ...]
    predicted: tuple[float, ...]  # the written profile's own estimates
    fitted: tuple[str, ...]
    kept: dict[str, str]  # constant -> why it keeps the base's value
    at_bound: tuple[str, ...]
    condition: float

    @property
    def errors_pct(self) -> list[float]:
        return [100.0 * (p - m) / m for p, m in zip(self.predicted, self.measured, strict=True)]

    @property
    def stats(self) -> dict[str, float]:
        return fidelity_stats(np.array(self.predicted), np.array(self.measured))

    @property
    def max_error_pct(self) -> float:
        return max(abs(e) for e in self.errors_pct)

    @property
    def worst(self) -> str:
        errors = [abs(e) for e in self.errors_pct]
        return self.labels[errors.index(max(errors))]


@dataclass(frozen=True)
class Calibration:
    """The fitted ``[costmodel]`` table (``constants``, rounded as written) and its quality."""

    base: DeviceProfile
    constants: dict[str, Any]
    latency: FitQuality
    energy: FitQuality | None = None
    notes: tuple[str, ...] = field(default=())


def rounded(value: Any) -> Any:
    """Four significant digits, like the shipped profiles: readable, below any noise."""
    if isinstance(value, (bool, int)):
        return value
    return float(f"{value:.4g}")


def _coef(term: fit.Term, value: float) -> float:
    """The linear coefficient of a ``[costmodel]`` value (an efficiency's inverse)."""
    if not term.inverse:
        return float(value)
    return 0.0 if math.isinf(value) else 1.0 / float(value)


def _amdahl(p: float, threads: np.ndarray | int) -> np.ndarray:
    return 1.0 / ((1.0 - p) + p / np.asarray(threads, dtype=np.float64))


def _forced(
    terms: Sequence[fit.Term],
    free: Sequence[str],
    xw: np.ndarray,
    base: Mapping[str, Any],
    base_id: str,
    what: str,
    fallback: Mapping[str, fit.Prior] | None,
) -> tuple[dict[str, fit.Prior], dict[str, str]]:
    """Priors for every term outside ``free`` (the base's value), and why each is kept."""
    forced: dict[str, fit.Prior] = {}
    kept: dict[str, str] = {}
    for k, term in enumerate(terms):
        if term.key in free:
            continue
        why = (
            "these models give it nothing to price"
            if not np.any(xw[:, k] > 0)
            else f"not identified by these {xw.shape[0]} models beside the constants fitted"
        )
        if base.get(term.key) is not None:
            forced[term.key] = fit.Fixed(float(base[term.key]), f"{base_id}'s value: {why}")
            kept[term.key] = why
        elif fallback and term.key in fallback:
            forced[term.key] = fallback[term.key]
            kept[term.key] = f"{why}; {fallback[term.key].reason}"
        else:
            raise CalibrationError(
                f"{base_id} has no {term.key} to keep, and these models cannot fit it ({what})"
            )
    return forced, kept


def _aicc(sse: float, n: int, k: int) -> float:
    """Akaike's criterion with the small-sample correction (Hurvich and Tsai, 1989).

    It weighs a better fit against one more constant, which is what a handful of models
    needs: every added constant lowers the error on the fitted models a little, and the
    penalty says when that is noise being fitted.
    """
    return n * math.log(max(sse, 1e-30) / n) + 2 * k + 2 * k * (k + 1) / (n - k - 1)


def _fit(
    x: np.ndarray,
    offset: np.ndarray,
    measured: np.ndarray,
    terms: Sequence[fit.Term],
    base: Mapping[str, Any],
    base_id: str,
    what: str,
    fallback: Mapping[str, fit.Prior] | None = None,
    free: Sequence[str] | None = None,
) -> tuple[fit.FitResult, dict[str, str], list[str]]:
    """``fit_linear`` on the terms these rows identify; the others keep the base's values.

    Without ``free``, the terms are the subset, among all whose design is well conditioned
    (:data:`MAX_CONDITION`), with the best corrected Akaike criterion (:func:`_aicc`, which
    also keeps two models more than constants).  Every subset is tried (at most 2^9 small
    fits): one term at a time can stall where only several together explain the data.
    Returns the fit, why each other term is kept, and the fitted terms.
    """
    xw = x / measured[:, None]
    keys = [t.key for t in terms]
    n = measured.size

    def run(chosen: Sequence[str]) -> tuple[fit.FitResult, dict[str, str]]:
        forced, kept = _forced(terms, chosen, xw, base, base_id, what, fallback)
        result = fit.fit_linear(
            x, offset, measured, terms, priors=forced, forced=forced, target=f"{base_id} {what}"
        )
        return result, kept

    def sse(result: fit.FitResult) -> float:
        return float(np.sum(((result.predicted - measured) / measured) ** 2))

    def conditioned(chosen: Sequence[str]) -> bool:
        cols = xw[:, [keys.index(k) for k in chosen]]
        if not np.all(np.any(cols > 0, axis=0)):
            return False
        sv = np.linalg.svd(cols / np.linalg.norm(cols, axis=0), compute_uv=False)
        return bool(sv[-1] > 0 and sv[0] / sv[-1] <= MAX_CONDITION)

    if free is None:
        candidates = [k for k in keys if np.any(xw[:, keys.index(k)] > 0)]
        best: tuple[float, int, tuple[str, ...]] = (_aicc(sse(run(())[0]), n, 0), 0, ())
        for size in range(1, min(len(candidates), n - 2) + 1):
            for subset in itertools.combinations(candidates, size):
                if conditioned(subset):
                    score = _aicc(sse(run(subset)[0]), n, size)
                    best = min(best, (score, size, subset))
        free = list(best[2])
    result, kept = run(free)
    return result, kept, list(free)


def _probe(
    analysis: ModelAnalysis,
    profile: DeviceProfile,
    table: Mapping[str, Any],
    terms: Sequence[fit.Term],
    quantity: str,
    threads: int,
) -> np.ndarray:
    """``[offset, column_1, ...]`` of one model at ``threads``, read off :func:`estimate`.

    The estimate is linear in each term's coefficient: with every probed coefficient at zero
    it is the offset, and raising one to 1 adds its column (``fit._probe``, per thread count).
    """

    def value(t: Mapping[str, Any]) -> float:
        e = estimate(analysis, fit.with_constants(profile, t), threads=threads)
        v = e.latency_ms if quantity == "latency" else e.energy_mj
        if v is None:
            raise CalibrationError(f"{profile.id} gives no {quantity} for {analysis.name}")
        return v / 1e3

    zero = dict(table)
    for t in terms:
        zero[t.key] = _HUGE if t.inverse else 0.0
    offset = value(zero)
    return np.array([offset] + [value({**zero, t.key: 1.0}) - offset for t in terms])


def _probe_design(
    analyses: Sequence[ModelAnalysis],
    threads: Sequence[int],
    profile: DeviceProfile,
    table: Mapping[str, Any],
    terms: Sequence[fit.Term],
    quantity: str,
) -> tuple[np.ndarray, np.ndarray]:
    rows = np.array(
        [
            _probe(a, profile, table, terms, quantity, t)
            for a, t in zip(analyses, threads, strict=True)
        ]
    )
    return rows[:, 0], rows[:, 1:]


def _cpu_latency(
    analyses: Sequence[ModelAnalysis],
    threads: np.ndarray,
    measured_s: np.ndarray,
    base: DeviceProfile,
    table: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, str], fit.FitResult, bool]:
    """CPU latency constants; ``parallel_fraction`` too when rows span several thread counts."""
    x0 = fit.cpu_latency_design(analyses, base)
    ref = int(table.get("threads", 1))
    n_cls = len(CPU_CLASSES)

    def run(p: float, free: Sequence[str] | None = None):
        x = x0.copy()
        x[:, :n_cls] *= (_amdahl(p, ref) / _amdahl(p, threads))[:, None]
        zero = np.zeros(len(measured_s))
        return _fit(x, zero, measured_s, fit.CPU_LATENCY_TERMS, table, base.id, "latency",
                    free=free)  # fmt: skip

    p = float(table.get("parallel_fraction", 0.0))
    search = len(set(threads.tolist())) > 1
    if search:
        # The fraction is searched (a grid, then golden section) with every term when there
        # are models enough for all of them; otherwise with the terms chosen at the current
        # fraction, alternately, until that choice settles.
        keys = [t.key for t in fit.CPU_LATENCY_TERMS]
        every = [k for j, k in enumerate(keys) if np.any(x0[:, j] > 0)]
        enough = len(every) + 2 <= len(measured_s)
        free = every if enough else run(p)[2]
        for _ in range(4):

            def loss(q: float, free: Sequence[str] = free) -> float:
                r = run(q, free)[0]
                return float(np.sum(((r.predicted - measured_s) / measured_s) ** 2))

            grid = np.linspace(0.0, 1.0, 51)
            k = int(np.argmin([loss(g) for g in grid]))
            lo, hi = grid[max(0, k - 1)], grid[min(len(grid) - 1, k + 1)]
            ratio = (math.sqrt(5) - 1) / 2
            for _ in range(40):
                a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
                if loss(a) <= loss(b):
                    hi = b
                else:
                    lo = a
            p = (lo + hi) / 2
            again = run(p)[2]
            if enough or again == free:
                break
            free = again
    result, kept, _ = run(p)
    constants = {**result.constants, "parallel_fraction": p}
    return constants, kept, result, search


def _shape_latency(
    analyses: Sequence[ModelAnalysis],
    threads: np.ndarray,
    measured_s: np.ndarray,
    base: DeviceProfile,
    table: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, str], fit.FitResult]:
    """A shape-model base's constants scaled by fitted per-group levels (:mod:`.levels`);
    the fit's fitted, kept and at-bound terms are named by the constants they scale."""
    cache: dict[tuple[int, int], np.ndarray] = {}
    rows = []
    for a, t in zip(analyses, threads, strict=True):
        key = (id(a), int(t))
        if key not in cache:

            def value(tab: Mapping[str, Any], a: ModelAnalysis = a, t: int = int(t)) -> float:
                e = estimate(a, fit.with_constants(base, tab), threads=t)
                return e.latency_ms / 1e3

            cache[key] = levels.probe(value, table)
        rows.append(cache[key])
    design = np.array(rows)
    result, kept_terms, _ = _fit(
        design[:, 1:], design[:, 0], measured_s, levels.level_terms(table),
        levels.base_levels(table), base.id, "latency",
    )  # fmt: skip
    constants = levels.apply(table, result.constants)
    kept = {k: why for term, why in kept_terms.items() for k in levels.constants_of(term, table)}
    kept["parallel_fraction"] = (
        "the shape model splits each node over threads by the base's parallel_grain_mflop "
        "and parallel_efficiency, which are kept"
    )
    report = replace(
        result.report,
        fitted=levels.per_constant(result.report.fitted, table),
        at_bound=levels.per_constant(result.report.at_bound, table),
    )
    return constants, kept, replace(result, report=report)


def calibrate(
    rows: Sequence[Measurement],
    base: DeviceProfile,
    analyses: Sequence[ModelAnalysis] | None = None,
    default_threads: int | None = None,
) -> Calibration:
    """Fit ``base``'s ``[costmodel]`` constants on ``rows``; see the module docstring."""
    if base.is_mcu:
        raise CalibrationError(
            f"{base.id} is a microcontroller profile: it has no cost model (static checks "
            "only), so there is nothing to calibrate; choose a cpu or npu base profile"
        )
    table = dict(base.raw.get("costmodel") or {})
    params = CostParams.from_table(table)
    if not params.has_cpu or (base.is_npu and not params.has_npu):
        raise CalibrationError(
            f"{base.id} has no complete [costmodel] table to start from; choose a base profile "
            "whose constants are fitted (edgegate targets -v shows their sources)"
        )
    analyses = list(analyses) if analyses is not None else analyse_rows(rows)
    threads = np.array([r.threads or default_threads or base.cpu.cores for r in rows])
    labels = tuple(r.label for r in rows)
    measured = np.array([r.latency_ms for r in rows]) / 1e3
    notes: list[str] = []
    for row, a in zip(rows, analyses, strict=True):
        notes.extend(f"line {row.line}: {row.label}: {w}" for w in a.warnings)
    try:
        if base.is_npu:
            offset, x = _probe_design(
                analyses, threads, base, table, fit.NPU_LATENCY_TERMS, "latency"
            )
            result, kept, _ = _fit(
                x, offset, measured, fit.NPU_LATENCY_TERMS, table, base.id, "NPU latency"
            )
            latency_constants = dict(result.constants)
            notes.append(
                f"NPU base: the host CPU's constants stay {base.id}'s (only the NPU terms are "
                "fitted); float models, which run on the host, inform only the transfers"
            )
            p_fitted = False
        elif levels.is_shape_table(table):
            latency_constants, kept, result = _shape_latency(
                analyses, threads, measured, base, table
            )
            p_fitted = False
            notes.append(
                f"shape-model base: the levels of {base.id}'s constant groups are fitted "
                "(docs/calibrate.md); the thread split stays the base's"
            )
        else:
            latency_constants, kept, result, p_fitted = _cpu_latency(
                analyses, threads, measured, base, table
            )
        if not p_fitted and "parallel_fraction" not in kept:
            kept["parallel_fraction"] = (
                "every row is measured at one thread count; rows at two or more fit it"
            )
        constants = {k: rounded(v) for k, v in {**table, **latency_constants}.items()}
        energy_quality = None
        energy_rows = [k for k, r in enumerate(rows) if r.energy_mj is not None]
        if energy_rows:
            if len(energy_rows) < MIN_MODELS:
                raise CalibrationError(
                    f"energy_mj is given for {len(energy_rows)} model(s); fitting energy needs "
                    f"at least {MIN_MODELS} (leave the column empty to keep {base.id}'s energy "
                    "constants)"
                )
            terms = fit.NPU_ENERGY_TERMS if base.is_npu else fit.CPU_ENERGY_TERMS
            sub = [analyses[k] for k in energy_rows]
            e_measured = np.array([rows[k].energy_mj for k in energy_rows]) / 1e3
            e_offset, e_x = _probe_design(
                sub, threads[energy_rows], base, constants, terms, "energy"
            )
            fallback = {
                "energy_memory_w": fit.Tie("energy_compute_w", "memory time at the compute power"),
                "energy_static_w": fit.Tie(
                    "energy_compute_w", "overhead time at the compute power"
                ),
            }
            e_result, e_kept, _ = _fit(
                e_x, e_offset, e_measured, terms, table, base.id, "energy", fallback
            )
            constants.update({k: rounded(v) for k, v in e_result.constants.items()})
        calibrated = fit.with_constants(base, constants)
        predicted = [
            estimate(a, calibrated, threads=int(t)).latency_ms
            for a, t in zip(analyses, threads, strict=True)
        ]
        if energy_rows:
            e_predicted = [
                estimate(analyses[k], calibrated, threads=int(threads[k])).energy_mj
                for k in energy_rows
            ]
            energy_quality = FitQuality(
                quantity="energy",
                unit="mJ",
                labels=tuple(labels[k] for k in energy_rows),
                threads=tuple(int(threads[k]) for k in energy_rows),
                measured=tuple(float(rows[k].energy_mj) for k in energy_rows),
                predicted=tuple(float(v) for v in e_predicted),
                fitted=e_result.report.fitted,
                kept=e_kept,
                at_bound=e_result.report.at_bound,
                condition=e_result.report.condition,
            )
    except (CostModelUnavailable, ValueError) as exc:
        raise CalibrationError(f"cannot calibrate {base.id} on these models: {exc}") from None
    latency = FitQuality(
        quantity="latency",
        unit="ms",
        labels=labels,
        threads=tuple(int(t) for t in threads),
        measured=tuple(r.latency_ms for r in rows),
        predicted=tuple(float(v) for v in predicted),
        fitted=(*result.report.fitted, *(("parallel_fraction",) if p_fitted else ())),
        kept=kept,
        at_bound=result.report.at_bound,
        condition=result.report.condition,
    )
    return Calibration(base, constants, latency, energy_quality, tuple(notes))


# --------------------------------------------------------------------------------------------
# Output


def toml_value(value: Any) -> str:
    """One value as TOML text (shared with bench/fit_profiles.py, which writes the catalogue)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CalibrationError(f"cannot write {value!r} into a profile")
        return repr(value)
    return json.dumps(value, ensure_ascii=False)  # a TOML basic string


def profile_text(
    cal: Calibration, *, profile_id: str, csv_label: str, command: str, date: str
) -> str:
    """The profile file: ``extends`` the base, a full ``[costmodel]`` table, its sources."""
    base = cal.base
    n = len(cal.latency.labels)
    s = cal.latency.stats
    quality = f"latency MAPE {s['mape_pct']:.2f} %, max error {cal.latency.max_error_pct:.2f} %"
    if cal.energy is not None:
        quality += (
            f"; energy MAPE {cal.energy.stats['mape_pct']:.2f} %, "
            f"max error {cal.energy.max_error_pct:.2f} %"
        )
    fitted_text = (
        f"fitted: {csv_label}, {n} models, {date}, {command}; NNLS in relative error "
        f"(pytest_edgegate.calibrate.fit); {quality}"
    )
    fitted = set(cal.latency.fitted) | set(cal.energy.fitted if cal.energy else ())
    kept = {**cal.latency.kept, **(cal.energy.kept if cal.energy else {})}
    sources = {}
    for key in cal.constants:
        if key in fitted:
            sources[key] = fitted_text
        elif key in kept:
            sources[key] = (
                f"kept: {base.id}'s value, not fitted on {csv_label} ({n} models, {date}): "
                f"{kept[key]}; see {base.id}'s sources"
            )
        else:
            sources[key] = f"kept: {base.id}'s value ({command}, {date}); see {base.id}'s sources"
    lines = [
        f"# Calibrated by `{command}` on {date}:",
        f"# {base.id} with the [costmodel] constants fitted on {n} models measured on the board.",
        f"id = {toml_value(profile_id)}",
        f"version = {toml_value(date)}",
        f"name = {toml_value(f'{profile_id} ({base.id} calibrated on {csv_label})')}",
        f"extends = {toml_value(base.id)}",
        "",
        "[costmodel]",
        *(f"{k} = {toml_value(v)}" for k, v in cal.constants.items()),
        "",
        "[sources]",
        *(f"{toml_value('costmodel.' + k)} = {toml_value(v)}" for k, v in sources.items()),
        "",
    ]
    return "\n".join(lines)


def _table(q: FitQuality) -> list[str]:
    from tabulate import tabulate

    rows = [
        [label, t, f"{m:.4g}", f"{p:.4g}", f"{e:+.1f} %"]
        for label, t, m, p, e in zip(
            q.labels, q.threads, q.measured, q.predicted, q.errors_pct, strict=True
        )
    ]
    headers = ["model", "threads", f"measured {q.unit}", f"fitted {q.unit}", "error"]
    return tabulate(rows, headers=headers, disable_numparse=True).splitlines()


def report_lines(cal: Calibration) -> list[str]:
    """What ``edgegate calibrate`` prints: per-model errors, overall error, what was fitted."""
    base = cal.base
    base_table = base.raw.get("costmodel") or {}
    out = []
    for q in (cal.latency, cal.energy):
        if q is None:
            continue
        s = q.stats
        out.append(f"{q.quantity}, {len(q.labels)} models:")
        out += [f"  {line}" for line in _table(q)]
        out.append(
            f"  {q.quantity}: MAPE {s['mape_pct']:.2f} %, max error {q.max_error_pct:.2f} % "
            f"({q.worst}), {s['within_10_pct']:.0f} % of models within +-10 %, Kendall tau "
            f"{s['kendall_tau']:.3f}"
        )
        changes = [
            f"{k} {cal.constants[k]:g} (was {base_table.get(k, float('nan')):g})" for k in q.fitted
        ]
        out.append(f"  fitted: {', '.join(changes) or 'nothing'}")
        reasons: dict[str, list[str]] = {}
        for key, why in q.kept.items():
            reasons.setdefault(why, []).append(f"{key} {cal.constants[key]:g}")
        for why, keys in reasons.items():
            out.append(f"  kept at {base.id}'s values ({why}): {', '.join(keys)}")
        if q.at_bound:
            out.append(f"  at a physical bound (the data wanted more): {', '.join(q.at_bound)}")
    if cal.energy is None:
        out.append(f"energy: no energy_mj column; energy constants kept at {base.id}'s values")
    out += [f"note: {n}" for n in cal.notes]
    return out
