"""Host calibration: how fast is this host, right now, at each kind of work a model does.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/runner/host_speed.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pytest_edgegate.runner.hostwork import work_units
from pytest_edgegate.runner.stats import TimingStats, time_repeatedly

STREAM_ELEMENTS = 8_000_000
CONV_SHAPE = (1, 32, 56, 56)
CONV_OUT = 64
GEMM_M, GEMM_K, GEMM_N = 256, 512, 512
WARMUP = 2
DISPATCH_WIDTH = 16
DISPATCH_NODES = 256


@dataclass(frozen=True)
class CalibrationKernel:
    """One kernel's timing and the speed it implies (``gflops`` or ``gbps``; the other 0).

    ``gflops``/``gbps`` divide by the wall-clock median; ``cpu_gflops``/``cpu_gbps`` by the
    median CPU time (all threads): the host's speed per CPU-second, which load moves less.
    """

    name: str
    description: str
    flops: int
    bytes_moved: int
    timing: TimingStats
    cpu_timing: TimingStats
    gflops: float
    gbps: float
    cpu_gflops: float
    cpu_gbps: float
    #: Nodes the kernel's graph runs (the dispatch kernels' unit of work).
    nodes: int = 1

    def units(self) -> dict[str, int]:
        """The kernel's work in every unit a speed can be expressed in."""
        return work_units(self.flops, self.bytes_moved, self.nodes)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "flops": self.flops,
            "bytes_moved": self.bytes_moved,
            "nodes": self.nodes,
            "timing": self.timing.to_dict(),
            "cpu_timing": self.cpu_timing.to_dict(),
            "gflops": self.gflops,
            "gbps": self.gbps,
            "cpu_gflops": self.cpu_gflops,
            "cpu_gbps": self.cpu_gbps,
        }

    @classmethod
    def from_dict(cls, data: dict) -> CalibrationKernel:
        return cls(
            **{
                **data,
                "timing": TimingStats.from_dict(data["timing"]),
                "cpu_timing": TimingStats.from_dict(data["cpu_timing"]),
            }
        )


@dataclass(frozen=True)
class Calibration:
    """The host's speed figures: conv and GEMM GFLOP/s, streaming GB/s, and the sum of the
    kernels' median times (a single "host speed" figure, lower is faster); each by the
    wall clock and per CPU-second (``cpu_``)."""

    kernels: tuple[CalibrationKernel, ...]
    conv_gflops: float
    gemm_gflops: float
    stream_gbps: float
    total_p50_ms: float
    conv_cpu_gflops: float
    gemm_cpu_gflops: float
    stream_cpu_gbps: float
    total_cpu_p50_ms: float

    def to_dict(self) -> dict:
        return {
            "kernels": [k.to_dict() for k in self.kernels],
            "conv_gflops": self.conv_gflops,
            "gemm_gflops": self.gemm_gflops,
            "stream_gbps": self.stream_gbps,
            "total_p50_ms": self.total_p50_ms,
            "conv_cpu_gflops": self.conv_cpu_gflops,
            "gemm_cpu_gflops": self.gemm_cpu_gflops,
            "stream_cpu_gbps": self.stream_cpu_gbps,
            "total_cpu_p50_ms": self.total_cpu_p50_ms,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Calibration:
        return cls(
            kernels=tuple(CalibrationKernel.from_dict(k) for k in data["kernels"]),
            conv_gflops=float(data["conv_gflops"]),
            gemm_gflops=float(data["gemm_gflops"]),
            stream_gbps=float(data["stream_gbps"]),
            total_p50_ms=float(data["total_p50_ms"]),
            conv_cpu_gflops=float(data["conv_cpu_gflops"]),
            gemm_cpu_gflops=float(data["gemm_cpu_gflops"]),
            stream_cpu_gbps=float(data["stream_cpu_gbps"]),
            total_cpu_p50_ms=float(data["total_cpu_p50_ms"]),
        )


def _model(nodes, inputs, outputs, initializers) -> bytes:
    from onnx import helper

    graph = helper.make_graph(nodes, "edgegate_calibration", inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    return model.SerializeToString()


def kernel_models() -> list[tuple[str, str, int, int, int, bytes, dict[str, np.ndarray]]]:
    """(name, description, flops, bytes, nodes, model bytes, feeds) of each kernel,
    deterministic; ``nodes`` is how many nodes the kernel's graph runs."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(20240521)
    f32 = TensorProto.FLOAT
    out = []

    n, c, h, w = CONV_SHAPE
    weight = rng.standard_normal((CONV_OUT, c, 3, 3), dtype=np.float32) * 0.1
    conv = _model(
        [helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])],
        [helper.make_tensor_value_info("x", f32, list(CONV_SHAPE))],
        [helper.make_tensor_value_info("y", f32, [n, CONV_OUT, h, w])],
        [numpy_helper.from_array(weight, "w")],
    )
    macs = n * CONV_OUT * h * w * c * 9
    x = rng.standard_normal(CONV_SHAPE, dtype=np.float32)
    out.append(
        (
            "conv3x3",
            "Conv 3x3 32->64 on 1x32x56x56",
            2 * macs,
            4 * (x.size + weight.size + n * CONV_OUT * h * w),
            1,
            conv,
            {"x": x},
        )
    )

    b = rng.standard_normal((GEMM_K, GEMM_N), dtype=np.float32) * 0.05
    gemm = _model(
        [helper.make_node("MatMul", ["a", "b"], ["y"])],
        [helper.make_tensor_value_info("a", f32, [GEMM_M, GEMM_K])],
        [helper.make_tensor_value_info("y", f32, [GEMM_M, GEMM_N])],
        [numpy_helper.from_array(b, "b")],
    )
    a = rng.standard_normal((GEMM_M, GEMM_K), dtype=np.float32)
    out.append(
        (
            "gemm",
            "MatMul 256x512 by 512x512",
            2 * GEMM_M * GEMM_K * GEMM_N,
            4 * (GEMM_M * GEMM_K + GEMM_K * GEMM_N + GEMM_M * GEMM_N),
            1,
            gemm,
            {"a": a},
        )
    )

    out.extend(_int8_kernels(rng, x, weight, a, b))

    size = STREAM_ELEMENTS
    stream = _model(
        [helper.make_node("Add", ["p", "q"], ["y"])],
        [
            helper.make_tensor_value_info("p", f32, [size]),
            helper.make_tensor_value_info("q", f32, [size]),
        ],
        [helper.make_tensor_value_info("y", f32, [size])],
        [],
    )
    p = rng.standard_normal(size, dtype=np.float32)
    q = rng.standard_normal(size, dtype=np.float32)
    out.append(
        (
            "stream_add",
            "Add of two 8M-element float32 vectors",
            size,
            3 * 4 * size,
            1,
            stream,
            {"p": p, "q": q},
        )
    )
    out.extend(_dispatch_kernels())
    return out


def _relu_chain(length: int) -> bytes:
    from onnx import TensorProto, helper

    names = ["x", *(f"t{i}" for i in range(length))]
    nodes = [helper.make_node("Relu", [a], [b]) for a, b in zip(names, names[1:], strict=False)]
    f32 = TensorProto.FLOAT
    return _model(
        nodes,
        [helper.make_tensor_value_info("x", f32, [DISPATCH_WIDTH])],
        [helper.make_tensor_value_info(names[-1], f32, [DISPATCH_WIDTH])],
        [],
    )


def _dispatch_kernels():
    """The runtime's fixed cost per ``run`` call and per node, on a chain of tiny Relus."""
    x = np.linspace(-1, 1, DISPATCH_WIDTH, dtype=np.float32)
    return [
        ("call", "one Relu on 16 floats: the cost of a run call", 0, 8 * DISPATCH_WIDTH, 1,
         _relu_chain(1), {"x": x}),
        (
            "dispatch",
            f"{DISPATCH_NODES} chained Relus on 16 floats: the cost of a node",
            0,
            8 * DISPATCH_WIDTH * DISPATCH_NODES,
            DISPATCH_NODES,
            _relu_chain(DISPATCH_NODES),
            {"x": x},
        ),
    ]  # fmt: skip


def _qdq_product(
    op: str, x: np.ndarray, weight: np.ndarray, out_shape: list[int], **attrs: object
) -> bytes:
    """``Q -> DQ -> op(., DQ(int8 weight)) -> Q -> DQ``: one quantized layer, float in/out."""
    from onnx import TensorProto, helper, numpy_helper

    def scalar(name: str, value: float, dtype: type) -> object:
        return numpy_helper.from_array(np.array(value, dtype=dtype), name)

    w_scale = float(np.abs(weight).max()) / 127 or 1.0
    w_int8 = np.clip(np.round(weight / w_scale), -127, 127).astype(np.int8)
    initializers = [
        numpy_helper.from_array(w_int8, "w"),
        scalar("x_scale", float(np.abs(x).max()) / 127 or 1.0, np.float32),
        scalar("w_scale", w_scale, np.float32),
        scalar("y_scale", 0.05, np.float32),
        scalar("zero", 0, np.int8),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "x_scale", "zero"], ["xq"]),
        helper.make_node("DequantizeLinear", ["xq", "x_scale", "zero"], ["xd"]),
        helper.make_node("DequantizeLinear", ["w", "w_scale", "zero"], ["wd"]),
        helper.make_node(op, ["xd", "wd"], ["p"], **attrs),
        helper.make_node("QuantizeLinear", ["p", "y_scale", "zero"], ["pq"]),
        helper.make_node("DequantizeLinear", ["pq", "y_scale", "zero"], ["y"]),
    ]
    f32 = TensorProto.FLOAT
    return _model(
        nodes,
        [helper.make_tensor_value_info("x", f32, list(x.shape))],
        [helper.make_tensor_value_info("y", f32, out_shape)],
        initializers,
    )


def _int8_kernels(rng, x: np.ndarray, conv_weight: np.ndarray, a: np.ndarray, b: np.ndarray):
    """The conv and GEMM kernels again, quantized (QDQ, int8 weights and activations)."""
    n, _c, h, w = x.shape
    conv_macs = n * CONV_OUT * h * w * conv_weight[0].size
    gemm_macs = GEMM_M * GEMM_K * GEMM_N
    return [
        (
            "conv3x3_int8",
            "Conv 3x3 32->64 on 1x32x56x56, QDQ int8",
            2 * conv_macs,
            x.size + conv_weight.size + n * CONV_OUT * h * w,
            6,
            _qdq_product("Conv", x, conv_weight, [n, CONV_OUT, h, w], pads=[1, 1, 1, 1]),
            {"x": x},
        ),
        (
            "gemm_int8",
            "MatMul 256x512 by 512x512, QDQ int8",
            2 * gemm_macs,
            GEMM_M * GEMM_K + GEMM_K * GEMM_N + GEMM_M * GEMM_N,
            6,
            _qdq_product("MatMul", a, b, [GEMM_M, GEMM_N]),
            {"x": a},
        ),
    ]


def calibrate(threads: int, *, rel_ci: float, time_cap_s: float) -> Calibration:
    """Time every kernel with the run's session options; ``time_cap_s`` is the total."""
    from pytest_edgegate.runner.ort_session import create_session

    kernels = []
    specs = kernel_models()
    for name, description, flops, nbytes, nodes, model, feeds in specs:
        session: Any = create_session(model, threads)
        for _ in range(WARMUP):
            session.run(None, feeds)
        timing, cpu_timing = time_repeatedly(
            lambda s=session, f=feeds: s.run(None, f),
            rel_ci=rel_ci,
            time_cap_s=time_cap_s / len(specs),
        )
        del session
        seconds = timing.p50_ms / 1e3
        cpu_seconds = max(cpu_timing.p50_ms, 1e-6) / 1e3
        is_stream = name == "stream_add"
        kernels.append(
            CalibrationKernel(
                name=name,
                description=description,
                flops=flops,
                bytes_moved=nbytes,
                timing=timing,
                cpu_timing=cpu_timing,
                gflops=0.0 if is_stream else flops / seconds / 1e9,
                gbps=nbytes / seconds / 1e9 if is_stream else 0.0,
                cpu_gflops=0.0 if is_stream else flops / cpu_seconds / 1e9,
                cpu_gbps=nbytes / cpu_seconds / 1e9 if is_stream else 0.0,
                nodes=nodes,
            )
        )
    by_name = {k.name: k for k in kernels}
    return Calibration(
        kernels=tuple(kernels),
        conv_gflops=by_name["conv3x3"].gflops,
        gemm_gflops=by_name["gemm"].gflops,
        stream_gbps=by_name["stream_add"].gbps,
        total_p50_ms=sum(k.timing.p50_ms for k in kernels),
        conv_cpu_gflops=by_name["conv3x3"].cpu_gflops,
        gemm_cpu_gflops=by_name["gemm"].cpu_gflops,
        stream_cpu_gbps=by_name["stream_add"].cpu_gbps,
        total_cpu_p50_ms=sum(k.cpu_timing.p50_ms for k in kernels),
    )
