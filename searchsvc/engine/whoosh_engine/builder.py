"""The Whoosh engine's build side: a build writes a new generation folder beside the current one
(hard links to its segments for an incremental build) and publishes it by renaming CURRENT.

One build at a time (the build lock, build_lock.py); a build that fails or is aborted removes
its unfinished generation, and the current one keeps serving.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from whoosh import index as whoosh_index

from searchsvc.analysis import ANALYSIS_VERSION
from searchsvc.engine.interface import BuildState
from searchsvc.engine.whoosh_engine import writer
from searchsvc.engine.whoosh_engine.build_lock import BuildLock
from searchsvc.engine.whoosh_engine.build_workers import ShardWorkers, stop_workers
from searchsvc.engine.whoosh_engine.generations import (
    Generation,
    current_generation,
    link_generation,
    new_generation,
    publish_generation,
    remove_old_generations,
    remove_unpublished_generations,
    write_error,
)
from searchsvc.engine.whoosh_engine.schema import analysis_version
from searchsvc.engine.whoosh_engine.summary import STATE_FILES, read_state, write_state

# why a build asked for as an update rebuilds everything (a line of its report's warnings)
OUTDATED_ANALYSIS = (
    'The index was built with older text analysis (words split at apostrophes, so "d\'Or" was not '
    "found): rebuilt in full."
)


def document_count(folder: Path) -> int:
    return whoosh_index.open_dir(str(folder), indexname=writer.INDEX_NAME).doc_count()


def outdated_analysis(folder: Path) -> bool:
    """Whether the index in ``folder`` holds words made by older analysis rules than queries now
    use (an update would keep them): the next build rebuilds it in full."""
    schema = whoosh_index.open_dir(str(folder), indexname=writer.INDEX_NAME).schema
    return analysis_version(schema) < ANALYSIS_VERSION


class WhooshBuild:
    """One build: a new generation, written by ``delete``/``upsert`` (or a sharded load) and
    made current by ``publish``."""

    def __init__(self, index_dir: Path, full: bool) -> None:
        self.index_dir = index_dir
        self.current = current_generation(index_dir)
        outdated = not full and self.current is not None and outdated_analysis(self.current.path)
        self.full = full or self.current is None or outdated
        self.warnings = [OUTDATED_ANALYSIS] if outdated else []
        self.generation: Generation | None = None
        self._deletes: list[str] = []
        self._written = False

    def _start(self) -> Generation:
        if self.generation is None:
            self.generation = new_generation(self.index_dir)
            if not self.full:
                link_generation(self.current, self.generation)
                for name in STATE_FILES:
                    (self.generation.path / name).unlink(missing_ok=True)
        return self.generation

    def delete(self, ids) -> None:
        if self.full:
            return  # a full build starts empty
        self._deletes.extend(ids)

    def upsert(self, articles: Sequence) -> None:
        generation = self._start()
        if self.full:
            if self._written:
                raise RuntimeError("a full Whoosh build takes its articles in one upsert")
            writer.write_full(generation.path, articles)
        else:
            writer.write_changes(generation.path, sorted(set(self._deletes)), articles)
            self._deletes = []
        self._written = True

    def sharded_load(self, jobs: Sequence, parse: Callable, workers: int, progress: Callable | None):
        """Parse ``jobs`` in ``workers`` processes, each of which then writes the articles the
        indexer chose as its own segment (build_workers.py). Full builds only."""
        if not self.full:
            return None
        return _ShardedLoad(self, ShardWorkers(jobs, workers, parse, progress, spill_dir=self.index_dir))

    def document_count(self) -> int:
        if self.generation is None or not self._written:
            if self.full:
                return 0
            return document_count(self.current.path)
        return document_count(self.generation.path)

    def publish(self, state: BuildState) -> str:
        generation = self._start()
        if not self._written:
            if self.full:
                writer.write_full(generation.path, [])
            elif self._deletes:
                writer.write_changes(generation.path, sorted(set(self._deletes)), [])
            self._written = True
        write_state(generation.path, state)
        save_columns(generation, None if self.full else self.current)
        publish_generation(self.index_dir, generation)
        return generation.name

    @property
    def view_name(self) -> str:
        """The name the build will publish under."""
        return self._start().name

    def abort(self) -> None:
        stop_workers()
        remove_unpublished_generations(self.index_dir)


class _ShardedLoad:
    def __init__(self, build: WhooshBuild, workers: ShardWorkers) -> None:
        self.build = build
        self.workers = workers
        self.parsed = workers.parsed

    def start(self, owners: dict[str, list]) -> None:
        generation = self.build._start()
        self.parsed = []
        self.workers.parsed = []
        self.workers.start_writing(generation.path, owners)

    def finish(self) -> int:
        written = self.workers.finish_writing()
        self.build._written = True
        return written


class WhooshBuilder:
    """Builds generations of the index in ``index_dir``."""

    name = "whoosh"

    def __init__(self, index_dir: str | os.PathLike[str]) -> None:
        self.index_dir = Path(index_dir)

    @contextmanager
    def begin(self, full: bool, lock_timeout: float = 30.0) -> Iterator[WhooshBuild]:
        """Hold the build lock and yield a build; a build that raises is aborted (its generation
        removed, its workers stopped) and an OSError becomes one IndexWriteError line."""
        build = None
        try:
            with BuildLock(self.index_dir, lock_timeout):
                remove_old_generations(self.index_dir)
                build = WhooshBuild(self.index_dir, full)
                try:
                    yield build
                except BaseException:
                    build.abort()
                    raise
        except OSError as exc:
            writing = build.generation.name if build is not None and build.generation is not None else None
            error = write_error(exc, self.index_dir, writing)
        else:
            return
        # raised outside the handler, so it drops the OSError's frames, which hold the failed writers' open files
        raise error

    def current(self) -> str | None:
        generation = current_generation(self.index_dir)
        return generation.name if generation else None

    def last_state(self) -> BuildState | None:
        generation = current_generation(self.index_dir)
        return read_state(generation.path) if generation else None

    def current_documents(self) -> int:
        generation = current_generation(self.index_dir)
        return document_count(generation.path) if generation else 0


def save_columns(generation: Generation, previous: Generation | None = None) -> None:
    """Save the generation's facet columns and sort ranks beside it (column_cache.py), so that
    opening it to search loads them instead of decoding every document's values; an update's
    from the ``previous`` generation's for the segments they share."""
    from searchsvc.engine.whoosh_engine.column_cache import save
    from searchsvc.engine.whoosh_engine.snapshot import Snapshot

    snapshot = Snapshot(generation.path, generation.name)
    try:
        save(snapshot, generation.path, previous.path if previous is not None else None)
    finally:
        snapshot.close()
