"""The device catalogue: shipped profiles are complete and sourced; bad files are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_edgegate.errors import ProfileError
from pytest_edgegate.profiles import load_catalogue

REQUIRED_IDS = ("cortex-a53", "cortex-a72", "cortex-a76", "cortex-m7", "edgetpu")

VALID = """
id = "toy"
version = "1"
name = "Toy board"
kind = "cpu"
[cpu]
cores = 2
clock_mhz = 1000
[memory]
ram_mib = 256
bandwidth_gbps = 1.0
[throughput]
fp32_gflops = 8.0
[power]
idle_w = 1.0
active_w = 2.0
[sources]
"cpu.cores" = "toy datasheet"
"cpu.clock_mhz" = "toy datasheet"
"memory.ram_mib" = "toy datasheet"
"memory.bandwidth_gbps" = "toy datasheet"
"throughput.fp32_gflops" = "derived: 2 cores x 1 GHz x 4 FLOP/cycle"
"power.idle_w" = "toy datasheet"
"power.active_w" = "toy datasheet"
"""


def write(tmp_path: Path, text: str, name: str = "toy.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_catalogue_has_required_devices() -> None:
    catalogue = load_catalogue()
    for target in REQUIRED_IDS:
        assert target in catalogue
    kinds = {p.kind for p in catalogue}
    assert kinds == {"cpu", "npu", "mcu"}
    npus = [p for p in catalogue if p.is_npu]
    assert len(npus) >= 2, "edgetpu and a phone-class NPU"


def test_every_shipped_number_is_sourced() -> None:
    for profile in load_catalogue():
        assert profile.unsourced == (), f"{profile.id}: unsourced {profile.unsourced}"
        for key, citation in profile.sources.items():
            assert len(citation) > 10, f"{profile.id}: source of {key} too vague"


def test_shipped_profiles_state_what_the_issue_requires() -> None:
    for p in load_catalogue():
        assert p.cpu.cores >= 1 and p.cpu.clock_mhz > 0, p.id
        assert p.throughput, p.id
        if not p.is_mcu:  # an MCU's energy basis is its measured board power, when there is one
            assert p.power and p.memory.bandwidth_gbps, p.id
        if p.is_mcu:
            assert p.flash_mb and p.sram_mb and p.memory.ram_mib is None
            assert p.raw.get("runtime") and p.raw.get("mcu"), p.id
        else:
            assert p.ram_mb
        if p.is_npu:
            assert p.npu is not None and p.npu.ops and p.npu.dtypes
    edgetpu = load_catalogue().get("edgetpu")
    assert set(edgetpu.npu.dtypes) <= {"int8", "uint8"}
    assert edgetpu.npu.onchip_memory_mib
    assert edgetpu.npu.placement_rule == "prefix"


def test_valid_user_profile_adds_a_device(tmp_path: Path) -> None:
    catalogue = load_catalogue([write(tmp_path, VALID)])
    toy = catalogue.get("toy")
    assert toy.cpu.cores == 2
    assert toy.ram_mb == pytest.approx(256 * 1024 * 1024 / 1e6)
    assert toy.unsourced == ()


def test_directory_of_profiles(tmp_path: Path) -> None:
    write(tmp_path, VALID)
    write(tmp_path, VALID.replace('id = "toy"', 'id = "toy2"'), "toy2.toml")
    catalogue = load_catalogue([tmp_path])
    assert "toy" in catalogue and "toy2" in catalogue


def test_override_and_extends(tmp_path: Path) -> None:
    base = load_catalogue().get("cortex-a72")
    path = write(
        tmp_path,
        'id = "cortex-a72"\nversion = "1-local"\nname = "My Pi 4"\nkind = "cpu"\n'
        'extends = "cortex-a72"\n[memory]\nram_mib = 1024\n[sources]\n"memory.ram_mib" = "ours"\n',
    )
    catalogue = load_catalogue([path])
    over = catalogue.get("cortex-a72")
    assert over.memory.ram_mib == 1024
    assert over.cpu == base.cpu
    assert over.overrides and over.overrides.endswith("cortex-a72.toml")


@pytest.mark.parametrize(
    "change, key, words",
    [
        (("cores = 2", 'cores = "2"'), "cpu.cores", "expected an integer"),
        (("ram_mib = 256", 'ram_mib = "256MB"'), "memory.ram_mib", "units belong in the key name"),
        (("ram_mib = 256", "ram_gb = 0.25"), "memory.ram_gb", "unknown key"),
        (('kind = "cpu"', 'kind = "gpu"'), "kind", "expected one of cpu, npu, mcu"),
        (("clock_mhz = 1000", "clock_mhz = -5"), "cpu.clock_mhz", ">= 0"),
        (('version = "1"', "version = 1"), "version", "expected a string"),
        (("ram_mib = 256", "flash_kib = 256"), "memory.ram_mib", "must state it"),
        (('name = "Toy board"\n', 'name = "Toy board"\nspeed = 3\n'), "speed", "unknown key"),
        (("[cpu]\ncores = 2\nclock_mhz = 1000\n", ""), "cpu", "needs a [cpu] table"),
    ],
)
def test_malformed_profile_names_file_and_key(
    tmp_path: Path, change: tuple[str, str], key: str, words: str
) -> None:
    text = VALID.replace(*change)
    assert text != VALID
    path = write(tmp_path, text)
    with pytest.raises(ProfileError) as info:
        load_catalogue([path])
    message = str(info.value)
    assert str(path) in message
    assert f"'{key}'" in message
    assert words in message


def test_not_toml_and_missing_path(tmp_path: Path) -> None:
    bad = write(tmp_path, "id = [unclosed\n")
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_catalogue([bad])
    with pytest.raises(ProfileError, match="profile path not found"):
        load_catalogue([tmp_path / "missing.toml"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ProfileError, match="no \\*.toml"):
        load_catalogue([empty])


def test_extends_unknown_profile(tmp_path: Path) -> None:
    path = write(tmp_path, 'id = "x"\nextends = "nope"\n')
    with pytest.raises(ProfileError, match="extends an unknown profile 'nope'"):
        load_catalogue([path])


def test_unknown_target_lists_known_ids() -> None:
    with pytest.raises(KeyError, match="known targets: .*cortex-a72"):
        load_catalogue().get("nope")


def test_unsourced_numbers_are_reported(tmp_path: Path) -> None:
    text = VALID.replace('"cpu.cores" = "toy datasheet"\n', "")
    toy = load_catalogue([write(tmp_path, text)]).get("toy")
    assert toy.unsourced == ("cpu.cores",)


def test_every_runtime_the_schema_accepts_is_described() -> None:
    """The schema's runtime ids and the cost model's runtime table name the same runtimes."""
    from pytest_edgegate.costmodel.runtimes import RUNTIMES
    from pytest_edgegate.profiles.schema import TOP_LEVEL

    assert set(TOP_LEVEL["runtime"].choices) == set(RUNTIMES)
