#!/usr/bin/env bash
# The one tooling gate: lint, format, types, tests. CI runs exactly this (through the README).
# Usage: scripts/check.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}

echo "== ruff (lint)"
"$PY" -m ruff check cockpit tools knowledge agents evals tests benchmarks scripts
echo "== ruff (format)"
"$PY" -m ruff format --check cockpit tools knowledge agents evals tests benchmarks scripts
echo "== mypy (strict on the core)"
"$PY" -m mypy
echo "== pytest"
# -n 2: the machine has two cores; tests that start servers use their own ports and databases.
"$PY" -m pytest -n "${PYTEST_WORKERS:-2}" -q "$@"
