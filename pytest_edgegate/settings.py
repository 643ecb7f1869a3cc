"""Resolving edgegate's options once into a frozen record.

Every setting is read in one place, in a fixed order (command line, then environment, then
ini, then default), and a bad value becomes a :class:`SettingsError` that names the option or
ini key and what was expected.  The plugin turns that into a ``pytest.UsageError`` (exit 4).
This module knows nothing of pytest: it is handed a ``lookup`` function per source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_edgegate.errors import SettingsError

CHOICES = {"edge_latency": ("estimate", "measured"), "edge_memory": ("estimate", "measured")}


@dataclass(frozen=True)
class Option:
    """One setting: its command-line flag, ini key and environment variable."""

    dest: str
    flag: str
    ini: str | None
    help: str
    kind: str = "str"  # "list", "str", "bool", "choice", "float"
    default: Any = None
    unit: str = "seconds"  # what a "float" option counts, for its error message

    @property
    def env(self) -> str:
        return "EDGEGATE_" + (self.ini or self.dest).upper().removeprefix("EDGE_")


OPTIONS: tuple[Option, ...] = (
    Option(
        "edge_targets",
        "--edge-target",
        "edge_targets",
        "device profile(s) to gate against; repeatable and comma-separated, e.g. "
        "--edge-target=cortex-a72,edgetpu",
        kind="list",
        default=(),
    ),
    Option(
        "edge_profiles",
        "--edge-profiles",
        "edge_profiles",
        "extra profile .toml file or directory (repeatable); adds or overrides devices",
        kind="list",
        default=(),
    ),
    Option(
        "edge_list_targets",
        "--edge-list-targets",
        None,
        "print the device catalogue and exit",
        kind="bool",
        default=False,
    ),
    Option(
        "edge_latency",
        "--edge-latency",
        "edge_latency",
        "which figure the latency_ms budget checks: estimate (deterministic cost model) or "
        "measured (host run translated to the device); default estimate",
        kind="choice",
        default="estimate",
    ),
    Option(
        "edge_memory",
        "--edge-memory",
        "edge_memory",
        "which figure the peak_memory_mb budget checks: estimate (static) or measured; "
        "default estimate",
        kind="choice",
        default="estimate",
    ),
    Option(
        "edge_json",
        "--edge-json",
        "edge_json",
        "write every result, with its environment and baseline comparison, to this JSON file",
    ),
    Option(
        "edge_html",
        "--edge-html",
        "edge_html",
        "write a self-contained HTML report (summary, budgets, deltas, per-node breakdowns)",
    ),
    Option(
        "edge_baseline",
        "--edge-baseline",
        "edge_baseline",
        "compare with this baseline JSON file; a metric worse than its threshold fails the session",
    ),
    Option(
        "edge_update_baseline",
        "--edge-update-baseline",
        None,
        "write this run's results into the --edge-baseline file, merging with its entries",
        kind="bool",
        default=False,
    ),
    Option(
        "edge_regression",
        "--edge-regression",
        "edge_regression",
        "regression thresholds METRIC:THRESHOLD[,...], e.g. latency_ms:5%,size_mb:0 "
        "(default: deterministic metrics 2 %, measured metrics not gated)",
    ),
    Option(
        "edge_timeout",
        "--edge-timeout",
        "edge_timeout",
        "seconds one measured run may take before it is killed and its test fails (default 60)",
        kind="float",
        default=60.0,
    ),
    Option(
        "edge_time_cap",
        "--edge-time-cap",
        "edge_time_cap",
        "seconds of repeated timed runs per model at most, for the host timing and again for "
        "the host-to-device calibration rounds (default 3)",
        kind="float",
        default=3.0,
    ),
    Option(
        "edge_measure",
        "--edge-measure",
        None,
        "run and time every evaluated model on the host even when no budget needs it",
        kind="bool",
        default=False,
    ),
    Option(
        "edge_max_model_mb",
        "--edge-max-model-mb",
        "edge_max_model_mb",
        "largest .onnx file edgegate reads, in MB (1 MB = 10^6 bytes); a larger model file "
        "fails its test from its size, before it is read into memory (default 2000)",
        kind="float",
        default=2000.0,
        unit="MB",
    ),
)


@dataclass(frozen=True)
class Settings:
    targets: tuple[str, ...] = ()
    profile_paths: tuple[str, ...] = ()
    list_targets: bool = False
    latency_source: str = "estimate"
    memory_source: str = "estimate"
    measure: bool = False
    json_path: str | None = None
    html_path: str | None = None
    baseline: str | None = None
    update_baseline: bool = False
    regression: dict[str, Any] | None = None
    timeout_s: float = 60.0
    time_cap_s: float = 3.0
    max_model_mb: float = 2000.0


def split_list(values: Iterable[str] | str | None) -> tuple[str, ...]:
    """``["a,b", "c"]`` or ``"a b,c"`` -> ``("a", "b", "c")``, order kept, duplicates dropped."""
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for value in values:
        for part in str(value).replace("\n", ",").replace(" ", ",").split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return tuple(out)


def _convert(option: Option, value: Any, where: str) -> Any:
    if option.kind == "list":
        return split_list(value)
    if option.kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise SettingsError(f"{where} expects true or false, got {value!r}")
    if option.kind == "float":
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise SettingsError(
                f"{where} expects a number of {option.unit}, got {value!r}"
            ) from None
        if not number > 0 or number == float("inf"):
            raise SettingsError(f"{where} expects a positive number, got {value!r}")
        return number
    if option.kind == "choice":
        choices = CHOICES[option.dest]
        text = str(value).strip()
        if text not in choices:
            raise SettingsError(f"{where} expects one of {', '.join(choices)}, got {value!r}")
        return text
    return str(value)


def resolve(
    cli: Callable[[str], Any],
    env: Callable[[str], str | None],
    ini: Callable[[str], Any],
) -> Settings:
    """Build :class:`Settings` from the three sources; the first one that is set wins."""
    values: dict[str, Any] = {}
    for option in OPTIONS:
        raw = cli(option.dest)
        where = option.flag
        if raw in (None, [], (), False):
            env_value = env(option.env)
            if env_value not in (None, ""):
                raw, where = env_value, f"environment variable {option.env}"
            elif option.ini is not None:
                ini_value = ini(option.ini)
                if ini_value not in (None, "", [], ()):
                    raw, where = ini_value, f"ini key '{option.ini}'"
        values[option.dest] = (
            option.default if raw in (None, [], ()) else _convert(option, raw, where)
        )
    settings = Settings(
        targets=tuple(values["edge_targets"]),
        profile_paths=tuple(values["edge_profiles"]),
        list_targets=bool(values["edge_list_targets"]),
        latency_source=values["edge_latency"],
        memory_source=values["edge_memory"],
        measure=bool(values["edge_measure"]),
        json_path=values["edge_json"],
        html_path=values["edge_html"],
        baseline=values["edge_baseline"],
        update_baseline=bool(values["edge_update_baseline"]),
        regression=_regression(values["edge_regression"]),
        timeout_s=values["edge_timeout"],
        time_cap_s=values["edge_time_cap"],
        max_model_mb=values["edge_max_model_mb"],
    )
    if settings.update_baseline and not settings.baseline:
        raise SettingsError(
            "--edge-update-baseline needs --edge-baseline PATH (or the ini key edge_baseline)"
        )
    if settings.update_baseline and settings.baseline.startswith("git:"):
        raise SettingsError("--edge-update-baseline writes a file: give --edge-baseline PATH")
    return settings


def _regression(value: str | None) -> dict[str, Any] | None:
    if not value:
        return None
    from pytest_edgegate.baseline.regression import parse_thresholds

    return parse_thresholds(value, "--edge-regression / ini key edge_regression")


def check_targets(targets: Sequence[str], known: Sequence[str]) -> None:
    """An unknown target is a usage error that lists the known ids."""
    unknown = [t for t in targets if t not in known]
    if unknown:
        raise SettingsError(
            f"--edge-target: unknown target{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(t) for t in unknown)}; known targets: {', '.join(known)} "
            f"(add your own with --edge-profiles)"
        )
