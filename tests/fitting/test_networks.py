"""Graph helpers of the calibration: pruning, the quantized view and structure deduplication.

The structure key lets the fit and the fidelity benchmark analyse one network per distinct
cell structure instead of 15,625; it is only sound if networks sharing a key get identical
estimates, which is checked here on sampled pairs for every variant and catalogue profile.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from bench.fitting.columns import COLUMNS
from bench.fitting.nb201_cells import cell_graph
from bench.fitting.networks import (
    NetworkSet,
    Variant,
    analyse_arch,
    prune_dead,
    quantized_view,
    structure_key,
)
from pytest_edgegate.analysis import analyze
from pytest_edgegate.costmodel import estimate
from pytest_edgegate.profiles import load_catalogue
from pytest_edgegate.runner.nb201 import CELL_OPS, build_nb201

from .test_nb201 import ARCH_MIXED, ARCH_ZERO_FEEDS, arch_from_ops

ALL_ARCHS = [
    f"|{a}~0|+|{b}~0|{c}~1|+|{d}~0|{e}~1|{f}~2|"
    for a, b, c, d, e, f in itertools.product(CELL_OPS, repeat=6)
]
# node 3 takes only a skip from node 0: nodes 1 and 2 (two convs, a pool) feed nothing
ARCH_DEAD = arch_from_ops(
    "nor_conv_3x3", "avg_pool_3x3", "nor_conv_1x1", "skip_connect", "none", "none"
)


def test_cell_graph_is_the_builders_cell() -> None:
    for arch in (ARCH_MIXED, ARCH_ZERO_FEEDS, ARCH_DEAD):
        nodes, out = cell_graph(arch)
        built = [n for n in build_nb201(arch).graph.node if n.name.startswith("cell1_0/")]
        assert [n.op_type for n in nodes] == [n.op_type for n in built]
        assert out.replace("cell/", "cell1_0/") == built[-1].output[0] or out == "x"


def test_prune_dead_removes_only_what_reaches_no_output() -> None:
    model = build_nb201(ARCH_DEAD)
    pruned = prune_dead(model)
    onnx.checker.check_model(pruned)
    names = {n.name for n in pruned.graph.node}
    assert not any("/edge_0_1/" in n or "/edge_0_2/" in n or "/edge_1_2/" in n for n in names)
    assert len(pruned.graph.node) < len(model.graph.node)
    used = {i for n in pruned.graph.node for i in n.input}
    assert all(t.name in used for t in pruned.graph.initializer)
    x = np.random.default_rng(0).standard_normal((1, 3, 32, 32)).astype(np.float32)
    outs = [
        ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(
            None, {"input": x}
        )[0]
        for m in (model, pruned)
    ]
    np.testing.assert_array_equal(outs[0], outs[1])  # same function, fewer nodes
    assert len(prune_dead(build_nb201(ARCH_MIXED)).graph.node) == len(
        build_nb201(ARCH_MIXED).graph.node
    )


def test_quantized_view_scales_bytes_and_relabels_dtypes() -> None:
    a = analyze(build_nb201(ARCH_MIXED))
    for dtype, factor in (("int8", 0.25), ("int16", 0.5)):
        q = quantized_view(a, dtype)
        assert q.is_quantized and q.macs == a.macs and q.flops == a.flops
        assert {n.compute_dtype for n in q.nodes} == {dtype}
        for n, m in zip(a.nodes, q.nodes, strict=True):
            assert m.bytes_read == round(n.bytes_read * factor)
            assert m.weight_bytes == round(n.weight_bytes * factor)
        assert q.inputs[0].dtype == dtype
    with pytest.raises(ValueError, match="unknown integer type"):
        quantized_view(a, "int4")


@pytest.mark.parametrize("variant", sorted({c.variant for c in COLUMNS}, key=lambda v: v.name))
def test_networks_sharing_a_structure_key_get_identical_estimates(variant: Variant) -> None:
    rng = np.random.default_rng(11)
    groups: dict[str, list[str]] = defaultdict(list)
    for i in sorted(rng.choice(len(ALL_ARCHS), 3000, replace=False)):
        groups[structure_key(ALL_ARCHS[i], variant)].append(ALL_ARCHS[i])
    assert 150 < len(groups) < 400  # 250 to 390 over all 15,625 cells
    shared = sorted(k for k, v in groups.items() if len(v) > 1)
    # NPU pricing depends on who feeds whom and in which order (a Relu fused into the
    # convolution it alone reads; weights cached layer by layer in graph order until the
    # on-chip memory is full), which the key leaves out: the fitting scripts price such
    # profiles on each structure's representative network, an approximation (structure_key).
    catalogue = [p for p in load_catalogue() if not p.is_mcu and not p.is_npu]
    views = {c.view for c in COLUMNS if c.variant == variant} | {None}
    for k in rng.choice(len(shared), 6, replace=False):
        first, second = rng.choice(groups[shared[k]], 2, replace=False)
        a, b = analyse_arch(first, variant), analyse_arch(second, variant)
        for view in views:
            va = a if view is None else quantized_view(a, view)
            vb = b if view is None else quantized_view(b, view)
            for profile in catalogue:
                ea, eb = estimate(va, profile), estimate(vb, profile)
                assert ea.latency_ms == pytest.approx(eb.latency_ms, rel=1e-12), (first, second)
                assert ea.energy_mj == pytest.approx(eb.energy_mj, rel=1e-12)


def test_network_set_maps_every_position_to_its_structure() -> None:
    variant = Variant("test", keep_none=True, num_classes=100)
    archs = [ARCH_MIXED, ARCH_ZERO_FEEDS, ARCH_MIXED, ARCH_DEAD]
    ns = NetworkSet(archs, variant)
    assert len(ns) == 4 and len(ns.analyses) == 3
    assert ns.index[0] == ns.index[2] and ns.representative == [0, 1, 3]
    assert ns.analysis(2) is ns.analysis(0)
    assert ns.viewed("int8")[0].nodes[0].compute_dtype == "int8"
    NetworkSet.check_homogeneous(["npu", "npu"], "ok")
    with pytest.raises(ValueError, match="mixed NPU/CPU placement"):
        NetworkSet.check_homogeneous(["npu", "cpu"], "bad")
