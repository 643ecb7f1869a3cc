"""The NAS-Bench-201 networks as each measured device saw them, analysed once per structure.

The measurements in the HW-NAS-Bench data sets come from different toolchains, and each one
hands its device a different graph for the same cell string.  A :class:`Variant` names the
graph a column was measured on (why each column gets which variant is in
:mod:`bench.fitting.columns`):

* ``keep_none``: every ``none`` edge exported as ``Mul(x, 0)`` (``torch.onnx.export`` of the
  reference model, what ONNX Runtime ran on the Pi 5);
* ``prune``: nodes that do not reach the output removed (:func:`prune_dead`), as a TFLite
  converter does before handing the graph to the device;
* ``num_classes``: 10 for the HW-NAS-Bench CIFAR-10 columns, 100 for the b360 CIFAR-100 ones.

Two helpers turn a rebuilt float graph into what a device compiler saw:

* :func:`prune_dead` removes the nodes whose outputs never reach a graph output;
* :func:`quantized_view` re-labels an analysis as a fully-quantized model (every tensor and
  every arithmetic operation in ``int8`` or ``int16``), because the Edge TPU measurements are
  of fully-int8 TFLite models and Eyeriss computes in 16-bit fixed point, whereas our
  rebuilt graphs are float.  Quantizing 15,625 ONNX graphs to QDQ with onnxruntime's
  ``quantize_static`` would take hours for the same answer: the cost model only reads each
  node's compute data type and its byte counts, so the view sets ``compute_dtype`` to the
  integer type and scales every byte count by its element size over float32's 4 bytes
  (weights, activations, and the graph input the host hands over).  Biases, which a real
  int8 model keeps in int32, are scaled like the weights: a few hundred bytes per network.

Speed: building one network takes ~13 ms and analysing it ~8 ms, too slow to do 15,625
times per variant in a benchmark that must finish in minutes.  But every cell of a network
is the same small graph applied to a tensor of its stage's shape, and every tensor inside a
cell has that shape, so a network's per-node costs depend only on the multiset of its cell's
nodes.  :func:`structure_key` computes that multiset from :func:`~.nb201.cell_graph` (the
builder's own code run without weights, ~0.15 ms) and :class:`NetworkSet` builds and analyses
one network per distinct key (250 to 390 per variant), the first of its class met, and reuses
the analysis for the others.  ``tests/fitting/test_networks.py`` checks on sampled pairs
that networks sharing a key get identical estimates on every catalogue profile.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

import onnx

from bench.fitting.nb201_cells import cell_graph
from pytest_edgegate.analysis import ModelAnalysis, NodeStats, TensorInfo, analyze
from pytest_edgegate.runner.nb201 import build_nb201

__all__ = [
    "INT_BYTES",
    "NetworkSet",
    "Variant",
    "analyse_arch",
    "prune_dead",
    "quantized_view",
    "structure_key",
]

#: Bytes per element of the integer types :func:`quantized_view` knows.
INT_BYTES = {"int8": 1, "uint8": 1, "int16": 2}
_FLOAT_BYTES = 4


@dataclass(frozen=True)
class Variant:
    """How a column's device saw the network of a cell string (see the module docstring)."""

    name: str
    num_classes: int = 10
    keep_none: bool = False
    prune: bool = False


def prune_dead(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of ``model`` without the nodes whose outputs reach no graph output.

    This is what a converter that prunes dead code (the TFLite converter, Grappler) hands to
    the device.  NAS-Bench-201 cells compute branches that feed nothing when the cell's last
    node takes nothing from them; the reference PyTorch model (and ONNX Runtime running its
    export) computes them anyway.  Initializers that no remaining node reads are dropped too.
    Works on the main graph only (NB201 has no subgraphs).
    """
    graph = model.graph
    needed = {o.name for o in graph.output}
    keep: list[onnx.NodeProto] = []
    for node in reversed(graph.node):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed.update(i for i in node.input if i)
    keep.reverse()
    pruned = onnx.ModelProto()
    pruned.CopyFrom(model)
    del pruned.graph.node[:]
    pruned.graph.node.extend(keep)
    used = {i for n in keep for i in n.input}
    inits = [t for t in graph.initializer if t.name in used]
    del pruned.graph.initializer[:]
    pruned.graph.initializer.extend(inits)
    live = used | {o.name for o in graph.output}
    values = [v for v in graph.value_info if v.name in live]
    del pruned.graph.value_info[:]
    pruned.graph.value_info.extend(values)
    return pruned


def _scaled(value: int, factor: float) -> int:
    return int(round(value * factor))


def quantized_view(analysis: ModelAnalysis, dtype: str = "int8") -> ModelAnalysis:
    """``analysis`` as the fully-quantized model a device compiler would see (module docstring).

    Every float32 node computes in ``dtype`` and moves ``INT_BYTES[dtype] / 4`` of its bytes;
    the graph inputs and outputs become ``dtype`` tensors.  MAC and FLOP counts are unchanged.
    """
    if dtype not in INT_BYTES:
        raise ValueError(f"unknown integer type {dtype!r}; known: {', '.join(INT_BYTES)}")
    factor = INT_BYTES[dtype] / _FLOAT_BYTES

    def node(n: NodeStats) -> NodeStats:
        if n.compute_dtype != "float32":
            return n
        return replace(
            n,
            compute_dtype=dtype,
            bytes_read=_scaled(n.bytes_read, factor),
            bytes_written=_scaled(n.bytes_written, factor),
            weight_bytes=_scaled(n.weight_bytes, factor),
        )

    def tensor(t: TensorInfo) -> TensorInfo:
        return replace(t, dtype=dtype) if t.dtype == "float32" else t

    nodes = tuple(node(n) for n in analysis.nodes)
    return replace(
        analysis,
        nodes=nodes,
        inputs=tuple(tensor(t) for t in analysis.inputs),
        outputs=tuple(tensor(t) for t in analysis.outputs),
        param_bytes=_scaled(analysis.param_bytes, factor),
        peak_activation_bytes=_scaled(analysis.peak_activation_bytes, factor),
        is_quantized=True,
        macs_by_dtype={dtype: analysis.macs} if analysis.macs else {},
    )


def structure_key(arch_str: str, variant: Variant) -> str:
    """A key equal for cell strings whose networks cost the same in ``variant``.

    The key is the multiset of the cell's nodes (after pruning, for a pruning variant), each
    described by its operator, kernel and number of distinct inputs (``Add(x, x)``, the sum of
    two skip edges from one node, reads one tensor).  Every tensor in a cell has its
    stage's shape, so these determine each node's MACs, FLOPs and bytes, hence every CPU
    term and every NPU node cost.  What they do not determine is the graph's *topology*, which
    only matters for an NPU profile that places some cell nodes on the NPU and others on the
    CPU (the number of NPU/CPU boundaries depends on who feeds whom): callers must check that
    every placement they estimate is homogeneous (:meth:`NetworkSet.check_homogeneous`).
    Nor does the key see what NPU pricing now reads from the topology and the node order (a
    Relu fused into the convolution it alone reads, with ``npu_fused_epilogue``; weights cached
    layer by layer in graph order until the on-chip memory is full): for NPU profiles a
    structure's networks can differ by a few per cent and the representative stands for them
    all, an approximation of the edgetpu/eyeriss fits and fidelity figures (a key naming the
    fused Relus gives 500-900 structures per 3,000 cells instead of 250-390).
    Ignoring the topology is what makes the saving large: 250 to 390 structures per variant
    instead of 5,000 to 6,500 with producers in the key.
    """
    nodes, out = cell_graph(arch_str, keep_none=variant.keep_none)
    if variant.prune:
        needed = {out}
        kept = []
        for n in reversed(nodes):
            if any(o in needed for o in n.output):
                kept.append(n)
                needed.update(n.input)
        nodes = kept
    labels = []
    for n in nodes:
        kernel = next((list(a.ints) for a in n.attribute if a.name == "kernel_shape"), [])
        labels.append(f"{n.op_type}{kernel}/{len(set(n.input))}")
    text = f"{variant}|{'|'.join(sorted(labels))}"
    return hashlib.sha1(text.encode()).hexdigest()


def analyse_arch(arch_str: str, variant: Variant) -> ModelAnalysis:
    """Build the network of ``arch_str`` as ``variant`` says and analyse it (float32)."""
    model = build_nb201(arch_str, num_classes=variant.num_classes, keep_none=variant.keep_none)
    if variant.prune:
        model = prune_dead(model)
    return analyze(model)


def _analyse_job(job: tuple[str, Variant]) -> ModelAnalysis:
    return analyse_arch(*job)


class NetworkSet:
    """The analyses of many cell strings in one variant, one analysis per distinct structure.

    ``analyses[k]`` is the analysis of the ``k``-th distinct structure and ``index[i]`` the
    structure of ``arch_strs[i]``; ``representative[k]`` is the position (in ``arch_strs``) of
    the network that was actually built for structure ``k``, the first one met.  ``jobs > 1``
    analyses in that many worker processes; the result does not depend on it.
    """

    def __init__(self, arch_strs: Sequence[str], variant: Variant, *, jobs: int = 1) -> None:
        self.variant = variant
        keys: dict[str, int] = {}
        self.index: list[int] = []
        self.representative: list[int] = []
        for pos, arch in enumerate(arch_strs):
            key = structure_key(arch, variant)
            if key not in keys:
                keys[key] = len(keys)
                self.representative.append(pos)
            self.index.append(keys[key])
        todo = [(arch_strs[pos], variant) for pos in self.representative]
        if jobs > 1 and len(todo) > 1:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                self.analyses = list(pool.map(_analyse_job, todo, chunksize=8))
        else:
            self.analyses = [_analyse_job(job) for job in todo]

        self._views: dict[str | None, list[ModelAnalysis]] = {None: self.analyses}

    def __len__(self) -> int:
        return len(self.index)

    def viewed(self, view: str | None) -> list[ModelAnalysis]:
        """The distinct analyses in ``view`` (``None``, ``"int8"``, ``"int16"``), cached."""
        if view not in self._views:
            self._views[view] = [quantized_view(a, view) for a in self.analyses]
        return self._views[view]

    def analysis(self, position: int) -> ModelAnalysis:
        """The analysis that stands for ``arch_strs[position]``."""
        return self.analyses[self.index[position]]

    @staticmethod
    def check_homogeneous(devices: Sequence[str], what: str) -> None:
        """Raise unless ``devices`` (one placement per node) are all ``npu`` or all ``cpu``.

        :func:`structure_key` ignores who feeds whom, which is exact only when no NPU/CPU
        boundary falls inside a cell; a mixed placement would need the topology in the key.
        """
        if len(set(devices)) > 1:
            raise ValueError(
                f"{what}: mixed NPU/CPU placement; the structure-key deduplication of "
                "NetworkSet is not exact for it (the key would need the graph topology)"
            )
