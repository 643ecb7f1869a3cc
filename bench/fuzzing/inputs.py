"""Malformed inputs other than models: data sets, input files, markers, profiles, baselines.

Each generator takes the case's seeded ``random.Random`` and returns what to write (bytes or
source text) and a description; :mod:`.cases` puts the result in the sandbox.  Special files
(FIFOs, links to ``/dev/zero``, folders) are returned as a ``kind`` for the writer to create.
"""

from __future__ import annotations

import io
import json
import random
import zipfile
from dataclasses import dataclass
from importlib import resources

import numpy as np

#: Samples in a valid data set: small, so an accuracy case costs about a second.
SAMPLES = 12


@dataclass
class Blob:
    """One file to write: ``data``, or a special ``kind`` ("fifo", "dir", "devzero")."""

    data: bytes = b""
    kind: str = "file"
    description: str = ""


def _npz(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _npy_header(shape: tuple[int, ...], descr: str = "<f4") -> bytes:
    """An ``.npy`` member whose header claims ``shape`` but which holds almost no data."""
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + b"\0" * 64


def _zip(members: dict[str, bytes], compress: bool = False) -> bytes:
    buf = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _valid_x(rng: random.Random, n: int = SAMPLES) -> np.ndarray:
    gen = np.random.default_rng(rng.randrange(2**32))
    return gen.standard_normal((n, 3, 16, 16)).astype(np.float32)


def _valid_y(rng: random.Random, n: int = SAMPLES) -> np.ndarray:
    return np.array([rng.randrange(10) for _ in range(n)], np.int64)


def dataset(rng: random.Random) -> Blob:
    """An ``.npz`` data set for the ``conv`` base (x: N x 3 x 16 x 16 float32, y: N labels)."""
    x, y = _valid_x(rng), _valid_y(rng)
    what = rng.choice(
        [
            "valid", "x-float64", "x-int8", "x-bool", "x-complex", "x-str", "x-rank2",
            "x-channels", "x-empty", "x-scalar", "x-nan", "y-missing", "y-float", "y-negative",
            "y-huge", "y-2d", "y-str", "y-short", "x-missing", "per-input-wrong", "empty-npz",
            "truncated", "garbage", "npy", "object", "claims-huge", "zip-bomb", "fifo",
            "devzero", "dir", "extra-keys",
        ]
    )  # fmt: skip
    arrays: dict[str, np.ndarray] = {"x": x, "y": y}
    if what == "valid":
        pass
    elif what.startswith("x-") and what[2:] in ("float64", "int8", "bool", "complex"):
        dtype = {"float64": np.float64, "int8": np.int8, "bool": bool, "complex": np.complex64}
        arrays["x"] = x.astype(dtype[what[2:]])
    elif what == "x-str":
        arrays["x"] = np.array(["a"] * SAMPLES)
    elif what == "x-rank2":
        arrays["x"] = x.reshape(SAMPLES, -1)
    elif what == "x-channels":
        arrays["x"] = np.zeros((SAMPLES, 4, 16, 16), np.float32)
    elif what == "x-empty":
        arrays = {"x": np.zeros((0, 3, 16, 16), np.float32), "y": np.zeros(0, np.int64)}
    elif what == "x-scalar":
        arrays["x"] = np.array(1.0, np.float32)
    elif what == "x-nan":
        x[0, 0, 0, 0] = np.nan
        x[1] = np.inf
    elif what == "y-missing":
        del arrays["y"]
    elif what == "y-float":
        arrays["y"] = y.astype(np.float32) + 0.5
    elif what == "y-negative":
        arrays["y"] = -y - 1
    elif what == "y-huge":
        arrays["y"] = y + 10**12
    elif what == "y-2d":
        arrays["y"] = np.stack([y, y], axis=1)
    elif what == "y-str":
        arrays["y"] = np.array([str(v) for v in y])
    elif what == "y-short":
        arrays["y"] = y[:3]
    elif what == "x-missing":
        del arrays["x"]
    elif what == "per-input-wrong":
        arrays = {"x.nope": x, "y": y}
    elif what == "empty-npz":
        return Blob(_npz(), description="an .npz with no arrays")
    elif what == "truncated":
        data = _npz(**arrays)
        return Blob(data[: rng.randrange(1, len(data))], description="truncated .npz")
    elif what == "garbage":
        return Blob(rng.randbytes(500), description="random bytes")
    elif what == "npy":
        buf = io.BytesIO()
        np.save(buf, x)
        return Blob(buf.getvalue(), description="a single .npy array")
    elif what == "object":
        buf = io.BytesIO()
        np.savez(buf, x=np.array([{"a": 1}] * SAMPLES, dtype=object), y=y)
        return Blob(buf.getvalue(), description="object arrays (pickle)")
    elif what == "claims-huge":
        shape = rng.choice([(10**12,), (2**40, 3, 16, 16), (400_000_000,)])
        members = {"x.npy": _npy_header(shape), "y.npy": _npy_header((SAMPLES,), "<i8")}
        return Blob(_zip(members), description=f"header claims shape {shape}")
    elif what == "zip-bomb":
        # 600 MB of zeros deflated to a few hundred KB: four samples far too wide for the
        # model (many samples would only make a long, legitimate evaluation).
        shape = (4, 3, 16, 800_000)
        header = _npy_header(shape)[:-64]
        data = zipfile_member_of_zeros(header, 4 * 3 * 16 * 800_000 * 4)
        return Blob(data, description="zip bomb: 600 MB of zeros in a few hundred KB")
    elif what in ("fifo", "devzero", "dir"):
        return Blob(kind=what, description=f"the data set path is a {what}")
    elif what == "extra-keys":
        arrays["z"] = np.zeros(3)
        arrays["x.x"] = x
    return Blob(_npz(**arrays), description=f"data set: {what}")


_BOMBS: dict[tuple[bytes, int], bytes] = {}


def zipfile_member_of_zeros(header: bytes, size: int) -> bytes:
    """A zip holding ``x.npy`` = header + ``size`` zero bytes, deflated (a few MB; built once
    per process, it takes seconds)."""
    key = (header, size)
    if key not in _BOMBS:
        _BOMBS[key] = _deflated_zeros(header, size)
    return _BOMBS[key]


def _deflated_zeros(header: bytes, size: int) -> bytes:
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf,
        zf.open("x.npy", "w", force_zip64=True) as member,
    ):
        member.write(header)
        chunk = b"\0" * (1 << 20)
        left = size
        while left > 0:
            member.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)
    return buf.getvalue()


def run_inputs(rng: random.Random, names: list[str]) -> Blob:
    """An ``inputs=`` file for a measured run of a model whose inputs are ``names``."""
    what = rng.choice(
        ["wrong-name", "wrong-dtype", "wrong-rank", "huge-claim", "garbage", "empty", "fifo",
         "object", "nan"]
    )  # fmt: skip
    if what == "wrong-name":
        return Blob(_npz(nope=np.zeros(3, np.float32)), description="inputs: unknown name")
    if what == "wrong-dtype":
        return Blob(_npz(**{n: np.zeros((1, 3), np.int32) for n in names}), description=what)
    if what == "wrong-rank":
        return Blob(_npz(**{n: np.zeros(5, np.float32) for n in names}), description=what)
    if what == "huge-claim":
        members = {f"{n}.npy": _npy_header((10**12,)) for n in names}
        return Blob(_zip(members), description="inputs header claims 10**12 elements")
    if what == "garbage":
        return Blob(rng.randbytes(100), description="inputs: random bytes")
    if what == "empty":
        return Blob(b"", description="inputs: empty file")
    if what == "fifo":
        return Blob(kind="fifo", description="inputs: a FIFO")
    if what == "object":
        buf = io.BytesIO()
        np.savez(buf, **{n: np.array([None, 1], dtype=object) for n in names})
        return Blob(buf.getvalue(), description="inputs: object arrays")
    return Blob(_npz(**{n: np.full((1,), np.nan, np.float32) for n in names}), description=what)


# ------------------------------------------------------------------------------------ markers

VALID_BUDGETS = (
    "size_mb=10",
    "macs_m=0.0001",
    "latency_ms=1000, energy_mj=1000",
    "npu_coverage=0.5",
    "min_sqnr_db=30",
    "params_m=1, flops_m=1, peak_memory_mb=100",
    "size_mb=1e308",
    "size_mb=0",
    "regression={'latency_ms': '5%'}",
    "regression='latency_ms:5%,size_mb:0'",
)
BAD_BUDGETS = (
    "size_mb='4MB'",
    "size_mb=-1",
    "size_mb=float('nan')",
    "size_mb=float('inf')",
    "size_mb=1e400",
    "size_mb=10**400",
    "size_mb=-(10**400)",
    "size_mb=True",
    "size_mb=None",
    "size_mb=[1]",
    "size_mb={'a': 1}",
    "size_mb=complex(1, 2)",
    "size_mb=object()",
    "size_mb=b'4'",
    "sizemb=1",
    "latency=5",
    "'positional'",
    "4, 2",
    "regression='latency_ms'",
    "regression={'latency_ms': 'x%'}",
    "regression={'nope': '5%'}",
    "regression=5",
    "regression={'latency_ms': -1}",
    "regression={1: 2}",
    "regression='latency_ms:5%,size_mb:-3'",
    "regression={'latency_ms': float('nan')}",
    "regression={'latency_ms': '1e999%'}",
    "regression={'latency_ms': 10**400}",
    "regression=[('latency_ms', '5%')]",
    "regression={'latency_ms': None}",
    "**{'<script>alert(1)</script>': 1}",
    "**{'\\n::error::injected': 1}",
)


def marker_source(rng: random.Random, case_id: str, model: str) -> tuple[str, str]:
    """A test module whose ``edge_budget`` marker is malformed (sometimes valid)."""
    args = rng.choice(BAD_BUDGETS if rng.random() < 0.8 else VALID_BUDGETS)
    level = rng.choice(["function", "function", "class", "module", "twice", "no-fixture"])
    name = f"test_marker_{case_id}"
    mark = f"pytest.mark.edge_budget({args})"
    body = f"    edge.evaluate({model!r})\n"
    if level == "function":
        src = f"@{mark}\ndef {name}(edge):\n{body}"
    elif level == "twice":
        src = f"@{mark}\n@pytest.mark.edge_budget(size_mb=5)\ndef {name}(edge):\n{body}"
    elif level == "class":
        src = (
            f"@{mark}\nclass TestMarker_{case_id}:\n    def {name}(self, edge):\n"
            f"        edge.evaluate({model!r})\n"
        )
    elif level == "module":
        src = f"pytestmark = [{mark}]\n\n\ndef {name}(edge):\n{body}"
    else:
        src = f"@{mark}\ndef {name}():\n    pass\n"
    return "import pytest\n\n\n" + src, f"marker edge_budget({args}) at {level} level"


# ----------------------------------------------------------------------------------- profiles

_PROFILE_VALUES = (
    '"4MB"', "-1", "0", "nan", "inf", "-inf", "1e400", "99999999999999999999", "true", "[]",
    '[1, "a"]', "{ a = 1 }", '"<script>alert(1)</script>"', '""', "1970-01-01", "0x10",
    '"\\n::error::injected"', "1e-300", "2147483648",
)  # fmt: skip


def builtin_profile_text(profile_id: str) -> str:
    return (resources.files("pytest_edgegate.profiles") / "data" / f"{profile_id}.toml").read_text(
        encoding="utf-8"
    )


def profile(rng: random.Random, case_id: str) -> Blob:
    """A profile file: a shipped profile renamed ``fuzz-<id>`` (or a small ``extends`` one)
    with one to three edits to its text, or not a profile at all."""
    pid = f"fuzz-{case_id}"
    base = rng.choice(["cortex-a72", "edgetpu", "cortex-m7", "extends"])
    if base == "extends":
        text = (
            f'id = "{pid}"\nversion = "1"\nname = "fuzz"\nkind = "cpu"\nextends = "cortex-a72"\n'
            '\n[memory]\nram_mib = 1024\n\n[sources]\n"memory.ram_mib" = "fuzz"\n'
        )
    else:
        text = builtin_profile_text(base)
        text = text.replace(f'id = "{base}"', f'id = "{pid}"', 1)
    what = rng.choice(
        ["value", "value", "value", "delete", "duplicate", "unknown-key", "unknown-table",
         "truncate", "flip", "empty", "binary", "extends-unknown", "extends-self", "kind",
         "fifo", "devzero", "dir-empty", "huge"]
    )  # fmt: skip
    lines = text.splitlines()
    keyed = [i for i, line in enumerate(lines) if "=" in line and not line.startswith("#")]
    if what == "value":
        for _ in range(rng.choice([1, 1, 3])):
            i = rng.choice(keyed)
            key = lines[i].split("=", 1)[0]
            lines[i] = f"{key}= {rng.choice(_PROFILE_VALUES)}"
    elif what == "delete":
        del lines[rng.choice(keyed)]
    elif what == "duplicate":
        i = rng.choice(keyed)
        lines.insert(i, lines[i])
    elif what == "unknown-key":
        lines.insert(rng.choice(keyed) + 1, "surprise_key = 3")
    elif what == "unknown-table":
        lines.append("[gpu]\ncores = 4")
    elif what == "truncate":
        cut = rng.randrange(len(text))
        return Blob(text[:cut].encode(), description=f"profile truncated at {cut}")
    elif what == "flip":
        data = bytearray(text.encode())
        for _ in range(rng.choice([1, 5, 30])):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return Blob(bytes(data), description="profile with flipped bytes")
    elif what == "empty":
        return Blob(b"", description="empty profile")
    elif what == "binary":
        return Blob(rng.randbytes(300), description="binary profile")
    elif what == "extends-unknown":
        lines.insert(1, 'extends = "no-such-device"')
    elif what == "extends-self":
        lines = [f'id = "{pid}"', 'version = "1"', 'name = "x"', 'kind = "cpu"',
                 f'extends = "{pid}"']  # fmt: skip
    elif what == "kind":
        lines = [ln if not ln.startswith("kind") else 'kind = "gpu"' for ln in lines]
    elif what in ("fifo", "devzero", "dir-empty"):
        return Blob(kind=what, description=f"the profile path is a {what}")
    elif what == "huge":
        return Blob(b"# " + b"x" * 50_000_000 + b"\n", description="50 MB profile of comments")
    return Blob(("\n".join(lines) + "\n").encode(), description=f"profile {base}: {what}")


# ---------------------------------------------------------------------------------- baselines


def valid_baseline(nodeid: str, target: str = "cortex-a72") -> dict:
    from pytest_edgegate.costmodel import COSTMODEL_VERSION

    return {
        "schema_version": 1,
        "tool": {"name": "pytest-edgegate", "version": "0.1.0"},
        "entries": {
            nodeid: {
                "costmodel_version": COSTMODEL_VERSION,
                "nodeid": nodeid,
                "target": target,
                "profile_version": "1.1",
                "model": "base.onnx",
                "sha256": "0" * 64,
                "metrics": {"size_mb": 0.004, "macs_m": 0.06, "latency_ms": 0.5},
                "sources": {"size_mb": "static", "macs_m": "static", "latency_ms": "estimate"},
            }
        },
    }


_BAD_VALUES = (None, "x", -1, 1e308, True, [], {}, {"a": [1]}, "<script>alert(1)</script>")
REGRESSION_OPTIONS = (
    None, None, None, "latency_ms:5%", "x", "latency_ms:", "latency_ms:-5%", "latency_ms:nan",
    "size_mb:1e999%", ":::", "latency_ms:5%,latency_ms:3%", "\n::error::injected",
)  # fmt: skip


def baseline(rng: random.Random, nodeid: str) -> Blob:
    """A baseline file for a session whose only test is ``nodeid``."""
    doc = valid_baseline(nodeid)
    entry = doc["entries"][nodeid]
    what = rng.choice(
        ["valid", "truncate", "flip", "utf8", "nan", "deep", "huge-number", "entries-type",
         "entry-type", "entry-missing", "metrics-type", "metric-value", "sources-type",
         "schema", "nodeid-type", "hostile", "many", "empty", "dir", "devzero", "fifo",
         "regressed"]
    )  # fmt: skip
    if what == "valid":
        pass
    elif what in ("truncate", "flip", "utf8"):
        data = bytearray(json.dumps(doc, indent=2).encode())
        if what == "truncate":
            data = data[: rng.randrange(len(data))]
        elif what == "flip":
            for _ in range(rng.choice([1, 3, 10])):
                data[rng.randrange(len(data))] = rng.randrange(256)
        else:
            data[rng.randrange(len(data))] = 0xFF
        return Blob(bytes(data), description=f"baseline JSON: {what}")
    elif what == "nan":
        text = json.dumps(doc).replace("0.5", "NaN").replace("0.004", "Infinity")
        return Blob(text.encode(), description="baseline with NaN and Infinity")
    elif what == "deep":
        depth = rng.choice([1000, 100_000])
        text = json.dumps(doc)[:-1] + ', "x": ' + "[" * depth + "]" * depth + "}"
        return Blob(text.encode(), description=f"baseline nested {depth} deep")
    elif what == "huge-number":
        text = json.dumps(doc).replace("0.06", "1" + "0" * 5000)
        return Blob(text.encode(), description="baseline with a 5000-digit number")
    elif what == "entries-type":
        doc["entries"] = rng.choice([[], "x", None, 3])
    elif what == "entry-type":
        doc["entries"][nodeid] = rng.choice(_BAD_VALUES)
    elif what == "entry-missing":
        for key in rng.sample(sorted(entry), rng.randrange(1, len(entry))):
            del entry[key]
    elif what == "metrics-type":
        entry["metrics"] = rng.choice(_BAD_VALUES)
    elif what == "metric-value":
        entry["metrics"][rng.choice(["size_mb", "macs_m", "latency_ms", "bogus"])] = rng.choice(
            _BAD_VALUES
        )
    elif what == "sources-type":
        entry["sources"] = rng.choice(_BAD_VALUES)
    elif what == "schema":
        doc["schema_version"] = rng.choice([None, "1", 99, -1, True, 1.5])
    elif what == "nodeid-type":
        entry[rng.choice(["nodeid", "target", "profile_version", "costmodel_version"])] = (
            rng.choice(_BAD_VALUES)
        )
    elif what == "hostile":
        entry["model"] = "<script>alert(1)</script>\n::error::injected"
        entry["profile_version"] = "\n::error::injected"
    elif what == "many":
        for k in range(5000):
            doc["entries"][f"{nodeid}#{k}"] = dict(entry, nodeid=f"{nodeid}#{k}")
    elif what == "empty":
        return Blob(b"", description="empty baseline")
    elif what in ("dir", "devzero", "fifo"):
        return Blob(kind=what, description=f"the baseline path is a {what}")
    elif what == "regressed":
        entry["metrics"] = {"size_mb": 0.000001, "macs_m": 0.000001}
    return Blob(json.dumps(doc).encode(), description=f"baseline: {what}")
