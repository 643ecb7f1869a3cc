"""Error types of edgegate.

Every error a user can cause carries the thing it is about (a file, an option, a test) in its
message, so a failing CI log points straight at what to fix.  The plugin turns these into test
failures, collection errors or usage errors; none of them may surface as an INTERNALERROR.
"""

from __future__ import annotations


class EdgeGateError(Exception):
    """Base class of every error edgegate raises on purpose."""


class ModelError(EdgeGateError):
    """A model file cannot be read, parsed, validated or analysed.

    ``source`` is the file path (or a model's name when it came from memory).
    """

    def __init__(self, source: str, problem: str) -> None:
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")


class ProfileError(EdgeGateError):
    """A device profile file is malformed; ``source`` names the file, ``key`` the bad entry."""

    def __init__(self, source: str, problem: str, key: str | None = None) -> None:
        self.source = str(source)
        self.key = key
        self.problem = problem
        where = f"{self.source}: key '{key}'" if key else self.source
        super().__init__(f"{where}: {problem}")


class BudgetError(EdgeGateError):
    """An ``edge_budget`` marker is malformed (unknown keyword, bad or negative value)."""


class SettingsError(EdgeGateError):
    """A command-line option or ini key has a value that cannot be used."""
