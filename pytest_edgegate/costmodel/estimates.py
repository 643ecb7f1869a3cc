"""What the cost model returns: :class:`Estimate` and its per-node :class:`NodeCost`.

Plain frozen records shared by the CPU/NPU model (:mod:`.estimate`) and the microcontroller
model (:mod:`.mcu`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Bumped whenever a formula changes: results and baselines carry it, so a comparison across
#: cost-model versions is reported as incomparable rather than as a regression.
COSTMODEL_VERSION = "6"


class CostModelUnavailable(Exception):
    """The profile lacks what the cost model needs; the message says what."""


@dataclass(frozen=True)
class NodeCost:
    name: str
    op_type: str
    device: str
    time_ms: float
    energy_mj: float | None
    bound: str
    macs: int
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "op_type": self.op_type,
            "device": self.device,
            "time_ms": self.time_ms,
            "energy_mj": self.energy_mj,
            "bound": self.bound,
            "macs": self.macs,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Estimate:
    latency_ms: float
    energy_mj: float | None
    threads: int
    nodes: tuple[NodeCost, ...]
    npu_coverage: float | None = None
    npu_node_share: float | None = None
    partitions: int = 0
    cpu_fallback: bool = False
    transfer_ms: float = 0.0
    streamed_weight_bytes: int = 0
    notes: tuple[str, ...] = ()
    energy_unavailable: str = ""
    version: str = COSTMODEL_VERSION
    breakdown: dict[str, float] = field(default_factory=dict)
    #: What ``energy_mj`` covers: ``"increase"`` above the device's idle floor (the CPU and NPU
    #: models), or ``"device"``, the whole device (the MCU model, fitted on board energy).
    energy_basis: str = "increase"

    def to_dict(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "energy_mj": self.energy_mj,
            "threads": self.threads,
            "npu_coverage": self.npu_coverage,
            "npu_node_share": self.npu_node_share,
            "partitions": self.partitions,
            "cpu_fallback": self.cpu_fallback,
            "transfer_ms": self.transfer_ms,
            "streamed_weight_bytes": self.streamed_weight_bytes,
            "notes": list(self.notes),
            "version": self.version,
            "breakdown": dict(self.breakdown),
            "energy_basis": self.energy_basis,
            "nodes": [n.to_dict() for n in self.nodes],
        }


__all__ = ["COSTMODEL_VERSION", "CostModelUnavailable", "Estimate", "NodeCost"]
