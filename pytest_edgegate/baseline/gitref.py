"""``--edge-baseline git:REF``: the same models as they are at another commit, in this run.

A stored baseline number is stale for anything measured: the machine, its load and the
runtime version have changed since it was written.  With a git baseline each evaluated model
file is also taken as it is at REF (``git show``, external data files too) and evaluated right
after the current one, under the same conditions, so measured metrics compare as ratios from
one run.  Nothing is checked out: the files are written to a temporary folder.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from pytest_edgegate.errors import EdgeGateError

TIMEOUT_S = 30


class GitBaselineError(EdgeGateError):
    """The git baseline cannot be used (not a repository, unknown ref)."""


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, timeout=TIMEOUT_S, check=False
    )


def check_ref(ref: str, cwd: Path) -> str:
    """The commit ``ref`` names; a clear error when it names none."""
    try:
        done = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd)
    except (OSError, subprocess.SubprocessError) as exc:
        raise GitBaselineError(f"--edge-baseline git:{ref}: cannot run git ({exc})") from None
    if done.returncode != 0:
        raise GitBaselineError(
            f"--edge-baseline git:{ref}: '{ref}' is not a commit of the repository at {cwd} "
            "(fetch it first, e.g. git fetch origin main)"
        )
    return done.stdout.decode().strip()


def file_at(ref: str, path: Path, dest: Path, extra: tuple[str, ...] = ()) -> Path | None:
    """Write ``path`` (and its external data files ``extra``) as at ``ref`` into ``dest``.

    Returns the copy of the model, or ``None`` when the file did not exist at ``ref``.
    """
    path = path.resolve()
    try:
        top = _git(["rev-parse", "--show-toplevel"], path.parent)
    except (OSError, subprocess.SubprocessError):
        return None
    if top.returncode != 0:
        return None
    root = Path(top.stdout.decode().strip()).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    out = None
    for name in (path.name, *extra):
        source = (path.parent / name).resolve()
        try:
            rel = source.relative_to(root).as_posix()
        except ValueError:
            return None
        done = _git(["show", f"{ref}:{rel}"], root)
        if done.returncode != 0:
            if name == path.name:
                return None
            continue  # an external file new since REF: the model at REF will say so
        target = dest / Path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(done.stdout)
        if name == path.name:
            out = target
    return out
