"""Baseline files: a committed record of each test's metrics, compared with every run.

A baseline is deterministic JSON (sorted keys, versioned schema, atomic write) so its diff in a
pull request is reviewable.  Updating it merges with what is there: a partial run (``-k``,
``--lf``) refreshes the entries it produced and keeps every other one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pytest_edgegate import __version__
from pytest_edgegate.errors import EdgeGateError
from pytest_edgegate.report.jsonio import write_json

BASELINE_SCHEMA = 1


class BaselineError(EdgeGateError):
    """A baseline file exists but cannot be used; the message names it and why."""


def entry_key(result: Mapping[str, Any], index: int) -> str:
    """One key per evaluation: the node id, plus ``#i`` for a test's second model and on."""
    return result["nodeid"] if index == 0 else f"{result['nodeid']}#{index}"


def keyed(results: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    counts: dict[str, int] = {}
    for result in results:
        i = counts.get(result["nodeid"], 0)
        counts[result["nodeid"]] = i + 1
        out[entry_key(result, i)] = result
    return out


def load(path: str | Path) -> dict[str, Any] | None:
    """The baseline at ``path``; ``None`` when the file does not exist yet."""
    path = Path(path)
    if not path.exists():
        return None
    if not path.is_file():  # a FIFO would block the session, /dev/zero never end
        raise BaselineError(
            f"baseline {path}: is not a regular file (a folder, FIFO or device); expected the "
            "JSON file written by --edge-update-baseline"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"baseline {path}: cannot be read ({exc})") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting thousands deep
        raise BaselineError(
            f"baseline {path}: not valid JSON ({exc}); the file is corrupt or truncated: "
            "restore it from version control or rewrite it with --edge-update-baseline"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("entries"), dict):
        raise BaselineError(f"baseline {path}: expected an object with 'entries'")
    schema = data.get("schema_version")
    if not isinstance(schema, int):
        raise BaselineError(f"baseline {path}: missing or bad 'schema_version'")
    if schema > BASELINE_SCHEMA:
        raise BaselineError(
            f"baseline {path}: schema version {schema} is newer than this pytest-edgegate "
            f"understands ({BASELINE_SCHEMA}); upgrade pytest-edgegate"
        )
    for key, entry in data["entries"].items():
        _check_entry(path, key, entry)
    return data


def _check_entry(path: Path, key: str, entry: Any) -> None:
    """An entry must have the shape the comparison reads: a hand-edited or crafted file is
    refused here, naming the entry, rather than failing somewhere in the gate."""
    where = f"baseline {path}: entry {key[:200]!r}"
    if not isinstance(entry, dict):
        raise BaselineError(f"{where}: expected an object, got {type(entry).__name__}")
    for field in ("nodeid", "target", "profile_version", "costmodel_version", "model"):
        if entry.get(field) is not None and not isinstance(entry[field], str):
            raise BaselineError(f"{where}: '{field}' must be a string")
    for field in ("metrics", "sources"):
        if not isinstance(entry.get(field, {}), dict):
            raise BaselineError(f"{where}: '{field}' must be an object")
    for name, value in entry.get("metrics", {}).items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BaselineError(
                f"{where}: metric {name[:100]!r} is a {type(value).__name__}, expected a number"
            )
        if not math.isfinite(value):
            raise BaselineError(
                f"{where}: metric {name[:100]!r} is {value}, expected a finite number"
            )


def _entry(result: Mapping[str, Any], costmodel: str) -> dict[str, Any]:
    from pytest_edgegate.baseline.nodes import top_nodes

    entry = {
        "costmodel_version": costmodel,
        "nodeid": result["nodeid"],
        "target": result["target"],
        "profile_version": result.get("profile_version"),
        "model": result.get("model"),
        "sha256": result.get("sha256"),
        "metrics": dict(result.get("metrics", {})),
        "sources": dict(result.get("sources", {})),
    }
    nodes = top_nodes(result.get("details"))
    if nodes:  # the slowest estimated nodes, to explain a later latency regression
        entry["nodes"] = nodes
    return entry


def merged(
    existing: Mapping[str, Any] | None, results: Iterable[Mapping[str, Any]], costmodel: str
) -> dict[str, Any]:
    """The baseline after this run: existing entries, refreshed by the ones this run made."""
    entries = dict(existing.get("entries", {})) if existing else {}
    for key, result in keyed(r for r in results if not r.get("error")).items():
        entries[key] = _entry(result, costmodel)
    return {
        "schema_version": BASELINE_SCHEMA,
        "tool": {"name": "pytest-edgegate", "version": __version__},
        "entries": dict(sorted(entries.items())),
    }


def write(path: str | Path, data: Mapping[str, Any]) -> None:
    write_json(path, data)
