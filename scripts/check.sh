#!/usr/bin/env bash
# The one tooling gate: lint, format, types, tests. CI runs exactly this (through the README).
# Usage: scripts/check.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
# Bytecode is cached (in __pycache__, which git ignores) even where the environment sets
# PYTHONDONTWRITEBYTECODE: without it every pytest worker and every server or CLI process a test
# starts compiles the project again, and pytest rewrites the asserts of every test module and
# plugin again (a third of each worker's collection time on this 2-core machine).
unset PYTHONDONTWRITEBYTECODE

echo "== ruff (lint)"
"$PY" -m ruff check cockpit tools knowledge agents evals tests benchmarks scripts
echo "== ruff (format)"
"$PY" -m ruff format --check cockpit tools knowledge agents evals tests benchmarks scripts
echo "== mypy (strict on the core)"
"$PY" -m mypy
echo "== evals (quick subset)"
# Tasks tagged `quick` in evals/suites, one trial each, with the oracle and do-nothing controls.
# Fails when the oracle misses a task, do-nothing passes a write, or a `gate` task fails.
# Measured ≤ 3 minutes on 2 cores (template seeding included); SKIP_EVALS=1 skips it locally.
if [ "${SKIP_EVALS:-0}" != 1 ]; then
  EVAL_REPORT=${EVAL_REPORT:-.cockpit/evals/ci}
  "$PY" -m cockpit eval run evals/suites --tag quick --trials 1 --report "$EVAL_REPORT"
  echo "JUnit: $EVAL_REPORT/junit.xml"
fi
echo "== pytest"
# -n 2: the machine has two cores; tests that start servers use their own ports and databases.
# loadgroup: the browser tests share one console server, so they all run on one worker.
# --no-loadscope-reorder: work goes out in collection order, which tests/conftest.py sets
# (slow modules first); xdist's own order, by group size, sent long two-test modules out last.
# Screenshots of every console page are kept in .cockpit/ci/screenshots/ (CI artefacts).
"$PY" -m pytest -n "${PYTEST_WORKERS:-2}" --dist loadgroup --no-loadscope-reorder -q "$@"
