"""load_model: every way a model file can be wrong is a ModelError naming the file."""

from __future__ import annotations

import builtins
import hashlib
import os
import pathlib

import onnx
import pytest
from onnx import helper

from pytest_edgegate.analysis import LoadedModel, analyze, load_model
from pytest_edgegate.analysis import loader as loader_module
from pytest_edgegate.errors import ModelError

from . import builders as b


@pytest.fixture
def forbid_open(monkeypatch):
    """Make opening any of the registered paths fail the test (and record attempts)."""
    forbidden: set[str] = set()
    attempts: list[str] = []
    real_open, real_os_open = builtins.open, os.open

    def check(path) -> None:
        if isinstance(path, int):
            return
        real = os.path.realpath(os.fspath(path))
        if real in forbidden:
            attempts.append(real)
            raise AssertionError(f"{real} must not be opened")

    def guarded_open(file, *args, **kwargs):
        check(file)
        return real_open(file, *args, **kwargs)

    def guarded_os_open(path, *args, **kwargs):
        check(path)
        return real_os_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(os, "open", guarded_os_open)

    def add(path) -> list[str]:
        forbidden.add(os.path.realpath(os.fspath(path)))
        return attempts

    return add


def test_loads_a_model_and_describes_the_file():
    path = b.light("squeezenet")
    loaded = load_model(path)
    assert isinstance(loaded, LoadedModel)
    assert loaded.path == path
    assert loaded.name == "light_squeezenet.onnx"
    assert loaded.file_bytes == os.path.getsize(path)
    with open(path, "rb") as f:
        assert loaded.sha256 == hashlib.sha256(f.read()).hexdigest()
    assert loaded.external_files == ()
    assert loaded.warnings == ()
    assert isinstance(loaded.proto, onnx.ModelProto)


def test_accepts_pathlike(tmp_path):
    path = b.save(b.conv_model(), tmp_path / "m.onnx")
    assert load_model(pathlib.Path(path), check=False).path == path


def test_rejects_a_non_path():
    with pytest.raises(ModelError, match="expected a path"):
        load_model(12)  # type: ignore[arg-type]


def test_missing_file(tmp_path):
    path = tmp_path / "absent.onnx"
    with pytest.raises(ModelError, match="no such file; expected an ONNX model") as info:
        load_model(path)
    assert info.value.source == str(path)


def test_directory(tmp_path):
    with pytest.raises(ModelError, match="is a directory"):
        load_model(tmp_path)


def test_oversize_file_is_refused_before_it_is_read(tmp_path, forbid_open):
    path = b.save(b.conv_model(), tmp_path / "big.onnx")
    attempts = forbid_open(path)
    with pytest.raises(ModelError, match="over the limit of 100 bytes.*refused without reading"):
        load_model(path, max_bytes=100)
    assert attempts == []


def test_empty_file(tmp_path):
    path = tmp_path / "empty.onnx"
    path.write_bytes(b"")
    with pytest.raises(ModelError, match="is empty"):
        load_model(path)


def test_not_onnx_bytes(tmp_path):
    path = tmp_path / "notes.onnx"
    path.write_text("this is a text file, not a model")
    with pytest.raises(ModelError, match="is not an ONNX model") as info:
        load_model(path)
    assert info.value.source == str(path)


def test_protobuf_without_a_graph(tmp_path):
    path = tmp_path / "nograph.onnx"
    path.write_bytes(b"\x08\x07")  # a valid ModelProto holding only ir_version = 7
    with pytest.raises(ModelError, match="no ir_version or no graph"):
        load_model(path)


def test_truncated_real_model(tmp_path):
    data = pathlib.Path(b.light("resnet50")).read_bytes()
    path = tmp_path / "truncated.onnx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="truncated or corrupt"):
        load_model(path)


def test_checker_failure(tmp_path):
    node = helper.make_node("Relu", ["undefined_tensor"], ["Y"])
    m = b.model([node], [b.vi("X", (1, 4))], [b.vi("Y", (1, 4))])
    path = b.save(m, tmp_path / "bad.onnx")
    with pytest.raises(ModelError, match="not a valid ONNX model: onnx.checker says") as info:
        load_model(path)
    assert "undefined_tensor" in str(info.value)
    assert load_model(path, check=False).proto.graph.node[0].op_type == "Relu"


# ------------------------------------------------------------------------------ external data


def test_external_data_is_validated_counted_and_not_read(tmp_path, monkeypatch, forbid_open):
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    path = b.external_model(model_dir, "weights.bin")
    attempts = forbid_open(model_dir / "weights.bin")
    # From another working directory: onnx.checker on a proto would resolve "weights.bin"
    # against the cwd and reject the model; the loader must not.
    monkeypatch.chdir(tmp_path)
    loaded = load_model(path)
    assert loaded.external_files == ("weights.bin",)
    assert loaded.file_bytes == os.path.getsize(path) + 432
    assert loaded.warnings == ()
    result = analyze(loaded)
    assert result.params == 108
    assert result.macs == 4 * 6 * 6 * 27
    assert attempts == []


def test_small_external_shape_data_is_used_but_weights_are_not_read(tmp_path, forbid_open):
    # Shape vectors can be external too (size_threshold=0): the analysis reads those few
    # int64 values (after validating their location) to resolve shapes; weights stay unread.
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["m"]),
        helper.make_node("Reshape", ["m", "shape"], ["y"]),
    ]
    w = b.externalize(b.init("W", (4, 6)), tmp_path, "weights.bin")
    shape = b.externalize(b.ints("shape", [3, 4]), tmp_path, "shape.bin")
    m = b.model(nodes, [b.vi("x", (2, 4))], [b.vi("y", (3, 4))], [w, shape])
    path = b.save(m, tmp_path / "model.onnx")
    attempts = forbid_open(tmp_path / "weights.bin")
    loaded = load_model(path)
    assert loaded.external_files == ("shape.bin", "weights.bin")
    result = analyze(loaded)
    assert result.nodes[1].output_shapes == ((3, 4),)
    assert result.params == 24
    assert result.macs == 48
    assert attempts == []


def test_external_data_absolute_path_refused(tmp_path, forbid_open):
    outside = tmp_path / "secret.bin"
    outside.write_bytes(b"\0" * 432)
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    path = b.external_model(model_dir, str(outside), write_data=False)
    attempts = forbid_open(outside)
    with pytest.raises(ModelError, match="is an absolute path.*Refused, not opened") as info:
        load_model(path)
    assert info.value.source == path
    assert attempts == []


@pytest.mark.parametrize("location", ["../secret.bin", "sub/../../secret.bin", "..\\secret.bin"])
def test_external_data_dotdot_refused(tmp_path, forbid_open, location):
    outside = tmp_path / "secret.bin"
    outside.write_bytes(b"\0" * 432)
    model_dir = tmp_path / "model"
    (model_dir / "sub").mkdir(parents=True)
    path = b.external_model(model_dir, location, write_data=False)
    attempts = forbid_open(outside)
    with pytest.raises(ModelError, match=r"contains '\.\.'"):
        load_model(path)
    assert attempts == []


def test_external_data_symlink_escaping_the_folder_is_never_opened(tmp_path, forbid_open):
    outside_dir = tmp_path / "outside"
    outside_dir.mkdir()
    secret = outside_dir / "weights.bin"
    secret.write_bytes(b"\0" * 432)
    secret.chmod(0)  # unreadable too (effective when not running as root)
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "link").symlink_to(outside_dir, target_is_directory=True)
    (model_dir / "weights.bin").symlink_to(secret)
    attempts = forbid_open(secret)
    for location in ("link/weights.bin", "weights.bin"):
        path = b.external_model(model_dir, location, write_data=False)
        with pytest.raises(ModelError, match="outside the model's folder.*not opened"):
            load_model(path)
    assert attempts == []
    secret.chmod(0o600)


def test_external_data_symlink_inside_the_folder_is_fine(tmp_path):
    model_dir = tmp_path / "model"
    (model_dir / "data").mkdir(parents=True)
    (model_dir / "data" / "w.bin").write_bytes(b"\0" * 432)
    (model_dir / "alias.bin").symlink_to(model_dir / "data" / "w.bin")
    path = b.external_model(model_dir, "alias.bin", write_data=False)
    assert load_model(path).file_bytes == os.path.getsize(path) + 432


def test_external_data_missing(tmp_path):
    path = b.external_model(tmp_path, "weights.bin", write_data=False)
    with pytest.raises(ModelError, match="'weights.bin' of tensor 'W' is missing"):
        load_model(path)


def test_external_data_too_short(tmp_path):
    path = b.external_model(tmp_path, "weights.bin", data_bytes=100)
    with pytest.raises(ModelError, match="is 100 bytes but tensor 'W' needs bytes 0..432"):
        load_model(path)


# ------------------------------------------------------------------- checker quirks, domains


def test_ai_onnx_ml_model_passes(tmp_path):
    path = b.save(b.tree_classifier_model(), tmp_path / "tree.onnx")
    loaded = load_model(path)
    assert loaded.warnings == ()


def test_com_microsoft_model_passes(tmp_path):
    path = b.save(b.fused_conv_model(), tmp_path / "fused.onnx")
    assert load_model(path).warnings == ()


def test_ir_version_newer_than_the_checker_is_tolerated(tmp_path):
    m = b.conv_model()
    m.graph.output[0].CopyFrom(b.vi("Y", (1, 4, 6, 6)))
    m.ir_version = onnx.IR_VERSION + 1
    path = b.save(m, tmp_path / "future.onnx")
    loaded = load_model(path)
    assert len(loaded.warnings) == 1
    assert f"IR version {onnx.IR_VERSION + 1}" in loaded.warnings[0]
    assert loaded.warnings[0] in analyze(loaded).warnings


_REAL_CHECK_MODEL = onnx.checker.check_model


def _checker_without_ml_opset_4(model, *args, **kwargs):
    """onnx.checker as an onnx release that predates ai.onnx.ml opset 4 behaves."""
    proto = onnx.load_from_string(model) if isinstance(model, bytes) else model
    if any(n.domain == "ai.onnx.ml" for n in proto.graph.node):
        raise onnx.checker.ValidationError(
            "No Op registered for TreeEnsembleClassifier with domain_version of 4"
        )
    return _REAL_CHECK_MODEL(model, *args, **kwargs)


def test_ml_checker_quirk_is_tolerated_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(loader_module.onnx.checker, "check_model", _checker_without_ml_opset_4)
    path = b.save(b.tree_classifier_model(ml_opset=4), tmp_path / "tree.onnx")
    loaded = load_model(path)
    assert len(loaded.warnings) == 1
    assert "ai.onnx.ml node(s)" in loaded.warnings[0]
    assert "No Op registered for TreeEnsembleClassifier" in loaded.warnings[0]


def test_ml_relaxation_does_not_hide_other_errors(tmp_path, monkeypatch):
    monkeypatch.setattr(loader_module.onnx.checker, "check_model", _checker_without_ml_opset_4)
    m = b.tree_classifier_model(ml_opset=4)
    m.graph.node.append(helper.make_node("Relu", ["nowhere"], ["extra"]))
    path = b.save(m, tmp_path / "tree.onnx")
    with pytest.raises(ModelError, match="nowhere"):
        load_model(path)
