"""Report safety: hostile text from a model, its file name and the test id stays data.

One model carries a script tag and GitHub workflow-command fragments in its producer, doc
strings, metadata_props, graph and node names; its file name and the test id carry them too.
It runs through the real plugin with ``--edge-html``, ``--edge-json`` and GitHub Actions'
environment, and every output is checked: no markup from the data in the HTML, every stdout
line a runner would take for a workflow command is one of edgegate's annotations with escaped
data, the step summary's Markdown is escaped, and the JSON keeps the text verbatim.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import onnx
import pytest
from modelgen import conv_model, save

from pytest_edgegate.logsafe import log_safe

SCRIPT = "<script>alert(1)</script>"
COMMANDS = "\n::error file=x.py,line=1::injected %0A ::add-mask::secret\r::stop-commands::t"
#: In the model's metadata and names, and in its file name (edgegate prints those).
HOSTILE = SCRIPT + COMMANDS + " ##[error]legacy"
#: In the test id.  pytest itself echoes test ids (escaping only line breaks), so the legacy
#: ``##[`` form, which the runner finds anywhere in a line, is left out: only edgegate's
#: outputs are under test.
ID = SCRIPT + COMMANDS
#: What GitHub's runner takes for a workflow command: a line starting with "::" after white
#: space (v2), or "##[" anywhere (v1).  Lines are split at CR and LF.
ANNOTATION = re.compile(r"::error (?:file=[^,:\r\n]*,(?:line=\d+,)?)?title=[^,:\r\n]*::[^\r\n]*")


def hostile_model() -> onnx.ModelProto:
    model = conv_model()
    model.producer_name = HOSTILE
    model.producer_version = HOSTILE
    model.doc_string = HOSTILE
    model.graph.name = HOSTILE
    model.graph.doc_string = HOSTILE
    model.graph.node[0].name = HOSTILE
    for key in ("author", HOSTILE):
        model.metadata_props.add(key=key, value=HOSTILE)
    return model


def workflow_commands(stdout: str) -> list[str]:
    """Lines of ``stdout`` a GitHub runner would execute as commands."""
    lines = re.split(r"\r\n|\r|\n", stdout)
    return [ln for ln in lines if ln.lstrip().startswith("::") or "##[" in ln]


@pytest.mark.parametrize("in_memory", [False, True], ids=["file", "proto"])
def test_hostile_metadata_names_and_ids_stay_data(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, in_memory: bool
) -> None:
    name = "m <script>alert(1)::error::x %0A\n::error::injected ##[error]y\r::warning::z.onnx"
    models = pytester.path / "models"
    save(hostile_model(), models / name)
    pytester.makepyfile(
        test_hostile=f"""
        import onnx
        import pytest

        NAME = {name!r}

        @pytest.mark.edge_budget(macs_m=0.0001)
        @pytest.mark.parametrize("tag", [pytest.param(1, id={ID!r})])
        def test_model(edge, tag):
            model = "models/" + NAME
            if {in_memory!r}:
                model = onnx.load("models/" + NAME)
            edge.evaluate(model)

        def test_broken(edge):
            edge.evaluate("models/" + NAME + ".missing")
        """
    )
    summary = pytester.path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = pytester.runpytest_subprocess(
        "--edge-target=cortex-a72", "--edge-html=r.html", "--edge-json=r.json", "-rA", "-v"
    )
    result.assert_outcomes(failed=2)
    stdout = result.stdout.str()
    assert "INTERNALERROR" not in stdout + result.stderr.str()

    # stdout: the only workflow commands are edgegate's annotations, their data escaped.
    commands = workflow_commands(stdout)
    assert commands, "the broken budget and the error must be annotated"
    for line in commands:
        assert ANNOTATION.fullmatch(line), f"injected workflow command: {line!r}"
        assert "\r" not in line
    assert any("%0A" in line and "title=edgegate" in line for line in commands)

    # HTML: the metadata is shown, escaped; no markup from the data.
    html = (pytester.path / "r.html").read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Model metadata" in html and "author" in html

    # Markdown step summary: escaped, one table row per line.
    markdown = summary.read_text(encoding="utf-8")
    assert "<script" not in markdown.lower()
    rows = [ln for ln in markdown.splitlines() if ln.startswith("|")]
    assert rows and all(ln.count("|") == rows[0].count("|") for ln in rows[:3])
    assert not any(ln.lstrip().startswith("::") for ln in markdown.splitlines())

    # JSON: the text verbatim (it is data), the metadata cut to a sane length.
    doc = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    [evaluated] = [r for r in doc["results"] if "::test_model[" in r["nodeid"]]
    meta = evaluated["details"]["model_metadata"]
    assert meta["producer"] == HOSTILE and meta["metadata_props"]["author"] == HOSTILE
    assert meta["doc_string"] == HOSTILE


def test_metadata_is_truncated(tmp_path: Path) -> None:
    from pytest_edgegate.evaluation import METADATA_PROPS, METADATA_TEXT, model_metadata

    model = conv_model()
    model.doc_string = "x" * 1_000_000
    for i in range(METADATA_PROPS + 5):
        model.metadata_props.add(key=f"k{i}" * 100, value="v" * 10_000)
    meta = model_metadata(model)
    assert len(meta["doc_string"]) == METADATA_TEXT
    assert len(meta["metadata_props"]) == METADATA_PROPS
    assert meta["metadata_props_omitted"] == 5
    assert all(len(k) <= 100 and len(v) <= METADATA_TEXT for k, v in meta["metadata_props"].items())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain\nlines stay", "plain\nlines stay"),
        ("x\n::error::pwned", "x\n%3A%3Aerror::pwned"),
        ("x\n   ::add-mask::s", "x\n   %3A%3Aadd-mask::s"),
        ("x\r::error::pwned", "x\\r::error::pwned"),
        ("mid ##[error]line", "mid %23%23[error]line"),
        ("esc \x1b[8mhidden", "esc \\x1b[8mhidden"),
        ("a\u2028::error::b", "a\\u2028::error::b"),
        ("tab\tkept", "tab\tkept"),
    ],
)
def test_log_safe(text: str, expected: str) -> None:
    assert log_safe(text) == expected
    assert not workflow_commands(log_safe(text))
