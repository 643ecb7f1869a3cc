"""Stash keys shared by the plugin, the fixtures and the session collector.

Kept apart so that each of those modules can import them without importing one another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    pass

SETTINGS_KEY = pytest.StashKey["Settings"]()
CATALOGUE_KEY = pytest.StashKey["Catalogue"]()
CACHE_KEY = pytest.StashKey["ModelCache"]()
HANDLE_KEY = pytest.StashKey["EdgeHandle"]()

#: The ``user_properties`` name under which each test's results travel (xdist-safe).
USER_PROPERTY = "edgegate"

NO_TARGET_REASON = (
    "no edge target chosen: pass --edge-target=ID (e.g. --edge-target=cortex-a72) or set the "
    "ini key edge_targets; pytest --edge-list-targets lists the devices"
)
