"""Device profiles: the shipped catalogue and user additions, validated on load."""

from pytest_edgegate.profiles.catalogue import Catalogue, load_catalogue, validate
from pytest_edgegate.profiles.model import CpuSpec, DeviceProfile, MemorySpec, NpuSpec

__all__ = [
    "Catalogue",
    "CpuSpec",
    "DeviceProfile",
    "MemorySpec",
    "NpuSpec",
    "load_catalogue",
    "validate",
]
