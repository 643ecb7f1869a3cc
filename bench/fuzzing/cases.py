"""Seeded fuzz cases: which input each case breaks, and writing it into a sandbox project.

A case is planned from the run's seed alone (:func:`plan`), then written (:func:`write_case`)
with a generator seeded by the run's seed and the case's own seed, so any case can be re-created
without the others.  Kinds:

* ``model``: a mutated model file, ``edge.evaluate("models/<id>/<file>")``;
* ``proto``: the same, handed to ``edge.evaluate`` as an in-memory ``onnx.ModelProto``;
* ``dataset``: a valid candidate and reference with a malformed ``dataset=`` file;
* ``inputs``: a valid model measured with a malformed ``inputs=`` file;
* ``marker``: a test module with a malformed ``edge_budget`` marker;
* ``profile``: a malformed ``--edge-profiles`` file (a session of its own);
* ``baseline``: a malformed ``--edge-baseline`` file, sometimes with ``--edge-update-baseline``
  or a malformed ``--edge-regression`` (a session of its own).
"""

from __future__ import annotations

import os
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.fuzzing import bases, inputs, mutate

#: Share of each kind among the planned cases.
KIND_WEIGHTS = {
    "model": 60,
    "proto": 11,
    "dataset": 6,
    "inputs": 3,
    "marker": 10,
    "profile": 5,
    "baseline": 5,
}
#: Share of model and proto cases on a small base that are also run (``--edge-measure``).
MEASURE_SHARE = 0.3
#: Share of model and proto cases built on one of onnx's light models (analysed, never run).
LIGHT_SHARE = 0.35
#: Kinds that need a pytest session of their own (their input is session-wide).
SESSION_KINDS = ("profile", "baseline")


@dataclass
class Case:
    """One fuzz case: planned fields first, then what writing and running it found."""

    id: str
    kind: str
    mutation: str
    base: str
    seed: int
    measure: bool = False
    description: str = ""
    #: Any of these in a failure message names the input (file names, option names).
    names: list[str] = field(default_factory=list)
    #: What the generated test does: model, in_memory, kwargs, budget (JSON-ready).
    spec: dict[str, Any] = field(default_factory=dict)
    #: Session-wide options (profile and baseline cases).
    options: list[str] = field(default_factory=list)
    outcome: str = ""
    detail: str = ""
    #: The longest of its tests in the JUnit XML (0 for session cases), in seconds.
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _weighted(rng: random.Random, table: dict[str, float]) -> str:
    names = sorted(table)
    return rng.choices(names, weights=[table[n] for n in names])[0]


def plan(n: int, seed: int) -> list[Case]:
    """``n`` cases from ``seed``: the same arguments always give the same cases."""
    rng = random.Random(f"edgegate-fuzz:{seed}")
    light = [b.name for b in bases.light_models()]
    small = [b.name for b in bases.BUILT]
    model_weights = {name: w for name, (_, w, _) in mutate.MUTATIONS.items()}
    proto_weights = {name: w for name, (_, w, mem) in mutate.MUTATIONS.items() if mem}
    cases = []
    for index in range(n):
        kind = _weighted(rng, KIND_WEIGHTS)
        case_seed = rng.randrange(2**63)
        cid = f"c{index:05d}"
        if kind in ("model", "proto"):
            mutation = _weighted(rng, model_weights if kind == "model" else proto_weights)
            use_light = light and rng.random() < LIGHT_SHARE and mutation != "deep"
            base = rng.choice(light) if use_light else rng.choice(small)
            measure = not use_light and rng.random() < MEASURE_SHARE
            cases.append(Case(cid, kind, mutation, base, case_seed, measure))
        elif kind == "inputs":
            cases.append(Case(cid, kind, "inputs", rng.choice(["conv", "mlp"]), case_seed, True))
        elif kind == "dataset":
            cases.append(Case(cid, kind, "dataset", "conv", case_seed, True))
        else:
            cases.append(Case(cid, kind, kind, "conv", case_seed))
    return cases


# --------------------------------------------------------------------------------- writing


@dataclass
class Sandbox:
    """The folders of one session: the project, the reports, the canaries, the temp dir."""

    root: Path

    @property
    def project(self) -> Path:
        return self.root / "proj"

    @property
    def models(self) -> Path:
        return self.project / "models"

    @property
    def outside(self) -> Path:
        return self.root / "outside"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def create(self) -> None:
        for path in (self.models, self.outside, self.reports, self.tmp):
            path.mkdir(parents=True, exist_ok=True)

    def canary(self, case_id: str) -> Path:
        return self.outside / f"{case_id}.bin"


def _special(path: Path, blob: inputs.Blob) -> None:
    if blob.kind == "file":
        path.write_bytes(blob.data)
    elif blob.kind == "fifo":
        os.mkfifo(path)
    elif blob.kind == "devzero":
        os.symlink("/dev/zero", path)
    elif blob.kind in ("dir", "dir-empty"):
        path.mkdir()
    else:
        raise ValueError(f"unknown blob kind {blob.kind}")


def _budget(rng: random.Random) -> dict[str, float]:
    """Budgets for a batch case: none half of the time, else one to three metrics."""
    if rng.random() < 0.5:
        return {}
    options = {
        "size_mb": [0.001, 100.0],
        "macs_m": [0.0001, 1e6],
        "params_m": [0.0001, 1e3],
        "peak_memory_mb": [0.01, 1e4],
        "latency_ms": [0.001, 1e5],
        "energy_mj": [0.001, 1e5],
        "npu_coverage": [0.5],
    }
    chosen = rng.sample(sorted(options), rng.randrange(1, 4))
    return {name: rng.choice(options[name]) for name in chosen}


def _input_shapes(rng: random.Random) -> Any:
    """A malformed ``input_shapes`` now and then (a test passing bad arguments)."""
    return rng.choice(
        [
            {"x": [0, 3, 16, 16]},
            {"x": [-1, 3]},
            {"nope": [1]},
            {"x": "abc"},
            {"x": [2**40, 3, 16, 16]},
            {"x": [1.5]},
            5,
            {"x": [1, 3, 16, 16]},
        ]
    )


def write_case(case: Case, box: Sandbox, run_seed: int) -> None:
    """Write ``case``'s files into ``box`` and fill in its spec, names and description."""
    rng = random.Random(f"edgegate-fuzz:{run_seed}:{case.seed}")
    folder = box.models / case.id
    folder.mkdir(parents=True, exist_ok=True)
    canary = box.canary(case.id)
    canary.write_bytes(f"canary {case.id}: nothing may read this file\n".encode() * 64)
    base = next(b for b in bases.all_bases() if b.name == case.base)
    base_bytes = bases.serialized(base)
    if case.kind in ("model", "proto"):
        _write_model_case(case, box, folder, canary, rng, base_bytes)
    elif case.kind == "dataset":
        _write_dataset_case(case, folder, rng, base_bytes)
    elif case.kind == "inputs":
        _write_inputs_case(case, folder, rng, base_bytes)
    elif case.kind == "marker":
        model = folder / f"{case.id}.onnx"
        model.write_bytes(base_bytes)
        source, case.description = inputs.marker_source(
            rng, case.id, os.path.relpath(model, box.project)
        )
        (box.project / f"test_marker_{case.id}.py").write_text(source, encoding="utf-8")
        case.names = [f"test_marker_{case.id}", model.name]
    elif case.kind == "profile":
        _write_profile_case(case, box, folder, rng)
    elif case.kind == "baseline":
        _write_baseline_case(case, box, folder, rng)
    else:
        raise ValueError(f"unknown case kind {case.kind}")


def _write_model_case(
    case: Case,
    box: Sandbox,
    folder: Path,
    canary: Path,
    rng: random.Random,
    base_bytes: bytes,
) -> None:
    ctx = mutate.Context(case.id, folder, canary, rng, base_bytes)
    ctx.in_memory = case.kind == "proto"
    func = mutate.MUTATIONS[case.mutation][0]
    case.description = func(ctx)
    rel = os.path.relpath(ctx.model_path, box.project)
    case.spec = {"model": rel, "kwargs": {}, "budget": _budget(rng)}
    case.names = [ctx.model_name, str(ctx.model_path)]
    if case.kind == "proto":
        case.spec["in_memory"] = True
        case.names = _proto_names(ctx.model_path)
    if case.measure:
        case.spec["kwargs"]["measure"] = True
    if rng.random() < 0.08:
        case.spec["kwargs"]["input_shapes"] = _input_shapes(rng)
        case.names.append("input_shapes")


def _proto_names(path: Path) -> list[str]:
    """An in-memory model is named by its graph name (``model`` when it has none)."""
    import onnx

    try:
        proto = onnx.load_model_from_string(path.read_bytes())
    except Exception:  # noqa: BLE001 - the names only matter for messages
        return ["model", "ModelProto"]
    return [proto.graph.name or "model", "ModelProto"] if proto.graph.name else ["model"]


def _write_dataset_case(case: Case, folder: Path, rng: random.Random, base_bytes: bytes) -> None:
    (folder / f"{case.id}.onnx").write_bytes(base_bytes)
    (folder / "reference.onnx").write_bytes(base_bytes)
    blob = inputs.dataset(rng)
    data = folder / f"{case.id}.npz"
    _special(data, blob)
    case.description = blob.description
    rel = f"models/{case.id}"
    case.spec = {
        "model": f"{rel}/{case.id}.onnx",
        "kwargs": {
            "reference": f"{rel}/reference.onnx",
            "dataset": f"{rel}/{case.id}.npz",
            "metric": "top1",
        },
        "budget": {"accuracy_drop": 0.01} if rng.random() < 0.5 else {},
    }
    case.names = [f"{case.id}.npz", f"{case.id}.onnx"]


def _write_inputs_case(case: Case, folder: Path, rng: random.Random, base_bytes: bytes) -> None:
    import onnx

    (folder / f"{case.id}.onnx").write_bytes(base_bytes)
    names = [i.name for i in onnx.load_model_from_string(base_bytes).graph.input]
    blob = inputs.run_inputs(rng, names)
    _special(folder / f"{case.id}.npz", blob)
    case.description = blob.description
    rel = f"models/{case.id}"
    case.spec = {
        "model": f"{rel}/{case.id}.onnx",
        "kwargs": {"inputs": f"{rel}/{case.id}.npz", "measure": True},
        "budget": {},
    }
    case.names = [f"{case.id}.npz", f"{case.id}.onnx"]


def _write_profile_case(case: Case, box: Sandbox, folder: Path, rng: random.Random) -> None:
    from pytest_edgegate.profiles.catalogue import tomllib

    blob = inputs.profile(rng, case.id)
    path = folder / f"{case.id}.toml"
    if blob.kind == "dir-empty":
        path = folder / "profiles"
    _special(path, blob)
    case.description = blob.description
    target = "cortex-a72"
    if blob.kind == "file":
        try:
            data = tomllib.loads(blob.data.decode("utf-8"))
        except Exception:  # noqa: BLE001 - a broken profile keeps the default target
            data = {}
        pid = data.get("id") if isinstance(data, dict) else None
        if isinstance(pid, str) and pid.replace("-", "").isalnum():
            target = pid
    _base_test(box, folder)
    case.options = [f"--edge-profiles={path}", f"--edge-target={target}"]
    case.names = [path.name, "--edge-target", "--edge-profiles"]


BASE_NODEID = "test_base.py::test_base[cortex-a72]"


def _base_test(box: Sandbox, folder: Path) -> None:
    model = folder / "base.onnx"
    model.write_bytes(bases.serialized(bases.BUILT[0]))
    rel = os.path.relpath(model, box.project)
    (box.project / "test_base.py").write_text(
        f"def test_base(edge):\n    edge.evaluate({rel!r})\n", encoding="utf-8"
    )


def _write_baseline_case(case: Case, box: Sandbox, folder: Path, rng: random.Random) -> None:
    blob = inputs.baseline(rng, BASE_NODEID)
    path = folder / f"{case.id}.json"
    _special(path, blob)
    case.description = blob.description
    _base_test(box, folder)
    case.options = [f"--edge-baseline={path}"]
    if rng.random() < 0.3 and blob.kind == "file":
        case.options.append("--edge-update-baseline")
        case.description += ", updated"
    regression = rng.choice(inputs.REGRESSION_OPTIONS)
    if regression is not None:
        case.options.append(f"--edge-regression={regression}")
        case.description += f", --edge-regression={regression!r}"
    case.names = [path.name, "--edge-regression"]
