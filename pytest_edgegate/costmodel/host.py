"""A model's work as the host translation measures it: FLOPs of float and int8 products,
streamed bytes, run calls and dispatched nodes (the kinds of :data:`runner.hostwork.KERNELS`)."""

from __future__ import annotations

from pytest_edgegate.analysis import ModelAnalysis
from pytest_edgegate.costmodel.terms import INT_TYPES, cpu_class, executed, node_bytes

#: The kinds of work, one per host kernel (kept equal to ``runner.hostwork.KERNELS``'s keys;
#: a test checks it).
WORK_KINDS = ("conv", "gemm", "conv_int8", "gemm_int8", "stream", "call", "dispatch")


def host_work(analysis: ModelAnalysis) -> dict[str, float]:
    """The model's work by the kind of kernel that measures the host's speed at it: MACs (as
    FLOPs) of float and of quantized products apart, every node's bytes as streaming, one
    ``run`` call, and the node executions the runtime dispatches."""
    work = dict.fromkeys(WORK_KINDS, 0.0)
    work["call"] = 1.0
    for node in executed(analysis.nodes):
        work["dispatch"] += node.executions
        cls = cpu_class(node)
        if cls != "vector":
            kind = "gemm" if cls == "gemm" else "conv"
            work[kind + ("_int8" if node.compute_dtype in INT_TYPES else "")] += node.flops
        work["stream"] += node_bytes(node)
    return work
