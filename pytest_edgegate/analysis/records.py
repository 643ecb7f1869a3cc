"""The records the analysis hands to the rest of edgegate.

They are frozen dataclasses of plain Python values (ints, strings, tuples, dicts) so that a
result can be cached, compared, sent from an xdist worker and written to JSON without knowing
anything about onnx.  Only :class:`LoadedModel` holds a protobuf, because the runner needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import onnx

#: Every ``NodeStats.op_class``; the cost model maps each class to a throughput.
OP_CLASSES = (
    "conv",
    "gemm",
    "matmul",
    "pool",
    "elementwise",
    "activation",
    "norm",
    "reduce",
    "data",
    "quant",
    "control",
    "other",
)


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A model file read and validated by :func:`~pytest_edgegate.analysis.load_model`.

    ``file_bytes`` counts the ``.onnx`` file plus every external data file it references
    (what ``size_mb`` reports); ``sha256`` is of the ``.onnx`` file alone, enough to key a
    cache because external files are named by it.  The external tensors of ``proto`` are not
    loaded: the analysis needs their dims only.  ``warnings`` carries what loading tolerated
    (e.g. a checker quirk) so that the analysis can report it.  Equality and hashing are by
    identity, so a loaded model can key a cache without hashing its protobuf.
    """

    path: str | None
    proto: onnx.ModelProto = field(repr=False)
    file_bytes: int
    sha256: str | None
    external_files: tuple[str, ...]
    name: str
    warnings: tuple[str, ...] = ()
    #: The file's format (``"onnx"`` or ``"tflite"``); for another format ``proto`` is its
    #: in-memory ONNX translation and ``source`` the format's own parsed model.
    format: str = "onnx"
    source: Any = field(default=None, repr=False)


@dataclass(frozen=True)
class TensorInfo:
    """A graph input or output with the shape the analysis used.

    ``dynamic`` names the dims that the model leaves open (their ``dim_param``, or
    ``"<input>.<axis>"`` for unnamed ones), whether they were then given by ``input_shapes``
    or assumed; an empty ``shape`` with ``dtype`` set means a scalar, ``shape is None`` that
    the shape could not be derived.
    """

    name: str
    shape: tuple[int, ...] | None
    dtype: str
    dynamic: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "shape": None if self.shape is None else list(self.shape),
            "dtype": self.dtype,
            "dynamic": list(self.dynamic),
        }


@dataclass(frozen=True)
class NodeStats:
    """Cost of one node for one inference.

    The arithmetic and byte counts are totals per inference: a node in a ``Loop`` body that
    runs 10 times carries 10 times its single-run cost and ``executions == 10``; a node of the
    ``If`` branch that is not counted has ``executions == 0`` and zero costs.  Summing the
    nodes therefore gives the model's totals.  ``folded`` marks nodes whose inputs are all
    constants (``Constant``, the ``ConstantOfShape`` weights of the light models, ``Unsqueeze``
    of a weight...): a runtime evaluates them once at load time, so they cost nothing per
    inference and their outputs count as weights, not activations.

    ``bytes_read`` includes ``weight_bytes`` (the constant inputs, charged at their stored
    precision: an int8 weight behind a ``DequantizeLinear`` costs one byte per element).
    ``attrs`` keeps the attributes a device model needs (kernel_shape, strides, pads,
    dilations, group, ...), as plain lists and ints.
    """

    name: str
    op_type: str
    domain: str
    scope: str
    op_class: str
    macs: int
    flops: int
    bytes_read: int
    bytes_written: int
    weight_bytes: int
    compute_dtype: str
    output_shapes: tuple[tuple[int, ...] | None, ...]
    attrs: dict[str, Any]
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    executions: int = 1
    folded: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "op_type": self.op_type,
            "domain": self.domain,
            "scope": self.scope,
            "op_class": self.op_class,
            "macs": self.macs,
            "flops": self.flops,
            "bytes_read": self.bytes_read,
            "bytes_written": self.bytes_written,
            "weight_bytes": self.weight_bytes,
            "compute_dtype": self.compute_dtype,
            "output_shapes": [None if s is None else list(s) for s in self.output_shapes],
            "attrs": dict(self.attrs),
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "executions": self.executions,
            "folded": self.folded,
        }


@dataclass(frozen=True)
class ModelAnalysis:
    """Static figures of one model at one set of input shapes.

    Units are raw counts and bytes; :meth:`metrics` converts to the metric names
    (``size_mb``, ``params_m``, ...).  ``macs`` counts the multiply-accumulates of
    Conv/ConvTranspose/Gemm/MatMul and their quantized and fused forms only; ``flops`` is
    all arithmetic with a MAC counted as two.  ``macs_by_dtype`` splits ``macs`` by the
    precision the MACs run in (``NodeStats.compute_dtype``), ``is_quantized`` says whether
    the model holds QDQ or QOperator integer quantization.  Every counting rule:
    ``docs/design-notes.md``, section ``pytest_edgegate/analysis/__init__.py``.
    """

    name: str
    path: str | None
    file_bytes: int
    sha256: str | None
    params: int
    param_bytes: int
    params_by_dtype: dict[str, int]
    param_bytes_by_dtype: dict[str, int]
    macs: int
    flops: int
    peak_activation_bytes: int
    nodes: tuple[NodeStats, ...]
    op_histogram: dict[str, int]
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    assumed_dims: dict[str, int]
    opsets: dict[str, int]
    warnings: tuple[str, ...]
    is_quantized: bool
    macs_by_dtype: dict[str, int]
    ir_version: int = 0
    #: Main-graph activations at the size a deployment stores them (see ``.precision``).
    activation_bytes: dict[str, int] = field(default_factory=dict)
    unsized_activations: tuple[str, ...] = ()

    @property
    def static_peak_memory_bytes(self) -> int:
        """Weights plus the peak of live activations: the static ``peak_memory_mb``.

        A lower bound when :attr:`peak_memory_known` is false."""
        return self.param_bytes + self.peak_activation_bytes

    @property
    def peak_memory_known(self) -> bool:
        """False when some activation's size depends on input values
        (``unsized_activations``): the static peak is then unknown."""
        return not self.unsized_activations

    def peak_memory_unknown_reason(self) -> str:
        """Why the static peak is unknown (empty when it is known)."""
        if self.peak_memory_known:
            return ""
        names = ", ".join(f"'{n}'" for n in self.unsized_activations[:3])
        more = len(self.unsized_activations) - 3
        names += f" and {more} more" if more > 0 else ""
        return (
            f"unknown statically: the size of {names} depends on input values (at least "
            f"{self.static_peak_memory_bytes / 1e6:.3g} MB); run the model with "
            "--edge-memory=measured to measure it under the device's memory cap"
        )

    def metrics(self) -> dict[str, float]:
        """The static metrics under their metric names (1 MB = 1,000,000 bytes)."""
        return {
            "size_mb": self.file_bytes / 1e6,
            "params_m": self.params / 1e6,
            "macs_m": self.macs / 1e6,
            "flops_m": self.flops / 1e6,
            **(
                {"peak_memory_mb": self.static_peak_memory_bytes / 1e6}
                if self.peak_memory_known
                else {}
            ),
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (lists for tuples); ``json.dumps`` takes it as it is."""
        return {
            "name": self.name,
            "path": self.path,
            "file_bytes": self.file_bytes,
            "sha256": self.sha256,
            "params": self.params,
            "param_bytes": self.param_bytes,
            "params_by_dtype": dict(self.params_by_dtype),
            "param_bytes_by_dtype": dict(self.param_bytes_by_dtype),
            "macs": self.macs,
            "flops": self.flops,
            "peak_activation_bytes": self.peak_activation_bytes,
            "nodes": [n.to_dict() for n in self.nodes],
            "op_histogram": dict(self.op_histogram),
            "inputs": [t.to_dict() for t in self.inputs],
            "outputs": [t.to_dict() for t in self.outputs],
            "assumed_dims": dict(self.assumed_dims),
            "opsets": dict(self.opsets),
            "warnings": list(self.warnings),
            "is_quantized": self.is_quantized,
            "macs_by_dtype": dict(self.macs_by_dtype),
            "ir_version": self.ir_version,
            "activation_bytes": dict(self.activation_bytes),
            "unsized_activations": list(self.unsized_activations),
        }
