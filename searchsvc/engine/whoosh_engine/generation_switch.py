"""Switching to a new index generation without making requests wait for it.

Opening a generation fully (warmed: see Snapshot.warm) takes seconds on a large index. The first
open happens in the caller (there is nothing to serve before it); every later one happens in a
background thread while requests keep being answered from the current snapshot, which is
replaced in one assignment once the new one is ready. A request holds the snapshot it started
with, so it never mixes two generations. A generation that fails to open is logged and tried
again after ``retry_seconds``; requests never see that failure while an older snapshot serves.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from searchsvc.engine.whoosh_engine.generations import Generation, current_generation
from searchsvc.errors import IndexNotFoundError

log = logging.getLogger("searchsvc.engine")
RETRY_SECONDS = 5.0


class GenerationSwitch:
    """The snapshot of the generation being served, and the background opening of the next one.

    ``open_snapshot(generation)`` opens one (fully: whatever it builds lazily should be built
    there); ``retire(old)`` is called with the snapshot a switch replaced.
    """

    def __init__(
        self,
        index_dir: str | os.PathLike[str],
        open_snapshot: Callable[[Generation], Any],
        retire: Callable[[Any], None] = lambda old: None,
        retry_seconds: float | None = None,
    ) -> None:
        self.index_dir = Path(index_dir)
        self.open_snapshot = open_snapshot
        self.retire = retire
        self._retry_seconds = retry_seconds
        self._snapshot: Any = None
        self._checked = 0.0
        self._first_lock = threading.Lock()  # the first open, which callers do wait for
        self._state_lock = threading.Lock()
        self._opening: str | None = None  # the generation a background thread is opening
        self._failed: dict[str, float] = {}  # generation -> when it last failed to open

    @property
    def retry_seconds(self) -> float:
        return RETRY_SECONDS if self._retry_seconds is None else self._retry_seconds

    @property
    def opening(self) -> str | None:
        return self._opening

    def current(self, check_interval: float) -> Any:
        """The snapshot to answer a request from; looks for a newer generation at most every
        ``check_interval`` seconds (0: on every call, and opens it in the caller: for tests and
        one-shot commands)."""
        now = time.monotonic()
        current = self._snapshot
        if current is not None and now - self._checked < check_interval:
            return current
        self._checked = now
        generation = current_generation(self.index_dir)
        if current is None:
            return self._first_open(generation)
        if generation is None or generation.name == current.name:
            return current
        if check_interval <= 0 or not Path(current.folder).is_dir():
            # tests and one-shot commands; or the served generation's folder was removed (two
            # newer ones were published meanwhile): it cannot serve a new thread, so wait
            self._open_now(generation)
        else:
            self._open_in_background(generation, now)
        return self._snapshot

    def close(self) -> None:
        """Close the snapshot being served (at shutdown: no request may be using it)."""
        with self._first_lock:
            old, self._snapshot = self._snapshot, None
        if old is not None:
            old.close()

    def _first_open(self, generation: Generation | None) -> Any:
        if generation is None:
            raise IndexNotFoundError(str(self.index_dir))
        with self._first_lock:
            if self._snapshot is None:
                self._snapshot = self.open_snapshot(generation)
            return self._snapshot

    def _open_now(self, generation: Generation) -> None:
        with self._first_lock:
            if self._snapshot.name != generation.name:
                self._install(self.open_snapshot(generation))

    def _open_in_background(self, generation: Generation, now: float) -> None:
        with self._state_lock:
            if self._opening is not None:
                return
            if self._snapshot is not None and self._snapshot.name == generation.name:
                return  # opened meanwhile: the caller read the snapshot before it was installed
            failed_at = self._failed.get(generation.name)
            if failed_at is not None and now - failed_at < self.retry_seconds:
                return
            self._opening = generation.name
        thread = threading.Thread(
            target=self._background_open, args=(generation,), name=f"open-{generation.name}", daemon=True
        )
        thread.start()

    def _background_open(self, generation: Generation) -> None:
        try:
            snapshot = self.open_snapshot(generation)
        except Exception as exc:  # noqa: BLE001 - logged and retried; the current snapshot keeps serving
            with self._state_lock:
                self._failed[generation.name] = time.monotonic()
                self._opening = None
            log.error(
                "Cannot open index generation %s (%s: %s); still serving %s, trying again in %g s.",
                generation.name,
                type(exc).__name__,
                exc,
                self._snapshot.name,
                self.retry_seconds,
                exc_info=True,
            )
            return
        with self._first_lock:
            self._install(snapshot)
        with self._state_lock:
            self._failed.pop(generation.name, None)
            self._opening = None
        log.info("Switched to index generation %s.", generation.name)

    def _install(self, snapshot: Any) -> None:
        old = self._snapshot
        if old is not None and _number(snapshot.name) < _number(old.name):
            return  # a background open finished after a newer generation was opened at once
        self._snapshot = snapshot
        if old is not None and old is not snapshot:
            self.retire(old)


def _number(name: str) -> int:
    """gen-000012 -> 12."""
    return int(name.rpartition("-")[2])


def open_snapshot(generation: Generation, warm: bool = True):
    """A Whoosh snapshot of ``generation``, warmed: its columns, ranks and (unless ``warm`` is
    false, for a one-shot command) its spelling vocabulary built, so that no request builds
    them. Without ``warm`` the vocabulary is built by the first query that needs it (a search
    with results never does)."""
    from searchsvc.engine.whoosh_engine.snapshot import Snapshot
    from searchsvc.memory import release_free_memory

    snapshot = Snapshot(generation.path, generation.name)
    snapshot.warm(vocabulary=warm)
    release_free_memory(collect=False)  # what opening left over
    return snapshot


def retire(old) -> None:
    """Stop sharing the replaced snapshot's file mappings (requests still on it keep theirs)."""
    from searchsvc.engine.whoosh_engine.patches import forget_folder

    forget_folder(str(old.folder))
