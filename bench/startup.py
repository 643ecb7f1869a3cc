"""What the plugin adds to the start-up of a pytest run that has no edge tests.

Runs ``python -m pytest`` on a folder holding one plain test, alternately with edgegate
loaded and with ``-p no:edgegate``, and prints the medians and their difference (target:
under 50 ms).  Interleaving the two keeps a busy machine from favouring either side.

    python bench/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_MS = 50.0


def _time(cmd: list[str], cwd: str) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
    return (time.perf_counter() - start) * 1e3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "test_plain.py").write_text("def test_plain():\n    assert True\n")
        base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        with_plugin, without = [], []
        _time(base, tmp)  # warm the file cache
        for _ in range(args.runs):
            with_plugin.append(_time(base, tmp))
            without.append(_time([*base, "-p", "no:edgegate"], tmp))
    on, off = statistics.median(with_plugin), statistics.median(without)
    added = on - off
    print(f"pytest run with no edge tests, median of {args.runs} interleaved runs:")
    print(f"  with edgegate    {on:8.1f} ms")
    print(f"  -p no:edgegate   {off:8.1f} ms")
    verdict = "within" if added < TARGET_MS else "over"
    print(f"  added by edgegate {added:7.1f} ms (target < {TARGET_MS:.0f} ms: {verdict})")
    return 0 if added < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
