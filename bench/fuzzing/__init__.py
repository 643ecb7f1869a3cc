"""A fuzzer for the gate: hostile and broken inputs run through pytest as a user's tests would.

A CI gate runs on models, profiles, baselines and data sets that come from pull requests, so
edgegate must turn every broken or crafted input into a failing test that names the input and
the problem, and never into an INTERNALERROR, a dead or hung session, a file read or written
outside the model's folder, or markup and workflow commands injected into the reports.

This package generates seeded cases (:mod:`.cases`: mutated models from :mod:`.mutate`,
malformed data sets, markers, profiles and baselines from :mod:`.inputs`), writes each batch
as a pytest project in a fresh sandbox, runs pytest on it in a subprocess with an outer
timeout, and classifies every case from the JUnit XML, the JSON report, the terminal output
and the sandbox's canary files (:mod:`.session`).  ``bench/fuzz.py`` is the command line;
``tests/fuzz/`` runs a short seeded slice in the test suite.

It lives in the package (not in ``bench/``) so that the bench, the tests and anyone gating
their own models can import it; nothing in the plugin imports it.
"""

from __future__ import annotations

from bench.fuzzing.cases import Case, plan
from bench.fuzzing.runner import OUTCOMES, FuzzConfig, run_cases

__all__ = ["OUTCOMES", "Case", "FuzzConfig", "plan", "run_cases"]
