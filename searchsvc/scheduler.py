"""Re-indexing while the server runs: on a schedule (APScheduler), on demand (the admin API),
never two at a time, each run in its own process so that a crash cannot take the server down.

Runs are coordinated through files in the index folder, so every server process (there may be
several sharing a port) sees the same state: ``reindex.lock`` is held (flock) by the process
supervising a run, and ``reindex-status.json`` records the last run and the one in progress.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from searchsvc.config import Settings
from searchsvc.errors import ConfigError, SearchsvcError

log = logging.getLogger("searchsvc.reindex")
STATUS_FILE = "reindex-status.json"
RUN_LOCK = "reindex.lock"
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class ReindexRunning(SearchsvcError):
    """A re-index is already running."""


def parse_interval(text: str) -> float:
    """Seconds in '90', '90s', '15m', '2h' or '1d'."""
    match = _INTERVAL.match(text or "")
    if not match or float(match.group(1)) <= 0:
        raise ConfigError(f"reindex_every must be a duration like 30s, 15m, 2h or 1d; got {text!r}.")
    return float(match.group(1)) * _UNITS[match.group(2)]


@dataclass
class RunHandle:
    id: str
    full: bool
    thread: threading.Thread


class Reindexer:
    """Starts re-index runs (one at a time across all processes) and records their outcome."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.index_dir = Path(settings.index_dir)
        self.status_path = self.index_dir / STATUS_FILE
        self._local_lock = threading.Lock()
        self.next_run: str | None = None

    # -- state -------------------------------------------------------------------------------
    def status(self) -> dict:
        try:
            data = json.loads(self.status_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            data = {}
        data["running"] = self.is_running()
        data.setdefault("last_run", None)
        data["next_run"] = self.next_run if self.next_run is not None else data.get("next_run")
        return data

    def _write_status(self, **changes) -> None:
        try:
            data = json.loads(self.status_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            data = {}
        data.update(changes)
        self.index_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.status_path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, default=str), encoding="utf-8")
        os.replace(tmp, self.status_path)

    def is_running(self) -> bool:
        path = self.index_dir / RUN_LOCK
        if not path.exists():
            return False
        with open(path, "a+") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            return False

    # -- runs --------------------------------------------------------------------------------
    def start(self, full: bool = False, trigger: str = "manual") -> RunHandle:
        """Start a run in the background; raises ReindexRunning when one is going on anywhere."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        handle = open(self.index_dir / RUN_LOCK, "a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise ReindexRunning("A re-index is already running; try again when it has finished.") from None
        run_id = uuid.uuid4().hex[:12]
        started = time.time()
        self._write_status(current={"id": run_id, "full": full, "trigger": trigger, "started_at": started})
        thread = threading.Thread(
            target=self._supervise,
            args=(handle, run_id, full, trigger, started),
            name=f"reindex-{run_id}",
            daemon=True,
        )
        thread.start()
        return RunHandle(run_id, full, thread)

    def run_scheduled(self, full: bool = False) -> None:
        """The scheduler's job: start a run, or log that one is still going and skip."""
        try:
            self.start(full=full, trigger="schedule").thread.join()
        except ReindexRunning:
            log.warning(json.dumps({"event": "reindex_skipped", "reason": "previous run still running"}))

    def _supervise(self, handle, run_id: str, full: bool, trigger: str, started: float) -> None:
        command = [sys.executable, "-m", "searchsvc", "index", "--json", "--index", str(self.index_dir)]
        command += ["--lock-timeout", str(self.settings.lock_timeout)]
        if full:
            command.append("--full")
        command += list(self.settings.source)
        record = {"id": run_id, "full": full, "trigger": trigger, "started_at": started}
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            record["finished_at"] = time.time()
            if done.returncode == 0:
                report = json.loads(done.stdout.strip().splitlines()[-1])
                record.update(ok=True, report=_summary(report))
            else:
                error = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
                record.update(ok=False, error=error, exit_status=done.returncode)
        except Exception as exc:  # noqa: BLE001 - a failed run is recorded, never raised into the server
            record.update(ok=False, error=f"{type(exc).__name__}: {exc}", finished_at=time.time())
        record["seconds"] = round(record["finished_at"] - started, 3)
        self._write_status(last_run=record, current=None)
        log.info(json.dumps({"event": "reindex", **record}, default=str))
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


def _summary(report: dict) -> dict:
    keys = ("added", "updated", "unchanged", "deleted", "duplicates", "failed", "documents", "generation")
    summary = {key: report.get(key) for key in keys}
    summary["failures"] = report.get("failures", [])[:50]
    return summary


class Schedule:
    """APScheduler jobs for the configured intervals and cron expressions."""

    def __init__(self, reindexer: Reindexer) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        settings = reindexer.settings
        self.reindexer = reindexer
        self.scheduler = BackgroundScheduler(daemon=True, job_defaults={"coalesce": True, "max_instances": 1})
        jobs = []
        if settings.reindex_every:
            jobs.append(("reindex", IntervalTrigger(seconds=parse_interval(settings.reindex_every)), False))
        for name, expression, full in (
            ("reindex-cron", settings.reindex_cron, False),
            ("full-reindex-cron", settings.full_reindex_cron, True),
        ):
            if expression:
                try:
                    trigger = CronTrigger.from_crontab(expression)
                except ValueError as exc:
                    raise ConfigError(
                        f"{name.replace('-', '_')} {expression!r} is not a cron expression: {exc}."
                    ) from None
                jobs.append((name, trigger, full))
        for name, trigger, full in jobs:
            self.scheduler.add_job(
                reindexer.run_scheduled,
                trigger,
                kwargs={"full": full},
                id=name,
                name=name,
                misfire_grace_time=None,
            )
        self.active = bool(jobs)

    def start(self) -> None:
        if self.active:
            self.scheduler.start()
            self._publish_next()
            self.scheduler.add_listener(lambda _event: self._publish_next())

    def _publish_next(self) -> None:
        times = [job.next_run_time for job in self.scheduler.get_jobs() if job.next_run_time]
        self.reindexer.next_run = min(times).isoformat() if times else None
        self.reindexer._write_status(next_run=self.reindexer.next_run)

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
