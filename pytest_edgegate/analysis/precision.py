"""The precision a deployment stores each activation in (QDQ and QOperator graphs).

A converter (onnxruntime's QDQ transformers, the TFLite converter, STM32Cube.AI, an NPU
compiler) fuses ``DequantizeLinear -> float ops -> QuantizeLinear`` into integer kernels, so
the float tensors between the DQ and the Q never exist on the device.  The rule, written out
in docs/memory.md:

* a *float region* is a set of float activations joined by the nodes of an allowlist of ops
  integer runtimes implement (``_ISLAND_OPS``: Conv/Gemm/MatMul, Add/Mul/Concat, Reshape and
  friends, pooling, element-wise activations, Softmax...);
* a region is stored as integers when every way into it is a ``DequantizeLinear`` of an
  integer activation, every way out is a ``QuantizeLinear`` to an integer type, and every
  matrix op in it reads a dequantized integer weight.  All its tensors count at the widest
  integer type of those DQ/Q (int8 in an int8 model): this covers the single fused node
  (DQ -> Conv -> Q) and the float islands a quantizer leaves (DQ -> Add -> Relu -> Q);
* a graph input read only by ``QuantizeLinear`` counts at the quantized type (the firmware
  feeds the model quantized data) and a graph output written by ``DequantizeLinear`` at its
  integer source type;
* anything else keeps the type the graph gives it (fp16 tensors at two bytes).
"""

from __future__ import annotations

from collections.abc import Container, Mapping

from onnx import TensorProto

from .dtypes import QUANTIZED_TYPES, dtype_bits
from .graph import GraphView, NodeRec, op_names
from .shapes import Types

_FLOATS = frozenset(
    (TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.BFLOAT16)
)
#: Float ops an integer runtime runs in integers once the surrounding Q/DQ are fused.
_ISLAND_OPS = frozenset(
    op_names(
        "Conv ConvTranspose Gemm MatMul Add Sub Mul Div Max Min Abs Neg Concat Reshape Flatten "
        "Squeeze Unsqueeze Transpose Identity MaxPool AveragePool GlobalAveragePool "
        "GlobalMaxPool Relu Clip LeakyRelu PRelu Sigmoid Tanh HardSigmoid HardSwish Softmax "
        "LogSoftmax Pad Resize Slice Split ReduceMean ReduceMax DepthToSpace SpaceToDepth "
        "BatchNormalization Gather"
    )
)
_MATRIX_OPS = frozenset(op_names("Conv ConvTranspose Gemm MatMul"))
_QDQ = frozenset(("DequantizeLinear", "QuantizeLinear"))


def stored_types(
    view: GraphView,
    types: Types,
    constants: Container[str],
    dq_source: Mapping[str, int],
) -> dict[str, int]:
    """Activation name -> integer element type it is stored in (only those that change)."""
    if not any(n.op_type in _QDQ for n in view.nodes):
        return {}  # every rule below starts from a DequantizeLinear or a QuantizeLinear
    producer: dict[str, NodeRec] = {}
    consumers: dict[str, list[NodeRec]] = {}
    for node in view.nodes:
        for name in node.outputs:
            if name:
                producer[name] = node
        for name in node.inputs:
            if name:
                consumers.setdefault(name, []).append(node)
    graph_outputs = {vi.name for vi in view.proto.output}
    graph_inputs = {vi.name for vi in view.proto.input}

    def is_float_activation(name: str) -> bool:
        if not name or name in constants:
            return False
        t = types.get(name)
        return t is not None and t[1] in _FLOATS

    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    island = [n for n in view.nodes if _is_island(n)]
    for node in island:
        names = [n for n in (*node.inputs, *node.outputs) if is_float_activation(n)]
        for n in names:
            parent.setdefault(n, n)
        for n in names[1:]:
            union(names[0], n)
    # A DQ output read straight by a Q (a requantization) is a region of its own.
    for node in view.nodes:
        if node.op_type == "DequantizeLinear" and node.outputs and node.outputs[0] in dq_source:
            parent.setdefault(node.outputs[0], node.outputs[0])

    regions: dict[str, list[str]] = {}
    for name in parent:
        regions.setdefault(find(name), []).append(name)

    island_ids = {id(n) for n in island}
    out: dict[str, int] = {}
    for members in regions.values():
        elem = _region_type(
            members, producer, consumers, island_ids, graph_inputs, graph_outputs, types,
            dq_source,
        )  # fmt: skip
        if elem is not None:
            for name in members:
                out[name] = elem

    for name in graph_inputs:
        users = consumers.get(name, [])
        if users and all(u.op_type == "QuantizeLinear" for u in users):
            q_types = [_elem(types, u.outputs[0]) for u in users if u.outputs]
            if q_types and all(t in QUANTIZED_TYPES for t in q_types):
                out[name] = max(q_types, key=dtype_bits)
    for name in graph_outputs:
        node = producer.get(name)
        if node is not None and node.op_type == "DequantizeLinear" and name in dq_source:
            out[name] = dq_source[name]
    return out


def _is_island(node: NodeRec) -> bool:
    return node.domain == "" and not node.subgraphs and node.op_type in _ISLAND_OPS


def _elem(types: Types, name: str) -> int:
    t = types.get(name)
    return t[1] if t is not None else 0


def _region_type(
    members: list[str],
    producer: Mapping[str, NodeRec],
    consumers: Mapping[str, list[NodeRec]],
    island_ids: set[int],
    graph_inputs: set[str],
    graph_outputs: set[str],
    types: Types,
    dq_source: Mapping[str, int],
) -> int | None:
    """The integer type a region is stored in, or None when it stays float."""
    found: list[int] = []
    for name in members:
        if name in graph_inputs or name in graph_outputs:
            return None
        node = producer.get(name)
        if node is None:
            return None
        if node.op_type == "DequantizeLinear":
            if name not in dq_source:
                return None
            found.append(dq_source[name])
        elif id(node) not in island_ids:
            return None
        elif node.op_type in _MATRIX_OPS and not (
            len(node.inputs) > 1 and node.inputs[1] in dq_source
        ):
            return None  # a float weight: the runtime keeps this op in float
        users = consumers.get(name, [])
        if not users:
            return None
        for user in users:
            if user.op_type == "QuantizeLinear":
                if user.inputs[0] != name or not user.outputs:
                    return None
                q = _elem(types, user.outputs[0])
                if q not in QUANTIZED_TYPES:
                    return None
                found.append(q)
            elif id(user) not in island_ids:
                return None
    if not found:
        return None
    return max(found, key=dtype_bits)
