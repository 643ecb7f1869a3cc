"""Hostile and broken models, one builder per input the gate must survive.

Each builder returns the bytes of a model file (or writes extra files next to it); the tests
write them into a pytester project and evaluate each in its own test.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
from modelgen import conv_model, with_external_location
from onnx import TensorProto, helper, numpy_helper


def _bytes(model: onnx.ModelProto) -> bytes:
    return model.SerializeToString()


def truncated(folder: Path) -> bytes:
    data = _bytes(conv_model())
    return data[: len(data) // 3]


def byte_flips(folder: Path) -> bytes:
    data = bytearray(_bytes(conv_model()))
    for i in range(0, len(data), 97):  # a flip every 97 bytes, tags and lengths included
        data[i] ^= 0x5A
    return bytes(data)


def invalid_utf8(folder: Path) -> bytes:
    """One flipped byte in the graph's name: proto2 parses it, the text is not UTF-8."""
    data = _bytes(conv_model())
    assert data.count(b"tiny_conv") == 1
    return data.replace(b"tiny_conv", b"tiny\xecconv")


def _input_dims(dims: list[int]) -> Callable[[Path], bytes]:
    def build(folder: Path) -> bytes:
        model = conv_model()
        shape = model.graph.input[0].type.tensor_type.shape
        for d, value in zip(shape.dim, dims, strict=True):
            d.dim_value = value
        return _bytes(model)

    return build


def wrong_shape(folder: Path) -> bytes:
    """The input declares 5 channels; the Conv weight expects 3."""
    return _input_dims([1, 5, 16, 16])(folder)


zero_dims = _input_dims([0, 3, 16, 16])
negative_dims = _input_dims([1, 3, -16, 16])
enormous_dims = _input_dims([2**40, 3, 2**20, 2**20])


def dangling_input(folder: Path) -> bytes:
    model = conv_model()
    model.graph.node[1].input[0] = "nowhere"
    return _bytes(model)


def cycle(folder: Path) -> bytes:
    model = conv_model()
    model.graph.node[1].input[0] = model.graph.node[3].output[0]  # relu <- flatten <- ... relu
    return _bytes(model)


def unknown_operator(folder: Path) -> bytes:
    model = conv_model()
    model.graph.node[1].op_type = "NoSuchOp"
    return _bytes(model)


def unknown_domain(folder: Path) -> bytes:
    model = conv_model()
    model.graph.node[1].domain = "com.example.private"
    model.opset_import.add(domain="com.example.private", version=1)
    return _bytes(model)


def custom_op_library_domain(folder: Path) -> bytes:
    """An operator from onnxruntime-extensions' domain: needs a custom op library."""
    model = conv_model()
    model.graph.node[1].op_type = "GaussianBlur"
    model.graph.node[1].domain = "ai.onnx.contrib"
    model.opset_import.add(domain="ai.onnx.contrib", version=1)
    return _bytes(model)


def future_opset(folder: Path) -> bytes:
    model = conv_model()
    model.opset_import[0].version = 99
    return _bytes(model)


def future_ir(folder: Path) -> bytes:
    model = conv_model()
    model.ir_version = 99
    return _bytes(model)


def huge_attribute(folder: Path) -> bytes:
    model = conv_model()
    conv = model.graph.node[0]
    del conv.attribute[:]
    conv.attribute.append(helper.make_attribute("kernel_shape", [2**40, 2**40]))
    conv.attribute.append(helper.make_attribute("strides", [0, -1]))
    conv.attribute.append(helper.make_attribute("pads", [2**62] * 4))
    return _bytes(model)


def runaway_allocation(folder: Path) -> bytes:
    """A valid model whose one node asks for 2**36 floats (256 GB) at run time."""
    shape = numpy_helper.from_array(np.array([2**18, 2**18], np.int64), "shape")
    graph = helper.make_graph(
        [helper.make_node("Expand", ["x", "shape"], ["y"])],
        "runaway",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2**18, 2**18])],
        [shape],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return _bytes(model)


def _canary(folder: Path) -> Path:
    """The file outside the model's folder that external data points at."""
    return folder.parent.parent / "outside" / "secret.bin"


def external_absolute(folder: Path) -> bytes:
    return _bytes(with_external_location(conv_model(), str(_canary(folder))))


def external_dotdot(folder: Path) -> bytes:
    rel = os.path.relpath(_canary(folder), folder)
    return _bytes(with_external_location(conv_model(), rel))


def external_hidden_dotdot(folder: Path) -> bytes:
    (folder / "sub").mkdir()
    rel = os.path.relpath(_canary(folder), folder)
    return _bytes(with_external_location(conv_model(), "sub/../" + rel))


def external_symlink(folder: Path) -> bytes:
    os.symlink(_canary(folder), folder / "weights.bin")
    return _bytes(with_external_location(conv_model(), "weights.bin"))


def external_symlinked_folder(folder: Path) -> bytes:
    os.symlink(_canary(folder).parent, folder / "shared")
    return _bytes(with_external_location(conv_model(), "shared/secret.bin"))


#: name -> (builder, what a static evaluation's failure must say, the same for a run).
#: ``None``: the model may pass (the static analysis is lenient: it counts what it can and
#: notes the rest; onnxruntime is the judge of validity when the model is run); ``""``: it
#: must fail, naming the file.
MODELS: dict[str, tuple[Callable[[Path], bytes], str | None, str | None]] = {
    "truncated": (truncated, "truncated or corrupt", "truncated or corrupt"),
    "byte_flips": (byte_flips, "", ""),
    "invalid_utf8": (invalid_utf8, "not valid UTF-8", "not valid UTF-8"),
    "wrong_shape": (wrong_shape, None, "Input channels C is not equal to kernel channels"),
    "zero_dims": (zero_dims, None, None),
    "negative_dims": (negative_dims, None, None),
    "enormous_dims": (enormous_dims, "device RAM", "inputs do not fit"),
    "dangling_input": (dangling_input, "nowhere", "nowhere"),
    "cycle": (cycle, "", ""),
    "unknown_operator": (unknown_operator, "NoSuchOp", "NoSuchOp"),
    "unknown_domain": (unknown_domain, None, "com.example.private"),
    "custom_op_library_domain": (custom_op_library_domain, None, "ai.onnx.contrib"),
    "future_opset": (future_opset, None, ""),
    "future_ir": (future_ir, None, ""),
    "huge_attribute": (huge_attribute, None, "strides"),
    "runaway_allocation": (runaway_allocation, "device RAM", "out of memory"),
    "external_absolute": (external_absolute, "is an absolute path", "is an absolute path"),
    "external_dotdot": (external_dotdot, "contains '..'", "contains '..'"),
    "external_hidden_dotdot": (external_hidden_dotdot, "contains '..'", "contains '..'"),
    "external_symlink": (external_symlink, "outside the model's folder", "outside the model"),
    "external_symlinked_folder": (
        external_symlinked_folder,
        "outside the model's folder",
        "outside the model's folder",
    ),
}
