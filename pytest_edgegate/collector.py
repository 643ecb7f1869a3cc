"""The controller-side collector: gathers every test's results, gates and writes the reports.

Results arrive the same way with and without pytest-xdist: as one JSON ``user_properties``
entry on each call-phase report, read in ``pytest_runtest_logreport``.  A worker that crashes
simply leaves no entry for its test.  Everything is sorted by node id before it is compared or
written, so serial and parallel runs produce the same files.

A regression against the baseline fails the session after the run loop (in
``pytest_sessionfinish``, before the terminal summary is printed); nothing here raises from
the summary hooks, and a report that cannot be written is a warning, never an INTERNALERROR.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from pytest_edgegate.edge_result import EdgeResult
from pytest_edgegate.keys import CATALOGUE_KEY, SETTINGS_KEY, USER_PROPERTY


class EdgeSession:
    """Registered as a named plugin on the controller only (like pytest's junitxml)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results: dict[str, list[EdgeResult]] = {}
        self.locations: dict[str, tuple[str, int | None]] = {}
        self.problems: list[str] = []
        self.written: list[str] = []
        self.document: dict[str, Any] | None = None
        self.regressions: list[dict[str, Any]] = []
        self.gate_error: str | None = None

    # ------------------------------------------------------------------ collecting results
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        fspath, lineno, _ = report.location
        self.locations[report.nodeid] = (fspath, None if lineno is None else lineno + 1)
        for name, value in report.user_properties:
            if name != USER_PROPERTY:
                continue
            try:
                entries = [EdgeResult.from_dict(d) for d in json.loads(value)]
                for entry in entries:
                    entry.expected_failure = hasattr(report, "wasxfail")
            except (ValueError, TypeError, KeyError) as exc:
                self.problems.append(f"{report.nodeid}: unreadable edgegate result ({exc})")
                continue
            self.results[report.nodeid] = entries

    def sorted_results(self) -> list[EdgeResult]:
        return [r for nodeid in sorted(self.results) for r in self.results[nodeid]]

    # ------------------------------------------------------------------ gating and writing
    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        settings = self.config.stash.get(SETTINGS_KEY, None)
        if settings is None:
            return
        wanted = settings.json_path or settings.html_path or settings.baseline
        if not self.results and not wanted:
            return
        try:
            self._finish(settings)
        except Exception as exc:  # never an INTERNALERROR: say what failed and fail the run
            self.gate_error = f"edgegate could not finish its reports: {exc!r}"
        if (self.regressions or self.gate_error) and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _finish(self, settings) -> None:
        from pytest_edgegate.report.document import build, environment

        results = [r.to_dict() for r in self.sorted_results()]
        comparison = self._compare(settings, results)
        catalogue = self.config.stash.get(CATALOGUE_KEY, None)
        profiles = {p.id: p.version for p in catalogue} if catalogue is not None else {}
        used = {r["target"] for r in results}
        env = environment(
            self.config.invocation_params.dir, {k: v for k, v in profiles.items() if k in used}
        )
        document = build(results, env, comparison)
        trends = self._trends(settings, results)
        if trends:
            document["trends"] = trends
        self.document = document
        base = self.config.invocation_params.dir
        if settings.json_path:
            self._write("JSON results", base / settings.json_path, self._write_json, document)
        if settings.html_path:
            self._write("HTML report", base / settings.html_path, self._write_html, document)
        if settings.update_baseline and settings.baseline:
            self._update_baseline(base / settings.baseline, results)
        from pytest_edgegate.report.github import in_actions, write_step_summary

        if in_actions():
            try:
                write_step_summary(document)
            except OSError as exc:
                self.problems.append(f"could not append the GitHub step summary: {exc}")

    def _compare(self, settings, results: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The comparison with the baseline file or git ref, or ``None`` when there is none."""
        if not settings.baseline or settings.update_baseline:
            return None
        from pytest_edgegate.baseline import store as baseline_mod
        from pytest_edgegate.errors import EdgeGateError

        if settings.baseline.startswith("git:"):
            data = {"entries": self._git_entries(results)}
        else:
            path = self.config.invocation_params.dir / settings.baseline
            try:
                data = baseline_mod.load(path)
            except EdgeGateError as exc:
                self.gate_error = str(exc)
                return None
            if data is None:
                self.problems.append(
                    f"baseline {path} does not exist yet: create it with --edge-update-baseline"
                )
                return {"baseline": settings.baseline, "entries": [], "warnings": []}
        from pytest_edgegate.baseline.gate import compare, regressions
        from pytest_edgegate.costmodel import COSTMODEL_VERSION

        comparison, problems = compare(
            results, data, settings.regression or {}, settings.baseline, COSTMODEL_VERSION
        )
        self.problems.extend(problems)
        self.regressions = regressions(comparison)
        return comparison

    def _trends(self, settings, results: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The metrics over the committed baseline file's git history (see report.trends)."""
        if not settings.baseline or settings.baseline.startswith("git:"):
            return None
        from pytest_edgegate.baseline.history import history
        from pytest_edgegate.costmodel import COSTMODEL_VERSION
        from pytest_edgegate.report.trends import build_trends

        past = history(self.config.invocation_params.dir / settings.baseline)
        return build_trends(
            past, results, settings.regression or {}, COSTMODEL_VERSION, settings.baseline
        )

    def _git_entries(self, results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Baseline entries from each result's own model as at REF, evaluated in this run."""
        from pytest_edgegate.baseline import store as baseline_mod
        from pytest_edgegate.costmodel import COSTMODEL_VERSION

        entries = {}
        for key, r in baseline_mod.keyed(results).items():
            old = r.get("details", {}).get("git_baseline") or {}
            if old.get("error"):
                self.problems.append(f"{r['nodeid']}: {old['error']}")
            if not old.get("found"):
                continue
            entries[key] = {
                "nodeid": r["nodeid"],
                "target": r["target"],
                "profile_version": old.get("profile_version"),
                "costmodel_version": COSTMODEL_VERSION,
                "metrics": old.get("metrics", {}),
                "sources": old.get("sources", {}),
                "nodes": old.get("nodes") or {},
            }
        return entries

    def _write(self, what: str, path: Path, writer, document) -> None:
        try:
            writer(path, document)
        except OSError as exc:
            self.problems.append(f"could not write the {what} to {path}: {exc}")
        else:
            self.written.append(f"{what}: {path}")

    @staticmethod
    def _write_json(path: Path, document) -> None:
        from pytest_edgegate.report.jsonio import write_json

        write_json(path, document)

    @staticmethod
    def _write_html(path: Path, document) -> None:
        from pytest_edgegate.report.html import write_html

        write_html(document, path)

    def _update_baseline(self, path: Path, results: list[dict[str, Any]]) -> None:
        from pytest_edgegate.baseline import store as baseline_mod
        from pytest_edgegate.costmodel import COSTMODEL_VERSION
        from pytest_edgegate.errors import EdgeGateError

        try:
            existing = baseline_mod.load(path)
        except EdgeGateError as exc:
            self.problems.append(f"{exc}; rewriting it from this run only")
            existing = None
        data = baseline_mod.merged(existing, results, COSTMODEL_VERSION)
        self._write("baseline", path, baseline_mod.write, data)

    # ------------------------------------------------------------------ terminal
    def pytest_terminal_summary(self, terminalreporter) -> None:
        results = self.sorted_results()
        if not results and not self.problems and not self.gate_error and not self.written:
            return
        from pytest_edgegate.logsafe import log_safe
        from pytest_edgegate.terminal import regression_lines, summary_tables

        verbose = self.config.getoption("verbose", 0)
        comparison = (self.document or {}).get("comparison") or {}
        terminalreporter.write_sep("=", "edgegate")
        for line in summary_tables(
            results, quiet=verbose < 0, deltas=comparison.get("entries", []), verbose=verbose > 0
        ):
            terminalreporter.write_line(log_safe(line))
        for line in regression_lines(comparison):
            terminalreporter.write_line(log_safe(line), red=line.startswith("REGRESSED"))
        if self.gate_error:
            terminalreporter.write_line(log_safe(f"edgegate error: {self.gate_error}"), red=True)
        for problem in self.problems:
            terminalreporter.write_line(log_safe(f"edgegate warning: {problem}"), yellow=True)
        for item in self.written:
            terminalreporter.write_line(log_safe(f"edgegate wrote {item}"))
        if self.document is not None and os.environ.get("GITHUB_ACTIONS") == "true":
            from pytest_edgegate.report.github import annotations

            for line in annotations(self.document, self.locations):
                terminalreporter.write_line(line)
