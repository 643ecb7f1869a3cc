"""A microcontroller tensor arena planned the way TFLite Micro plans it.

``plan_arena(analysis, rules)`` turns the main graph of a :class:`ModelAnalysis` into the
buffers a deployment allocates and places them with TFLite Micro's ``GreedyMemoryPlanner``
(tensorflow/tflite-micro, tensorflow/lite/micro/memory_planner/greedy_memory_planner.cc):

* buffers are the activations at their stored precision (:mod:`.precision`); a node that
  runs in place shares its input's buffer: Q/DQ that a converter fuses, an element-wise
  activation that is its input's only reader (fused into the producing kernel), and, when
  the rules allow, Reshape/Flatten/Squeeze/Unsqueeze and an ``Add`` whose input dies there;
* lifetimes follow ``micro_allocation_info.cc``: graph inputs from time 0, node ``i``'s
  outputs from time ``i + 1`` to their last reader, graph outputs to the end; a kernel
  scratch buffer lives during its node only;
* sizes are rounded up to 16 bytes (``MicroArenaBufferAlignment``), buffers sorted by size
  (largest first, stable), each placed at the lowest offset that does not overlap, in time
  and space, a buffer placed before it;
* scratch buffers are those the kernels request (:mod:`.scratch`);
* the persistent part (TfLiteEvalTensor, node structs, kernel op data and per-channel
  requantization arrays) is estimated by :mod:`.persistent`.

See docs/memory.md for the rules and the check against TFLite Micro's own arena.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .graph import op_names
from .persistent import persistent_bytes
from .records import ModelAnalysis, NodeStats
from .scratch import scratch_bytes

ALIGNMENT = 16
_ACTIVATIONS = frozenset(
    op_names("Relu Clip LeakyRelu Sigmoid Tanh HardSigmoid HardSwish Identity PRelu Elu Selu")
)
_VIEWS = frozenset(op_names("Reshape Flatten Squeeze Unsqueeze"))
#: Nodes that vanish into their producer's kernel when they share its buffer.
_FUSED = _ACTIVATIONS | {"QuantizeLinear", "DequantizeLinear"}


@dataclass(frozen=True)
class ArenaRules:
    """What the runtime does: kernel library, in-place views and adds, pointer width."""

    name: str
    scratch: str = "reference"  # "reference", "cmsis-nn-dsp" (see .scratch)
    inplace_views: bool = False
    inplace_add: bool = False
    pointer_bytes: int = 4
    alignment: int = ALIGNMENT


#: TFLite Micro on an Arm Cortex-M with the DSP extension (M4/M7/M33), CMSIS-NN kernels.
TFLM_CMSIS_NN = ArenaRules("tflite-micro + CMSIS-NN (DSP)", scratch="cmsis-nn-dsp")
#: TFLite Micro with its reference kernels (what the host build of the tflite-micro wheel runs).
TFLM_REFERENCE = ArenaRules("tflite-micro reference kernels")
#: The host build of the wheel: reference kernels and 64-bit pointers.
TFLM_HOST = ArenaRules("tflite-micro reference kernels, 64-bit host", pointer_bytes=8)


@dataclass(frozen=True)
class Buffer:
    """One planned buffer: the tensors sharing it, its size, lifetime and offset."""

    tensors: tuple[str, ...]
    size: int
    first: int
    last: int
    offset: int = 0
    scratch_of: str | None = None  # node name for a kernel scratch buffer

    def to_dict(self) -> dict[str, Any]:
        return {
            "tensors": list(self.tensors),
            "bytes": self.size,
            "offset": self.offset,
            "first": self.first,
            "last": self.last,
            "scratch_of": self.scratch_of,
        }


@dataclass(frozen=True)
class ArenaPlan:
    """The planned arena: ``arena_bytes`` = ``planned_bytes`` + ``persistent_bytes``."""

    rules: str
    planned_bytes: int
    persistent_bytes: int
    scratch_bytes: int  # scratch buffers live at the peak
    peak_time: int
    peak_tensors: tuple[str, ...]  # one name per buffer live at the peak (its first tensor)
    buffers: tuple[Buffer, ...] = field(repr=False)

    @property
    def arena_bytes(self) -> int:
        return self.planned_bytes + self.persistent_bytes

    def to_dict(self) -> dict[str, Any]:
        return {
            "rules": self.rules,
            "arena_bytes": self.arena_bytes,
            "planned_bytes": self.planned_bytes,
            "persistent_bytes": self.persistent_bytes,
            "scratch_bytes": self.scratch_bytes,
            "peak_time": self.peak_time,
            "peak_tensors": list(self.peak_tensors),
            "buffers": [b.to_dict() for b in self.buffers],
        }


def plan_arena(analysis: ModelAnalysis, rules: ArenaRules = TFLM_CMSIS_NN) -> ArenaPlan:
    """Plan the arena of ``analysis``'s main graph under ``rules`` (see module doc)."""
    sizes = analysis.activation_bytes
    nodes = [n for n in analysis.nodes if n.scope == "" and not n.folded]
    graph_inputs = [t.name for t in analysis.inputs if t.name in sizes]
    graph_outputs = {t.name for t in analysis.outputs}
    readers: dict[str, int] = {}
    last_read: dict[str, int] = {}
    for i, node in enumerate(nodes):
        for name in dict.fromkeys(n for n in node.inputs if n in sizes):
            readers[name] = readers.get(name, 0) + 1
            last_read[name] = i + 1

    owner: dict[str, str] = {name: name for name in graph_inputs}  # tensor -> buffer key
    members: dict[str, list[str]] = {name: [name] for name in graph_inputs}
    first: dict[str, int] = {name: 0 for name in graph_inputs}
    shapes = _shapes(analysis)
    scratch: list[Buffer] = []
    kernels: list[NodeStats] = []
    for i, node in enumerate(nodes):
        time = i + 1
        fused = False
        for out in node.outputs:
            if out not in sizes or out in owner:
                continue
            src = _alias_source(node, out, sizes, readers, last_read, graph_outputs, rules, time)
            if src is not None and src in owner:
                key = owner[src]
                owner[out] = key
                members[key].append(out)
                fused = fused or node.op_type in _FUSED
            else:
                owner[out] = out
                members[out] = [out]
                first[out] = time
        if not fused:
            kernels.append(node)
        need = scratch_bytes(node, shapes, rules.scratch, sizes)
        if need > 0:
            scratch.append(Buffer((), _align(need, rules), time, time, scratch_of=node.name))

    end = len(nodes) + 1
    buffers: list[Buffer] = []
    for key, names in members.items():
        last = max((end if n in graph_outputs else last_read.get(n, first[key])) for n in names)
        size = max(sizes[n] for n in names)
        if size > 0:
            buffers.append(Buffer(tuple(names), _align(size, rules), first[key], last))
    buffers.extend(scratch)
    placed = place(buffers)
    planned = max((b.offset + b.size for b in placed), default=0)
    peak_time, live = _peak(placed, end)
    return ArenaPlan(
        rules=rules.name,
        planned_bytes=planned,
        persistent_bytes=persistent_bytes(
            kernels, _tensor_count(kernels, owner), rules.pointer_bytes
        ),
        scratch_bytes=sum(b.size for b in live if b.scratch_of is not None),
        peak_time=peak_time,
        peak_tensors=tuple(
            b.tensors[0] if b.tensors else f"scratch of {b.scratch_of}" for b in live
        ),
        buffers=tuple(placed),
    )


def _alias_source(
    node: NodeStats,
    out: str,
    sizes: dict[str, int],
    readers: dict[str, int],
    last_read: dict[str, int],
    graph_outputs: set[str],
    rules: ArenaRules,
    time: int,
) -> str | None:
    """The input whose buffer ``out`` reuses, or None when the node needs a new buffer."""
    ins = [n for n in node.inputs if n in sizes]
    if not ins or node.domain != "":
        return None
    x = ins[0]
    op = node.op_type
    same = sizes[x] == sizes[out]
    sole = readers.get(x) == 1 and x not in graph_outputs
    if op in ("QuantizeLinear", "DequantizeLinear") and same and sole:
        return x  # fused by the converter: the integer tensor is the same buffer
    if op in _ACTIVATIONS and same and sole:
        return x  # fused into the producing kernel
    if op in _VIEWS and rules.inplace_views and same and sole:
        return x
    if op == "Add" and rules.inplace_add:
        for cand in ins:
            if (
                sizes[cand] == sizes[out]
                and last_read.get(cand) == time
                and cand not in graph_outputs
            ):
                return cand
    return None


def _tensor_count(kernels: list[NodeStats], owner: dict[str, str]) -> int:
    """Tensors the remaining kernels see: one per buffer, one per constant input."""
    names = {owner.get(n, n) for k in kernels for n in (*k.inputs, *k.outputs) if n}
    return len(names)


def _align(size: int, rules: ArenaRules) -> int:
    a = rules.alignment
    return (size + a - 1) // a * a


def place(buffers: list[Buffer]) -> list[Buffer]:
    """GreedyMemoryPlanner::CalculateOffsetsIfNeeded, without offline-planned buffers."""
    # It fills its sort array from the tail (so equal sizes keep reverse request order), then
    # sorts by size with a stable bubble sort.
    order = sorted(reversed(range(len(buffers))), key=lambda i: -buffers[i].size)
    placed: list[Buffer] = []  # kept sorted by offset
    result: dict[int, Buffer] = {}
    for i in order:
        b = buffers[i]
        offset = 0
        for p in placed:
            if p.first > b.last or b.first > p.last:
                continue
            if p.offset - offset >= b.size:
                break
            offset = max(offset, p.offset + p.size)
        nb = Buffer(b.tensors, b.size, b.first, b.last, offset, b.scratch_of)
        result[i] = nb
        pos = 0
        while pos < len(placed) and placed[pos].offset <= offset:
            pos += 1
        placed.insert(pos, nb)
    return [result[i] for i in range(len(buffers))]


def _peak(buffers: list[Buffer], end: int) -> tuple[int, list[Buffer]]:
    """The time at which the live buffers sum highest, and those buffers."""
    best, best_t, best_live = -1, 0, []
    for t in range(end + 1):
        live = [b for b in buffers if b.first <= t <= b.last]
        total = sum(b.size for b in live)
        if total > best:
            best, best_t, best_live = total, t, live
    return best_t, best_live


def _shapes(analysis: ModelAnalysis) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    for t in analysis.inputs:
        if t.shape is not None:
            shapes[t.name] = t.shape
    for n in analysis.nodes:
        for name, s in zip(n.outputs, n.output_shapes, strict=False):
            if name and s is not None:
                shapes[name] = s
    return shapes
