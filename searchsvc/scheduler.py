"""Re-indexing on a schedule: APScheduler jobs for the reindex_every, reindex_cron and
full_reindex_cron settings, each starting a Reindexer run (see searchsvc.reindex). No Flask here.
"""

from __future__ import annotations

import logging
import re
import threading

from searchsvc.errors import ConfigError
from searchsvc.reindex import RUN_LOCK, SCHEDULE_FILE, STATUS_FILE, Reindexer, ReindexRunning, RunHandle, log_event

__all__ = [
    "RUN_LOCK",
    "SCHEDULE_FILE",
    "STATUS_FILE",
    "Reindexer",
    "ReindexRunning",
    "RunHandle",
    "Schedule",
    "SkipMaxInstancesWarning",
    "parse_interval",
]

_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(text: str) -> float:
    """Seconds in '90', '90s', '15m', '2h' or '1d'."""
    match = _INTERVAL.match(text or "")
    if not match or float(match.group(1)) <= 0:
        raise ConfigError(f"reindex_every must be a duration like 30s, 15m, 2h or 1d; got {text!r}.")
    return float(match.group(1)) * _UNITS[match.group(2)]


class Schedule:
    """APScheduler jobs for the configured intervals and cron expressions.

    Start it in exactly one process, and only after forking workers: a scheduler's threads do not
    survive a fork.
    """

    def __init__(self, reindexer: Reindexer) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        settings = reindexer.settings
        self.reindexer = reindexer
        self.scheduler = BackgroundScheduler(daemon=True, job_defaults={"coalesce": True, "max_instances": 1})
        self._lock = threading.Lock()
        self.jobs: list[tuple[str, str, bool]] = []  # (id, description, full)
        triggers = []
        if settings.reindex_every:
            seconds = parse_interval(settings.reindex_every)
            triggers.append(("reindex", f"every {settings.reindex_every}", IntervalTrigger(seconds=seconds), False))
        for name, expression, full in (
            ("reindex-cron", settings.reindex_cron, False),
            ("full-reindex-cron", settings.full_reindex_cron, True),
        ):
            if expression:
                try:
                    trigger = CronTrigger.from_crontab(expression)
                except ValueError as exc:
                    raise ConfigError(
                        f"{name.replace('-', '_')} {expression!r} is not a cron expression: {exc}. "
                        "Use five fields: minute hour day month weekday, e.g. '*/15 * * * *'."
                    ) from None
                triggers.append((name, f"cron {expression!r}", trigger, full))
        for name, description, trigger, full in triggers:
            self.scheduler.add_job(
                reindexer.run_scheduled,
                trigger,
                kwargs={"full": full},
                id=name,
                name=name,
                misfire_grace_time=None,
            )
            self.jobs.append((name, description, full))
        self.active = bool(triggers)

    def describe(self) -> str:
        """'incremental every 15m, full cron '0 3 * * 0'' (empty when nothing is scheduled)."""
        return ", ".join(f"{'full' if full else 'incremental'} {text}" for _, text, full in self.jobs)

    def start(self) -> None:
        from apscheduler.events import (
            EVENT_JOB_ERROR,
            EVENT_JOB_EXECUTED,
            EVENT_JOB_MAX_INSTANCES,
            EVENT_JOB_MISSED,
            EVENT_JOB_SUBMITTED,
        )

        if not self.active:
            return
        self.scheduler.add_listener(
            self._on_event,
            EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES,
        )
        self.scheduler.start()
        self._publish_next()
        log_event("reindex_schedule", jobs=self.describe(), next_run=self.reindexer.next_run())

    def _on_event(self, event) -> None:
        from apscheduler.events import EVENT_JOB_MAX_INSTANCES

        if event.code == EVENT_JOB_MAX_INSTANCES:
            job = next((j for j in self.jobs if j[0] == event.job_id), None)
            log_event(
                "reindex_skipped",
                logging.WARNING,
                full=bool(job and job[2]),
                reason="a previous run is still running",
                job=event.job_id,
            )
        self._publish_next()

    def _publish_next(self) -> None:
        with self._lock:
            if not self.scheduler.running:
                return
            times = [job.next_run_time for job in self.scheduler.get_jobs() if job.next_run_time]
            try:
                self.reindexer.publish_next_run(min(times) if times else None)
            except OSError as exc:
                log_event("reindex_schedule_error", logging.ERROR, error=f"{exc.strerror or exc}")

    def shutdown(self) -> None:
        """Stop scheduling (a run in progress is left to Reindexer.stop)."""
        with self._lock:
            if self.scheduler.running:
                self.scheduler.shutdown(wait=False)
                self.reindexer.publish_next_run(None)


class SkipMaxInstancesWarning(logging.Filter):
    """APScheduler's own 'maximum number of running instances reached' line duplicates ours."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()
