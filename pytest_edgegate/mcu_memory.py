"""What a model needs on a microcontroller: SRAM (the tensor arena) and flash (weights + code).

SRAM is the arena TFLite Micro would allocate (:mod:`pytest_edgegate.analysis.arena`: planned
tensors and kernel scratch, plus the persistent part).  Flash is the weights at their stored
size plus the runtime's code (:mod:`pytest_edgegate.code_size`), which depends on the
operators the model uses.  See docs/memory.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_edgegate.analysis.arena import TFLM_CMSIS_NN, ArenaPlan, ArenaRules, plan_arena
from pytest_edgegate.code_size import CodeSize, code_size

if TYPE_CHECKING:
    from pytest_edgegate.analysis import ModelAnalysis
    from pytest_edgegate.profiles.model import DeviceProfile

#: Peak tensors listed in the terminal (the JSON keeps them all).
SHOWN_TENSORS = 6


@dataclass(frozen=True)
class McuMemory:
    plan: ArenaPlan
    weights_bytes: int
    code: CodeSize

    @property
    def sram_bytes(self) -> int:
        return self.plan.arena_bytes

    @property
    def flash_bytes(self) -> int:
        return self.weights_bytes + self.code.total_bytes

    def to_dict(self) -> dict[str, Any]:
        return {
            "sram_bytes": self.sram_bytes,
            "flash_bytes": self.flash_bytes,
            "weights_bytes": self.weights_bytes,
            "code": self.code.to_dict(),
            "arena": self.plan.to_dict(),
        }

    def summary(self) -> str:
        return summary(self.to_dict())


def summary(d: dict[str, Any]) -> str:
    """One line from a ``to_dict`` (as a result file holds it), for the terminal."""
    arena = d.get("arena") or {}
    code = d.get("code") or {}
    peak = [str(t) for t in arena.get("peak_tensors") or []]
    tensors = ", ".join(peak[:SHOWN_TENSORS])
    if len(peak) > SHOWN_TENSORS:
        tensors += f", +{len(peak) - SHOWN_TENSORS} more"
    return (
        f"SRAM {kb(d.get('sram_bytes'))} = arena {kb(arena.get('planned_bytes'))} (scratch "
        f"at the peak {kb(arena.get('scratch_bytes'))}) + persistent "
        f"{kb(arena.get('persistent_bytes'))} [{arena.get('rules', '?')}]; peak tensors: "
        f"{tensors or 'none'}; flash {kb(d.get('flash_bytes'))} = weights "
        f"{kb(d.get('weights_bytes'))} + runtime code {kb(code.get('total_bytes'))}"
    )


def terminal_lines(rows: list[Any]) -> list[str]:
    """``  SRAM/flash <test>: ...`` for the results of a microcontroller target."""
    lines: dict[str, None] = {}  # one line per model, however many tests evaluate it
    for r in rows:
        d = (r.details or {}).get("mcu_memory") if isinstance(r.details, dict) else None
        if isinstance(d, dict):
            lines[f"  memory {r.model}: {summary(d)}"] = None
    return list(lines)


def rules_for(profile: DeviceProfile) -> ArenaRules:
    """The runtime a microcontroller profile is planned for: TFLite Micro with CMSIS-NN."""
    return TFLM_CMSIS_NN


def mcu_memory(profile: DeviceProfile, analysis: ModelAnalysis) -> McuMemory:
    plan = plan_arena(analysis, rules_for(profile))
    return McuMemory(plan, analysis.param_bytes, code_size(analysis))


def kb(n: Any) -> str:
    """Bytes as ``12.3 kB`` (``n/a`` for anything but a number)."""
    if isinstance(n, bool) or not isinstance(n, (int, float)):
        return "n/a"
    return f"{n / 1000:.1f} kB"
