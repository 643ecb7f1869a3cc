"""The controller-side collector: gathers every test's results and prints the summary.

Results arrive the same way with and without pytest-xdist: as one JSON ``user_properties``
entry on each call-phase report, read in ``pytest_runtest_logreport``.  A worker that crashes
simply leaves no entry for its test.  Everything is sorted by node id before it is shown, so
serial and parallel runs print the same thing.
"""

from __future__ import annotations

import json

import pytest

from pytest_edgegate.keys import USER_PROPERTY
from pytest_edgegate.results import EdgeResult


class EdgeSession:
    """Registered as a named plugin on the controller only (like pytest's junitxml)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results: dict[str, list[EdgeResult]] = {}
        self.problems: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        for name, value in report.user_properties:
            if name != USER_PROPERTY:
                continue
            try:
                entries = [EdgeResult.from_dict(d) for d in json.loads(value)]
            except (ValueError, TypeError, KeyError) as exc:
                self.problems.append(f"{report.nodeid}: unreadable edgegate result ({exc})")
                continue
            self.results[report.nodeid] = entries

    def sorted_results(self) -> list[EdgeResult]:
        return [r for nodeid in sorted(self.results) for r in self.results[nodeid]]

    def pytest_terminal_summary(self, terminalreporter) -> None:
        results = self.sorted_results()
        if not results and not self.problems:
            return
        from pytest_edgegate.terminal import summary_tables

        quiet = self.config.getoption("verbose", 0) < 0
        terminalreporter.write_sep("=", "edgegate")
        for line in summary_tables(results, quiet=quiet):
            terminalreporter.write_line(line)
        for problem in self.problems:
            terminalreporter.write_line(f"edgegate warning: {problem}", yellow=True)
