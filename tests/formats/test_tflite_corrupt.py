"""Corrupt ``.tflite`` bytes: each either reads or raises ModelError, never anything else."""

from __future__ import annotations

import random

import pytest
from tflite_models import small_cnn

from bench.fitting.tflite_writer import TflWriter
from pytest_edgegate.analysis import analyze
from pytest_edgegate.errors import ModelError
from pytest_edgegate.formats.tflite.load import load_tflite


@pytest.mark.parametrize("int8", [False, True])
def test_flipped_bytes_read_or_fail_with_a_model_error(int8: bool) -> None:
    base = small_cnn(int8=int8)
    rng = random.Random(17)
    errors = 0
    for _ in range(150):
        data = bytearray(base)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(8, len(data))] = rng.randrange(256)
        try:
            analyze(load_tflite("corrupt.tflite", bytes(data)))
        except ModelError as exc:
            assert str(exc).startswith("corrupt.tflite: ")
            errors += 1
    assert errors  # the corruption is noticed, not only survived


def test_malformed_quantization_is_named() -> None:
    b = TflWriter()
    x = b.tensor("x", [1, 4], "INT8", quant=([0.1], [300], 0))  # 300 does not fit int8
    y = b.tensor("y", [1, 4], "INT8", quant=([0.1], [0], 0))
    b.op("RELU", [x], [y])
    with pytest.raises(ModelError, match="tensor 'x' has a malformed quantization: a zero "
                       "point outside INT8's range -128..127"):  # fmt: skip
        load_tflite("q.tflite", b.build([x], [y]))
