"""Shared test kit: servers, fake models, test tools."""
