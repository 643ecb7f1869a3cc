"""What a model's format means on one device: the runtime that runs it and what it needs.

The result is plain data the rest of edgegate uses without knowing the format: the
runtime's name, and, where the runtime itself was asked, the working memory (SRAM) and flash
the model needs on the device.  A ``.tflite`` on a microcontroller profile is allocated with
TensorFlow Lite Micro here; nothing else needs a runtime at this point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import runtime_name

_MICRO_CACHE: dict[tuple[str | None, str | None, int], Any] = {}


@dataclass(frozen=True)
class Deployment:
    format: str
    runtime: str
    sram_bytes: int | None = None  # measured working memory (TFLite Micro arena)
    flash_bytes: int | None = None  # model plus runtime code in flash
    details: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = {"format": self.format, "runtime": self.runtime, **self.details}
        if self.sram_bytes is not None:
            out["sram_bytes"] = self.sram_bytes
        if self.flash_bytes is not None:
            out["flash_bytes"] = self.flash_bytes
        return out


def deployment(loaded: Any, profile: Any, timeout_s: float, analysis: Any = None) -> Deployment:
    """The runtime of ``loaded`` (a LoadedModel) on ``profile``, and what it needs there."""
    fmt = getattr(loaded, "format", "onnx")
    runtime = runtime_name(fmt, is_mcu=profile.is_mcu)
    if fmt != "tflite" or not profile.is_mcu:
        return Deployment(fmt, runtime)
    from .tflite.micro import micro_fit

    key = (loaded.path, loaded.sha256, loaded.file_bytes)
    fit = _MICRO_CACHE.get(key)
    if fit is None:
        fit = micro_fit(loaded.path, loaded.name, loaded.file_bytes, profile.id, timeout_s)
        _MICRO_CACHE[key] = fit
    notes = []
    if analysis is not None and not analysis.is_quantized:
        notes.append(
            f"{loaded.name} is a float model on the microcontroller {profile.id}: TensorFlow "
            "Lite Micro runs float kernels, but microcontroller deployments are normally int8 "
            "(4x less flash and SRAM, integer kernels)"
        )
    return Deployment(fmt, runtime, fit.arena_bytes, fit.flash_bytes, fit.to_dict(), tuple(notes))
