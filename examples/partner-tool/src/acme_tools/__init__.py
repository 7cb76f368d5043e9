"""Acme's Cockpit tools (the ``cockpit.tools`` entry point names :mod:`acme_tools.tools`)."""
