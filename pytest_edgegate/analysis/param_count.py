"""Parameter count: the elements of the model's stored weights.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/analysis/param_count.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Container, Iterator, Sequence
from dataclasses import dataclass, field

from onnx import GraphProto

from .consts import ConstStore, Initializer, constant_node_type, tensor_elements
from .dtypes import dtype_name, nbytes
from .graph import GraphView, op_names

_REDUCE_OPS = op_names(
    "ReduceSum ReduceMean ReduceMax ReduceMin ReduceProd ReduceL1 ReduceL2 ReduceLogSum "
    "ReduceLogSumExp ReduceSumSquare"
)

_CONSTANT_OPS = frozenset(("Constant", "ConstantOfShape"))
#: (op_type -> input positions) read as shapes, axes, indices or counts, not as data.
SHAPE_OPERANDS: dict[str, frozenset[int]] = {
    "Reshape": frozenset({1}),
    "Expand": frozenset({1}),
    "Tile": frozenset({1}),
    "ConstantOfShape": frozenset({0}),
    "Slice": frozenset({1, 2, 3, 4}),
    "Pad": frozenset({1, 3}),
    "Unsqueeze": frozenset({1}),
    "Squeeze": frozenset({1}),
    "Resize": frozenset({1, 2, 3}),
    "Upsample": frozenset({1}),
    "TopK": frozenset({1}),
    "Split": frozenset({1}),
    "OneHot": frozenset({1}),
    "Range": frozenset({0, 1, 2}),
    "CenterCropPad": frozenset({1, 2}),
    "Gather": frozenset({1}),
    "GatherElements": frozenset({1}),
    "GatherND": frozenset({1}),
    "ScatterND": frozenset({1}),
    "ScatterElements": frozenset({1}),
    "Trilu": frozenset({1}),
    "CumSum": frozenset({1}),
    "Loop": frozenset({0, 1}),
    "If": frozenset({0}),
    "NonMaxSuppression": frozenset({2, 3, 4}),
    "Compress": frozenset({1}),
    "ReverseSequence": frozenset({1}),
    "Dropout": frozenset({1, 2}),
    "Clip": frozenset({1, 2}),
    "RoiAlign": frozenset({2}),
    **{op: frozenset({1}) for op in _REDUCE_OPS},
}


@dataclass
class ParamCount:
    params: int = 0
    param_bytes: int = 0
    by_dtype: dict[str, int] = field(default_factory=dict)
    bytes_by_dtype: dict[str, int] = field(default_factory=dict)

    def add(self, elements: int, elem_type: int, b: int) -> None:
        """Count ``elements`` of ``elem_type`` stored in ``b`` bytes."""
        name = dtype_name(elem_type)
        self.params += elements
        self.param_bytes += b
        self.by_dtype[name] = self.by_dtype.get(name, 0) + elements
        self.bytes_by_dtype[name] = self.bytes_by_dtype.get(name, 0) + b


def _reads(view: GraphView, names: Container[str]) -> tuple[set[str], set[str], set[str]]:
    """Which of ``names`` are read at all, which are read as data (not only as shapes, axes
    or indices), and the graphs' outputs."""
    used: set[str] = set()
    as_data: set[str] = set()
    outputs: set[str] = set()
    _visit_reads(view, names, used, as_data, outputs)
    return used, as_data, outputs


def _visit_reads(
    v: GraphView, names: Container[str], used: set[str], as_data: set[str], outputs: set[str]
) -> None:
    # A module function, not a closure that calls itself: such a closure is a reference
    # cycle, which would keep the whole analysis alive until the garbage collector runs.
    outputs.update(o.name for o in v.proto.output[:])
    for node in v.nodes:
        shape_operands = None
        for i, name in enumerate(node.inputs):
            if name in names:
                used.add(name)
                if shape_operands is None:
                    shape_operands = SHAPE_OPERANDS.get(node.op_type, ())
                if i not in shape_operands:
                    as_data.add(name)
        for _, sub in node.subgraphs:
            _visit_reads(sub, names, used, as_data, outputs)


def count_params(
    view: GraphView,
    main_graph: GraphProto,
    initializers: Sequence[Initializer],
    consts: ConstStore,
    output_shape: Callable[[GraphView, str], tuple[int, ...] | None],
    constants: Container[str],
) -> ParamCount:
    """Count the parameters of the model whose (inferred) main graph view is ``view``.

    ``main_graph`` is the original main graph, ``initializers`` its initializers as
    :func:`~.consts.read_initializers` reads them: the view's own graph is the inference
    skeleton, which no longer holds the large initializers.  ``constants`` holds every
    tensor that may count (initializers, ``Constant`` and folded outputs): only their
    consumers are looked at.
    """
    used, as_data, graph_outputs = _reads(view, constants)

    by_type: dict[int, list[int]] = {}  # element type -> [elements, bytes]
    seen: set[str] = set()

    for name, elements, elem_type in _stored_tensors(
        view, main_graph, initializers, consts, output_shape
    ):
        if name in seen:
            continue
        seen.add(name)
        if name in used and name not in as_data and name not in graph_outputs:
            continue  # read only as shapes, axes or indices: not a parameter
        totals = by_type.get(elem_type)
        if totals is None:
            by_type[elem_type] = totals = [0, 0]
        totals[0] += elements
        totals[1] += nbytes(elements, elem_type)  # per tensor: sub-byte types round up
    count = ParamCount()
    for elem_type, (elements, stored) in by_type.items():
        count.add(elements, elem_type, stored)
    return count


def _stored_tensors(
    view: GraphView,
    main_graph: GraphProto,
    initializers: Sequence[Initializer],
    consts: ConstStore,
    output_shape: Callable[[GraphView, str], tuple[int, ...] | None],
) -> Iterator[tuple[str, int, int]]:
    """(name, elements, element type) of every tensor that may be a parameter, in order:
    the main graph's initializers, then each graph's constant nodes, a subgraph's own
    initializers before its nodes."""
    for name, dims, elem_type, _ in initializers:
        yield name, math.prod(dims), elem_type
    for sparse in main_graph.sparse_initializer[:]:
        yield sparse.values.name, tensor_elements(sparse.values), sparse.values.data_type
    yield from _graph_constants(view, True, consts, output_shape)


def _graph_constants(
    v: GraphView,
    is_main: bool,
    consts: ConstStore,
    output_shape: Callable[[GraphView, str], tuple[int, ...] | None],
) -> Iterator[tuple[str, int, int]]:
    # A module function, not a closure that calls itself (a reference cycle that would keep
    # the analysis alive until the garbage collector runs).
    if not is_main:
        for init in v.proto.initializer[:]:
            yield init.name, tensor_elements(init), init.data_type
    for node in v.nodes:
        if node.op_type in _CONSTANT_OPS and node.domain == "" and node.outputs and node.outputs[0]:
            if node.op_type == "Constant":
                _, elem, elements = constant_node_type(node.attributes)
                yield node.outputs[0], elements, elem
            elif node.op_type == "ConstantOfShape" and node.inputs and node.inputs[0] in consts:
                shape = output_shape(v, node.outputs[0])
                if shape is None:
                    dims = consts.ints(node.inputs[0])
                    shape = tuple(dims) if dims is not None else None
                value = node.attributes.get("value")
                elem = value.t.data_type if value is not None else 1
                if shape is not None:
                    yield node.outputs[0], math.prod(shape), elem
        for _, sub in node.subgraphs:
            yield from _graph_constants(sub, False, consts, output_shape)
