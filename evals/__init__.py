"""Evals: task suites, runner, scorers and reports."""
