"""Every hostile model of the issue, through the real plugin: each fails only its own test,
with a message naming the file and the problem, and nothing outside the model's folder is
read.  Run once statically and once with every model executed (``measure=True``)."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

import pytest
from hostile import MODELS
from modelgen import conv_model, save


def _arm(path) -> int:
    """Set the access time before the modification time, so ``relatime`` records a read."""
    st = path.stat()
    os.utime(path, ns=(st.st_mtime_ns - 3 * 86_400 * 10**9, st.st_mtime_ns))
    return path.stat().st_atime_ns


@pytest.mark.parametrize("measure", [False, True], ids=["static", "measured"])
def test_every_hostile_model_fails_only_its_own_test(
    pytester: pytest.Pytester, measure: bool
) -> None:
    outside = pytester.path / "outside"
    outside.mkdir()
    canary = outside / "secret.bin"
    canary.write_bytes(b"\x01" * 8192)
    for name, (build, _, _) in MODELS.items():
        folder = pytester.path / "models" / name
        folder.mkdir(parents=True)
        (folder / f"{name}.onnx").write_bytes(build(folder))
    save(conv_model(), pytester.path / "models" / "good.onnx")
    atime = _arm(canary)
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.parametrize("name", {sorted(MODELS)!r})
        def test_hostile(edge, name):
            edge.evaluate(f"models/{{name}}/{{name}}.onnx", measure={measure!r})

        def test_good(edge):
            edge.evaluate("models/good.onnx", measure={measure!r})
        """
    )
    result = pytester.runpytest_subprocess(
        "--edge-target=cortex-a72",
        "--edge-timeout=20",
        "--edge-time-cap=0.1",
        "--junitxml=junit.xml",
        "--edge-json=r.json",
    )
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output
    assert result.ret in (0, 1)

    outcomes: dict[str, tuple[str, str]] = {}
    for tc in ET.parse(pytester.path / "junit.xml").getroot().iter("testcase"):
        node = tc.find("failure")
        if node is None:
            node = tc.find("error")
        message = "" if node is None else (node.get("message") or "")
        outcomes[tc.get("name", "")] = (
            "passed" if node is None else node.tag,
            message,
        )
    assert outcomes.pop("test_good[cortex-a72]") == ("passed", "")
    problems = []
    for name, (_, static, measured) in MODELS.items():
        expected = measured if measure else static
        outcome, message = outcomes[f"test_hostile[cortex-a72-{name}]"]
        if outcome == "passed" and expected is None:
            continue
        if outcome != "failure":
            problems.append(f"{name}: {outcome} {message[:200]}")
        elif not message.startswith("Failed: edgegate: ") or f"{name}.onnx" not in message:
            problems.append(f"{name}: the message does not name the file: {message[:300]}")
        elif expected and expected not in message:
            problems.append(f"{name}: expected {expected!r} in: {message[:300]}")
    assert not problems, "\n".join(problems)

    st = canary.stat()
    assert st.st_atime_ns == atime, "the file outside the model's folder was read"
    assert canary.read_bytes() == b"\x01" * 8192
