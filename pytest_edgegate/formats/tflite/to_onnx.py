"""Translate a TFLite graph into the equivalent in-memory ONNX graph the analysis reads.

One TFLite operator becomes one ONNX node where ONNX has the same operator (a reshape of a
non-2D input for ``FULLY_CONNECTED`` and a transpose for an adjoint ``BATCH_MATMUL`` operand
are the only additions).  Images are laid out NCHW (see :mod:`.layout`); weights become
initializers in ONNX's layouts (OIHW, depthwise as a grouped convolution).  Integer tensors
with affine quantization become QOperator nodes (``QLinearConv``, ``QGemm``,
``QLinearMatMul``, ``QLinearAdd``, ...), the form whose quantization the analysis already
understands; fused float activations use ``FusedConv``/``FusedGemm``.  An operator without
an ONNX counterpart becomes a node of the domain ``edgegate.tflite`` whose output shapes
are declared from the flatbuffer (the analysis counts it with 0 MACs and says so).  The
graph is for counting, not for running: element order across a reshape is not preserved.
"""

from __future__ import annotations

import math
import struct
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ...errors import ModelError
from .layout import AXIS, TO_NCHW, image_tensors
from .reader import TflModel, TflOperator, TflSubgraph, TflTensor

OPSET = 17
_MALFORMED = (
    struct.error, IndexError, KeyError, ValueError, TypeError, OverflowError, AssertionError
)  # fmt: skip
CUSTOM_DOMAIN = "edgegate.tflite"
_MS = "com.microsoft"

ONNX_TYPES = {
    "FLOAT32": TensorProto.FLOAT, "FLOAT16": TensorProto.FLOAT16, "INT32": TensorProto.INT32,
    "UINT8": TensorProto.UINT8, "INT64": TensorProto.INT64, "STRING": TensorProto.STRING,
    "BOOL": TensorProto.BOOL, "INT16": TensorProto.INT16, "COMPLEX64": TensorProto.COMPLEX64,
    "INT8": TensorProto.INT8, "FLOAT64": TensorProto.DOUBLE, "UINT64": TensorProto.UINT64,
    "UINT32": TensorProto.UINT32, "UINT16": TensorProto.UINT16, "INT4": TensorProto.INT4,
    "BFLOAT16": TensorProto.BFLOAT16, "COMPLEX128": TensorProto.COMPLEX128,
}  # fmt: skip
_INTEGER_ACT = ("INT8", "UINT8", "INT16")
_PADDING = {0: "SAME_UPPER", 1: "VALID"}
#: fused_activation_function code -> (FusedConv/FusedGemm activation, params, ONNX op)
_ACTIVATION = {
    1: ("Relu", None),
    2: ("Clip", [-1.0, 1.0]),
    3: ("Clip", [0.0, 6.0]),
    4: ("Tanh", None),
}
_ELEMENTWISE = {
    "ADD": "Add", "SUB": "Sub", "MUL": "Mul", "DIV": "Div", "MAXIMUM": "Max",
    "MINIMUM": "Min", "POW": "Pow", "SQUARED_DIFFERENCE": "Sub",
}  # fmt: skip
_UNARY = {
    "RELU": "Relu", "LOGISTIC": "Sigmoid", "TANH": "Tanh", "HARD_SWISH": "HardSwish",
    "ABS": "Abs", "EXP": "Exp", "LOG": "Log", "NEG": "Neg", "SQRT": "Sqrt", "FLOOR": "Floor",
    "CEIL": "Ceil", "ROUND": "Round", "SIN": "Sin", "COS": "Cos", "ELU": "Elu", "GELU": "Gelu",
}  # fmt: skip
#: Pure data movement: the output shape is declared, so a Reshape to it is exact in size.
_RESHAPES = frozenset(["RESHAPE", "SQUEEZE", "EXPAND_DIMS"])


class ModelTranslation:
    """State of one translation; :meth:`run` returns the ModelProto."""

    def __init__(self, model: TflModel, name: str, source: str | None = None) -> None:
        self.source = source or name
        self.model = model
        self.sg: TflSubgraph = model.main
        self.name = name
        self.images = image_tensors(self.sg)
        self.names = _unique_names(self.sg.tensors)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: dict[str, TensorProto] = {}
        self.value_info: list[onnx.ValueInfoProto] = []
        self.fresh = 0
        self.widened: set[str] = set()
        #: outputs of DEQUANTIZE of a constant (fp16 or int8 weights) -> the constant
        self.dequantized = {
            op.outputs[0]: op.inputs[0]
            for op in self.sg.operators
            if op.op == "DEQUANTIZE" and self.sg.tensors[op.inputs[0]].data is not None
        }

    # ------------------------------------------------------------------ tensors and values

    def shape(self, i: int) -> list[int]:
        t = self.sg.tensors[i]
        if i in self.images:
            return [t.shape[j] for j in TO_NCHW]
        return list(t.shape)

    def elem(self, i: int) -> int:
        return ONNX_TYPES.get(self.sg.tensors[i].dtype, TensorProto.UNDEFINED)

    def tmp(self, base: str) -> str:
        self.fresh += 1
        return f"{base}__edgegate{self.fresh}"

    def const(self, name: str, array: np.ndarray) -> str:
        if name not in self.inits:
            self.inits[name] = numpy_helper.from_array(np.ascontiguousarray(array), name)
        return name

    def value(self, i: int) -> str:
        """The ONNX name of tensor ``i`` (an initializer in ONNX layout if it is constant)."""
        if i < 0:
            return ""
        t = self.sg.tensors[i]
        name = self.names[i]
        if i in self.dequantized:
            return self.widen(i, lambda d: d.transpose(TO_NCHW) if i in self.images else d)
        if t.data is not None and name not in self.inits:
            data = t.data
            if i in self.images:
                data = data.transpose(TO_NCHW)
            self.const(name, data)
        return name

    def broadcast(self, i: int, out: int) -> str:
        """Tensor ``i`` as an operand broadcast against the image ``out`` (lower rank)."""
        t = self.sg.tensors[i]
        if out not in self.images or i in self.images or len(t.shape) >= 4:
            return self.value(i)
        full = [1] * (4 - len(t.shape)) + list(t.shape)
        target = [full[j] for j in TO_NCHW]
        if t.data is not None:
            data = t.data.reshape(full).transpose(TO_NCHW)
            return self.const(self.tmp(self.names[i]), data)
        return self.reshape(self.value(i), target, self.names[i])

    def reshape(self, src: str, shape: list[int], base: str) -> str:
        target = self.const(self.tmp(base + "_shape"), np.array(shape, dtype=np.int64))
        out = self.tmp(base)
        self.nodes.append(helper.make_node("Reshape", [src, target], [out], name=out))
        return out

    def qparams(self, i: int) -> tuple[str, str]:
        """Scale and zero point initializers of quantized tensor ``i``."""
        t = self.sg.tensors[i]
        q = t.quant
        assert q is not None
        name = self.names[i]
        np_type = {"INT8": np.int8, "UINT8": np.uint8, "INT16": np.int16}.get(t.dtype, np.int8)
        scale = np.array(q.scale, dtype=np.float32)
        zp = np.array(q.zero_point, dtype=np_type)
        if len(q.scale) == 1:
            scale, zp = scale.reshape(()), zp.reshape(())
        return self.const(name + "_scale", scale), self.const(name + "_zero_point", zp)

    def quantized(self, i: int) -> bool:
        t = self.sg.tensors[i]
        return t.dtype in _INTEGER_ACT and t.quant is not None

    # ------------------------------------------------------------------------- the graph

    def run(self) -> onnx.ModelProto:
        for op in self.sg.operators:
            self.operator(op)
        sg = self.sg
        inputs = [self.info(i) for i in sg.inputs if self.sg.tensors[i].data is None]
        outputs = [self.info(i) for i in sg.outputs]
        # Declared shapes of every computed tensor: the analysis takes them for the outputs
        # of non-standard-domain nodes (com.microsoft QGemm, ...) where ONNX cannot infer.
        ends = {*sg.inputs, *sg.outputs}
        declared = {vi.name for vi in self.value_info}
        for op in sg.operators:
            for i in op.outputs:
                if i >= 0 and i not in ends and self.names[i] not in declared:
                    self.value_info.append(self.info(i))
                    declared.add(self.names[i])
        graph = helper.make_graph(
            self.nodes, sg.name or self.name, inputs, outputs, list(self.inits.values()),
            value_info=self.value_info,
        )  # fmt: skip
        proto = helper.make_model(
            graph,
            opset_imports=[
                helper.make_opsetid("", OPSET),
                helper.make_opsetid(_MS, 1),
                helper.make_opsetid(CUSTOM_DOMAIN, 1),
            ],
            producer_name="edgegate tflite reader",
        )
        proto.ir_version = 8
        if self.model.description:
            proto.doc_string = self.model.description
        return proto

    def info(self, i: int) -> onnx.ValueInfoProto:
        return helper.make_tensor_value_info(self.names[i], self.elem(i), self.shape(i))

    def emit(self, op_type: str, ins: list[str], outs: list[str], op: TflOperator,
             domain: str = "", **attrs: Any) -> None:  # fmt: skip
        label = self.names[op.outputs[0]] if op.outputs else f"op{op.index}"
        node = helper.make_node(op_type, ins, outs, name=f"{op.op}:{label}", domain=domain)
        node.attribute.extend(
            helper.make_attribute(k, v) for k, v in attrs.items() if v is not None
        )
        self.nodes.append(node)

    def operator(self, op: TflOperator) -> None:
        """Translate one operator; a malformed one (missing inputs, options that do not read,
        quantization that does not fit its type) is a ModelError naming it."""
        try:
            self._operator(op)
        except ModelError:
            raise
        except _MALFORMED as exc:
            raise ModelError(
                self.source,
                f"operator {op.index} ({op.op}) is malformed: {type(exc).__name__}: {exc} "
                "(the file is corrupt or was not written by the TFLite converter)",
            ) from None

    def _operator(self, op: TflOperator) -> None:
        handler = getattr(self, "op_" + op.op.lower(), None)
        if op.op in _RESHAPES:
            return self.op_reshape(op)
        if handler is not None:
            return handler(op)
        if op.op in _ELEMENTWISE:
            return self.elementwise(op)
        if op.op in _UNARY:
            return self.unary(op, _UNARY[op.op])
        return self.unknown(op)

    def out(self, op: TflOperator, k: int = 0) -> str:
        return self.names[op.outputs[k]]

    def fused(self, op: TflOperator, code: int, result: str) -> None:
        """A float operator's fused activation as its own node writing the op's output."""
        act = _ACTIVATION.get(code)
        if act is None:
            return
        name, params = act
        if params is None:
            self.nodes.append(helper.make_node(name, [result], [self.out(op)], name=self.out(op)))
        else:
            lo = self.const(self.tmp("clip_min"), np.array(params[0], dtype=np.float32))
            hi = self.const(self.tmp("clip_max"), np.array(params[1], dtype=np.float32))
            self.nodes.append(
                helper.make_node("Clip", [result, lo, hi], [self.out(op)], name=self.out(op))
            )

    # ---------------------------------------------------------------------- MAC operators

    def conv_attrs(self, o: Any, stride_at: int, dilation_at: int | None) -> dict[str, Any]:
        attrs: dict[str, Any] = {"auto_pad": _PADDING.get(o.i8(0) if o else 0, "SAME_UPPER")}
        attrs["strides"] = [o.i32(stride_at + 1, 1), o.i32(stride_at, 1)] if o else [1, 1]
        if dilation_at is not None:
            attrs["dilations"] = [o.i32(dilation_at + 1, 1), o.i32(dilation_at, 1)] if o else [1, 1]
        return attrs

    def op_conv_2d(self, op: TflOperator) -> None:
        x, w_i = op.inputs[0], op.inputs[1]
        w = self.sg.tensors[w_i]
        group = max(1, self.sg.tensors[x].shape[3] // max(1, w.shape[3]))
        self.conv(op, w_i, lambda d: d.transpose(0, 3, 1, 2), group, 3, 4)

    def op_depthwise_conv_2d(self, op: TflOperator) -> None:
        x = op.inputs[0]
        group = self.sg.tensors[x].shape[3]
        self.conv(op, op.inputs[1], lambda d: d.transpose(3, 0, 1, 2), group, 4, 5)

    def conv(self, op: TflOperator, w_i: int, layout, group: int, act_at: int, dil_at: int) -> None:
        o = op.options
        attrs = self.conv_attrs(o, 1, dil_at)
        attrs["group"] = group
        w = self.weight(w_i, layout)
        x = self.value(op.inputs[0])
        bias = self.value(op.inputs[2]) if len(op.inputs) > 2 else ""
        act = o.i8(act_at) if o else 0
        if self.quantized(op.inputs[0]):
            ins = [x, *self.qparams(op.inputs[0]), w, *self.weight_qparams(w_i, 0),
                   *self.qparams(op.outputs[0]), bias]  # fmt: skip
            return self.emit("QLinearConv", ins, [self.out(op)], op, **attrs)
        ins = [x, w] + ([bias] if bias else [])
        if act in _ACTIVATION:
            name, params = _ACTIVATION[act]
            return self.emit("FusedConv", ins, [self.out(op)], op, _MS, activation=name,
                             activation_params=params, **attrs)  # fmt: skip
        self.emit("Conv", ins, [self.out(op)], op, **attrs)

    def weight(self, i: int, layout) -> str:
        t = self.sg.tensors[i]
        name = self.names[i]
        if i in self.dequantized:
            return self.widen(i, layout)
        if t.data is None:  # a weight computed at run time
            return self.value(i)
        return self.const(name, layout(t.data))

    def widen(self, i: int, layout) -> str:
        """A weight stored as fp16 or int8 and widened by DEQUANTIZE: the stored constant in
        ``layout`` and a Cast/DequantizeLinear the analysis folds (weights per output channel
        are on ONNX axis 0 in every layout used here)."""
        out = self.names[i]
        if out in self.widened:
            return out
        self.widened.add(out)
        j = self.dequantized[i]
        src = self.const(self.names[j], layout(self.sg.tensors[j].data))
        if self.quantized(j):
            scale, zp = self.qparams(j)
            node = helper.make_node("DequantizeLinear", [src, scale, zp], [out], name=out, axis=0)
        else:
            node = helper.make_node("Cast", [src], [out], name=out, to=self.elem(i))
        self.nodes.append(node)
        return out

    def weight_qparams(self, i: int, axis: int) -> tuple[str, str]:
        """A weight's scales and zero points (per channel along the ONNX output channel)."""
        if not self.quantized(i):
            return "", ""
        return self.qparams(i)

    def op_transpose_conv(self, op: TflOperator) -> None:
        o = op.options
        w_i, x_i = op.inputs[1], op.inputs[2]
        attrs = self.conv_attrs(o, 1, None)
        out_shape = self.sg.tensors[op.outputs[0]].shape
        attrs["output_shape"] = [int(out_shape[1]), int(out_shape[2])]
        attrs.pop("auto_pad")
        w = self.weight(w_i, lambda d: d.transpose(3, 0, 1, 2))
        bias = self.value(op.inputs[3]) if len(op.inputs) > 3 else ""
        ins = [self.value(x_i), w] + ([bias] if bias else [])
        self.emit("ConvTranspose", ins, [self.out(op)], op, **attrs)

    def op_fully_connected(self, op: TflOperator) -> None:
        o = op.options
        x_i, w_i = op.inputs[0], op.inputs[1]
        k = self.sg.tensors[w_i].shape[-1]
        x = self.value(x_i)
        x_shape = self.shape(x_i)
        out_shape = self.shape(op.outputs[0])
        if len(x_shape) != 2:
            x = self.reshape(x, [math.prod(x_shape) // max(1, k), k], self.names[x_i])
        w = self.weight(w_i, lambda d: d)
        bias = self.value(op.inputs[2]) if len(op.inputs) > 2 else ""
        result = self.out(op) if len(out_shape) == 2 else self.tmp(self.out(op))
        act = o.i8(0) if o else 0
        if self.quantized(x_i):
            ins = [x, *self.qparams(x_i), w, *self.weight_qparams(w_i, 0), bias,
                   *self.qparams(op.outputs[0])]  # fmt: skip
            self.emit("QGemm", ins, [result], op, _MS, transB=1)
        elif act in _ACTIVATION:
            name, params = _ACTIVATION[act]
            self.emit("FusedGemm", [x, w] + ([bias] if bias else []), [result], op, _MS,
                      transB=1, activation=name, activation_params=params)  # fmt: skip
        else:
            self.emit("Gemm", [x, w] + ([bias] if bias else []), [result], op, transB=1)
        if result != self.out(op):
            target = self.const(self.tmp("fc_shape"), np.array(out_shape, dtype=np.int64))
            self.nodes.append(
                helper.make_node("Reshape", [result, target], [self.out(op)], name=self.out(op))
            )

    def op_batch_matmul(self, op: TflOperator) -> None:
        o = op.options
        adj = (o.boolean(0), o.boolean(1)) if o else (False, False)
        ins = []
        for k, i in enumerate(op.inputs[:2]):
            name = self.value(i)
            if adj[k]:
                rank = len(self.shape(i))
                perm = [*range(rank - 2), rank - 1, rank - 2]
                t = self.sg.tensors[i]
                if t.data is not None:
                    name = self.const(self.tmp(self.names[i]), t.data.transpose(perm))
                else:
                    out = self.tmp(self.names[i])
                    self.nodes.append(helper.make_node("Transpose", [name], [out], perm=perm))
                    name = out
            ins.append(name)
        if self.quantized(op.inputs[0]):
            a, b = op.inputs[0], op.inputs[1]
            qins = [
                ins[0],
                *self.qparams(a),
                ins[1],
                *self.qparams(b),
                *self.qparams(op.outputs[0]),
            ]
            return self.emit("QLinearMatMul", qins, [self.out(op)], op)
        self.emit("MatMul", ins, [self.out(op)], op)

    # ---------------------------------------------------------------------- other operators

    def pool(self, op: TflOperator, kind: str) -> None:
        o = op.options
        attrs = self.conv_attrs(o, 1, None)
        attrs["kernel_shape"] = [o.i32(4, 1), o.i32(3, 1)] if o else [1, 1]
        x_i = op.inputs[0]
        act = o.i8(5) if o else 0
        if self.quantized(x_i):
            if kind == "AveragePool":
                ins = [self.value(x_i), *self.qparams(x_i), *self.qparams(op.outputs[0])]
                return self.emit("QLinearAveragePool", ins, [self.out(op)], op, _MS, **attrs)
            return self.emit(kind, [self.value(x_i)], [self.out(op)], op, **attrs)
        result = self.tmp(self.out(op)) if act in _ACTIVATION else self.out(op)
        self.emit(kind, [self.value(x_i)], [result], op, **attrs)
        self.fused(op, act, result)

    def op_average_pool_2d(self, op: TflOperator) -> None:
        self.pool(op, "AveragePool")

    def op_max_pool_2d(self, op: TflOperator) -> None:
        self.pool(op, "MaxPool")

    def elementwise(self, op: TflOperator) -> None:
        out = op.outputs[0]
        a, b = (self.broadcast(i, out) for i in op.inputs[:2])
        o = op.options
        act = o.i8(0) if (o and op.op in ("ADD", "SUB", "MUL", "DIV")) else 0
        if op.op in ("ADD", "MUL") and self.quantized(op.inputs[0]) and self.quantized(out):
            ins = [a, *self.qparams(op.inputs[0]), b, *self.qparams(op.inputs[1]),
                   *self.qparams(out)]  # fmt: skip
            kind = "QLinearAdd" if op.op == "ADD" else "QLinearMul"
            return self.emit(kind, ins, [self.out(op)], op, _MS)
        quant = self.quantized(out)
        result = self.tmp(self.out(op)) if act in _ACTIVATION and not quant else self.out(op)
        self.emit(_ELEMENTWISE[op.op], [a, b], [result], op)
        if not quant:
            self.fused(op, act, result)

    def unary(self, op: TflOperator, kind: str) -> None:
        x_i = op.inputs[0]
        if kind == "Sigmoid" and self.quantized(x_i):
            ins = [self.value(x_i), *self.qparams(x_i), *self.qparams(op.outputs[0])]
            return self.emit("QLinearSigmoid", ins, [self.out(op)], op, _MS)
        self.emit(kind, [self.value(x_i)], [self.out(op)], op)

    def clip(self, op: TflOperator, lo: float, hi: float) -> None:
        x_i = op.inputs[0]
        if self.quantized(x_i):  # an integer clamp: same elementwise cost
            return self.emit("Relu", [self.value(x_i)], [self.out(op)], op)
        lo_n = self.const(self.tmp("clip_min"), np.array(lo, dtype=np.float32))
        hi_n = self.const(self.tmp("clip_max"), np.array(hi, dtype=np.float32))
        self.emit("Clip", [self.value(x_i), lo_n, hi_n], [self.out(op)], op)

    def op_relu6(self, op: TflOperator) -> None:
        self.clip(op, 0.0, 6.0)

    def op_relu_n1_to_1(self, op: TflOperator) -> None:
        self.clip(op, -1.0, 1.0)

    def op_leaky_relu(self, op: TflOperator) -> None:
        alpha = op.options.f32(0) if op.options else 0.2
        self.emit("LeakyRelu", [self.value(op.inputs[0])], [self.out(op)], op, alpha=alpha)

    def op_softmax(self, op: TflOperator) -> None:
        x_i = op.inputs[0]
        rank = len(self.shape(x_i))
        axis = AXIS[3] if x_i in self.images else rank - 1
        if self.quantized(x_i):
            ins = [self.value(x_i), *self.qparams(x_i), *self.qparams(op.outputs[0])]
            return self.emit("QLinearSoftmax", ins, [self.out(op)], op, _MS, axis=axis,
                             opset=OPSET)  # fmt: skip
        self.emit("Softmax", [self.value(x_i)], [self.out(op)], op, axis=axis)

    def op_reshape(self, op: TflOperator) -> None:
        target = self.const(self.tmp("shape"), np.array(self.shape(op.outputs[0]), dtype=np.int64))
        self.emit("Reshape", [self.value(op.inputs[0]), target], [self.out(op)], op)

    def axis_of(self, i: int, axis: int) -> int:
        rank = len(self.sg.tensors[i].shape)
        axis = axis + rank if axis < 0 else axis
        return AXIS[axis] if i in self.images else axis

    def op_concatenation(self, op: TflOperator) -> None:
        axis = self.axis_of(op.outputs[0], op.options.i32(0) if op.options else 0)
        ins = [self.value(i) for i in op.inputs]
        self.emit("Concat", ins, [self.out(op)], op, axis=axis)

    def op_mean(self, op: TflOperator) -> None:
        x_i, axes_i = op.inputs[0], op.inputs[1]
        axes_t = self.sg.tensors[axes_i]
        keep = op.options.boolean(0) if op.options else False
        if axes_t.data is None:
            return self.unknown(op)
        axes = sorted(self.axis_of(x_i, int(a)) for a in axes_t.data.reshape(-1))
        self.emit("ReduceMean", [self.value(x_i)], [self.out(op)], op, axes=axes,
                  keepdims=int(keep))  # fmt: skip

    def op_pad(self, op: TflOperator) -> None:
        x_i, p_i = op.inputs[0], op.inputs[1]
        p = self.sg.tensors[p_i].data
        if p is None:
            return self.unknown(op)
        p = p.reshape(-1, 2)
        if x_i in self.images:
            p = p[list(TO_NCHW)]
        pads = self.const(self.tmp("pads"), np.concatenate([p[:, 0], p[:, 1]]).astype(np.int64))
        self.emit("Pad", [self.value(x_i), pads], [self.out(op)], op)

    op_padv2 = op_pad

    def op_transpose(self, op: TflOperator) -> None:
        x_i, p_i, y_i = op.inputs[0], op.inputs[1], op.outputs[0]
        p = self.sg.tensors[p_i].data
        if p is None:
            return self.unknown(op)
        p = [int(v) for v in p.reshape(-1)]
        rank = len(p)
        lin = list(AXIS) if x_i in self.images else list(range(rank))
        lout = list(TO_NCHW) if y_i in self.images else list(range(rank))
        perm = [lin[p[lout[j]]] for j in range(rank)]
        self.emit("Transpose", [self.value(x_i)], [self.out(op)], op, perm=perm)

    def op_quantize(self, op: TflOperator) -> None:
        x_i, y_i = op.inputs[0], op.outputs[0]
        if self.quantized(x_i):  # requantization: integer in, integer out
            mid = self.tmp(self.out(op))
            self.emit("DequantizeLinear", [self.value(x_i), *self.qparams(x_i)], [mid], op)
            return self.emit("QuantizeLinear", [mid, *self.qparams(y_i)], [self.out(op)], op)
        self.emit("QuantizeLinear", [self.value(x_i), *self.qparams(y_i)], [self.out(op)], op)

    def op_dequantize(self, op: TflOperator) -> None:
        x_i = op.inputs[0]
        if op.outputs[0] in self.dequantized:
            return  # a stored weight, widened where it is used (see ``widen``)
        if self.quantized(x_i):
            ins = [self.value(x_i), *self.qparams(x_i)]
            return self.emit("DequantizeLinear", ins, [self.out(op)], op)
        self.emit("Cast", [self.value(x_i)], [self.out(op)], op, to=self.elem(op.outputs[0]))

    def resize(self, op: TflOperator, mode: str) -> None:
        sizes = self.const(self.tmp("sizes"), np.array(self.shape(op.outputs[0]), dtype=np.int64))
        self.emit("Resize", [self.value(op.inputs[0]), "", "", sizes], [self.out(op)], op,
                  mode=mode)  # fmt: skip

    def op_resize_bilinear(self, op: TflOperator) -> None:
        self.resize(op, "linear")

    def op_resize_nearest_neighbor(self, op: TflOperator) -> None:
        self.resize(op, "nearest")

    def unknown(self, op: TflOperator) -> None:
        """An operator without an ONNX counterpart: its outputs' shapes are declared."""
        ins = [self.value(i) for i in op.inputs]
        outs = [self.names[i] for i in op.outputs]
        self.emit(op.op, ins, outs, op, CUSTOM_DOMAIN)


def _unique_names(tensors: tuple[TflTensor, ...]) -> list[str]:
    seen: dict[str, int] = {}
    for t in tensors:
        seen[t.name] = seen.get(t.name, 0) + 1
    return [t.name if seen[t.name] == 1 else f"{t.name}#{t.index}" for t in tensors]


def to_onnx(model: TflModel, name: str, source: str | None = None) -> onnx.ModelProto:
    """The ONNX twin of ``model``'s main graph (see the module docstring); ``source`` (the
    file) is what a ModelError names."""
    return ModelTranslation(model, name, source).run()
