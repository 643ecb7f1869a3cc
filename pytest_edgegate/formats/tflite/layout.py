"""Which rank-4 tensors of a TFLite graph are images (NHWC) to be laid out NCHW in ONNX.

A tensor is an image when it is rank 4 and joined, through layout-agnostic operators
(element-wise maths, activations, (de)quantization, concatenation, padding), to a spatial
operator (convolution, pooling, resizing).  Other rank-4 tensors (attention scores, ...)
keep their axes, so a ``BATCH_MATMUL`` still multiplies its last two dims.
"""

from __future__ import annotations

from .reader import TflSubgraph

#: NHWC -> NCHW: ONNX dim j is TFLite dim ``TO_NCHW[j]``; TFLite axis a is ONNX ``AXIS[a]``.
TO_NCHW = (0, 3, 1, 2)
AXIS = (0, 2, 3, 1)

SPATIAL = frozenset(
    [
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "TRANSPOSE_CONV",
        "AVERAGE_POOL_2D",
        "MAX_POOL_2D",
        "L2_POOL_2D",
        "RESIZE_BILINEAR",
        "RESIZE_NEAREST_NEIGHBOR",
        "DEPTH_TO_SPACE",
        "SPACE_TO_DEPTH",
    ]
)
JOIN = frozenset(
    [
        "ADD",
        "SUB",
        "MUL",
        "DIV",
        "MAXIMUM",
        "MINIMUM",
        "SQUARED_DIFFERENCE",
        "POW",
        "RELU",
        "RELU6",
        "RELU_N1_TO_1",
        "RELU_0_TO_1",
        "LOGISTIC",
        "TANH",
        "HARD_SWISH",
        "LEAKY_RELU",
        "PRELU",
        "ELU",
        "GELU",
        "QUANTIZE",
        "DEQUANTIZE",
        "ABS",
        "EXP",
        "LOG",
        "NEG",
        "SQRT",
        "RSQRT",
        "SQUARE",
        "CONCATENATION",
        "PAD",
        "PADV2",
        "MIRROR_PAD",
        "CAST",
        "FLOOR",
        "CEIL",
        "ROUND",
        "SIN",
        "COS",
    ]
)


def image_tensors(sg: TflSubgraph) -> frozenset[int]:
    """Indices of the tensors laid out NCHW in the ONNX graph."""
    parent = list(range(len(sg.tensors)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def rank4(i: int) -> bool:
        return i >= 0 and len(sg.tensors[i].shape) == 4

    seeds: set[int] = set()
    for op in sg.operators:
        ends = [i for i in (*op.inputs, *op.outputs) if rank4(i)]
        if op.op in SPATIAL:
            data = [op.inputs[2]] if op.op == "TRANSPOSE_CONV" else list(op.inputs[:1])
            seeds.update(i for i in (*data, *op.outputs) if rank4(i))
        elif op.op in JOIN:
            for i in ends[1:]:
                parent[find(i)] = find(ends[0])
    roots = {find(i) for i in seeds}
    return frozenset(i for i in range(len(sg.tensors)) if rank4(i) and find(i) in roots)
