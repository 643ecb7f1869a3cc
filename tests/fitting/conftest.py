"""Fixtures for the calibration tests: the shared HW-NAS data, or a clean skip without it.

The measurement files live outside the repository (``$EDGEGATE_DATA_DIR/hwnas``) and are
never copied in, so a checkout without them must still pass: every test that needs them takes
``hwnas_dir`` (or a fixture built on it) and is skipped with the reason.  The builder tests
need no data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.fitting import hwnas


@pytest.fixture(scope="session")
def hwnas_dir() -> Path:
    """The shared data directory, or skip the test when it is absent."""
    try:
        return hwnas.resolve_data_dir()
    except FileNotFoundError as exc:
        pytest.skip(f"shared HW-NAS data not available: {exc}")


@pytest.fixture(scope="session")
def nb201_records(hwnas_dir: Path) -> list[hwnas.NB201Record]:
    """``nb201_hw_metrics.csv``, read once per session (~0.3 s)."""
    return hwnas.read_nb201_metrics(hwnas_dir)


@pytest.fixture(scope="session")
def b360_pi5_onnx(hwnas_dir: Path) -> list[hwnas.B360Record]:
    """The Pi 5 / ONNX Runtime / CIFAR-100 slice of the b360 file, read once per session."""
    return hwnas.read_b360(hwnas_dir, device="pi5", framework="onnx", task="cifar100")
