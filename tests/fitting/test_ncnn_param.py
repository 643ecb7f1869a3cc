"""The ncnn .param -> ONNX converter (bench/fitting/ncnn_param.py) rebuilds exact graphs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.fitting.ncnn_param import ParamError, convert, convert_file  # noqa: E402
from pytest_edgegate.analysis import analyze  # noqa: E402

#: ncnn's benchmark params (Tencent/ncnn benchmark/*.param) when the shared data is present.
PARAMS = (
    Path(os.environ.get("EDGEGATE_REALDEV", ROOT.parent / "shared/data/realdev")) / "ncnn/params"
)

SMALL = """7767517
7 8
Input            data      0 1 data 0=32 1=32 2=3
Convolution      conv1     1 1 data c1 0=16 1=3 3=2 4=1 5=1 6=432 9=1
ConvolutionDepthWise dw    1 1 c1 d1 0=16 1=3 4=1 5=1 6=144 7=16 9=3 -23310=2,0.0,6.0
Split            sp        1 2 d1 s0 s1
Convolution      pw        1 1 s0 p1 0=16 1=1 5=1 6=256
Eltwise          add       2 1 s1 p1 e1 0=1
PriorBox         prior     1 1 e1 boxes
"""


def _macs(model) -> int:
    return sum(n.macs for n in analyze(model).nodes)


def test_small_graph_shapes_groups_and_unsupported_layers():
    conv = convert(SMALL, "small.param")
    ops = [n.op_type for n in conv.model.graph.node]
    assert ops == ["Conv", "Relu", "Conv", "Clip", "Conv", "Sum"]
    dw = conv.model.graph.node[2]
    assert {a.name: a for a in dw.attribute}["group"].i == 16
    # stride 2, pad 1 on 32x32: 16x16; every MAC counted: 3x3x3x16x256 + 3x3x16x256 + 16x16x256
    assert _macs(conv.model) == 27 * 16 * 256 + 9 * 16 * 256 + 16 * 16 * 256
    assert conv.unsupported == ["prior (PriorBox): layer type not supported"]


def test_bad_weight_size_is_reported_not_dropped():
    text = SMALL.replace("6=432", "6=400")
    conv = convert(text, "bad.param")
    assert conv.unsupported[0].startswith("conv1 (Convolution): weight_data_size 400")
    assert any("depends on unbuilt" in u for u in conv.unsupported)


def test_malformed_file_names_the_file():
    with pytest.raises(ParamError, match="x.param: line 1"):
        convert("nonsense\n", "x.param")


# Published multiply-accumulates at the benchmark input sizes: MobileNet v1 569 M, v2 300 M
# (Sandler et al. 2018), ResNet-50 3.8 G (He et al. 2016, Table 1: the Caffe model ncnn uses),
# ResNet-18 1.8 G, ShuffleNet v2 1x 146 M (Ma et al. 2018), VGG-16 15.5 G, MnasNet-A1 312 M.
PUBLISHED = {
    "mobilenet": 569e6,
    "mobilenet_v2": 300e6,
    "resnet50": 3.8e9,
    "resnet18": 1.8e9,
    "shufflenet_v2": 146e6,
    "mnasnet": 312e6,
}


@pytest.mark.skipif(not PARAMS.is_dir(), reason=f"ncnn params not present at {PARAMS}")
@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_benchmark_networks_match_published_macs(name):
    conv = convert_file(PARAMS / f"{name}.param")
    assert conv.unsupported == []
    macs = _macs(conv.model)
    assert macs == pytest.approx(PUBLISHED[name], rel=0.06)


@pytest.mark.skipif(not PARAMS.is_dir(), reason=f"ncnn params not present at {PARAMS}")
def test_int8_graph_has_the_float_graphs_macs_in_int8():
    fp = analyze(convert_file(PARAMS / "squeezenet.param").model)
    q = analyze(convert_file(PARAMS / "squeezenet_int8.param").model)
    assert sum(n.macs for n in q.nodes) == sum(n.macs for n in fp.nodes)
    assert {n.compute_dtype for n in q.nodes if n.op_type == "ConvInteger"} == {"int8"}
