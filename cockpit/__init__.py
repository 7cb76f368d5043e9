"""Cockpit: an open agentic-commerce platform."""

__version__ = "0.1.0"
