"""Proactive monitors: the copilot that speaks first.

Built-in cron jobs per merchant check the payments world and record *findings* — a
success-rate drop, Visa VAMP / Mastercard ECM proximity, disputes nearing their deadline,
missing KYB documents, FX exposure over a limit — each announced once by a signed
``monitor.finding`` webhook and explained by the copilot in chat.

Public surface::

    MONITORS, Monitor, Finding       the built-in monitors and what they return
    run_monitors(db, tenant, merchant, now=...)   run a merchant's monitors on demand
    tick(db, now=...), MonitorScheduler           the per-worker cron (exactly once per due time)
    store, schedules                              findings and per-merchant settings

Modules: one per monitor (``success_rate``, ``scheme_programs``, ``dispute_deadline``,
``kyb_documents``, ``fx_exposure``), ``store`` (findings + webhooks), ``schedules`` (jobs and
parameters), ``runner``, ``scheduler``, ``router`` (``/v1/monitors``), ``tools`` (copilot).
"""

from __future__ import annotations

from tools.payments.monitors import schedules, store
from tools.payments.monitors.base import Finding, Monitor
from tools.payments.monitors.catalogue import MONITORS
from tools.payments.monitors.runner import run_monitors
from tools.payments.monitors.scheduler import MonitorScheduler, tick

__all__ = [
    "MONITORS",
    "Finding",
    "Monitor",
    "MonitorScheduler",
    "run_monitors",
    "schedules",
    "store",
    "tick",
]
