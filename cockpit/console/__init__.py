"""The web console: static pages served by the API app itself at ``/console``.

No build step and no Node: the pages are plain ES modules and CSS committed under
``static/``; they call the same REST API with the signed-in key, so a key can do in the
console exactly what it can do by REST.
"""

from __future__ import annotations

from cockpit.console.router import STATIC_DIR, router

__all__ = ["STATIC_DIR", "router"]
