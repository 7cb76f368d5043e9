"""Crons: runs on a schedule, per tenant, each run as the key that set the cron.

LangGraph's cron API (``/runs/crons``, ``/threads/{id}/runs/crons``) over these parts:
:mod:`~cockpit.crons.schedule` (five-field expressions), :mod:`~cockpit.crons.service`
(create, change, search), :mod:`~cockpit.crons.scheduler` (claims due crons exactly once
across workers and starts their runs through ``Runtime.start_run``).
"""

from cockpit.crons.models import CronRecord
from cockpit.crons.schedule import Schedule, next_fire, parse_schedule, parse_timezone
from cockpit.crons.scheduler import CronScheduler, Fire, owner_principal
from cockpit.crons.service import SELECT_FIELDS, CronFilter, CronRequest, CronService, cron_json

__all__ = [
    "SELECT_FIELDS",
    "CronFilter",
    "CronRecord",
    "CronRequest",
    "CronScheduler",
    "CronService",
    "Fire",
    "Schedule",
    "cron_json",
    "next_fire",
    "owner_principal",
    "parse_schedule",
    "parse_timezone",
]
