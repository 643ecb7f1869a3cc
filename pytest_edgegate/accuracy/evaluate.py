"""``evaluate_accuracy``: the whole evaluation, from spec to result.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/accuracy/evaluate.py``.
"""

from __future__ import annotations

import itertools
import math
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from pytest_edgegate.accuracy.accuracy_error import AccuracyError
from pytest_edgegate.accuracy.accuracy_result import AccuracyResult
from pytest_edgegate.accuracy.dataset import Chunk, DataSource, rechunk
from pytest_edgegate.accuracy.default_metric import DEFAULT_NOTE, default_metric
from pytest_edgegate.accuracy.eval_spec import AccuracySpec
from pytest_edgegate.accuracy.fidelity import FidelityAccumulator, PowerAccumulator
from pytest_edgegate.accuracy.layers import (
    LayerMap,
    LayerSQNR,
    layer_results,
    match_layers,
    worst_layers,
)
from pytest_edgegate.accuracy.pair import (
    ModelInfo,
    check_inputs_usable,
    check_pair,
    open_model,
    plan_batch,
)
from pytest_edgegate.accuracy.scores import MetricAccumulator, resolve_metric
from pytest_edgegate.accuracy.worker import Worker

_NOTHING = "{}: nothing to evaluate: give a metric (with labelled data), a reference, or both"


def evaluate_accuracy(spec: AccuracySpec) -> AccuracyResult:
    """Evaluate ``spec.candidate`` (against ``spec.reference``) on ``spec.dataset``.

    Raises :class:`AccuracyError` for every problem of the models, the data set, the
    metric or the run, its message naming what did not match; never anything else for them.
    """
    started = time.perf_counter()
    if os.name != "posix":
        raise AccuracyError(
            f"{spec.candidate_name}: accuracy evaluation needs a POSIX system (process groups, "
            "rlimits)",
            kind="platform",
            model=spec.candidate_name,
        )
    metric = resolve_metric(spec.metric, spec.higher_is_better)
    if metric is None and spec.reference is None and spec.dataset is None:
        raise AccuracyError(
            _NOTHING.format(spec.candidate_name), kind="spec", model=spec.candidate_name
        )
    if metric is not None and spec.dataset is None:
        raise AccuracyError(
            f"{spec.candidate_name}: metric {metric.name} needs a labelled dataset",
            kind="spec",
            model=spec.candidate_name,
        )
    with tempfile.TemporaryDirectory(prefix="edgegate-accuracy-") as tmp:
        return _Evaluation(spec, Path(tmp), metric, started).run()


class _Evaluation:
    """The state of one evaluation across its phases."""

    def __init__(self, spec: AccuracySpec, workdir: Path, metric, started: float) -> None:
        from pytest_edgegate.runner.launch import host_cores

        self.spec = spec
        self.workdir = workdir
        self.metric = metric
        self.started = started
        self.threads = min(spec.threads, host_cores())
        self.notes: list[str] = []
        self.cand = open_model(spec.candidate, spec.candidate_name, workdir, "candidate")
        self.ref: ModelInfo | None = None
        if spec.reference is not None:
            self.ref = open_model(
                spec.reference, spec.reference_name or "reference", workdir, "reference"
            )
        check_inputs_usable(self.cand)
        if self.ref is not None:
            check_pair(self.cand, self.ref, spec.output)
        self.models = [m for m in (self.cand, self.ref) if m is not None]
        self.batch, self.fixed = plan_batch(self.models, spec.batch_size)
        self.source = DataSource(
            spec.dataset,
            self.cand.inputs,
            given_inputs=spec.inputs,
            input_name=spec.input_name,
            need_labels=metric is not None,
            random_samples=spec.random_samples,
            seed=spec.seed,
            batch=self.batch,
        )
        self.layer_map: LayerMap | None = None
        runnable = all(m.path.lower().endswith(".onnx") for m in (self.cand, self.ref) if m)
        if spec.layer_diagnosis and self.ref is not None and not runnable:
            self.notes.append(
                "no per-layer SQNR: intermediate tensors are read back through onnxruntime, "
                "and a .tflite model runs on LiteRT, so its layers cannot be matched by name"
            )
        elif spec.layer_diagnosis and self.ref is not None:
            self.layer_map = match_layers(self.ref.proto, self.cand.proto)
        self.workers: list[Worker] = []
        self.metric_default = False
        self.no_metric_reason = ""

    def _choose_metric(self, first: Chunk) -> None:
        """Without ``metric=``: top-1 for labelled classifier data, else say what is missing."""
        if self.metric is not None or first.labels is None:
            if self.metric is None and self.ref is None:
                raise AccuracyError(
                    _NOTHING.format(self.cand.label), kind="spec", model=self.cand.label
                )
            return
        chosen = default_metric(first.labels, self.cand, self.spec.output)
        if isinstance(chosen, str):
            self.no_metric_reason = chosen
            if self.ref is None:
                raise AccuracyError(
                    f"{self.cand.label}: nothing to evaluate without a reference: {chosen}",
                    kind="spec",
                    model=self.cand.label,
                )
            return
        self.metric = chosen
        self.metric_default = True
        self.notes.append(DEFAULT_NOTE.format(output=self.cand.output(self.spec.output).name))

    def _worker(self, role: str, info: ModelInfo) -> Worker:
        return Worker(
            role=role,
            model_path=info.path,
            label=info.label,
            output=info.output(self.spec.output).name,
            threads=self.threads,
            memory_limit_mb=self.spec.memory_limit_mb,
            timeout_s=self.spec.timeout_s,
            target_id=self.spec.target_id,
            workdir=self.workdir,
            splittable=not self.fixed,
        )

    def run(self) -> AccuracyResult:
        chunks = rechunk(self.source.batches(), self.batch, pad=self.fixed)
        first = next(chunks, None)
        if first is None:
            raise AccuracyError(
                f"{self.source.description} is empty: it gave no samples to evaluate",
                kind="data",
            )
        self._choose_metric(first)
        self.workers = [self._worker("candidate", self.cand)]
        if self.ref is not None:
            self.workers.append(self._worker("reference", self.ref))
        finished = False
        try:
            for worker in self.workers:
                worker.start()
            for worker in self.workers:
                worker.finish_open()
            kept, n_samples, figures = self._main_pass(itertools.chain([first], chunks))
            layers: list[LayerSQNR] = []
            if self.layer_map is not None:
                layers = self._diagnose(kept)
            finished = True
        finally:
            for worker in self.workers:
                # after a failure a child may still be busy with a batch: no goodbyes
                worker.close() if finished else worker.kill()
        for worker in self.workers:
            self.notes.extend(worker.split_notes)
        self.notes.extend(self.source.notes)
        return self._result(n_samples, figures, layers, sum(c.n for c in kept))

    # -- the main pass -------------------------------------------------------------------------

    def _main_pass(self, chunks: Iterator[Chunk]):
        cand_w = self.workers[0]
        ref_w = self.workers[1] if len(self.workers) > 1 else None
        cand_metric = ref_metric = None
        if self.metric is not None:
            cand_metric = MetricAccumulator(self.metric, self.cand.label)
            if self.ref is not None:
                ref_metric = MetricAccumulator(self.metric, self.ref.label)
        fidelity = None
        if ref_w is not None:
            fidelity = FidelityAccumulator(
                None
                if self.metric is None or self.metric.kind == "callable"
                else self.metric.is_classification
            )
        keep = self.spec.layer_samples if self.layer_map and self.layer_map.probes else 0
        kept: list[Chunk] = []
        n_samples = 0
        padded = 0
        for chunk in chunks:
            total = chunk.n + chunk.padded
            where = f"samples {chunk.start}-{chunk.start + chunk.n - 1}"
            for worker in self.workers:
                worker.submit_run(chunk.feeds, total, where)
            outs = [
                self._checked(w, w.collect_run(chunk.feeds, total, where), total, chunk, where)
                for w in self.workers
            ]
            if ref_w is not None and outs[0].shape != outs[1].shape:
                raise AccuracyError(
                    f"output shapes differ on {where}: candidate {self.cand.label} gives "
                    f"'{cand_w.output}' {list(outs[0].shape)}, reference {ref_w.label} gives "
                    f"'{ref_w.output}' {list(outs[1].shape)}",
                    kind="mismatch",
                    model=self.cand.label,
                )
            if cand_metric is not None:
                cand_metric.update(outs[0], chunk.labels, where)
                if ref_metric is not None:
                    ref_metric.update(outs[1], chunk.labels, where)
            if fidelity is not None:
                fidelity.update(outs[0], outs[1])
            if keep > 0:
                take = min(keep, chunk.n)
                kept.append(
                    Chunk({k: np.array(v[:take]) for k, v in chunk.feeds.items()}, None, take, 0)
                )
                keep -= take
            n_samples += chunk.n
            padded += chunk.padded
        if padded:
            self.notes.append(
                f"the models have a fixed batch of {self.batch}: the last batch was padded "
                f"with {padded} copies of its last sample, whose outputs were dropped"
            )
        accuracies = (
            cand_metric.value() if cand_metric else None,
            ref_metric.value() if ref_metric else None,
        )
        return kept, n_samples, (accuracies, fidelity.figures() if fidelity else {})

    def _checked(self, worker: Worker, out: np.ndarray, total: int, chunk: Chunk, where: str):
        """The real samples' rows of one output, checked: axis 0 counts samples, all finite."""
        if total == 1 and (out.ndim == 0 or out.shape[0] != 1):
            out = out[None]  # a model without a batch axis on its output
        if out.shape[0] != total:
            raise AccuracyError(
                f"{worker.label}: output '{worker.output}' has shape {list(out.shape)} for a "
                f"batch of {total} samples ({where}): edgegate batches along axis 0 and needs "
                "the output's axis 0 to count samples too",
                kind="run",
                model=worker.label,
            )
        out = out[: chunk.n]
        if out.dtype.kind == "f" and not np.all(np.isfinite(out)):
            raise AccuracyError(
                f"{worker.label}: output '{worker.output}' holds NaN or infinite values on {where}",
                kind="run",
                model=worker.label,
            )
        return out

    # -- the layer diagnosis -------------------------------------------------------------------

    def _diagnose(self, kept: list[Chunk]) -> list[LayerSQNR]:
        assert self.layer_map is not None
        probes = self.layer_map.probes
        if not probes:
            self.notes.append(
                "layer diagnosis: no intermediate tensor of the candidate matches the reference"
            )
            return []
        cand_w, ref_w = self.workers
        powers = {p.tensor: PowerAccumulator() for p in probes}
        mismatched: set[str] = set()
        try:
            cand_w.submit(
                {"op": "diagnose", "probes": [p.request() for p in probes]},
                step="setting up the layer diagnosis",
            )
            ref_w.submit(
                {"op": "diagnose", "probes": [{"tensor": p.tensor} for p in probes]},
                step="setting up the layer diagnosis",
            )
            cand_w.collect()
            ref_w.collect()
            for chunk in rechunk(_as_batches(kept), self.batch, pad=self.fixed):
                where = f"the layer diagnosis (samples {chunk.start}-{chunk.start + chunk.n - 1})"
                cand_w.submit({"op": "probe"}, chunk.feeds, step=f"running {where}")
                ref_w.submit({"op": "probe"}, chunk.feeds, step=f"running {where}")
                _, c_arrays = cand_w.collect()
                _, r_arrays = ref_w.collect()
                for i, probe in enumerate(probes):
                    c, r = c_arrays.get(str(i)), r_arrays.get(str(i))
                    if c is None or r is None or c.shape != r.shape:
                        mismatched.add(probe.tensor)
                        continue
                    powers[probe.tensor].update(c, r)
        except AccuracyError as exc:
            self.notes.append(f"layer diagnosis failed, no per-layer figures: {exc}")
            return []
        if mismatched:
            self.notes.append(
                f"layer diagnosis: {len(mismatched)} matched tensor(s) differ in shape or type "
                f"between the models and were skipped: {', '.join(sorted(mismatched)[:5])}"
            )
        sqnr = {t: acc.sqnr_db for t, acc in powers.items() if t not in mismatched}
        return layer_results(probes, sqnr)

    # -- the result ----------------------------------------------------------------------------

    def _result(self, n_samples: int, figures, layers: list[LayerSQNR], diagnosed: int):
        (accuracy, reference_accuracy), fidelity = figures
        drop = rel = None
        if accuracy is not None and reference_accuracy is not None:
            assert self.metric is not None
            drop = (
                reference_accuracy - accuracy
                if self.metric.higher_is_better
                else accuracy - reference_accuracy
            )
            if reference_accuracy != 0:
                rel = drop / abs(reference_accuracy)
            else:
                self.notes.append("accuracy_drop_rel is undefined: the reference scores 0")
        if self.layer_map is not None and self.layer_map.unmatched and layers:
            self.notes.append(
                f"layer diagnosis: {len(self.layer_map.unmatched)} reference tensor(s) have no "
                "counterpart in the candidate (e.g. folded into a fused layer)"
            )
        cand_w = self.workers[0]
        return AccuracyResult(
            candidate=self.cand.label,
            reference=None if self.ref is None else self.ref.label,
            target_id=self.spec.target_id,
            metric=None if self.metric is None else self.metric.name,
            higher_is_better=None if self.metric is None else self.metric.higher_is_better,
            output=cand_w.output,
            n_samples=n_samples,
            seconds=time.perf_counter() - self.started,
            accuracy=_finite(accuracy),
            reference_accuracy=_finite(reference_accuracy),
            accuracy_drop=_finite(drop),
            accuracy_drop_rel=_finite(rel),
            cosine=fidelity.get("cosine"),
            sqnr_db=fidelity.get("sqnr_db"),
            max_abs_err=fidelity.get("max_abs_err"),
            mean_abs_err=fidelity.get("mean_abs_err"),
            top1_agreement=fidelity.get("top1_agreement"),
            layers=tuple(layers),
            worst_layers=tuple(worst_layers(layers)),
            layer_samples=diagnosed if layers else 0,
            batch_size=self.batch,
            threads=self.threads,
            memory_limit_mb=self.spec.memory_limit_mb,
            data=self.source.description,
            notes=tuple(self.notes),
            metric_default=self.metric_default,
            no_metric_reason=self.no_metric_reason,
            random_inputs=self.source.random,
        )


def _as_batches(chunks: list[Chunk]):
    from pytest_edgegate.accuracy.dataset import Batch

    for i, chunk in enumerate(chunks, start=1):
        yield Batch(chunk.feeds, None, chunk.n, i)


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)
