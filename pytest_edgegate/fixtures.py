"""The fixtures users write: ``edge_target``, ``edge_model`` and ``edge``.

Heavy modules (onnx, the analysis) are imported inside the fixtures, so collecting a project's
tests costs nothing until an edge test runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_edgegate.errors import BudgetError, EdgeGateError
from pytest_edgegate.keys import (
    CACHE_KEY,
    CATALOGUE_KEY,
    HANDLE_KEY,
    NO_TARGET_REASON,
    SETTINGS_KEY,
)
from pytest_edgegate.logsafe import log_safe

if TYPE_CHECKING:
    from pytest_edgegate.handle import EdgeHandle
    from pytest_edgegate.model_cache import ModelCache, ModelHandle
    from pytest_edgegate.profiles import DeviceProfile


def _cache(config: pytest.Config) -> ModelCache:
    from pytest_edgegate.model_cache import ModelCache

    if CACHE_KEY not in config.stash:
        settings = config.stash[SETTINGS_KEY]
        config.stash[CACHE_KEY] = ModelCache(max_bytes=int(settings.max_model_mb * 1_000_000))
    return config.stash[CACHE_KEY]


def _bases(config: pytest.Config, test_path: Path | None = None) -> list[Path]:
    """Where relative model paths are looked up: invocation dir, test's folder, rootdir."""
    bases = [config.invocation_params.dir]
    if test_path is not None:
        bases.append(test_path.parent)
    bases.append(config.rootpath)
    return bases


@pytest.fixture
def edge_target(request: pytest.FixtureRequest) -> DeviceProfile:
    """The :class:`DeviceProfile` of the current test's target (one run per ``--edge-target``)."""
    if not hasattr(request, "param"):
        pytest.skip(NO_TARGET_REASON)
    return request.param


@pytest.fixture(scope="session")
def edge_model(request: pytest.FixtureRequest):
    """``edge_model(path, input_shapes=None)``: a loaded, analysed model, cached per session."""
    config = request.config

    def load(path: Any, input_shapes: Any = None) -> ModelHandle:
        try:
            return _cache(config).handle(path, _bases(config), input_shapes)
        except EdgeGateError as exc:
            error = str(exc)
        pytest.fail(log_safe(f"edgegate: {error}"), pytrace=False)

    return load


@pytest.fixture
def edge(request: pytest.FixtureRequest, edge_target: DeviceProfile) -> EdgeHandle:
    """The per-test handle: ``edge.evaluate(model, input_shapes=None, ...)``."""
    from pytest_edgegate.budgets import item_budget
    from pytest_edgegate.handle import EdgeHandle
    from pytest_edgegate.workload import item_workload

    node = request.node
    try:
        budget = item_budget(node)
        workload = item_workload(node)
    except BudgetError as exc:
        error = f"{node.nodeid}: {exc}"
    else:
        error = None
    if error is not None:
        pytest.fail(log_safe(error), pytrace=False)
    handle = EdgeHandle(
        nodeid=node.nodeid,
        target=edge_target,
        budget=budget,
        settings=request.config.stash[SETTINGS_KEY],
        cache=_cache(request.config),
        bases=_bases(request.config, Path(str(node.path)) if hasattr(node, "path") else None),
        workload=workload,
        catalogue=request.config.stash.get(CATALOGUE_KEY, None),
    )
    node.stash[HANDLE_KEY] = handle
    return handle
