"""onnxruntime's per-node profile of one run, parsed into plain records.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/runner/profiling.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass

#: Optimized-graph op types whose time is dominated by convolution arithmetic.
CONV_OPS = frozenset(
    {
        "Conv",
        "FusedConv",
        "ConvTranspose",
        "QLinearConv",
        "ConvInteger",
        "NhwcConv",
        "NhwcFusedConv",
        "QLinearConvTranspose",
    }
)
#: ... and by matrix-multiplication arithmetic.
GEMM_OPS = frozenset(
    {
        "Gemm",
        "FusedGemm",
        "MatMul",
        "FusedMatMul",
        "MatMulInteger",
        "QLinearMatMul",
        "MatMulIntegerToFloat",
        "DynamicQuantizeMatMul",
        "QGemm",
        "MatMulNBits",
        "Attention",
        "MultiHeadAttention",
    }
)


def op_class(op_type: str) -> str:
    """``conv``, ``gemm`` or ``other``."""
    if op_type in CONV_OPS:
        return "conv"
    if op_type in GEMM_OPS:
        return "gemm"
    return "other"


@dataclass(frozen=True)
class NodeTiming:
    name: str
    op_type: str
    duration_us: float

    def to_dict(self) -> dict:
        return {"name": self.name, "op_type": self.op_type, "duration_us": self.duration_us}


@dataclass(frozen=True)
class OpTypeTiming:
    op_type: str
    op_class: str
    count: int
    duration_us: float
    share: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class NodeProfile:
    """Per-node and per-op-type time of one run; ``class_share`` splits it conv/gemm/other."""

    nodes: tuple[NodeTiming, ...]
    by_op_type: tuple[OpTypeTiming, ...]
    total_us: float
    class_share: dict[str, float]

    def to_dict(self) -> dict:
        return {
            "nodes": [n.to_dict() for n in self.nodes],
            "by_op_type": [o.to_dict() for o in self.by_op_type],
            "total_us": self.total_us,
            "class_share": dict(self.class_share),
        }

    @classmethod
    def from_dict(cls, data: dict) -> NodeProfile:
        return cls(
            nodes=tuple(NodeTiming(**n) for n in data["nodes"]),
            by_op_type=tuple(OpTypeTiming(**o) for o in data["by_op_type"]),
            total_us=float(data["total_us"]),
            class_share={k: float(v) for k, v in data["class_share"].items()},
        )


def parse_profile(events: list[dict]) -> NodeProfile:
    """The node events of the last ``model_run`` in an onnxruntime profile."""
    runs = [e for e in events if e.get("cat") == "Session" and e.get("name") == "model_run"]
    node_events = [
        e
        for e in events
        if e.get("cat") == "Node" and str(e.get("name", "")).endswith("_kernel_time")
    ]
    if runs:
        last = max(runs, key=lambda e: e["ts"])
        start, end = last["ts"], last["ts"] + last.get("dur", 0)
        node_events = [e for e in node_events if start <= e["ts"] <= end]
    node_events.sort(key=lambda e: e["ts"])
    nodes = tuple(
        NodeTiming(
            name=str(e["name"])[: -len("_kernel_time")],
            op_type=str(e.get("args", {}).get("op_name", "?")),
            duration_us=float(e.get("dur", 0)),
        )
        for e in node_events
    )
    total = sum(n.duration_us for n in nodes)
    per_op: dict[str, list[float]] = {}
    for n in nodes:
        per_op.setdefault(n.op_type, []).append(n.duration_us)
    by_op = tuple(
        sorted(
            (
                OpTypeTiming(
                    op_type=op,
                    op_class=op_class(op),
                    count=len(d),
                    duration_us=sum(d),
                    share=sum(d) / total if total else 0.0,
                )
                for op, d in per_op.items()
            ),
            key=lambda o: (-o.duration_us, o.op_type),
        )
    )
    share = {"conv": 0.0, "gemm": 0.0, "other": 0.0}
    for o in by_op:
        share[o.op_class] += o.share
    return NodeProfile(nodes=nodes, by_op_type=by_op, total_us=total, class_share=share)


def read_profile(path: str) -> NodeProfile:
    """Parse the profile file onnxruntime wrote, then delete it (it can be megabytes)."""
    try:
        with open(path, encoding="utf-8") as fh:
            events = json.load(fh)
    finally:
        with contextlib.suppress(OSError):
            os.remove(path)
    return parse_profile(events)
