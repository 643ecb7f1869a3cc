"""Settings resolution: command line, then environment, then ini, then default."""

from __future__ import annotations

import pytest

from pytest_edgegate.errors import SettingsError
from pytest_edgegate.settings import check_targets, resolve, split_list


def make(cli=None, env=None, ini=None):
    cli, env, ini = cli or {}, env or {}, ini or {}
    return resolve(cli=cli.get, env=env.get, ini=ini.get)


def test_defaults() -> None:
    s = make()
    assert s.targets == () and s.latency_source == "estimate" and s.memory_source == "estimate"


def test_precedence_cli_env_ini() -> None:
    ini = {"edge_targets": ["cortex-a53"], "edge_latency": "measured"}
    env = {"EDGEGATE_TARGETS": "edgetpu"}
    assert make(ini=ini).targets == ("cortex-a53",)
    assert make(env=env, ini=ini).targets == ("edgetpu",)
    assert make(cli={"edge_targets": ["cortex-a72,cortex-a76"]}, env=env, ini=ini).targets == (
        "cortex-a72",
        "cortex-a76",
    )
    assert make(ini=ini).latency_source == "measured"


def test_split_list() -> None:
    assert split_list(["a,b", "c", "a"]) == ("a", "b", "c")
    assert split_list("a b,,c") == ("a", "b", "c")


def test_bad_values_name_the_option() -> None:
    with pytest.raises(SettingsError, match="ini key 'edge_memory' expects one of"):
        make(ini={"edge_memory": "guess"})
    with pytest.raises(SettingsError, match="EDGEGATE_LATENCY"):
        make(env={"EDGEGATE_LATENCY": "x"})
    with pytest.raises(SettingsError, match="unknown target 'x'; known targets: a, b"):
        check_targets(["x"], ["a", "b"])
