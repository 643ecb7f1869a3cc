"""Turning a model analysis and a device profile into metrics and device-fit verdicts.

Each metric comes with its source (``static``, ``estimate`` or ``measured``) or with the reason
it is not available for this target and mode; the budget check then fails on a missing metric
instead of passing silently.  Later parts of edgegate (the cost model, the runner, accuracy)
add their metrics here, beside the static ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_edgegate.budgets import Availability, Verdict
from pytest_edgegate.profiles.model import MB, DeviceProfile

if TYPE_CHECKING:
    from pytest_edgegate.analysis import ModelAnalysis


def static_metrics(analysis: ModelAnalysis) -> dict[str, Availability]:
    """The metrics that need no execution: identical on every machine."""
    out = {name: Availability(value, "static") for name, value in analysis.metrics().items()}
    if not analysis.peak_memory_known:
        out["peak_memory_mb"] = Availability(None, reason=analysis.peak_memory_unknown_reason())
    return out


def cost_metrics(
    profile: DeviceProfile, analysis: ModelAnalysis
) -> tuple[dict[str, Availability], Any, dict[str, Any] | None, list[str]]:
    """Latency, energy and NPU coverage from the cost model (deterministic ``estimate``).

    Returns the metrics, the estimate (or ``None``), its breakdown for the reports, and notes
    for the user (a float model falling back to an NPU's host CPU is said loudly).
    """
    from pytest_edgegate.costmodel import CostModelUnavailable, estimate

    out: dict[str, Availability] = {}
    try:
        est = estimate(analysis, profile)
    except CostModelUnavailable as exc:
        reason = str(exc)
        out["latency_ms"] = Availability(None, reason=reason)
        out["energy_mj"] = Availability(None, reason=reason)
        out["power_w"] = Availability(None, reason=reason)
        out["npu_coverage"] = Availability(None, reason=f"{profile.id} has no NPU")
        if not profile.is_npu:
            return out, None, None, []
        # Placement needs only the profile's [npu] rules, not fitted constants.
        from pytest_edgegate.costmodel.placement import summarize
        from pytest_edgegate.costmodel.terms import executed

        summary = summarize(executed(analysis.nodes), profile, analysis.is_quantized)
        out["npu_coverage"] = Availability(summary.coverage, "estimate")
        details = {
            "npu_coverage": summary.coverage,
            "partitions": summary.partitions,
            "cpu_fallback": summary.cpu_fallback,
        }
        return out, None, details, list(summary.notes)
    out["latency_ms"] = Availability(est.latency_ms, "estimate")
    details = est.to_dict()
    out.update(energy_metrics(profile, est, details))
    if profile.is_npu:
        out["npu_coverage"] = Availability(est.npu_coverage, "estimate")
    else:
        out["npu_coverage"] = Availability(None, reason=f"{profile.id} has no NPU")
    return out, est, details, list(est.notes)


def energy_metrics(
    profile: DeviceProfile, est: Any, details: dict[str, Any]
) -> dict[str, Availability]:
    """``energy_mj`` of the whole device (idle floor + the estimate's increase) and
    ``power_w``; ``details`` (the estimate's, for the reports) gains the split."""
    from pytest_edgegate.costmodel.power import PowerUnavailable, device_energy

    try:
        energy = device_energy(est, profile)
    except PowerUnavailable as exc:
        reason = str(exc)
        return {
            "energy_mj": Availability(None, reason=reason),
            "power_w": Availability(None, reason=reason),
        }
    details["energy_increase_mj"] = est.energy_mj
    details["energy_mj"] = energy.energy_mj
    details["energy"] = energy.to_dict()
    return {
        "energy_mj": Availability(energy.energy_mj, "estimate"),
        "power_w": Availability(energy.power_w, "estimate"),
    }


def accuracy_metrics(requested: bool) -> dict[str, Availability]:
    """Why each accuracy metric is missing until an evaluation provides it."""
    if requested:
        drop = (
            "needs labelled data: pass dataset= with (inputs, labels); the metric is top1 for "
            "integer class labels, else pass metric='top1', 'top5', 'mae' or a callable"
        )
        fidelity = "the reference and candidate outputs could not be compared"
    else:
        drop = fidelity = "pass reference= and dataset= to edge.evaluate to measure it"
    return {
        "accuracy_drop": Availability(None, reason=drop),
        "accuracy_drop_rel": Availability(None, reason=drop),
        "sqnr_db": Availability(None, reason=fidelity),
        "top1_agreement": Availability(None, reason=fidelity),
    }


def device_fit(
    profile: DeviceProfile,
    analysis: ModelAnalysis,
    deployed: Any = None,
    measured_mb: float | None = None,
    mcu: Any = None,
) -> tuple[list[Verdict], list[str]]:
    """Checks every model must pass on a device, budget or not: does it fit in memory?

    On a microcontroller the weights and the runtime's code live in flash and the tensor
    arena in SRAM, so the two are checked separately: on the figures the device's runtime
    measured (``deployed``, a formats ``Deployment`` with ``sram_bytes``/``flash_bytes``, e.g.
    TFLite Micro's smallest working arena) or else on the static plan of
    :mod:`pytest_edgegate.mcu_memory`.  Elsewhere weights and peak activations share the RAM,
    judged on the peak measured under the device's cap when the model was run
    (``measured_mb``).  An activation peak the analysis cannot know (a size that depends on
    input values) is not judged on its lower bound: it gets a note saying so instead of a
    verdict.  ``mcu`` is that static plan when the caller already made it (it is planned here
    otherwise).  Returns the verdicts and those notes.
    """
    weights_mb = analysis.param_bytes / MB
    activations_mb = analysis.peak_activation_bytes / MB
    known = analysis.peak_memory_known
    sram = getattr(deployed, "sram_bytes", None)
    flash = getattr(deployed, "flash_bytes", None)
    if profile.is_mcu and sram is not None and flash is not None:
        runtime = deployed.runtime
        checks = [
            (
                "flash_mb",
                flash / MB,
                profile.flash_mb,
                f"model and {runtime} code in flash",
                "measured",
            ),
            (
                "sram_mb",
                sram / MB,
                profile.sram_mb,
                f"{runtime} tensor arena in device SRAM",
                "measured",
            ),
        ]
    elif profile.is_mcu:
        if mcu is None:
            from pytest_edgegate.mcu_memory import mcu_memory

            mcu = mcu_memory(profile, analysis)
        checks = [
            (
                "flash_mb",
                mcu.flash_bytes / MB,
                profile.flash_mb,
                "weights + runtime code in flash",
                "static",
            ),
            (
                "sram_mb",
                mcu.sram_bytes / MB if known else None,
                profile.sram_mb,
                "tensor arena in device SRAM",
                "static",
            ),
        ]
    elif measured_mb is not None:
        checks = [("peak_memory_mb", measured_mb, profile.ram_mb, "device RAM", "measured")]
    else:
        peak = weights_mb + activations_mb if known else None
        checks = [("peak_memory_mb", peak, profile.ram_mb, "device RAM", "static")]
    verdicts: list[Verdict] = []
    notes: list[str] = []
    for metric, value, bound, what, source in checks:
        if bound is None:
            continue
        if value is None:
            notes.append(
                f"device fit not checked: {what} ({bound:g} MB on {profile.id}) against a peak "
                f"that is {analysis.peak_memory_unknown_reason()}"
            )
            continue
        passed = value <= bound
        verdicts.append(Verdict(metric, "max", bound, value, passed, source, what, "device"))
    return verdicts, notes


#: Longest metadata text kept in a result (a doc string can be megabytes), and most entries.
METADATA_TEXT = 300
METADATA_PROPS = 20


def _cut(text: str, limit: int = METADATA_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def model_metadata(proto: Any) -> dict[str, Any]:
    """Who made the model and what it says about itself, cut to a sane length.

    It comes from the model file, i.e. from whoever made the pull request: reports show it
    escaped, never as markup (see ``report/``).
    """
    props = list(proto.metadata_props)
    out: dict[str, Any] = {
        "producer": _cut(proto.producer_name),
        "producer_version": _cut(proto.producer_version),
        "doc_string": _cut(proto.doc_string),
        "metadata_props": {_cut(p.key, 100): _cut(p.value) for p in props[:METADATA_PROPS]},
    }
    if len(props) > METADATA_PROPS:
        out["metadata_props_omitted"] = len(props) - METADATA_PROPS
    return out


def breakdown(analysis: ModelAnalysis, proto: Any = None) -> dict[str, Any]:
    """What the reports show beside the headline metrics (and the model's metadata when the
    model's ``proto`` is given)."""
    details = {
        "params_by_dtype": dict(analysis.params_by_dtype),
        "param_bytes": analysis.param_bytes,
        "peak_activation_bytes": analysis.peak_activation_bytes,
        "op_histogram": dict(analysis.op_histogram),
        "assumed_dims": dict(analysis.assumed_dims),
        "nodes": [
            {
                "name": n.name,
                "op_type": n.op_type,
                "scope": n.scope,
                "macs": n.macs,
                "flops": n.flops,
                "bytes_read": n.bytes_read,
                "bytes_written": n.bytes_written,
                "compute_dtype": n.compute_dtype,
            }
            for n in analysis.nodes
        ],
    }
    if proto is not None:
        details["model_metadata"] = model_metadata(proto)
    return details
