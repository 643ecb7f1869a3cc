"""Measure what TFLite Micro keeps in its persistent arena (the tail), per operator.

Builds small int8 ``.tflite`` models with bench/fitting/mcu_twins.py's builder (a base
network, then the base with one more CONV_2D / DEPTHWISE_CONV_2D / ADD / FULLY_CONNECTED
of 8, 16 and 32 channels) and reads the RecordingMicroAllocator's account with the
tflite-micro wheel.  The differences give the constants of
pytest_edgegate/analysis/persistent.py.  Run:

    python -m bench.fitting.tflm_persistent
"""

from __future__ import annotations

from bench.fitting import tflm_arena
from bench.fitting.mcu_twins import _Twin


def _model(op: str, channels: int) -> bytes:
    net = _Twin("probe", True, seed=0)
    x = net.input((8, 8, channels))
    if op == "conv":
        x = net.conv(x, channels, (3, 3))
    elif op == "depthwise":
        x = net.conv(x, channels, (3, 3), depthwise=True)
    elif op == "add":
        x = net.add(x, x)
    x = net.pool_flatten(x)
    if op == "dense":
        x = net.dense(x, channels)
    return net.dense_softmax(x, 2)[1]


def measure() -> list[tuple[str, int, dict[str, int]]]:
    rows = []
    for channels in (8, 16, 32):
        for op in ("base", "conv", "depthwise", "add", "dense"):
            rows.append((op, channels, tflm_arena.allocations(_model(op, channels))))
    return rows


def main() -> None:
    rows = measure()
    base = {c: a for op, c, a in rows if op == "base"}
    print("op         C   tail  eval_tensors  node_structs  persistent_buffers  (minus base)")
    for op, c, a in rows:
        b = base[c]
        print(
            f"{op:9} {c:3} {a['tail']:6} {a['TfLiteEvalTensor data']:6}"
            f" {a['NodeAndRegistration struct']:6} {a['Persistent buffer data']:6}"
            f"   d_tail={a['tail'] - b['tail']:5}"
            f" d_buffers={a['Persistent buffer data'] - b['Persistent buffer data']:5}"
        )


if __name__ == "__main__":
    main()
