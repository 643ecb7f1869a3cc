"""Finding, loading and analysing model files once per session.

Many tests (and every target of a parametrized test) evaluate the same file: the static
analysis does not depend on the target, so it is cached by file identity (path, size, mtime)
and input shapes.  A changed file on disk is a new key, never a stale result.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_edgegate.errors import ModelError

if TYPE_CHECKING:
    import onnx

    from pytest_edgegate.analysis import LoadedModel, ModelAnalysis


@dataclass(frozen=True)
class ModelHandle:
    """A loaded model and its analysis at the shapes it was asked for (``edge_model``)."""

    loaded: LoadedModel
    analysis: ModelAnalysis

    @property
    def path(self) -> str | None:
        return self.loaded.path

    @property
    def name(self) -> str:
        return self.loaded.name


def resolve_path(path: str | os.PathLike[str], bases: Sequence[Path]) -> Path:
    """An absolute path as is; a relative one against each base in turn (first that exists).

    When none exists the first candidate is returned, so the loader's error names a real,
    absolute path the user can check.
    """
    candidate = Path(os.fspath(path)).expanduser()
    if candidate.is_absolute():
        return candidate
    tried = [(base / candidate) for base in bases]
    for option in tried:
        if option.exists():
            return option.resolve()
    return tried[0].absolute() if tried else candidate.absolute()


def _shape_key(shapes: Mapping[str, Sequence[int]] | None) -> tuple[Any, ...]:
    if not shapes:
        return ()
    try:
        return tuple(sorted((str(k), tuple(int(d) for d in v)) for k, v in shapes.items()))
    except (TypeError, ValueError, AttributeError):
        raise ModelError(
            "input_shapes", f"expected a mapping of input name to a list of ints, got {shapes!r}"
        ) from None


class ModelCache:
    """Per-session cache of loaded models and their analyses."""

    def __init__(self) -> None:
        self._loaded: dict[tuple[Any, ...], LoadedModel] = {}
        self._handles: dict[tuple[Any, ...], ModelHandle] = {}

    def load(self, path: Path) -> tuple[tuple[Any, ...], LoadedModel]:
        from pytest_edgegate.analysis import load_model

        try:
            st = path.stat()
            key: tuple[Any, ...] = (str(path.resolve()), st.st_size, st.st_mtime_ns)
        except OSError:
            key = (str(path), None, None)
        if key not in self._loaded:
            self._loaded[key] = load_model(path)
        return key, self._loaded[key]

    def handle(
        self,
        model: str | os.PathLike[str] | ModelHandle | onnx.ModelProto,
        bases: Sequence[Path],
        input_shapes: Mapping[str, Sequence[int]] | None = None,
    ) -> ModelHandle:
        """Accept a path, a handle or a ``ModelProto``; return a handle analysed at the shapes."""
        from pytest_edgegate.analysis import analyze

        shapes = _shape_key(input_shapes)
        if isinstance(model, ModelHandle):
            if not shapes:
                return model
            return ModelHandle(model.loaded, analyze(model.loaded, input_shapes))
        if isinstance(model, (str, os.PathLike)):
            key, loaded = self.load(resolve_path(model, bases))
            akey = (key, shapes)
            if akey not in self._handles:
                self._handles[akey] = ModelHandle(loaded, analyze(loaded, input_shapes))
            return self._handles[akey]
        if type(model).__name__ == "ModelProto":
            analysis = analyze(model, input_shapes)
            from pytest_edgegate.analysis import LoadedModel

            loaded = LoadedModel(
                path=None,
                proto=model,
                file_bytes=analysis.file_bytes,
                sha256=analysis.sha256,
                external_files=(),
                name=analysis.name,
            )
            return ModelHandle(loaded, analysis)
        raise ModelError(
            repr(model)[:80],
            "edge.evaluate expects a path (str or os.PathLike), an edge_model handle or an "
            f"onnx.ModelProto, got {type(model).__name__}",
        )
