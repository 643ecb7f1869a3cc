"""The measurement phases of one emulated run, executed inside the child process.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/runner/measure.py``.
"""

from __future__ import annotations

import functools
import gc
import os
import platform
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

MB = 1_000_000

#: Substrings of an exception message that mean an allocation failed.
OOM_MARKERS = ("bad_alloc", "Failed to allocate", "Cannot allocate memory", "Unable to allocate")

#: onnxruntime's complaints about the feed itself (shape, rank, dtype, names).
INPUT_MARKERS = (
    "Got invalid dimensions for input",
    "Invalid rank for input",
    "Unexpected input data type",
    "Invalid input name",
    "Required inputs",
)


class ChildFailure(Exception):
    """A classified failure: ``kind`` as in :data:`errors.KINDS`, ``extra`` plain data."""

    def __init__(self, kind: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.extra = extra


def is_oom(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or any(m in str(exc) for m in OOM_MARKERS)


def is_input_error(exc: BaseException) -> bool:
    return any(m in str(exc) for m in INPUT_MARKERS)


def requested_bytes(message: str) -> int | None:
    """The size of the allocation that failed, when the message says it."""
    m = re.search(r"requested buffer of size (\d+)", message)
    if m:
        return int(m.group(1))
    m = re.search(r"Unable to allocate ([\d.]+) (B|KiB|MiB|GiB|TiB)", message)
    if m:
        scale = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}[m.group(2)]
        return int(float(m.group(1)) * scale)
    return None


def _probe_model() -> bytes:
    from onnx import TensorProto, helper

    value = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "probe", [value], [out])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    return model.SerializeToString()


def host_info() -> dict[str, Any]:
    """What a reader of a result needs to know about the machine that measured it."""
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "system": platform.system(),
        "machine": platform.machine(),
        "cpu": cpu,
        "cpu_count": os.cpu_count() or 1,
    }


class Measurement:
    """One run's state across its phases; :meth:`run` does them all and returns the dict."""

    def __init__(self, spec: dict[str, Any], workdir: Path, progress: Callable[[str], None]):
        from pytest_edgegate.runner.lock import LockRecord

        self.spec = spec
        self.workdir = workdir
        self.progress = progress
        self.threads = int(spec["threads_used"])
        self.warnings: list[str] = []
        self.lock = LockRecord(spec["lock_path"])
        self.baseline_rss = 0
        self.baseline_data: int | None = None

    # -- helpers ---------------------------------------------------------------------------

    def locked(self):
        """The timing lock, reporting waits to the parent through the progress file."""
        from pytest_edgegate.runner.lock import held

        return held(self.lock, lambda: self.progress("lock-wait"), lambda: self.progress("locked"))

    def failure(self, kind: str, exc: BaseException) -> ChildFailure:
        """A :class:`ChildFailure` for ``exc``, out-of-memory if it looks like one."""
        from pytest_edgegate.runner import memory

        peak = memory.peak_rss_bytes()
        return ChildFailure(
            "oom" if is_oom(exc) else kind,
            f"{type(exc).__name__}: {exc}",
            requested_bytes=requested_bytes(str(exc)),
            peak_rss_mb=peak / MB,
            baseline_rss_mb=self.baseline_rss / MB,
            model_seen_mb=max(0.0, (peak - self.baseline_rss) / MB),
        )

    def timed(self, run: Callable[[], object]):
        from pytest_edgegate.runner.stats import time_repeatedly

        return time_repeatedly(
            run, rel_ci=float(self.spec["rel_ci"]), time_cap_s=float(self.spec["time_cap_s"])
        )

    # -- phases ------------------------------------------------------------------------------

    def measure_baseline(self) -> None:
        """Phase 1: the runtime's own footprint, thread pool included."""
        import numpy as np

        from pytest_edgegate.runner import memory
        from pytest_edgegate.runner.ort_session import create_session, preload_runtime

        probe = create_session(_probe_model(), self.threads)
        probe.run(None, {"x": np.ones(1, np.float32)})
        del probe
        preload_runtime(self.spec["model_path"], self.threads)
        gc.collect()
        self.baseline_rss = memory.current_rss_bytes()
        self.baseline_data = memory.data_bytes()
        self.progress("probed")

    def apply_cap(self) -> tuple[bool, int | None]:
        """Phase 2: ``RLIMIT_DATA`` = baseline + cap; returns (enforced, soft limit)."""
        from pytest_edgegate.runner import memory

        limit_mb = self.spec["memory_limit_mb"]
        enforced = (
            limit_mb is not None and memory.limit_is_enforced() and self.baseline_data is not None
        )
        rlimit = None
        if enforced:
            rlimit = int(self.baseline_data + limit_mb * MB)
            memory.set_data_limit(rlimit)
        self.progress("limited")
        return enforced, rlimit

    def load_feeds(self):
        """Phase 3a: the input arrays and their record."""
        import numpy as np

        from pytest_edgegate.runner.feeds import FeedSpec, digest, random_feeds
        from pytest_edgegate.runner.run_result import InputsRecord

        feeds_spec = [FeedSpec.from_dict(f) for f in self.spec["feeds"]]
        inputs = self.spec["inputs"]
        try:
            if inputs["child_npz"] is not None:
                with np.load(inputs["child_npz"], allow_pickle=False) as npz:
                    feeds = {f.name: npz[f.name] for f in feeds_spec}
            else:
                feeds = random_feeds(feeds_spec, int(inputs["seed"]))
        except Exception as exc:  # noqa: BLE001 - classified by failure()
            raise self.failure("input", exc) from exc
        record = InputsRecord(
            provenance=inputs["provenance"],
            seed=inputs["seed"],
            npz_path=inputs["npz_path"],
            tensors=tuple(feeds_spec),
            assumed_dims=dict(self.spec["assumed_dims"]),
            digest=digest(feeds, [f.name for f in feeds_spec]),
            total_mb=sum(int(a.nbytes) for a in feeds.values()) / MB,
        )
        self.progress("inputs")
        return feeds, record

    def profile(self, feeds: dict):
        """Phase 5: onnxruntime's per-node profile of one warm run, or ``None``."""
        from pytest_edgegate.runner.ort_session import create_session
        from pytest_edgegate.runner.profiling import read_profile

        self.progress("profile-session")
        try:
            session = create_session(
                self.spec["model_path"],
                self.threads,
                profile_prefix=str(self.workdir / "ort_profile"),
            )
            with self.locked():
                self.progress("profile")
                session.run(None, feeds)
                session.run(None, feeds)
                self.progress("unlocked")
            return read_profile(session.end_profiling())
        except NotImplementedError:  # a runtime without per-node profiles (LiteRT)
            return None
        except Exception as exc:  # noqa: BLE001 - the timing stands without a profile
            self.warnings.append(f"per-node profile failed: {type(exc).__name__}: {exc}")
            return None

    def reference(self, feeds: dict):
        """Phase 6: the model timed with ``reference_threads`` threads, or ``None``."""
        from pytest_edgegate.runner.ort_session import create_session
        from pytest_edgegate.runner.run_result import ReferenceTiming

        threads = int(self.spec["reference_threads"])
        self.progress("reference-session")
        try:
            t0 = time.perf_counter_ns()
            session = create_session(self.spec["model_path"], threads)
            create_ms = (time.perf_counter_ns() - t0) / 1e6
            run_once = functools.partial(session.run, None, feeds)
            with self.locked():
                self.progress("reference")
                for _ in range(max(1, int(self.spec["warmup"]))):
                    run_once()
                timing, cpu_timing = self.timed(run_once)
                self.progress("unlocked")
            return ReferenceTiming(threads, create_ms, timing, cpu_timing)
        except Exception as exc:  # noqa: BLE001 - the main timing stands without it
            self.warnings.append(f"reference timing failed: {type(exc).__name__}: {exc}")
            return None

    def paired(self, feeds: dict):
        """Phase 4b: model and kernels interleaved on one thread, or ``None``.

        The model gets a one-thread session of its own, created outside the lock (creation
        is static work); only the rounds hold it.
        """
        from pytest_edgegate.runner.ort_session import create_session
        from pytest_edgegate.runner.paired import PAIRED_THREADS, paired_rounds

        self.progress("paired-session")
        try:
            session = create_session(self.spec["model_path"], PAIRED_THREADS)
            run_once = functools.partial(session.run, None, feeds)
            run_once()
            with self.locked():
                self.progress("paired")
                run_once()
                return paired_rounds(
                    run_once, float(self.spec["paired_time_s"]), self.spec.get("work")
                )
        except Exception as exc:  # noqa: BLE001 - the model's result stands without it
            self.warnings.append(f"paired calibration failed: {type(exc).__name__}: {exc}")
            return None
        finally:
            self.progress("unlocked")

    def calibration(self):
        """Phase 4b (inside the lock): the host calibration kernels, or ``None``."""
        self.progress("calibration")
        try:
            from pytest_edgegate.runner.host_speed import calibrate

            return calibrate(
                self.threads,
                rel_ci=float(self.spec["rel_ci"]),
                time_cap_s=float(self.spec["calibration_time_s"]),
            )
        except Exception as exc:  # noqa: BLE001 - the model's result stands without it
            self.warnings.append(f"host calibration failed: {type(exc).__name__}: {exc}")
            return None

    # -- the whole run -------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        """All phases; the :class:`RunResult` as a dict, or :class:`ChildFailure`."""
        wall0 = time.perf_counter()
        import onnxruntime as ort

        from pytest_edgegate.runner import memory
        from pytest_edgegate.runner.ort_session import create_session, describe
        from pytest_edgegate.runner.run_result import LockInfo, MemoryRecord, RunResult

        spec = self.spec
        self.progress("imported")
        self.measure_baseline()
        enforced, rlimit = self.apply_cap()
        feeds, inputs_record = self.load_feeds()

        self.progress("session")
        t0 = time.perf_counter_ns()
        try:
            session = create_session(spec["model_path"], self.threads)
        except Exception as exc:  # noqa: BLE001 - classified by failure()
            raise self.failure("load", exc) from exc
        session_create_ms = (time.perf_counter_ns() - t0) / 1e6
        run_once = functools.partial(session.run, None, feeds)

        # Phase 4: the timed part, under the lock.
        with self.locked():
            self.progress("first-run")
            try:
                t0 = time.perf_counter_ns()
                run_once()
                first_run_ms = (time.perf_counter_ns() - t0) / 1e6
                self.progress("warmup")
                for _ in range(int(spec["warmup"])):
                    run_once()
                self.progress("timing")
                timing, cpu_timing = self.timed(run_once)
            except Exception as exc:  # noqa: BLE001 - classified by failure()
                raise self.failure("input" if is_input_error(exc) else "run", exc) from exc
            peak_rss = memory.peak_rss_bytes()
            del run_once, session
            gc.collect()
            if enforced:
                memory.lift_data_limit()
            calibration = self.calibration() if spec["calibrate"] else None
            self.progress("unlocked")
        paired = self.paired(feeds) if spec["calibrate"] else None

        limit_mb = spec["memory_limit_mb"]
        model_peak_mb = (peak_rss - self.baseline_rss) / MB
        if limit_mb is not None and not enforced and model_peak_mb > limit_mb:
            raise ChildFailure(
                "oom",
                f"measured peak {model_peak_mb:.0f} MB over the cap (cap not enforced by this "
                "OS, checked after the run)",
                requested_bytes=None,
                peak_rss_mb=peak_rss / MB,
                baseline_rss_mb=self.baseline_rss / MB,
                model_seen_mb=model_peak_mb,
            )

        profile = self.profile(feeds) if spec["profile_nodes"] else None
        reference = self.reference(feeds) if spec.get("reference_threads") else None

        result = RunResult(
            model_path=spec["model_path"],
            label=spec["label"],
            target_id=spec["target_id"],
            onnxruntime_version=ort.__version__,
            python_version=platform.python_version(),
            host=host_info(),
            threads_requested=int(spec["threads_requested"]),
            threads_used=self.threads,
            session_options=describe(self.threads, spec["model_path"]),
            inputs=inputs_record,
            session_create_ms=session_create_ms,
            first_run_ms=first_run_ms,
            warmup_runs=int(spec["warmup"]),
            timing=timing,
            cpu_timing=cpu_timing,
            memory=MemoryRecord(
                baseline_rss_mb=self.baseline_rss / MB,
                peak_rss_mb=peak_rss / MB,
                model_peak_mb=model_peak_mb,
                limit_mb=limit_mb,
                limit_kind="RLIMIT_DATA" if enforced else None,
                limit_enforced=bool(enforced),
                baseline_data_mb=None if self.baseline_data is None else self.baseline_data / MB,
                rlimit_bytes=rlimit,
            ),
            lock=LockInfo(
                path=self.lock.path,
                wait_ms=self.lock.wait_ns / 1e6,
                windows_ns=tuple(self.lock.windows),
            ),
            profile=profile,
            calibration=calibration,
            child_wall_s=time.perf_counter() - wall0,
            reference=reference,
            warnings=tuple(self.warnings),
            paired=paired,
        )
        self.progress("done")
        return result.to_dict()
