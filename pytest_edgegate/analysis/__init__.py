"""Static analysis of ONNX models: size, parameters, MACs, FLOPs, bytes moved, peak memory.

Design notes (counting conventions): ``docs/design-notes.md``, section
``pytest_edgegate/analysis/__init__.py``; memory: ``docs/memory.md``.
"""

from __future__ import annotations

from .analyze import analyze
from .loader import load_model
from .records import LoadedModel, ModelAnalysis, NodeStats, TensorInfo

__all__ = ["LoadedModel", "ModelAnalysis", "NodeStats", "TensorInfo", "analyze", "load_model"]
