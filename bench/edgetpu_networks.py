"""What the cost model predicts for standard ImageNet CNNs (int8, 224) on the Edge TPU, and why.

Networks: the ncnn benchmark's MobileNet v1 / v2 and ResNet-50 (Tencent/ncnn benchmark/*.param,
converted by bench.fitting.ncnn_param), analysed in the fully-quantized int8 view.
Usage: python bench/edgetpu_networks.py REALDEV_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fitting.ncnn_param import convert_file  # noqa: E402
from bench.fitting.networks import quantized_view  # noqa: E402
from pytest_edgegate.analysis import analyze  # noqa: E402
from pytest_edgegate.calibrate.fit import with_constants  # noqa: E402
from pytest_edgegate.costmodel import estimate  # noqa: E402
from pytest_edgegate.costmodel.npu_array import array_utilisation  # noqa: E402
from pytest_edgegate.profiles import load_catalogue  # noqa: E402

NETWORKS = {"MobileNet v1": "mobilenet", "MobileNet v2": "mobilenet_v2", "ResNet-50": "resnet50"}
#: edgetpu.toml 2.0's NPU constants (per-MAC price without the array model), for comparison.
PREVIOUS = {
    "npu_array_tile": 0, "npu_eff_mac": 0.1555, "npu_eff_vector": 0.001181,
    "npu_dispatch_us": 0.7668, "transfer_fixed_us": 116.0, "npu_fused_epilogue": False,
}  # fmt: skip


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    params = Path(argv[0]) / "ncnn" / "params"
    tpu = load_catalogue().get("edgetpu")
    old = with_constants(tpu, {**tpu.raw["costmodel"], **PREVIOUS})
    tile = int(tpu.raw["costmodel"].get("npu_array_tile", 0))
    c = tpu.raw["costmodel"]
    print(
        f"edgetpu {tpu.version}: peak {tpu.npu.peak_tops:g} TOPS x npu_eff_mac "
        f"{c['npu_eff_mac']:g}, array tile {tile}, on-chip {tpu.npu.onchip_memory_mib:g} MiB, "
        f"link {tpu.npu.link_bandwidth_gbps:g} GB/s"
    )
    for label, name in NETWORKS.items():
        an = quantized_view(analyze(convert_file(params / f"{name}.param").model))
        est = estimate(an, tpu)
        prev = estimate(an, old)
        nodes = [n for n in an.nodes if not n.folded and n.executions]
        macs = sum(n.macs for n in nodes)
        weights = sum(n.weight_bytes for n in nodes)
        used = sum(n.macs * array_utilisation(n, tile) for n in nodes) / max(1, macs)
        on_npu = [x for x in est.nodes if x.device == "npu"]
        mac_ms = sum(x.time_ms for x in on_npu if x.macs)
        tops = 2 * sum(x.macs for x in on_npu) / max(1e-12, mac_ms * 1e-3) / 1e12
        b = est.breakdown
        host_ms = b["compute_ms"] + b["memory_ms"] + b["overhead_ms"]
        print(
            f"{label:13s} {macs / 1e9:5.2f} GMAC, weights {weights / 1e6:5.1f} MB: "
            f"{est.latency_ms:6.2f} ms (edgetpu 2.0 constants: {prev.latency_ms:6.2f}); "
            f"NPU {b['npu_ms']:.2f} ms (MAC layers {mac_ms:.2f} ms = {tops:.2f} TOPS, "
            f"MAC-weighted array use {used:.2f}), link {est.transfer_ms:.2f} ms "
            f"(streamed {est.streamed_weight_bytes / 1e6:.1f} MB), host CPU {host_ms:.2f} ms, "
            f"NPU coverage {est.npu_coverage:.3f}"
        )
        for note in est.notes:
            print(f"    note: {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
