"""Model mutations: what a broken export, a corrupt download or a crafted pull request holds.

Each mutation is a function ``(ctx) -> str`` that writes one case's files into ``ctx.folder``
(the model's folder) and returns a short description.  ``ctx.rng`` is the case's own seeded
generator, so a case is reproducible from its seed alone, whatever ran before it.

Three families:

* bytes: truncation, byte flips, splices, garbage, files that are not models at all, special
  files (a directory, a FIFO, a dangling symlink) and a sparse file over the size limit;
* protobuf fields: wrong, zero, negative and enormous dims, dangling inputs, cycles, unknown
  operators and domains, opsets and IR versions from the future, huge attribute values,
  runaway allocations, wrong element types, duplicates, deep nesting, hostile strings in the
  metadata and names, and random edits of any field found by reflection;
* external data: absolute locations, ``..``, symlinks (file and folder) leading to the case's
  canary outside the folder, and malformed entries (empty, NUL, URL, drive letter, bad
  offsets and lengths, a folder, a missing file), on initializers, ``Constant`` attributes,
  sparse initializers, subgraphs and functions.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import AttributeProto, TensorProto, helper, numpy_helper

from pytest_edgegate.analysis.loader import iter_graphs

#: Dimension values a hostile or broken model may hold.
BAD_DIMS = (0, -1, -7, -(2**63), 2**31, 2**40, 2**62, 2**63 - 1, 10**6)
#: Hostile text for names, metadata and file names; ``{id}`` becomes the case id so that
#: anything injected into an output can be traced back to its case.
HOSTILE = (
    "<script>alert(1)</script>",
    "\n::error file=x.py,line=1::injected-{id}",
    "::error::injected-{id}",
    "%0A::error::injected-{id}",
    "\r::add-mask::{id}",
    "\n::stop-commands::{id}",
    "]]></failure><script>x</script>",
    '"><img src=x onerror=alert(1)>',
    "| md | table |\n| --- |\n`code` [link](javascript:alert(1))",
    "\u202eevil\u202c \x1b[31mred\x1b[0m \x00nul",
    "{{7*7}} {% raw %} ${x}",
)


@dataclass
class Context:
    """What a mutation needs: the case, its folder, its canary and its generator."""

    case_id: str
    folder: Path
    canary: Path
    rng: random.Random
    base_bytes: bytes
    model_name: str = ""
    #: The test hands the model to edge.evaluate as an in-memory proto (it must parse).
    in_memory: bool = False

    def __post_init__(self) -> None:
        if not self.model_name:
            self.model_name = f"{self.case_id}.onnx"

    @property
    def model_path(self) -> Path:
        return self.folder / self.model_name

    def proto(self) -> onnx.ModelProto:
        return onnx.ModelProto.FromString(self.base_bytes)

    def write(self, data: bytes) -> None:
        self.model_path.write_bytes(data)

    def save(self, model: onnx.ModelProto) -> None:
        self.write(model.SerializeToString())

    def hostile(self) -> str:
        return self.rng.choice(HOSTILE).replace("{id}", self.case_id)


Mutation = Callable[[Context], str]


# ------------------------------------------------------------------------------ byte level


def truncate(ctx: Context) -> str:
    data = ctx.base_bytes
    cut = ctx.rng.choice([0, 1, 2, ctx.rng.randrange(len(data)), len(data) - 1])
    ctx.write(data[:cut])
    return f"truncated to {cut} of {len(data)} bytes"


def flip(ctx: Context) -> str:
    data = bytearray(ctx.base_bytes)
    n = ctx.rng.choice([1, 2, 5, 20, 200])
    for _ in range(n):
        i = ctx.rng.randrange(len(data))
        data[i] ^= ctx.rng.randrange(1, 256)
    ctx.write(bytes(data))
    return f"{n} byte(s) flipped"


def splice(ctx: Context) -> str:
    data = ctx.base_bytes
    a = ctx.rng.randrange(len(data))
    b = min(len(data), a + ctx.rng.randrange(1, 4096))
    if ctx.rng.random() < 0.5:
        ctx.write(data[:a] + data[b:])
        return f"bytes {a}..{b} deleted"
    ctx.write(data[:b] + data[a:])
    return f"bytes {a}..{b} duplicated"


def garbage_tail(ctx: Context) -> str:
    extra = ctx.rng.randbytes(ctx.rng.choice([1, 7, 100, 5000]))
    ctx.write(ctx.base_bytes + extra)
    return f"{len(extra)} random bytes appended"


def not_onnx(ctx: Context) -> str:
    kind = ctx.rng.choice(["random", "text", "json", "png", "zip", "nul", "varint", "onnx-text"])
    blobs = {
        "random": ctx.rng.randbytes(ctx.rng.choice([3, 64, 10_000])),
        "text": b"this is not a model\n" * 10,
        "json": b'{"graph": {"node": []}, "ir_version": 8}',
        "png": b"\x89PNG\r\n\x1a\n" + ctx.rng.randbytes(200),
        "zip": b"PK\x03\x04" + ctx.rng.randbytes(200),
        "nul": b"\x00" * 1000,
        "varint": b"\x08" + b"\xff" * 20,
        "onnx-text": b'<ir_version: 8, opset_import: ["" : 17]>\nagraph (float[N] x) => (y) {\n',
    }
    ctx.write(blobs[kind])
    return f"not an ONNX file ({kind})"


def special_file(ctx: Context) -> str:
    kind = ctx.rng.choice(["directory", "fifo", "dangling-symlink", "symlink-loop"])
    path = ctx.model_path
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "dangling-symlink":
        os.symlink(ctx.folder / "does-not-exist.onnx", path)
    else:
        os.symlink(path.name, path)  # a link to itself: ELOOP on open
    return f"the model path is a {kind}"


def oversize(ctx: Context) -> str:
    """A sparse file of 2.1 GB (no disk used): refused by size before it is read."""
    with open(ctx.model_path, "wb") as fh:
        fh.write(ctx.base_bytes[:64])
        fh.truncate(2_100_000_000)
    return "sparse 2.1 GB file over the default size limit"


# --------------------------------------------------------------------------- proto helpers


def _value_infos(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    out = []
    for g in iter_graphs(model.graph):
        out.extend(g.input)
        out.extend(g.output)
        out.extend(g.value_info)
    return [v for v in out if v.type.HasField("tensor_type")]


def _nodes(model: onnx.ModelProto) -> list[onnx.NodeProto]:
    nodes = [n for g in iter_graphs(model.graph) for n in g.node]
    for fn in model.functions:
        nodes.extend(fn.node)
    return nodes


def _pick_dim(ctx: Context) -> int:
    return ctx.rng.choice(BAD_DIMS)


# ---------------------------------------------------------------------------- proto level


def shape_wrong(ctx: Context) -> str:
    model = ctx.proto()
    values = _value_infos(model)
    value = ctx.rng.choice(values)
    shape = value.type.tensor_type.shape
    what = ctx.rng.choice(["dim", "rank", "clear", "param"])
    if what == "dim" and shape.dim:
        d = ctx.rng.choice(list(shape.dim))
        d.dim_value = _pick_dim(ctx) if ctx.rng.random() < 0.7 else ctx.rng.randrange(1, 64)
    elif what == "rank":
        for _ in range(ctx.rng.choice([1, 3, 40])):
            shape.dim.add().dim_value = ctx.rng.randrange(1, 5)
    elif what == "param" and shape.dim:
        ctx.rng.choice(list(shape.dim)).dim_param = ctx.rng.choice(["", "N", ctx.hostile()])
    else:
        value.type.tensor_type.ClearField("shape")
    ctx.save(model)
    return f"shape of '{value.name}' changed ({what})"


def initializer_dims(ctx: Context) -> str:
    model = ctx.proto()
    inits = [t for g in iter_graphs(model.graph) for t in g.initializer]
    if not inits:
        return shape_wrong(ctx)
    tensor = ctx.rng.choice(inits)
    what = ctx.rng.choice(["bad", "zero", "extra", "drop-data"])
    if what == "bad" and tensor.dims:
        tensor.dims[ctx.rng.randrange(len(tensor.dims))] = _pick_dim(ctx)
    elif what == "zero":
        tensor.dims.append(0)
    elif what == "extra":
        tensor.dims.extend([ctx.rng.randrange(2, 9)] * ctx.rng.randrange(1, 4))
    else:
        tensor.ClearField("raw_data")
        tensor.ClearField("float_data")
        tensor.ClearField("int64_data")
        tensor.ClearField("int32_data")
    ctx.save(model)
    return f"initializer '{tensor.name}' dims/data changed ({what})"


def dangling(ctx: Context) -> str:
    model = ctx.proto()
    nodes = [n for n in model.graph.node if n.input]
    what = ctx.rng.choice(["input", "output", "remove-node", "graph-input"])
    if what == "input" and nodes:
        node = ctx.rng.choice(nodes)
        node.input[ctx.rng.randrange(len(node.input))] = f"missing_{ctx.case_id}"
    elif what == "output" and model.graph.output:
        model.graph.output[0].name = f"nowhere_{ctx.case_id}"
    elif what == "remove-node" and model.graph.node:
        del model.graph.node[ctx.rng.randrange(len(model.graph.node))]
    else:
        del model.graph.input[:]
    ctx.save(model)
    return f"dangling reference ({what})"


def cycle(ctx: Context) -> str:
    model = ctx.proto()
    nodes = [n for n in model.graph.node if n.input and n.output]
    if len(nodes) < 2 or ctx.rng.random() < 0.3:
        node = ctx.rng.choice(nodes or list(model.graph.node))
        node.input[0] = node.output[0]
        ctx.save(model)
        return f"node '{node.name}' consumes its own output"
    i, j = sorted(ctx.rng.sample(range(len(nodes)), 2))
    nodes[i].input[0] = nodes[j].output[0]
    ctx.save(model)
    return f"cycle between '{nodes[i].name}' and '{nodes[j].name}'"


def unknown_op(ctx: Context) -> str:
    model = ctx.proto()
    node = ctx.rng.choice(list(model.graph.node))
    what = ctx.rng.choice(["op", "domain", "domain-imported", "empty", "custom-lib"])
    if what == "op":
        node.op_type = ctx.rng.choice(["FooBar", "Conv2", "conv", ctx.hostile(), "A" * 5000])
    elif what == "domain":
        node.domain = ctx.rng.choice(["com.evil", "ai.onnx.preview.training", ctx.hostile()])
    elif what == "domain-imported":
        node.domain = "com.example.custom"
        model.opset_import.add(domain="com.example.custom", version=1)
    elif what == "empty":
        node.op_type = ""
    else:  # what a model expecting a custom op library (onnxruntime-extensions) looks like
        node.op_type = "GaussianBlur"
        node.domain = "ai.onnx.contrib"
        model.opset_import.add(domain="ai.onnx.contrib", version=1)
    ctx.save(model)
    return f"unknown operator or domain on '{node.name}' ({what})"


def future(ctx: Context) -> str:
    model = ctx.proto()
    what = ctx.rng.choice(["opset", "opset-huge", "ir", "ir-huge", "ir-zero", "opset-old", "dup"])
    if what.startswith("opset"):
        value = {"opset": 99, "opset-huge": 2**62, "opset-old": 1}[what]
        for imp in model.opset_import:
            if imp.domain in ("", "ai.onnx"):
                imp.version = value
    elif what == "dup":
        model.opset_import.add(domain="", version=11)
    else:
        model.ir_version = {"ir": 99, "ir-huge": 2**62, "ir-zero": 0}[what]
    ctx.save(model)
    return f"version from elsewhere ({what})"


_INT_ATTRS = ("kernel_shape", "strides", "pads", "dilations", "perm", "axes", "repeats")


def huge_attribute(ctx: Context) -> str:
    model = ctx.proto()
    nodes = _nodes(model)
    node = ctx.rng.choice(nodes)
    what = ctx.rng.choice(["ints", "int", "long-list", "long-string", "float", "new-attr"])
    attrs = list(node.attribute)
    if what in ("ints", "long-list") and any(a.type == AttributeProto.INTS for a in attrs):
        attr = ctx.rng.choice([a for a in attrs if a.type == AttributeProto.INTS])
        if what == "ints":
            for k in range(len(attr.ints)):
                attr.ints[k] = _pick_dim(ctx)
        else:
            attr.ints.extend([1] * 100_000)
    elif what == "int" and any(a.type == AttributeProto.INT for a in attrs):
        attr = ctx.rng.choice([a for a in attrs if a.type == AttributeProto.INT])
        attr.i = _pick_dim(ctx)
    elif what == "long-string":
        node.attribute.append(helper.make_attribute("note", "x" * 2_000_000))
    elif what == "float":
        node.attribute.append(helper.make_attribute("alpha", float("nan")))
        node.attribute.append(helper.make_attribute("beta", 1e308))
    else:
        name = ctx.rng.choice(_INT_ATTRS)
        node.attribute.append(helper.make_attribute(name, [_pick_dim(ctx)] * 4))
    ctx.save(model)
    return f"huge attribute on '{node.name}' ({what})"


def runaway(ctx: Context) -> str:
    """A node that asks for an enormous tensor: static figures explode, a run must be capped."""
    model = ctx.proto()
    graph = model.graph
    what = ctx.rng.choice(["expand", "constant-of-shape", "tile", "loop", "range"])
    size = ctx.rng.choice([2**26, 2**31, 2**40, 2**62])
    big = f"big_{ctx.case_id}"
    if what == "expand":
        shape = numpy_helper.from_array(np.array([size, 1], np.int64), f"{big}_shape")
        graph.initializer.append(shape)
        one = numpy_helper.from_array(np.ones((1, 1), np.float32), f"{big}_one")
        graph.initializer.append(one)
        graph.node.append(helper.make_node("Expand", [one.name, shape.name], [big]))
    elif what == "constant-of-shape":
        shape = numpy_helper.from_array(np.array([size], np.int64), f"{big}_shape")
        graph.initializer.append(shape)
        graph.node.append(helper.make_node("ConstantOfShape", [shape.name], [big]))
    elif what == "tile":
        reps = numpy_helper.from_array(np.array([size], np.int64), f"{big}_reps")
        graph.initializer.append(reps)
        src = numpy_helper.from_array(np.ones(16, np.float32), f"{big}_src")
        graph.initializer.append(src)
        graph.node.append(helper.make_node("Tile", [src.name, reps.name], [big]))
    elif what == "loop":
        body = helper.make_graph(
            [helper.make_node("Identity", ["c"], ["c_out"])],
            "spin",
            [
                helper.make_tensor_value_info("i", TensorProto.INT64, []),
                helper.make_tensor_value_info("c", TensorProto.BOOL, []),
            ],
            [helper.make_tensor_value_info("c_out", TensorProto.BOOL, [])],
        )
        trips = numpy_helper.from_array(np.array(2**62, np.int64), f"{big}_trips")
        cond = numpy_helper.from_array(np.array(True), f"{big}_cond")
        graph.initializer.extend([trips, cond])
        graph.node.append(helper.make_node("Loop", [trips.name, cond.name], [], body=body))
    else:
        limit = numpy_helper.from_array(np.array(float(size), np.float32), f"{big}_limit")
        zero = numpy_helper.from_array(np.array(0.0, np.float32), f"{big}_zero")
        one = numpy_helper.from_array(np.array(1.0, np.float32), f"{big}_delta")
        graph.initializer.extend([zero, limit, one])
        graph.node.append(helper.make_node("Range", [zero.name, limit.name, one.name], [big]))
    if what != "loop":  # the others make one huge tensor: ask for it as an output
        graph.output.append(helper.make_tensor_value_info(big, TensorProto.FLOAT, None))
    ctx.save(model)
    return f"runaway allocation ({what}, {size:,} elements)"


def element_type(ctx: Context) -> str:
    model = ctx.proto()
    value = ctx.rng.choice(_value_infos(model))
    new = ctx.rng.choice([0, 8, 16, 23, 999, -3, 2**31 - 1])
    value.type.tensor_type.elem_type = new
    inits = [t for g in iter_graphs(model.graph) for t in g.initializer]
    if inits and ctx.rng.random() < 0.5:
        ctx.rng.choice(inits).data_type = ctx.rng.choice([0, 8, 999, TensorProto.INT64])
    ctx.save(model)
    return f"element type of '{value.name}' set to {new}"


def duplicates(ctx: Context) -> str:
    model = ctx.proto()
    graph = model.graph
    what = ctx.rng.choice(["outputs", "initializers", "no-nodes", "no-outputs", "no-graph-name"])
    if what == "outputs" and len(graph.node) >= 2:
        graph.node[1].output[0] = graph.node[0].output[0]
    elif what == "initializers" and graph.initializer:
        graph.initializer.append(graph.initializer[0])
    elif what == "no-nodes":
        del graph.node[:]
    elif what == "no-outputs":
        del graph.output[:]
    else:
        graph.name = ""
    ctx.save(model)
    return f"duplicate or missing parts ({what})"


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def proto_field(number: int, payload: bytes | str | int) -> bytes:
    """One protobuf field: a varint for an int, length-delimited for bytes and text (also
    what tests use to write bytes protobuf itself would not, e.g. an over-long tag)."""
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def too_deep_bytes(base: bytes, depth: int) -> bytes:
    """``base`` plus a node with ``If`` subgraphs nested ``depth`` deep, encoded by hand:
    protobuf refuses to build (or parse) messages nested past its limit of 100, which is
    what the file must exercise.  A second ``graph`` field merges into the first."""
    node = proto_field(4, "Identity") + proto_field(1, "x") + proto_field(2, "o0")
    for level in range(1, depth):
        graph = (
            proto_field(1, node)
            + proto_field(2, f"g{level}")
            + proto_field(12, proto_field(1, f"o{level - 1}"))
        )
        attribute = proto_field(1, "then_branch") + proto_field(20, 5) + proto_field(6, graph)
        node = (
            proto_field(1, "flag_deep") + proto_field(2, f"o{level}") + proto_field(4, "If")
            + proto_field(5, attribute)
        )  # fmt: skip
    return base + proto_field(7, proto_field(1, node))


def deep(ctx: Context) -> str:
    """Deeply nested subgraphs (past protobuf's depth limit in a file), or a long chain."""
    if ctx.rng.random() < 0.25 and ctx.model_name.endswith(".onnx") and not ctx.in_memory:
        depth = ctx.rng.choice([60, 400])
        ctx.write(too_deep_bytes(ctx.base_bytes, depth))
        return f"subgraphs nested {depth} deep (past protobuf's limit)"
    model = ctx.proto()
    if ctx.rng.random() < 0.5:
        depth = ctx.rng.choice([10, 25])
        inner = helper.make_graph(
            [helper.make_node("Identity", ["x"], ["o0"])],
            "g0",
            [],
            [helper.make_tensor_value_info("o0", TensorProto.FLOAT, None)],
        )
        for level in range(1, depth):
            # Only one branch nests (two would double the size at every level).
            leaf = helper.make_graph(
                [helper.make_node("Identity", ["x"], [f"l{level}"])],
                f"leaf{level}",
                [],
                [helper.make_tensor_value_info(f"l{level}", TensorProto.FLOAT, None)],
            )
            node = helper.make_node(
                "If", ["flag_deep"], [f"o{level}"], then_branch=inner, else_branch=leaf
            )
            inner = helper.make_graph(
                [node],
                f"g{level}",
                [],
                [helper.make_tensor_value_info(f"o{level}", TensorProto.FLOAT, None)],
            )
        model.graph.initializer.append(numpy_helper.from_array(np.array(True), "flag_deep"))
        model.graph.node.extend(inner.node)
        ctx.save(model)
        return f"subgraphs nested {depth} deep"
    length = ctx.rng.choice([2_000, 20_000])
    out = model.graph.output[0].name
    last = out
    for k in range(length):
        model.graph.node.append(helper.make_node("Identity", [last], [f"chain{k}"]))
        last = f"chain{k}"
    model.graph.output.append(helper.make_tensor_value_info(last, TensorProto.FLOAT, None))
    ctx.save(model)
    return f"chain of {length} nodes"


def metadata(ctx: Context) -> str:
    """Hostile strings in everything a report may show: metadata, names, doc strings."""
    model = ctx.proto()
    h = ctx.hostile
    model.producer_name = h()
    model.producer_version = h()
    model.doc_string = h() * ctx.rng.choice([1, 1000])
    model.domain = h()
    for k in range(ctx.rng.choice([1, 3, 300])):
        model.metadata_props.add(key=f"{h()}{k}", value=h())
    model.graph.name = h()
    model.graph.doc_string = h()
    for node in model.graph.node:
        if ctx.rng.random() < 0.5:
            node.name = h()
        node.doc_string = h()
    ctx.save(model)
    return "hostile strings in metadata and names"


def random_fields(ctx: Context) -> str:
    """Edit 1..5 random fields anywhere in the proto, found by reflection."""
    model = ctx.proto()
    edits = []
    for _ in range(ctx.rng.choice([1, 2, 5])):
        edits.append(_edit_random_field(ctx, model))
    ctx.save(model)
    return "random field edits: " + "; ".join(edits)


def _repeated(fd) -> bool:
    """Whether a field is repeated (``label`` is deprecated in newer protobuf releases)."""
    if hasattr(fd, "is_repeated"):
        return bool(fd.is_repeated)
    return fd.label == fd.LABEL_REPEATED


def _messages(msg, path: str = ""):
    yield path, msg
    for fd, value in msg.ListFields():
        if fd.type != fd.TYPE_MESSAGE:
            continue
        if _repeated(fd):
            for i, item in enumerate(value[:50]):
                yield from _messages(item, f"{path}.{fd.name}[{i}]")
        else:
            yield from _messages(value, f"{path}.{fd.name}")


def _edit_random_field(ctx: Context, model: onnx.ModelProto) -> str:
    rng = ctx.rng
    messages = list(_messages(model))
    path, msg = rng.choice(messages)
    fields = [fd for fd in msg.DESCRIPTOR.fields if fd.type != fd.TYPE_MESSAGE]
    if not fields:
        return f"{path}: no scalar field"
    fd = rng.choice(fields)
    ints = (fd.TYPE_INT64, fd.TYPE_INT32, fd.TYPE_SINT64, fd.TYPE_SINT32)
    uints = (fd.TYPE_UINT64, fd.TYPE_UINT32, fd.TYPE_FIXED64, fd.TYPE_FIXED32)
    if fd.type in ints:
        bits = 64 if fd.type in (fd.TYPE_INT64, fd.TYPE_SINT64) else 32
        value = rng.choice(
            [0, -1, 1, 2 ** (bits - 1) - 1, -(2 ** (bits - 1)), rng.randrange(-99, 99)]
        )
    elif fd.type in uints:
        bits = 64 if fd.type in (fd.TYPE_UINT64, fd.TYPE_FIXED64) else 32
        value = rng.choice([0, 1, 2**bits - 1])
    elif fd.type in (fd.TYPE_FLOAT, fd.TYPE_DOUBLE):
        value = rng.choice([0.0, -1.0, float("nan"), float("inf"), 1e38])
    elif fd.type == fd.TYPE_BOOL:
        value = rng.random() < 0.5
    elif fd.type == fd.TYPE_ENUM:
        value = rng.choice([v.number for v in fd.enum_type.values] + [0])
    elif fd.type == fd.TYPE_STRING:
        value = rng.choice(["", ctx.hostile(), "..", "/etc/passwd", "x" * 10_000])
    else:  # bytes
        value = rng.randbytes(rng.choice([0, 3, 100]))
    try:
        if _repeated(fd):
            getattr(msg, fd.name).append(value)
        else:
            setattr(msg, fd.name, value)
    except (TypeError, ValueError) as exc:
        return f"{path}.{fd.name}: not set ({exc})"
    return f"{path}.{fd.name} = {str(value)[:40]!r}"


# --------------------------------------------------------------------------- external data


def _external_tensor(ctx: Context, model: onnx.ModelProto, where: str) -> TensorProto:
    """A tensor of ``model`` (chosen by ``where``) made external, with its bytes cleared."""
    graph = model.graph
    if where == "constant":
        value = numpy_helper.from_array(np.ones((4, 4), np.float32), "ext_const")
        graph.node.insert(0, helper.make_node("Constant", [], ["ext_c"], value=value))
        tensor = graph.node[0].attribute[0].t
    elif where == "sparse":
        values = numpy_helper.from_array(np.ones(2, np.float32), "ext_sparse")
        indices = numpy_helper.from_array(np.array([0, 3], np.int64), "ext_sparse_idx")
        graph.sparse_initializer.append(helper.make_sparse_tensor(values, indices, [4]))
        tensor = graph.sparse_initializer[-1].values
    elif where == "subgraph":
        inner = numpy_helper.from_array(np.ones(4, np.float32), "ext_inner")
        branch = helper.make_graph(
            [helper.make_node("Identity", ["ext_inner"], ["ext_out"])],
            "ext_branch",
            [],
            [helper.make_tensor_value_info("ext_out", TensorProto.FLOAT, [4])],
            [inner],
        )
        graph.initializer.append(numpy_helper.from_array(np.array(True), "ext_flag"))
        graph.node.append(
            helper.make_node("If", ["ext_flag"], ["ext_if"], then_branch=branch, else_branch=branch)
        )
        graph.output.append(helper.make_tensor_value_info("ext_if", TensorProto.FLOAT, [4]))
        tensor = graph.node[-1].attribute[0].g.initializer[0]
    else:
        inits = [t for t in graph.initializer if t.dims]
        if not inits:
            return _external_tensor(ctx, model, "constant")
        tensor = ctx.rng.choice(inits)
    tensor.data_location = TensorProto.EXTERNAL
    for name in ("raw_data", "float_data", "int64_data", "int32_data", "double_data"):
        tensor.ClearField(name)
    return tensor


def _set_location(tensor: TensorProto, location: str, offset=0, length=None) -> None:
    del tensor.external_data[:]
    tensor.external_data.add(key="location", value=location)
    if offset is not None:
        tensor.external_data.add(key="offset", value=str(offset))
    if length is not None:
        tensor.external_data.add(key="length", value=str(length))


def _where(ctx: Context) -> str:
    return ctx.rng.choice(["initializer", "initializer", "constant", "sparse", "subgraph"])


def external_escape(ctx: Context) -> str:
    """External data that points at the canary outside the folder, four ways."""
    model = ctx.proto()
    where = _where(ctx)
    tensor = _external_tensor(ctx, model, where)
    canary = ctx.canary
    rel = os.path.relpath(canary, ctx.folder)
    what = ctx.rng.choice(["absolute", "dotdot", "dotdot-hidden", "symlink", "symlink-dir"])
    if what == "absolute":
        location = str(canary)
    elif what == "dotdot":
        location = rel
    elif what == "dotdot-hidden":
        location = ctx.rng.choice(
            ["sub/../" + rel, "./" + rel, rel.replace("/", "\\"), "sub/../../" + rel]
        )
        (ctx.folder / "sub").mkdir(exist_ok=True)
    elif what == "symlink":
        os.symlink(canary, ctx.folder / "weights.bin")
        location = "weights.bin"
    else:
        os.symlink(canary.parent, ctx.folder / "shared")
        location = f"shared/{canary.name}"
    _set_location(tensor, location, 0, ctx.rng.choice([None, 16]))
    ctx.save(model)
    return f"external data of a {where} tensor escapes the folder ({what}: {location!r})"


def external_malformed(ctx: Context) -> str:
    model = ctx.proto()
    where = _where(ctx)
    tensor = _external_tensor(ctx, model, where)
    size = 4096
    (ctx.folder / "w.bin").write_bytes(b"\0" * size)
    what = ctx.rng.choice(
        [
            "empty", "dot", "folder", "nul", "long", "url", "drive", "tilde", "percent",
            "missing", "neg-offset", "huge-offset", "huge-length", "text-offset", "short",
            "no-location", "self",
        ]
    )  # fmt: skip
    offset: object = 0
    length: object = 16
    location = "w.bin"
    if what == "empty":
        location = ""
    elif what == "dot":
        location = "."
    elif what == "folder":
        (ctx.folder / "adir").mkdir()
        location = "adir"
    elif what == "nul":
        location = "w.bin\x00../../etc/passwd"
    elif what == "long":
        location = "a" * 5000
    elif what == "url":
        location = "file:///etc/passwd"
    elif what == "drive":
        location = "C:\\Windows\\win.ini"
    elif what == "tilde":
        location = "~/.bashrc"
    elif what == "percent":
        location = "%2e%2e/%2e%2e/etc/passwd"
    elif what == "missing":
        location = "nope.bin"
    elif what == "neg-offset":
        offset = -16
    elif what == "huge-offset":
        offset = 2**62
    elif what == "huge-length":
        length = 2**62
    elif what == "text-offset":
        offset = "12abc"
    elif what == "short":
        length = size * 4
    elif what == "self":
        location = ctx.model_name
    if what == "no-location":
        del tensor.external_data[:]
    else:
        _set_location(tensor, location, offset, length)
    ctx.save(model)
    return f"malformed external data on a {where} tensor ({what})"


def external_valid(ctx: Context) -> str:
    """A correct model with its weights in a file next to it: must pass."""
    from onnx.external_data_helper import convert_model_to_external_data

    model = ctx.proto()
    convert_model_to_external_data(
        model, all_tensors_to_one_file=True, location="weights.data", size_threshold=0
    )
    onnx.save_model(model, str(ctx.model_path))  # writes weights.data beside the model
    return "valid external data next to the model"


def hostile_filename(ctx: Context) -> str:
    """A model whose file name is hostile (and whose content is broken half of the time)."""
    name = ctx.hostile().replace("/", "%2F").replace("\x00", "")
    ctx.model_name = f"{ctx.case_id} {name}.onnx"
    if ctx.rng.random() < 0.5:
        ctx.write(ctx.base_bytes[: len(ctx.base_bytes) // 2])
        return "hostile file name, truncated content"
    ctx.write(ctx.base_bytes)
    return "hostile file name"


#: name -> (mutation, weight, for in-memory protos too)
MUTATIONS: dict[str, tuple[Mutation, float, bool]] = {
    "truncate": (truncate, 6, False),
    "flip": (flip, 8, False),
    "splice": (splice, 3, False),
    "garbage_tail": (garbage_tail, 2, False),
    "not_onnx": (not_onnx, 2, False),
    "special_file": (special_file, 1.5, False),
    "oversize": (oversize, 0.5, False),
    "shape_wrong": (shape_wrong, 6, True),
    "initializer_dims": (initializer_dims, 5, True),
    "dangling": (dangling, 4, True),
    "cycle": (cycle, 3, True),
    "unknown_op": (unknown_op, 4, True),
    "future": (future, 3, True),
    "huge_attribute": (huge_attribute, 5, True),
    "runaway": (runaway, 4, True),
    "element_type": (element_type, 3, True),
    "duplicates": (duplicates, 3, True),
    "deep": (deep, 1.5, True),
    "metadata": (metadata, 3, True),
    "random_fields": (random_fields, 10, True),
    "external_escape": (external_escape, 6, True),
    "external_malformed": (external_malformed, 5, True),
    "external_valid": (external_valid, 1, False),
    "hostile_filename": (hostile_filename, 2, False),
}
