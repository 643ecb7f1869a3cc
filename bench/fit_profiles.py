"""Fit the cost-model constants of the shipped profiles on the HW-NAS data and write them.

Usage::

    .venv/bin/python bench/fit_profiles.py DATA_DIR/hwnas [--jobs 2] [--date YYYY-MM-DD]
        [--dry-run]

Fits ``cortex-a76``, ``cortex-a72``, ``cortex-a53``, ``edgetpu``, ``eyeriss`` and
``ethos-n77`` with the per-class model, but rewrites only ``eyeriss`` (its ``[costmodel]``
table and ``"costmodel.*"`` sources; text edits: every other byte stays as it was): the
others are now written by the shape-model and array-model scripts (:data:`OWNED_ELSEWHERE`).
Deterministic: the same data, code and ``--date`` give byte-identical files (constants are
rounded to 4 significant digits, and the energy and NPU fits use the rounded latency
constants, so the shipped files are exactly what was fitted on).  Nothing is timed here; the
one host measurement (ONNX Runtime's thread scaling) is recorded below from
``bench/thread_scaling.py``.

What is fitted on what (rows, graphs and views: :mod:`bench.fitting.columns`;
the fitting: :mod:`pytest_edgegate.calibrate.fit`), always on the fitting split
(``arch_idx % 5 != 0``):

* ``cortex-a76``: CPU latency constants on the Pi 5 ONNX Runtime latency (1 thread), then
  ``energy_*_w`` on the Pi 5 VDD_CORE dynamic energy with the fitted model's per-term times;
* ``cortex-a72``: CPU latency constants on the HW-NAS-Bench Pi 4 latency, at 1 thread (an
  assumption, see :data:`PI4_THREADS_REASON`); energy derived from ``[power]``;
* ``edgetpu``: NPU latency constants on the Edge TPU latency (networks in the int8 view),
  with ``npu_pool_as_conv`` chosen by the lower fitting-split error; host CPU constants
  carried from ``cortex-a72``; energy derived from the datasheet's TOPS/W, split into static
  and per-operation parts as the Eyeriss fit splits its power;
* ``eyeriss``: NPU latency and energy constants on the simulated Eyeriss columns (int16
  view); host carried from ``cortex-a72``;
* ``cortex-a53``, ``ethos-n77``: derived (efficiencies carried from the fitted sibling onto
  the profile's own peaks and bandwidth; energies from ``[power]`` or cited figures).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

# Run as `python bench/NAME.py`: the repository root on the path makes `bench.*` importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fitting import columns as cols
from bench.fitting import hwnas
from pytest_edgegate.calibrate import fit
from pytest_edgegate.calibrate.board import toml_value
from pytest_edgegate.profiles import DeviceProfile, load_catalogue

PROFILE_DIR = Path(__file__).resolve().parents[1] / "pytest_edgegate" / "profiles" / "data"

#: Profiles whose ``[costmodel]`` another script now writes (the shape-aware CPU model, the
#: Edge TPU array model): fitted and printed here for comparison, never written, since this
#: script's per-class constants mean something else there.
OWNED_ELSEWHERE = {
    "cortex-a53": "shape model, python -m bench.fitting.nb201_level HWNAS_DIR --write",
    "cortex-a72": "shape model, python -m bench.fitting.nb201_level HWNAS_DIR --write",
    "cortex-a76": "shape model, python -m bench.fitting.nb201_level HWNAS_DIR --write",
    "edgetpu": "array model, python -m bench.fitting.edgetpu_array and nb201_level",
    "ethos-n77": (
        "derived from cortex-a76 and edgetpu, whose constants the scripts above write; "
        "carry them by hand, with the sources saying so"
    ),
}
COMMAND = "python bench/fit_profiles.py DATA_DIR/hwnas"

#: ONNX Runtime's measured thread scaling (``python bench/thread_scaling.py``), see there.
PARALLEL_FRACTION = 0.6
PARALLEL_FRACTION_SOURCE = (
    "measured on the development host, an x86 machine (2-core AMD EPYC VM), not on Arm: "
    "ONNX Runtime 1.31.1, 1 vs 2 intra-op threads on 20 seeded NAS-Bench-201 networks "
    "(the Pi 5 export variant), Amdahl fraction of the cost model's compute terms, median over "
    "the heavier half of the sample: 0.61, 0.54, 0.60, 0.46, 0.61 in five runs, 0.07 and 0.00 "
    "in two runs in which other processes held the second core of the shared host (two "
    "threads slower than one); 0.6 taken; python bench/thread_scaling.py --runs 200, "
    "2026-11-21; assumption: the same fraction holds on the Cortex-A cores"
)

PI4_THREADS_REASON = (
    "assumption: HW-NAS-Bench does not record the Raspberry Pi 4's thread count (data README); "
    "1 thread taken because TFLite's interpreter and benchmark tool of that time ran one "
    "thread unless told otherwise, and because the fitted efficiencies are plausible for one "
    "core (dense 3x3 convolutions at about 40 % of one A72 core's peak), whereas at 4 threads "
    "they would be near 10 %"
)

CPU_ENERGY_KEYS = ("energy_compute_w", "energy_memory_w", "energy_static_w")
CPU_LATENCY_KEYS = tuple(t.key for t in fit.CPU_LATENCY_TERMS)
ORDER = (
    "threads",
    "parallel_fraction",
    *CPU_LATENCY_KEYS,
    *CPU_ENERGY_KEYS,
    *(t.key for t in fit.NPU_LATENCY_TERMS),
    "npu_pool_as_conv",
    *(t.key for t in fit.NPU_ENERGY_TERMS),
)


def rounded(value: Any) -> Any:
    """Four significant digits: readable, and far below the data's noise."""
    if isinstance(value, (bool, int)):
        return value
    return float(f"{value:.4g}")


def rounded_table(constants: Mapping[str, Any]) -> dict[str, Any]:
    return {k: rounded(v) for k, v in constants.items()}


# --------------------------------------------------------------------------------------------
# Provenance strings


class Provenance:
    """Builds the ``"costmodel.KEY"`` source strings of one profile."""

    def __init__(self, date: str) -> None:
        self.date = date
        self.entries: dict[str, dict[str, str]] = {}

    def add(self, profile: str, key: str, text: str) -> None:
        self.entries.setdefault(profile, {})[key] = text

    def fitted(
        self,
        profile: str,
        result: fit.FitResult,
        rows: cols.ColumnRows,
        what: str,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        """Sources for every constant of ``result``: fitted ones and the priors used."""
        col = rows.column
        n_fit = int(rows.fit.sum())
        s = result.report.stats
        where = (
            f"HW-NAS-Bench {hwnas.NB201_FILE} (GATECH-EIC/HW-NAS-Bench, "
            f"roldebijvank/HW-NAS-Bench-360) column {col.column} ({what}), fitting "
            f"split arch_idx % 5 != 0, "
            f"{n_fit} networks rebuilt by pytest_edgegate.runner.nb201 as "
            f"'{col.variant.name}'"
            + (" compared with each row's rep_arch_idx network" if col.representative else "")
            + (f", analysed in the {col.view} view" if col.view else "")
            + f"; NNLS in relative error (pytest_edgegate.calibrate.fit); fitting-split MAPE "
            f"{s['mape_pct']:.1f} %, {s['within_10_pct']:.1f} % within +-10 %; {self.date}; "
            f"{COMMAND}"
        )
        for key in result.constants:
            if key == "threads":
                continue
            if key in result.report.priors:
                text = (
                    f"assumption: the data cannot identify it ({where.split(';')[0]}); "
                    f"{result.report.priors[key]}"
                )
            else:
                bound = " (at its physical bound)" if key in result.report.at_bound else ""
                text = f"fitted{bound}: {where}"
            self.add(profile, key, (extra or {}).get(key, text))


# --------------------------------------------------------------------------------------------
# Editing the TOML text


_HEADER = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")


def _table_spans(lines: list[str]) -> list[tuple[str, int, int]]:
    """``(name, first line, end line)`` of every ``[table]`` in ``lines`` (end exclusive)."""
    heads = [(m.group(1).strip(), i) for i, line in enumerate(lines) if (m := _HEADER.match(line))]
    spans = []
    for k, (name, start) in enumerate(heads):
        end = heads[k + 1][1] if k + 1 < len(heads) else len(lines)
        spans.append((name, start, end))
    return spans


def rewrite_profile(text: str, constants: Mapping[str, Any], sources: Mapping[str, str]) -> str:
    """``text`` with its ``[costmodel]`` table and ``costmodel.*`` sources replaced.

    A text edit, not a TOML round trip, so comments and layout elsewhere survive untouched:
    an existing ``[costmodel]`` table is replaced in place (a new one goes just before
    ``[sources]``), ``"costmodel.*"`` lines are removed from ``[sources]`` and the new ones
    appended after its last entry.
    """
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    keys = sorted(constants, key=lambda k: (ORDER.index(k) if k in ORDER else len(ORDER), k))
    table = ["[costmodel]\n"]
    table += [f"{k} = {toml_value(constants[k])}\n" for k in keys]
    table.append("\n")
    spans = _table_spans(lines)
    names = [s[0] for s in spans]
    if "sources" not in names:
        raise ValueError("profile has no [sources] table")
    if "costmodel" in names:
        _, start, end = spans[names.index("costmodel")]
        lines[start:end] = table
    else:
        _, start, _ = spans[names.index("sources")]
        lines[start:start] = table
    _, start, end = _table_spans(lines)[[s[0] for s in _table_spans(lines)].index("sources")]
    body = [ln for ln in lines[start + 1 : end] if not ln.lstrip().startswith('"costmodel.')]
    last = max((i for i, ln in enumerate(body) if ln.strip()), default=-1)
    new = [f"{json.dumps('costmodel.' + k)} = {toml_value(sources[k])}\n" for k in keys]
    body = body[: last + 1] + new + body[last + 1 :]
    lines[start + 1 : end] = body
    return "".join(lines)


# --------------------------------------------------------------------------------------------
# The fits


def host_from(
    fitted: Mapping[str, Any], sibling: str, prov: Provenance, profile: str, note: str
) -> dict[str, Any]:
    """CPU latency constants carried from a fitted sibling onto this profile's own peaks."""
    out = {k: fitted[k] for k in ("threads", "parallel_fraction", *CPU_LATENCY_KEYS)}
    for key in out:
        if key == "threads":
            text = f"derived: carried from {sibling}.toml (the constants hold at that thread count)"
        elif key == "parallel_fraction":
            text = f"assumption: carried from {sibling}.toml ({PARALLEL_FRACTION_SOURCE})"
        elif key.startswith("eff_"):
            kind = "a multiple of" if key == "eff_cache" else "a share of"
            text = (
                f"derived: {sibling}.toml's {key} = {fitted[key]:g} ({kind} that profile's own "
                f"peak or bandwidth, see its sources) carried onto this profile's [throughput] "
                f"and [memory] figures; {note}"
            )
        else:
            text = (
                f"derived: {sibling}.toml's {key} = {fitted[key]:g} us (see its sources), carried "
                f"as it is; assumption: the same runtime overhead per node and per inference"
            )
        prov.add(profile, key, text)
    return out


def power_energy(profile: DeviceProfile, prov: Provenance, note: str = "") -> dict[str, float]:
    """CPU energy constants from ``[power]``: (active - idle) / cores per busy core."""
    active, idle, cores = profile.power["active_w"], profile.power["idle_w"], profile.cpu.cores
    watts = rounded((active - idle) / cores)
    for key in CPU_ENERGY_KEYS:
        prov.add(
            profile.id,
            key,
            f"derived: ([power] active_w {active:g} W - idle_w {idle:g} W) / {cores} cores = "
            f"{watts:g} W per busy core, the same for compute, memory and overhead time (no "
            f"energy measurement to split them); the constants hold at 1 busy core and the "
            f"estimate scales compute power with the busy threads{note}",
        )
    return dict.fromkeys(CPU_ENERGY_KEYS, watts)


def npu_energy_from_efficiency(
    profile: DeviceProfile, tops_per_w: float, static_share: float, cite: str, prov: Provenance
) -> dict[str, float]:
    """NPU energy constants from a published TOPS/W (the whole chip at its peak).

    The chip draws ``peak_tops / tops_per_w`` watts at its peak.  A share ``static_share`` of
    that is drawn whenever it runs (leakage, clocks, control: an NPU at 15 % utilisation does
    not draw 15 % of its peak power), the rest per operation.  No NPU here publishes that
    split; the share is carried from the Eyeriss fit, the one accelerator with energy data.
    """
    peak_w = profile.npu.peak_tops / tops_per_w
    pj_per_op = (1.0 - static_share) / tops_per_w  # 1 TOPS/W = 1 pJ per op
    values = {
        "npu_pj_per_mac": rounded(2 * pj_per_op),
        "npu_pj_per_vector_op": rounded(pj_per_op),
        "npu_pj_per_sram_byte": 0.0,
        "npu_pj_per_dram_byte": 160.0,
        "npu_static_w": rounded(static_share * peak_w),
    }
    split = (
        f"{tops_per_w:g} TOPS/W at {profile.npu.peak_tops:g} TOPS = {peak_w:.3g} W at peak "
        f"({cite}); assumption: a share {static_share:.3f} of it is drawn whenever the NPU runs, "
        f"carried from eyeriss.toml's fitted npu_static_w over its measured chip power"
    )
    prov.add(
        profile.id,
        "npu_pj_per_mac",
        f"derived: {pj_per_op:.3g} pJ per op x 2 ops per MAC, the share {1 - static_share:.3f} "
        f"of {split}",
    )
    prov.add(
        profile.id,
        "npu_pj_per_vector_op",
        f"derived: {pj_per_op:.3g} pJ per op, the share {1 - static_share:.3f} of {split}",
    )
    prov.add(
        profile.id,
        "npu_pj_per_sram_byte",
        f"assumption: 0, on-chip traffic is inside the whole-chip TOPS/W figure ({cite})",
    )
    prov.add(
        profile.id,
        "npu_pj_per_dram_byte",
        "derived: 1.3 nJ per 64-bit DRAM access = 160 pJ per byte, the low end of M. Horowitz, "
        "'Computing's energy problem (and what we can do about it)', ISSCC 2014, "
        "doi:10.1109/ISSCC.2014.6757323 (1.3-2.6 nJ per 64 bits)",
    )
    prov.add(profile.id, "npu_static_w", f"derived: {static_share:.3f} x {peak_w:.3g} W; {split}")
    return values


def fit_npu_latency_choosing_pool(
    data: tuple[list, np.ndarray], profile: DeviceProfile, host: Mapping[str, Any]
) -> tuple[fit.FitResult, bool, str]:
    """The NPU latency fit with pooling priced on the array (``npu_pool_as_conv``) and without,
    the better by fitting-split MAPE: its result, the choice, and the choice's source text.

    Whether an accelerator runs pooling on its MAC array is not in the profiles' cited
    sources, so the data decides, and the source says by how much.
    """
    an, y = data
    choices = {
        pool: fit.fit_npu_latency(an, y, profile, {**host, "npu_pool_as_conv": pool})
        for pool in (False, True)
    }
    best = min(choices, key=lambda k: choices[k].report.stats["mape_pct"])
    npu = choices[best]
    print("\n".join(npu.report.lines()))
    other = choices[not best].report.stats["mape_pct"]
    why = (
        f"fitted (a choice): fitting-split MAPE {npu.report.stats['mape_pct']:.1f} % with "
        f"{str(best).lower()} against {other:.1f} % with {str(not best).lower()}, same data and "
        f"fit as npu_eff_mac"
    )
    return npu, best, why


def fit_all(data: cols.HwnasData, jobs: int, date: str) -> tuple[dict[str, dict], Provenance]:
    catalogue = load_catalogue()
    prov = Provenance(date)
    t0 = time.perf_counter()
    sets = cols.network_sets(data, jobs=jobs)
    print(
        "analysed "
        + ", ".join(f"{len(s.analyses)} {v.name}" for v, s in sets.items())
        + f" networks in {time.perf_counter() - t0:.1f} s"
    )
    rows = {c.label: cols.column_rows(data, c) for c in cols.COLUMNS}
    for label, r in rows.items():
        dropped = "; ".join(f"{k}: {v}" for k, v in r.dropped.items() if v) or "none"
        print(f"{label}: {len(r.rows)} usable rows ({int(r.fit.sum())} fit); dropped: {dropped}")
    print()

    def analyses(label: str, split: str = "fit") -> tuple[list, np.ndarray]:
        r = rows[label]
        mask = r.fit if split == "fit" else r.report
        return cols.row_analyses(r, sets[r.column.variant], mask), r.values[mask]

    out: dict[str, dict[str, Any]] = {}

    # Raspberry Pi 5 (cortex-a76): latency, then energy on the rounded latency model.
    a76 = catalogue.get("cortex-a76")
    an, y = analyses("Pi 5 ORT latency")
    lat = fit.fit_cpu_latency(an, y, a76, threads=1)
    print("\n".join(lat.report.lines()))
    a76_const = rounded_table({**lat.constants, "parallel_fraction": PARALLEL_FRACTION})
    prov.fitted("cortex-a76", lat, rows["Pi 5 ORT latency"], "HW-NAS-Bench-360, Pi 5, ONNX Runtime")
    prov.add(
        "cortex-a76",
        "threads",
        "fitted at: HW-NAS-Bench-360 ran ONNX Runtime on the Pi 5 with 1 thread (intra/inter op "
        "= 1, data README)",
    )
    prov.add("cortex-a76", "parallel_fraction", PARALLEL_FRACTION_SOURCE)
    an, y = analyses("Pi 5 ORT energy")
    energy = fit.fit_cpu_energy(an, y, a76, a76_const)
    print("\n".join(energy.report.lines()))
    a76_const.update(rounded_table(energy.constants))
    prov.fitted(
        "cortex-a76",
        energy,
        rows["Pi 5 ORT energy"],
        "HW-NAS-Bench-360, Pi 5 VDD_CORE energy minus idle, ONNX Runtime, 1 thread; fitted on "
        "the rounded latency model's compute, memory and overhead seconds",
    )
    out["cortex-a76"] = a76_const

    # Raspberry Pi 4 (cortex-a72).
    a72 = catalogue.get("cortex-a72")
    an, y = analyses("Pi 4 latency")
    lat = fit.fit_cpu_latency(an, y, a72, threads=1)
    print("\n".join(lat.report.lines()))
    a72_lat = rounded_table({**lat.constants, "parallel_fraction": PARALLEL_FRACTION})
    prov.fitted("cortex-a72", lat, rows["Pi 4 latency"], "HW-NAS-Bench, Raspberry Pi 4, TFLite")
    prov.add("cortex-a72", "threads", PI4_THREADS_REASON)
    prov.add(
        "cortex-a72",
        "parallel_fraction",
        f"assumption: the ONNX Runtime figure of cortex-a76.toml ({PARALLEL_FRACTION_SOURCE})",
    )
    out["cortex-a72"] = {**a72_lat, **power_energy(a72, prov)}

    # Raspberry Pi 3 (cortex-a53): derived from the A72 fit.
    a53 = catalogue.get("cortex-a53")
    note = "assumption: an in-order A53 reaches the same share of its own (halved) NEON peak"
    a53_const = host_from(a72_lat, "cortex-a72", prov, "cortex-a53", note)
    out["cortex-a53"] = {**a53_const, **power_energy(a53, prov)}

    # Edge TPU: host = the A53 derivation on the Coral's own peaks; NPU fitted.
    tpu = catalogue.get("edgetpu")
    host = host_from(a72_lat, "cortex-a72", prov, "edgetpu", note + " (the Coral's host)")
    host.update(
        power_energy(
            tpu,
            prov,
            "; note: the board's active_w is an Edge TPU inference figure, not a CPU stress "
            "test, so this over-counts the host CPU's power",
        )
    )
    # The array model's switches (npu_array_tile, npu_fused_epilogue) are not fitted here.
    switches = ("npu_array_tile", "npu_fused_epilogue")
    host.update({k: tpu.raw["costmodel"][k] for k in switches if k in tpu.raw["costmodel"]})
    npu, best, why = fit_npu_latency_choosing_pool(analyses("Edge TPU latency"), tpu, host)
    tpu_const = {**host, "npu_pool_as_conv": best, **rounded_table(npu.constants)}
    prov.fitted("edgetpu", npu, rows["Edge TPU latency"], "HW-NAS-Bench, Coral Edge TPU")
    prov.add("edgetpu", "npu_pool_as_conv", why)

    # Eyeriss: host carried from the A72 fit (the profile's host is a copy of it).
    eye = catalogue.get("eyeriss")
    host = host_from(
        a72_lat, "cortex-a72", prov, "eyeriss", "the assumed host is a copy of cortex-a72"
    )
    host.update(power_energy(eye, prov, " (the assumed host's [power], copied from cortex-a72)"))
    npu, best, why = fit_npu_latency_choosing_pool(analyses("Eyeriss latency"), eye, host)
    eye_const = {**host, "npu_pool_as_conv": best, **rounded_table(npu.constants)}
    prov.fitted(
        "eyeriss", npu, rows["Eyeriss latency"], "HW-NAS-Bench, Eyeriss, simulated by its authors"
    )
    prov.add("eyeriss", "npu_pool_as_conv", why)
    an, y = analyses("Eyeriss energy")
    npu_e = fit.fit_npu_energy(an, y, eye, eye_const)
    print("\n".join(npu_e.report.lines()))
    eye_const.update(rounded_table(npu_e.constants))
    prov.fitted(
        "eyeriss",
        npu_e,
        rows["Eyeriss energy"],
        "HW-NAS-Bench, Eyeriss energy, simulated; fitted on the rounded latency model's NPU "
        "seconds and the networks' MACs, other operations and bytes",
    )
    out["eyeriss"] = eye_const
    static_share = eye_const["npu_static_w"] / eye.npu.power_w

    tpu_const.update(
        npu_energy_from_efficiency(
            tpu,
            2.0,
            static_share,
            "Coral Accelerator Module datasheet: '4 TOPS ... using 2 watts ... 2 TOPS per watt', "
            "https://coral.ai/docs/module/datasheet/",
            prov,
        )
    )
    out["edgetpu"] = tpu_const

    # Ethos-N77: host = the A76 (fitted, same core and figures); NPU carried from the Edge TPU.
    ethos = catalogue.get("ethos-n77")
    a76_note = "the assumed host is a copy of cortex-a76"
    host = host_from(a76_const, "cortex-a76", prov, "ethos-n77", a76_note)
    for key in CPU_ENERGY_KEYS:
        host[key] = a76_const[key]
        prov.add(
            "ethos-n77",
            key,
            f"derived: cortex-a76.toml's fitted {key} = {a76_const[key]:g} W ({a76_note}; "
            f"fitted on HW-NAS-Bench-360 Pi 5 VDD_CORE energy)",
        )
    eth_const = dict(host)
    for key in ("npu_eff_mac", "npu_eff_vector", "npu_dispatch_us", "npu_fixed_us"):
        eth_const[key] = tpu_const[key]
        prov.add(
            "ethos-n77",
            key,
            f"assumption: carried from edgetpu.toml's fitted {key} = {tpu_const[key]:g} (the "
            f"only int8 NPU with measurements here), as a share of this profile's own peak_tops",
        )
    eth_const["transfer_fixed_us"] = tpu_const["transfer_fixed_us"]
    prov.add(
        "ethos-n77",
        "transfer_fixed_us",
        f"assumption: carried from edgetpu.toml's fitted transfer_fixed_us = "
        f"{tpu_const['transfer_fixed_us']:g} us per NPU/CPU hop (a driver round trip); an "
        f"on-SoC NPU sharing DRAM may hop faster",
    )
    eth_const["npu_pool_as_conv"] = False
    prov.add(
        "ethos-n77",
        "npu_pool_as_conv",
        "derived: the Ethos-N driver stack runs average and max pooling as pooling operators "
        "(SUPPORTED.md, 'Average Pooling', 'Max Pooling'), "
        "https://github.com/ARM-software/ethos-n-driver-stack/blob/master/SUPPORTED.md",
    )
    eth_const.update(
        npu_energy_from_efficiency(
            ethos,
            5.0,
            static_share,
            "WikiChip Fuse, 'Arm Ethos is for Ubiquitous AI At the Edge': around 5 TOPS/W, "
            "https://fuse.wikichip.org/news/3282/arm-ethos-is-for-ubiquitous-ai-at-the-edge/",
            prov,
        )
    )
    out["ethos-n77"] = eth_const
    return out, prov


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", help="directory with the HW-NAS files")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument(
        "--date",
        default=dt.datetime.now(dt.timezone.utc).date().isoformat(),
        help="date written into the sources (default: today, UTC)",
    )
    parser.add_argument("--dry-run", action="store_true", help="fit and print, write nothing")
    args = parser.parse_args(argv)
    try:
        data = cols.load_data(args.data_dir)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    constants, prov = fit_all(data, args.jobs, args.date)
    print()
    for profile_id in [p for p in constants if p in OWNED_ELSEWHERE]:
        table = constants.pop(profile_id)
        shown = ", ".join(f"{k}={v}" for k, v in table.items())
        print(f"{profile_id}: {shown}\n  not written: {OWNED_ELSEWHERE[profile_id]}")
    for profile_id, table in constants.items():
        path = PROFILE_DIR / f"{profile_id}.toml"
        sources = prov.entries[profile_id]
        missing = sorted(set(table) - set(sources))
        if missing:
            raise SystemExit(f"{profile_id}: no source for {', '.join(missing)}")
        text = rewrite_profile(path.read_text(encoding="utf-8"), table, sources)
        shown = ", ".join(f"{k}={v}" for k, v in table.items())
        print(f"{profile_id}: {shown}")
        if not args.dry_run:
            path.write_text(text, encoding="utf-8")
    if not args.dry_run:
        load_catalogue()  # the rewritten files must still validate
        print(f"\nwrote {len(constants)} profiles in {PROFILE_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
