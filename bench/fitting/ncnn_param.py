"""Rebuild an ncnn ``.param`` text graph as an ONNX model edgegate's analysis can cost.

ncnn's benchmark networks (Tencent/ncnn ``benchmark/*.param``) hold the exact layer list of
each network in ncnn's text format; the weights are not needed (benchncnn runs random ones),
so the rebuilt model carries zero weights of the right shapes.  Shapes, groups, strides and
pads follow the param file; each ncnn layer becomes the ONNX node(s) a runtime would run for
it.  A layer type without a rule here is *reported* (``Converted.unsupported``), together with
every layer that depends on it, never silently dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 24
F32 = TensorProto.FLOAT


class ParamError(ValueError):
    """The param file is malformed; the message names the file and line."""


@dataclass(frozen=True)
class Layer:
    type: str
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    params: dict[int, object]
    line: int

    def get(self, key: int, default: object = None) -> object:
        return self.params.get(key, default)

    def int(self, key: int, default: int = 0) -> int:
        return int(self.params.get(key, default))  # type: ignore[arg-type]

    def float(self, key: int, default: float = 0.0) -> float:
        return float(self.params.get(key, default))  # type: ignore[arg-type]


@dataclass
class Converted:
    model: onnx.ModelProto
    unsupported: list[str] = field(default_factory=list)  # "name (Type): why"
    input_shape: tuple[int, ...] = ()


def _value(text: str) -> object:
    if any(c in text for c in ".eE") and not text.lstrip("-").isdigit():
        return float(text)
    return int(text)


def parse(text: str, source: str = "<param>") -> list[Layer]:
    """The layers of an ncnn param file (magic 7767517, counts line, one layer a line)."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines or lines[0].strip() != "7767517":
        raise ParamError(f"{source}: line 1: expected the ncnn magic 7767517")
    layers = []
    for number, line in enumerate(lines[2:], start=3):
        tok = line.split()
        try:
            n_in, n_out = int(tok[2]), int(tok[3])
            ins = tuple(tok[4 : 4 + n_in])
            outs = tuple(tok[4 + n_in : 4 + n_in + n_out])
            params: dict[int, object] = {}
            for item in tok[4 + n_in + n_out :]:
                key_text, _, val = item.partition("=")
                key = int(key_text)
                if key <= -23300:  # an array: -233xx=count,v1,v2...
                    values = [_value(v) for v in val.split(",")]
                    params[-key - 23300] = values[1:]
                else:
                    params[key] = _value(val)
        except (IndexError, ValueError) as exc:
            raise ParamError(f"{source}: line {number}: cannot parse layer: {exc}") from exc
        layers.append(Layer(tok[0], tok[1], ins, outs, params, number))
    return layers


class _Builder:
    """Turns layers into nodes; tracks each blob's ONNX shape and ncnn rank."""

    def __init__(self, source: str):
        self.source = source
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.shape: dict[str, tuple[int, ...]] = {}
        self.rank: dict[str, int] = {}  # ncnn dims of the blob (1, 2, 3)
        self.dtype: dict[str, int] = {}
        self.alias: dict[str, str] = {}
        self.count = 0

    def blob(self, name: str) -> str:
        while name in self.alias:
            name = self.alias[name]
        return name

    def fresh(self, base: str) -> str:
        self.count += 1
        return f"{base}__{self.count}"

    def const(self, base: str, array: np.ndarray) -> str:
        name = self.fresh(base)
        self.inits.append(numpy_helper.from_array(array, name))
        return name

    def node(
        self,
        op: str,
        ins: list[str],
        out: str,
        shape,
        rank: int,
        domain: str = "",
        dtype: int = F32,
        **kw,
    ) -> str:
        self.nodes.append(helper.make_node(op, ins, [out], name=out, domain=domain, **kw))
        self.shape[out] = tuple(int(d) for d in shape)
        self.rank[out] = rank
        self.dtype[out] = dtype
        return out


def _conv_out(size: int, k: int, s: int, d: int, p0: int, p1: int) -> int:
    return (size + p0 + p1 - d * (k - 1) - 1) // s + 1


def _same_pads(size: int, k: int, s: int, d: int, upper: bool) -> tuple[int, int]:
    out = math.ceil(size / s)
    total = max(0, (out - 1) * s + d * (k - 1) + 1 - size)
    small, big = total // 2, total - total // 2
    return (small, big) if upper else (big, small)


def _activation(b: _Builder, layer: Layer, x: str, out: str, kind: int, args: list) -> str:
    shape, rank = b.shape[x], b.rank[x]
    if kind == 0:
        return x
    if kind == 1:
        slope = float(args[0]) if args else 0.0
        if slope:
            return b.node("LeakyRelu", [x], out, shape, rank, alpha=slope)
        return b.node("Relu", [x], out, shape, rank)
    if kind == 2:
        return b.node("LeakyRelu", [x], out, shape, rank, alpha=float(args[0]) if args else 0.1)
    if kind == 3:
        lo = b.const("min", np.array(float(args[0]) if args else 0.0, np.float32))
        hi = b.const("max", np.array(float(args[1]) if len(args) > 1 else 6.0, np.float32))
        return b.node("Clip", [x, lo, hi], out, shape, rank)
    if kind == 4:
        return b.node("Sigmoid", [x], out, shape, rank)
    if kind == 5:
        return b.node("Mish", [x], out, shape, rank)
    if kind == 6:
        return b.node("HardSwish", [x], out, shape, rank)
    raise _Unsupported(f"activation_type {kind}")


class _Unsupported(Exception):
    pass


def _window(layer: Layer) -> tuple[int, ...]:
    """Kernel, dilation, stride (h, w each) and pads (top, left, bottom, right) of a
    (de)convolution; an ``_h`` key defaults to its ``_w`` key, pads to the left pad."""
    kw = layer.int(1)
    dw = layer.int(2, 1)
    sw = layer.int(3, 1)
    pl = layer.int(4, 0)
    pt = layer.int(14, pl)
    return (
        layer.int(11, kw), kw, layer.int(12, dw), dw, layer.int(13, sw), sw,
        pt, pl, layer.int(16, pt), layer.int(15, pl),
    )  # fmt: skip


def _conv(b: _Builder, layer: Layer, depthwise: bool, int8: bool) -> None:
    x = b.blob(layer.inputs[0])
    n, cin, h, w = b.shape[x]
    cout = layer.int(0)
    kh, kw, dh, dw, sh, sw, pt, pl, pb, pr = _window(layer)
    group = layer.int(7, 1) if depthwise else 1
    if pl in (-233, -234):
        pt, pb = _same_pads(h, kh, sh, dh, pl == -233)
        pl, pr = _same_pads(w, kw, sw, dw, pl == -233)
    if min(pl, pr, pt, pb) < 0:
        raise _Unsupported(f"pad value {(pl, pr, pt, pb)}")
    wsize = layer.int(6)
    if cout * (cin // group) * kh * kw != wsize:
        raise _Unsupported(
            f"weight_data_size {wsize} != {cout}x{cin // group}x{kh}x{kw} (input {cin} channels)"
        )
    oh = _conv_out(h, kh, sh, dh, pt, pb)
    ow = _conv_out(w, kw, sw, dw, pl, pr)
    attrs = dict(kernel_shape=[kh, kw], strides=[sh, sw], dilations=[dh, dw], pads=[pt, pl, pb, pr])
    if group > 1:
        attrs["group"] = group
    out = b.blob(layer.outputs[0])
    act = layer.int(9, 0)
    conv_out = b.fresh(out) if act else out
    wshape = (cout, cin // group, kh, kw)
    if int8:
        scale = b.const("scale", np.array(1.0, np.float32))
        zero = b.const("zp", np.array(0, np.int8))
        xq = b.node(
            "QuantizeLinear",
            [x, scale, zero],
            b.fresh(out + "_q"),
            (n, cin, h, w),
            3,
            dtype=TensorProto.INT8,
        )
        wq = b.const(layer.name + "_w", np.zeros(wshape, np.int8))
        acc = b.node(
            "ConvInteger",
            [xq, wq],
            b.fresh(out + "_acc"),
            (n, cout, oh, ow),
            3,
            dtype=TensorProto.INT32,
            **attrs,
        )
        b.node("Cast", [acc], conv_out, (n, cout, oh, ow), 3, to=F32)
    else:
        ins = [x, b.const(layer.name + "_w", np.zeros(wshape, np.float32))]
        if layer.int(5, 0):
            ins.append(b.const(layer.name + "_b", np.zeros(cout, np.float32)))
        b.node("Conv", ins, conv_out, (n, cout, oh, ow), 3, **attrs)
    if act:
        _activation(b, layer, conv_out, out, act, list(layer.get(10, []) or []))


def _deconv(b: _Builder, layer: Layer, depthwise: bool) -> None:
    x = b.blob(layer.inputs[0])
    n, cin, h, w = b.shape[x]
    cout = layer.int(0)
    kh, kw, dh, dw, sh, sw, pt, pl, pb, pr = _window(layer)
    group = layer.int(7, 1) if depthwise else 1
    oh = (h - 1) * sh + dh * (kh - 1) + 1 - pt - pb
    ow = (w - 1) * sw + dw * (kw - 1) + 1 - pl - pr
    wshape = (cin, cout // group, kh, kw)
    ins = [x, b.const(layer.name + "_w", np.zeros(wshape, np.float32))]
    if layer.int(5, 0):
        ins.append(b.const(layer.name + "_b", np.zeros(cout, np.float32)))
    out = b.blob(layer.outputs[0])
    act = layer.int(9, 0)
    conv_out = b.fresh(out) if act else out
    b.node(
        "ConvTranspose",
        ins,
        conv_out,
        (n, cout, oh, ow),
        3,
        kernel_shape=[kh, kw],
        strides=[sh, sw],
        dilations=[dh, dw],
        pads=[pt, pl, pb, pr],
        group=group,
    )
    if act:
        _activation(b, layer, conv_out, out, act, list(layer.get(10, []) or []))


def _pool(b: _Builder, layer: Layer) -> None:
    x = b.blob(layer.inputs[0])
    n, c, h, w = b.shape[x]
    out = b.blob(layer.outputs[0])
    kind = layer.int(0, 0)
    if layer.int(4, 0):  # global pooling: ncnn gives a 1-D blob of c
        op = "GlobalMaxPool" if kind == 0 else "GlobalAveragePool"
        b.node(op, [x], out, (n, c, 1, 1), 1)
        return
    if layer.int(7, 0):
        raise _Unsupported("adaptive pooling")
    kw = layer.int(1)
    kh = layer.int(11, kw)
    sw = layer.int(2, 1)
    sh = layer.int(12, sw)
    pl = layer.int(3, 0)
    pr = layer.int(14, pl)
    pt = layer.int(13, pl)
    pb = layer.int(15, pt)
    mode = layer.int(5, 0)
    ceil = 0
    if mode == 0:  # full padding: the window covers the whole input, like ceil_mode
        ceil = 1
    elif mode in (2, 3):
        pt, pb = _same_pads(h, kh, sh, 1, mode == 2)
        pl, pr = _same_pads(w, kw, sw, 1, mode == 2)
    oh = _conv_out(h, kh, sh, 1, pt, pb) if not ceil else (h + pt + pb - kh + sh - 1) // sh + 1
    ow = _conv_out(w, kw, sw, 1, pl, pr) if not ceil else (w + pl + pr - kw + sw - 1) // sw + 1
    op = "MaxPool" if kind == 0 else "AveragePool"
    attrs = dict(kernel_shape=[kh, kw], strides=[sh, sw], pads=[pt, pl, pb, pr], ceil_mode=ceil)
    if kind == 1:
        attrs["count_include_pad"] = layer.int(6, 0)
    b.node(op, [x], out, (n, c, oh, ow), 3, **attrs)


def _inner_product(b: _Builder, layer: Layer) -> None:
    x = b.blob(layer.inputs[0])
    shape = b.shape[x]
    k = math.prod(shape[1:])
    out = b.blob(layer.outputs[0])
    if len(shape) != 2:
        flat = b.node("Flatten", [x], b.fresh(out + "_flat"), (1, k), 1, axis=1)
    else:
        flat = x
    nout = layer.int(0)
    if nout * k != layer.int(2):
        raise _Unsupported(f"weight_data_size {layer.int(2)} != {nout}x{k}")
    ins = [flat, b.const(layer.name + "_w", np.zeros((nout, k), np.float32))]
    if layer.int(1, 0):
        ins.append(b.const(layer.name + "_b", np.zeros(nout, np.float32)))
    act = layer.int(9, 0)
    g_out = b.fresh(out) if act else out
    b.node("Gemm", ins, g_out, (1, nout), 1, transB=1)
    if act:
        _activation(b, layer, g_out, out, act, list(layer.get(10, []) or []))


def _broadcastable(b: _Builder, a: str, c: str) -> tuple[str, str, tuple[int, ...], int]:
    """Inputs reshaped the way ncnn broadcasts them; the result's shape and rank."""
    sa, sc = b.shape[a], b.shape[c]
    if len(sa) == len(sc):
        shape = tuple(max(x, y) for x, y in zip(sa, sc, strict=True))
        return a, c, shape, max(b.rank[a], b.rank[c])
    big, small = (a, c) if len(sa) > len(sc) else (c, a)
    sb, ss = b.shape[big], b.shape[small]
    if len(sb) == 4 and math.prod(ss) in (sb[1], 1):  # a per-channel vector
        target = (1, math.prod(ss), 1, 1)
        shaped = b.const("shape", np.array(target, np.int64))
        small2 = b.node("Reshape", [small, shaped], b.fresh(small + "_r"), target, 1)
        return (big, small2, sb, 3) if big == a else (small2, big, sb, 3)
    raise _Unsupported(f"broadcast of {sa} with {sc}")


_BINARY = {0: "Add", 1: "Sub", 2: "Mul", 3: "Div", 4: "Max", 5: "Min", 6: "Pow"}


def _binary(b: _Builder, layer: Layer) -> None:
    op_type = layer.int(0, 0)
    out = b.blob(layer.outputs[0])
    a = b.blob(layer.inputs[0])
    if layer.int(1, 0) or len(layer.inputs) == 1:  # with a scalar
        if op_type not in _BINARY:
            raise _Unsupported(f"BinaryOp op_type {op_type}")
        scalar = b.const("scalar", np.array(layer.float(2, 0.0), np.float32))
        b.node(_BINARY[op_type], [a, scalar], out, b.shape[a], b.rank[a])
        return
    c = b.blob(layer.inputs[1])
    if op_type in (7, 8):  # reversed sub / div
        a, c = c, a
        op_type -= 6
    if op_type not in _BINARY:
        raise _Unsupported(f"BinaryOp op_type {op_type}")
    x, y, shape, rank = _broadcastable(b, a, c)
    b.node(_BINARY[op_type], [x, y], out, shape, rank)


def _eltwise(b: _Builder, layer: Layer) -> None:
    ins = [b.blob(i) for i in layer.inputs]
    out = b.blob(layer.outputs[0])
    op = {0: "Mul", 1: "Sum", 2: "Max"}.get(layer.int(0, 1))
    if op is None:
        raise _Unsupported(f"Eltwise op_type {layer.int(0)}")
    coeffs = list(layer.get(1, []) or [])
    if coeffs and any(float(v) != 1.0 for v in coeffs):
        raise _Unsupported(f"Eltwise coefficients {coeffs}")
    if op == "Mul" and len(ins) > 2:
        raise _Unsupported("Eltwise product of more than two inputs")
    b.node(op, ins, out, b.shape[ins[0]], b.rank[ins[0]])


def _unary(op: str, **attrs):
    def build(b: _Builder, layer: Layer) -> None:
        x = b.blob(layer.inputs[0])
        b.node(op, [x], b.blob(layer.outputs[0]), b.shape[x], b.rank[x], **attrs)

    return build


def _relu(b: _Builder, layer: Layer) -> None:
    x = b.blob(layer.inputs[0])
    _activation(b, layer, x, b.blob(layer.outputs[0]), 1, [layer.float(0, 0.0)])


def _clip(b: _Builder, layer: Layer) -> None:
    x = b.blob(layer.inputs[0])
    _activation(b, layer, x, b.blob(layer.outputs[0]), 3, [layer.float(0), layer.float(1)])


def _hard_sigmoid(b: _Builder, layer: Layer) -> None:
    x = b.blob(layer.inputs[0])
    b.node(
        "HardSigmoid",
        [x],
        b.blob(layer.outputs[0]),
        b.shape[x],
        b.rank[x],
        alpha=layer.float(0, 0.2),
        beta=layer.float(1, 0.5),
    )


def _concat(b: _Builder, layer: Layer) -> None:
    ins = [b.blob(i) for i in layer.inputs]
    axis = layer.int(0, 0) + 1
    shape = list(b.shape[ins[0]])
    if axis >= len(shape):
        raise _Unsupported(f"Concat axis {axis - 1} of a rank-{len(shape)} blob")
    shape[axis] = sum(b.shape[i][axis] for i in ins)
    b.node("Concat", ins, b.blob(layer.outputs[0]), shape, b.rank[ins[0]], axis=axis)


def _split_sizes(total: int, slices: list, count: int) -> list[int]:
    sizes: list[int] = []
    for k in range(count):
        v = int(slices[k]) if k < len(slices) else -233
        if v == -233:
            remaining = total - sum(sizes)
            v = remaining // (count - k)
        sizes.append(v)
    return sizes


def _slice(b: _Builder, layer: Layer) -> None:
    x = b.blob(layer.inputs[0])
    axis = layer.int(1, 0) + 1
    shape = b.shape[x]
    sizes = _split_sizes(shape[axis], list(layer.get(0, []) or []), len(layer.outputs))
    outs = [b.blob(o) for o in layer.outputs]
    split = b.const("split", np.array(sizes, np.int64))
    b.nodes.append(helper.make_node("Split", [x, split], outs, name=outs[0], axis=axis))
    for o, size in zip(outs, sizes, strict=True):
        s = list(shape)
        s[axis] = size
        b.shape[o] = tuple(s)
        b.rank[o] = b.rank[x]
        b.dtype[o] = F32


def _crop(b: _Builder, layer: Layer) -> None:
    x = b.blob(layer.inputs[0])
    shape = list(b.shape[x])
    starts, ends, axes = (list(layer.get(k, []) or []) for k in (9, 10, 11))
    if len(layer.inputs) != 1:
        raise _Unsupported("Crop to a reference blob")
    if not starts:  # the older form: offsets 0-2 and output sizes 3-5 as (w, h, c)
        starts, ends, axes = [], [], []
        for axis, (off_key, size_key) in zip((2, 1, 0), ((0, 3), (1, 4), (2, 5)), strict=True):
            off, size = layer.int(off_key, 0), layer.int(size_key, 0)
            if off or size:
                starts.append(off)
                ends.append(off + size if size > 0 else -233)
                axes.append(axis)
    onnx_axes = [int(a) + 1 for a in axes]
    out_shape = list(shape)
    for s, e, a in zip(starts, ends, onnx_axes, strict=True):
        e = shape[a] if int(e) == -233 else int(e)
        e = e if e >= 0 else shape[a] + e
        out_shape[a] = e - int(s)
    arr = [
        b.const(n, np.array(v, np.int64))
        for n, v in (
            ("starts", starts),
            ("ends", [out_shape[a] + int(s) for s, a in zip(starts, onnx_axes, strict=True)]),
            ("axes", onnx_axes),
        )
    ]
    b.node("Slice", [x, *arr], b.blob(layer.outputs[0]), out_shape, b.rank[x])


def _shuffle(b: _Builder, layer: Layer) -> None:
    x = b.blob(layer.inputs[0])
    n, c, h, w = b.shape[x]
    g = layer.int(0, 1)
    if layer.int(1, 0):
        g = c // g
    out = b.blob(layer.outputs[0])
    s1 = b.const("shape", np.array([n, g, c // g, h, w], np.int64))
    r1 = b.node("Reshape", [x, s1], b.fresh(out + "_r"), (n, g, c // g, h, w), 3)
    t = b.node(
        "Transpose", [r1], b.fresh(out + "_t"), (n, c // g, g, h, w), 3, perm=[0, 2, 1, 3, 4]
    )
    s2 = b.const("shape", np.array([n, c, h, w], np.int64))
    b.node("Reshape", [t, s2], out, (n, c, h, w), 3)


_PERMUTE3 = {0: "whc", 1: "hwc", 2: "wch", 3: "cwh", 4: "hcw", 5: "chw"}


def _permute(b: _Builder, layer: Layer) -> None:
    x = b.blob(layer.inputs[0])
    if b.rank[x] == 2 and len(b.shape[x]) == 3:
        perm = [0, 2, 1] if layer.int(0, 0) == 1 else [0, 1, 2]
        shape = tuple(b.shape[x][p] for p in perm)
        b.node("Transpose", [x], b.blob(layer.outputs[0]), shape, 2, perm=perm)
        return
    if b.rank[x] != 3:
        raise _Unsupported(f"Permute of a {b.rank[x]}-D blob")
    order = _PERMUTE3[layer.int(0, 0)]
    axis = {"c": 1, "h": 2, "w": 3}
    perm = [0] + [axis[order[2]], axis[order[1]], axis[order[0]]]
    shape = tuple(b.shape[x][p] for p in perm)
    b.node("Transpose", [x], b.blob(layer.outputs[0]), shape, 3, perm=perm)


def _flatten(b: _Builder, layer: Layer) -> None:
    x = b.blob(layer.inputs[0])
    size = math.prod(b.shape[x][1:])
    b.node("Flatten", [x], b.blob(layer.outputs[0]), (1, size), 1, axis=1)


def _reshape(b: _Builder, layer: Layer) -> None:
    x = b.blob(layer.inputs[0])
    total = math.prod(b.shape[x][1:])
    w, h, c = layer.int(0, -233), layer.int(1, -233), layer.int(2, -233)
    dims = [v for v in (c, h, w) if v != -233]
    if layer.get(11) is not None:
        raise _Unsupported("4-D Reshape")
    known = math.prod(v for v in dims if v > 0)
    dims = [total // known if v == -1 else v for v in dims]
    if 0 in dims or math.prod(dims) != total:
        raise _Unsupported(f"Reshape to {dims} of {total} elements")
    target = (1, *dims)
    shaped = b.const("shape", np.array(target, np.int64))
    b.node("Reshape", [x, shaped], b.blob(layer.outputs[0]), target, len(dims))


def _softmax(b: _Builder, layer: Layer) -> None:
    x = b.blob(layer.inputs[0])
    axis = layer.int(0, 0) + 1 if b.rank[x] > 1 else 1
    b.node("Softmax", [x], b.blob(layer.outputs[0]), b.shape[x], b.rank[x], axis=axis)


def _interp(b: _Builder, layer: Layer) -> None:
    x = b.blob(layer.inputs[0])
    n, c, h, w = b.shape[x]
    kind = layer.int(0, 0)
    mode = {1: "nearest", 2: "linear", 3: "cubic"}.get(kind)
    if mode is None or len(layer.inputs) != 1:
        raise _Unsupported(f"Interp resize_type {kind}")
    oh, ow = layer.int(3, 0), layer.int(4, 0)
    if not (oh and ow):
        oh, ow = int(h * layer.float(1, 1.0)), int(w * layer.float(2, 1.0))
    sizes = b.const("sizes", np.array([n, c, oh, ow], np.int64))
    b.node("Resize", [x, "", "", sizes], b.blob(layer.outputs[0]), (n, c, oh, ow), 3, mode=mode)


def _lrn(b: _Builder, layer: Layer) -> None:
    x = b.blob(layer.inputs[0])
    if layer.int(0, 0) != 0:
        raise _Unsupported("LRN within channel")
    b.node(
        "LRN",
        [x],
        b.blob(layer.outputs[0]),
        b.shape[x],
        b.rank[x],
        size=layer.int(1, 5),
        alpha=layer.float(2, 1.0),
        beta=layer.float(3, 0.75),
        bias=layer.float(4, 1.0),
    )


def _batchnorm(b: _Builder, layer: Layer) -> None:
    x = b.blob(layer.inputs[0])
    c = layer.int(0)
    consts = [b.const(f"bn{k}", np.full(c, 1.0 if k != 1 else 0.0, np.float32)) for k in range(4)]
    b.node("BatchNormalization", [x, *consts], b.blob(layer.outputs[0]), b.shape[x], b.rank[x])


def _padding(b: _Builder, layer: Layer) -> None:
    x = b.blob(layer.inputs[0])
    n, c, h, w = b.shape[x]
    top, bottom, left, right = (layer.int(k, 0) for k in (0, 1, 2, 3))
    front, behind = layer.int(7, 0), layer.int(8, 0)
    if layer.int(4, 0) != 0 or min(top, bottom, left, right, front, behind) < 0:
        raise _Unsupported(f"Padding type {layer.int(4)}")
    pads = b.const("pads", np.array([0, front, top, left, 0, behind, bottom, right], np.int64))
    shape = (n, c + front + behind, h + top + bottom, w + left + right)
    b.node("Pad", [x, pads], b.blob(layer.outputs[0]), shape, 3)


def _reduction(b: _Builder, layer: Layer) -> None:
    x = b.blob(layer.inputs[0])
    op = {0: "ReduceSum", 3: "ReduceMean", 4: "ReduceMax", 5: "ReduceMin"}.get(layer.int(0, 0))
    if op is None or layer.int(1, 1) or not layer.int(5, 0):
        raise _Unsupported(f"Reduction operation {layer.int(0)} (reduce_all/fixbug forms)")
    axes = [int(a) + 1 for a in (layer.get(3, []) or [])]
    keep = layer.int(4, 0)
    shape = [
        1 if (k in axes and keep) else d for k, d in enumerate(b.shape[x]) if keep or k not in axes
    ]
    ax = b.const("axes", np.array(axes, np.int64))
    b.node(op, [x, ax], b.blob(layer.outputs[0]), shape, b.rank[x] if keep else 1, keepdims=keep)


def _memory_data(b: _Builder, layer: Layer) -> None:
    w, h, c = layer.int(0, 0), layer.int(1, 0), layer.int(2, 0)
    dims = [v for v in (c, h, w) if v]
    shape = (1, *dims) if len(dims) > 1 else (1, dims[0], 1, 1)
    name = b.blob(layer.outputs[0])
    b.inits.append(numpy_helper.from_array(np.zeros(shape, np.float32), name))
    b.shape[name] = shape
    b.rank[name] = len(dims)


def _layer_norm(b: _Builder, layer: Layer) -> None:
    x = b.blob(layer.inputs[0])
    size = layer.int(0)
    scale = b.const("ln_s", np.ones(size, np.float32))
    bias = b.const("ln_b", np.zeros(size, np.float32))
    b.node(
        "LayerNormalization",
        [x, scale, bias],
        b.blob(layer.outputs[0]),
        b.shape[x],
        b.rank[x],
        axis=-1,
        epsilon=layer.float(1, 1e-5),
    )


def _gemm(b: _Builder, layer: Layer) -> None:
    x = b.blob(layer.inputs[0])
    if len(layer.inputs) != 1 or not layer.int(5, 0) or layer.int(2, 0):
        raise _Unsupported("Gemm with a non-constant B or a transposed A")
    n_out, k = layer.int(8), layer.int(9)
    if b.shape[x][-1] != k:
        raise _Unsupported(f"Gemm K {k} against input {b.shape[x]}")
    out = b.blob(layer.outputs[0])
    shape = (*b.shape[x][:-1], n_out)
    weight = b.const(layer.name + "_w", np.zeros((k, n_out), np.float32))
    mm_out = b.fresh(out) if layer.int(6, 0) else out
    b.node("MatMul", [x, weight], mm_out, shape, b.rank[x])
    if layer.int(6, 0):
        bias = b.const(layer.name + "_b", np.zeros(n_out, np.float32))
        b.node("Add", [mm_out, bias], out, shape, b.rank[x])


def _mha(b: _Builder, layer: Layer) -> None:
    q, k, v = (b.blob(i) for i in layer.inputs[:3])
    if len(layer.inputs) != 3 or not (q == k == v or len({b.shape[q], b.shape[k]}) == 1):
        raise _Unsupported("MultiHeadAttention other than self-attention")
    embed, heads = layer.int(0), layer.int(1)
    out = b.blob(layer.outputs[0])
    shape, rank = b.shape[q], b.rank[q]
    weights = b.const(layer.name + "_qkv_w", np.zeros((embed, 3 * embed), np.float32))
    qkv_shape = (*shape[:-1], 3 * embed)
    qkv = b.node("MatMul", [q, weights], b.fresh(out + "_qkv"), qkv_shape, rank)
    bias = b.const(layer.name + "_qkv_b", np.zeros(3 * embed, np.float32))
    qkv = b.node("Add", [qkv, bias], b.fresh(out + "_qkvb"), qkv_shape, rank)
    parts = [b.fresh(out + p) for p in ("_q", "_k", "_v")]
    split = b.const("split", np.array([embed] * 3, np.int64))
    b.nodes.append(helper.make_node("Split", [qkv, split], parts, name=parts[0], axis=-1))
    for p in parts:
        b.shape[p], b.rank[p], b.dtype[p] = shape, rank, F32
    att = b.node(
        "Attention",
        parts,
        b.fresh(out + "_att"),
        shape,
        rank,
        q_num_heads=heads,
        kv_num_heads=heads,
    )
    wo = b.const(layer.name + "_o_w", np.zeros((embed, embed), np.float32))
    mm = b.node("MatMul", [att, wo], b.fresh(out + "_o"), b.shape[q], b.rank[q])
    bo = b.const(layer.name + "_o_b", np.zeros(embed, np.float32))
    b.node("Add", [mm, bo], out, b.shape[q], b.rank[q])


def _alias_first(b: _Builder, layer: Layer) -> None:
    for o in layer.outputs:
        b.alias[o] = b.blob(layer.inputs[0])


RULES = {
    "Convolution": lambda b, ly: _conv(b, ly, False, bool(ly.int(8, 0))),
    "ConvolutionDepthWise": lambda b, ly: _conv(b, ly, True, bool(ly.int(8, 0))),
    "Deconvolution": lambda b, ly: _deconv(b, ly, False),
    "DeconvolutionDepthWise": lambda b, ly: _deconv(b, ly, True),
    "Pooling": _pool,
    "InnerProduct": _inner_product,
    "Eltwise": _eltwise,
    "BinaryOp": _binary,
    "ReLU": _relu,
    "Clip": _clip,
    "Sigmoid": _unary("Sigmoid"),
    "Swish": _unary("Swish"),
    "Mish": _unary("Mish"),
    "HardSwish": _unary("HardSwish"),
    "HardSigmoid": _hard_sigmoid,
    "GELU": _unary("Gelu"),
    "TanH": _unary("Tanh"),
    "Concat": _concat,
    "Slice": _slice,
    "Crop": _crop,
    "ShuffleChannel": _shuffle,
    "Permute": _permute,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Softmax": _softmax,
    "Interp": _interp,
    "LRN": _lrn,
    "BatchNorm": _batchnorm,
    "Padding": _padding,
    "Reduction": _reduction,
    "MemoryData": _memory_data,
    "LayerNorm": _layer_norm,
    "Gemm": _gemm,
    "MultiHeadAttention": _mha,
    "Split": _alias_first,
    "Noop": _alias_first,
    "Dropout": _alias_first,
}


def convert(
    text: str, source: str = "<param>", input_whc: tuple[int, int, int] | None = None
) -> Converted:
    """An ONNX model of the param file's graph (batch 1), and the layers it could not build.

    ``input_whc`` overrides the Input layer's size (benchncnn's table gives it per row).
    """
    layers = parse(text, source)
    b = _Builder(source)
    unsupported: list[str] = []
    graph_inputs = []
    missing: set[str] = set()
    for layer in layers:
        if layer.type == "Input":
            w, h, c = input_whc or (layer.int(0), layer.int(1), layer.int(2))
            name = layer.outputs[0]
            b.shape[name], b.rank[name] = (1, c, h, w), 3
            graph_inputs.append(helper.make_tensor_value_info(name, F32, [1, c, h, w]))
            continue
        blocked = [i for i in layer.inputs if b.blob(i) in missing]
        rule = RULES.get(layer.type)
        why = ""
        if blocked:
            why = f"depends on unbuilt {blocked[0]}"
        elif rule is None:
            why = "layer type not supported"
        else:
            mark = (len(b.nodes), len(b.inits))
            try:
                rule(b, layer)
            except _Unsupported as exc:
                del b.nodes[mark[0] :], b.inits[mark[1] :]
                why = str(exc)
            except (KeyError, ValueError, IndexError) as exc:
                raise ParamError(
                    f"{source}: line {layer.line}: {layer.type} {layer.name}: {exc}"
                ) from exc
        if why:
            unsupported.append(f"{layer.name} ({layer.type}): {why}")
            missing.update(layer.outputs)
    consumed = {i for n in b.nodes for i in n.input}
    outputs = [o for n in b.nodes for o in n.output if o not in consumed]
    value_info = [
        helper.make_tensor_value_info(o, b.dtype.get(o, F32), list(b.shape[o]))
        for n in b.nodes
        for o in n.output
    ]
    out_infos = [v for v in value_info if v.name in outputs]
    graph = helper.make_graph(
        b.nodes,
        Path(source).stem,
        graph_inputs,
        out_infos,
        initializer=b.inits,
        value_info=[v for v in value_info if v.name not in outputs],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("com.microsoft", 1)],
        producer_name="bench.fitting.ncnn_param",
    )
    model.ir_version = 10
    shape = tuple(graph_inputs[0].type.tensor_type.shape.dim[k].dim_value for k in range(4))
    return Converted(model, unsupported, shape)


def convert_file(path: Path, input_whc: tuple[int, int, int] | None = None) -> Converted:
    return convert(path.read_text(), str(path), input_whc)
