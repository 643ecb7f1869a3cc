"""The metric a labelled evaluation uses when the test names none: top-1 for a classifier.

Integer class labels (``[N]`` or ``[N, 1]``) and a model whose only output is ``[N, C]``
class scores (``C >= 2``, or ``[N, 1, ..., C]`` as top-k accepts it) leave one reasonable
reading, top-1 accuracy.  Everything else is ambiguous (float targets may be a regression or
one-hot labels, several outputs leave the scores unknown) and gets no metric, with the reason
naming what is missing: the metric, not the labels.
"""

from __future__ import annotations

import numpy as np

from pytest_edgegate.accuracy.pair import ModelInfo
from pytest_edgegate.accuracy.scores import MetricDef

#: How the result and the reports say that top-1 was chosen by default.
DEFAULT_NOTE = (
    "metric: top1 by default (integer class labels and [samples, classes] scores from "
    "output '{output}'); pass metric= to choose another"
)

_CHOOSE = "pass metric='top1', 'top5', 'mae' or a callable (with higher_is_better)"


def default_metric(labels: np.ndarray, model: ModelInfo, selector: str | int) -> MetricDef | str:
    """Top-1 when ``labels`` and the selected output of ``model`` say classifier, else the
    reason no metric could be chosen (a sentence naming the missing metric)."""
    given = f"labels were given ({labels.dtype.name}, {labels.ndim}-D)"
    if labels.dtype.kind not in "iu":
        return (
            f"{given} but no metric: float or other non-integer targets may be regression "
            f"values or one-hot rows, so edgegate does not guess; {_CHOOSE}"
        )
    if labels.ndim > 2 or (labels.ndim == 2 and labels.shape[1] != 1):
        return f"{given} but no metric: class labels must be [samples] or [samples, 1]; {_CHOOSE}"
    if len(model.outputs) > 1 and selector == 0:
        names = ", ".join(f"'{o.name}'" for o in model.outputs)
        return (
            f"{given} but no metric: the model has {len(model.outputs)} outputs ({names}) and "
            f"edgegate does not guess which one holds class scores; {_CHOOSE}"
        )
    out = model.output(selector)
    dims = out.dims
    classes = dims[-1] if dims else None
    if (
        dims is None
        or len(dims) < 2
        or any(d != 1 for d in dims[1:-1])
        or not isinstance(classes, int)
        or classes < 2
    ):
        return (
            f"{given} but no metric: output '{out.name}' has shape {out.shape_text()}, not "
            f"[samples, classes] scores with a known class count >= 2; {_CHOOSE}"
        )
    return MetricDef("top1", True, "topk", k=1)
