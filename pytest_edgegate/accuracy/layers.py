"""Where accuracy was lost: match the two graphs' intermediate tensors and rank the layers.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/accuracy/layers.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_edgegate.accuracy.fidelity import MAX_SQNR_DB

QDQ_OPS = frozenset({"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear"})
#: Operators that only move or reshape data: their output's SQNR is their input's.
SHAPE_OPS = frozenset(
    {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Identity", "Dropout"}
)
SKIPPED_OPS = QDQ_OPS | SHAPE_OPS | {"Constant", "ConstantOfShape", "Shape", "Size"}
#: Activations a quantizer or an optimizer folds into the layer that produces their input.
FOLDED_ACTIVATIONS = frozenset({"Relu", "Clip"})
#: ONNX element types of float tensors (FLOAT, FLOAT16, DOUBLE, BFLOAT16).
FLOAT_TYPES = frozenset({1, 10, 11, 16})
#: How many layers :attr:`AccuracyResult.worst_layers` names.
WORST_COUNT = 3


@dataclass(frozen=True)
class Probe:
    """One matched layer: the reference tensor and the candidate tensor that mirrors it.

    ``scale``/``zero_point`` name candidate initializers to dequantize an integer tensor
    with (QOperator form); ``parents`` are the reference tensors of the previous layers
    (probes or graph inputs).
    """

    tensor: str
    candidate: str
    name: str
    op_type: str
    parents: tuple[str, ...] = ()
    scale: str | None = None
    zero_point: str | None = None

    def request(self) -> dict[str, Any]:
        """What the candidate's child needs to expose and dequantize this tensor."""
        return {"tensor": self.candidate, "scale": self.scale, "zero_point": self.zero_point}


@dataclass
class LayerMap:
    """The probes in reference graph order (inputs first), and what could not be matched."""

    probes: list[Probe] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)


class _Graph:
    """Indexes of one graph: producers, consumers, initializers, every tensor name."""

    def __init__(self, graph: Any) -> None:
        self.nodes = list(graph.node)
        self.initializers = {init.name for init in graph.initializer}
        self.inputs = [v.name for v in graph.input if v.name not in self.initializers]
        self.producer: dict[str, Any] = {}
        self.consumers: dict[str, list[Any]] = {}
        for node in self.nodes:
            for out in node.output:
                if out:
                    self.producer[out] = node
            for inp in node.input:
                if inp:
                    self.consumers.setdefault(inp, []).append(node)
        self.tensors = set(self.producer) | set(self.inputs)

    def dequantized(self, tensor: str) -> tuple[str, str | None, str | None] | None:
        """The float value the graph makes of ``tensor`` after quantizing it: the output of a
        ``DequantizeLinear`` fed by ``tensor`` or by a ``QuantizeLinear`` of it; failing
        that, a ``QuantizeLinear``'s integer output with its scale and zero-point
        initializers (QOperator form: the quantized operators read it directly)."""
        for node in self.consumers.get(tensor, ()):
            if node.op_type == "DequantizeLinear":
                return node.output[0], None, None
        for q in self.consumers.get(tensor, ()):
            if q.op_type != "QuantizeLinear":
                continue
            for dq in self.consumers.get(q.output[0], ()):
                if dq.op_type == "DequantizeLinear":
                    return dq.output[0], None, None
            scale = q.input[1] if len(q.input) > 1 else ""
            zero = q.input[2] if len(q.input) > 2 else ""
            if scale in self.initializers:
                return q.output[0], scale, (zero if zero in self.initializers else None)
        return None

    def origin(self, tensor: str) -> Any | None:
        """The node that computes ``tensor``, looking through Q/DQ nodes."""
        node = self.producer.get(tensor)
        seen = 0
        while node is not None and node.op_type in QDQ_OPS and seen < 8:
            node = self.producer.get(node.input[0])
            seen += 1
        return node


def _float_tensors(model: Any) -> dict[str, bool]:
    """Tensor name -> whether it is a float tensor, from shape inference (best effort)."""
    import onnx

    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # noqa: BLE001 - without types every tensor is tried
        return {}
    out = {}
    graph = inferred.graph
    for value in [*graph.value_info, *graph.input, *graph.output]:
        if value.type.HasField("tensor_type"):
            out[value.name] = value.type.tensor_type.elem_type in FLOAT_TYPES
    return out


def match_layers(reference: Any, candidate: Any) -> LayerMap:
    """Match the reference's float intermediate tensors (and quantized inputs) to tensors of
    the candidate; both are ``onnx.ModelProto`` (external data not needed)."""
    ref = _Graph(reference.graph)
    cand = _Graph(candidate.graph)
    is_float = _float_tensors(reference)
    found = LayerMap()

    def find(tensor: str) -> tuple[str, str | None, str | None] | None:
        if tensor in cand.tensors:
            return cand.dequantized(tensor) or (tensor, None, None)
        renamed = f"{tensor}_DequantizeLinear_Output"
        if renamed in cand.tensors:
            return renamed, None, None
        quantized = f"{tensor}_quantized"
        if quantized in cand.tensors:
            dq = cand.dequantized(quantized)
            if dq is not None and dq[1] is None:
                return dq
            scale, zp = f"{tensor}_scale", f"{tensor}_zero_point"
            if scale in cand.initializers:
                return quantized, scale, zp if zp in cand.initializers else None
        return None

    def display(tensor: str, cand_tensor: str, ref_node: Any | None) -> tuple[str, str]:
        node = cand.origin(cand_tensor)
        if node is not None and node.name:
            return node.name, node.op_type
        if ref_node is not None:
            return (ref_node.name or tensor), ref_node.op_type
        return tensor, "input"

    # reference tensor -> (candidate match, reference node); insertion order = graph order
    matched: dict[str, tuple[tuple[str, str | None, str | None], Any | None]] = {}
    for name in ref.inputs:
        hit = find(name)
        if is_float.get(name, True) and hit is not None and hit[0] != name:
            matched[name] = (hit, None)  # the candidate quantizes this input
    for node in ref.nodes:
        if node.op_type in SKIPPED_OPS:
            continue
        for out in node.output:
            if not out or not is_float.get(out, True):
                continue
            hit = find(out)
            folded = node.input[0] if node.input else ""
            if (
                hit is None
                and node.op_type in FOLDED_ACTIVATIONS
                and folded in matched
                and len(ref.consumers.get(folded, ())) == 1
            ):
                # The activation vanished from the candidate: its producer computes it now
                # (QLinearConv's output range clips like a Relu; FusedConv), so the
                # producer's tensor in the candidate mirrors the activation's output.
                hit, _node = matched.pop(folded)
                found.unmatched.append(folded)
            if hit is None:
                found.unmatched.append(out)
            else:
                matched[out] = (hit, node)

    parents = _nearest_parents(ref, set(matched))
    names_used: dict[str, int] = {}
    for tensor, ((cand_tensor, scale, zp), node) in matched.items():
        name, op_type = display(tensor, cand_tensor, node)
        if node is None:
            name, op_type = f"input {tensor}", "input"
        names_used[name] = names_used.get(name, 0) + 1
        if names_used[name] > 1:
            name = f"{name} ({tensor})"
        found.probes.append(
            Probe(tensor, cand_tensor, name, op_type, parents.get(tensor, ()), scale, zp)
        )
    return found


def _nearest_parents(graph: _Graph, probes: set[str]) -> dict[str, tuple[str, ...]]:
    """For every tensor, the nearest probes or graph inputs upstream of its producer.

    One forward pass over the (topologically sorted) nodes, no recursion: graphs with
    thousands of nodes in a chain are common.
    """
    inputs = set(graph.inputs)
    nearest: dict[str, frozenset[str]] = {}
    parents: dict[str, tuple[str, ...]] = {}
    for node in graph.nodes:
        frontier: set[str] = set()
        for inp in node.input:
            if not inp or inp in graph.initializers:
                continue
            if inp in probes or inp in inputs:
                frontier.add(inp)
            else:
                frontier |= nearest.get(inp, frozenset())
        frozen = frozenset(frontier)
        for out in node.output:
            if out:
                nearest[out] = frozen
                parents[out] = tuple(sorted(frozen))
    return parents


@dataclass(frozen=True)
class LayerSQNR:
    """The SQNR of one layer's output over the diagnosed samples, and what it lost.

    ``drop_db`` is the SQNR of the previous layer (the noisiest upstream match, or an exact
    input at :data:`MAX_SQNR_DB`) minus this one: positive is a loss.  ``noise_added`` is
    the noise-to-signal power this layer added, the ranking key of the worst layers.
    """

    name: str
    tensor: str
    candidate_tensor: str
    op_type: str
    sqnr_db: float
    drop_db: float
    previous: str | None
    noise_added: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tensor": self.tensor,
            "candidate_tensor": self.candidate_tensor,
            "op_type": self.op_type,
            "sqnr_db": self.sqnr_db,
            "drop_db": self.drop_db,
            "previous": self.previous,
            "noise_added": self.noise_added,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LayerSQNR:
        return cls(
            str(data["name"]),
            str(data["tensor"]),
            str(data["candidate_tensor"]),
            str(data["op_type"]),
            float(data["sqnr_db"]),
            float(data["drop_db"]),
            None if data.get("previous") is None else str(data["previous"]),
            float(data["noise_added"]),
        )

    def describe(self) -> str:
        """``conv3 12.1 dB (-9.8 dB)``; ``(from exact)`` when the previous layer is exact."""
        if self.previous is None:
            return f"{self.name} {self.sqnr_db:.1f} dB (from exact)"
        return f"{self.name} {self.sqnr_db:.1f} dB ({-self.drop_db:+.1f} dB)"


def layer_results(probes: Sequence[Probe], sqnr: Mapping[str, float]) -> list[LayerSQNR]:
    """Per-layer figures from the measured SQNR of each probe's reference tensor."""
    by_tensor = {p.tensor: p for p in probes}
    out = []
    for probe in probes:
        if probe.tensor not in sqnr:
            continue
        value = sqnr[probe.tensor]
        prev, prev_name = MAX_SQNR_DB, None
        for parent in probe.parents:
            if parent in sqnr and sqnr[parent] < prev:
                prev, prev_name = sqnr[parent], by_tensor[parent].name
        out.append(
            LayerSQNR(
                name=probe.name,
                tensor=probe.tensor,
                candidate_tensor=probe.candidate,
                op_type=probe.op_type,
                sqnr_db=value,
                drop_db=prev - value,
                previous=prev_name,
                noise_added=_nsr(value) - _nsr(prev),
            )
        )
    return out


def worst_layers(layers: Iterable[LayerSQNR], count: int = WORST_COUNT) -> list[LayerSQNR]:
    """The ``count`` layers that added the most noise (ties: the lower SQNR first)."""
    lossy = [layer for layer in layers if layer.noise_added > 0.0]
    lossy.sort(key=lambda layer: (-layer.noise_added, layer.sqnr_db, layer.name))
    return lossy[:count]


def _nsr(db: float) -> float:
    """Noise-to-signal power ratio of an SQNR in dB."""
    return 10.0 ** (-db / 10.0)
