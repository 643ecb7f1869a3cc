"""NAS-Bench-201 networks rebuilt from their cell strings as ONNX graphs (onnx.helper, numpy).

The host translation times three of them as reference networks (:mod:`.references`): the
profiles were fitted on this family.  The fitting pipeline (``bench/fitting/``) builds the
rest of the 15,625.  How each choice matches the measured networks: ``docs/nb201.md``.
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


def zero_nodes(edges: list[tuple[str, int, int]]) -> set[int]:
    """Nodes of a cell that are zero: no incoming edge other than ``none``.

    Only ``none`` makes a node zero here; an edge that is not ``none`` but comes from a zero
    node still produces a tensor (the reference network computes it), so its target is not
    zero.  Node 0 (the cell input) is never zero.
    """
    targets = {to for _, _, to in edges}
    live = {to for op, _, to in edges if op != "none"}
    return targets - live


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
        pad = kernel // 2
        attrs = {
            "kernel_shape": [kernel, kernel],
            "strides": [stride, stride],
            "pads": [pad, pad, pad, pad],
        }
        name = f"{prefix}/conv"
        folded = bn and self.fold_bn
        params = self._conv_params(name, c_in, c_out, kernel, folded)
        y = self.node("Conv", name, [x, *params], **attrs)
        return self.batchnorm(prefix, y, c_out) if bn and not folded else y

    def _conv_params(
        self, name: str, c_in: int, c_out: int, kernel: int, folded: bool
    ) -> list[str]:
        """The Conv's weight initializer, and its bias when BatchNorm is ``folded`` into it."""
        fan_in = c_in * kernel * kernel
        shape = (c_out, c_in, kernel, kernel)
        # He initialisation; float32 draws are cheap, which matters when building thousands.
        weight = self.rng.standard_normal(shape, dtype=np.float32)
        weight *= np.float32(np.sqrt(2.0 / fan_in))
        if not folded:
            return [self._init(f"{name}.weight", weight)]
        gamma, beta, mean, var = self._bn_params(c_out)
        scale = gamma / np.sqrt(var + _BN_EPS)
        return [
            self._init(f"{name}.weight", weight * scale[:, None, None, None]),
            self._init(f"{name}.bias", beta - mean * scale),
        ]

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
