"""NAS-Bench-201 cell structure for the fitting pipeline: op counts, dead cells, cell graphs.

The networks themselves are built by :mod:`pytest_edgegate.runner.nb201` (the package
needs them as the host translation's reference networks); what only the fitting needs is here.
"""

from __future__ import annotations

import numpy as np
import onnx

from pytest_edgegate.runner.nb201 import (
    CELL_OPS,
    NB201_STAGE_CHANNELS,
    _Builder,
    _cell,
    parse_arch_str,
)


def op_counts(arch_str: str) -> dict[str, int]:
    """Count each of :data:`CELL_OPS` over the cell's edges (the simplest latency features)."""
    counts = dict.fromkeys(CELL_OPS, 0)
    for op, _, _ in parse_arch_str(arch_str):
        counts[op] += 1
    return counts


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


class _StructureBuilder(_Builder):
    """A :class:`_Builder` that records nodes only: no weights drawn, no tensors made.

    Used by :func:`cell_graph` so that the structure comes from the very code that builds the
    real networks (:func:`_cell`) and can never drift from it.
    """

    def _init(self, name: str, array: np.ndarray) -> str:
        return name

    def _conv_params(
        self, name: str, c_in: int, c_out: int, kernel: int, folded: bool
    ) -> list[str]:
        return [f"{name}.weight", f"{name}.bias"] if folded else [f"{name}.weight"]

    def batchnorm(self, prefix: str, x: str, channels: int) -> str:
        return self.node("BatchNormalization", f"{prefix}/bn", [x])


def cell_graph(
    arch_str: str, *, keep_none: bool = False, fold_bn: bool = True
) -> tuple[list[onnx.NodeProto], str]:
    """The nodes one cell of ``arch_str`` emits (no weights) and the name of its output.

    Every cell of a network is the same graph on a tensor of its stage's shape, so this small
    structure determines the network's per-node costs; the calibration uses it to build and
    analyse one network per distinct structure instead of 15,625 (see
    :mod:`bench.fitting.networks`).  The cell input is the tensor ``"x"``.
    """
    b = _StructureBuilder(seed=0, fold_bn=fold_bn)
    out = _cell(b, "cell", "x", NB201_STAGE_CHANNELS[0], parse_arch_str(arch_str), keep_none)
    return b.nodes, out
