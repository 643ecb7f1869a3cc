"""The wake-word detector: MLPerf Tiny's DS-CNN on 49x10 MFCC frames, int8, on every target.

It must run on the microcontroller too: the firmware leaves the model 64 KB of flash, and a
one-second window is re-classified every 20 ms hop on the Linux boards.
"""

import pytest

INT8 = "models/kws_dscnn_int8.onnx"
FP32 = "models/kws_dscnn_fp32.onnx"

# Every wake-word model: 64 KB of flash, 5 M multiply-accumulates per window.
pytestmark = pytest.mark.edge_budget(size_mb=0.064, macs_m=5)


def test_int8_fits_the_firmware(edge, edge_target):
    result = edge.evaluate(INT8)
    if edge_target.is_mcu:  # weights in flash and activations in SRAM, checked separately
        assert {v.metric for v in result.verdicts if v.keyword == "device"} == {
            "flash_mb",
            "sram_mb",
        }


@pytest.mark.edge_budget(min_sqnr_db=25, min_top1_agreement=0.95)
def test_int8_agrees_with_fp32(edge):
    # No data set: 64 seeded random frames (standard normal, like normalised MFCCs).
    edge.evaluate(INT8, reference=FP32)


@pytest.mark.only_kinds("cpu", "npu")
@pytest.mark.edge_budget(latency_ms=5, energy_mj=10)  # well inside each 20 ms hop
def test_int8_keeps_up_with_the_microphone(edge):
    edge.evaluate(INT8)
