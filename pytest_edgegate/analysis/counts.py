"""Per-operator arithmetic: the table of MAC and FLOP rules.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/analysis/counts.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .graph import NodeRec
from .shapes import TType

Cost = tuple[int, int]
CostFn = Callable[[NodeRec, list, list], "Cost | None"]


@dataclass(frozen=True)
class OpRule:
    op_class: str
    cost: CostFn | None = None  # None: no arithmetic (data movement, control)
    #: Whether the MACs count in ``macs`` (the ``macs_m`` convention: Conv, ConvTranspose,
    #: Gemm, MatMul and their quantized/fused forms only).  Fused matrix products such as
    #: Attention, Einsum and the recurrent cells still count their arithmetic in ``flops``
    #: (a MAC as two).
    is_mac: bool = False


def _shape(t: TType | None):
    return t[0] if t is not None else None


def _numel(t: TType | None) -> int | None:
    s = _shape(t)
    return math.prod(s) if s is not None else None


def _at(seq: list, i: int):
    return seq[i] if i < len(seq) else None


def _present(node: NodeRec, i: int) -> bool:
    return i < len(node.inputs) and bool(node.inputs[i])


# --------------------------------------------------------------------------- MAC operators

#: FLOPs per element of the activation a fused operator applies.
_FUSED_ACTIVATION = {
    "Relu": 1,
    "LeakyRelu": 2,
    "Sigmoid": 4,
    "Tanh": 5,
    "HardSigmoid": 3,
    "Clip": 2,
    "HardSwish": 4,
}


def _conv(w_index: int, bias_index: int | None, sum_index: int | None = None) -> CostFn:
    def cost(node, ins, outs):
        out = _numel(_at(outs, 0))
        w = _shape(_at(ins, w_index))
        if out is None:
            return None
        if w is not None and len(w) >= 2:
            per_output = math.prod(w[1:])
        else:
            x = _shape(_at(ins, 0))
            kernel = node.attr("kernel_shape")
            if x is None or len(x) < 2 or not kernel:
                return None
            per_output = x[1] // max(1, node.attr("group", 1)) * math.prod(kernel)
        macs = out * per_output
        flops = 2 * macs
        if bias_index is not None and _present(node, bias_index):
            flops += out
        if sum_index is not None and _present(node, sum_index):
            flops += out
        act = node.attr("activation")
        if act:
            flops += out * _FUSED_ACTIVATION.get(act, 1)
        return macs, flops

    return cost


def _conv_transpose(node, ins, outs):
    x = _numel(_at(ins, 0))
    w = _shape(_at(ins, 1))
    if x is None or w is None or len(w) < 2:
        return None
    macs = x * math.prod(w[1:])
    flops = 2 * macs
    if _present(node, 2):
        flops += _numel(_at(outs, 0)) or 0
    return macs, flops


def _gemm(a_index: int = 0, c_index: int | None = 2) -> CostFn:
    def cost(node, ins, outs):
        out = _numel(_at(outs, 0))
        a = _shape(_at(ins, a_index))
        if out is None or a is None or len(a) != 2:
            return None
        k = a[0] if node.attr("transA", 0) else a[1]
        macs = out * k
        flops = 2 * macs
        if c_index is not None and _present(node, c_index):
            flops += out
        act = node.attr("activation")
        if act:
            flops += out * _FUSED_ACTIVATION.get(act, 1)
        return macs, flops

    return cost


def _matmul(a_index: int = 0) -> CostFn:
    def cost(node, ins, outs):
        out = _numel(_at(outs, 0))
        a = _shape(_at(ins, a_index))
        if out is None or not a:
            return None
        k = a[-2] if node.attr("transA", 0) and len(a) >= 2 else a[-1]
        macs = out * k
        flops = 2 * macs
        if node.op_type == "FusedMatMul" and node.attr("alpha", 1.0) != 1.0:
            flops += out
        return macs, flops

    return cost


def _matmul_nbits(node, ins, outs):
    out = _numel(_at(outs, 0))
    a = _shape(_at(ins, 0))
    k = node.attr("K") or (a[-1] if a else None)
    if out is None or not k:
        return None
    macs = out * k
    return macs, 2 * macs + (out if _present(node, 5) else 0)


def _einsum(node, ins, outs):
    equation = (node.attr("equation") or "").replace(" ", "")
    lhs = equation.split("->")[0]
    terms = lhs.split(",")
    shapes = [_shape(t) for t in ins]
    if len(terms) != len(shapes) or any(s is None for s in shapes):
        return None
    sizes: dict[str, int] = {}
    for term, shape in zip(terms, shapes, strict=False):
        letters = list(term.replace("...", ""))
        n_ellipsis = len(shape) - len(letters) if "..." in term else 0
        if n_ellipsis < 0:
            return None
        head, _, tail = term.partition("...")
        names = list(head) + [f"...{n_ellipsis - 1 - j}" for j in range(n_ellipsis)] + list(tail)
        if len(names) != len(shape):
            return None
        for name, d in zip(names, shape, strict=False):
            sizes[name] = max(sizes.get(name, 1), d)
    space = math.prod(sizes.values())
    if len(terms) < 2:
        return 0, _numel(_at(ins, 0)) or 0
    macs = space * (len(terms) - 1)
    return macs, 2 * macs


_RNN_GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
_RNN_CELL_FLOPS = {"LSTM": 25, "GRU": 20, "RNN": 6}  # gate activations and updates per unit


def _rnn(node, ins, outs):
    x, w = _shape(_at(ins, 0)), _shape(_at(ins, 1))
    if x is None or w is None or len(x) != 3 or len(w) != 3:
        return None
    seq, batch = (x[1], x[0]) if node.attr("layout", 0) else (x[0], x[1])
    dirs, gates_hidden, in_size = w
    hidden = gates_hidden // _RNN_GATES[node.op_type]
    macs = seq * batch * dirs * gates_hidden * (in_size + hidden)
    flops = 2 * macs + seq * batch * dirs * hidden * _RNN_CELL_FLOPS[node.op_type]
    return macs, flops


def _onnx_attention(node, ins, outs):
    q, k = _shape(_at(ins, 0)), _shape(_at(ins, 1))
    y = _numel(_at(outs, 0))
    if q is None or k is None or y is None:
        return None
    kv_len = k[2] if len(k) == 4 else k[1]
    past = _shape(_at(ins, 4)) if _present(node, 4) else None
    if past is not None and len(past) == 4:
        kv_len += past[2]
    macs = (math.prod(q) + y) * kv_len
    rows = math.prod(q) // q[-1] if len(q) == 4 else q[0] * q[1] * node.attr("q_num_heads", 1)
    return macs, 2 * macs + 5 * rows * kv_len


def _ms_attention(node, ins, outs):
    x, w = _shape(_at(ins, 0)), _shape(_at(ins, 1))
    if x is None or w is None or len(x) != 3 or len(w) != 2:
        return None
    batch, seq, _ = x
    total = w[1]
    sizes = node.attr("qkv_hidden_sizes") or [total // 3] * 3
    heads = node.attr("num_heads", 1)
    macs = batch * seq * x[2] * total + batch * seq * seq * (sizes[0] + sizes[2])
    flops = 2 * macs + batch * seq * total + 5 * batch * heads * seq * seq
    return macs, flops


def _ms_mha(node, ins, outs):
    q = _shape(_at(ins, 0))
    k = _shape(_at(ins, 1)) if _present(node, 1) else None
    v = _shape(_at(ins, 2)) if _present(node, 2) else None
    heads = node.attr("num_heads", 1)
    if q is None:
        return None
    if len(q) == 5:  # packed QKV: (B, S, N, 3, H)
        batch, seq, kv_len, hq = q[0], q[1], q[1], q[2] * q[4]
        hv = hq
    elif len(q) == 3 and k is not None:
        batch, seq, hq = q
        if len(k) == 5:  # packed KV: (B, L, N, 2, H)
            kv_len, hv = k[1], k[2] * k[4]
        elif len(k) == 4:
            kv_len = k[2]
            hv = v[1] * v[3] if v is not None and len(v) == 4 else hq
        else:
            kv_len = k[1]
            hv = v[2] if v is not None and len(v) == 3 else hq
    else:
        return None
    macs = batch * seq * kv_len * (hq + hv)
    return macs, 2 * macs + 5 * batch * heads * seq * kv_len


# -------------------------------------------------------------------- other arithmetic


def _per_output(ops: float) -> CostFn:
    def cost(node, ins, outs):
        n = _numel(_at(outs, 0))
        return None if n is None else (0, int(n * ops))

    return cost


def _per_input(ops: float) -> CostFn:
    def cost(node, ins, outs):
        n = _numel(_at(ins, 0))
        return None if n is None else (0, int(n * ops))

    return cost


def _nary(extra: int = 0) -> CostFn:
    """Variadic Sum/Max/Min/Mean: one op per output element per input after the first."""

    def cost(node, ins, outs):
        n = _numel(_at(outs, 0))
        if n is None:
            return None
        arity = sum(1 for i in node.inputs if i)
        return 0, n * (max(arity - 1, 1) + extra)

    return cost


def _pool(node, ins, outs):
    n = _numel(_at(outs, 0))
    kernel = node.attr("kernel_shape")
    if n is None or not kernel:
        return None
    window = math.prod(kernel)
    extra = n if "Average" in node.op_type else 0
    return 0, n * window + extra


def _global_pool(node, ins, outs):
    n = _numel(_at(ins, 0))
    if n is None:
        return None
    extra = (_numel(_at(outs, 0)) or 0) if "Average" in node.op_type else 0
    return 0, n + extra


def _lrn(node, ins, outs):
    n = _numel(_at(outs, 0))
    return None if n is None else (0, n * (2 * node.attr("size", 1) + 4))


def _resize(node, ins, outs):
    n = _numel(_at(outs, 0))
    if n is None:
        return None
    mode = node.attr("mode", "nearest")
    return 0, n * {"linear": 8, "bilinear": 8, "cubic": 32}.get(mode, 0)


def _tree_ensemble(node, ins, outs):
    x = _shape(_at(ins, 0))
    tree_ids = node.attr("nodes_treeids") or []
    if x is None or not tree_ids:
        return None
    per_tree: dict[int, int] = {}
    for t in tree_ids:
        per_tree[t] = per_tree.get(t, 0) + 1
    # One comparison per level on the path to a leaf: ~log2 of the tree's node count.
    path = sum(max(1, math.ceil(math.log2(c + 1))) for c in per_tree.values())
    return 0, (x[0] if x else 1) * path


def _linear_ml(node, ins, outs):
    x = _shape(_at(ins, 0))
    coefficients = node.attr("coefficients") or []
    if x is None:
        return None
    return 0, 2 * (x[0] if x else 1) * len(coefficients)


def _svm(node, ins, outs):
    x = _shape(_at(ins, 0))
    vectors = node.attr("support_vectors") or node.attr("coefficients") or []
    if x is None:
        return None
    return 0, 2 * (x[0] if x else 1) * len(vectors)


def _dynamic_quantize(node, ins, outs):
    n = _numel(_at(ins, 0))
    return None if n is None else (0, 5 * n)


# ------------------------------------------------------------------------------- the table

RULES: dict[tuple[str, str], OpRule] = {}


def _add(domain: str, names: str, rule: OpRule) -> None:
    for name in names.split():
        RULES[(domain, name)] = rule


_MS = "com.microsoft"
_ML = "ai.onnx.ml"

# MAC operators
RULES[("", "Conv")] = OpRule("conv", _conv(1, 2), True)
RULES[("", "ConvInteger")] = OpRule("conv", _conv(1, None), True)
RULES[("", "QLinearConv")] = OpRule("conv", _conv(3, 8), True)
RULES[("", "ConvTranspose")] = OpRule("conv", _conv_transpose, True)
RULES[("", "DeformConv")] = OpRule("conv", _conv(1, 3), True)
RULES[(_MS, "FusedConv")] = OpRule("conv", _conv(1, 2, sum_index=3), True)
RULES[(_MS, "NhwcConv")] = OpRule("conv", _conv(1, 2), True)
RULES[(_MS, "QLinearConv")] = OpRule("conv", _conv(3, 8), True)
RULES[("", "Gemm")] = OpRule("gemm", _gemm(), True)
RULES[(_MS, "FusedGemm")] = OpRule("gemm", _gemm(), True)
RULES[(_MS, "QGemm")] = OpRule("gemm", _gemm(0, 6), True)
RULES[("", "MatMul")] = OpRule("matmul", _matmul(), True)
RULES[("", "MatMulInteger")] = OpRule("matmul", _matmul(), True)
RULES[("", "QLinearMatMul")] = OpRule("matmul", _matmul(), True)
RULES[("", "Einsum")] = OpRule("matmul", _einsum)
RULES[("", "Attention")] = OpRule("matmul", _onnx_attention)
_add("", "LSTM GRU RNN", OpRule("matmul", _rnn))
_add(
    _MS, "FusedMatMul MatMulIntegerToFloat DynamicQuantizeMatMul", OpRule("matmul", _matmul(), True)
)
_add(_MS, "MatMulNBits MatMulBnb4", OpRule("matmul", _matmul_nbits, True))
RULES[(_MS, "Attention")] = OpRule("matmul", _ms_attention)
RULES[(_MS, "MultiHeadAttention")] = OpRule("matmul", _ms_mha)

# elementwise: FLOPs per output element
_add(
    "",
    "Add Sub Mul Div Mod Neg Abs Sign Ceil Floor Round Equal Less Greater LessOrEqual "
    "GreaterOrEqual And Or Xor Not Where BitShift BitwiseAnd BitwiseOr BitwiseXor BitwiseNot "
    "IsNaN IsInf Reciprocal",
    OpRule("elementwise", _per_output(1)),
)
_add(
    "",
    "Sqrt Exp Log Erf Sin Cos Tan Asin Acos Atan Sinh Cosh Asinh Acosh Atanh Pow",
    OpRule("elementwise", _per_output(4)),
)
_add("", "Clip", OpRule("elementwise", _per_output(2)))
_add("", "Sum Max Min", OpRule("elementwise", _nary()))
RULES[("", "Mean")] = OpRule("elementwise", _nary(extra=1))
_add(_MS, "BiasAdd", OpRule("elementwise", _per_output(2)))
_add(_MS, "QLinearAdd QLinearMul", OpRule("elementwise", _per_output(4)))

# activations
_add("", "Relu ThresholdedRelu", OpRule("activation", _per_output(1)))
_add("", "LeakyRelu PRelu Shrink", OpRule("activation", _per_output(2)))
_add("", "HardSigmoid Elu Softsign Softplus", OpRule("activation", _per_output(3)))
_add("", "Sigmoid HardSwish Selu Celu", OpRule("activation", _per_output(4)))
_add("", "Tanh Swish", OpRule("activation", _per_output(5)))
_add("", "Mish", OpRule("activation", _per_output(6)))
_add("", "Gelu", OpRule("activation", _per_output(8)))
_add("", "Softmax LogSoftmax", OpRule("activation", _per_output(5)))
_add("", "Hardmax", OpRule("activation", _per_output(2)))
_add(_MS, "QuickGelu", OpRule("activation", _per_output(5)))
_add(_MS, "Gelu FastGelu", OpRule("activation", _per_output(8)))
_add(_MS, "BiasGelu", OpRule("activation", _per_output(9)))
_add(_MS, "QLinearSigmoid", OpRule("activation", _per_output(6)))
_add(_MS, "QLinearLeakyRelu", OpRule("activation", _per_output(4)))
_add(_MS, "QLinearSoftmax", OpRule("activation", _per_output(7)))

# normalization: inference form, statistics folded where the model stores them
RULES[("", "BatchNormalization")] = OpRule("norm", _per_output(2))
_add(
    "",
    "InstanceNormalization LayerNormalization GroupNormalization MeanVarianceNormalization",
    OpRule("norm", _per_output(8)),
)
_add("", "RMSNormalization LpNormalization", OpRule("norm", _per_output(4)))
RULES[("", "LRN")] = OpRule("norm", _lrn)
_add(_MS, "LayerNormalization SkipLayerNormalization", OpRule("norm", _per_output(9)))
_add(
    _MS,
    "SimplifiedLayerNormalization SkipSimplifiedLayerNormalization",
    OpRule("norm", _per_output(5)),
)

# pooling
_add("", "MaxPool AveragePool LpPool", OpRule("pool", _pool))
_add("", "GlobalAveragePool GlobalMaxPool GlobalLpPool", OpRule("pool", _global_pool))
_add("", "MaxRoiPool RoiAlign MaxUnpool", OpRule("pool", _per_output(16)))
RULES[(_MS, "QLinearAveragePool")] = OpRule("pool", _pool)
RULES[(_MS, "QLinearGlobalAveragePool")] = OpRule("pool", _global_pool)

# reductions: FLOPs per input element
_add(
    "",
    "ReduceSum ReduceMean ReduceMax ReduceMin ReduceProd ArgMax ArgMin CumSum TopK",
    OpRule("reduce", _per_input(1)),
)
_add("", "ReduceL1 ReduceL2 ReduceSumSquare ReduceLogSum", OpRule("reduce", _per_input(2)))
RULES[("", "ReduceLogSumExp")] = OpRule("reduce", _per_input(5))

# quantization
_add("", "QuantizeLinear", OpRule("quant", _per_output(3)))
_add("", "DequantizeLinear", OpRule("quant", _per_output(2)))
RULES[("", "DynamicQuantizeLinear")] = OpRule("quant", _dynamic_quantize)
RULES[(_MS, "QuantizeLinear")] = OpRule("quant", _per_output(3))
RULES[(_MS, "DequantizeLinear")] = OpRule("quant", _per_output(2))

# data movement: no arithmetic
_add(
    "",
    "Reshape Flatten Squeeze Unsqueeze Transpose Concat Split Slice Gather GatherElements "
    "GatherND Scatter ScatterElements ScatterND Pad Tile Expand Identity Dropout Shape Size "
    "Cast CastLike ConstantOfShape Constant Range EyeLike OneHot NonZero DepthToSpace "
    "SpaceToDepth ReverseSequence Compress Trilu Unique CenterCropPad Col2Im "
    "SequenceAt SequenceConstruct SequenceEmpty SequenceErase SequenceInsert SequenceLength "
    "SplitToSequence ConcatFromSequence SequenceMap Optional OptionalGetElement "
    "OptionalHasElement ImageDecoder",
    OpRule("data"),
)
_add("", "Resize Upsample", OpRule("data", _resize))
RULES[(_MS, "QLinearConcat")] = OpRule("data")
_add("", "GridSample AffineGrid", OpRule("data", _per_output(8)))

# control flow: the subgraphs' nodes carry the cost
_add("", "If Loop Scan", OpRule("control"))

# other known operators with no MACs
_add(
    "",
    "NonMaxSuppression RandomNormal RandomUniform RandomNormalLike RandomUniformLike "
    "Multinomial Bernoulli StringNormalizer StringConcat StringSplit RegexFullMatch "
    "TfIdfVectorizer DFT STFT MelWeightMatrix HannWindow HammingWindow BlackmanWindow "
    "Det",
    OpRule("other"),
)
RULES[(_ML, "TreeEnsembleClassifier")] = OpRule("other", _tree_ensemble)
RULES[(_ML, "TreeEnsembleRegressor")] = OpRule("other", _tree_ensemble)
RULES[(_ML, "TreeEnsemble")] = OpRule("other", _tree_ensemble)
_add(_ML, "LinearClassifier LinearRegressor", OpRule("other", _linear_ml))
_add(_ML, "SVMClassifier SVMRegressor", OpRule("other", _svm))
_add(_ML, "Scaler Binarizer Normalizer Imputer", OpRule("other", _per_output(2)))
_add(
    _ML,
    "ZipMap ArrayFeatureExtractor OneHotEncoder LabelEncoder CastMap DictVectorizer "
    "FeatureVectorizer CategoryMapper",
    OpRule("data"),
)

UNKNOWN = OpRule("other")


def rule_for(domain: str, op_type: str) -> OpRule | None:
    """The rule of an operator, or None when edgegate does not know it."""
    return RULES.get((domain, op_type))
