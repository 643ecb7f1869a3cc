"""The microcontroller memory block of a result in the HTML report (SRAM arena and flash).

Reads ``details["mcu_memory"]`` as a result file holds it (any value may be missing or of the
wrong type) and returns plain strings for the template, which escapes them.
"""

from __future__ import annotations

from typing import Any

from pytest_edgegate.mcu_memory import kb

#: Peak tensors shown (the JSON keeps them all).
SHOWN = 12


def mcu_view(details: dict[str, Any]) -> dict[str, Any] | None:
    """Facts, peak tensors and kernels of the SRAM/flash figures, or None without them."""
    d = details.get("mcu_memory")
    if not isinstance(d, dict):
        return None
    arena = d.get("arena") if isinstance(d.get("arena"), dict) else {}
    code = d.get("code") if isinstance(d.get("code"), dict) else {}
    sram = [
        ("SRAM", kb(d.get("sram_bytes"))),
        ("planned tensors", kb(arena.get("planned_bytes"))),
        ("of which scratch at the peak", kb(arena.get("scratch_bytes"))),
        ("persistent", kb(arena.get("persistent_bytes"))),
        ("runtime", str(arena.get("rules", "?"))[:80]),
    ]
    kernels = code.get("kernel_bytes") if isinstance(code.get("kernel_bytes"), dict) else {}
    flash = [
        ("flash", kb(d.get("flash_bytes"))),
        ("weights", kb(d.get("weights_bytes"))),
        ("runtime code", kb(code.get("total_bytes"))),
        ("framework", kb(code.get("framework_bytes"))),
    ]
    flash += [(str(k)[:40], kb(v)) for k, v in list(kernels.items())[:20]]
    raw = arena.get("peak_tensors")
    peak = [str(t)[:120] for t in raw] if isinstance(raw, list) else []
    unmeasured = code.get("unmeasured_ops")
    return {
        "sram": sram,
        "flash": flash,
        "peak": peak[:SHOWN],
        "more": max(len(peak) - SHOWN, 0),
        "unmeasured": [str(u)[:40] for u in unmeasured][:20]
        if isinstance(unmeasured, list)
        else [],
    }
