"""Reading and validating profile files, and assembling the catalogue.

A catalogue is built in layers: the profiles shipped in the package, then each path the user
gives (``--edge-profiles`` / ini ``edge_profiles``), in order.  A later file may add a device,
replace one with the same id, or start from another with ``extends = "cortex-a72"`` and change
only some numbers.  Every error is a :class:`ProfileError` naming the file and the key.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pytest_edgegate.errors import ProfileError
from pytest_edgegate.profiles.model import CpuSpec, DeviceProfile, MemorySpec, NpuSpec
from pytest_edgegate.profiles.schema import (
    FORBIDDEN_MEMORY,
    REQUIRED_MEMORY,
    REQUIRED_SECTIONS,
    SECTIONS,
    TOP_LEVEL,
    Field,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

_TYPE_NAMES = {
    "int": "an integer",
    "float": "a number",
    "str": "a string",
    "bool": "true or false",
    "list[str]": "a list of strings",
    "table": "a table",
}


def _check_value(source: str, key: str, spec: Field, value: Any) -> Any:
    """Return ``value`` converted to the field's type, or raise naming the file and key."""
    expected = _TYPE_NAMES[spec.type]
    if spec.type in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            hint = ""
            if isinstance(value, str):
                hint = " (units belong in the key name, values are plain numbers)"
            raise ProfileError(source, f"expected {expected}, got {value!r}{hint}", key)
        if spec.type == "int" and not isinstance(value, int):
            raise ProfileError(source, f"expected {expected}, got {value!r}", key)
        if value != value or value in (float("inf"), float("-inf")):
            raise ProfileError(source, f"expected a finite number, got {value!r}", key)
        if spec.minimum is not None and value < spec.minimum:
            raise ProfileError(source, f"expected a value >= {spec.minimum:g}, got {value!r}", key)
        if spec.positive and value <= 0:
            raise ProfileError(source, f"expected a positive number, got {value!r}", key)
        if spec.maximum is not None and value > spec.maximum:
            raise ProfileError(source, f"expected a value <= {spec.maximum:g}, got {value!r}", key)
        return value
    if spec.type == "bool":
        if not isinstance(value, bool):
            raise ProfileError(source, f"expected {expected}, got {value!r}", key)
        return value
    if spec.type == "str":
        if not isinstance(value, str):
            raise ProfileError(source, f"expected {expected}, got {value!r}", key)
        if spec.choices and value not in spec.choices:
            raise ProfileError(
                source, f"expected one of {', '.join(spec.choices)}, got {value!r}", key
            )
        return value
    if spec.type == "list[str]":
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ProfileError(source, f"expected {expected}, got {value!r}", key)
        return tuple(value)
    if not isinstance(value, dict):
        raise ProfileError(source, f"expected {expected}, got {value!r}", key)
    for sub, number in value.items():
        _check_value(source, f"{key}.{sub}", Field("float"), number)
    return dict(value)


def _unknown(source: str, key: str, allowed: Iterable[str]) -> ProfileError:
    return ProfileError(source, f"unknown key; expected one of: {', '.join(sorted(allowed))}", key)


def validate(raw: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Check a parsed profile against the schema; return a cleaned copy."""
    clean: dict[str, Any] = {}
    for key, value in raw.items():
        if key in TOP_LEVEL:
            clean[key] = _check_value(source, key, TOP_LEVEL[key], value)
        elif key in SECTIONS:
            if not isinstance(value, dict):
                raise ProfileError(source, f"expected a table [{key}], got {value!r}", key)
            clean[key] = _validate_section(source, key, value)
        else:
            raise _unknown(source, key, [*TOP_LEVEL, *SECTIONS])
    for key, spec in TOP_LEVEL.items():
        if spec.required and key not in clean:
            raise ProfileError(source, "required key is missing", key)
    kind = clean["kind"]
    for section in REQUIRED_SECTIONS[kind]:
        if section not in clean:
            raise ProfileError(source, f"a '{kind}' profile needs a [{section}] table", section)
    if "npu" in clean and kind != "npu":
        raise ProfileError(
            source, f"only an 'npu' profile may have [npu] (kind is '{kind}')", "npu"
        )
    for section, fields in SECTIONS.items():
        for key, spec in fields.items():
            if spec.required and section in clean and key not in clean[section]:
                raise ProfileError(source, "required key is missing", f"{section}.{key}")
    memory = clean.get("memory", {})
    for key in REQUIRED_MEMORY[kind]:
        if key not in memory:
            raise ProfileError(source, f"a '{kind}' profile must state it", f"memory.{key}")
    for key in FORBIDDEN_MEMORY[kind]:
        if key in memory:
            raise ProfileError(source, f"not allowed in a '{kind}' profile", f"memory.{key}")
    return clean


def _validate_section(source: str, section: str, table: Mapping[str, Any]) -> dict[str, Any]:
    fields = SECTIONS[section]
    out: dict[str, Any] = {}
    for key, value in table.items():
        dotted = f"{section}.{key}"
        if section == "sources":
            if not isinstance(value, str) or not value.strip():
                raise ProfileError(source, f"expected a citation string, got {value!r}", dotted)
            out[key] = value
            continue
        if key not in fields:
            raise _unknown(source, dotted, [f"{section}.{k}" for k in fields])
        out[key] = _check_value(source, dotted, fields[key], value)
    return out


def _sourced_keys(clean: Mapping[str, Any]) -> list[str]:
    """Every number and list in the profile, as ``section.key``: each needs a citation."""
    keys = []
    for section, fields in SECTIONS.items():
        for key, value in clean.get(section, {}).items():
            spec = fields.get(key)
            if spec and spec.type in ("int", "float", "list[str]", "table"):
                if spec.type == "table":
                    keys.extend(f"{section}.{key}.{sub}" for sub in value)
                else:
                    keys.append(f"{section}.{key}")
    return keys


def build_profile(
    clean: dict[str, Any], origin: str, overrides: str | None = None
) -> DeviceProfile:
    """Turn a validated mapping into a :class:`DeviceProfile`."""
    npu = None
    if "npu" in clean:
        n = dict(clean["npu"])
        npu = NpuSpec(
            dtypes=tuple(n.pop("dtypes")),
            ops=tuple(n.pop("ops")),
            peak_tops=float(n.pop("peak_tops")),
            limits=dict(n.pop("limits", {})),
            **n,
        )
    sources = dict(clean.get("sources", {}))
    unsourced = tuple(
        k for k in _sourced_keys(clean) if k not in sources and k.rsplit(".", 1)[0] not in sources
    )
    return DeviceProfile(
        id=clean["id"],
        version=clean["version"],
        name=clean["name"],
        kind=clean["kind"],
        description=clean.get("description", ""),
        cpu=CpuSpec(**clean["cpu"]),
        memory=MemorySpec(**clean["memory"]),
        throughput=dict(clean.get("throughput", {})),
        power=dict(clean.get("power", {})),
        npu=npu,
        sources=sources,
        origin=origin,
        overrides=overrides,
        unsourced=unsourced,
        raw=clean,
    )


def parse_file(path: Path) -> dict[str, Any]:
    """Read one TOML file; a syntax error names the file and line.

    Anything but a regular file is refused before it is opened: a FIFO would block the
    session and a link to ``/dev/zero`` would be read until memory runs out.
    """
    try:
        if path.exists() and not path.is_dir() and not path.is_file():
            raise ProfileError(
                str(path), "is not a regular file (a FIFO or a device); expected a .toml file"
            )
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ProfileError(str(path), "profile file not found") from None
    except IsADirectoryError:
        raise ProfileError(str(path), "expected a .toml file, got a directory") from None
    except OSError as exc:
        raise ProfileError(str(path), f"cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(str(path), f"not valid TOML: {exc}") from None
    return data


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


class Catalogue:
    """The profiles known to a run, by id, in the order they were defined."""

    def __init__(self) -> None:
        self._profiles: dict[str, DeviceProfile] = {}

    def __contains__(self, target_id: object) -> bool:
        return target_id in self._profiles

    def __iter__(self):
        return iter(sorted(self._profiles.values(), key=lambda p: p.id))

    def __len__(self) -> int:
        return len(self._profiles)

    @property
    def ids(self) -> list[str]:
        return sorted(self._profiles)

    def get(self, target_id: str) -> DeviceProfile:
        """Return a profile; an unknown id raises ``KeyError`` listing the known ones."""
        try:
            return self._profiles[target_id]
        except KeyError:
            raise KeyError(
                f"unknown edge target '{target_id}'; known targets: {', '.join(self.ids)}"
            ) from None

    def add_file(self, path: Path) -> DeviceProfile:
        raw = parse_file(path)
        source = str(path)
        if not isinstance(raw.get("id"), str):
            raise ProfileError(source, "required key is missing or not a string", "id")
        base_id = raw.get("extends")
        if base_id is not None:
            if not isinstance(base_id, str) or base_id not in self._profiles:
                raise ProfileError(
                    source,
                    f"extends an unknown profile {base_id!r}; known: {', '.join(self.ids)}",
                    "extends",
                )
            base = dict(self._profiles[base_id].raw)
            base.pop("extends", None)
            raw = _deep_merge(base, raw)
        clean = validate(raw, source)
        if base_id is None and path.stem != clean["id"] and path.parent == _builtin_dir():
            raise ProfileError(source, f"id must match the file name '{path.stem}'", "id")
        previous = self._profiles.get(clean["id"])
        profile = build_profile(clean, source, overrides=previous.origin if previous else None)
        self._profiles[profile.id] = profile
        return profile

    def add_path(self, path: Path) -> list[DeviceProfile]:
        """Add a file, or every ``*.toml`` in a directory (sorted, so the order is stable)."""
        if path.is_dir():
            files = sorted(path.glob("*.toml"))
            if not files:
                raise ProfileError(str(path), "directory holds no *.toml profile files")
            return [self.add_file(f) for f in _bases_first(files)]
        return [self.add_file(path)]


def _bases_first(files: list[Path]) -> list[Path]:
    """``files`` in name order, except that a file comes after the one its ``extends`` names
    (``cortex-a53-ncnn.toml`` extends ``cortex-a53``, which sorts after it)."""
    ids: dict[str, Path] = {}
    extends: dict[Path, str] = {}
    for f in files:
        try:
            raw = parse_file(f)
        except ProfileError:
            continue  # reported when the file itself is added
        if isinstance(raw.get("id"), str):
            ids[raw["id"]] = f
        if isinstance(raw.get("extends"), str):
            extends[f] = raw["extends"]
    ordered: list[Path] = []

    def visit(f: Path, seen: tuple[Path, ...]) -> None:
        if f in ordered or f in seen:
            return
        base = ids.get(extends.get(f, ""))
        if base is not None:
            visit(base, (*seen, f))
        ordered.append(f)

    for f in files:
        visit(f, ())
    return ordered


def _builtin_dir() -> Path:
    return Path(str(resources.files("pytest_edgegate.profiles") / "data"))


def load_catalogue(extra_paths: Iterable[str | Path] = ()) -> Catalogue:
    """The shipped profiles, then each extra file or directory in order."""
    catalogue = Catalogue()
    catalogue.add_path(_builtin_dir())
    for extra in extra_paths:
        path = Path(extra)
        if not path.exists():
            raise ProfileError(
                str(path), "profile path not found (expected a .toml file or a directory)"
            )
        catalogue.add_path(path)
    return catalogue
