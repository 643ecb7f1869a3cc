"""load_model reads only the file's own size, and finds text that is not UTF-8 at C speed
(the proto3 twin of ONNX's schema) or, past the twin's size limit, by its walk."""

from __future__ import annotations

import tracemalloc

import pytest
from onnx import helper

from pytest_edgegate.analysis import load_model
from pytest_edgegate.analysis import loader as loader_module
from pytest_edgegate.errors import ModelError

from . import builders as b


def _model():
    conv = helper.make_node("Conv", ["X", "W"], ["Y"])
    return b.model(
        [conv],
        [b.vi("X", (1, 3, 8, 8))],
        [b.vi("Y", (1, 4, 6, 6))],
        [b.init("W", (4, 3, 3, 3))],
        name="tiny_conv",
    )


def test_reading_allocates_the_file_not_the_limit(tmp_path) -> None:
    path = b.save(_model(), tmp_path / "m.onnx")
    load_model(path)
    tracemalloc.start()
    try:
        load_model(path)  # max_bytes is 2 GB: read(max_bytes + 1) used to allocate it all
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000


def test_a_file_that_grows_after_stat_is_still_bounded(tmp_path, monkeypatch) -> None:
    path = b.save(_model(), tmp_path / "m.onnx")
    size = (tmp_path / "m.onnx").stat().st_size
    real_stat = loader_module.os.stat

    def stale_stat(p, *args, **kwargs):
        st = real_stat(p, *args, **kwargs)
        if str(p) == path:  # as if the file grew by 100 bytes between stat and read
            return type(st)((st.st_mode, *st[1:6], st.st_size - 100, *st[7:]))
        return st

    monkeypatch.setattr(loader_module.os, "stat", stale_stat)
    assert load_model(path).file_bytes == size  # read in full, past the stat size
    with pytest.raises(ModelError, match="over the limit"):
        load_model(path, max_bytes=size - 50)


def _bad_utf8(tmp_path):
    data = _model().SerializeToString()
    assert data.count(b"tiny_conv") == 1
    path = tmp_path / "bad.onnx"
    path.write_bytes(data.replace(b"tiny_conv", b"tiny\xffconv"))
    return str(path)


@pytest.mark.parametrize("twin", [True, False], ids=["twin", "walk"])
def test_text_that_is_not_utf8_is_named_either_way(tmp_path, monkeypatch, twin) -> None:
    if not twin:
        monkeypatch.setattr(loader_module, "_TWIN_MAX_BYTES", 0)
    assert loader_module._proto3_twin() is not None
    with pytest.raises(ModelError, match=r"text field model\.graph\.name is not valid UTF-8"):
        load_model(_bad_utf8(tmp_path))
