"""An evaluation child: ``python -m pytest_edgegate.accuracy.eval_child READ_FD WRITE_FD``.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/accuracy/eval_child.py``.
"""

from __future__ import annotations

import gc
import os
import sys
import traceback
from typing import Any

import numpy as np

from pytest_edgegate.accuracy.channel import Channel, ChannelClosed
from pytest_edgegate.runner.child import inject_fault

FAULT_ENV = "EDGEGATE_ACCURACY_FAULT"
MB = 1_000_000


class ChildFailure(Exception):
    """A failure the child names: ``kind`` as in :data:`errors.KINDS`."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def _probe_model() -> bytes:
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "probe", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    return model.SerializeToString()


class ModelHost:
    """The child's state: one model, its session, its cap."""

    def __init__(self) -> None:
        self.session: Any = None
        self.diag_session: Any = None
        self.output: str = ""
        self.probes: list[dict[str, Any]] = []
        self.dequant: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
        self.rlimit: int | None = None
        self.threads = 1
        self.model_path = ""

    def failure(self, kind: str, exc: BaseException) -> ChildFailure:
        from pytest_edgegate.runner.measure import is_input_error, is_oom

        if is_oom(exc):
            kind = "oom"
        elif kind == "run" and is_input_error(exc):
            kind = "data"
        return ChildFailure(kind, f"{type(exc).__name__}: {exc}")

    def open(self, header: dict[str, Any], _arrays: dict) -> tuple[dict, dict]:
        from pytest_edgegate.runner import memory
        from pytest_edgegate.runner.ort_session import create_session

        self.model_path = header["model_path"]
        self.output = header["output"]
        self.threads = int(header["threads"])
        probe = create_session(_probe_model(), self.threads)
        probe.run(None, {"x": np.ones(1, np.float32)})
        del probe
        gc.collect()
        baseline = memory.data_bytes()
        limit_mb = header.get("memory_limit_mb")
        if limit_mb is not None and memory.limit_is_enforced() and baseline is not None:
            self.rlimit = int(baseline + float(limit_mb) * MB)
            memory.set_data_limit(self.rlimit)
        try:
            self.session = create_session(self.model_path, self.threads)
        except Exception as exc:  # noqa: BLE001 - classified by failure()
            raise self.failure("load", exc) from exc
        return {"limit_enforced": self.rlimit is not None, "rlimit_bytes": self.rlimit}, {}

    def run(self, _header: dict[str, Any], arrays: dict[str, np.ndarray]) -> tuple[dict, dict]:
        try:
            (out,) = self.session.run([self.output], arrays)
        except Exception as exc:  # noqa: BLE001 - classified by failure()
            raise self.failure("run", exc) from exc
        out = np.asarray(out)
        if out.dtype.hasobject:
            raise ChildFailure(
                "run", f"output '{self.output}' holds {out.dtype.name} values, not numbers"
            )
        return {}, {"out": out}

    def diagnose(self, header: dict[str, Any], _arrays: dict) -> tuple[dict, dict]:
        import onnx
        from onnx import numpy_helper

        from pytest_edgegate.runner import memory
        from pytest_edgegate.runner.ort_session import create_session

        self.session = None
        gc.collect()
        if self.rlimit is not None:
            memory.lift_data_limit()
            self.rlimit = None
        model = onnx.load(self.model_path)
        inits = {init.name: init for init in model.graph.initializer}
        existing = {o.name for o in model.graph.output}
        self.probes = list(header["probes"])
        for probe in self.probes:
            name = probe["tensor"]
            if name not in existing:
                model.graph.output.append(onnx.ValueInfoProto(name=name))
                existing.add(name)
            if probe.get("scale"):
                scale = numpy_helper.to_array(inits[probe["scale"]]).astype(np.float32)
                zp = probe.get("zero_point")
                zero = numpy_helper.to_array(inits[zp]).astype(np.float32) if zp else None
                self.dequant[name] = (scale, zero)
        try:
            self.diag_session = create_session(model.SerializeToString(), self.threads)
        except Exception as exc:  # noqa: BLE001 - classified by failure()
            raise self.failure("load", exc) from exc
        return {}, {}

    def probe(self, _header: dict[str, Any], arrays: dict[str, np.ndarray]) -> tuple[dict, dict]:
        names = [p["tensor"] for p in self.probes]
        try:
            values = self.diag_session.run(names, arrays)
        except Exception as exc:  # noqa: BLE001 - classified by failure()
            raise self.failure("run", exc) from exc
        out = {}
        for i, (name, value) in enumerate(zip(names, values, strict=True)):
            value = np.asarray(value)
            if value.dtype.kind not in "biuf":
                continue
            if name in self.dequant:
                scale, zero = self.dequant[name]
                value = value.astype(np.float32)
                if zero is not None:
                    value = value - zero
                value = value * scale
            out[str(i)] = value.astype(np.float32, copy=False)
        return {}, out

    def reapply_limit(self) -> None:
        """Put the cap back after an error reply was sent without it."""
        from pytest_edgegate.runner import memory

        if self.rlimit is not None:
            memory.set_data_limit(self.rlimit)


def main(argv: list[str]) -> int:
    channel = Channel(int(argv[1]), int(argv[2]))
    host = ModelHost()
    handlers = {
        "open": host.open,
        "run": host.run,
        "diagnose": host.diagnose,
        "probe": host.probe,
    }
    fault_action, _, fault_op = os.environ.get(FAULT_ENV, "").partition(":")
    while True:
        try:
            header, arrays = channel.receive()
        except ChannelClosed:
            return 0  # the parent is gone: nothing left to answer
        op = header.get("op", "")
        if op == fault_op:
            inject_fault(fault_action)
        if op == "close":
            channel.send({"ok": True})
            return 0
        try:
            handler = handlers[op]
            reply, out = handler(header, arrays)
            reply["ok"] = True
        except ChildFailure as failure:
            reply, out = {"ok": False, "kind": failure.kind, "message": failure.message}, {}
        except MemoryError as exc:
            reply, out = {"ok": False, "kind": "oom", "message": f"MemoryError: {exc}"}, {}
        except Exception as exc:  # noqa: BLE001 - everything must reach the parent
            reply = {
                "ok": False,
                "kind": "internal",
                "message": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(),
            }
            out = {}
        del arrays
        if not reply["ok"]:
            from pytest_edgegate.runner import memory

            memory.lift_data_limit()  # the reply must not fail for the memory the model used
        try:
            channel.send(reply, out)
        except ChannelClosed:
            return 0
        finally:
            if not reply["ok"]:
                host.reapply_limit()
        del out


if __name__ == "__main__":
    sys.exit(main(sys.argv))
