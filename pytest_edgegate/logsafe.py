"""Text from models and files made safe to print into a CI log.

edgegate's failure messages and terminal summary quote things a pull request controls: model
file names, graph, node and operator names, onnx and onnxruntime error texts.  A CI runner
reads the job's output line by line, and some lines are commands to it: on GitHub Actions a
line that starts (after white space) with ``::`` is a workflow command (``::error``,
``::add-mask``, ``::stop-commands``), and the legacy form ``##[command]`` is recognised
*anywhere* in a line; a carriage return starts a new line for the runner, and terminal escape
sequences can hide or rewrite what a reviewer sees.  So a crafted model name such as
``"x\\n::error::all good"`` must not reach the log as is.

:func:`log_safe` keeps the text readable and its line breaks (edgegate's messages are one line
per broken budget) and neutralises the rest with the percent escapes the runner itself uses
for command data: a line-leading ``::`` becomes ``%3A%3A``, ``##[`` becomes ``%23%23[``, and
control characters other than newline and tab become ``\\xNN`` (``\\r`` for a carriage
return).  edgegate's own ``::error`` annotations are built separately (``report/github.py``)
and are the only workflow commands it prints.
"""

from __future__ import annotations

import re

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\r": "\\r", "\x0b": "\\v", "\x0c": "\\f", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _escape_control(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char, f"\\x{ord(char):02x}")


def log_safe(text: object) -> str:
    """``text`` with no line that a CI runner would take for a command, nor hidden content."""
    out = _CONTROL.sub(_escape_control, str(text)).replace("##[", "%23%23[")
    lines = out.split("\n")
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith("::"):
            lines[i] = line[: len(line) - len(stripped)] + "%3A%3A" + stripped[2:]
    return "\n".join(lines)
