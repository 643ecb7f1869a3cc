"""Labelled metrics: top-k accuracy, mean absolute error, or the user's callable, streamed.

Every metric is accumulated batch by batch so the data set never has to be held whole:
top-k counts correct samples and MAE sums absolute errors (both exact over any batching);
a callable ``metric(outputs, labels) -> float`` is called once per batch and its values are
averaged weighted by the batch's sample count, which is exact for any metric that is a mean
over samples (accuracy, MAE, MSE, mean IoU per image...).  A metric that is not such a mean
(F1, AUC) must be computed over one batch holding the whole set: give ``batch_size`` at least
the data set's size, or compute it outside edgegate.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from pytest_edgegate.accuracy.accuracy_error import AccuracyError

_TOPK = re.compile(r"^top(?:k:)?(\d+)$")


@dataclass(frozen=True, eq=False)
class MetricDef:
    """A resolved metric: its name, direction, and what computes it."""

    name: str
    higher_is_better: bool
    kind: str  # "topk", "mae" or "callable"
    k: int = 1
    fn: Callable[[Any, Any], Any] | None = None

    @property
    def is_classification(self) -> bool:
        return self.kind == "topk"


def resolve_metric(metric: Any, higher_is_better: bool | None) -> MetricDef | None:
    """The :class:`MetricDef` of ``metric``, or ``None`` when there is no labelled metric."""
    if metric is None:
        return None
    if callable(metric):
        if higher_is_better is None:
            raise AccuracyError(
                f"the callable metric {_fn_name(metric)} needs higher_is_better=True or False: "
                "edgegate cannot tell whether a larger value is better",
                kind="spec",
            )
        return MetricDef(_fn_name(metric), higher_is_better, "callable", fn=metric)
    name = str(metric).strip().lower()
    match = _TOPK.match(name)
    if match:
        k = int(match.group(1))
        if k < 1:
            raise AccuracyError(f"metric '{metric}': k must be at least 1", kind="spec")
        builtin = MetricDef(f"top{k}", True, "topk", k=k)
    elif name == "mae":
        builtin = MetricDef("mae", False, "mae")
    else:
        raise AccuracyError(
            f"unknown metric '{metric}': use 'top1', 'top5' (any 'topK' or 'topk:K'), 'mae', "
            "or a callable metric(outputs, labels) -> float with higher_is_better",
            kind="spec",
        )
    if higher_is_better is not None and higher_is_better != builtin.higher_is_better:
        better = "higher" if builtin.higher_is_better else "lower"
        raise AccuracyError(
            f"metric '{builtin.name}' is {better}-is-better; higher_is_better="
            f"{higher_is_better} contradicts it (leave it unset for a built-in metric)",
            kind="spec",
        )
    return builtin


def _fn_name(fn: Any) -> str:
    return getattr(fn, "__name__", None) or type(fn).__name__


class MetricAccumulator:
    """The running value of one metric for one model over the batches seen so far."""

    def __init__(self, metric: MetricDef, model: str) -> None:
        self.metric = metric
        self.model = model
        self._sum = 0.0
        self._weight = 0.0

    def update(self, outputs: np.ndarray, labels: Any, where: str) -> None:
        """Add one batch: ``outputs`` of the selected output, ``labels`` as given."""
        m = self.metric
        n = outputs.shape[0]
        if m.kind == "topk":
            self._sum += float(topk_correct(outputs, labels, m.k, where, self.model).sum())
            self._weight += n
        elif m.kind == "mae":
            err = np.abs(outputs.astype(np.float64) - mae_labels(outputs, labels, where))
            self._sum += float(err.sum())
            self._weight += err.size
        else:
            value = call_metric(m, outputs, labels, where, self.model)
            self._sum += value * n
            self._weight += n

    def value(self) -> float:
        return self._sum / self._weight if self._weight else math.nan


def class_scores(outputs: np.ndarray, what: str, where: str, model: str) -> np.ndarray:
    """``outputs`` as ``[n, C]`` class scores: axes other than 0 and the last must be 1."""
    if outputs.ndim < 2 or any(d != 1 for d in outputs.shape[1:-1]):
        raise AccuracyError(
            f"{model}: {what} needs class scores of shape [samples, classes], but the output "
            f"has shape {list(outputs.shape)} ({where})",
            kind="metric",
            model=model,
        )
    return outputs.reshape(outputs.shape[0], outputs.shape[-1])


def class_ids(labels: Any, classes: int, n: int, what: str, where: str) -> np.ndarray:
    """Labels as ``[n]`` class ids: ids ``[n]``/``[n, 1]``, or one-hot/scores ``[n, C]``."""
    arr = np.asarray(labels)
    expected = f"class ids of shape [{n}] (or one-hot [{n}, {classes}])"
    if arr.ndim == 2 and arr.shape == (n, classes) and classes > 1:
        return arr.argmax(axis=1)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 or arr.shape[0] != n:
        raise AccuracyError(
            f"the labels of {where} have shape {list(np.shape(labels))}; {what} expects {expected}",
            kind="data",
        )
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise AccuracyError(
                f"the labels of {where} are not whole numbers; {what} expects {expected}",
                kind="data",
            )
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "iub":
        raise AccuracyError(
            f"the labels of {where} are {arr.dtype.name}; {what} expects {expected}", kind="data"
        )
    bad = arr[(arr < 0) | (arr >= classes)]
    if bad.size:
        raise AccuracyError(
            f"the labels of {where} hold class id {int(bad[0])}, outside the model's "
            f"{classes} classes (0..{classes - 1})",
            kind="data",
        )
    return arr.astype(np.int64)


def topk_correct(outputs: np.ndarray, labels: Any, k: int, where: str, model: str) -> np.ndarray:
    """Per sample, whether its label is among the ``k`` highest scores."""
    what = f"top{k}"
    scores = class_scores(outputs, what, where, model)
    n, classes = scores.shape
    if k > classes:
        raise AccuracyError(
            f"{model}: metric top{k} needs at least {k} classes, the output has {classes}",
            kind="metric",
            model=model,
        )
    ids = class_ids(labels, classes, n, what, where)
    if k == 1:
        return scores.argmax(axis=1) == ids
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return (top == ids[:, None]).any(axis=1)


def mae_labels(outputs: np.ndarray, labels: Any, where: str) -> np.ndarray:
    """Labels in the output's shape (``[n]`` for ``[n, 1]`` is accepted), as float64."""
    arr = np.asarray(labels)
    if arr.dtype.kind not in "biuf":
        raise AccuracyError(
            f"the labels of {where} are {arr.dtype.name}; mae expects numbers", kind="data"
        )
    if arr.shape != outputs.shape:
        if arr.size != outputs.size or arr.shape[:1] != outputs.shape[:1]:
            raise AccuracyError(
                f"the labels of {where} have shape {list(arr.shape)}; mae expects the output's "
                f"shape {list(outputs.shape)}",
                kind="data",
            )
        arr = arr.reshape(outputs.shape)
    return arr.astype(np.float64)


def call_metric(m: MetricDef, outputs: np.ndarray, labels: Any, where: str, model: str) -> float:
    """The user's metric on one batch; anything but a finite number is an error naming it."""
    try:
        value = m.fn(outputs, labels)  # type: ignore[misc]
    except Exception as exc:  # noqa: BLE001 - the user's code: report it, do not crash
        raise AccuracyError(
            f"metric {m.name} raised {type(exc).__name__}: {exc} (on {where}, outputs of {model})",
            kind="metric",
            model=model,
        ) from None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise AccuracyError(
            f"metric {m.name} returned {type(value).__name__} {value!r}, not a number (on "
            f"{where}, outputs of {model})",
            kind="metric",
            model=model,
        ) from None
    if not math.isfinite(number):
        raise AccuracyError(
            f"metric {m.name} returned {number} (on {where}, outputs of {model}): a metric must "
            "be a finite number",
            kind="metric",
            model=model,
        )
    return number
