"""Concrete shapes for every tensor: input resolution, ONNX inference, and the type tables.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/analysis/shapes.py``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import onnx
from onnx import GraphProto, ModelProto, TensorProto, TypeProto, ValueInfoProto

from ..errors import ModelError
from .consts import (
    MAX_VALUE_ELEMENTS,
    ConstStore,
    Initializer,
    constant_node_type,
    read_initializers,
    tensor_elements,
)
from .graph import GraphView

#: (shape or None when unknown, ONNX elem_type); elem_type NON_TENSOR for sequences/maps.
TType = tuple[tuple[int, ...] | None, int]
NON_TENSOR = -1


@dataclass
class InputSpec:
    name: str
    shape: tuple[int, ...] | None
    elem_type: int
    dynamic: tuple[str, ...]
    type_proto: TypeProto


@dataclass
class InputResolution:
    inputs: list[InputSpec]
    assumed_dims: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _dims(vi_type: TypeProto):
    kind = vi_type.WhichOneof("value")
    if kind == "tensor_type":
        t = vi_type.tensor_type
    elif kind == "sparse_tensor_type":
        t = vi_type.sparse_tensor_type
    else:
        return None, NON_TENSOR
    if not t.HasField("shape"):
        return None, t.elem_type
    return list(t.shape.dim), t.elem_type


def ttype_of(vi_type: TypeProto) -> TType:
    """A type table entry from a ``TypeProto``: the shape only if every dim is concrete."""
    if vi_type.HasField("tensor_type"):  # the common case, read in few protobuf calls
        t = vi_type.tensor_type
        if not t.HasField("shape"):
            return None, t.elem_type
        values = [d.dim_value for d in t.shape.dim[:]]
        if not values or min(values) > 0:
            return tuple(values), t.elem_type
    elif vi_type.WhichOneof("value") is None:
        return None, TensorProto.UNDEFINED  # a declared name whose type nobody inferred
    dims, elem = _dims(vi_type)
    if dims is None:
        return None, elem
    shape = []
    for d in dims:
        if d.HasField("dim_value") and d.dim_value > 0:
            shape.append(d.dim_value)
        elif d.HasField("dim_value") and d.dim_value == 0 and not d.dim_param:
            shape.append(0)
        else:
            return None, elem
    return tuple(shape), elem


def resolve_inputs(
    graph: GraphProto,
    weight_names: set[str] | frozenset[str],
    input_shapes: Mapping[str, Sequence[int]] | None,
    default_dim: int,
    source: str,
) -> InputResolution:
    """Concrete shapes of the real inputs (initializer-backed inputs are weights, not inputs).

    Raises ModelError for an ``input_shapes`` entry naming an unknown input, with the wrong
    rank, a non-positive dim, or a dim that contradicts a fixed dim of the model.
    """
    if isinstance(default_dim, bool) or not isinstance(default_dim, int) or default_dim <= 0:
        raise ModelError(source, f"default_dim must be a positive int, got {default_dim!r}")
    real = [vi for vi in graph.input[:] if vi.name not in weight_names]
    names = [vi.name for vi in real]
    given: dict[str, tuple[int, ...]] = {}
    if input_shapes is not None:
        if not isinstance(input_shapes, Mapping):
            raise ModelError(
                source,
                "input_shapes must map input names to shapes, e.g. "
                f"{{'{names[0] if names else 'x'}': [1, 3, 224, 224]}}; got "
                f"{type(input_shapes).__name__}",
            )
        by_name = {vi.name: vi for vi in real}
        for key, shape in input_shapes.items():
            if key not in by_name:
                if key in weight_names:
                    problem = (
                        f"input_shapes names '{key}', which is a weight (initializer) of the "
                        f"model, not an input; its inputs are: {', '.join(names) or 'none'}"
                    )
                else:
                    problem = (
                        f"input_shapes names '{key}', which is not an input of the model; "
                        f"its inputs are: {', '.join(names) or 'none'}"
                    )
                raise ModelError(source, problem)
            given[key] = _check_shape(key, shape, by_name[key], source)

    # A dim_param names one size across inputs (e.g. "seq" of input_ids and attention_mask):
    # a size given for one input applies to every other input sharing the name.
    bindings: dict[str, int] = {}
    for vi in real:
        dims, _ = _dims(vi.type)
        if vi.name in given and dims is not None:
            for d, v in zip(dims, given[vi.name], strict=False):
                if d.dim_param and d.dim_param not in bindings:
                    bindings[d.dim_param] = v

    result = InputResolution([])
    for vi in real:
        dims, elem = _dims(vi.type)
        if elem == NON_TENSOR:
            result.inputs.append(InputSpec(vi.name, None, NON_TENSOR, (), vi.type))
            continue
        if dims is None:
            if vi.name in given:
                shape = given[vi.name]
            else:
                shape = None
                result.warnings.append(
                    f"input '{vi.name}' has no shape in the model: its cost is unknown; pass "
                    "input_shapes"
                )
            result.inputs.append(InputSpec(vi.name, shape, elem, (), vi.type))
            continue
        shape_list: list[int] = []
        dynamic: list[str] = []
        for axis, d in enumerate(dims):
            static = d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
            if static is not None:
                shape_list.append(static)
                continue
            key = d.dim_param or f"{vi.name}.{axis}"
            dynamic.append(key)
            if vi.name in given:
                shape_list.append(given[vi.name][axis])
            elif d.dim_param and d.dim_param in bindings:
                shape_list.append(bindings[d.dim_param])
            else:
                shape_list.append(default_dim)
                if key not in result.assumed_dims:
                    result.assumed_dims[key] = default_dim
                    what = f"'{d.dim_param}'" if d.dim_param else str(axis)
                    result.warnings.append(
                        f"dynamic dim {what} of input '{vi.name}' assumed {default_dim}; "
                        "pass input_shapes"
                    )
        result.inputs.append(InputSpec(vi.name, tuple(shape_list), elem, tuple(dynamic), vi.type))
    return result


def _check_shape(name: str, shape: object, vi: ValueInfoProto, source: str) -> tuple[int, ...]:
    dims, elem = _dims(vi.type)
    if elem == NON_TENSOR:
        raise ModelError(source, f"input_shapes gives a shape for '{name}', which is not a tensor")
    if isinstance(shape, (str, bytes)) or not isinstance(shape, Sequence):
        raise ModelError(
            source, f"input_shapes['{name}'] must be a sequence of positive ints, got {shape!r}"
        )
    values = list(shape)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise ModelError(
                source,
                f"input_shapes['{name}'] = {values!r}: every dim must be a positive int, got {v!r}",
            )
    if dims is not None:
        if len(values) != len(dims):
            declared = [
                d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in dims
            ]
            raise ModelError(
                source,
                f"input_shapes['{name}'] = {values!r} has rank {len(values)}; the "
                f"model's input '{name}' has rank {len(dims)} {declared}",
            )
        for axis, (d, v) in enumerate(zip(dims, values, strict=False)):
            if d.HasField("dim_value") and d.dim_value > 0 and d.dim_value != v:
                raise ModelError(
                    source,
                    f"input_shapes['{name}'] = {values!r}: dim {axis} is fixed to "
                    f"{d.dim_value} by the model, got {v}",
                )
    return tuple(values)


# ---------------------------------------------------------------------------------- skeleton


def _tensor_vi(name: str, elem_type: int, shape) -> ValueInfoProto:
    """``helper.make_tensor_value_info`` for a concrete (or unknown) shape, without its
    per-dim overhead: the skeleton of a large model lists hundreds of them."""
    vi = ValueInfoProto()
    vi.name = name
    t = vi.type.tensor_type
    t.elem_type = elem_type
    if shape is not None:
        t.shape.SetInParent()  # a scalar has a shape, with no dims
        dims = t.shape.dim
        for d in shape:
            dims.add().dim_value = d
    return vi


def build_skeleton(
    proto: ModelProto,
    resolution: InputResolution,
    consts: ConstStore,
    initializers: Sequence[Initializer],
    extra_types: Mapping[str, TType] | None = None,
    node_order: Sequence[int] | None = None,
) -> ModelProto:
    """A copy of ``proto`` for shape inference (see module docstring, step 2).

    ``initializers`` are the main graph's, as :func:`~.consts.read_initializers` reads them.
    ``node_order`` lists the main graph's node indices in topological order when the file
    does not (ONNX inference reads the nodes in the order given).
    """
    src = proto.graph
    inits: Sequence[TensorProto] = src.initializer
    input_names = {spec.name for spec in resolution.inputs}
    keep_all = all(
        not external and math.prod(dims) <= MAX_VALUE_ELEMENTS and name not in input_names
        for name, dims, _, external in initializers
    )
    sk = ModelProto()
    g = sk.graph
    if keep_all:
        # The common case (weights built by nodes, as in the onnx light models, or all small):
        # one C++ copy of the whole model, then the parts inference must not see replaced.
        sk.CopyFrom(proto)
        for name in ("input", "output", "value_info", "sparse_initializer"):
            g.ClearField(name)
        sk.ClearField("training_info")
        if node_order is not None:
            del g.node[:]
            g.node.extend([src.node[i] for i in node_order])
    else:
        sk.opset_import.extend(proto.opset_import)
        sk.functions.extend(proto.functions)
        g.name = src.name
        g.node.extend(src.node if node_order is None else [src.node[i] for i in node_order])
    # IR 4 at least: initializers need not be listed as inputs, and ONNX then reads them as
    # the constants edgegate takes them for (an IR 3 model's are overridable inputs).
    sk.ir_version = max(proto.ir_version, 4)
    listed: set[str] = set()
    for spec in resolution.inputs:
        if spec.elem_type == NON_TENSOR or spec.shape is None:
            vi = g.input.add()
            vi.name = spec.name
            vi.type.CopyFrom(spec.type_proto)
        else:
            g.input.append(_tensor_vi(spec.name, spec.elem_type, spec.shape))
        listed.add(spec.name)
    if keep_all:
        listed.update(name for name, *_ in initializers)
        inits = []
    for init in inits:
        if init.name in listed:
            continue
        small = tensor_elements(init) <= MAX_VALUE_ELEMENTS
        if small and init.data_location != TensorProto.EXTERNAL:
            g.initializer.append(init)
        elif (
            small
            and init.data_type in (TensorProto.INT64, TensorProto.INT32)
            and (consts.value(init.name) is not None)
        ):
            g.initializer.append(onnx.numpy_helper.from_array(consts.value(init.name), init.name))
        else:
            g.input.append(_tensor_vi(init.name, init.data_type, init.dims))
            listed.add(init.name)
            continue
        listed.add(init.name)
    for sparse in src.sparse_initializer[:]:
        name = sparse.values.name
        if name not in listed:
            g.input.append(_tensor_vi(name, sparse.values.data_type, sparse.dims))
            listed.add(name)
    # Declared types only where ONNX cannot infer (outputs of custom-domain nodes); elsewhere
    # stale exporter dims or element types would conflict with what ONNX infers.
    custom_outputs = {
        o for n in src.node[:] if n.domain not in ("", "ai.onnx", "ai.onnx.ml") for o in n.output[:]
    }
    for out in src.output[:]:
        vi = g.output.add()
        vi.name = out.name
        kind = out.type.WhichOneof("value")
        if kind == "tensor_type":
            if out.name in custom_outputs:
                vi.type.tensor_type.elem_type = out.type.tensor_type.elem_type
        elif kind is not None:
            vi.type.CopyFrom(out.type)
    for vi in src.value_info[:]:
        if vi.name in custom_outputs and (extra_types is None or vi.name not in extra_types):
            g.value_info.append(vi)
    if extra_types:
        for name, (shape, elem) in extra_types.items():
            if elem != NON_TENSOR and shape is not None:
                g.value_info.append(_tensor_vi(name, elem, shape))
    return sk


def run_inference(skeleton: ModelProto, warnings: list[str]) -> ModelProto:
    """``infer_shapes`` with data propagation; on failure, the skeleton's own declarations."""
    try:
        if _infer_bytes is None:
            return onnx.shape_inference.infer_shapes(
                skeleton, check_type=False, strict_mode=False, data_prop=True
            )
        inferred = ModelProto()
        inferred.ParseFromString(_infer_bytes(skeleton.SerializeToString(), False, False, True))
        return inferred
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        warnings.append(
            f"ONNX shape inference failed ({first}); shapes come from edgegate's own rules only"
        )
        return skeleton


def _bytes_inference() -> Any:
    """onnx's C++ ``infer_shapes`` on serialized bytes, or None where onnx does not expose it.

    ``onnx.shape_inference.infer_shapes`` wraps the same call and parses its result through
    onnx's format registry; every analysis infers at least once, and calling the C++ pass
    directly and parsing its bytes with protobuf itself spares that fixed cost.
    """
    try:
        from onnx.onnx_cpp2py_export import shape_inference as cpp
    except ImportError:
        return None
    return getattr(cpp, "infer_shapes", None)


_infer_bytes = _bytes_inference()


# ------------------------------------------------------------------------------- type tables


class Types:
    """Type table of one (sub)graph; lookups fall back to the enclosing graphs."""

    __slots__ = ("local", "parent")

    def __init__(self, parent: Types | None = None) -> None:
        self.local: dict[str, TType] = {}
        self.parent = parent

    def get(self, name: str) -> TType | None:
        r = self.local.get(name)
        if r is not None or self.parent is None:
            return r
        t = self.parent
        while t is not None:
            r = t.local.get(name)
            if r is not None:
                return r
            t = t.parent
        return None

    def known(self, name: str) -> bool:
        """True when ``name`` has a concrete shape (or is a non-tensor value)."""
        r = self.get(name)
        return r is not None and (r[0] is not None or r[1] == NON_TENSOR)


def collect_types(
    view: GraphView, initializers: Sequence[Initializer] | None = None
) -> dict[int, Types]:
    """Type tables of the main graph ``view`` and its subgraphs, keyed by ``id(graph_view)``.

    ``initializers``, the model's own (read once, :func:`~.consts.read_initializers`), type
    the main graph's weights: the inference skeleton holds them as they are, or as inputs
    of the same type when they are large.  Without them the view's graph is read.
    """
    tables: dict[int, Types] = {}
    _collect(view, None, tables, initializers)
    return tables


def _collect(
    view: GraphView,
    parent: Types | None,
    tables: dict[int, Types],
    initializers: Sequence[Initializer] | None = None,
) -> None:
    types = Types(parent)
    local = types.local
    g = view.proto
    if initializers is None:
        initializers = read_initializers(g.initializer[:])
    for name, dims, elem_type, _ in initializers:
        local[name] = (dims, elem_type)
    for sparse in g.sparse_initializer[:]:
        local[sparse.values.name] = (tuple(sparse.dims[:]), sparse.values.data_type)
    for vi in g.input[:]:
        if vi.name not in local:  # an initializer listed as an input keeps its own type
            local[vi.name] = ttype_of(vi.type)
    for vi in g.value_info[:]:  # hundreds in a large model: the common case read inline
        vtype = vi.type
        # An unset tensor_type reads as an empty message: no dims, so a non-tensor, an
        # unshaped tensor and a scalar all go to ttype_of, which tells them apart.
        tt = vtype.tensor_type
        dims = tt.shape.dim
        if dims:
            values = [d.dim_value for d in dims]
            if min(values) > 0:
                local[vi.name] = (tuple(values), tt.elem_type)
                continue
        t = ttype_of(vtype)
        if t[0] is not None or vi.name not in local:
            local[vi.name] = t
    for vi in g.output[:]:
        t = ttype_of(vi.type)
        if t[0] is not None or vi.name not in local:
            local[vi.name] = t
    for node in view.nodes:
        if node.op_type == "Constant" and node.domain == "" and node.outputs:
            shape, elem, _ = constant_node_type(node.attributes)
            local[node.outputs[0]] = (shape, elem)
    local.pop("", None)  # an omitted input or output is spelled "": it never has a type
    tables[id(view)] = types
    for node in view.nodes:
        for _, sub in node.subgraphs:
            _collect(sub, types, tables)
