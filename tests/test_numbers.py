"""The one number formatter shared by the terminal table, the HTML report and the messages."""

from __future__ import annotations

import pytest

from pytest_edgegate.metrics import format_value
from pytest_edgegate.numbers import format_number


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "n/a"),
        (0, "0"),
        (0.0, "0"),
        (4, "4"),
        (0.2903, "0.2903"),
        (23.4567, "23.46"),
        (999.96, "1000"),
        (12345, "12,345"),
        (-12345.4, "-12,345"),
        (0.001, "0.001"),
        (1e-6, "1e-06"),
        (1.2345e-5, "1.23e-05"),
        (float("nan"), "NaN"),
        (float("inf"), "\u221e"),
        (float("-inf"), "-\u221e"),
    ],
)
def test_format_number(value, text) -> None:
    assert format_number(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(153, "153.0"), (150.06, "150.1"), (3.894, "3.89"), (1, "1.00"), (0.4123, "0.412")],
)
def test_aligned_durations_keep_their_decimals(value, text) -> None:
    assert format_number(value, aligned=True) == text


def test_terminal_html_and_messages_print_a_figure_alike() -> None:
    from pytest_edgegate.report.html import _fmt
    from pytest_edgegate.terminal import _ms

    for value in (0, 0.01, 6.697, 59.29, 12345.0, 3e-7):
        assert _fmt(value) == format_number(value)
        assert format_value("macs_m", value) == f"{format_number(value)} M"
    assert _ms(76.51) == format_number(76.51, aligned=True) == "76.51"
    assert _fmt("text") == "text"  # the report shows non-numbers as text
