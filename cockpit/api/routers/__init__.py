"""HTTP routers of the platform API."""
