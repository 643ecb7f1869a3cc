"""Parameter count: the elements of the model's stored weights.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/analysis/param_count.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Container
from dataclasses import dataclass, field

from onnx import GraphProto

from .consts import ConstStore, constant_node_type, tensor_elements
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

    def add(self, elements: int, elem_type: int) -> None:
        name = dtype_name(elem_type)
        b = nbytes(elements, elem_type)
        self.params += elements
        self.param_bytes += b
        self.by_dtype[name] = self.by_dtype.get(name, 0) + elements
        self.bytes_by_dtype[name] = self.bytes_by_dtype.get(name, 0) + b


def _consumers(
    view: GraphView, names: Container[str]
) -> tuple[dict[str, list[tuple[str, int]]], set[str]]:
    """Who reads each of ``names`` (operator, input position), and the graphs' outputs."""
    uses: dict[str, list[tuple[str, int]]] = {}
    outputs: set[str] = set()

    def visit(v: GraphView) -> None:
        outputs.update(o.name for o in v.proto.output[:])
        for node in v.nodes:
            for i, name in enumerate(node.inputs):
                if name in names:
                    uses.setdefault(name, []).append((node.op_type, i))
            for _, sub in node.subgraphs:
                visit(sub)

    visit(view)
    return uses, outputs


def count_params(
    view: GraphView,
    main_graph: GraphProto,
    consts: ConstStore,
    output_shape: Callable[[GraphView, str], tuple[int, ...] | None],
    constants: Container[str],
) -> ParamCount:
    """Count the parameters of the model whose (inferred) main graph view is ``view``.

    ``main_graph`` is the original main graph: the view's own graph is the inference
    skeleton, which no longer holds the large initializers.  ``constants`` holds every
    tensor that may count (initializers, ``Constant`` and folded outputs): only their
    consumers are looked at.
    """
    uses, graph_outputs = _consumers(view, constants)

    count = ParamCount()
    seen: set[str] = set()

    def take(name: str, elements: int, elem_type: int) -> None:
        if name in seen:
            return
        seen.add(name)
        users = uses.get(name)
        if users and name not in graph_outputs:  # read only as shapes, axes or indices?
            for op, i in users:
                if i not in SHAPE_OPERANDS.get(op, ()):
                    break
            else:
                return
        count.add(elements, elem_type)

    for init in main_graph.initializer[:]:
        take(init.name, tensor_elements(init), init.data_type)
    for sparse in main_graph.sparse_initializer[:]:
        take(sparse.values.name, tensor_elements(sparse.values), sparse.values.data_type)

    def visit(v: GraphView, is_main: bool) -> None:
        if not is_main:
            for init in v.proto.initializer[:]:
                take(init.name, tensor_elements(init), init.data_type)
        for node in v.nodes:
            if (
                node.op_type in _CONSTANT_OPS
                and node.domain == ""
                and node.outputs
                and node.outputs[0]
            ):
                if node.op_type == "Constant":
                    _, elem, elements = constant_node_type(node.attributes)
                    take(node.outputs[0], elements, elem)
                elif node.op_type == "ConstantOfShape" and node.inputs and node.inputs[0] in consts:
                    shape = output_shape(v, node.outputs[0])
                    if shape is None:
                        dims = consts.ints(node.inputs[0])
                        shape = tuple(dims) if dims is not None else None
                    value = node.attributes.get("value")
                    elem = value.t.data_type if value is not None else 1
                    if shape is not None:
                        take(node.outputs[0], math.prod(shape), elem)
            for _, sub in node.subgraphs:
                visit(sub, False)

    visit(view, True)
    return count
