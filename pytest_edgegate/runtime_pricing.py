"""Which profile's constants price a model: the target's, or its variant for the model's runtime.

A profile's cost-model constants hold for one runtime (its ``runtime`` key).  When the format
layer says another runtime executes the model (a ``.tflite`` runs on LiteRT), the model is
priced with the catalogue's variant of the target for that runtime (``cortex-a76-litert`` for
``cortex-a76``); without one, the target's constants stay and a note says for which runtime
they hold.  This branches on runtime names only, never on the file format.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from pytest_edgegate.costmodel.runtimes import DEFAULT_RUNTIME

if TYPE_CHECKING:
    from pytest_edgegate.profiles import Catalogue, DeviceProfile

#: Runtimes whose models every runtime in the catalogue imports (ONNX is the exchange
#: format: ncnn, X-CUBE-AI and LiteRT's converters take it), so the target's runtime stands.
IMPORTED_BY_ALL = frozenset({"onnxruntime"})


def profile_runtime(profile: DeviceProfile) -> str:
    return str(profile.raw.get("runtime") or DEFAULT_RUNTIME)


@functools.lru_cache(maxsize=1)
def _builtin() -> Catalogue:
    from pytest_edgegate.profiles import load_catalogue

    return load_catalogue()


def _family_root(profile: DeviceProfile) -> str:
    return str(profile.raw.get("extends") or profile.id)


def runtime_variant(
    profile: DeviceProfile, runtime: str, catalogue: Catalogue | None
) -> DeviceProfile | None:
    """The profile of ``profile``'s family (its base and the base's ``extends`` variants)
    whose runtime is ``runtime``; the first by id if several, ``None`` if none.  Without a
    catalogue (the handle was made outside a pytest session), the built-in one is asked."""
    if catalogue is None:
        catalogue = _builtin()
    root = _family_root(profile)
    family = [p for p in catalogue if p.id == root or p.raw.get("extends") == root]
    found = sorted(
        (p for p in family if p.id != profile.id and profile_runtime(p) == runtime),
        key=lambda p: p.id,
    )
    return found[0] if found else None


def pricing_profile(
    profile: DeviceProfile, runtime: str, catalogue: Catalogue | None
) -> tuple[DeviceProfile, list[str], dict[str, str] | None]:
    """The profile to price a model that ``runtime`` executes on ``profile``, notes for the
    user, and what the reports record (``None`` when the target's own constants apply)."""
    own = profile_runtime(profile)
    if runtime == own or runtime in IMPORTED_BY_ALL:
        return profile, [], None
    variant = runtime_variant(profile, runtime, catalogue)
    if variant is not None:
        note = f"priced as {runtime} with {variant.id}'s constants (the model runs on {runtime})"
        record = {"runtime": runtime, "profile": variant.id, "profile_version": variant.version}
        return variant, [note], record
    note = (
        f"the cost model's constants of {profile.id} hold for {own}, not for {runtime} that "
        f"runs this model: no {runtime} variant of {profile.id} is in the catalogue"
    )
    return profile, [note], {"runtime": runtime, "profile": profile.id, "constants_for": own}
