"""``analyze``: shapes, then one walk over the nodes for costs, then params and liveness."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from functools import lru_cache, partial
from typing import Any

import onnx
from onnx import ModelProto

from ..errors import ModelError
from .consts import ConstStore, Initializer, constant_node_type, read_initializers, tensor_elements
from .counts import OpRule, rule_for
from .dtypes import ELEMENT_BITS, QUANTIZED_TYPES, dtype_name, nbytes
from .graph import GraphView, NodeRec, build_view, op_names
from .liveness import peak_activation_bytes
from .loader import read_external_tensor
from .param_count import count_params
from .precision import stored_types
from .records import LoadedModel, ModelAnalysis, NodeStats, TensorInfo
from .shape_rules import complete_types, loop_trip_count, scan_iterations
from .shapes import (
    NON_TENSOR,
    InputResolution,
    TType,
    Types,
    build_skeleton,
    collect_types,
    resolve_inputs,
    run_inference,
)

#: Ops whose output is random: never folded into constants even with constant inputs.
_NONDETERMINISTIC = frozenset(
    op_names(
        "RandomNormal RandomUniform RandomNormalLike RandomUniformLike Multinomial Bernoulli "
        "Dropout"
    )
)
#: QOperator forms: integer arithmetic whatever their neighbours.
_QOPERATORS = frozenset(
    op_names(
        "QLinearConv QLinearMatMul ConvInteger MatMulInteger QGemm QLinearAdd QLinearMul "
        "QLinearSigmoid QLinearLeakyRelu QLinearSoftmax QLinearAveragePool "
        "QLinearGlobalAveragePool QLinearConcat MatMulIntegerToFloat DynamicQuantizeMatMul "
        "DynamicQuantizeLinear"
    )
)
_DQ = ("DequantizeLinear",)
_QUANT_OPS = _QOPERATORS | {"DequantizeLinear", "QuantizeLinear"}
#: Attributes a device model needs, kept in NodeStats.attrs.
_KEPT_ATTRS = op_names(
    "kernel_shape strides pads dilations group auto_pad ceil_mode transA transB "
    "activation num_heads K N bits block_size mode axis perm size"
)
_KEPT_SET = frozenset(_KEPT_ATTRS)
_KEPT_ORDER = {k: i for i, k in enumerate(_KEPT_ATTRS)}
_SPATIAL_OPS = frozenset(
    op_names(
        "Conv ConvInteger QLinearConv ConvTranspose FusedConv NhwcConv MaxPool AveragePool "
        "LpPool QLinearAveragePool"
    )
)
_MAX_WARNINGS = 40
_SHAPE_RERUNS = 2


def analyze(
    model: LoadedModel | ModelProto,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    *,
    default_dim: int = 1,
) -> ModelAnalysis:
    """Static cost of ``model`` at ``input_shapes`` (dynamic dims left open get ``default_dim``).

    ``model`` is a :class:`LoadedModel` from :func:`load_model` or an in-memory
    ``onnx.ModelProto`` (then ``path`` and ``sha256`` are None and ``file_bytes`` is the
    serialized size).  Raises ModelError for bad ``input_shapes`` or an unusable graph.
    """
    if isinstance(model, LoadedModel):
        proto, path, file_bytes, sha = model.proto, model.path, model.file_bytes, model.sha256
        name = model.name
        warnings = list(model.warnings)
    elif isinstance(model, ModelProto):
        proto, path, sha = model, None, None
        file_bytes = model.ByteSize()
        name = model.graph.name or "model"
        warnings = []
    else:
        raise TypeError(
            f"analyze() expects a LoadedModel or an onnx.ModelProto, got {type(model).__name__}"
        )
    source = path or name
    if not proto.HasField("graph"):
        raise ModelError(source, "has no graph; expected an ONNX model")
    if proto.functions:
        proto = _inline_functions(proto, warnings)
    return _Analysis(proto, source, path, warnings).run(
        input_shapes, default_dim, name=name, file_bytes=file_bytes, sha=sha
    )


def _inline_functions(proto: ModelProto, warnings: list[str]) -> ModelProto:
    """Expand model-local functions so their nodes are counted like any other."""
    try:
        from onnx import inliner

        return inliner.inline_local_functions(proto)
    except Exception as exc:
        warnings.append(
            f"could not inline the model's local functions ({exc}); calls to them are counted "
            "as unknown operators"
        )
        return proto


class _Analysis:
    """State of one analysis run; ``run`` is the whole algorithm, top to bottom."""

    def __init__(self, proto: ModelProto, source: str, path: str | None, warnings: list[str]):
        self.proto = proto
        self.source = source
        self.path = path
        self.warnings = warnings
        base_dir = os.path.dirname(os.path.abspath(path)) if path else None
        reader = (lambda t: read_external_tensor(t, base_dir, 8 * 4096)) if base_dir else None
        self.consts = ConstStore(reader)
        self.const_bytes: dict[str, int] = {}
        self.histogram: dict[str, int] = {}
        self.dq_source: dict[str, int] = {}  # DequantizeLinear output -> quantized elem type
        self.fused_types: dict[str, int] = {}  # activation -> type it is stored in (.precision)
        self.is_quantized = False
        self.shape_warned: set[str] = set()
        self.unsized: set[str] = set()  # activations whose size the liveness could not count
        self.tables: dict[int, Types] = {}
        self.act_bytes: dict[tuple[int, str], int] = {}  # (id(view), name) -> stored bytes
        self.initializers: list[Initializer] = []  # the main graph's, read once

    # ---------------------------------------------------------------------------- pipeline

    def run(self, input_shapes, default_dim, *, name, file_bytes, sha) -> ModelAnalysis:
        graph = self.proto.graph
        tensors = graph.initializer[:]
        self.initializers = initializers = read_initializers(tensors)
        weights = {weight for weight, *_ in initializers}
        weights.update(s.values.name for s in graph.sparse_initializer[:])
        resolution = resolve_inputs(graph, weights, input_shapes, default_dim, self.source)
        self.warnings.extend(resolution.warnings)
        const_bytes = self.const_bytes
        for (weight, dims, elem_type, _), init in zip(initializers, tensors, strict=True):
            self.consts.add_tensor(weight, init)
            const_bytes[weight] = nbytes(_prod(dims), elem_type)
        for sparse in graph.sparse_initializer[:]:
            v = sparse.values
            self.const_bytes[v.name] = nbytes(tensor_elements(v), v.data_type)

        view, tables = self._shapes(resolution)
        self.tables = tables
        nodes = self._walk(view, 1)
        params = count_params(
            view, graph, initializers, self.consts, self._output_shape, self.const_bytes
        )
        self.fused_types = stored_types(view, tables[id(view)], self.const_bytes, self.dq_source)
        activations = self._main_activations(view)
        peak = peak_activation_bytes(view, self._sizes_of(view, activations), self.const_bytes)

        macs = flops = 0
        macs_by_dtype: dict[str, int] = {}
        for n in nodes:
            flops += n.flops
            if n.macs:
                macs += n.macs
                macs_by_dtype[n.compute_dtype] = macs_by_dtype.get(n.compute_dtype, 0) + n.macs
        main_types = tables[id(view)]
        inputs = tuple(
            TensorInfo(
                s.name, s.shape, dtype_name(s.elem_type) if s.elem_type >= 0 else "other", s.dynamic
            )
            for s in resolution.inputs
        )
        outputs = tuple(self._output_info(vi, main_types) for vi in graph.output[:])
        opsets = {(o.domain or "ai.onnx"): o.version for o in self.proto.opset_import}
        return ModelAnalysis(
            name=name,
            path=self.path,
            file_bytes=file_bytes,
            sha256=sha,
            params=params.params,
            param_bytes=params.param_bytes,
            params_by_dtype=params.by_dtype,
            param_bytes_by_dtype=params.bytes_by_dtype,
            macs=macs,
            flops=flops,
            peak_activation_bytes=peak,
            nodes=tuple(nodes),
            op_histogram=dict(sorted(self.histogram.items())),
            inputs=inputs,
            outputs=outputs,
            assumed_dims=dict(resolution.assumed_dims),
            opsets=opsets,
            warnings=_cap(self.warnings),
            is_quantized=self.is_quantized,
            macs_by_dtype=macs_by_dtype,
            ir_version=self.proto.ir_version,
            activation_bytes=activations,
            unsized_activations=tuple(sorted(self.unsized)),
        )

    def _shapes(self, resolution: InputResolution) -> tuple[GraphView, dict[int, Types]]:
        """ONNX inference, our rules for its gaps, and ONNX again downstream of what we filled."""
        extra: dict[str, TType] = {}
        order: list[int] | None = None
        for attempt in range(_SHAPE_RERUNS + 1):
            skeleton = build_skeleton(
                self.proto, resolution, self.consts, self.initializers, extra, order
            )
            inferred = run_inference(skeleton, self.warnings)
            view = build_view(inferred.graph, self.source)
            if order is None and any(n.index != i for i, n in enumerate(view.nodes)):
                # Nodes out of topological order in the file: infer again in sorted order.
                order = [n.index for n in view.nodes]
                skeleton = build_skeleton(
                    self.proto, resolution, self.consts, self.initializers, extra, order
                )
                inferred = run_inference(skeleton, self.warnings)
                view = build_view(inferred.graph, self.source)
            if order is not None:
                for node in view.nodes:
                    node.index = order[node.index]  # labels keep the file's node positions
            self._register_constants(view)
            tables = collect_types(view, self.initializers)
            filled, unresolved = complete_types(view, tables, self.consts)
            # Worth another ONNX pass only if something downstream is still unknown.
            if not filled or not unresolved or attempt == _SHAPE_RERUNS:
                break
            main = tables[id(view)]
            extra.update({n: main.local[n] for n in filled})
        return view, tables

    def _register_constants(self, view: GraphView) -> None:
        for _v, node in view.iter_nodes():
            if node.op_type == "Constant" and node.domain == "" and node.outputs:
                self.consts.add_constant_node(node.outputs[0], node.attributes)
                shape, elem, elements = constant_node_type(node.attributes)
                self.const_bytes[node.outputs[0]] = nbytes(elements, elem)
        self._register_sub_initializers(view, top=True)

    def _register_sub_initializers(self, view: GraphView, top: bool) -> None:
        if not top:
            for init in view.proto.initializer[:]:
                self.consts.add_tensor(init.name, init)
                self.const_bytes[init.name] = nbytes(tensor_elements(init), init.data_type)
        for node in view.nodes:
            for _, sub in node.subgraphs:
                self._register_sub_initializers(sub, top=False)

    # ------------------------------------------------------------------------------ walking

    def _walk(self, view: GraphView, multiplier: int) -> list[NodeStats]:
        types = self.tables[id(view)]
        get = types.local.get if types.parent is None else types.get  # main graph: one dict
        scope = view.scope
        stats: list[NodeStats] = []
        for node in view.nodes:
            stats.append(self._node_stats(node, scope, get, multiplier))
            if node.subgraphs:
                stats.extend(self._walk_subgraphs(node, types, multiplier))
        return stats

    def _walk_subgraphs(self, node: NodeRec, types: Types, multiplier: int) -> list[NodeStats]:
        """Stats of a control node's subgraphs, scaled by how often they run per inference."""
        if node.domain == "" and node.op_type == "If" and len(node.subgraphs) == 2:
            # One branch runs per inference: count the costlier one (the worst case) and list
            # the other with executions=0, so that its structure stays visible.
            branches = [self._walk(sub, multiplier) for _, sub in node.subgraphs]
            costs = [(sum(s.flops for s in b), sum(s.macs for s in b)) for b in branches]
            keep = 0 if costs[0] >= costs[1] else 1
            return [s if i == keep else _zeroed(s) for i, b in enumerate(branches) for s in b]
        iterations: int | None = 1
        if node.domain == "" and node.op_type == "Loop":
            iterations = loop_trip_count(node, self.consts)
            if iterations is None:
                self.warnings.append(
                    f"trip count of Loop node '{node.label}' is not a constant: its body is "
                    "counted once"
                )
        elif node.domain == "" and node.op_type == "Scan":
            iterations = scan_iterations(node, [types.get(i) if i else None for i in node.inputs])
            if iterations is None:
                self.warnings.append(
                    f"iteration count of Scan node '{node.label}' is unknown: its body is "
                    "counted once"
                )
        times = multiplier * (iterations if iterations is not None else 1)
        return [s for _, sub in node.subgraphs for s in self._walk(sub, times)]

    def _node_stats(
        self, node: NodeRec, scope: str, get: Callable[[str], TType | None], multiplier: int
    ) -> NodeStats:
        op = _op_facts(node.domain, node.op_type)
        key, rule = op.key, op.rule
        histogram = self.histogram
        histogram[key] = histogram.get(key, 0) + 1
        ins = list(map(get, node.inputs))  # an omitted input ("") has no type: None
        outs = list(map(get, node.outputs))
        if op.quant:
            self._note_quantization(node, ins, outs)

        # Most nodes read an activation first, which settles it without a call to _fold.
        first = node.inputs[0] if node.inputs else ""
        folded = (
            op.foldable
            and (not first or first in self.const_bytes or node.op_type == "Constant")
            and self._fold(node, outs)
        )
        macs = flops = 0
        if rule is None:
            self.warnings.append(
                f"unknown operator {key} counted with 0 MACs (node '{node.label}')"
            )
            op_class = "other"
        else:
            op_class = rule.op_class
            if rule.cost is not None and not folded:
                result = None
                try:
                    result = rule.cost(node, ins, outs)
                except Exception:  # malformed attributes must never crash the analysis
                    result = None
                if result is None:
                    what = "MACs and FLOPs" if rule.is_mac else "FLOPs"
                    self.warnings.append(
                        f"{what} of node '{node.label}' ({key}) counted as 0: the shapes it "
                        "needs are unknown"
                    )
                else:
                    macs, flops = result
                    if not rule.is_mac:
                        macs = 0  # the macs_m convention: only Conv/Gemm/MatMul forms count as MACs

        bytes_read = bytes_written = weight_bytes = 0
        if not folded:
            const_bytes = self.const_bytes
            inputs = node.inputs
            for i, (name, t) in enumerate(zip(inputs, ins, strict=True)):
                if not name or (i and inputs.index(name) < i):  # absent, or read twice: once
                    continue
                b = const_bytes.get(name)
                if b is not None:
                    weight_bytes += b
                elif t is not None and t[0] is not None and t[1] != NON_TENSOR:
                    bytes_read += (_prod(t[0]) * _bits(t[1], 8) + 7) // 8
                else:
                    bytes_read += self._io_bytes(name, t, node, key)
            bytes_read += weight_bytes
            for name, t in zip(node.outputs, outs, strict=True):
                if not name:
                    continue
                if t is not None and t[0] is not None and t[1] != NON_TENSOR:
                    bytes_written += (_prod(t[0]) * _bits(t[1], 8) + 7) // 8
                else:
                    bytes_written += self._io_bytes(name, t, node, key)

        return _node_record(
            node.name,
            node.op_type,
            node.domain,
            scope,
            op_class,
            macs * multiplier,
            flops * multiplier,
            bytes_read * multiplier,
            bytes_written * multiplier,
            weight_bytes * multiplier,
            self._compute_dtype(node, ins, outs, op.is_mac),
            tuple([t[0] if t is not None else None for t in outs]),
            self._attrs(node, ins, op.spatial) if node.attributes or op.spatial else {},
            node.inputs,
            node.outputs,
            multiplier,
            folded,
        )

    # ------------------------------------------------------------------------------ helpers

    def _fold(self, node: NodeRec, outs: list) -> bool:
        """True for a node a runtime evaluates once at load time (all inputs constant).

        Its outputs join the constants, charged at their stored precision: the output of a
        ``DequantizeLinear`` of an int8 weight costs its consumer one byte per element.
        Only called for operators :func:`_op_facts` calls foldable.
        """
        if node.subgraphs:
            return False
        const_bytes = self.const_bytes
        if node.op_type != "Constant":
            for i in node.inputs:  # most nodes stop at their first input
                if i and i not in const_bytes:
                    return False
        real_inputs = [i for i in node.inputs if i]
        if not real_inputs and node.op_type != "Constant":
            return False
        for name, t in zip(node.outputs, outs, strict=False):
            if not name or name in self.const_bytes:
                continue
            if node.op_type in _DQ and real_inputs:
                b = self.const_bytes[real_inputs[0]]
            elif t is not None and t[0] is not None and t[1] != NON_TENSOR:
                b = nbytes(_prod(t[0]), t[1])
            else:
                b = sum(self.const_bytes[i] for i in real_inputs)
            self.const_bytes[name] = b
        return True

    def _io_bytes(self, name: str, t: TType | None, node: NodeRec, key: str) -> int:
        """Bytes of tensor ``name`` of type ``t`` read or written by ``node``."""
        if t is not None and t[1] == NON_TENSOR:
            return 0
        if t is None or t[0] is None:
            if name not in self.shape_warned:
                self.shape_warned.add(name)
                self.warnings.append(
                    f"no shape for tensor '{name}' of node '{node.label}' ({key}): bytes "
                    "counted as 0"
                )
            return 0
        return nbytes(_prod(t[0]), t[1])

    def _activation_bytes(self, view: GraphView, name: str) -> int:
        """A subgraph tensor's bytes as a deployment stores it (:mod:`.precision`).

        A tensor of unknown shape (its size depends on input values, e.g. ``ConstantOfShape``
        of an input) counts 0 here and is recorded: the peak is then unknown, not that figure.
        """
        key = (id(view), name)
        b = self.act_bytes.get(key)
        if b is not None:  # a subgraph's liveness may ask twice
            return b
        b = self._stored_size(self.tables[id(view)].get(name), name)
        self.act_bytes[key] = b
        return b

    def _stored_size(self, t: TType | None, name: str) -> int:
        if t is None or t[0] is None:
            self.unsized.add(name)
            return 0
        if t[1] == NON_TENSOR:
            return 0
        return nbytes(_prod(t[0]), self.fused_types.get(name, t[1]))

    def _main_activations(self, view: GraphView) -> dict[str, int]:
        """Stored bytes of every activation of the main graph (what an arena holds), in the
        order they appear: the graph's inputs, then each node's outputs."""
        get = self.tables[id(view)].local.get  # the main graph's table has no parent
        const_bytes = self.const_bytes
        sizes: dict[str, int] = {}
        names = [vi.name for vi in view.proto.input[:]]
        for node in view.nodes:
            names.extend(node.outputs)
        for name in names:
            if name and name not in const_bytes and name not in sizes:
                sizes[name] = self._stored_size(get(name), name)
        return sizes

    def _sizes_of(
        self, main: GraphView, activations: dict[str, int]
    ) -> Callable[[GraphView], Callable[[str], int]]:
        """The liveness' size lookup per graph: the main graph's from its activation table,
        a subgraph's tensor by tensor."""

        def sizes_of(view: GraphView) -> Callable[[str], int]:
            if view is main:
                return activations.__getitem__
            return partial(self._activation_bytes, view)

        return sizes_of

    def _output_shape(self, view: GraphView, name: str) -> tuple[int, ...] | None:
        t = self.tables[id(view)].get(name)
        return t[0] if t is not None else None

    def _note_quantization(self, node: NodeRec, ins: list, outs: list) -> None:
        if node.op_type in _QOPERATORS:
            self.is_quantized = True
        elif node.op_type in _DQ:
            elem = ins[0][1] if ins and ins[0] is not None else 0
            if elem in QUANTIZED_TYPES:
                self.is_quantized = True
                if node.outputs:
                    self.dq_source[node.outputs[0]] = elem
        elif node.op_type == "QuantizeLinear":
            elem = outs[0][1] if outs and outs[0] is not None else 0
            if elem in QUANTIZED_TYPES:
                self.is_quantized = True

    def _compute_dtype(self, node: NodeRec, ins: list, outs: list, is_mac: bool) -> str:
        """Precision the node's arithmetic runs in.

        QOperator nodes run in their input's integer type.  In a QDQ model a float Conv /
        MatMul / Gemm whose activation and weight both come from ``DequantizeLinear`` of an
        integer tensor is what a runtime fuses into an integer kernel, so it is reported in
        the activation's quantized type.
        """
        if is_mac:
            if node.op_type == "DynamicQuantizeMatMul" and len(ins) > 1 and ins[1] is not None:
                return dtype_name(ins[1][1])
            if node.op_type in _QOPERATORS and ins and ins[0] is not None:
                return dtype_name(ins[0][1])
            a = self.dq_source.get(node.inputs[0]) if node.inputs else None
            w = self.dq_source.get(node.inputs[1]) if len(node.inputs) > 1 else None
            if a is not None and w is not None:
                return dtype_name(a)
        for t in ins:
            if t is not None and t[1] > 0:
                return dtype_name(t[1])
        for t in outs:
            if t is not None and t[1] > 0:
                return dtype_name(t[1])
        return "unknown"

    def _attrs(self, node: NodeRec, ins: list, spatial: bool) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        if node.attributes:
            kept = _KEPT_SET.intersection(node.attributes)
            if kept:
                for k in sorted(kept, key=_KEPT_ORDER.__getitem__) if len(kept) > 1 else kept:
                    v = node.attr(k)
                    attrs[k] = list(v) if isinstance(v, (list, tuple)) else v
        if not spatial:
            return attrs
        x = ins[0][0] if ins and ins[0] is not None else None
        n = len(x) - 2 if x is not None else None
        if "kernel_shape" not in attrs:
            w_index = 3 if node.op_type == "QLinearConv" else 1
            w = ins[w_index][0] if len(ins) > w_index and ins[w_index] is not None else None
            if w is not None:
                attrs["kernel_shape"] = list(w[2:])
                n = len(w) - 2
        if n is not None and n >= 0:
            attrs.setdefault("strides", [1] * n)
            attrs.setdefault("dilations", [1] * n)
            attrs.setdefault("pads", [0] * (2 * n))
        if "Pool" not in node.op_type:
            attrs.setdefault("group", 1)
        return attrs

    def _output_info(self, vi: onnx.ValueInfoProto, types: Types) -> TensorInfo:
        t = types.get(vi.name)
        dynamic: list[str] = []
        if vi.type.HasField("tensor_type") and vi.type.tensor_type.HasField("shape"):
            for axis, d in enumerate(vi.type.tensor_type.shape.dim):
                if not (d.HasField("dim_value") and d.dim_value > 0):
                    dynamic.append(d.dim_param or f"{vi.name}.{axis}")
        if t is None:
            return TensorInfo(vi.name, None, "unknown", tuple(dynamic))
        if not t[1] and vi.type.HasField("tensor_type") and vi.type.tensor_type.elem_type:
            t = (t[0], vi.type.tensor_type.elem_type)  # not inferred: the declared type
        dtype = "other" if t[1] == NON_TENSOR else dtype_name(t[1])
        return TensorInfo(vi.name, t[0], dtype, tuple(dynamic))


_prod = math.prod
_bits = ELEMENT_BITS.get


@dataclass(frozen=True, slots=True)
class _OpFacts:
    """What the walk needs to know of an operator, looked up once per (domain, op_type)."""

    key: str  # histogram key: "Conv", "com.microsoft:FusedConv"
    rule: OpRule | None
    is_mac: bool
    quant: bool  # a quantization operator (QOperator, QuantizeLinear, DequantizeLinear)
    spatial: bool  # attrs get kernel_shape, strides, dilations, pads defaults
    foldable: bool  # default domain, deterministic: all-constant inputs fold


@lru_cache(maxsize=4096)  # bounded: op types come from untrusted files
def _op_facts(domain: str, op_type: str) -> _OpFacts:
    rule = rule_for(domain, op_type)
    return _OpFacts(
        key=op_type if domain == "" else f"{domain}:{op_type}",
        rule=rule,
        is_mac=rule is not None and rule.is_mac,
        quant=op_type in _QUANT_OPS,
        spatial=op_type in _SPATIAL_OPS,
        foldable=domain == "" and op_type not in _NONDETERMINISTIC,
    )


_NODE_FIELDS = tuple(f.name for f in fields(NodeStats))


def _record_builder() -> Any:
    """``NodeStats(*values)`` in a third of the time: the frozen dataclass's ``__init__`` sets
    its 17 fields one ``object.__setattr__`` at a time, a large part of the walk's cost; this
    function, generated from the fields as ``dataclasses`` generates ``__init__``, sets the
    instance's ``__dict__`` to one dict display."""
    params = ", ".join(f"v{i}" for i in range(len(_NODE_FIELDS)))
    items = ", ".join(f"{name!r}: v{i}" for i, name in enumerate(_NODE_FIELDS))
    code = (
        f"def _node_record({params}):\n"
        f"    stats = new(cls)\n"
        f"    set_attr(stats, '__dict__', {{{items}}})\n"
        f"    return stats\n"
    )
    namespace: dict[str, Any] = {"new": object.__new__, "cls": NodeStats}
    namespace["set_attr"] = object.__setattr__
    exec(code, namespace)  # noqa: S102 - the code is built from the dataclass's own fields
    return namespace["_node_record"]


_node_record = _record_builder()


def _zeroed(s: NodeStats) -> NodeStats:
    return replace(s, macs=0, flops=0, bytes_read=0, bytes_written=0, weight_bytes=0, executions=0)


def _cap(warnings: list[str]) -> tuple[str, ...]:
    unique = list(dict.fromkeys(warnings))
    if len(unique) <= _MAX_WARNINGS:
        return tuple(unique)
    rest = len(unique) - _MAX_WARNINGS
    return tuple(unique[:_MAX_WARNINGS]) + (f"... and {rest} more warnings",)
