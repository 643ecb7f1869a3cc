"""pytest entry point of edgegate: options, the marker, parametrization and budget failures.

pytest imports this module in every run of every project that has edgegate installed, so it
imports nothing heavy at module level: onnx, onnxruntime, numpy and jinja2 are only reached
through the fixtures and the session collector, when an edge test actually runs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator

import pytest

from pytest_edgegate import settings as settings_mod
from pytest_edgegate.budgets import MARKER_DOC, item_budget
from pytest_edgegate.errors import BudgetError, EdgeGateError, ProfileError, SettingsError
from pytest_edgegate.fixtures import edge, edge_model, edge_target  # noqa: F401  (fixtures)
from pytest_edgegate.keys import CATALOGUE_KEY, HANDLE_KEY, SETTINGS_KEY, USER_PROPERTY
from pytest_edgegate.logsafe import log_safe
from pytest_edgegate.workload import MARKER_DOC as WORKLOAD_DOC
from pytest_edgegate.workload import item_workload

SESSION_PLUGIN = "edgegate-session"
EDGE_FIXTURES = ("edge", "edge_target")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("edgegate", "edge-device budgets (pytest-edgegate)")
    for opt in settings_mod.OPTIONS:
        if opt.kind == "bool":
            group.addoption(
                opt.flag, action="store_true", dest=opt.dest, default=False, help=opt.help
            )
        elif opt.kind == "list":
            group.addoption(
                opt.flag,
                action="append",
                dest=opt.dest,
                default=[],
                metavar="ID" if opt.dest == "edge_targets" else "PATH",
                help=opt.help,
            )
        elif opt.kind == "choice":
            group.addoption(
                opt.flag,
                dest=opt.dest,
                default=None,
                choices=settings_mod.CHOICES[opt.dest],
                help=opt.help,
            )
        else:
            group.addoption(opt.flag, dest=opt.dest, default=None, help=opt.help)
        if opt.ini:
            ini_type = "args" if opt.kind == "list" else "string"
            parser.addini(opt.ini, help=f"{opt.help} (same as {opt.flag})", type=ini_type)


def _resolve_settings(config: pytest.Config) -> settings_mod.Settings:
    try:
        return settings_mod.resolve(
            cli=lambda dest: config.getoption(dest, None),
            env=os.environ.get,
            ini=config.getini,
        )
    except SettingsError as exc:
        raise pytest.UsageError(str(exc)) from None


def _load_catalogue(config: pytest.Config, settings: settings_mod.Settings):
    from pytest_edgegate.profiles import load_catalogue

    base = config.invocation_params.dir
    paths = [p if os.path.isabs(p) else str(base / p) for p in settings.profile_paths]
    try:
        return load_catalogue(paths)
    except ProfileError as exc:
        raise pytest.UsageError(f"edgegate profile error: {exc}") from None


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """``--edge-list-targets`` prints the catalogue and exits, like ``--markers``."""
    if not config.getoption("edge_list_targets", False):
        return None
    from pytest_edgegate.catalogue_table import catalogue_table

    try:
        settings = _resolve_settings(config)
        catalogue = _load_catalogue(config, settings)
    except pytest.UsageError as exc:
        print(f"ERROR: {exc}")
        return int(pytest.ExitCode.USAGE_ERROR)
    print(catalogue_table(catalogue, verbose=config.getoption("verbose", 0) > 0))
    return int(pytest.ExitCode.OK)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_DOC)
    config.addinivalue_line("markers", WORKLOAD_DOC)
    settings = _resolve_settings(config)
    config.stash[SETTINGS_KEY] = settings
    if settings.baseline and settings.baseline.startswith("git:"):
        from pytest_edgegate.baseline.gitref import check_ref

        try:
            check_ref(settings.baseline.removeprefix("git:"), config.invocation_params.dir)
        except EdgeGateError as exc:
            raise pytest.UsageError(str(exc)) from None
    if settings.targets:
        catalogue = _load_catalogue(config, settings)
        try:
            settings_mod.check_targets(settings.targets, catalogue.ids)
        except SettingsError as exc:
            raise pytest.UsageError(str(exc)) from None
        config.stash[CATALOGUE_KEY] = catalogue
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist)
        from pytest_edgegate.collector import EdgeSession

        config.pluginmanager.register(EdgeSession(config), SESSION_PLUGIN)


def pytest_unconfigure(config: pytest.Config) -> None:
    plugin = config.pluginmanager.get_plugin(SESSION_PLUGIN)
    if plugin is not None:
        config.pluginmanager.unregister(plugin, SESSION_PLUGIN)


def _is_edge_test(metafunc: pytest.Metafunc) -> bool:
    if any(name in metafunc.fixturenames for name in EDGE_FIXTURES):
        return True
    return metafunc.definition.get_closest_marker("edge_budget") is not None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every edge test once per target, with the target id in the test id."""
    if not _is_edge_test(metafunc):
        return
    try:
        item_budget(metafunc.definition)
        item_workload(metafunc.definition)
    except BudgetError as exc:
        pytest.fail(log_safe(f"{metafunc.definition.nodeid}: {exc}"), pytrace=False)
    if "edge_target" not in metafunc.fixturenames:
        metafunc.fixturenames.append("edge_target")
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0] if mark.args else mark.kwargs.get("argnames", "")
        if "edge_target" in (names if isinstance(names, (list, tuple)) else str(names)):
            return  # the user chose the targets of this test
    settings = metafunc.config.stash[SETTINGS_KEY]
    if not settings.targets:
        return  # the edge_target fixture skips with a reason saying how to choose one
    catalogue = metafunc.config.stash[CATALOGUE_KEY]
    profiles = [catalogue.get(t) for t in settings.targets]
    metafunc.parametrize(
        "edge_target", profiles, ids=[p.id for p in profiles], indirect=True, scope="function"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """After the test body: record the results and fail on any broken budget."""
    try:
        outcome = yield
    finally:
        handle = item.stash.get(HANDLE_KEY, None)
        if handle is not None and handle.results:
            payload = [r.to_dict() for r in handle.results]
            item.user_properties.append((USER_PROPERTY, json.dumps(payload, sort_keys=True)))
    if handle is not None:
        message = handle.failure_message()
        if message:
            pytest.fail(log_safe(message), pytrace=False)
    elif item.get_closest_marker("edge_budget") is not None:
        pytest.fail(
            f"edgegate: {item.nodeid} has an edge_budget but does not use the `edge` fixture: "
            "request it and call edge.evaluate(model), or the budget would never be checked",
            pytrace=False,
        )
    return outcome
