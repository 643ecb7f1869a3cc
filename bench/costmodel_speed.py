"""How long the cost model takes per profile, and what it predicts for two ImageNet CNNs.

Usage::

    .venv/bin/python bench/costmodel_speed.py [REALDEV_DIR]

Times :func:`pytest_edgegate.costmodel.estimate` on a 50-layer convolutional network built in
code, for every CPU/NPU profile (target: under 0.2 s each).  With the real-device data
directory (which holds ncnn's benchmark ``params/``), it also prints each profile's estimate
for MobileNet v2 and ResNet-50 at 224x224, rebuilt from ncnn's graphs.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_edgegate.analysis import analyze  # noqa: E402
from pytest_edgegate.costmodel import CostModelUnavailable, estimate  # noqa: E402
from pytest_edgegate.profiles import load_catalogue  # noqa: E402


def fifty_layers() -> onnx.ModelProto:
    """25 blocks of 3x3 conv + ReLU at 64 channels, 56x56: 50 nodes."""
    nodes, inits, x = [], [], "x"
    for k in range(25):
        inits.append(numpy_helper.from_array(np.zeros((64, 64, 3, 3), np.float32), f"w{k}"))
        nodes.append(helper.make_node("Conv", [x, f"w{k}"], [f"c{k}"], pads=[1] * 4))
        nodes.append(helper.make_node("Relu", [f"c{k}"], [f"r{k}"]))
        x = f"r{k}"
    graph = helper.make_graph(
        nodes,
        "fifty",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64, 56, 56])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 64, 56, 56])],
        initializer=inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def main(argv: list[str]) -> int:
    catalogue = load_catalogue()
    analysis = analyze(fifty_layers())
    print(f"estimate() on a {len(analysis.nodes)}-node network, best of 5 (target < 0.2 s):")
    for profile in catalogue:
        try:
            estimate(analysis, profile)
        except CostModelUnavailable:
            continue
        best = min(_timed(lambda p=profile: estimate(analysis, p)) for _ in range(5))
        print(f"  {profile.id:16s} {best * 1e3:7.2f} ms")
    if argv:
        from bench.fitting.ncnn_param import convert_file

        params = Path(argv[0]) / "ncnn" / "params"
        nets = {
            n: analyze(convert_file(params / f"{n}.param").model)
            for n in ("mobilenet_v2", "resnet50")
        }
        print("\nestimate at the profile's cores (ms): MobileNet v2 224, ResNet-50 224")
        for profile in catalogue:
            try:
                row = [estimate(a, profile).latency_ms for a in nets.values()]
                one = [estimate(a, profile, threads=1).latency_ms for a in nets.values()]
            except CostModelUnavailable:
                continue
            runtime = profile.raw.get("runtime", "onnxruntime")
            print(
                f"  {profile.id:16s} {runtime:12s} {profile.cpu.cores} threads: "
                f"{row[0]:7.1f} {row[1]:7.1f}   1 thread: {one[0]:7.1f} {one[1]:7.1f}"
            )
    return 0


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
