"""The committed history of a baseline file, read with git: the figures behind the trends.

Only local git is used (``git log`` and ``git show`` on the file's own commits, the last
``limit`` of them), never the network, and any problem (no git, not a repository, a file
that is not committed, a past version that is not valid JSON) yields fewer points, not an
error: trends are a help for the reader, never a reason for a run to fail.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

#: Commits of the baseline file read at most (the trend window).
LIMIT = 20
TIMEOUT_S = 20


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, timeout=TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", "replace")


def history(path: str | Path, limit: int = LIMIT) -> list[dict[str, Any]]:
    """The baseline's past versions, oldest first: commit, date and slimmed entries.

    Each entry keeps what a trend needs: target, versions, metrics and sources.
    """
    path = Path(path).resolve()
    if not path.parent.is_dir():
        return []
    top = _git(["rev-parse", "--show-toplevel"], path.parent)
    if top is None:
        return []
    root = Path(top.strip()).resolve()
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        return []
    log = _git(["log", f"-n{max(1, int(limit))}", "--format=%H %cI", "--", rel], root)
    if not log:
        return []
    out = []
    for line in reversed(log.strip().splitlines()):
        sha, _, date = line.partition(" ")
        text = _git(["show", f"{sha}:{rel}"], root)
        entries = _entries(text)
        if entries is not None:
            out.append({"commit": sha[:12], "date": date[:10], "entries": entries})
    return out


def _entries(text: str | None) -> dict[str, dict[str, Any]] | None:
    if text is None:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        return None
    out = {}
    for key, entry in entries.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("metrics"), dict):
            continue
        out[str(key)] = {
            "target": entry.get("target"),
            "versions": [entry.get("profile_version"), entry.get("costmodel_version")],
            "metrics": entry["metrics"],
            "sources": entry.get("sources") if isinstance(entry.get("sources"), dict) else {},
        }
    return out
