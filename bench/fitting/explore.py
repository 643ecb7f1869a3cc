"""A first look at the HW-NAS measurements: ``python -m bench.fitting.explore DIR``.

Before fitting a cost model on the HW-NAS-Bench data sets we want to know, per device column:
how many rows are usable after the README's cleaning, the typical value, and how much of the
ranking a pure MAC (or FLOP) count of the rebuilt network already explains (Kendall's tau on
the reporting part).  It also prints the issue's baseline, a least-squares fit of each target
on the count of each cell operation plus an intercept (fitted on the fitting part, scored on
the reporting part with :func:`~bench.fitting.hwnas.fidelity_stats`), so the
cost model has a floor to beat.

One subtlety decides which network a row's measurement belongs to.  HW-NAS-Bench-360 (the
``b360_*`` columns) measured one representative per NAS-Bench-201 isomorphism class and copied
its values to the other members, but isomorphic cells do not cost the same (a cell that
reuses a node computes fewer convolutions than its isomorphic twin that recomputes it, and
dead branches still run: only about half the non-representative members are within +-10 % of
their representative's MACs).  So ``b360_*``
columns are compared with the *representative's* network (``rep_arch_idx``), while the
HW-NAS-Bench columns (measured or simulated per architecture) use the row's own network.

MACs and FLOPs are counted on the rebuilt ONNX graphs (:func:`graph_costs`).  A network's cost
depends only on a handful of counts of its cell (see :func:`cost_key`), so one graph is built
per distinct key (about 350 of them) rather than one per architecture.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence

import numpy as np
import onnx

from bench.fitting import hwnas
from bench.fitting.nb201_cells import output_depends_on_input
from pytest_edgegate.runner.nb201 import (
    CELL_OPS,
    build_nb201,
    parse_arch_str,
    zero_nodes,
)

#: The baseline's targets: (label, column) as named in the issue.
BASELINE_TARGETS: tuple[tuple[str, str], ...] = (
    ("Pi 4 latency", "hwnas_raspi4_latency_ms"),
    ("Pi 5 ORT latency", "b360_pi5_onnx_cifar100_latency_ms"),
    ("Edge TPU latency", "hwnas_edgetpu_latency_ms"),
    ("Pi 5 ORT energy", "b360_pi5_onnx_cifar100_energy_mj"),
    ("Eyeriss latency", "hwnas_eyeriss_latency_ms"),
    ("Eyeriss energy", "hwnas_eyeriss_energy_mj"),
)

_ELEMENTWISE_FLOPS = {"Add": 1, "Sub": 1, "Mul": 1, "Div": 1, "Relu": 1, "BatchNormalization": 2}


def graph_costs(model: onnx.ModelProto) -> tuple[int, int]:
    """``(macs, flops)`` of a static-shape model, in the project's conventions.

    MACs: Conv (``N*Cout*Ho*Wo * Cin/group*kh*kw``) and Gemm (``M*K*N``) only, as ``macs_m``.
    FLOPs: two per MAC, plus one per bias element added by Conv/Gemm, ``kh*kw`` per
    AveragePool output, one per GlobalAveragePool input element, one per Add/Mul/Relu output
    element and two per BatchNormalization element (scale and shift), as ``flops_m``.
    """
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    shapes: dict[str, tuple[int, ...]] = {}
    for vi in (*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output):
        shapes[vi.name] = tuple(d.dim_value for d in vi.type.tensor_type.shape.dim)
    for init in model.graph.initializer:
        shapes[init.name] = tuple(init.dims)
    macs = flops = 0
    for node in model.graph.node:
        out = shapes[node.output[0]]
        out_elems = math.prod(out)
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "Conv":
            w = shapes[node.input[1]]
            n_macs = out_elems * math.prod(w[1:])
            macs += n_macs
            flops += 2 * n_macs + (out_elems if len(node.input) > 2 else 0)
        elif node.op_type == "Gemm":
            a, b = shapes[node.input[0]], shapes[node.input[1]]
            k = a[0] if attrs.get("transA", 0) else a[1]
            n_macs = out_elems * k
            macs += n_macs
            flops += 2 * n_macs + (out_elems if len(node.input) > 2 else 0)
            del b
        elif node.op_type == "AveragePool":
            flops += out_elems * math.prod(attrs["kernel_shape"])
        elif node.op_type == "GlobalAveragePool":
            flops += math.prod(shapes[node.input[0]])
        elif node.op_type in _ELEMENTWISE_FLOPS:
            flops += out_elems * _ELEMENTWISE_FLOPS[node.op_type]
    return macs, flops


def cost_key(arch_str: str) -> tuple[int, int, int, int, int]:
    """What a network's graph cost depends on: ``(n_conv1x1, n_conv3x3, n_pool, n_add, n_zero)``.

    Every cell node has the same shape within a stage and the rebuilt graph has one Conv per
    conv edge (also from zero nodes), one AveragePool per pool edge, ``k - 1`` Adds for a node
    with ``k`` live inputs and one Mul per materialised zero node; ``skip_connect`` and
    ``none`` add no node.  Two cells with the same key give networks with identical MACs and
    FLOPs (checked in the tests), which is what lets :func:`network_costs` build ~350 graphs
    instead of 15,625.
    """
    edges = parse_arch_str(arch_str)
    zeros = zero_nodes(edges)
    last = max(to for _, _, to in edges)
    n_conv1 = sum(op == "nor_conv_1x1" for op, _, _ in edges)
    n_conv3 = sum(op == "nor_conv_3x3" for op, _, _ in edges)
    n_pool = sum(op == "avg_pool_3x3" for op, _, _ in edges)
    n_add = sum(
        max(0, sum(1 for op, _, to in edges if to == j and op != "none") - 1)
        for j in range(1, last + 1)
        if j not in zeros
    )
    n_zero = sum(
        1 for j in zeros if j == last or any(op != "none" and i == j for op, i, _ in edges)
    )
    return n_conv1, n_conv3, n_pool, n_add, n_zero


def network_costs(arch_strs: Sequence[str], num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """MACs and FLOPs of the rebuilt network of each ``arch_str`` (one build per cost key)."""
    cache: dict[tuple[int, ...], tuple[int, int]] = {}
    macs = np.empty(len(arch_strs), dtype=np.float64)
    flops = np.empty(len(arch_strs), dtype=np.float64)
    for k, arch in enumerate(arch_strs):
        key = cost_key(arch)
        if key not in cache:
            cache[key] = graph_costs(build_nb201(arch, num_classes=num_classes))
        macs[k], flops[k] = cache[key]
    return macs, flops


def op_count_matrix(arch_strs: Sequence[str]) -> np.ndarray:
    """Per architecture, the count of each of :data:`CELL_OPS` (columns in that order)."""
    index = {op: k for k, op in enumerate(CELL_OPS)}
    out = np.zeros((len(arch_strs), len(CELL_OPS)), dtype=np.float64)
    for row, arch in enumerate(arch_strs):
        for op, _, _ in parse_arch_str(arch):
            out[row, index[op]] += 1
    return out


def op_count_baseline(
    counts: np.ndarray, target: np.ndarray, fit: np.ndarray, report: np.ndarray
) -> dict[str, float]:
    """The issue's baseline: least squares of ``target`` on op counts + intercept.

    Fitted on the valid rows of ``fit``, scored on the valid rows of ``report``.  The five
    counts always sum to 6, so the design is rank-deficient with the intercept; ``lstsq``
    returns the minimum-norm solution, whose predictions are the same as any other's.
    """
    design = np.column_stack([counts, np.ones(len(counts))])
    valid = np.isfinite(target)
    rows = fit & valid
    coef, *_ = np.linalg.lstsq(design[rows], target[rows], rcond=None)
    pred = design @ coef
    return hwnas.fidelity_stats(pred[report & valid], target[report & valid])


def _group_median_share(values: np.ndarray, groups: Sequence[Sequence[int]]) -> float:
    """Share (%) of members of multi-member groups within +-10 % of their group's median."""
    hits = total = 0
    for members in groups:
        vals = values[list(members)]
        vals = vals[np.isfinite(vals)]
        if vals.size < 2:
            continue
        med = np.median(vals)
        hits += int(np.sum(np.abs(vals / med - 1.0) <= 0.10))
        total += vals.size
    return 100.0 * hits / total if total else math.nan


def _fmt(value: float, spec: str) -> str:
    return "n/a" if not np.isfinite(value) else format(value, spec)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the first look; returns the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.fitting.explore",
        description="Summarise the HW-NAS measurements against rebuilt NAS-Bench-201 networks.",
    )
    parser.add_argument(
        "data_dir",
        nargs="?",
        default=None,
        help=f"directory with the HW-NAS files (default: {hwnas.default_data_dir()})",
    )
    args = parser.parse_args(argv)
    try:
        data_dir = hwnas.resolve_data_dir(args.data_dir)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    start = time.perf_counter()
    records = hwnas.read_nb201_metrics(data_dir)
    b360 = hwnas.read_b360(data_dir, device="pi5", framework="onnx", task="cifar100")
    arch_idx = np.array([r.arch_idx for r in records])
    if not np.array_equal(arch_idx, np.arange(len(records))):
        raise SystemExit("nb201_hw_metrics.csv: arch_idx is not 0..N-1 in order")
    arch_strs = [r.arch_str for r in records]
    rep = np.arange(len(records), dtype=np.int64)  # own index unless b360 says otherwise
    for r in b360:
        rep[r.arch_idx] = r.rep_arch_idx
    fit, report = hwnas.split_masks(arch_idx)

    macs10, flops10 = network_costs(arch_strs, 10)
    macs100, flops100 = network_costs(arch_strs, 100)
    macs100, flops100 = macs100[rep], flops100[rep]  # b360 measured the representative
    counts_own = op_count_matrix(arch_strs)
    counts_rep = counts_own[rep]

    published = hwnas.metric_array(records, "nb201_cifar10_mflops")
    known = np.isfinite(published)
    print(f"data: {data_dir}")
    if known.any():
        # published = Conv+Gemm MACs + the classifier's 10 bias additions (see nb201's docstring)
        rel = np.abs((macs10[known] + 10) / 1e6 / published[known] - 1.0)
        print(
            f"rebuild check: MACs (Conv+Gemm, +10 classifier bias adds) vs nb201_cifar10_mflops "
            f"on {int(known.sum())} rows: max |rel err| {rel.max():.2e}; FLOPs (2 per MAC + "
            f"the rest) / published = {np.median(flops10[known] / 1e6 / published[known]):.3f}"
            " (median)"
        )
    groups = list(hwnas.isomorphism_groups(b360).values())
    others = rep != arch_idx
    close = np.abs(macs10[others] / macs10[rep[others]] - 1) <= 0.10
    share = 100 * float(close.mean()) if close.size else math.nan
    print(
        f"isomorphism: {len(groups)} groups; {int(others.sum())} non-representative members, of "
        f"which {share:.1f} % are within +-10 % of their representative's MACs"
    )
    print()

    # Members of an isomorphism group whose rebuilt graphs also cost the same: their spread
    # is measurement noise, whereas a whole group also mixes genuinely different networks.
    keys = [cost_key(a) for a in arch_strs]
    same_graph: list[list[int]] = []
    for members in groups:
        by_key: dict[tuple[int, ...], list[int]] = {}
        for i in members:
            by_key.setdefault(keys[i], []).append(i)
        same_graph += [m for m in by_key.values() if len(m) > 1]
    independent = np.array([not output_depends_on_input(a) for a in arch_strs])

    columns = [
        c
        for c in records[0].metrics
        if c.endswith(("_latency_ms", "_energy_mj")) and not c.startswith("help_")
    ]
    columns += [c for c in records[0].metrics if c.startswith("help_")]
    header = (
        f"{'column':42s} {'valid':>6s} {'median':>8s} {'tau MACs':>8s} {'tau FLOPs':>9s}"
        f" {'iso10':>6s} {'same10':>6s} {'const':>5s} {'c.med':>7s}"
    )
    print("Per column. valid/median after cleaning; tau: Kendall's tau-b of the value against")
    print("the rebuilt network's MACs / FLOPs on the reporting part (arch_idx % 5 == 0);")
    print("iso10: % of isomorphism-group members within +-10 % of their group's median (b360")
    print("copies the representative's value, hence 100); same10: the same within groups of")
    print("isomorphic networks whose graphs also cost the same (the noise floor); const / c.med:")
    print(f"valid rows and median among the {int(independent.sum())} networks whose output does")
    print("not depend on the input (the representative's, for b360 columns).")
    print(header)
    print("-" * len(header))
    for column in columns:
        values = hwnas.metric_array(records, column)
        is_b360 = column.startswith("b360_")
        macs, flops = (macs100, flops100) if is_b360 else (macs10, flops10)
        const = independent[rep] if is_b360 else independent
        sel = report & np.isfinite(values)
        tau_m = hwnas.kendall_tau_b(macs[sel], values[sel])
        tau_f = hwnas.kendall_tau_b(flops[sel], values[sel])
        valid = np.isfinite(values)
        const_valid = values[const & valid]
        const_med = float(np.median(const_valid)) if const_valid.size else math.nan
        print(
            f"{column:42s} {int(valid.sum()):6d} {_fmt(float(np.median(values[valid])), '8.3f')} "
            f"{_fmt(tau_m, '8.3f')} {_fmt(tau_f, '9.3f')} "
            f"{_fmt(_group_median_share(values, groups), '6.1f')} "
            f"{_fmt(_group_median_share(values, same_graph), '6.1f')} "
            f"{const_valid.size:5d} {_fmt(const_med, '7.3f')}"
        )
    print()

    print("Baseline: least squares on the count of each cell operation + intercept")
    print("(fit: arch_idx % 5 != 0, report: arch_idx % 5 == 0; b360 columns use rep_arch_idx)")
    header = (
        f"{'target':18s} {'column':36s} {'n':>5s} {'MAPE%':>7s} {'+-10%':>6s} {'+-20%':>6s}"
        f" {'tau':>6s}"
    )
    print(header)
    print("-" * len(header))
    for label, column in BASELINE_TARGETS:
        values = hwnas.metric_array(records, column)
        counts = counts_rep if column.startswith("b360_") else counts_own
        stats = op_count_baseline(counts, values, fit, report)
        print(
            f"{label:18s} {column:36s} {int(stats['n']):5d} {stats['mape_pct']:7.1f} "
            f"{stats['within_10_pct']:6.1f} {stats['within_20_pct']:6.1f} "
            f"{stats['kendall_tau']:6.3f}"
        )
    own = op_count_baseline(
        counts_own, hwnas.metric_array(records, "b360_pi5_onnx_cifar100_latency_ms"), fit, report
    )
    print(
        f"(Pi 5 ORT latency with the row's own arch_str instead of rep_arch_idx: "
        f"{own['within_10_pct']:.1f} % within +-10 %, MAPE {own['mape_pct']:.1f} %)"
    )
    print(f"\n[{time.perf_counter() - start:.1f} s]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
