"""Cockpit test suite (a package so `tests.support` wins over stray site-packages `tests`)."""
