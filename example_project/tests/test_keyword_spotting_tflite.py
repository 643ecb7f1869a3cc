"""The wake-word detector as the firmware ships it: an int8 ``.tflite`` for TFLite Micro.

``make_tflite.py`` writes it (the DS-CNN of ``test_keyword_spotting.py``, same MACs).  On the
microcontroller edgegate allocates it with TensorFlow Lite Micro: the smallest tensor arena
that runs one inference is its SRAM need, the file plus the runtime's code its flash need.
On the Linux boards it is priced as LiteRT runs it.  Needs the [tflite] extra.
"""

import pytest

TFLITE = "models/kws_dscnn_int8.tflite"

# The firmware's budget: 64 KB of flash for the model, 5 M MACs per window, and at most
# 32 KB of SRAM for the tensor arena on the microcontroller (checked with the arena below).
pytestmark = pytest.mark.edge_budget(size_mb=0.064, macs_m=5)


def test_tflite_fits_the_firmware(edge, edge_target):
    result = edge.evaluate(TFLITE)
    runtime = result.details["runtime"]
    if edge_target.is_mcu:
        assert runtime["runtime"] == "tflite-micro"
        assert runtime["arena_bytes"] <= 32 * 1024  # the firmware's arena
    else:
        assert runtime["runtime"] == "litert"


@pytest.mark.only_kinds("cpu", "npu")
@pytest.mark.edge_budget(latency_ms=5, energy_mj=10)  # well inside each 20 ms hop
def test_tflite_keeps_up_with_the_microphone(edge):
    edge.evaluate(TFLITE)
