"""Shape rules for the tensors ONNX shape inference leaves without a shape.

Only what ``onnx.shape_inference.infer_shapes(data_prop=True)`` cannot do: the
``com.microsoft`` contrib operators (fused and QLinear forms), the mask of the old
``Dropout``, and ``MatMul`` in ``Loop`` bodies, whose loop-carried inputs ONNX leaves
unshaped.  Each rule has a test (tests/analysis/test_shape_rules.py); an operator without
a rule keeps an unknown shape and the analysis says so.

Each rule takes the node, its input types and the constant store, and returns one type per
output (or None where it cannot tell).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from onnx import TensorProto

from .consts import ConstStore
from .graph import GraphView, NodeRec
from .shapes import NON_TENSOR, TType, Types

Shape = tuple[int, ...]
Rule = Callable[[NodeRec, list, ConstStore], list]

BOOL = TensorProto.BOOL
INT64 = TensorProto.INT64
INT32 = TensorProto.INT32
FLOAT = TensorProto.FLOAT


def _s(t: TType | None) -> Shape | None:
    return t[0] if t is not None else None


def _e(t: TType | None) -> int:
    return t[1] if t is not None else 0


def _in(ins: list, i: int) -> TType | None:
    return ins[i] if i < len(ins) else None


def broadcast(*shapes: Shape | None) -> Shape | None:
    """Numpy-style broadcast of shapes; None if any is unknown or they do not broadcast."""
    if any(s is None for s in shapes):
        return None
    try:
        return tuple(int(d) for d in np.broadcast_shapes(*shapes))  # type: ignore[arg-type]
    except ValueError:
        return None


# ------------------------------------------------------------------------------ rule makers


def _same(elem_from: int | None = None, out_elem: int | None = None, n_out: int = 1) -> Rule:
    """Output(s) shaped like input 0; dtype from an input, a fixed type, or input 0."""

    def rule(node, ins, consts):
        shape = _s(_in(ins, 0))
        if out_elem is not None:
            elem = out_elem
        elif elem_from is not None:
            elem = _e(_in(ins, elem_from)) or _e(_in(ins, 0))
        else:
            elem = _e(_in(ins, 0))
        return [(shape, elem)] * n_out

    return rule


def _bcast(
    indices: tuple[int, ...] | None = None, out_elem: int | None = None, elem_from: int = 0
) -> Rule:
    """Numpy broadcast of the chosen inputs (all by default)."""

    def rule(node, ins, consts):
        chosen = range(len(ins)) if indices is None else indices
        shapes = [_s(_in(ins, i)) for i in chosen]
        shape = broadcast(*shapes) if shapes else None
        elem = out_elem if out_elem is not None else _e(_in(ins, elem_from))
        return [(shape, elem)]

    return rule


def _dropout(node, ins, consts):
    shape = _s(_in(ins, 0))
    return [(shape, _e(_in(ins, 0))), (shape, BOOL)]


def _quantize(node, ins, consts):
    zp = _in(ins, 2)
    elem = _e(zp) or int(node.attr("output_dtype", 0) or 0) or TensorProto.UINT8
    return [(_s(_in(ins, 0)), elem)]


def _dequantize(node, ins, consts):
    return [(_s(_in(ins, 0)), _e(_in(ins, 1)) or FLOAT)]


# --- convolution and pooling


def _spatial_out(node: NodeRec, in_spatial: Shape, kernel: Shape, ceil_mode: bool = False):
    n = len(in_spatial)
    strides = node.attr("strides") or [1] * n
    dilations = node.attr("dilations") or [1] * n
    pads = node.attr("pads") or [0] * (2 * n)
    auto_pad = node.attr("auto_pad", "NOTSET")
    out = []
    for i in range(n):
        s, d, k, x = strides[i], dilations[i], kernel[i], in_spatial[i]
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            out.append(-(-x // s))
        elif auto_pad == "VALID":
            out.append((x - d * (k - 1) - 1) // s + 1)
        else:
            span = x + pads[i] + pads[i + n] - d * (k - 1) - 1
            o = (-(-span // s) if ceil_mode else span // s) + 1
            if ceil_mode and (o - 1) * s >= x + pads[i]:
                o -= 1  # the last window must start inside the input or its left padding
            out.append(o)
    return tuple(out)


def _conv_like(
    x_index: int, w_index: int, out_elem_from: int | None = None, out_elem: int | None = None
) -> Rule:
    def rule(node, ins, consts):
        x, w = _s(_in(ins, x_index)), _s(_in(ins, w_index))
        if out_elem is not None:
            elem = out_elem
        elif out_elem_from is not None:
            elem = _e(_in(ins, out_elem_from))
        else:
            elem = _e(_in(ins, x_index))
        if x is None or w is None or len(x) < 3:
            return [(None, elem)]
        kernel = tuple(node.attr("kernel_shape") or w[2:])
        return [((x[0], w[0]) + _spatial_out(node, x[2:], kernel), elem)]

    return rule


def _pool(x_index: int = 0) -> Rule:
    def rule(node, ins, consts):
        x = _s(_in(ins, x_index))
        elem = _e(_in(ins, x_index))
        kernel = node.attr("kernel_shape")
        if x is None or len(x) < 3 or not kernel:
            return [(None, elem)]
        ceil_mode = bool(node.attr("ceil_mode", 0))
        return [(x[:2] + _spatial_out(node, x[2:], tuple(kernel), ceil_mode), elem)]

    return rule


def _global_pool(x_index: int = 0) -> Rule:
    def rule(node, ins, consts):
        x = _s(_in(ins, x_index))
        elem = _e(_in(ins, x_index))
        if x is None or len(x) < 3:
            return [(None, elem)]
        if node.attr("channels_last", 0):
            return [((x[0],) + (1,) * (len(x) - 2) + (x[-1],), elem)]
        return [(x[:2] + (1,) * (len(x) - 2), elem)]

    return rule


# --- matrix products


def matmul_shape(a: Shape | None, b: Shape | None) -> Shape | None:
    if a is None or b is None or not a or not b:
        return None
    a1, b1 = len(a) == 1, len(b) == 1
    a2 = (1,) + a if a1 else a
    b2 = b + (1,) if b1 else b
    if a2[-1] != b2[-2]:
        return None
    batch = broadcast(a2[:-2], b2[:-2])
    if batch is None:
        return None
    out = batch + (a2[-2], b2[-1])
    if a1:
        out = out[:-2] + out[-1:]
    if b1:
        out = out[:-1]
    return out


def _matmul(
    a_index: int = 0,
    b_index: int = 1,
    out_elem_from: int | None = None,
    out_elem: int | None = None,
) -> Rule:
    def rule(node, ins, consts):
        a, b = _s(_in(ins, a_index)), _s(_in(ins, b_index))
        if node.attr("transA", 0) and a is not None and len(a) >= 2:
            a = a[:-2] + (a[-1], a[-2])
        if node.attr("transB", 0) and b is not None and len(b) >= 2:
            b = b[:-2] + (b[-1], b[-2])
        if out_elem is not None:
            elem = out_elem
        elif out_elem_from is not None:
            elem = _e(_in(ins, out_elem_from))
        else:
            elem = _e(_in(ins, a_index))
        return [(matmul_shape(a, b), elem)]

    return rule


def _gemm(node, ins, consts):
    a, b = _s(_in(ins, 0)), _s(_in(ins, 1))
    elem = _e(_in(ins, 0))
    if a is None or b is None or len(a) != 2 or len(b) != 2:
        return [(None, elem)]
    m = a[1] if node.attr("transA", 0) else a[0]
    n = b[0] if node.attr("transB", 0) else b[1]
    return [((m, n), elem)]


def _matmul_nbits(node, ins, consts):
    a = _s(_in(ins, 0))
    n = node.attr("N")
    return [((a[:-1] + (n,)) if a is not None and n else None, _e(_in(ins, 0)))]


def _ms_attention(node, ins, consts):
    x, w = _s(_in(ins, 0)), _s(_in(ins, 1))
    elem = _e(_in(ins, 0))
    sizes = node.attr("qkv_hidden_sizes")
    if x is None or len(x) != 3:
        return [(None, elem)]
    if sizes:
        hidden = sizes[2]
    elif w is not None and len(w) == 2:
        hidden = w[1] // 3
    else:
        return [(None, elem)]
    return [((x[0], x[1], hidden), elem)]


def _ms_mha(node, ins, consts):
    q, v = _s(_in(ins, 0)), _s(_in(ins, 2))
    elem = _e(_in(ins, 0))
    if q is None or len(q) != 3:
        return [(None, elem)]
    hidden = q[2]
    if v is not None and len(v) == 3:
        hidden = v[2]
    elif v is not None and len(v) == 4:
        hidden = v[1] * v[3]
    return [((q[0], q[1], hidden), elem)]


# --- data movement


def _concat_shapes(shapes: list[Shape | None], axis: int) -> Shape | None:
    if not shapes or any(s is None for s in shapes):
        return None
    first = shapes[0]
    rank = len(first)  # type: ignore[arg-type]
    if axis < 0:
        axis += rank
    total = sum(s[axis] for s in shapes)  # type: ignore[index]
    return first[:axis] + (total,) + first[axis + 1 :]  # type: ignore[index]


def _qlinear_concat(node, ins, consts):
    shapes = [_s(ins[i]) for i in range(2, len(ins), 3)]
    return [(_concat_shapes(shapes, node.attr("axis", 0)), _e(_in(ins, 1)) or _e(_in(ins, 2)))]


RULES: dict[tuple[str, str], Rule] = {
    # ONNX leaves the optional mask of the opset 7..9 Dropout (light models) unshaped.
    ("", "Dropout"): _dropout,
    # Loop bodies: ONNX does not pass the loop-carried shapes into the body.
    ("", "MatMul"): _matmul(),
}

_MS = "com.microsoft"
RULES.update(
    {
        (_MS, "FusedConv"): _conv_like(0, 1),
        (_MS, "QLinearConv"): _conv_like(0, 3, out_elem_from=7),
        (_MS, "FusedGemm"): _gemm,
        (_MS, "FusedMatMul"): _matmul(),
        (_MS, "MatMulIntegerToFloat"): _matmul(out_elem=FLOAT),
        (_MS, "DynamicQuantizeMatMul"): _matmul(out_elem=FLOAT),
        (_MS, "MatMulNBits"): _matmul_nbits,
        (_MS, "Attention"): _ms_attention,
        (_MS, "MultiHeadAttention"): _ms_mha,
        (_MS, "QLinearAdd"): _bcast(indices=(0, 3), elem_from=0),
        (_MS, "QLinearMul"): _bcast(indices=(0, 3), elem_from=0),
        (_MS, "QLinearSigmoid"): _same(),
        (_MS, "QLinearLeakyRelu"): _same(),
        (_MS, "QLinearSoftmax"): _same(),
        (_MS, "QLinearAveragePool"): _pool(),
        (_MS, "QLinearGlobalAveragePool"): _global_pool(),
        (_MS, "QLinearConcat"): _qlinear_concat,
        (_MS, "QuantizeLinear"): _quantize,
        (_MS, "DequantizeLinear"): _dequantize,
        (_MS, "Gelu"): _same(),
        (_MS, "FastGelu"): _same(),
        (_MS, "BiasGelu"): _same(),
        (_MS, "QuickGelu"): _same(),
        (_MS, "BiasAdd"): _same(),
        (_MS, "SkipLayerNormalization"): _same(),
        (_MS, "SkipSimplifiedLayerNormalization"): _same(),
        (_MS, "SimplifiedLayerNormalization"): _same(),
        (_MS, "LayerNormalization"): _same(),
    }
)


# ------------------------------------------------------------------------------ completion


def complete_types(
    view: GraphView, tables: dict[int, Types], consts: ConstStore
) -> tuple[set[str], bool]:
    """Fill the unknown output types of ``view`` (and subgraphs) with the rules above.

    Returns the names of the main-graph tensors it filled, so the caller can hand them back
    to ONNX inference for the operators downstream, and whether some output of ``view``'s
    own nodes is still unknown (only then is another inference pass worth it).
    """
    types = tables[id(view)]
    known = types.known
    get = types.local.get if types.parent is None else types.get
    filled: set[str] = set()
    unresolved: list[str] = []
    for node in view.nodes:
        if node.subgraphs:
            _complete_control(node, types, tables, consts)
        missing = None
        for o in node.outputs:  # inline ``known``: most outputs are, and this runs for all
            t = get(o)
            if (t is None or (t[0] is None and t[1] != NON_TENSOR)) and o:
                missing = [o] if missing is None else [*missing, o]
        if missing is None:
            continue
        unresolved.extend(missing)
        ins = [types.get(i) if i else None for i in node.inputs]
        outs = None
        if node.subgraphs:
            outs = _control_outputs(node, ins, tables, consts)
        else:
            rule = RULES.get((node.domain, node.op_type))
            if rule is not None:
                try:
                    outs = rule(node, ins, consts)
                except Exception:  # a malformed attribute must never crash the analysis
                    outs = None
        if not outs:
            continue
        for name, t in zip(node.outputs, outs, strict=False):
            if not name or t is None or types.known(name):
                continue
            if t[0] is None and t[1] != NON_TENSOR:
                old = types.local.get(name)
                if old is None or not old[1]:
                    types.local[name] = t  # at least the element type
                continue
            if any(d < 0 for d in (t[0] or ())):
                continue
            types.local[name] = t
            filled.add(name)
    return filled, any(not known(o) for o in unresolved)


def _complete_control(node: NodeRec, types: Types, tables: dict[int, Types], consts) -> None:
    """Give a ``Loop``/``Scan`` body the input types its outer inputs imply, then complete it."""
    ins = [types.get(i) if i else None for i in node.inputs]
    for attr_name, sub in node.subgraphs:
        sub_types = tables[id(sub)]
        formal = [vi.name for vi in sub.proto.input[:]]
        if node.op_type == "Loop" and attr_name == "body":
            actual: list[TType | None] = [((), INT64), ((), BOOL)] + ins[2:]
        elif node.op_type == "Scan" and attr_name == "body":
            n_scan = node.attr("num_scan_inputs", 0)
            n_state = len(ins) - n_scan
            axes = node.attr("scan_input_axes") or [0] * n_scan
            actual = list(ins[:n_state])
            for k, t in enumerate(ins[n_state:]):
                s = _s(t)
                if s is None:
                    actual.append((None, _e(t)))
                    continue
                a = axes[k] + len(s) if axes[k] < 0 else axes[k]
                actual.append((s[:a] + s[a + 1 :], _e(t)))
        else:
            actual = []
        for name, t in zip(formal, actual, strict=False):
            if t is not None and t[0] is not None and not sub_types.known(name):
                sub_types.local[name] = t
        complete_types(sub, tables, consts)


def loop_trip_count(node: NodeRec, consts: ConstStore) -> int | None:
    """The constant trip count of a ``Loop`` (an upper bound if a condition can stop it)."""
    if node.inputs and node.inputs[0]:
        v = consts.ints(node.inputs[0])
        if v is not None and len(v) == 1 and 0 <= v[0] < 2**31:
            return v[0]
    return None


def scan_iterations(node: NodeRec, ins: list) -> int | None:
    n_scan = node.attr("num_scan_inputs", 0)
    if n_scan <= 0 or len(ins) < n_scan:
        return None
    first = _s(ins[len(ins) - n_scan])
    axes = node.attr("scan_input_axes") or [0]
    if first is None:
        return None
    a = axes[0] + len(first) if axes[0] < 0 else axes[0]
    return first[a] if a < len(first) else None


def _control_outputs(node: NodeRec, ins: list, tables, consts) -> list | None:
    subs = dict(node.subgraphs)
    if node.op_type == "If":
        branch = subs.get("then_branch") or subs.get("else_branch")
        if branch is None:
            return None
        bt = tables[id(branch)]
        return [bt.get(vi.name) for vi in branch.proto.output[:]]
    body = subs.get("body")
    if body is None:
        return None
    bt = tables[id(body)]
    body_out = [bt.get(vi.name) for vi in body.proto.output[:]]
    if node.op_type == "Loop":
        carried = len(node.inputs) - 2
        trips = loop_trip_count(node, consts)
        outs = list(body_out[1 : 1 + carried])
        for t in body_out[1 + carried :]:
            s = _s(t)
            outs.append(((trips,) + s if s is not None and trips is not None else None, _e(t)))
        return outs
    if node.op_type == "Scan":
        n_scan = node.attr("num_scan_inputs", 0)
        n_state = len(node.inputs) - n_scan
        iters = scan_iterations(node, ins)
        outs = list(body_out[:n_state])
        axes = node.attr("scan_output_axes") or [0] * (len(body_out) - n_state)
        for k, t in enumerate(body_out[n_state:]):
            s = _s(t)
            if s is None or iters is None:
                outs.append((None, _e(t)))
                continue
            a = axes[k] + len(s) + 1 if axes[k] < 0 else axes[k]
            outs.append((s[:a] + (iters,) + s[a:], _e(t)))
        return outs
    return None
