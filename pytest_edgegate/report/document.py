"""The results document: every result of a run plus its environment and baseline comparison.

One dict feeds every output (``--edge-json``, ``--edge-html``, the GitHub summary, and
``edgegate report`` after the fact), so they can never disagree.
"""

from __future__ import annotations

import platform
import subprocess
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from pytest_edgegate import __version__

DOCUMENT_SCHEMA = 1


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def git_commit(where: Path) -> str | None:
    """The commit being tested, or ``None`` outside a git checkout (never an error)."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def environment(where: Path, profiles: Mapping[str, str]) -> dict[str, Any]:
    from pytest_edgegate.costmodel import COSTMODEL_VERSION

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "onnx": _version("onnx"),
        "onnxruntime": _version("onnxruntime"),
        "git_commit": git_commit(where),
        "profiles": dict(sorted(profiles.items())),
        "costmodel_version": COSTMODEL_VERSION,
    }


def summarize(
    results: Iterable[Mapping[str, Any]], deltas: Iterable[Mapping[str, Any]] = ()
) -> dict[str, dict[str, int]]:
    """Per target: passed, failed, errors, regressed, improved (counted per test)."""
    summary: dict[str, dict[str, int]] = {}
    for r in results:
        row = summary.setdefault(
            r["target"],
            {"passed": 0, "failed": 0, "errors": 0, "xfailed": 0, "regressed": 0, "improved": 0},
        )
        if r.get("expected_failure") and not r.get("passed"):
            row["xfailed"] += 1
        elif r.get("error"):
            row["errors"] += 1
        elif r.get("passed"):
            row["passed"] += 1
        else:
            row["failed"] += 1
    for status in ("regressed", "improved"):
        seen = {(d["target"], d["key"]) for d in deltas if d["status"] == status}
        for target, _ in seen:
            if target in summary:
                summary[target][status] += 1
    return dict(sorted(summary.items()))


def build(
    results: list[Mapping[str, Any]],
    env: Mapping[str, Any],
    comparison: Mapping[str, Any] | None = None,
    generated: str | None = None,
) -> dict[str, Any]:
    from pytest_edgegate.costmodel import COSTMODEL_VERSION

    ordered = sorted(results, key=lambda r: (r["nodeid"], r["target"]))
    deltas = comparison["entries"] if comparison else []
    return {
        "schema_version": DOCUMENT_SCHEMA,
        "tool": {
            "name": "pytest-edgegate",
            "version": __version__,
            "costmodel_version": COSTMODEL_VERSION,
        },
        "environment": dict(env),
        "generated": generated
        or datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "results": ordered,
        "comparison": comparison,
        "summary": summarize(ordered, deltas),
    }
