"""Rebuild NAS-Bench-201 networks as ONNX graphs, for calibrating the cost model.

The device measurements in ``../shared/data/hwnas/`` were taken on the 15,625 networks of the
NAS-Bench-201 space.  To fit the cost model's constants on them, the cost model must see the
graph a runtime actually ran, so this module rebuilds each network from its cell string with
``onnx.helper`` and numpy only (no PyTorch), following the reference implementation
(D-X-Y/AutoDL-Projects, ``xautodl/models/cell_infers``: ``TinyNetwork`` / ``InferCell`` /
``ResNetBasicblock``):

* stem: Conv 3x3 (``in_channels`` -> 16, pad 1, no bias) + BatchNorm;
* stage 1: 5 cells at 16 channels; residual reduction 16 -> 32 (ReLU-Conv3x3/s2-BN,
  ReLU-Conv3x3-BN; shortcut AvgPool 2x2/s2 + Conv 1x1 without bias); stage 2: 5 cells at 32;
  reduction 32 -> 64; stage 3: 5 cells at 64;
* head: BatchNorm + ReLU, GlobalAveragePool, Flatten, Gemm (64 -> ``num_classes``).

A cell has 4 nodes; node ``j`` is the sum over ``i < j`` of ``op(i -> j)(node i)``, the cell's
output is node 3.  Operations: ``none`` (the edge is dropped), ``skip_connect`` (identity, no
ONNX node), ``nor_conv_1x1`` / ``nor_conv_3x3`` (ReLU, Conv padded to keep the size and
without bias, BatchNorm), ``avg_pool_3x3`` (AveragePool 3x3, stride 1, pad 1,
``count_include_pad=0``).  Several incoming edges are summed with a chain of ``Add`` nodes.

Zero nodes
    A node whose incoming edges are all ``none`` is zero.  The reference implementation does
    not drop ``none`` edges: it multiplies the input by zero (``x.mul(0.)``, exported to ONNX as
    a ``Mul``) and still runs every operation fed by such a zero node.  We drop ``none`` edges
    as the issue asks, but a zero node that feeds a non-``none`` edge is materialised as
    ``Mul(cell_input, 0)`` (node ``cellS_K/nodeJ/zero``) and the edges it feeds are built and
    run as in the reference.  This keeps the compute identical to the reference network: the
    published FLOP counts match exactly only this way (they include the convolutions fed by
    zero nodes), and ONNX Runtime does not eliminate such convolutions either.  When the
    cell's output node itself is zero, the cell output is ``Mul(cell_input, 0)``: the graph
    still runs end to end, but everything after that cell is independent of the input and the
    logits are a constant.  (TFLite converters fold such networks to a constant, which is why
    the LiteRT/TFLite columns of the data show ~0.003 ms for them; ONNX Runtime runs them.)
    Nodes that feed nothing (e.g. nodes 1 and 2 when node 3 only takes ``skip_connect`` from
    node 0) are built too: ONNX Runtime does not prune such dangling nodes, and the Pi 5 ONNX
    Runtime measurements show the runtime computed them (an op-count fit using every edge
    gets 98 % of networks within +-10 %, one using only edges that reach the output 47 %).

    ``keep_none=True`` goes one step further and emits every ``none`` edge as
    ``Mul(source, 0)`` added into its node, exactly what ``torch.onnx.export`` of the reference
    model (the HW-NAS-Bench-360 Pi 5 ONNX models) contains.  The Pi 5 data supports this: fitted
    per edge type, a ``none`` edge costs slightly more than a ``skip_connect`` one, whereas in
    the default graph it costs nothing.  The difference is small elementwise work.

BatchNorm folding
    ``fold_bn=True`` folds every BatchNorm that follows a Conv into that Conv (which then gets a
    bias), as inference runtimes do.  The head's BatchNorm follows a sum, not a Conv, so it
    stays a ``BatchNormalization`` node in both modes.  The raw weights are drawn in the same
    order in both modes, so a folded and an unfolded model built with the same ``seed`` compute
    the same function.

FLOP convention of the published figure
    The data's ``nb201_cifar10_mflops`` column (NAS-Bench-201's ``flop``, computed by
    ``xautodl.utils.flop_benchmark.get_model_infos``) counts one multiply-accumulate of every
    ``Conv2d`` and ``Linear`` as one "FLOP", plus one per ``Linear`` bias element; BatchNorm,
    ReLU, pooling and additions are not counted.  In this project's terms it is ``macs_m``
    (Conv + Gemm MACs) plus ``num_classes`` bias additions, i.e. MACs, not ``flops_m`` (which
    counts a MAC as two).  ``tests/calibration/test_nb201.py`` checks this against the rebuilt
    graphs with an independent counter: every compared architecture matches to the file's six
    significant digits, and the figure is about half of a 2-FLOPs-per-MAC count.  Convs fed by
    zero nodes are included in the published figure (see above).

Graph names
    Node names say where a node sits, for per-node reports: ``stem/conv``,
    ``cell2_3/edge_0_2/conv`` (stage 2, cell 3 of 0..4, edge from node 0 to node 2),
    ``cell2_3/node3/add_0``, ``reduce1/conv_a/conv``, ``reduce1/shortcut/pool``, ``head/fc``.
    A node's output tensor has the node's name; an initializer is named
    ``<node name>.weight`` / ``.bias`` / ``.scale`` / ``.mean`` / ``.var``.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

__all__ = [
    "CELL_OPS",
    "NB201_CELLS_PER_STAGE",
    "NB201_STAGE_CHANNELS",
    "build_nb201",
    "cell_graph",
    "op_counts",
    "output_depends_on_input",
    "parse_arch_str",
    "zero_nodes",
]

#: The five candidate operations of a NAS-Bench-201 cell edge, in the benchmark's order.
CELL_OPS: tuple[str, ...] = (
    "none",
    "skip_connect",
    "nor_conv_1x1",
    "nor_conv_3x3",
    "avg_pool_3x3",
)

#: Channels of the three stages (stem output = first stage).
NB201_STAGE_CHANNELS: tuple[int, ...] = (16, 32, 64)

#: Cells per stage (NAS-Bench-201's N = 5).
NB201_CELLS_PER_STAGE = 5

_BN_EPS = 1e-5  # PyTorch's BatchNorm2d default, what the reference networks were exported with


def parse_arch_str(arch_str: str) -> list[tuple[str, int, int]]:
    """Parse a NAS-Bench-201 cell string into ``(op, from_node, to_node)`` edges.

    ``|a~0|+|b~0|c~1|+|d~0|e~1|f~2|`` gives ``[(a, 0, 1), (b, 0, 2), (c, 1, 2), (d, 0, 3),
    (e, 1, 3), (f, 2, 3)]``: the edges in string order, which is also the order of the data's
    ``op0``..``op5`` columns.  Group ``k`` (0-based) of the ``+``-separated string lists the
    edges into node ``k + 1``.  Raises ``ValueError`` on unknown operations, on an edge from a
    node that is not earlier than its target, and on a repeated edge, so a typo in a
    hand-written string fails loudly instead of building a different network.
    """
    if not isinstance(arch_str, str) or not arch_str.strip():
        raise ValueError(f"empty architecture string: {arch_str!r}")
    edges: list[tuple[str, int, int]] = []
    seen: set[tuple[int, int]] = set()
    for group_idx, group in enumerate(arch_str.strip().split("+")):
        to_node = group_idx + 1
        items = [item for item in group.split("|") if item]
        if not items:
            raise ValueError(f"{arch_str!r}: node {to_node} has no incoming edge listed")
        for item in items:
            op, sep, src = item.partition("~")
            if not sep or not src.isdigit():
                raise ValueError(f"{arch_str!r}: malformed edge {item!r} (expected 'op~N')")
            from_node = int(src)
            if op not in CELL_OPS:
                raise ValueError(f"{arch_str!r}: unknown operation {op!r}; known: {CELL_OPS}")
            if from_node >= to_node:
                raise ValueError(
                    f"{arch_str!r}: edge {item!r} into node {to_node} must come from an "
                    "earlier node"
                )
            if (from_node, to_node) in seen:
                raise ValueError(f"{arch_str!r}: edge {from_node}->{to_node} listed twice")
            seen.add((from_node, to_node))
            edges.append((op, from_node, to_node))
    return edges


def op_counts(arch_str: str) -> dict[str, int]:
    """Count each of :data:`CELL_OPS` over the cell's edges (the simplest latency features)."""
    counts = dict.fromkeys(CELL_OPS, 0)
    for op, _, _ in parse_arch_str(arch_str):
        counts[op] += 1
    return counts


def zero_nodes(edges: list[tuple[str, int, int]]) -> set[int]:
    """Nodes of a cell that are zero: no incoming edge other than ``none``.

    Only ``none`` makes a node zero here; an edge that is not ``none`` but comes from a zero
    node still produces a tensor (the reference network computes it), so its target is not
    zero.  Node 0 (the cell input) is never zero.
    """
    targets = {to for _, _, to in edges}
    live = {to for op, _, to in edges if op != "none"}
    return targets - live


def output_depends_on_input(arch_str: str) -> bool:
    """Whether the cell's output (hence the network's logits) depends on the network input.

    It does not when every path from node 0 to the output crosses a ``none`` edge: then the
    output is zero (all-``none`` inputs) or a per-channel constant (a conv on a zero node gives
    BatchNorm's shift), so a converter that folds constants turns the whole network into a
    constant.  341 of the 15,625 cells are such; the TFLite/LiteRT-measured columns of the data
    show near-zero latencies for many of them (not always under the README's 0.05 ms floor),
    while ONNX Runtime runs them at full cost.
    """
    edges = parse_arch_str(arch_str)
    depends = {0: True}
    last = max(to for _, _, to in edges)
    for j in range(1, last + 1):
        depends[j] = any(op != "none" and depends[i] for op, i, to in edges if to == j)
    return depends[last]


class _Builder:
    """Accumulates nodes and initializers; draws weights from one seeded generator in order."""

    def __init__(self, *, seed: int, fold_bn: bool) -> None:
        self.rng = np.random.default_rng(seed)
        self.fold_bn = fold_bn
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self._zero: str | None = None

    def _init(self, name: str, array: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array, np.float32), name))
        return name

    def node(self, op_type: str, name: str, inputs: list[str], **attrs: object) -> str:
        """Append a node whose single output tensor carries the node's name."""
        self.nodes.append(helper.make_node(op_type, inputs, [name], name=name, **attrs))
        return name

    def _bn_params(self, channels: int) -> tuple[np.ndarray, ...]:
        # Plausible trained statistics; only the drawing order matters for reproducibility.
        gamma = self.rng.uniform(0.8, 1.2, channels)
        beta = self.rng.normal(0.0, 0.05, channels)
        mean = self.rng.normal(0.0, 0.05, channels)
        var = self.rng.uniform(0.8, 1.2, channels)
        return gamma, beta, mean, var

    def batchnorm(self, prefix: str, x: str, channels: int) -> str:
        """A BatchNormalization node (used unfolded, and for the head in every mode)."""
        gamma, beta, mean, var = self._bn_params(channels)
        name = f"{prefix}/bn"
        inputs = [
            self._init(f"{name}.scale", gamma),
            self._init(f"{name}.bias", beta),
            self._init(f"{name}.mean", mean),
            self._init(f"{name}.var", var),
        ]
        return self.node("BatchNormalization", name, [x, *inputs], epsilon=_BN_EPS)

    def conv(
        self,
        prefix: str,
        x: str,
        c_in: int,
        c_out: int,
        kernel: int,
        *,
        stride: int = 1,
        bn: bool = True,
    ) -> str:
        """Conv (no bias, padded to keep the size at stride 1), optionally followed by BN.

        With ``fold_bn`` the BatchNorm is folded into the Conv, which then carries a bias.
        """
        fan_in = c_in * kernel * kernel
        shape = (c_out, c_in, kernel, kernel)
        # He initialisation; float32 draws are cheap, which matters when building thousands.
        weight = self.rng.standard_normal(shape, dtype=np.float32)
        weight *= np.float32(np.sqrt(2.0 / fan_in))
        pad = kernel // 2
        attrs = {
            "kernel_shape": [kernel, kernel],
            "strides": [stride, stride],
            "pads": [pad, pad, pad, pad],
        }
        name = f"{prefix}/conv"
        if not bn:
            return self.node("Conv", name, [x, self._init(f"{name}.weight", weight)], **attrs)
        if not self.fold_bn:
            y = self.node("Conv", name, [x, self._init(f"{name}.weight", weight)], **attrs)
            return self.batchnorm(prefix, y, c_out)
        gamma, beta, mean, var = self._bn_params(c_out)
        scale = gamma / np.sqrt(var + _BN_EPS)
        inputs = [
            x,
            self._init(f"{name}.weight", weight * scale[:, None, None, None]),
            self._init(f"{name}.bias", beta - mean * scale),
        ]
        return self.node("Conv", name, inputs, **attrs)

    def relu_conv_bn(
        self, prefix: str, x: str, c_in: int, c_out: int, kernel: int, stride: int = 1
    ) -> str:
        """NAS-Bench-201's ``ReLUConvBN`` block."""
        y = self.node("Relu", f"{prefix}/relu", [x])
        return self.conv(prefix, y, c_in, c_out, kernel, stride=stride)

    def zero_like(self, name: str, x: str) -> str:
        """``x * 0``: a zero tensor of ``x``'s shape that keeps the graph connected."""
        if self._zero is None:
            self._zero = self._init("zero", np.zeros((), np.float32))
        return self.node("Mul", name, [x, self._zero])

    def add_all(self, prefix: str, terms: list[str]) -> str:
        """Sum ``terms`` with a chain of Add nodes ``prefix/add_0``, ``prefix/add_1``, ..."""
        acc = terms[0]
        for k, term in enumerate(terms[1:]):
            acc = self.node("Add", f"{prefix}/add_{k}", [acc, term])
        return acc


def _cell(
    b: _Builder,
    prefix: str,
    x: str,
    channels: int,
    edges: list[tuple[str, int, int]],
    keep_none: bool,
) -> str:
    """Emit one cell on input ``x``; return the name of its output tensor."""
    num_nodes = 1 + max(to for _, _, to in edges)
    zeros = set() if keep_none else zero_nodes(edges)
    values: dict[int, str] = {0: x}
    for j in range(1, num_nodes):
        if j in zeros:
            feeds_live_edge = any(op != "none" and i == j for op, i, _ in edges)
            if feeds_live_edge or j == num_nodes - 1:
                values[j] = b.zero_like(f"{prefix}/node{j}/zero", x)
            continue
        terms: list[str] = []
        for op, i, to in edges:
            if to != j or (op == "none" and not keep_none):
                continue
            edge = f"{prefix}/edge_{i}_{j}"
            src = values[i]
            if op == "none":
                terms.append(b.zero_like(f"{edge}/zero", src))
            elif op == "skip_connect":
                terms.append(src)
            elif op == "nor_conv_1x1":
                terms.append(b.relu_conv_bn(edge, src, channels, channels, 1))
            elif op == "nor_conv_3x3":
                terms.append(b.relu_conv_bn(edge, src, channels, channels, 3))
            elif op == "avg_pool_3x3":
                terms.append(
                    b.node(
                        "AveragePool",
                        f"{edge}/pool",
                        [src],
                        kernel_shape=[3, 3],
                        strides=[1, 1],
                        pads=[1, 1, 1, 1],
                        count_include_pad=0,
                    )
                )
            else:  # pragma: no cover - parse_arch_str rejects unknown operations
                raise ValueError(f"unknown operation {op!r}")
        values[j] = b.add_all(f"{prefix}/node{j}", terms)
    return values[num_nodes - 1]


class _StructureBuilder(_Builder):
    """A :class:`_Builder` that records nodes only: no weights drawn, no tensors made.

    Used by :func:`cell_graph` so that the structure comes from the very code that builds the
    real networks (:func:`_cell`) and can never drift from it.
    """

    def _init(self, name: str, array: np.ndarray) -> str:
        return name

    def conv(
        self,
        prefix: str,
        x: str,
        c_in: int,
        c_out: int,
        kernel: int,
        *,
        stride: int = 1,
        bn: bool = True,
    ) -> str:
        name = f"{prefix}/conv"
        attrs = {"kernel_shape": [kernel, kernel], "strides": [stride, stride]}
        inputs = [x, f"{name}.weight"] + ([f"{name}.bias"] if bn and self.fold_bn else [])
        y = self.node("Conv", name, inputs, **attrs)
        if bn and not self.fold_bn:
            return self.node("BatchNormalization", f"{prefix}/bn", [y])
        return y


def cell_graph(
    arch_str: str, *, keep_none: bool = False, fold_bn: bool = True
) -> tuple[list[onnx.NodeProto], str]:
    """The nodes one cell of ``arch_str`` emits (no weights) and the name of its output.

    Every cell of a network is the same graph on a tensor of its stage's shape, so this small
    structure determines the network's per-node costs; the calibration uses it to build and
    analyse one network per distinct structure instead of 15,625 (see
    :mod:`pytest_edgegate.calibration.networks`).  The cell input is the tensor ``"x"``.
    """
    b = _StructureBuilder(seed=0, fold_bn=fold_bn)
    out = _cell(b, "cell", "x", NB201_STAGE_CHANNELS[0], parse_arch_str(arch_str), keep_none)
    return b.nodes, out


def _reduction(b: _Builder, prefix: str, x: str, c_in: int, c_out: int) -> str:
    """NAS-Bench-201's residual reduction block (``ResNetBasicblock`` with stride 2)."""
    y = b.relu_conv_bn(f"{prefix}/conv_a", x, c_in, c_out, 3, stride=2)
    y = b.relu_conv_bn(f"{prefix}/conv_b", y, c_out, c_out, 3)
    s = b.node(
        "AveragePool",
        f"{prefix}/shortcut/pool",
        [x],
        kernel_shape=[2, 2],
        strides=[2, 2],
    )
    s = b.conv(f"{prefix}/shortcut", s, c_in, c_out, 1, bn=False)
    return b.node("Add", f"{prefix}/add", [s, y])


def build_nb201(
    arch_str: str,
    *,
    num_classes: int = 10,
    input_hw: int | tuple[int, int] = 32,
    in_channels: int = 3,
    fold_bn: bool = True,
    seed: int = 0,
    opset: int = 17,
    keep_none: bool = False,
) -> onnx.ModelProto:
    """Build the NAS-Bench-201 network of ``arch_str`` as a checked ONNX model (batch 1).

    The model has one input ``input`` of shape ``1 x in_channels x H x W`` and one output
    ``logits`` of shape ``1 x num_classes``.  ``input_hw`` is the square side, or ``(H, W)``
    for non-square inputs (HW-NAS-Bench-360's NinaPro task is 1x52x16); both must be
    divisible by 4 for the two stride-2 reductions.  CIFAR-10 networks use ``num_classes=10``,
    CIFAR-100 ones (the Pi 5 columns) ``100``.  Weights are random but deterministic in
    ``seed``: they do not affect latency, and the same arguments give byte-identical models.
    ``keep_none=True`` emits each ``none`` edge as ``Mul(source, 0)`` summed like any edge,
    which is the graph the reference PyTorch model exports to (see "Zero nodes" in the module
    docstring); the default drops them.  See the module docstring for BatchNorm folding.
    """
    edges = parse_arch_str(arch_str)
    if isinstance(input_hw, int):
        height, width = input_hw, input_hw
    else:
        height, width = (int(v) for v in input_hw)
    if height <= 0 or width <= 0 or height % 4 or width % 4:
        raise ValueError(f"input_hw {input_hw!r}: height and width must be positive multiples of 4")
    if num_classes <= 0 or in_channels <= 0:
        raise ValueError("num_classes and in_channels must be positive")

    b = _Builder(seed=seed, fold_bn=fold_bn)
    c0 = NB201_STAGE_CHANNELS[0]
    x = b.conv("stem", "input", in_channels, c0, 3)
    c_prev = c0
    for stage, channels in enumerate(NB201_STAGE_CHANNELS, start=1):
        if channels != c_prev:
            x = _reduction(b, f"reduce{stage - 1}", x, c_prev, channels)
        for k in range(NB201_CELLS_PER_STAGE):
            x = _cell(b, f"cell{stage}_{k}", x, channels, edges, keep_none)
        c_prev = channels
    x = b.batchnorm("head", x, c_prev)
    x = b.node("Relu", "head/relu", [x])
    x = b.node("GlobalAveragePool", "head/gap", [x])
    x = b.node("Flatten", "head/flatten", [x], axis=1)
    fc_w = b.rng.normal(0.0, np.sqrt(1.0 / c_prev), (num_classes, c_prev))
    fc_b = b.rng.normal(0.0, 0.01, num_classes)
    b.nodes.append(
        helper.make_node(
            "Gemm",
            [x, b._init("head/fc.weight", fc_w), b._init("head/fc.bias", fc_b)],
            ["logits"],
            name="head/fc",
            transB=1,
        )
    )

    input_shape = [1, in_channels, height, width]
    graph = helper.make_graph(
        b.nodes,
        "nb201",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, num_classes])],
        initializer=b.inits,
        doc_string=f"NAS-Bench-201 network {arch_str}",
    )
    model = helper.make_model_gen_version(
        graph,
        producer_name="pytest-edgegate.calibration.nb201",
        opset_imports=[helper.make_opsetid("", opset)],
    )
    helper.set_model_props(
        model,
        {
            "nb201_arch_str": arch_str,
            "num_classes": str(num_classes),
            "fold_bn": str(fold_bn),
            "seed": str(seed),
            "keep_none": str(keep_none),
        },
    )
    onnx.checker.check_model(model)
    return model
