"""The example project gates green, and its deliberate failure reads clearly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).parent.parent / "example_project"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=EXAMPLE,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_example_gate_passes_on_each_target() -> None:
    done = run("--edge-target=cortex-a72,edgetpu", "-v")
    assert done.returncode == 0, done.stdout + done.stderr
    for target in ("cortex-a72", "edgetpu"):
        assert f"test_fp32_classifier[{target}] PASSED" in done.stdout
        assert f"target {target}: 5 passed, 0 failed -> PASS" in done.stdout
    assert "CPU FALLBACK: float model runs entirely on edgetpu" in done.stdout


def test_example_failure_names_metric_limit_and_value() -> None:
    done = run("failing", "--edge-target=cortex-a72,edgetpu")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "4 failed" in done.stdout
    assert "worst layers: conv3" in done.stdout
    assert "accuracy_drop: 0.663, measured on cortex-a72, limit <= 0.01" in done.stdout
    for target in ("cortex-a72", "edgetpu"):
        assert f"size_mb: 0.2916 MB, static on {target}, limit <= 0.1 MB" in done.stdout
    assert "macs_m:" in done.stdout and "limit <= 5 M" in done.stdout
