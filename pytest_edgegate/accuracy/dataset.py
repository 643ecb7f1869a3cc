"""The data set as a stream of checked batches, re-cut to the size every run uses.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/accuracy/dataset.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pytest_edgegate.accuracy.accuracy_error import AccuracyError
from pytest_edgegate.accuracy.pair import TensorSig
from pytest_edgegate.npzfile import load_npz

#: Why a comparison on generated inputs is weak, for the result and the failure message.
RANDOM_INPUTS_NOTE = (
    "measured on random inputs, not on real data: a weak test, since a quantized (int8) "
    "model's scales are calibrated to the range of real inputs and random values fall "
    "outside it; pass inputs= (arrays or an .npz) or dataset= with real samples"
)


@dataclass(frozen=True, eq=False)
class Batch:
    """One batch as the data set gave it, checked: ``index`` counts from 1."""

    inputs: dict[str, np.ndarray]
    labels: np.ndarray | None
    n: int
    index: int


@dataclass(frozen=True, eq=False)
class Chunk:
    """The samples of one run: ``n`` real samples starting at sample ``start`` (0-based),
    then ``padded`` copies of the last sample that only fill a fixed batch dimension."""

    feeds: dict[str, np.ndarray]
    labels: np.ndarray | None
    n: int
    start: int
    padded: int = 0


class DataSource:
    """Turns a user's data set into :class:`Batch` objects checked against the model inputs."""

    def __init__(
        self,
        dataset: Any,
        inputs: Sequence[TensorSig],
        *,
        input_name: str | None,
        need_labels: bool,
        random_samples: int,
        seed: int,
        batch: int,
        given_inputs: Any = None,
    ) -> None:
        self.inputs = {sig.name: sig for sig in inputs}
        self.given_inputs = given_inputs
        self.random = False
        self.order = [sig.name for sig in inputs]
        self.input_name = input_name
        self.need_labels = need_labels
        self.random_samples = random_samples
        self.seed = seed
        self.batch = batch
        self.notes: list[str] = []
        self.description = "the data set"
        if input_name is not None and input_name not in self.inputs:
            raise AccuracyError(
                f"input_name '{input_name}' is not an input of the model (its inputs: "
                f"{', '.join(self.order) or 'none'})",
                kind="spec",
            )
        self._items = self._open(dataset)

    # -- forms ---------------------------------------------------------------------------------

    def _open(self, dataset: Any, called: bool = False) -> Iterator[Any]:
        if dataset is None:
            if called:
                raise AccuracyError("the data set callable returned None", kind="data")
            if self.given_inputs is not None:
                return self._given()
            self.description = f"{self.random_samples} seeded random inputs"
            self.random = True
            self.notes.append(f"fidelity {RANDOM_INPUTS_NOTE}")
            return self._random()
        if isinstance(dataset, (str, os.PathLike)):
            self.description = f"the data set file {os.fspath(dataset)}"
            return iter([self._from_npz(os.fspath(dataset))])
        if isinstance(dataset, Mapping) and not self._is_input_dict(dataset):
            self.description = "the data set mapping"
            return iter([self._from_arrays(dataset, "the data set mapping")])
        if isinstance(dataset, np.ndarray) or self._is_input_dict(dataset):
            return iter([dataset])
        if (
            isinstance(dataset, tuple)
            and len(dataset) == 2
            and (isinstance(dataset[0], np.ndarray) or self._is_input_dict(dataset[0]))
        ):
            return iter([dataset])
        if callable(dataset) and not isinstance(dataset, Iterable):
            if called:
                raise AccuracyError(
                    "the data set callable returned another callable; it must return the "
                    "data (an iterable of batches, an (inputs, labels) tuple or an .npz path)",
                    kind="data",
                )
            try:
                produced = dataset()
            except Exception as exc:  # noqa: BLE001 - the user's code: report, do not crash
                raise AccuracyError(
                    f"the data set callable raised {type(exc).__name__}: {exc}", kind="data"
                ) from None
            return self._open(produced, called=True)
        if isinstance(dataset, Iterable) and not isinstance(dataset, (bytes, str)):
            return iter(dataset)
        raise AccuracyError(
            f"the data set is a {type(dataset).__name__}; expected an iterable of "
            "(inputs, labels) batches, an (inputs, labels) tuple, an .npz path, a mapping with "
            "'x' and 'y', a callable returning one of these, or None",
            kind="data",
        )

    def _is_input_dict(self, value: Any) -> bool:
        """A dict of arrays keyed by model input names (one batch of a multi-input model)."""
        return (
            isinstance(value, Mapping)
            and bool(value)
            and all(isinstance(k, str) and k in self.inputs for k in value)
        )

    def _given(self) -> Iterator[Any]:
        """The test's ``inputs=``: a dict of arrays by input name, one array for a
        single-input model, or an ``.npz`` path holding one array per input name."""
        given = self.given_inputs
        if isinstance(given, (str, os.PathLike)):
            path = os.fspath(given)
            self.description = f"the inputs file {path}"
            arrays = _read_npz(path, "the inputs file")
            if not self._is_input_dict(arrays):
                raise AccuracyError(
                    f"the inputs file {path} holds arrays {', '.join(sorted(arrays)) or 'none'}; "
                    f"expected one array per model input ({', '.join(self.order)})",
                    kind="data",
                )
            given = arrays
        else:
            self.description = "the inputs given with inputs="
        if isinstance(given, Mapping) and not self._is_input_dict(given):
            raise AccuracyError(
                f"inputs= has keys {', '.join(sorted(map(str, given))) or 'none'}; expected the "
                f"model's input names ({', '.join(self.order)})",
                kind="data",
            )
        return iter([given])

    def _from_npz(self, path: str) -> tuple[Any, Any]:
        arrays = _read_npz(path, "the data set file")
        return self._from_arrays(arrays, f"the data set file {path}")

    def _from_arrays(self, arrays: Mapping[str, Any], where: str) -> tuple[Any, Any]:
        """``x`` (or ``x.<input>`` per input) and ``y`` of an .npz file or a mapping."""
        keys = sorted(str(k) for k in arrays)
        found = ", ".join(keys) or "none"
        layout = (
            "it must hold the inputs as 'x' (or 'x.<input name>' per input) and the labels as 'y'"
        )
        if "x" in arrays:
            inputs: Any = arrays["x"]
        else:
            per_input = {k[2:]: arrays[k] for k in keys if k.startswith("x.")}
            if not per_input:
                raise AccuracyError(
                    f"{where} has no 'x' array (its arrays: {found}); {layout}", kind="data"
                )
            inputs = per_input
        if self.need_labels and "y" not in arrays:
            raise AccuracyError(
                f"{where} has no 'y' array of labels (its arrays: {found}), which the metric "
                f"needs; {layout}",
                kind="data",
            )
        return inputs, arrays.get("y")

    def _random(self) -> Iterator[tuple[dict[str, np.ndarray], None]]:
        from pytest_edgegate.runner.feeds import RANDOM_TYPES, FeedSpec, random_feeds

        assumed = set()
        left, seed = self.random_samples, self.seed
        while left > 0:
            n = min(left, self.batch)
            feeds = []
            for name in self.order:
                sig = self.inputs[name]
                if sig.dtype not in RANDOM_TYPES or sig.dims is None:
                    raise AccuracyError(
                        f"input '{name}' ({sig.dtype}, shape {sig.shape_text()}): edgegate "
                        "cannot generate random values for it; give a dataset",
                        kind="data",
                    )
                shape = [n]
                for axis, dim in enumerate(sig.dims[1:], start=1):
                    if isinstance(dim, int) and dim > 0:
                        shape.append(dim)
                    else:
                        assumed.add(f"{name}[{axis}]")
                        shape.append(1)
                feeds.append(FeedSpec(name, sig.dtype, tuple(shape)))
            yield random_feeds(feeds, seed), None
            left -= n
            seed += 1
        if assumed:
            self.notes.append(
                "random inputs: dynamic dimension(s) " + ", ".join(sorted(assumed)) + " set to 1"
            )

    # -- batches -------------------------------------------------------------------------------

    def batches(self) -> Iterator[Batch]:
        """The checked batches, one at a time; labels are required when the metric needs them."""
        labelled: bool | None = None
        index = 0
        while True:
            index += 1
            try:
                item = next(self._items)
            except StopIteration:
                return
            except AccuracyError:
                raise
            except Exception as exc:  # noqa: BLE001 - the user's iterator: report it
                raise AccuracyError(
                    f"{self.description} raised {type(exc).__name__} while producing batch "
                    f"{index}: {exc}",
                    kind="data",
                ) from None
            batch = self._batch(item, index)
            if self.need_labels and batch.labels is None:
                raise AccuracyError(
                    f"batch {index} of {self.description} has no labels, which the metric needs",
                    kind="data",
                )
            if labelled is not None and labelled != (batch.labels is not None):
                raise AccuracyError(
                    f"batch {index} of {self.description} "
                    f"{'has' if batch.labels is not None else 'has no'} labels, unlike the "
                    "batches before it",
                    kind="data",
                )
            labelled = batch.labels is not None
            yield batch

    def _batch(self, item: Any, index: int) -> Batch:
        where = f"batch {index} of {self.description}"
        if isinstance(item, (tuple, list)) and len(item) == 2:
            raw_inputs, raw_labels = item
        elif isinstance(item, (np.ndarray, Mapping)):
            raw_inputs, raw_labels = item, None
        else:
            raise AccuracyError(
                f"{where} is a {type(item).__name__}; each batch must be an (inputs, labels) "
                "pair, or bare inputs (an array, or a dict of arrays by input name)",
                kind="data",
            )
        inputs = self._inputs(raw_inputs, where)
        n = next(iter(inputs.values())).shape[0]
        labels = None
        if raw_labels is not None:
            try:
                labels = np.asarray(raw_labels)
            except ValueError as exc:
                raise AccuracyError(
                    f"the labels of {where} are not an array: {exc}", kind="data"
                ) from None
            if labels.ndim == 0 or labels.shape[0] != n:
                rows = "a scalar" if labels.ndim == 0 else f"{labels.shape[0]} rows"
                raise AccuracyError(
                    f"the labels of {where} have shape {list(labels.shape)} ({rows}) for {n} "
                    "input samples: axis 0 of the labels must count the samples",
                    kind="data",
                )
        return Batch(inputs, labels, n, index)

    def _inputs(self, raw: Any, where: str) -> dict[str, np.ndarray]:
        if isinstance(raw, Mapping):
            given = {str(k): v for k, v in raw.items()}
            unknown = [k for k in given if k not in self.inputs]
            if unknown:
                raise AccuracyError(
                    f"{where} has input '{unknown[0]}', which is not an input of the model "
                    f"(its inputs: {', '.join(self.order)})",
                    kind="data",
                )
            missing = [k for k in self.order if k not in given]
            if missing:
                raise AccuracyError(
                    f"{where} lacks input '{missing[0]}' (the model's inputs: "
                    f"{', '.join(self.order)})",
                    kind="data",
                )
        else:
            name = self.input_name
            if name is None:
                if len(self.order) != 1:
                    raise AccuracyError(
                        f"{where} is a single array but the model has {len(self.order)} inputs "
                        f"({', '.join(self.order)}): give a dict of arrays by input name, or "
                        "input_name",
                        kind="data",
                    )
                name = self.order[0]
            elif len(self.order) != 1:
                raise AccuracyError(
                    f"{where} is a single array for '{name}', but the model also needs "
                    f"{', '.join(k for k in self.order if k != name)}: give a dict of arrays",
                    kind="data",
                )
            given = {name: raw}
        out: dict[str, np.ndarray] = {}
        rows: dict[str, int] = {}
        for name in self.order:
            out[name] = self._array(given[name], self.inputs[name], where)
            rows[name] = out[name].shape[0]
        if len(set(rows.values())) > 1:
            counts = ", ".join(f"'{k}' {v}" for k, v in rows.items())
            raise AccuracyError(
                f"{where}: the inputs have different sample counts on axis 0 ({counts})",
                kind="data",
            )
        return out

    def _array(self, raw: Any, sig: TensorSig, where: str) -> np.ndarray:
        try:
            arr = np.asarray(raw)
        except ValueError as exc:
            raise AccuracyError(
                f"{where}: input '{sig.name}' is not an array: {exc}", kind="data"
            ) from None
        target = np.dtype(sig.dtype)
        if arr.dtype != target:
            if arr.dtype.kind not in "biuf" or not np.can_cast(arr.dtype, target, "same_kind"):
                raise AccuracyError(
                    f"{where}: input '{sig.name}' is {arr.dtype.name}, the model expects "
                    f"{target.name}",
                    kind="data",
                )
            arr = arr.astype(target)
        if sig.dims is not None:
            wrong = arr.ndim != len(sig.dims) or any(
                isinstance(d, int) and d > 0 and d != s
                for d, s in zip(sig.dims[1:], arr.shape[1:], strict=False)
            )
            if wrong:
                raise AccuracyError(
                    f"{where}: input '{sig.name}' has shape {list(arr.shape)}, the model "
                    f"expects {sig.shape_text()} (axis 0 counts samples)",
                    kind="data",
                )
        elif arr.ndim == 0:
            raise AccuracyError(
                f"{where}: input '{sig.name}' is a scalar; axis 0 must count samples",
                kind="data",
            )
        return arr


def _read_npz(path: str, what: str) -> dict[str, np.ndarray]:
    """:func:`load_npz`, its failures as an :class:`AccuracyError` naming ``what`` and path."""
    try:
        return load_npz(path)
    except (OSError, ValueError, EOFError, MemoryError) as exc:
        raise AccuracyError(f"cannot read {what} {path}: {exc}", kind="data") from None


def rechunk(batches: Iterable[Batch], size: int, pad: bool) -> Iterator[Chunk]:
    """Re-cut ``batches`` into chunks of exactly ``size`` samples (the last may be short).

    Holds at most one chunk plus one incoming batch: the stream stays a stream.  With
    ``pad`` (a fixed batch dimension), a short last chunk is filled with copies of its last
    sample, marked in ``Chunk.padded``, whose outputs the caller drops.
    """
    pending: list[Batch] = []
    count = 0
    start = 0
    for batch in batches:
        if batch.n == 0:
            continue
        pending.append(batch)
        count += batch.n
        while count >= size:
            chunk, pending = _take(pending, size, start)
            count -= size
            start += size
            yield chunk
    if count:
        chunk, pending = _take(pending, count, start)
        if pad and count < size:
            extra = size - count
            feeds = {
                k: np.concatenate([v, np.repeat(v[-1:], extra, axis=0)])
                for k, v in chunk.feeds.items()
            }
            chunk = Chunk(feeds, chunk.labels, chunk.n, chunk.start, padded=extra)
        yield chunk


def _take(pending: list[Batch], k: int, start: int) -> tuple[Chunk, list[Batch]]:
    """The first ``k`` samples of ``pending`` as a chunk, and what is left of it."""
    parts: list[Batch] = []
    need = k
    rest = list(pending)
    while need:
        head = rest[0]
        if head.n <= need:
            parts.append(head)
            rest.pop(0)
            need -= head.n
        else:
            parts.append(_slice(head, 0, need))
            rest[0] = _slice(head, need, head.n)
            need = 0
    if len(parts) == 1:
        only = parts[0]
        return Chunk(only.inputs, only.labels, k, start), rest
    feeds = {name: np.concatenate([p.inputs[name] for p in parts]) for name in parts[0].inputs}
    labels = None
    if parts[0].labels is not None:
        try:
            labels = np.concatenate([p.labels for p in parts])
        except ValueError as exc:
            raise AccuracyError(
                f"the labels of batches {parts[0].index}-{parts[-1].index} cannot be joined "
                f"into one batch: {exc}",
                kind="data",
            ) from None
    return Chunk(feeds, labels, k, start), rest


def _slice(batch: Batch, lo: int, hi: int) -> Batch:
    labels = None if batch.labels is None else batch.labels[lo:hi]
    return Batch({k: v[lo:hi] for k, v in batch.inputs.items()}, labels, hi - lo, batch.index)
