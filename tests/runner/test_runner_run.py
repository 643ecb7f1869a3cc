"""End-to-end runs in child processes: inputs, caps, failures, profile, calibration, lock.

Each run costs a Python + onnxruntime start (about half a second), so the runs are few and
use the FAST settings; no assertion depends on how long anything took.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from runner_models import (
    FAST,
    add_model,
    endless_loop_model,
    future_opset_model,
    memory_hog_model,
    two_input_model,
    unknown_op_model,
)

from pytest_edgegate.runner import RunError, RunResult, RunSpec, run_model
from pytest_edgegate.runner.child import FAULT_ENV
from pytest_edgegate.runner.hostwork import KERNELS
from pytest_edgegate.runner.launch import host_cores
from pytest_edgegate.runner.paired import MIN_ROUNDS

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the runner needs POSIX")


def spec(path: str, **kw) -> RunSpec:
    settings = dict(threads=2, memory_limit_mb=None, target_id="cortex-a53", **FAST)
    settings.update(kw)
    return RunSpec(path, **settings)


def test_random_inputs_are_reproducible_and_the_result_is_complete(model_file):
    path = model_file(add_model((2, 3)))
    first = run_model(spec(path, seed=3, threads=64, memory_limit_mb=500.0))
    again = run_model(spec(path, seed=3))
    other = run_model(spec(path, seed=4))
    assert first.inputs.digest == again.inputs.digest != other.inputs.digest
    assert first.inputs.provenance == "random" and first.inputs.seed == 3
    assert first.threads_requested == 64
    assert first.threads_used == min(64, host_cores())
    assert first.session_options["allow_spinning"] is False
    assert first.session_options["intra_op_num_threads"] == first.threads_used
    t = first.timing
    assert t.n_runs >= 1 and t.min_ms <= t.p50_ms <= t.p90_ms <= t.p99_ms <= t.max_ms
    assert t.ci_low_ms <= t.p50_ms <= t.ci_high_ms
    assert first.memory.limit_mb == 500.0
    if first.memory.limit_enforced:
        assert first.memory.limit_kind == "RLIMIT_DATA"
        assert first.memory.rlimit_bytes > 500e6
    assert first.memory.peak_rss_mb >= first.memory.baseline_rss_mb > 0
    # JSON-ready and lossless
    data = first.to_dict()
    assert RunResult.from_dict(json.loads(json.dumps(data))).to_dict() == data


def test_user_inputs_as_dict_and_npz(model_file, tmp_path):
    path = model_file(two_input_model())
    arrays = {"x": np.ones((3, 4), np.float32), "ids": np.arange(3, dtype=np.int64)}
    from_dict = run_model(spec(path, inputs=arrays))
    npz = tmp_path / "inputs.npz"
    np.savez(npz, **arrays)
    from_npz = run_model(spec(path, inputs=str(npz)))
    assert from_dict.inputs.provenance == "arrays" and from_dict.inputs.seed is None
    assert from_npz.inputs.provenance == "npz" and from_npz.inputs.npz_path == str(npz)
    assert from_dict.inputs.digest == from_npz.inputs.digest
    assert [t.shape for t in from_npz.inputs.tensors] == [(3, 4), (3,)]


def test_dynamic_dims_from_input_shapes(model_file):
    path = model_file(add_model(("batch", 3)))
    result = run_model(spec(path, input_shapes={"x": [5, 3]}))
    assert result.inputs.tensors[0].shape == (5, 3)
    assert result.inputs.assumed_dims == {}
    assumed = run_model(spec(path))
    assert assumed.inputs.tensors[0].shape == (1, 3)
    assert assumed.inputs.assumed_dims == {"batch": 1}


@pytest.mark.parametrize(
    ("inputs", "words"),
    [
        (
            {"x": np.ones((3, 5), np.float32), "ids": np.zeros(3, np.int64)},
            ["'x'", "[3, 5]", "[N, 4]"],
        ),
        (
            {"x": np.ones((3, 4), np.float32), "ids": np.zeros(3, np.int32)},
            ["'ids'", "int32", "int64"],
        ),
        ({"x": np.ones((3, 4), np.float32)}, ["'ids'", "missing"]),
    ],
    ids=["shape", "dtype", "missing"],
)
def test_bad_inputs_fail_before_spawning(model_file, inputs, words):
    path = model_file(two_input_model())
    with pytest.raises(RunError) as info:
        run_model(spec(path, inputs=inputs))
    assert info.value.kind == "input"
    assert path in str(info.value)
    for word in words:
        assert word in str(info.value)


def test_inconsistent_named_dims_fail_before_spawning(model_file):
    path = model_file(two_input_model())
    inputs = {"x": np.ones((3, 4), np.float32), "ids": np.zeros(2, np.int64)}
    with pytest.raises(RunError, match="'N' = 2, but another input has 'N' = 3") as info:
        run_model(spec(path, inputs=inputs))
    assert info.value.kind == "input"


def test_onnxruntime_run_failure_is_trimmed(model_file):
    """The model's own inputs are fine but a node fails: onnxruntime's message, trimmed."""
    from runner_models import reshape_model

    path = model_file(reshape_model())
    inputs = {"x": np.ones((3, 4), np.float32), "s": np.array([5, 5], np.int64)}
    with pytest.raises(RunError) as info:
        run_model(spec(path, inputs=inputs))
    message = str(info.value)
    assert info.value.kind == "run"
    assert message.startswith(f"{path}: onnxruntime failed while running the model")
    assert "Reshape" in message and "[ONNXRuntimeError]" not in message


@pytest.mark.parametrize(
    ("model", "words"),
    [(unknown_op_model, ["TotallyNotAnOp"]), (future_opset_model, ["99"])],
    ids=["unknown-op", "future-opset"],
)
def test_model_onnxruntime_cannot_load(model_file, model, words):
    path = model_file(model())
    with pytest.raises(RunError) as info:
        run_model(spec(path))
    message = str(info.value)
    assert info.value.kind == "load"
    assert message.startswith(f"{path}: onnxruntime cannot load the model: ")
    assert "onnxruntime_src" not in message
    for word in words:
        assert word in message


def test_model_over_the_memory_cap(model_file):
    """Two live 300 MB tensors under a 200 MB cap: the message says what it needs."""
    path = model_file(memory_hog_model(300))
    with pytest.raises(RunError) as info:
        run_model(spec(path, memory_limit_mb=200.0))
    assert info.value.kind == "oom"
    # The first 300 MB allocation fails: the child knows a lower bound only.
    assert "needs at least 30" in str(info.value)
    assert "`cortex-a53` allows 200 MB" in str(info.value)
    with pytest.raises(RunError, match="needs about 600 MB, `cortex-a53` allows 200 MB"):
        run_model(spec(path, memory_limit_mb=200.0, expected_mb=600.0))


def test_model_under_the_memory_cap_runs(model_file):
    path = model_file(memory_hog_model(20))
    result = run_model(spec(path, memory_limit_mb=200.0))
    assert result.memory.model_peak_mb > 20  # the two tensors were really resident


def test_hang_is_killed_at_the_timeout(model_file, monkeypatch):
    """The model hangs in onnxruntime's first run: the timeout fires and the group is killed.

    The parent's clock is injected: it jumps past the timeout once the child reports its first
    run, so the timeout fires in that phase however long a loaded machine takes to start the
    child (a wall-clock budget of a few seconds would fire during the start-up instead).
    """
    import time as real_time
    import types

    from pytest_edgegate.runner import launch

    timeout_s = 30.0
    running: list[bool] = []
    update = launch._ProgressWatcher.update

    def watch(self):
        update(self)
        if self.phase == "first-run":
            running.append(True)

    def clock() -> int:
        jump = int((timeout_s + 1) * 1e9) if running else 0
        return real_time.monotonic_ns() + jump

    monkeypatch.setattr(launch._ProgressWatcher, "update", watch)
    monkeypatch.setattr(launch, "time", types.SimpleNamespace(monotonic_ns=clock))
    path = model_file(endless_loop_model())
    with pytest.raises(RunError) as info:
        run_model(spec(path, timeout_s=timeout_s))
    assert running  # the child was really inside the endless run when it was stopped
    assert info.value.kind == "timeout"
    assert "timed out after 30 s" in str(info.value)
    assert "running the model (first run)" in str(info.value)


@pytest.mark.parametrize(("action", "name"), [("abort", "SIGABRT"), ("segv", "SIGSEGV")])
def test_native_crash_is_isolated(model_file, monkeypatch, action, name):
    monkeypatch.setenv(FAULT_ENV, f"{action}:first-run")
    path = model_file(add_model())
    with pytest.raises(RunError) as info:
        run_model(spec(path))
    assert info.value.kind == "crash"
    assert str(info.value).startswith(f"onnxruntime crashed ({name}) running {path}")


def test_profile_calibration_and_reference(model_file):
    path = model_file(add_model((64, 64)))
    result = run_model(
        spec(path, profile_nodes=True, calibrate=True, calibration_time_s=0.3, reference_threads=1)
    )
    assert result.warnings == ()
    ops = {o.op_type for o in result.profile.by_op_type}
    assert ops and ops <= {"Relu", "Add"}
    assert sum(result.profile.class_share.values()) == pytest.approx(1.0)
    assert result.profile.class_share["other"] == pytest.approx(1.0)
    cal = result.calibration
    assert [k.name for k in cal.kernels] == [
        "conv3x3", "gemm", "conv3x3_int8", "gemm_int8", "stream_add", "call", "dispatch",
    ]  # fmt: skip
    assert cal.conv_gflops > 0 and cal.gemm_gflops > 0 and cal.stream_gbps > 0
    assert cal.conv_cpu_gflops > 0 and cal.total_cpu_p50_ms > 0
    assert result.reference.threads == 1
    assert result.reference.timing.n_runs >= 1 and result.reference.cpu_timing.p50_ms > 0


def test_paired_rounds_run_on_one_thread_and_stop_when_the_ratio_is_known(model_file):
    """The basis of the device figure: model and kernels interleaved, one thread each."""
    path = model_file(add_model((256, 256)))
    work = dict.fromkeys(KERNELS, 0.0) | {"stream": 3 * 4 * 256**2, "call": 1.0, "dispatch": 1.0}
    capped = run_model(spec(path, calibrate=True, paired_time_s=0.2))
    adaptive = run_model(spec(path, calibrate=True, paired_time_s=5.0, work=work))
    for result in (capped, adaptive):
        paired = result.paired
        assert paired["threads"] == 1
        assert paired["rounds"] >= MIN_ROUNDS  # however slow a loaded CI machine is
        lengths = {name: len(v) for name, v in paired["cpu_ms"].items()}
        assert set(lengths.values()) == {paired["rounds"]}
    # without the work every kernel runs; with it, only those the model's work needs
    references = {"reference0", "reference1", "reference2"}
    kernels = {kernel for kernel, _ in KERNELS.values()}
    assert set(capped.paired["cpu_ms"]) == {"model", *kernels, *references}
    # the float references need the float conv and GEMM kernels, nothing needs the int8 ones
    assert set(adaptive.paired["cpu_ms"]) == {
        "model", "conv3x3", "gemm", "stream_add", "call", "dispatch", *references,
    }  # fmt: skip
    assert set(adaptive.paired["references"]) == references
    assert not capped.paired["converged"]  # no work given: ran to the cap
    # with the work known it stops once the ratio is known to 1 % (how soon depends on the
    # machine's noise; the rule itself is tested deterministically in test_runner_units)
    from pytest_edgegate.runner.hostwork import is_precise, ratio_estimate
    from pytest_edgegate.runner.paired import MAX_ROUNDS

    precise = is_precise(ratio_estimate(adaptive.paired, work), 0.01)
    assert adaptive.paired["converged"] == precise
    # it stops when precise, at the cap or at the most rounds it ever takes, nothing else
    done = adaptive.paired["elapsed_s"] >= 5 or adaptive.paired["rounds"] == MAX_ROUNDS
    assert precise or done


@pytest.mark.parametrize("calibrate", [False, True])
def test_lock_serialises_timed_windows(model_file, tmp_path, calibrate):
    """Two concurrent runs on one lock file: no timed window overlaps another."""
    path = model_file(add_model((256, 256)))
    lock = str(tmp_path / "timing.lock")
    # rel_ci tiny: each run times until its cap, so unlocked windows would overlap
    settings = dict(lock_path=lock, time_cap_s=0.4, rel_ci=1e-9, profile_nodes=True,
                    calibrate=calibrate, calibration_time_s=0.2, paired_time_s=0.3)  # fmt: skip
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda s: run_model(spec(path, seed=s, **settings)), [0, 1]))
    windows = sorted(w for r in results for w in r.lock.windows_ns)
    # per run: the timed part (with the calibration kernels), the paired rounds, the profile
    assert len(windows) == (6 if calibrate else 4)
    for (_, end), (start, _) in zip(windows, windows[1:], strict=False):
        assert end <= start
    assert all(r.lock.path == lock for r in results)


def _flock_waiters(path) -> int:
    """How many processes are blocked on a flock of ``path`` (Linux ``/proc/locks``)."""
    inode = f":{os.stat(path).st_ino} "
    with open("/proc/locks", encoding="ascii") as fh:
        return sum(1 for line in fh if "->" in line and "FLOCK" in line and inode in line)


@pytest.mark.skipif(not os.path.exists("/proc/locks"), reason="needs Linux /proc/locks")
def test_waiting_for_the_lock_does_not_count_against_the_timeout(model_file, tmp_path):
    """The lock is held elsewhere until the child has waited longer than its timeout: the run
    waits, then succeeds.

    The release is timed from the moment the child is seen blocked on the lock, not from the
    start of the run, so a slow start-up on a loaded machine cannot eat the margin: the child
    only has to start and run within the timeout (8 s, for about 1 s of work), and it waits
    9 s on top of that.
    """
    import fcntl
    import threading
    import time

    timeout_s, hold_s = 8.0, 9.0
    path = model_file(add_model())
    lock = tmp_path / "timing.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    seen_waiting: list[float] = []

    def release() -> None:
        deadline = time.monotonic() + 600
        while _flock_waiters(lock) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        seen_waiting.append(time.monotonic())
        time.sleep(hold_s)
        os.close(fd)  # closing drops the flock

    releaser = threading.Thread(target=release)
    releaser.start()
    try:
        result = run_model(spec(path, lock_path=str(lock), timeout_s=timeout_s))
    finally:
        releaser.join()
    assert seen_waiting
    assert result.lock.wait_ms > hold_s * 1000 > timeout_s * 1000


def test_peak_memory_is_the_childs_not_the_parents(model_file):
    """A parent holding 300 MB must not show up in the child's peak (ru_maxrss would)."""
    path = model_file(add_model())
    ballast = np.ones(300_000_000 // 8)  # touched: resident in this process
    result = run_model(spec(path))
    assert ballast.sum() > 0
    assert result.memory.model_peak_mb < 100
    assert result.memory.peak_rss_mb < result.memory.baseline_rss_mb + 100
