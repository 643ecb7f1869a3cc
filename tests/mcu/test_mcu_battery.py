"""Battery life of a duty-cycled sensor on the MCU profiles: sleep power between inferences."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from modelgen import conv_model, save

from pytest_edgegate.analysis import analyze, load_model
from pytest_edgegate.evaluation import cost_metrics
from pytest_edgegate.metrics import format_value
from pytest_edgegate.profiles import load_catalogue
from pytest_edgegate.workload import Workload, evaluate

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.fitting.mlperf_tiny_profiles import BEGIN, END, PROFILE_DIR, SLEEP_W, _block  # noqa: E402

CATALOGUE = load_catalogue([])
#: A CR2032 lithium coin cell: typical 225 mAh at a nominal 3.0 V (Wikipedia, "CR2032 battery",
#: table of IEC CR2032 / ANSI 5004LC), so 0.225 Ah x 3.0 V = 0.675 Wh.
CR2032_WH = 0.225 * 3.0
#: The MCU profiles with a measured active power (cortex-m7 has none, so no energy).
WITH_ENERGY = ["stm32h7", "cortex-m4", "cortex-m33"]
LONG = re.compile(r"\((\S+) (days|months|years)\)")


@pytest.fixture(scope="module")
def analysis(tmp_path_factory: pytest.TempPathFactory):
    path = save(conv_model(), tmp_path_factory.mktemp("m") / "tiny.onnx")
    return analyze(load_model(path))


def _life(analysis, target: str, rate_hz: float) -> float:
    profile = CATALOGUE.get(target)
    _, est, details, _ = cost_metrics(profile, analysis)
    out = evaluate(profile, est, details["energy"]["increase_mj"], Workload(rate_hz, CR2032_WH))
    value = out.metrics["battery_life_h"].value
    assert value is not None, out.metrics["battery_life_h"].reason
    return value


@pytest.mark.parametrize("target", sorted(SLEEP_W))
def test_every_mcu_profile_has_a_sourced_sleep_power(target: str) -> None:
    profile = CATALOGUE.get(target)
    assert profile.power["sleep_w"] == SLEEP_W[target] > 0
    source = profile.sources["power.sleep_w"]
    assert "not the whole board" in source
    assert "assumption:" in source or "datasheet" in source


@pytest.mark.parametrize("target", sorted(SLEEP_W))
def test_the_fit_script_writes_the_same_power_block(target: str) -> None:
    """Re-running ``mlperf_tiny.py --write-profiles`` gives the shipped files back."""
    text = (PROFILE_DIR / f"{target}.toml").read_text()
    data = tomllib.loads(text)
    shipped = text[text.index(BEGIN) : text.index(END) + len(END)]
    watts = data["power"].get("active_w")
    assert _block(data["mcu"], watts, SLEEP_W[target]) == shipped


@pytest.mark.parametrize("target", WITH_ENERGY)
def test_a_1_hz_sensor_on_a_coin_cell_lasts_days_or_months(analysis, target: str) -> None:
    hours = _life(analysis, target, 1.0)
    profile = CATALOGUE.get(target)
    # Mostly asleep: the average is close to the sleep power plus one inference a second.
    assert hours > 48, target
    assert hours < CR2032_WH / profile.power["sleep_w"], target
    assert LONG.search(format_value("battery_life_h", hours)), target


@pytest.mark.parametrize("target", WITH_ENERGY)
def test_battery_life_falls_as_the_rate_rises(analysis, target: str) -> None:
    lives = [_life(analysis, target, rate) for rate in (0.1, 1.0, 10.0, 100.0)]
    assert lives == sorted(lives, reverse=True) and len(set(lives)) == len(lives), lives


def test_terminal_json_and_report_show_the_long_unit(
    pytester: pytest.Pytester, models_dir: Path
) -> None:
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.edge_workload(rate_hz=1, battery_wh={CR2032_WH})
        @pytest.mark.edge_budget(battery_life_h=24 * 30)
        def test_sensor(edge):
            edge.evaluate("models/tiny.onnx")
        """
    )
    targets = ",".join(WITH_ENERGY)
    result = pytester.runpytest(
        f"--edge-target={targets}", "--edge-json=out.json", "--edge-html=out.html"
    )
    result.assert_outcomes(passed=3)
    terminal = result.stdout.str()
    assert len(LONG.findall(terminal)) >= 3, terminal
    doc = json.loads((pytester.path / "out.json").read_text())
    html = (pytester.path / "out.html").read_text()
    for r in doc["results"]:
        hours = r["metrics"]["battery_life_h"]
        assert hours > 24 * 30, r["target"]
        shown = LONG.search(format_value("battery_life_h", hours))
        assert shown and shown.group(0) in terminal and shown.group(0) in html, r["target"]
