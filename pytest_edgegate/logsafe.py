"""Text from models and files made safe to print into a CI log.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/logsafe.py``.
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
