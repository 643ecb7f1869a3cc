"""The static SRAM estimate against TFLite Micro's own arena (needs the [tflite] extra).

The ONNX QDQ network is analysed; its ``.tflite`` twin must allocate and run in TFLite Micro
with an arena 10 % above the estimate and fail 10 % below it, i.e. the smallest arena it
needs is within 10 % of the estimate.  Each try runs in a subprocess (a too-small arena may
abort).  ``bench/mcu_memory.py`` prints the exact figures.
"""

from __future__ import annotations

import pytest

from bench.fitting import mcu_twins, tflm_arena
from pytest_edgegate.analysis import analyze
from pytest_edgegate.analysis.arena import TFLM_HOST, plan_arena

pytestmark = pytest.mark.skipif(
    not tflm_arena.available(), reason="needs the [tflite] extra (tflite-micro)"
)


@pytest.mark.parametrize("name", mcu_twins.NAMES)
def test_estimate_within_ten_percent_of_the_tflite_micro_arena(name, tmp_path):
    estimate = plan_arena(analyze(mcu_twins.build(name)), TFLM_HOST).arena_bytes
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(mcu_twins.build_tflite(name))
    above = tflm_arena.try_arena(str(path), int(estimate * 1.10))
    assert above.returncode == 0, above.stderr[-500:]
    below = tflm_arena.try_arena(str(path), int(estimate * 0.90))
    assert below.returncode != 0
