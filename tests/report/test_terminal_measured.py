"""The terminal's table of measured runs: what the host timed and what it implies."""

from __future__ import annotations

from pytest_edgegate.edge_result import EdgeResult
from pytest_edgegate.terminal import summary_tables

NODE = "t.py::test_a[cortex-a72]"


def result(measured: object, source: str = "measured") -> EdgeResult:
    return EdgeResult(
        nodeid=NODE,
        target="cortex-a72",
        profile_version="1",
        model="m.onnx",
        metrics={"latency_ms": 76.5},
        sources={"latency_ms": source},
        details={"measured": measured},
    )


MEASURED = {
    "p50_ms": 3.894,
    "iqr_ms": 0.41,
    "n_runs": 513,
    "device_ms": 76.51,
    "device_ci_ms": [75.77, 77.12],
    "peak_rss_mb": 20.18,
    "static_peak_mb": 11.25,
    "threads_used": 2,
}


def test_a_run_shows_host_device_interval_and_memory():
    text = "\n".join(summary_tables([result(MEASURED)]))
    assert "device (95% interval)" in text
    row = next(line for line in text.splitlines() if line.startswith("test_a") and "IQR" in line)
    assert "3.89 ms (IQR 0.41, 513 runs)" in row
    assert "76.51 ms [75.77, 77.12] (gated)" in row
    assert "20.18 MB" in row and "11.25 MB" in row


def test_an_estimate_gated_run_is_not_marked_gated():
    text = "\n".join(summary_tables([result(MEASURED, source="estimate")]))
    assert "76.51 ms [75.77, 77.12]" in text and "(gated)" not in text


def test_no_run_no_table_and_malformed_details_do_not_crash():
    assert not any("IQR" in line for line in summary_tables([result(None)]))
    bad = {**MEASURED, "iqr_ms": "x", "device_ci_ms": [1, "y"], "n_runs": 2.5, "peak_rss_mb": None}
    text = "\n".join(summary_tables([result(bad)]))
    assert "(IQR n/a, ? runs)" in text and "[1.00, n/a]" in text and "n/a MB" in text
