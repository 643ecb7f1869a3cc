"""Static analysis of ONNX models: size, parameters, MACs, FLOPs, bytes moved, peak memory.

Public API (used by the plugin, the cost model and the reports)::

    load_model(path, *, max_bytes=2_000_000_000, check=True) -> LoadedModel
    analyze(model, input_shapes=None, *, default_dim=1) -> ModelAnalysis

Everything here is deterministic: the same model and input shapes give the same figures on
every machine, which is what lets a CI gate compare them across commits.

Counting conventions, each documented where it is implemented:

* parameters (:mod:`.params`): initializers, ``Constant`` values and constant-shaped
  ``ConstantOfShape`` outputs; shape/index plumbing excluded;
* MACs and FLOPs (:mod:`.counts`): MACs of the matrix operators only, FLOPs = 2 x MACs plus
  every other op's arithmetic; ``If`` counts its costlier branch, a ``Loop`` its body times a
  constant trip count (else once, with a warning), a ``Scan`` its body once per iteration;
* bytes per node (:mod:`.analyze`): inputs read (weights at their stored precision) and
  outputs written, from the inferred shapes; nodes folded at load time cost nothing;
* peak activations (:mod:`.liveness`): liveness over the topological order, weights
  excluded, each activation at the precision a deployment stores it (:mod:`.precision`);
  the microcontroller arena is planned separately (:mod:`.arena`);
* shapes (:mod:`.shapes`, :mod:`.shape_rules`): ONNX inference with ``data_prop`` on the
  resolved input shapes, completed by edgegate's own rules; every assumed dynamic dim and
  every gap is reported in ``ModelAnalysis.warnings``;
* external data (:mod:`.loader`): validated when loading (location, existence, size) and
  never read, except int64/int32 shape vectors of at most 4096 elements that shape
  inference needs (a ``Reshape`` target stored externally).
"""

from __future__ import annotations

from .analyze import analyze
from .loader import load_model
from .records import LoadedModel, ModelAnalysis, NodeStats, TensorInfo

__all__ = ["LoadedModel", "ModelAnalysis", "NodeStats", "TensorInfo", "analyze", "load_model"]
