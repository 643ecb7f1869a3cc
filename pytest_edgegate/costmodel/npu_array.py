"""How much of a systolic MAC array a layer fills, and which weights an on-chip cache holds."""

from __future__ import annotations

import math
from collections.abc import Sequence

from pytest_edgegate.analysis import NodeStats

#: Operators whose MACs run on the array as a matrix product (im2col view).
CONV_OPS = ("Conv", "ConvTranspose", "QLinearConv", "ConvInteger")


def _fill(n: int, tile: int) -> float:
    """Share of the array's ``tile`` lanes used by ``n`` lanes of work (ceil-padded to tiles)."""
    return n / (math.ceil(n / tile) * tile) if n > 0 else 1.0


def array_utilisation(node: NodeStats, tile: int) -> float:
    """Share of a ``tile`` x ``tile`` systolic array's MACs a node keeps busy (0 < u <= 1).

    The layer is read as a matrix product ``[P x K] @ [K x N]``: K the reduction depth
    (input channels per group x kernel taps, or a Gemm's inner dimension) down the array's
    rows, N the output channels across its columns, P the output pixels streamed through.
    K and N are padded up to whole tiles; each pass of P pixels pays ``tile`` cycles to fill
    and drain the pipeline.  A depthwise convolution (one input channel per group) puts its
    channels across the columns and its kernel taps down the rows.  ``tile <= 0`` or a node
    without MACs or shapes: 1.
    """
    out = node.output_shapes[0] if node.output_shapes else None
    if tile <= 0 or node.macs <= 0 or not out:
        return 1.0
    outputs = math.prod(out)
    if outputs <= 0:
        return 1.0
    k = max(1, round(node.macs / (max(1, node.executions) * outputs)))
    if node.op_type in CONV_OPS and len(out) >= 3:
        groups = max(1, int(node.attrs.get("group", 1) or 1))
        channels = out[1]
        n = channels if groups == channels else max(1, channels // groups)
        pixels = math.prod(out[2:]) * out[0]
    else:
        n = out[-1]
        pixels = max(1, outputs // max(1, n))
    return _fill(k, tile) * _fill(n, tile) * pixels / (pixels + tile)


def streamed_weight_bytes(nodes: Sequence[NodeStats], onchip_bytes: float) -> int:
    """Weight bytes that stream from host memory every inference: layers are cached whole, in
    graph order, while they fit the on-chip memory; every later layer's weights stream."""
    used = 0
    streamed = 0
    for node in nodes:
        w = node.weight_bytes
        if streamed or used + w > onchip_bytes:
            streamed += w
        else:
            used += w
    return streamed


#: Activations a TFLite convolution or fully connected op carries as its fused activation.
FUSABLE_ACTIVATIONS = ("Relu", "Clip")
_PASS_THROUGH = ("QuantizeLinear", "DequantizeLinear")


def fused_activations(nodes: Sequence[NodeStats]) -> dict[int, int]:
    """Activation position -> position of the MAC layer it folds into (TFLite's
    ``fused_activation_function``): a Relu/Clip whose input (through Q/DQ nodes) is a MAC
    layer's output that nothing else reads."""
    producer = {o: i for i, n in enumerate(nodes) for o in n.outputs if o}
    readers: dict[str, int] = {}
    for n in nodes:
        for name in n.inputs:
            readers[name] = readers.get(name, 0) + 1
    fused: dict[int, int] = {}
    for i, n in enumerate(nodes):
        if n.op_type not in FUSABLE_ACTIVATIONS or not n.inputs:
            continue
        name = n.inputs[0]
        while True:
            j = producer.get(name)
            if j is None or readers.get(name, 0) != 1:
                break
            if nodes[j].macs > 0:
                fused[i] = j
                break
            if nodes[j].op_type not in _PASS_THROUGH or not nodes[j].inputs:
                break
            name = nodes[j].inputs[0]
    return fused


def fused_requantisation(
    nodes: Sequence[NodeStats], devices: Sequence[str], graph_outputs: set[str]
) -> set[int]:
    """Positions of QuantizeLinear/DequantizeLinear nodes a compiler folds into the integer
    operators around them: on the NPU, fed by an NPU node, and read only by NPU nodes (the
    graph's first Quantize and last Dequantize stay real work)."""
    where = {o: devices[i] for i, n in enumerate(nodes) for o in n.outputs if o}
    readers: dict[str, list[str]] = {}
    for i, n in enumerate(nodes):
        for name in n.inputs:
            readers.setdefault(name, []).append(devices[i])
    fused: set[int] = set()
    for i, n in enumerate(nodes):
        if n.op_type not in _PASS_THROUGH or devices[i] != "npu" or not n.inputs:
            continue
        outs = [o for o in n.outputs if o]
        if where.get(n.inputs[0]) != "npu" or any(o in graph_outputs for o in outs):
            continue
        if outs and all(readers.get(o) and set(readers[o]) == {"npu"} for o in outs):
            fused.add(i)
    return fused
