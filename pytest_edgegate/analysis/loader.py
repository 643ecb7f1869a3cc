"""Read an ``.onnx`` file safely: size limit, parse, external data, checker.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/analysis/loader.py``.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import stat
from collections.abc import Iterator
from typing import Any

import onnx
from google.protobuf.message import DecodeError
from onnx import AttributeProto, GraphProto, ModelProto, TensorProto

from ..errors import ModelError
from .dtypes import nbytes
from .records import LoadedModel

_ML_DOMAIN = "ai.onnx.ml"
_UNCHECKED_ML_DOMAIN = "edgegate.unchecked.ai.onnx.ml"
_DRIVE = re.compile(r"^[A-Za-z]:")


def load_model(
    path: str | os.PathLike[str], *, max_bytes: int = 2_000_000_000, check: bool = True
) -> LoadedModel:
    """Read, validate and return the model at ``path`` (external tensors left unloaded).

    ``max_bytes`` bounds the ``.onnx`` file itself; a larger file is refused before it is
    opened.  ``check`` runs ``onnx.checker`` (tolerating the checker's known quirks on
    ``ai.onnx.ml`` models and on IR versions newer than the installed onnx, with a warning).
    """
    p, data = read_model_file(path, max_bytes, "an ONNX model file (.onnx)")
    proto = parse_model_bytes(data, p)
    external_files, external_bytes = (
        validate_external_data(proto, os.path.dirname(os.path.abspath(p)), p)
        if may_hold_external(data)
        else ((), 0)
    )
    warnings: list[str] = []
    if check:
        run_checker(proto, p, warnings, None if external_files else data)
    return LoadedModel(
        path=p,
        proto=proto,
        file_bytes=len(data) + external_bytes,
        sha256=hashlib.sha256(data).hexdigest(),
        external_files=external_files,
        name=os.path.basename(p),
        warnings=tuple(warnings),
    )


def read_model_file(
    path: str | os.PathLike[str], max_bytes: int, expected: str
) -> tuple[str, bytes]:
    """The path as a string and the file's bytes, refusing a missing, special, empty or
    too large file (checked with ``stat`` before a byte is read); ``expected`` says what
    kind of file the messages ask for."""
    try:
        p = os.fspath(path)
    except TypeError:
        raise ModelError(
            repr(path),
            f"expected a path to {expected} (str or os.PathLike), got {type(path).__name__}",
        ) from None
    if not isinstance(p, str):
        p = os.fsdecode(p)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise ModelError(p, f"no such file; expected {expected}") from None
    except OSError as exc:
        raise ModelError(p, f"cannot access the model file: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise ModelError(p, f"is a directory; expected {expected}")
    if not stat.S_ISREG(st.st_mode):
        raise ModelError(p, f"is not a regular file; expected {expected}")
    if st.st_size > max_bytes:
        raise ModelError(
            p,
            f"model file is {st.st_size:,} bytes, over the limit of {max_bytes:,} bytes "
            "(max_bytes; in pytest, --edge-max-model-mb / ini edge_max_model_mb); refused "
            "without reading it",
        )
    if st.st_size == 0:
        raise ModelError(p, f"is empty; expected {expected}")
    try:
        data = _read_bounded(p, st.st_size, max_bytes + 1)
    except OSError as exc:
        raise ModelError(p, f"cannot read the model file: {exc.strerror}") from None
    if len(data) > max_bytes:  # the file grew after stat
        raise ModelError(p, f"model file is over the limit of {max_bytes:,} bytes (max_bytes)")
    return p, data


def _read_bounded(path: str, expected: int, limit: int) -> bytes:
    """The file's bytes, at most ``limit`` of them.

    The first read is sized by ``expected`` (the size ``stat`` gave), not by the limit: a
    read of n bytes allocates n up front (2 GB); a file that grew since is read on, in
    chunks, up to the limit.  Plain ``os`` calls: no buffered file object is built around a
    read that takes the whole file at once (a fixed cost every model load pays).
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        chunks = [os.read(fd, min(limit, expected + 1))]
        got = len(chunks[0])
        while chunks[-1] and got < limit and got != expected:  # short read, or the file grew
            chunks.append(os.read(fd, min(limit - got, 1 << 20)))
            got += len(chunks[-1])
    finally:
        os.close(fd)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def parse_model_bytes(data: bytes, source: str) -> ModelProto:
    """Parse serialized bytes into a ``ModelProto`` or say why they are not one."""
    try:
        proto = ModelProto()
        # What onnx.load does with bytes (parse, then refuse trailing bytes), without the
        # format lookups around it: every model pays for this once.
        decoded = proto.ParseFromString(data)
        if decoded is not None and decoded != len(data):
            raise DecodeError(f"decoding consumed {decoded} of {len(data)} bytes")
    except Exception as exc:  # DecodeError, or RuntimeError from some protobuf backends
        # A serialized ModelProto starts with its ir_version field (tag 0x08).
        looks_onnx = data[:1] == b"\x08"
        what = (
            "looks like an ONNX model but cannot be parsed: the file is truncated or corrupt"
            if looks_onnx
            else "is not an ONNX model: the bytes do not parse as a protobuf ModelProto"
        )
        raise ModelError(source, f"{what} ({type(exc).__name__}: {exc})") from None
    # Protobuf parsing is lenient: arbitrary bytes can decode as unknown fields.
    if proto.ir_version <= 0 or not proto.HasField("graph"):
        raise ModelError(
            source,
            "is not an ONNX model: it has no ir_version or no graph "
            "(expected a serialized onnx ModelProto)",
        )
    check_text_fields(proto, source, data)
    return proto


def check_text_fields(proto: ModelProto, source: str, data: bytes | None = None) -> None:
    """Refuse a model whose text fields (names, doc strings, ...) are not valid UTF-8.

    ONNX's protos are proto2, whose parser accepts such bytes: the field then reads back as
    ``bytes`` instead of ``str`` and fails wherever it is copied or formatted (a flipped byte
    in a graph name is enough).  ``data``, the bytes ``proto`` was parsed from, is checked by
    protobuf's own (C) parser through a proto3 twin of ONNX's schema, which validates UTF-8;
    without it, or for a file over ``_TWIN_MAX_BYTES`` (the twin copies the weights), one
    walk over the messages does.  Only a model that fails pays for the walk that names the
    field.
    """
    twin = _proto3_twin() if data is not None and len(data) <= _TWIN_MAX_BYTES else None
    if twin is not None:
        try:
            twin.FromString(data)
            return
        except DecodeError:
            pass  # bad UTF-8 somewhere (or a quirk of the twin): the walk below decides
    elif not _has_bytes_text(proto):
        return
    stack: list[tuple[str, Any]] = [("model", proto)]
    while stack:
        path, message = stack.pop()
        for field, value in message.ListFields():
            if field.type == field.TYPE_MESSAGE:
                if _is_repeated(field):
                    stack.extend((f"{path}.{field.name}[{i}]", v) for i, v in enumerate(value))
                else:
                    stack.append((f"{path}.{field.name}", value))
            elif field.type == field.TYPE_STRING:
                values = value if _is_repeated(field) else [value]
                if any(isinstance(v, bytes) for v in values):
                    raise ModelError(
                        source,
                        f"text field {path}.{field.name} is not valid UTF-8: the file is "
                        "corrupt (expected an ONNX model written by an ONNX exporter)",
                    )


#: Largest file checked through the proto3 twin, which parses (copies) it once more.
_TWIN_MAX_BYTES = 64_000_000


@functools.lru_cache(maxsize=1)
def _proto3_twin() -> Any:
    """``ModelProto`` of a proto3 copy of ONNX's schema, whose parser rejects bad UTF-8;
    None if this onnx/protobuf cannot build it (the walk is used then)."""
    try:
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

        schema = descriptor_pb2.FileDescriptorProto.FromString(
            ModelProto.DESCRIPTOR.file.serialized_pb
        )
        schema.syntax = "proto3"
        schema.name = f"edgegate_utf8_twin/{schema.name}"
        pool = descriptor_pool.DescriptorPool()
        pool.Add(schema)
        descriptor = pool.FindMessageTypeByName(ModelProto.DESCRIPTOR.full_name)
        if hasattr(message_factory, "GetMessageClass"):
            return message_factory.GetMessageClass(descriptor)
        return message_factory.MessageFactory(pool).GetPrototype(descriptor)
    except Exception:
        return None


#: Field descriptor -> what the walk does with it (see ``_field_kind``).
_FIELD_KINDS: dict[Any, int] = {}
_SKIP, _MESSAGE, _MESSAGES, _TEXT, _TEXTS = range(5)


def _field_kind(field: Any) -> int:
    repeated = _is_repeated(field)
    if field.type == field.TYPE_MESSAGE:
        return _MESSAGES if repeated else _MESSAGE
    if field.type == field.TYPE_STRING:
        return _TEXTS if repeated else _TEXT
    return _SKIP


def _has_bytes_text(proto: ModelProto) -> bool:
    """True when some string field of ``proto`` (at any depth) reads back as ``bytes``."""
    kinds = _FIELD_KINDS
    stack: list[Any] = [proto]
    pop, push, push_all = stack.pop, stack.append, stack.extend
    while stack:
        for field, value in pop().ListFields():
            kind = kinds.get(field)
            if kind is None:
                kind = kinds[field] = _field_kind(field)
            if kind == _MESSAGES:
                push_all(value)
            elif kind == _MESSAGE:
                push(value)
            elif kind == _TEXT:
                if value.__class__ is bytes:
                    return True
            elif kind == _TEXTS and bytes in map(type, value):
                return True
    return False


def _is_repeated(field: Any) -> bool:
    if hasattr(field, "is_repeated"):  # protobuf >= 5.x; ``label`` is deprecated there
        return bool(field.is_repeated)
    return field.label == field.LABEL_REPEATED


# ----------------------------------------------------------------------------- external data


def iter_graph_tensors(graph: GraphProto) -> Iterator[TensorProto]:
    """Every tensor stored in ``graph``: initializers and node attributes, subgraphs included."""
    yield from graph.initializer
    for sparse in graph.sparse_initializer[:]:
        yield sparse.values
        yield sparse.indices
    # Most attributes are ints or floats: only those that can hold a tensor are walked.
    kinds = _TENSOR_KINDS
    holders = [a for node in graph.node[:] for a in node.attribute[:] if a.type in kinds]
    if holders:
        yield from _iter_attribute_tensors(holders)


_TENSOR_KINDS = frozenset(
    (
        AttributeProto.TENSOR,
        AttributeProto.TENSORS,
        AttributeProto.SPARSE_TENSOR,
        AttributeProto.GRAPH,
        AttributeProto.GRAPHS,
    )
)


def _iter_attribute_tensors(attributes) -> Iterator[TensorProto]:
    for attr in attributes:
        kind = attr.type
        if kind == AttributeProto.TENSOR:
            yield attr.t
        elif kind == AttributeProto.TENSORS:
            yield from attr.tensors
        elif kind == AttributeProto.SPARSE_TENSOR:
            yield attr.sparse_tensor.values
            yield attr.sparse_tensor.indices
        elif kind == AttributeProto.GRAPH:
            yield from iter_graph_tensors(attr.g)
        elif kind == AttributeProto.GRAPHS:
            for g in attr.graphs[:]:
                yield from iter_graph_tensors(g)


def external_tensors(proto: ModelProto) -> list[TensorProto]:
    """The tensors of ``proto`` stored outside the file: what :func:`iter_model_tensors`
    yields with ``data_location == EXTERNAL``, found in one flat pass (every model is
    checked on load, and most have none)."""
    external = TensorProto.EXTERNAL
    found: list[TensorProto] = []
    graphs: list[GraphProto] = [proto.graph]
    functions = [a for f in proto.functions[:] for node in f.node[:] for a in node.attribute[:]]
    while graphs or functions:
        if graphs:
            graph = graphs.pop()
            found += [t for t in graph.initializer[:] if t.data_location == external]
            for sparse in graph.sparse_initializer[:]:
                found += [t for t in (sparse.values, sparse.indices) if t.data_location == external]
            kinds = _TENSOR_KINDS
            holders = [a for node in graph.node[:] for a in node.attribute[:] if a.type in kinds]
        else:  # the model-local functions' attributes, once every graph is done
            holders, functions = functions, []
        for attr in holders:
            kind = attr.type
            if kind == AttributeProto.TENSOR:
                tensors = [attr.t]
            elif kind == AttributeProto.TENSORS:
                tensors = list(attr.tensors)
            elif kind == AttributeProto.SPARSE_TENSOR:
                tensors = [attr.sparse_tensor.values, attr.sparse_tensor.indices]
            elif kind == AttributeProto.GRAPH:
                graphs.append(attr.g)
                continue
            elif kind == AttributeProto.GRAPHS:
                graphs.extend(attr.graphs)
                continue
            else:
                continue
            found += [t for t in tensors if t.data_location == external]
    return found


#: A tensor stored outside the file has ``data_location`` (field 14, varint) = EXTERNAL (1):
#: its serialized bytes hold the tag 0x70, then 0x01 or, written non-minimally, 0x81.
_EXTERNAL_MARKS = (b"\x70\x01", b"\x70\x81", b"location")
#: Files up to this size are searched; a larger one (its weights inside) is walked, as the
#: search would then cost more than the walk it spares.
_SEARCH_MAX_BYTES = 1 << 20


def may_hold_external(data: bytes) -> bool:
    """False only when no tensor of the serialized model ``data`` can be external: neither
    the ``data_location = EXTERNAL`` field nor the key ``location`` (a string, so written
    byte for byte) is in the bytes.  Most small models hold neither, and a search of the
    bytes in C spares the walk over every tensor; a file that hides the field behind an
    over-long tag still has no location to open (and the checker refuses an external tensor
    without one)."""
    return len(data) > _SEARCH_MAX_BYTES or any(mark in data for mark in _EXTERNAL_MARKS)


def iter_model_tensors(proto: ModelProto) -> Iterator[TensorProto]:
    """Every tensor of the model, including those inside model-local functions."""
    yield from iter_graph_tensors(proto.graph)
    for function in proto.functions[:]:
        for node in function.node[:]:
            yield from _iter_attribute_tensors(node.attribute)


def external_info(tensor: TensorProto) -> dict[str, str]:
    return {entry.key: entry.value for entry in tensor.external_data}


def resolve_external_location(location: str, base_dir: str, tensor: str, source: str) -> str:
    """The real path of an external data file, after refusing unsafe locations.

    Only string checks and ``os.path.realpath`` (which follows symlinks without opening the
    target) are used, so a refused location is never opened.
    """
    if not location:
        raise ModelError(source, f"external data of tensor '{tensor}' has no location")
    if os.path.isabs(location) or location.startswith(("/", "\\")) or _DRIVE.match(location):
        raise ModelError(
            source,
            f"external data location '{location}' of tensor '{tensor}' is an absolute "
            "path; expected a path relative to the model's folder. Refused, not opened",
        )
    if ".." in re.split(r"[\\/]", location):
        raise ModelError(
            source,
            f"external data location '{location}' of tensor '{tensor}' contains '..'; "
            "expected a file inside the model's folder. Refused, not opened",
        )
    real_base = os.path.realpath(base_dir)
    real = os.path.realpath(os.path.join(base_dir, location))
    if os.path.commonpath([real, real_base]) != real_base:
        raise ModelError(
            source,
            f"external data location '{location}' of tensor '{tensor}' resolves "
            f"(following symlinks) to '{real}', outside the model's folder '{real_base}'. "
            "Refused, not opened",
        )
    return real


def validate_external_data(
    proto: ModelProto, base_dir: str, source: str
) -> tuple[tuple[str, ...], int]:
    """Check every external tensor's file (location, existence, size) without opening it.

    Returns the external files (as written in the model, one per distinct file) and their
    total size in bytes.
    """
    sizes: dict[str, int] = {}
    names: dict[str, str] = {}
    for tensor in external_tensors(proto):
        info = external_info(tensor)
        location = info.get("location", "")
        real = resolve_external_location(location, base_dir, tensor.name, source)
        if real not in sizes:
            try:
                st = os.stat(real)
            except OSError:
                raise ModelError(
                    source,
                    f"external data file '{location}' of tensor '{tensor.name}' is "
                    f"missing; expected it next to the model in '{base_dir}'",
                ) from None
            if not stat.S_ISREG(st.st_mode):
                raise ModelError(
                    source,
                    f"external data location '{location}' of tensor '{tensor.name}' "
                    "is not a regular file",
                )
            sizes[real] = st.st_size
            names[real] = location
        try:
            offset = int(info.get("offset", "0") or 0)
            length = int(info["length"]) if info.get("length") else None
        except ValueError:
            raise ModelError(
                source,
                f"external data of tensor '{tensor.name}' has a non-integer offset or length",
            ) from None
        if length is None:
            elements = 1
            for d in tensor.dims[:]:
                elements *= d
            length = nbytes(elements, tensor.data_type)
        if offset < 0 or offset + length > sizes[real]:
            raise ModelError(
                source,
                f"external data file '{location}' is {sizes[real]:,} bytes but tensor "
                f"'{tensor.name}' needs bytes {offset:,}..{offset + length:,}: the file is "
                "truncated or does not belong to this model",
            )
    files = tuple(sorted(names.values()))
    return files, sum(sizes.values())


def read_external_tensor(tensor: TensorProto, base_dir: str, max_bytes: int) -> bytes | None:
    """Raw bytes of a small external tensor (shape data the analysis must see), else None.

    Used only for integer tensors of a few elements (a ``Reshape`` target shape, a ``Loop``
    trip count) whose location ``validate_external_data`` has already accepted.
    """
    info = external_info(tensor)
    try:
        real = resolve_external_location(info.get("location", ""), base_dir, tensor.name, "")
        offset = int(info.get("offset", "0") or 0)
        elements = 1
        for d in tensor.dims[:]:
            elements *= d
        length = int(info["length"]) if info.get("length") else nbytes(elements, tensor.data_type)
        if length > max_bytes:
            return None
        with open(real, "rb") as f:
            f.seek(offset)
            data = f.read(length)
    except (ModelError, OSError, ValueError):
        return None
    return data if len(data) == length else None


# ----------------------------------------------------------------------------------- checker


def _checker_copy(proto: ModelProto) -> ModelProto:
    """The proto to check: external tensors replaced by empty stand-ins (see module doc)."""
    if not any(t.data_location == TensorProto.EXTERNAL for t in iter_model_tensors(proto)):
        return proto
    copy = ModelProto()
    copy.CopyFrom(proto)
    for tensor in iter_model_tensors(copy):
        if tensor.data_location == TensorProto.EXTERNAL:
            tensor.data_location = TensorProto.DEFAULT
            del tensor.external_data[:]
            if tensor.dims:
                tensor.dims[0] = 0
            else:
                tensor.dims.append(0)
            tensor.raw_data = b""
    return copy


def iter_graphs(graph: GraphProto) -> Iterator[GraphProto]:
    """``graph``, then each subgraph of its nodes (``If``/``Loop``/``Scan`` bodies) in node
    order, depth first: every graph whose nodes, initializers or values a walk must see."""
    yield graph
    for node in graph.node[:]:
        for attr in node.attribute[:]:
            if attr.type == AttributeProto.GRAPH:
                yield from iter_graphs(attr.g)
            elif attr.type == AttributeProto.GRAPHS:
                for g in attr.graphs[:]:
                    yield from iter_graphs(g)


def _relaxed_copy(proto: ModelProto) -> tuple[ModelProto | None, list[str]]:
    """A copy without the checker's known quirks, and what was relaxed (None if nothing).

    * ``ai.onnx.ml`` nodes: the checker validates them against its own, possibly older,
      registry (e.g. onnx 1.14 knows ``ai.onnx.ml`` up to opset 3 while converters emit 4),
      so they are moved to a private domain the checker skips; onnxruntime remains the judge
      of those operators.
    * an IR version newer than the installed onnx: checked as the newest it knows.
    """
    notes: list[str] = []
    copy = ModelProto()
    copy.CopyFrom(proto)
    if copy.ir_version > onnx.IR_VERSION:
        notes.append(f"IR version {copy.ir_version} newer than onnx {onnx.__version__} knows")
        copy.ir_version = onnx.IR_VERSION
    ml_nodes = [n for g in iter_graphs(copy.graph) for n in g.node[:] if n.domain == _ML_DOMAIN]
    for function in copy.functions[:]:
        ml_nodes.extend(n for n in function.node[:] if n.domain == _ML_DOMAIN)
    if ml_nodes:
        notes.append(f"{len(ml_nodes)} ai.onnx.ml node(s)")
        for node in ml_nodes:
            node.domain = _UNCHECKED_ML_DOMAIN
        version = next((o.version for o in copy.opset_import[:] if o.domain == _ML_DOMAIN), 1)
        copy.opset_import.add(domain=_UNCHECKED_ML_DOMAIN, version=version)
    return (copy if notes else None), notes


def run_checker(
    proto: ModelProto, source: str, warnings: list[str], data: bytes | None = None
) -> None:
    """Run ``onnx.checker`` without loading external data; tolerate its known quirks.

    ``data``, the bytes ``proto`` was parsed from when it has no external tensors, spares
    serializing it again.
    """
    view = proto if data is not None else _checker_copy(proto)
    try:
        onnx.checker.check_model(data if data is not None else view)
        return
    except onnx.checker.ValidationError as exc:
        first = str(exc).strip()
    except Exception as exc:  # e.g. ValueError for a proto over 2 GB
        raise ModelError(source, f"cannot be checked by onnx.checker: {exc}") from None
    relaxed, notes = _relaxed_copy(view)
    if relaxed is not None:
        try:
            onnx.checker.check_model(relaxed)
        except onnx.checker.ValidationError as exc:
            first = str(exc).strip()  # an error that remains without the quirks
        else:
            warnings.append(
                f"onnx.checker {onnx.__version__} rejected the model only because of "
                f"{' and '.join(notes)} ({first.splitlines()[0]}); accepted, onnxruntime "
                "remains the judge of those parts"
            )
            return
    raise ModelError(source, f"is not a valid ONNX model: onnx.checker says: {first}")
