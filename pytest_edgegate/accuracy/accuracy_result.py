"""What an accuracy evaluation found: :class:`AccuracyResult`, plain data, JSON-ready.

The metric names (``accuracy_drop``, ``accuracy_drop_rel``, ``sqnr_db``,
``top1_agreement``) come out of :meth:`AccuracyResult.metrics`; :meth:`to_dict` carries
everything (per-layer figures included, as the HTML report reads them: ``layers`` entries
with ``name`` and ``sqnr_db``); :meth:`diagnosis` is the sentence a failing test shows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pytest_edgegate.accuracy.layers import LayerSQNR

#: Keys of :meth:`AccuracyResult.metrics`, as the README's "Metrics" section names them.
INTERFACE_METRICS = ("accuracy_drop", "accuracy_drop_rel", "sqnr_db", "top1_agreement")


@dataclass(frozen=True)
class AccuracyResult:
    """One evaluation of ``candidate`` against ``reference``.

    ``accuracy``/``reference_accuracy`` are the metric's values (``None`` without a metric
    or without a reference); ``accuracy_drop`` is reference - candidate for a
    higher-is-better metric and candidate - reference for a lower-is-better one, so a
    positive drop is always a loss; ``accuracy_drop_rel`` divides it by ``|reference|``
    (``None`` when that is 0).  Fidelity figures (``cosine``, ``sqnr_db``, ``max_abs_err``,
    ``mean_abs_err``, ``top1_agreement`` for classifiers) compare the selected ``output`` of
    both models on every sample.  ``layers`` is the per-layer SQNR along the reference graph
    over the first ``layer_samples`` samples, ``worst_layers`` the layers that added the
    most noise.  ``metric_default`` says top-1 was chosen without ``metric=``;
    ``no_metric_reason`` why labels were given but no metric could be (empty otherwise);
    ``random_inputs`` that the fidelity compared generated inputs, not data.  ``seconds`` is
    the wall time of the whole evaluation, child start-up included.
    """

    candidate: str
    reference: str | None
    target_id: str
    metric: str | None
    higher_is_better: bool | None
    output: str
    n_samples: int
    seconds: float
    accuracy: float | None = None
    reference_accuracy: float | None = None
    accuracy_drop: float | None = None
    accuracy_drop_rel: float | None = None
    cosine: float | None = None
    sqnr_db: float | None = None
    max_abs_err: float | None = None
    mean_abs_err: float | None = None
    top1_agreement: float | None = None
    layers: tuple[LayerSQNR, ...] = ()
    worst_layers: tuple[LayerSQNR, ...] = ()
    layer_samples: int = 0
    batch_size: int = 0
    threads: int = 1
    memory_limit_mb: float | None = None
    data: str = ""
    notes: tuple[str, ...] = ()
    metric_default: bool = False
    no_metric_reason: str = ""
    random_inputs: bool = False

    def metrics(self) -> dict[str, float]:
        """The metrics this evaluation measured, as plain floats."""
        out = {}
        for name in INTERFACE_METRICS:
            value = getattr(self, name)
            if value is not None:
                out[name] = float(value)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Every field as JSON types (no NaN or infinity: SQNR is clamped, see fidelity)."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name in ("layers", "worst_layers"):
                out[name] = [layer.to_dict() for layer in value]
            elif name == "notes":
                out[name] = list(value)
            elif isinstance(value, float) and not math.isfinite(value):
                out[name] = None
            else:
                out[name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AccuracyResult:
        fields = dict(data)
        fields["layers"] = tuple(LayerSQNR.from_dict(d) for d in data.get("layers", ()))
        fields["worst_layers"] = tuple(LayerSQNR.from_dict(d) for d in data.get("worst_layers", ()))
        fields["notes"] = tuple(data.get("notes", ()))
        return cls(**{k: v for k, v in fields.items() if k in cls.__dataclass_fields__})

    def diagnosis(self) -> str:
        """One line for a failing test: the metric, the fidelity, the worst layers.

        ``top1 0.3120 vs 0.9749 for the reference (drop 0.6630 on 359 samples); output
        SQNR 3.2 dB, top-1 agreement 0.3092; worst layers: fc1 -1.3 dB (-7.4 dB), ...``
        """
        parts = []
        if self.accuracy is not None:
            default = " (the default metric)" if self.metric_default else ""
            text = f"{self.metric}{default} {self.accuracy:.4f}"
            if self.reference_accuracy is not None and self.accuracy_drop is not None:
                text += (
                    f" vs {self.reference_accuracy:.4f} for the reference (drop "
                    f"{self.accuracy_drop:.4f} on {self.n_samples} samples)"
                )
            else:
                text += f" on {self.n_samples} samples"
            parts.append(text)
        if self.sqnr_db is not None:
            text = f"output SQNR {self.sqnr_db:.1f} dB"
            if self.top1_agreement is not None:
                text += f", top-1 agreement {self.top1_agreement:.4f}"
            if self.random_inputs:
                from pytest_edgegate.accuracy.dataset import RANDOM_INPUTS_NOTE

                text += f" on {self.data}, {RANDOM_INPUTS_NOTE}"
            parts.append(text)
        if self.worst_layers:
            worst = ", ".join(layer.describe() for layer in self.worst_layers)
            parts.append(f"worst layers: {worst}")
        elif self.layers:
            parts.append("no layer lost precision against the reference")
        return "; ".join(parts) if parts else f"{self.candidate}: nothing was measured"
