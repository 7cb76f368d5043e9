"""Launch a Cockpit API server for tests: the real app, with the spine test kit's rule model.

Usage: python -m tests.support.serve PORT   (settings come from COCKPIT_* env vars)
"""

from __future__ import annotations

import os
import sys

import uvicorn

from cockpit.app import create_app
from cockpit.clock import StartedClock, install, parse_instant
from cockpit.config import Settings
from cockpit.logging import configure_logging
from tests.support.spinekit import AGENTS_DIR, rule_model_factory


def _clock_from_the_test() -> None:
    """Count this server's clock from the test's instant (``tests.support.live.clock_now``), not
    from when this process finished importing; the settings keep a clock with their start."""
    origin = os.environ.get("COCKPIT_TEST_CLOCK_ORIGIN")
    start = os.environ.get("COCKPIT_CLOCK_START")
    if origin and start:
        install(StartedClock(parse_instant(start), _origin=float(origin)))


def main() -> None:
    port = int(sys.argv[1])
    _clock_from_the_test()
    settings = Settings(agents_path=[AGENTS_DIR], tool_modules=["tests.support.spinekit"])
    configure_logging("WARNING")
    app = create_app(settings, model_factory=rule_model_factory())
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
