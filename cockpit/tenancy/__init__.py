"""Tenants, API keys and the authenticated principal."""

from cockpit.tenancy.keys import IssuedKey, KeyInfo, KeyService
from cockpit.tenancy.principal import Principal, Role

__all__ = ["IssuedKey", "KeyInfo", "KeyService", "Principal", "Role"]
