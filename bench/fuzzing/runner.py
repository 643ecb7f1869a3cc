"""Running fuzz cases through pytest and classifying what happened to each.

Every session is a fresh sandbox (:class:`~.cases.Sandbox`): a project with the generated
tests and the cases' files, a folder of canary files *outside* every model's folder, a report
folder and a private ``TMPDIR``.  pytest runs on it in a subprocess, as a user would run it,
with an outer timeout; afterwards:

* JUnit XML gives each test's outcome, message and duration;
* a canary whose access time or content changed was read or written: an *escape*, attributed
  to its case (every case has its own canary, which its external-data mutations aim at);
* a file created or changed anywhere in the sandbox outside the report folder is an escape;
  a file left in the private ``TMPDIR`` (but the timing lock) is a leak;
* with ``strace`` (optional) any open of a canary, and any write outside the sandbox, is an
  escape too, whether or not the file system records access times;
* every stdout line GitHub would take for a workflow command must be one of edgegate's
  annotations with its data escaped, the HTML report and the step summary must hold no markup
  from the data: otherwise an *injection*;
* the JSON report must parse; a session that ends by signal or without its reports is a
  *crash*, one past its outer timeout (or leaving processes behind) a *hang*, and any
  ``INTERNALERROR`` an *internal error*.

A failed test counts as *failed-clear* only when its message is edgegate's, names the input
(the model or data file, the test, or the option) and says what is wrong; otherwise it is
*unclear*.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.fuzzing.cases import BASE_NODEID, SESSION_KINDS, Case, Sandbox, write_case
from pytest_edgegate.report.github import SUMMARY_HEADINGS

#: Outcomes, best first; a case gets the worst that applies.
OUTCOMES = (
    "passed",
    "failed-clear",
    "errored",
    "unclear",
    "hang",
    "crash",
    "internal-error",
    "injection",
    "escape",
)
#: Outcomes that must never happen.
BAD = ("hang", "crash", "internal-error", "injection", "escape")

_CASE_ID = re.compile(r"c\d{5}")
_ANNOTATION = re.compile(r"::error (?:file=[^,:\r\n]*,(?:line=\d+,)?)?title=[^,:\r\n]*::[^\r\n]*")
_MARKUP = re.compile(r"<\s*(script|img|iframe|object|embed)\b", re.IGNORECASE)
_SUMMARY_HEADINGS = SUMMARY_HEADINGS  # the summary's fixed lines (headings, the legend)
_STRACE_WRITES = re.compile(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC")
_STRACE_WRITE_CALLS = ("creat(", "truncate(", "rename", "link", "symlink", "unlink", "mkdir")
#: Paths outside the sandbox a session may write: devices and the kernel's own files.
_ALLOWED_WRITES = ("/dev/null", "/dev/shm/", "/dev/tty", "/dev/pts/", "/proc/", "/sys/")


@dataclass
class FuzzConfig:
    """How to run the cases.  Timeouts are small so that a hang shows quickly."""

    seed: int = 0
    batch: int = 50
    measured_batch: int = 20
    jobs: int = 2
    edge_timeout: float = 5.0
    time_cap: float = 0.2
    workdir: Path | None = None
    strace: bool = False
    keep: bool = False
    python: str = sys.executable


@dataclass
class SessionRecord:
    """One pytest session: what it ran and what went wrong at the session level."""

    index: int
    kind: str
    case_ids: list[str]
    returncode: int | None = None
    seconds: float = 0.0
    problems: list[tuple[str, str]] = field(default_factory=list)  # (outcome, detail)
    root: str = ""


@dataclass
class FuzzReport:
    cases: list[Case]
    sessions: list[SessionRecord]
    notes: list[str] = field(default_factory=list)

    def counts(self) -> Counter:
        return Counter(c.outcome for c in self.cases)

    def session_problems(self) -> Counter:
        return Counter(outcome for s in self.sessions for outcome, _ in s.problems)

    def bad(self) -> list[Case]:
        return [c for c in self.cases if c.outcome in BAD or c.outcome == "unclear"]

    def ok(self) -> bool:
        """No bad outcome and no unclear message, per case or per session."""
        return not self.bad() and not any(s.problems for s in self.sessions)

    def table(self) -> str:
        """Counts by outcome, then by kind and outcome, then session-level problems."""
        counts = self.counts()
        lines = [f"{len(self.cases)} cases in {len(self.sessions)} pytest sessions"]
        width = max(len(o) for o in OUTCOMES)
        for outcome in OUTCOMES:
            lines.append(f"  {outcome:<{width}}  {counts.get(outcome, 0):>6}")
        kinds = sorted({c.kind for c in self.cases})
        header = "  kind      " + "".join(f"{o[:10]:>11}" for o in OUTCOMES)
        lines += ["", header]
        for kind in kinds:
            per = Counter(c.outcome for c in self.cases if c.kind == kind)
            lines.append(f"  {kind:<10}" + "".join(f"{per.get(o, 0):>11}" for o in OUTCOMES))
        slowest = max(self.cases, key=lambda c: c.seconds, default=None)
        if slowest is not None and slowest.seconds:
            lines.append(
                f"\nslowest test: {slowest.seconds:.1f} s ({slowest.id}, {slowest.kind}/"
                f"{slowest.mutation}{', run' if slowest.measure else ''}); longest session "
                f"{max(s.seconds for s in self.sessions):.1f} s"
            )
        problems = self.session_problems()
        lines += [f"note: {n}" for n in self.notes]
        lines.append("")
        lines.append(
            "session-level problems: "
            + (", ".join(f"{k} {v}" for k, v in sorted(problems.items())) or "none")
        )
        return "\n".join(lines)


# ----------------------------------------------------------------------------- sessions


def _sessions(cases: list[Case], config: FuzzConfig) -> list[tuple[str, list[Case]]]:
    static = [c for c in cases if c.kind in ("model", "proto", "marker") and not c.measure]
    static_ids = {c.id for c in static}
    measured = [c for c in cases if c.kind not in SESSION_KINDS and c.id not in static_ids]
    out: list[tuple[str, list[Case]]] = []
    for i in range(0, len(static), config.batch):
        out.append(("static", static[i : i + config.batch]))
    for i in range(0, len(measured), config.measured_batch):
        out.append(("measured", measured[i : i + config.measured_batch]))
    out.extend((c.kind, [c]) for c in cases if c.kind in SESSION_KINDS)
    return out


def run_cases(
    cases: list[Case],
    config: FuzzConfig,
    progress: Callable[[SessionRecord], None] | None = None,
) -> FuzzReport:
    """Write and run every case, ``config.jobs`` sessions at a time; classify each case."""
    plans = _sessions(cases, config)
    records: list[SessionRecord] = []
    notes = []
    if config.workdir is not None:
        config.workdir.mkdir(parents=True, exist_ok=True)
    probe_dir = Path(tempfile.mkdtemp(prefix="edgegate-fuzz-probe-", dir=config.workdir))
    try:
        if not atime_works(probe_dir) and not config.strace:
            notes.append(
                "this file system does not record reads (noatime): canary reads are seen "
                "only with --strace"
            )
    finally:
        shutil.rmtree(probe_dir, ignore_errors=True)
    with ThreadPoolExecutor(max_workers=max(1, config.jobs)) as pool:
        futures = [
            pool.submit(_run_session, index, kind, group, config)
            for index, (kind, group) in enumerate(plans)
        ]
        for future in futures:
            record = future.result()
            records.append(record)
            if progress is not None:
                progress(record)
    return FuzzReport(cases, records, notes)


_TEST_FILE = '''"""Generated by bench.fuzzing: one parametrized test per fuzz case."""

import json
import pathlib

import pytest

HERE = pathlib.Path(__file__).parent
CASES = json.loads((HERE / "cases.json").read_text(encoding="utf-8"))


def _param(cid):
    budget = CASES[cid].get("budget")
    marks = [pytest.mark.edge_budget(**budget)] if budget else []
    return pytest.param(cid, marks=marks, id=cid)


@pytest.mark.parametrize("cid", [_param(c) for c in sorted(CASES)])
def test_case(edge, cid):
    spec = CASES[cid]
    model = spec["model"]
    if spec.get("in_memory"):
        import onnx

        model = onnx.load_model_from_string((HERE / model).read_bytes())
    edge.evaluate(model, **spec.get("kwargs", {}))
'''


def _supports(flag: str) -> bool:
    from pytest_edgegate.settings import OPTIONS

    return any(o.flag == flag for o in OPTIONS)


def _command(
    kind: str, index: int, group: list[Case], box: Sandbox, config: FuzzConfig
) -> tuple[list[str], dict[str, str]]:
    reports = box.reports
    cmd = [
        config.python, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q",
        "--continue-on-collection-errors", f"--junitxml={reports / 'junit.xml'}",
        f"--edge-json={reports / 'results.json'}", f"--edge-html={reports / 'report.html'}",
        f"--edge-timeout={config.edge_timeout}", f"--edge-time-cap={config.time_cap}",
    ]  # fmt: skip
    if kind in SESSION_KINDS:
        cmd += group[0].options
    if not any(o.startswith("--edge-target=") for o in cmd):
        cmd.append("--edge-target=cortex-a72")
    if kind == "measured":
        cmd.append("--edge-measure")
    if kind == "static" and index % 4 == 3 and _supports("--edge-max-model-mb"):
        cmd.append("--edge-max-model-mb=0.1")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("EDGEGATE_", "PYTEST_", "GITHUB_")) and k != "TMPDIR"
    }
    env.update(TMPDIR=str(box.tmp), PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0")
    if index % 2 == 0:
        env.update(GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(reports / "summary.md"))
    if config.strace and shutil.which("strace"):
        trace = "trace=open,openat,openat2,creat,truncate,rename,renameat,renameat2,link,linkat,"
        trace += "symlink,symlinkat,unlink,unlinkat,mkdir,mkdirat"
        cmd = ["strace", "-f", "-qq", "-s", "4096", "-o", str(box.root / "strace.log"),
               "-e", trace, *cmd]  # fmt: skip
    return cmd, env


def _outer_timeout(kind: str, group: list[Case], config: FuzzConfig) -> float:
    per = 0.0
    for case in group:
        if case.kind in SESSION_KINDS:
            per += 60
        elif case.measure:
            per += 3 * config.edge_timeout + 20
        else:
            per += 6 if case.base.startswith("light_") else 3
    return (60 + per) * (3 if config.strace else 1)


def _per_test_limit(case: Case, config: FuzzConfig) -> float:
    return 3 * config.edge_timeout + 40 if case.measure else 90.0


def _run_session(index: int, kind: str, group: list[Case], config: FuzzConfig) -> SessionRecord:
    record = SessionRecord(index, kind, [c.id for c in group])
    parent = config.workdir
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix=f"edgegate-fuzz-s{index:04d}-", dir=parent))
    record.root = str(root)
    box = Sandbox(root)
    box.create()
    try:
        for case in group:
            try:
                write_case(case, box, config.seed)
            except Exception as exc:  # noqa: BLE001 - a harness bug, shown per case
                case.outcome, case.detail = "errored", f"harness could not write: {exc!r}"
        if kind not in SESSION_KINDS:
            specs = {c.id: c.spec for c in group if c.kind != "marker" and not c.outcome}
            if specs:
                (box.project / "cases.json").write_text(json.dumps(specs), encoding="utf-8")
                (box.project / "test_fuzz_batch.py").write_text(_TEST_FILE, encoding="utf-8")
        canaries = _arm_canaries(box, group)
        before = _snapshot(root, box)
        cmd, env = _command(kind, index, group, box, config)
        start = time.monotonic()
        stdout, stderr, rc, timed_out = _run(cmd, env, box, _outer_timeout(kind, group, config))
        record.seconds = time.monotonic() - start
        record.returncode = rc
        strays = _stray_processes(root)
        if strays:
            record.problems.append(("hang", f"processes left running: {strays}"))
        _classify(record, group, box, config, stdout, stderr, rc, timed_out)
        _check_escapes(record, group, box, canaries, before, config)
        for case in group:
            if not case.outcome:
                case.outcome = "errored"
                case.detail = case.detail or "no outcome recorded for this case"
    finally:
        if not config.keep and not any(c.outcome in BAD for c in group) and not record.problems:
            shutil.rmtree(root, ignore_errors=True)
    return record


def _run(
    cmd: list[str], env: dict[str, str], box: Sandbox, timeout: float
) -> tuple[str, str, int | None, bool]:
    proc = subprocess.Popen(
        cmd,
        cwd=box.project,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    return (
        out.decode("utf-8", "replace"),
        err.decode("utf-8", "replace"),
        None if timed_out else proc.returncode,
        timed_out,
    )


def _stray_processes(root: Path) -> list[int]:
    """Processes still running in the sandbox (a child that outlived its session): killed."""
    found = []
    prefix = str(root)
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        if cwd.startswith(prefix) or prefix in cmdline:
            found.append(pid)
    for pid in found:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    return found


# ----------------------------------------------------------------------------- canaries


def _arm_canaries(box: Sandbox, group: list[Case]) -> dict[str, tuple[int, str]]:
    """Each canary's access time set before its modification time (so ``relatime`` records
    the next read) and its digest; returns ``{case id: (atime_ns, sha256)}``."""
    armed = {}
    for case in group:
        path = box.canary(case.id)
        if not path.exists():
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        armed[case.id] = (_arm_path(path), digest)
    return armed


def atime_works(folder: Path) -> bool:
    """Whether this file system records a read in the access time (not with ``noatime``);
    without it, only ``--strace`` sees a canary being read."""
    probe = folder / ".atime-probe"
    probe.write_bytes(b"x")
    try:
        atime = _arm_path(probe)
        probe.read_bytes()
        return probe.stat().st_atime_ns != atime
    finally:
        probe.unlink()


def _arm_path(path: Path) -> int:
    st = path.stat()
    os.utime(path, ns=(st.st_mtime_ns - 2 * 86_400 * 10**9, st.st_mtime_ns))
    return path.stat().st_atime_ns


def _snapshot(root: Path, box: Sandbox) -> dict[str, tuple[int, int]]:
    """Every file and folder under the sandbox (reports and TMPDIR aside): size and mtime of
    files, by lstat; a folder only by its presence (its mtime moves with its entries)."""
    skip = (str(box.reports), str(box.tmp))
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            path = os.path.join(dirpath, name)
            if not path.startswith(skip):
                out[path] = (-1, -1)
        dirnames[:] = [d for d in dirnames if not os.path.join(dirpath, d).startswith(skip)]
        for name in filenames:
            path = os.path.join(dirpath, name)
            with contextlib.suppress(OSError):
                st = os.lstat(path)
                out[path] = (st.st_size, st.st_mtime_ns)
    return out


def _report_paths(group: list[Case]) -> tuple[str, ...]:
    """Files a session may write besides its report folder: a baseline it updates (and the
    temporary file it is written through, beside it)."""
    paths = []
    for case in group:
        for option in case.options:
            if option.startswith("--edge-baseline=") and "--edge-update-baseline" in case.options:
                path = option.split("=", 1)[1]
                paths += [path, os.path.join(os.path.dirname(path), "." + os.path.basename(path))]
    return tuple(paths)


def _attribute(text: str, group: list[Case]) -> list[Case]:
    ids = set(_CASE_ID.findall(text))
    return [c for c in group if c.id in ids]


def _mark(case: Case, outcome: str, detail: str) -> None:
    """Give ``case`` the worse of its outcome and ``outcome``."""
    if not case.outcome or OUTCOMES.index(outcome) > OUTCOMES.index(case.outcome):
        case.outcome, case.detail = outcome, detail


def _problem(record: SessionRecord, group: list[Case], outcome: str, detail: str) -> None:
    """A finding in ``detail``: the cases it names get it, else the session does."""
    named = _attribute(detail, group)
    for case in named:
        _mark(case, outcome, detail)
    if not named:
        record.problems.append((outcome, detail))


def _check_escapes(
    record: SessionRecord,
    group: list[Case],
    box: Sandbox,
    canaries: dict[str, tuple[int, str]],
    before: dict[str, tuple[int, int]],
    config: FuzzConfig,
) -> None:
    for case in group:
        if case.id not in canaries:
            continue
        atime, digest = canaries[case.id]
        path = box.canary(case.id)
        try:
            if path.stat().st_atime_ns != atime:
                _mark(case, "escape", f"canary {path.name} outside the model's folder was read")
            elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
                _mark(case, "escape", f"canary {path.name} was modified")
        except OSError as exc:
            _mark(case, "escape", f"canary {path.name} was removed or replaced ({exc})")
    after = _snapshot(box.root, box)
    allowed = _report_paths(group)
    for path, meta in sorted(after.items()):
        if before.get(path) != meta and not path.endswith("strace.log"):
            if allowed and path.startswith(allowed):
                continue
            what = "created" if path not in before else "changed"
            _problem(record, group, "escape", f"file {what} outside the report paths: {path}")
    killed = record.returncode is None  # a killed session leaves its temporary files
    for entry in sorted(os.listdir(box.tmp)) if box.tmp.is_dir() and not killed else []:
        if not entry.startswith("edgegate-timing-"):
            record.problems.append(("leak", f"left in TMPDIR: {entry}"))
    log = box.root / "strace.log"
    if config.strace and log.is_file():
        _check_strace(record, group, box, log)


def _check_strace(record: SessionRecord, group: list[Case], box: Sandbox, log: Path) -> None:
    outside = str(box.outside)
    root = str(box.root)
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        paths = re.findall(r'"((?:[^"\\]|\\.)*)"', line)
        if not paths or "ENOENT" in line and "O_CREAT" not in line:
            continue
        path = paths[0]
        if path.startswith(outside):
            _problem(record, group, "escape", f"strace: {line.strip()[:300]}")
            continue
        writes = _STRACE_WRITES.search(line) or any(c in line for c in _STRACE_WRITE_CALLS)
        if (
            writes
            and path.startswith("/")
            and not path.startswith(root)
            and not path.startswith(_ALLOWED_WRITES)
            and "= -1" not in line
        ):
            _problem(record, group, "escape", f"strace: write outside the sandbox: {line[:300]}")


# ----------------------------------------------------------------------------- outcomes


def _normal(text: str) -> str:
    """Text as compared for names: percent escapes undone, control characters dropped (JUnit
    XML and the terminal escape them differently)."""
    text = text.replace("%3A", ":").replace("%25", "%").replace("%0A", "").replace("%0D", "")
    text = re.sub(r"#x[0-9A-Fa-f]{1,4}|[\x00-\x1f\x7f-\x9f]", "", text)
    return text


def _names_input(case: Case, text: str) -> bool:
    from pytest_edgegate.logsafe import log_safe

    norm = _normal(text)
    for name in case.names:
        if name and (name in text or _normal(name) in norm or log_safe(name) in text):
            return True
    # A hostile file name starts with the case id: its escaped form still names it.
    return case.kind in ("model", "marker") and f"{case.id} " in norm


def _clear(case: Case, message: str, text: str) -> tuple[bool, str]:
    full = f"{message}\n{text}"
    if case.kind == "marker" and message == "collection failure":
        if "edge_budget" not in full:
            return False, "collection error that does not mention edge_budget"
        if "Traceback" in text or "\nE   " in text:
            return False, "collection error with a traceback"
    elif not re.match(r"(Failed: )?edgegate", message.strip()):
        return False, f"not an edgegate message: {message.strip()[:200]!r}"
    if not _names_input(case, full):
        return False, f"does not name the input ({case.names[:2]}): {message[:300]!r}"
    return True, message.strip()[:300]


def _junit_cases(path: Path) -> list[ET.Element]:
    try:
        return list(ET.parse(path).getroot().iter("testcase"))
    except (OSError, ET.ParseError):
        return []


def _classify(
    record: SessionRecord,
    group: list[Case],
    box: Sandbox,
    config: FuzzConfig,
    stdout: str,
    stderr: str,
    rc: int | None,
    timed_out: bool,
) -> None:
    output = stdout + "\n" + stderr
    if "INTERNALERROR" in output or rc == 3:
        excerpt = "\n".join(line for line in output.splitlines() if "INTERNALERROR" in line)
        _session_wide(record, group, "internal-error", excerpt[-1500:] or f"exit code {rc}")
    if timed_out:
        _session_wide(record, group, "hang", "the session passed its outer timeout")
    elif rc is not None and (rc < 0 or rc not in (0, 1, 4, 5)):
        _session_wide(record, group, "crash", f"exit code {rc}: {output[-800:]}")
    _check_outputs(record, group, box, stdout, rc)
    if record.kind in SESSION_KINDS:
        _classify_session_case(group[0], box, config, output, rc)
        return
    by_case: dict[str, list[ET.Element]] = {}
    for tc in _junit_cases(box.reports / "junit.xml"):
        ident = f"{tc.get('classname', '')} {tc.get('name', '')}"
        for cid in set(_CASE_ID.findall(ident)):
            by_case.setdefault(cid, []).append(tc)
    for case in group:
        if case.outcome:
            continue
        entries = by_case.get(case.id)
        if not entries:
            _mark(case, "crash" if not timed_out else "hang", "no result in the JUnit XML")
            continue
        for tc in entries:
            _classify_testcase(case, tc, config)


def _session_wide(record: SessionRecord, group: list[Case], outcome: str, detail: str) -> None:
    record.problems.append((outcome, detail))
    for case in group:
        _mark(case, outcome, detail)


def _classify_testcase(case: Case, tc: ET.Element, config: FuzzConfig) -> None:
    seconds = float(tc.get("time") or 0.0)
    case.seconds = max(case.seconds, seconds)
    if seconds > _per_test_limit(case, config):
        _mark(case, "hang", f"the test took {seconds:.1f} s")
    failure = tc.find("failure")
    error = tc.find("error")
    skipped = tc.find("skipped")
    if failure is None and error is None and skipped is None:
        _mark(case, "passed", "")
        return
    if skipped is not None and failure is None and error is None:
        _mark(case, "errored", f"skipped: {skipped.get('message', '')[:200]}")
        return
    node = failure if failure is not None else error
    message = node.get("message") or ""
    text = node.text or ""
    if error is not None and failure is None and message != "collection failure":
        _mark(case, "errored", f"error outside the test body: {message[:300]}")
        return
    clear, why = _clear(case, message, text)
    _mark(case, "failed-clear" if clear else "unclear", why)


def _classify_session_case(
    case: Case, box: Sandbox, config: FuzzConfig, output: str, rc: int | None
) -> None:
    if case.outcome:
        return
    if "Traceback (most recent call last)" in output:
        _mark(case, "unclear", "a traceback in the output: " + output[-600:])
        return
    lines = [
        line
        for line in output.splitlines()
        if line.startswith(("ERROR:", "edgegate error:", "edgegate warning:", "REGRESSED"))
    ]
    failures = [
        tc
        for tc in _junit_cases(box.reports / "junit.xml")
        if tc.find("failure") is not None or tc.find("error") is not None
    ]
    if rc == 0 and not failures:
        # Warnings must still name what they are about.
        unnamed = [ln for ln in lines if not _names_input(case, ln) and "baseline" in ln]
        if unnamed:
            _mark(case, "unclear", f"warning that names no input: {unnamed[0][:300]}")
        else:
            _mark(case, "passed", "; ".join(lines)[:300])
        return
    if rc in (1, 4):
        nodes = [tc.find("failure") if tc.find("failure") is not None else tc.find("error")
                 for tc in failures]  # fmt: skip
        messages = lines + [f"{n.get('message') or ''}\n{n.text or ''}" for n in nodes]
        if not messages:
            _mark(case, "unclear", f"exit code {rc} without a message: {output[-400:]}")
            return
        unnamed = [
            m for m in messages if not (_names_input(case, m) or "budget" in m or "REGRESSED" in m)
        ]
        if unnamed:
            _mark(case, "unclear", f"does not name the input: {unnamed[0][:300]}")
        else:
            _mark(case, "failed-clear", messages[0][:300])
        return
    _mark(case, "crash", f"exit code {rc}")


def _check_outputs(
    record: SessionRecord, group: list[Case], box: Sandbox, stdout: str, rc: int | None
) -> None:
    """Workflow commands in stdout, markup in the HTML and the summary, the JSON's validity."""
    for line in re.split(r"\r\n|\r|\n", stdout):
        stripped = line.lstrip()
        if stripped.startswith("::") and not (line == stripped and _ANNOTATION.fullmatch(stripped)):
            _problem(record, group, "injection", f"workflow command in stdout: {line[:300]!r}")
    html = box.reports / "report.html"
    if html.is_file():
        text = html.read_text(encoding="utf-8", errors="replace")
        for m in _MARKUP.finditer(text):
            around = text[max(0, m.start() - 300) : m.end() + 300]
            _problem(record, group, "injection", f"markup in the HTML report: {around!r}")
    summary = box.reports / "summary.md"
    if summary.is_file():
        columns = 0  # cells of the current table, from its header row
        for line in summary.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("|") and not columns:
                columns = line.count("|")
            elif not line.startswith("|"):
                columns = 0
            ok = (
                line in ("", *_SUMMARY_HEADINGS)
                or (line.startswith("|") and line.count("|") == columns)
            ) and not _MARKUP.search(line)
            if not ok:
                _problem(record, group, "injection", f"step summary line: {line[:300]!r}")
    results = box.reports / "results.json"
    if results.is_file():
        try:
            doc = json.loads(results.read_text(encoding="utf-8"))
            if not isinstance(doc.get("results"), list):
                raise ValueError("no results list")
        except ValueError as exc:
            _session_wide(record, group, "crash", f"the JSON report is not valid: {exc}")
    elif rc in (0, 1) and record.kind not in SESSION_KINDS:
        _session_wide(record, group, "crash", "pytest ended without writing the JSON report")


def summarize_bad(cases: Iterable[Case], limit: int = 40) -> list[str]:
    """One line per case that needs a look (worst outcomes first)."""
    bad = sorted(
        (c for c in cases if c.outcome in BAD or c.outcome == "unclear"),
        key=lambda c: (-OUTCOMES.index(c.outcome), c.id),
    )
    return [
        f"{c.id} {c.kind}/{c.mutation} on {c.base}{' (measured)' if c.measure else ''}: "
        f"{c.outcome}: {c.description}: {c.detail[:400]}"
        for c in bad[:limit]
    ]


def as_json(report: FuzzReport) -> dict[str, Any]:
    return {
        "counts": dict(report.counts()),
        "session_problems": dict(report.session_problems()),
        "cases": [c.to_dict() for c in report.cases],
        "sessions": [
            {
                "index": s.index,
                "kind": s.kind,
                "cases": s.case_ids,
                "returncode": s.returncode,
                "seconds": round(s.seconds, 2),
                "problems": s.problems,
                "root": s.root,
            }
            for s in report.sessions
        ],
    }


__all__ = ["BAD", "BASE_NODEID", "OUTCOMES", "FuzzConfig", "FuzzReport", "run_cases"]
