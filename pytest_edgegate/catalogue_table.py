"""The device catalogue as a table, for ``pytest --edge-list-targets`` and ``edgegate targets``.

Both commands print the same thing so a user sees one description of each device, with the
file it came from and whether any of its numbers lack a cited source.
"""

from __future__ import annotations

from tabulate import tabulate

from pytest_edgegate.profiles import Catalogue, DeviceProfile


def _compute(profile: DeviceProfile) -> str:
    cpu = profile.cpu
    text = f"{cpu.cores}x {cpu.clock_mhz / 1000:g} GHz"
    if profile.npu is not None:
        dtypes = "/".join(profile.npu.dtypes)
        text += f" + NPU {profile.npu.peak_tops:g} TOPS {dtypes}"
    return text


def _throughput(profile: DeviceProfile) -> str:
    units = {
        "fp32_gflops": "GFLOP/s fp32",
        "fp16_gflops": "GFLOP/s fp16",
        "int8_gops": "GOP/s int8",
    }
    return ", ".join(f"{v:g} {units[k]}" for k, v in profile.throughput.items() if k in units)


def _power(profile: DeviceProfile) -> str:
    """Idle-to-loaded power, what it covers, and the cooling's envelope."""
    power = profile.power
    if "idle_w" not in power:
        return ""
    text = f"{power['idle_w']:g}-{power.get('active_w', power['idle_w']):g} W"
    if "covers" in power:
        text += f" ({power['covers']})"
    thermal = profile.raw.get("thermal")
    if thermal:
        text += f", holds {thermal['envelope_w']:g} W ({thermal['cooling']})"
    return text


def _runtime(profile: DeviceProfile) -> str:
    """The runtime the cost-model constants hold for (CPU work; ``onnxruntime`` by default)."""
    if profile.kind == "mcu" and "runtime" not in profile.raw:
        return ""
    return str(profile.raw.get("runtime", "onnxruntime"))


def catalogue_table(catalogue: Catalogue, verbose: bool = False) -> str:
    rows = []
    for p in catalogue:
        row = [p.id, p.kind, p.name, _compute(p), p.memory_summary()]
        bw = p.memory.bandwidth_gbps
        row.append(f"{bw:g} GB/s" if bw else "")
        row.append(_throughput(p))
        row.append(_power(p))
        row.append(_runtime(p))
        origin = "built-in" if "/profiles/data/" in p.origin.replace("\\", "/") else p.origin
        if p.overrides:
            origin += " (overrides built-in)" if "/profiles/data/" in p.overrides else " (override)"
        row.append(f"v{p.version}, {origin}")
        rows.append(row)
    headers = ["id", "kind", "device", "compute", "memory", "bandwidth", "peak", "power"]
    headers += ["runtime", "profile"]
    widths = [None, None, 34, 24, 22, None, 22, 24, None, 22]
    text = [
        f"edgegate device catalogue ({len(catalogue)} targets)",
        tabulate(rows, headers=headers, disable_numparse=True, maxcolwidths=widths),
    ]
    for p in catalogue:
        if p.unsourced:
            text.append(f"warning: {p.id}: no source given for {', '.join(p.unsourced)}")
    if verbose:
        for p in catalogue:
            text.append(f"\n{p.id} sources:")
            text.extend(f"  {key}: {value}" for key, value in sorted(p.sources.items()))
    else:
        text.append("\nuse -v to show where each number comes from")
    return "\n".join(text)
