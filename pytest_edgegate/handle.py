"""The ``edge`` fixture's object: evaluates models for one test on one target.

``edge.evaluate(...)`` computes every metric it can, judges the test's budgets and the device
fit, records the result for the reports and returns it.  Judging happens at once (so the test
can look at ``result.passed``) but failing happens after the test body, in the call phase,
with one line per broken budget: the plugin calls :meth:`EdgeHandle.failure_message`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from pytest_edgegate.budgets import Availability, Budget, judge
from pytest_edgegate.edge_result import EdgeResult
from pytest_edgegate.errors import EdgeGateError
from pytest_edgegate.evaluation import (
    accuracy_metrics,
    breakdown,
    cost_metrics,
    device_fit,
    static_metrics,
)
from pytest_edgegate.logsafe import log_safe
from pytest_edgegate.model_cache import ModelCache, ModelHandle
from pytest_edgegate.profiles.catalogue import Catalogue
from pytest_edgegate.profiles.model import DeviceProfile
from pytest_edgegate.runtime_pricing import pricing_profile
from pytest_edgegate.settings import Settings
from pytest_edgegate.workload import Workload


def _unknown_peak(found: dict[str, Availability]) -> dict[str, str]:
    """The static peak memory when it is unknown: reported as such, budget or not."""
    peak = found.get("peak_memory_mb")
    if peak is None or peak.value is not None or not peak.reason.startswith("unknown"):
        return {}
    return {"peak_memory_mb": peak.reason}


class EdgeHandle:
    """Per-test handle; ``results`` holds every evaluation of the test, in call order."""

    def __init__(
        self,
        *,
        nodeid: str,
        target: DeviceProfile,
        budget: Budget,
        settings: Settings,
        cache: ModelCache,
        bases: Sequence[Path],
        workload: Workload | None = None,
        catalogue: Catalogue | None = None,
    ) -> None:
        self.nodeid = nodeid
        self.target = target
        self.budget = budget
        self.workload = workload
        self.catalogue = catalogue
        self.settings = settings
        self._cache = cache
        self._bases = tuple(bases)
        self.results: list[EdgeResult] = []

    def __repr__(self) -> str:
        return f"<edge {self.nodeid} target={self.target.id} results={len(self.results)}>"

    def evaluate(
        self,
        model: str | os.PathLike[str] | ModelHandle | Any,
        *,
        input_shapes: Mapping[str, Sequence[int]] | None = None,
        inputs: Any = None,
        reference: Any = None,
        dataset: Any = None,
        metric: Any = None,
        higher_is_better: bool | None = None,
        measure: bool | None = None,
    ) -> EdgeResult:
        """Evaluate ``model`` on this test's target; a broken model fails this test only."""
        try:
            handle = self._cache.handle(model, self._bases, input_shapes)
        except EdgeGateError as exc:
            error = str(exc)
        else:
            error = None
        if error is not None:  # failed outside the except block: no chained traceback
            self.results.append(self._error_result(model, error))
            pytest.fail(log_safe(f"edgegate: {error}"), pytrace=False)
        accuracy = None
        if reference is not None or dataset is not None:
            accuracy = {
                "reference": reference, "dataset": dataset, "metric": metric,
                "higher_is_better": higher_is_better, "inputs": inputs,
            }  # fmt: skip
        try:
            result = self._judge(handle, accuracy, measure, inputs, input_shapes)
        except EdgeGateError as exc:  # a run that crashed, hung or ran out of memory
            error = str(exc)
        else:
            if self.settings.baseline and self.settings.baseline.startswith("git:"):
                result.details["git_baseline"] = self._at_git_ref(
                    handle, accuracy, measure, inputs, input_shapes
                )
            self.results.append(result)
            return result
        self.results.append(self._error_result(model, error))
        pytest.fail(log_safe(f"edgegate: {error}"), pytrace=False)

    def _judge(
        self,
        handle: ModelHandle,
        accuracy: dict[str, Any] | None,
        measure: bool | None,
        inputs: Any,
        input_shapes: Any,
    ) -> EdgeResult:
        from pytest_edgegate.measurement import measure_model, needs_run

        analysis = handle.analysis
        found: dict[str, Availability] = accuracy_metrics(accuracy is not None)
        accuracy_details = None
        accuracy_notes: list[str] = []
        if accuracy is not None:
            acc = self._accuracy(handle, accuracy)
            if acc.no_metric_reason:
                for name in ("accuracy_drop", "accuracy_drop_rel"):
                    found[name] = Availability(None, reason=acc.no_metric_reason)
            found.update({k: Availability(v, "measured") for k, v in acc.metrics().items()})
            accuracy_details = acc.to_dict()
            accuracy_details["diagnosis"] = acc.diagnosis()
            # what the reader must know to trust the figures: which metric, which inputs
            accuracy_notes = [n for n in acc.notes if n.startswith(("metric:", "fidelity "))]
        from pytest_edgegate.formats.deploy import deployment

        deployed = deployment(handle.loaded, self.target, self.settings.timeout_s, analysis)
        priced, cost_notes, priced_as = pricing_profile(
            self.target, deployed.runtime, self.catalogue
        )
        costs, est, cost_details, model_notes = cost_metrics(priced, analysis)
        cost_notes += model_notes
        found.update(costs)
        usage = self._workload(est, cost_details)
        found.update(usage.metrics)
        found.update(static_metrics(analysis))
        details = breakdown(analysis, handle.loaded.proto)
        details["runtime"] = deployed.to_dict()
        if cost_details is not None:
            details["estimate"] = cost_details
            if priced_as is not None:
                cost_details["priced_as"] = priced_as
        if accuracy_details is not None:
            details["accuracy"] = accuracy_details
        if usage.details is not None:
            details["workload"] = usage.details
        run_notes: list[str] = []
        measured = None
        if needs_run(self.budget, self.settings, measure) and not self.target.is_mcu:
            measured = measure_model(handle, self.target, self.settings, est, inputs, input_shapes)
            details["measured"] = measured.details
            run_notes = measured.notes
        not_run = "no run: ask for one with --edge-measure or edge.evaluate(..., measure=True)"
        if self.target.is_mcu:
            not_run = f"{self.target.id} is a microcontroller profile: edgegate cannot run it"
        if self.settings.latency_source == "measured":
            found["latency_ms"] = (
                measured.latency if measured else Availability(None, reason=not_run)
            )
        if self.settings.memory_source == "measured":
            found["peak_memory_mb"] = (
                measured.memory if measured else Availability(None, reason=not_run)
            )
            if deployed.sram_bytes is not None:  # the runtime's own working memory (arena)
                found["peak_memory_mb"] = Availability(deployed.sram_bytes / 1e6, "measured")
        # the device fit uses the measured peak in measured-memory mode, or when the static
        # peak is unknown and a run measured it anyway
        measured_mb = None
        if measured is not None and (
            self.settings.memory_source == "measured" or not analysis.peak_memory_known
        ):
            measured_mb = measured.memory.value
        plan = None
        if self.target.is_mcu:
            from pytest_edgegate.mcu_memory import mcu_memory

            plan = mcu_memory(self.target, analysis)  # planned once: the fit and the details
            details["mcu_memory"] = plan.to_dict()
        verdicts, fit_notes = device_fit(self.target, analysis, deployed, measured_mb, plan)
        verdicts += usage.verdicts
        for limit in self.budget.limits:
            verdicts.append(judge(limit, found.get(limit.metric)))
        notes = (
            accuracy_notes
            + fit_notes
            + cost_notes
            + run_notes
            + list(deployed.notes)
            + list(analysis.warnings)
        )
        return EdgeResult(
            nodeid=self.nodeid,
            target=self.target.id,
            profile_version=self.target.version,
            model=handle.name,
            model_path=handle.path,
            sha256=handle.loaded.sha256,
            metrics={k: v.value for k, v in found.items() if v.value is not None},
            sources={k: v.source for k, v in found.items() if v.value is not None and v.source},
            unavailable={
                lim.metric: found[lim.metric].reason
                for lim in self.budget.limits
                if lim.metric in found and found[lim.metric].value is None
            }
            | _unknown_peak(found),
            verdicts=verdicts,
            notes=notes,
            details=details,
            regression=dict(self.budget.regression) if self.budget.regression else None,
        )

    def _workload(self, est: Any, cost_details: dict[str, Any] | None) -> Any:
        """Sustained latency, battery life and the rate check of the test's workload."""
        from pytest_edgegate.workload import evaluate

        energy = (cost_details or {}).get("energy") or {}
        return evaluate(self.target, est, energy.get("increase_mj"), self.workload)

    def _at_git_ref(
        self,
        handle: ModelHandle,
        accuracy: dict[str, Any] | None,
        measure: bool | None,
        inputs: Any,
        input_shapes: Any,
    ) -> dict[str, Any]:
        """The same evaluation of the model file as it is at the git baseline's REF.

        Run right after the current one, under the same conditions, so measured metrics
        compare within one run.  Problems with the old file are recorded, never fatal.
        """
        import tempfile

        from pytest_edgegate.analysis import analyze
        from pytest_edgegate.baseline.gitref import file_at
        from pytest_edgegate.baseline.nodes import top_nodes
        from pytest_edgegate.formats import load

        ref = self.settings.baseline.removeprefix("git:")
        info: dict[str, Any] = {"ref": ref, "found": False}
        if handle.path is None:
            info["reason"] = "the model was given in memory, not as a file"
            return info
        with tempfile.TemporaryDirectory(prefix="edgegate-git-") as tmp:
            copy = file_at(ref, Path(handle.path), Path(tmp), handle.loaded.external_files)
            if copy is None:
                info["reason"] = f"{handle.path} does not exist at {ref}"
                return info
            try:
                loaded = load(copy, max_bytes=self._cache.max_bytes)
                old = ModelHandle(loaded, analyze(loaded, input_shapes))
                base = self._judge(old, accuracy, measure, inputs, input_shapes)
            except EdgeGateError as exc:
                info["error"] = f"the model as at {ref}: {exc}"
                return info
        info.update(
            found=True,
            sha256=base.sha256,
            profile_version=base.profile_version,
            metrics=base.metrics,
            sources=base.sources,
            nodes=top_nodes(base.details),
        )
        if "measured" in base.details:
            info["measured"] = {
                k: base.details["measured"][k] for k in ("p50_ms", "host_cpu_p50_ms", "device_ms")
            }
        return info

    def _accuracy(self, handle: ModelHandle, accuracy: dict[str, Any]) -> Any:
        """Candidate against reference on the data set, both under this target's caps.

        A failure names the candidate (and the data set file): the evaluation's own messages
        about a batch or its labels do not always say which model and data they concern.
        """
        from pytest_edgegate.accuracy import AccuracyError, AccuracySpec, evaluate_accuracy

        reference = accuracy["reference"]
        if isinstance(reference, ModelHandle):
            reference = reference.path or reference.loaded.proto
        elif isinstance(reference, (str, os.PathLike)):
            reference = self._cache.handle(reference, self._bases).path
        candidate = handle.path if handle.path is not None else handle.loaded.proto
        from pytest_edgegate.model_cache import resolve_path

        dataset = accuracy["dataset"]
        if isinstance(dataset, (str, os.PathLike)):
            dataset = str(resolve_path(dataset, self._bases))
        inputs = accuracy.get("inputs") if dataset is None else None
        if isinstance(inputs, (str, os.PathLike)):
            inputs = str(resolve_path(inputs, self._bases))
        spec = AccuracySpec(
            candidate,
            reference=reference,
            dataset=dataset,
            inputs=inputs,
            metric=accuracy["metric"],
            higher_is_better=accuracy["higher_is_better"],
            threads=self.target.cpu.cores,
            memory_limit_mb=self.target.ram_mb,
            timeout_s=self.settings.timeout_s,
            target_id=self.target.id,
            candidate_label=handle.name,
        )
        try:
            return evaluate_accuracy(spec)
        except AccuracyError as exc:
            text = str(exc)
            given = accuracy["dataset"]  # as the test wrote it (the path may be a symlink)
            data = os.fspath(given) if isinstance(given, (str, os.PathLike)) else None
            if handle.name in text and (data is None or data in text):
                raise
            where = f"accuracy of {handle.name}" + (f" on the data set {data}" if data else "")
            raise AccuracyError(
                f"{where}: {text}", kind=exc.kind, model=exc.model, details=exc.details
            ) from None

    def _error_result(self, model: Any, error: str) -> EdgeResult:
        name = (
            os.path.basename(os.fspath(model))
            if isinstance(model, (str, os.PathLike))
            else (type(model).__name__)
        )
        return EdgeResult(
            nodeid=self.nodeid,
            target=self.target.id,
            profile_version=self.target.version,
            model=name,
            error=error,
        )

    def failure_message(self) -> str | None:
        """The message the test fails with, or ``None`` when every budget holds."""
        if not self.results and self.budget:
            return (
                f"edgegate: {self.nodeid} has an edge_budget but evaluated no model on "
                f"{self.target.id}: call edge.evaluate(model) in the test"
            )
        lines = []
        for result in self.results:
            if result.error is not None:
                continue  # the test already failed at the evaluate() call with this error
            broken = result.broken
            if broken:
                lines.append(f"edgegate: {result.model} breaks {len(broken)} budget(s):")
                lines.extend(f"  {v.message(result.target)}" for v in broken)
                accuracy = result.details.get("accuracy")
                budgeted = {"accuracy_drop", "accuracy_drop_rel", "sqnr_db", "top1_agreement"}
                if accuracy and budgeted & {v.metric for v in broken}:
                    lines.append(f"  {accuracy['diagnosis']}")
        return "\n".join(lines) if lines else None
