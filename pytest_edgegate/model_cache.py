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


#: Default of ``--edge-max-model-mb``: the largest ``.onnx`` file read, in bytes (2,000 MB).
DEFAULT_MAX_BYTES = 2_000_000_000


def _refuse_external_in_memory(model: onnx.ModelProto) -> None:
    """An in-memory model must hold its weights: external data has no folder to be read from.

    It would be resolved against a temporary folder (so it could only fail), or, with an
    absolute or ``..`` location, against files the model's author picked.
    """
    from onnx import TensorProto

    from pytest_edgegate.analysis.loader import external_info, iter_model_tensors

    for tensor in iter_model_tensors(model):
        if tensor.data_location == TensorProto.EXTERNAL:
            location = external_info(tensor).get("location", "")
            raise ModelError(
                model.graph.name or "model",
                f"tensor '{tensor.name}' has its data in an external file ('{location}') but "
                "the model was given in memory, so there is no folder to read it from: pass "
                "the model's path to edge.evaluate, or load it with its data "
                "(onnx.load(path)) first",
            )


class ModelCache:
    """Per-session cache of loaded models and their analyses.

    ``max_bytes`` (``--edge-max-model-mb``) bounds every ``.onnx`` file it reads: a larger one
    is refused from its size, before a byte is read.
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._loaded: dict[tuple[Any, ...], LoadedModel] = {}
        self._handles: dict[tuple[Any, ...], ModelHandle] = {}

    def load(self, path: Path) -> tuple[tuple[Any, ...], LoadedModel]:
        from pytest_edgegate.formats import load

        try:
            st = path.stat()
            key: tuple[Any, ...] = (str(path.resolve()), st.st_size, st.st_mtime_ns)
        except OSError:
            key = (str(path), None, None)
        if key not in self._loaded:
            self._loaded[key] = load(path, max_bytes=self.max_bytes)
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
            from pytest_edgegate.analysis.loader import check_text_fields

            check_text_fields(model, model.graph.name or "model")
            _refuse_external_in_memory(model)
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
