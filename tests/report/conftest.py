"""Fixtures of the report tests that open the report in headless Chromium."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.browser_probe import find_chromium


@pytest.fixture(scope="module")
def chromium() -> str:
    """Chromium's path; the test skips without it, except under ``CI``, where it fails."""
    path = find_chromium()
    if path is None:
        if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail(
                "CI is set but Chromium is not installed: the HTML report must be checked in a "
                "browser on CI (install Debian's chromium package, as .ci/run does)"
            )
        pytest.skip("Chromium is not installed (apt-get install chromium); CI runs this test")
    return path


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    """Where screenshots go: ``$EDGEGATE_ARTIFACTS`` (kept by CI), else ``tmp_path``."""
    folder = Path(os.environ.get("EDGEGATE_ARTIFACTS") or tmp_path / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
