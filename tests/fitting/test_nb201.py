"""The NAS-Bench-201 rebuild: structure, runnability, and agreement with the published FLOPs.

The cost model will be fitted on measurements of these networks, so the rebuilt graph must be
the network the devices ran.  Three independent checks pin it down: counts of each node type
derived by hand from the README's description, a MAC/FLOP counter written here (not the
project's), and the FLOP figure NAS-Bench-201 published for every network.
"""

from __future__ import annotations

import math

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from bench.fitting.nb201_cells import op_counts, output_depends_on_input
from pytest_edgegate.runner.nb201 import (
    CELL_OPS,
    build_nb201,
    parse_arch_str,
    zero_nodes,
)


def arch_from_ops(*ops: str) -> str:
    """The cell string of six edge operations given in ``op0``..``op5`` order."""
    a, b, c, d, e, f = ops
    return f"|{a}~0|+|{b}~0|{c}~1|+|{d}~0|{e}~1|{f}~2|"


C1, C3, SKIP, POOL, NONE = "nor_conv_1x1", "nor_conv_3x3", "skip_connect", "avg_pool_3x3", "none"
ARCH_MIXED = arch_from_ops(POOL, C1, SKIP, C1, SKIP, SKIP)  # arch_idx 0
ARCH_ALL_CONV3 = arch_from_ops(C3, C3, C3, C3, C3, C3)
ARCH_ALL_NONE = arch_from_ops(NONE, NONE, NONE, NONE, NONE, NONE)
ARCH_ZERO_OUT = arch_from_ops(C3, C3, C3, NONE, NONE, NONE)
# node 1 is zero (only a none edge in) but feeds convolutions, as in the reference network
ARCH_ZERO_FEEDS = arch_from_ops(NONE, C3, C3, SKIP, C1, POOL)
ARCH_ALL_SKIP = arch_from_ops(SKIP, SKIP, SKIP, SKIP, SKIP, SKIP)
HANDFUL = [ARCH_MIXED, ARCH_ALL_CONV3, ARCH_ALL_NONE, ARCH_ZERO_OUT, ARCH_ZERO_FEEDS, ARCH_ALL_SKIP]

# MACs of everything but the cells, CIFAR-10 head, derived by hand from the README:
# stem 32*32*16*27; reductions (16x16 and 8x8 outputs): conv_a, conv_b and the 1x1 shortcut;
# classifier 64*10.
SKELETON_MACS_10 = (
    32 * 32 * 16 * 27
    + 16 * 16 * 32 * (16 * 9 + 32 * 9 + 16)
    + 8 * 8 * 64 * (32 * 9 + 64 * 9 + 32)
    + 64 * 10
)
# One conv edge in all 15 cells: 5 cells at each of 32x32x16, 16x16x32, 8x8x64.
CONV3_EDGE_MACS = 5 * sum(hw * hw * c * c * 9 for hw, c in ((32, 16), (16, 32), (8, 64)))
CONV1_EDGE_MACS = 5 * sum(hw * hw * c * c for hw, c in ((32, 16), (16, 32), (8, 64)))


def count_macs_flops(model: onnx.ModelProto) -> tuple[int, int]:
    """Independent counter: closed form per node over inferred shapes.

    MACs: Conv and Gemm.  FLOPs: 2 per MAC, + bias adds, pool window per output, GAP input
    elements, 1 per Add/Mul/Relu output element, 2 per BatchNormalization element.
    """
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    dims: dict[str, list[int]] = {
        vi.name: [d.dim_value for d in vi.type.tensor_type.shape.dim]
        for vi in [*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output]
    }
    dims.update({t.name: list(t.dims) for t in model.graph.initializer})
    macs = flops = 0
    for node in model.graph.node:
        n_out = int(np.prod(dims[node.output[0]]))
        if node.op_type == "Conv":
            _, c_in, kh, kw = dims[node.input[1]]
            m = n_out * c_in * kh * kw  # group is 1 throughout NAS-Bench-201
            macs += m
            flops += 2 * m + (n_out if len(node.input) == 3 else 0)
        elif node.op_type == "Gemm":
            m = n_out * dims[node.input[0]][-1]
            macs += m
            flops += 2 * m + (n_out if len(node.input) == 3 else 0)
        elif node.op_type == "AveragePool":
            kernel = next(a.ints for a in node.attribute if a.name == "kernel_shape")
            flops += n_out * kernel[0] * kernel[1]
        elif node.op_type == "GlobalAveragePool":
            flops += int(np.prod(dims[node.input[0]]))
        elif node.op_type in ("Add", "Mul", "Relu"):
            flops += n_out
        elif node.op_type == "BatchNormalization":
            flops += 2 * n_out
    return macs, flops


def run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


def op_type_counts(model: onnx.ModelProto) -> dict[str, int]:
    counts: dict[str, int] = {}
    for node in model.graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return counts


# --------------------------------------------------------------------------------------------
# parsing


def test_parse_arch_str_gives_edges_in_string_order() -> None:
    assert ARCH_MIXED == (
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|"
        "+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
    )
    assert parse_arch_str(ARCH_MIXED) == [
        ("avg_pool_3x3", 0, 1),
        ("nor_conv_1x1", 0, 2),
        ("skip_connect", 1, 2),
        ("nor_conv_1x1", 0, 3),
        ("skip_connect", 1, 3),
        ("skip_connect", 2, 3),
    ]


@pytest.mark.parametrize(
    ("arch", "message"),
    [
        ("", "empty"),
        ("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown operation"),
        ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "earlier node"),
        ("|none~0|+|none~0|none~0|+|none~0|none~1|none~2|", "twice"),
        ("|none0|+|none~0|none~1|+|none~0|none~1|none~2|", "malformed"),
        ("|none~0|++|none~0|none~1|none~2|", "no incoming edge"),
    ],
)
def test_parse_arch_str_rejects_malformed_strings(arch: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_arch_str(arch)


def test_op_counts_and_zero_nodes() -> None:
    assert op_counts(ARCH_MIXED) == {
        "none": 0,
        "skip_connect": 3,
        "nor_conv_1x1": 2,
        "nor_conv_3x3": 0,
        "avg_pool_3x3": 1,
    }
    assert sum(op_counts(ARCH_ALL_NONE).values()) == 6
    assert zero_nodes(parse_arch_str(ARCH_ALL_NONE)) == {1, 2, 3}
    assert zero_nodes(parse_arch_str(ARCH_ZERO_OUT)) == {3}
    assert zero_nodes(parse_arch_str(ARCH_ZERO_FEEDS)) == {1}
    assert not output_depends_on_input(ARCH_ALL_NONE)
    assert not output_depends_on_input(ARCH_ZERO_OUT)
    assert output_depends_on_input(ARCH_ZERO_FEEDS)
    # node 3 only sees node 1, which is zero: a conv of zero is a constant
    assert not output_depends_on_input(arch_from_ops(NONE, SKIP, NONE, NONE, C3, NONE))


# --------------------------------------------------------------------------------------------
# building and running


@pytest.mark.parametrize("arch", HANDFUL)
def test_built_models_run_in_onnxruntime(arch: str) -> None:
    model = build_nb201(arch)
    onnx.checker.check_model(model, full_check=True)
    x = np.random.default_rng(0).standard_normal((1, 3, 32, 32)).astype(np.float32)
    logits = run(model, x)
    assert logits.shape == (1, 10)
    assert np.all(np.isfinite(logits))


def test_num_classes_and_input_size_follow_the_arguments() -> None:
    model = build_nb201(ARCH_MIXED, num_classes=100)
    assert run(model, np.zeros((1, 3, 32, 32), np.float32)).shape == (1, 100)
    # HW-NAS-Bench-360's NinaPro input: 1 channel, 52x16
    ninapro = build_nb201(ARCH_MIXED, num_classes=18, input_hw=(52, 16), in_channels=1)
    assert run(ninapro, np.zeros((1, 1, 52, 16), np.float32)).shape == (1, 18)
    with pytest.raises(ValueError, match="multiples of 4"):
        build_nb201(ARCH_MIXED, input_hw=30)


@pytest.mark.parametrize("arch", [ARCH_MIXED, ARCH_ALL_CONV3, ARCH_ZERO_FEEDS])
def test_folded_and_unfolded_batchnorm_compute_the_same_function(arch: str) -> None:
    x = np.random.default_rng(1).standard_normal((1, 3, 32, 32)).astype(np.float32)
    folded = run(build_nb201(arch, fold_bn=True, seed=3), x)
    unfolded = run(build_nb201(arch, fold_bn=False, seed=3), x)
    np.testing.assert_allclose(folded, unfolded, rtol=1e-4, atol=1e-5 * np.abs(unfolded).max())


def test_keep_none_computes_the_same_function() -> None:
    x = np.random.default_rng(2).standard_normal((1, 3, 32, 32)).astype(np.float32)
    for arch in (ARCH_ZERO_FEEDS, ARCH_ZERO_OUT):
        dropped = run(build_nb201(arch), x)
        kept = run(build_nb201(arch, keep_none=True), x)
        np.testing.assert_allclose(dropped, kept, rtol=1e-4, atol=1e-6)


def test_zero_output_cell_gives_an_input_independent_but_runnable_network() -> None:
    model = build_nb201(ARCH_ZERO_OUT)
    rng = np.random.default_rng(4)
    a = run(model, rng.standard_normal((1, 3, 32, 32)).astype(np.float32))
    b = run(model, rng.standard_normal((1, 3, 32, 32)).astype(np.float32))
    np.testing.assert_array_equal(a, b)
    names = {n.name for n in model.graph.node}
    assert "cell1_0/node3/zero" in names
    # the zero is computed from the cell input, so the graph stays connected to "input"
    assert any("input" in n.input for n in model.graph.node)


def test_builds_are_deterministic_in_the_seed() -> None:
    one = build_nb201(ARCH_MIXED, seed=7).SerializeToString()
    assert one == build_nb201(ARCH_MIXED, seed=7).SerializeToString()
    assert one != build_nb201(ARCH_MIXED, seed=8).SerializeToString()


def test_node_names_are_unique_and_say_where_the_node_sits() -> None:
    model = build_nb201(ARCH_ALL_CONV3, fold_bn=False)
    names = [n.name for n in model.graph.node]
    assert len(names) == len(set(names))
    for expected in (
        "stem/conv",
        "stem/bn",
        "cell2_3/edge_0_2/relu",
        "cell2_3/edge_0_2/conv",
        "cell2_3/edge_0_2/bn",
        "cell3_4/node3/add_1",
        "reduce1/conv_a/conv",
        "reduce2/shortcut/pool",
        "reduce2/add",
        "head/bn",
        "head/fc",
    ):
        assert expected in names


@pytest.mark.parametrize("arch", HANDFUL)
@pytest.mark.parametrize("fold_bn", [True, False])
def test_node_counts_match_the_readme_structure(arch: str, fold_bn: bool) -> None:
    edges = parse_arch_str(arch)
    n_conv = sum(op.startswith("nor_conv") for op, _, _ in edges)
    n_pool = sum(op == "avg_pool_3x3" for op, _, _ in edges)
    counts = op_type_counts(build_nb201(arch, fold_bn=fold_bn))
    # stem 1 + reductions 2 x 3 (conv_a, conv_b, shortcut) + 15 cells
    assert counts.get("Conv", 0) == 1 + 6 + 15 * n_conv
    assert counts.get("AveragePool", 0) == 2 + 15 * n_pool
    assert counts.get("Gemm", 0) == 1
    assert counts.get("GlobalAveragePool", 0) == 1
    # BN after stem, 4 reduction convs and every cell conv, plus the head's BN
    expected_bn = 1 if fold_bn else 1 + 1 + 4 + 15 * n_conv
    assert counts.get("BatchNormalization", 0) == expected_bn


# --------------------------------------------------------------------------------------------
# MAC / FLOP counts


def test_counter_matches_hand_derived_closed_form() -> None:
    assert count_macs_flops(build_nb201(ARCH_ALL_NONE))[0] == SKELETON_MACS_10
    assert count_macs_flops(build_nb201(ARCH_ALL_CONV3))[0] == (
        SKELETON_MACS_10 + 6 * CONV3_EDGE_MACS
    )
    assert count_macs_flops(build_nb201(ARCH_MIXED))[0] == SKELETON_MACS_10 + 2 * CONV1_EDGE_MACS
    # the head only changes the classifier: 64 MACs per class
    macs100 = count_macs_flops(build_nb201(ARCH_MIXED, num_classes=100))[0]
    assert macs100 == SKELETON_MACS_10 + 2 * CONV1_EDGE_MACS + 64 * 90
    # convs fed by a zero node are built and counted, as in the reference network
    assert count_macs_flops(build_nb201(ARCH_ZERO_FEEDS))[0] == (
        SKELETON_MACS_10 + 2 * CONV3_EDGE_MACS + CONV1_EDGE_MACS
    )


def test_flops_count_two_per_mac_plus_the_rest() -> None:
    macs, flops = count_macs_flops(build_nb201(ARCH_ALL_CONV3))
    assert 2 * macs < flops < 2.1 * macs
    # folding BN moves its arithmetic into conv biases: fewer FLOPs, same MACs
    macs_u, flops_u = count_macs_flops(build_nb201(ARCH_ALL_CONV3, fold_bn=False))
    assert macs_u == macs
    assert flops_u > flops


def test_published_flops_are_macs_plus_classifier_bias(nb201_records) -> None:
    """A few hundred rebuilt graphs against ``nb201_cifar10_mflops`` (the convention check).

    The published figure is MACs (Conv + Gemm) plus the classifier's 10 bias additions, to the
    file's 6 significant digits; 2-FLOPs-per-MAC is about twice it.  Arch 0 has the published
    value missing; the sample is drawn among rows that have one.
    """
    rows = [r for r in nb201_records if math.isfinite(r.get("nb201_cifar10_mflops"))]
    rng = np.random.default_rng(2024)
    sample = [rows[k] for k in rng.choice(len(rows), 300, replace=False)]
    # make sure the awkward cases are in: the smallest network and zero-fed convs
    smallest = min(rows, key=lambda r: r.get("nb201_cifar10_mflops"))
    sample.append(smallest)
    rel_mac, ratio_flops = [], []
    zero_fed = 0
    for r in sample:
        macs, flops = count_macs_flops(build_nb201(r.arch_str, num_classes=10))
        published = r.get("nb201_cifar10_mflops") * 1e6
        rel_mac.append(abs((macs + 10) / published - 1))
        ratio_flops.append(flops / published)
        edges = parse_arch_str(r.arch_str)
        zeros = zero_nodes(edges)
        zero_fed += any(op.startswith("nor_conv") and i in zeros for op, i, _ in edges)
    assert max(rel_mac) < 1e-5, max(rel_mac)
    assert 1.9 < float(np.median(ratio_flops)) < 2.2
    assert zero_fed > 10  # the zero-fed convs are in the published figure too
    # the bias additions are visible on the smallest network: 7.78305 vs 7.78304 without
    macs_small = count_macs_flops(build_nb201(smallest.arch_str))[0]
    assert round((macs_small + 10) / 1e6, 5) == smallest.get("nb201_cifar10_mflops")
    assert round(macs_small / 1e6, 5) != smallest.get("nb201_cifar10_mflops")


def test_closed_form_macs_match_every_published_row(nb201_records) -> None:
    """All 12,554 published figures follow from the op counts (cheap: no graph is built)."""
    worst = 0.0
    for r in nb201_records:
        published = r.get("nb201_cifar10_mflops")
        if not math.isfinite(published):
            continue
        counts = op_counts(r.arch_str)
        macs = (
            SKELETON_MACS_10
            + counts["nor_conv_3x3"] * CONV3_EDGE_MACS
            + counts["nor_conv_1x1"] * CONV1_EDGE_MACS
        )
        worst = max(worst, abs((macs + 10) / (published * 1e6) - 1))
    assert worst < 1e-5


def test_cell_ops_are_the_benchmark_operations(nb201_records) -> None:
    seen = {op for r in nb201_records for op in r.ops}
    assert seen == set(CELL_OPS)
    for r in nb201_records[:200]:
        assert tuple(op for op, _, _ in parse_arch_str(r.arch_str)) == r.ops
