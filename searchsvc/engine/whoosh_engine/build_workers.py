"""Worker processes for a large full build: each parses its share of the files, keeps the
articles (pickled, in an unnamed temporary file in the index folder, so that memory does not grow
with the corpus), reports only their ids to the parent (which resolves duplicates across shares),
and then writes the winning articles as index segments. Articles never cross a process boundary,
which keeps the parent small."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import tempfile
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import BinaryIO

from searchsvc.child_processes import die_with_parent
from searchsvc.engine.whoosh_engine import writer
from searchsvc.memory import cycle_collection_paused, release_free_memory

PROGRESS_EVERY = 1000
_running: set[ShardWorkers] = set()  # workers not yet closed, for stop_workers


def stop_workers() -> None:
    """Kill the worker processes of every ShardWorkers not closed yet (a build failed)."""
    for workers in list(_running):
        workers.close(kill=True)


@dataclass(slots=True)
class ArticleStub:
    """What the parent needs of an article to resolve duplicates."""

    id: str
    related_to: str

    @property
    def is_related(self) -> bool:
        return bool(self.related_to)


class ShardWorkers:
    """Parses ``jobs`` with ``parse`` in ``count`` processes; ``parsed`` holds the results (with
    stubs for their articles) in job order. ``parse(job)`` returns an object with ``key`` (the
    file) and ``articles``."""

    def __init__(
        self,
        jobs: Sequence,
        count: int,
        parse: Callable,
        progress: Callable | None = None,
        spill_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        context = multiprocessing.get_context("fork")
        self._shard_keys = [{key for key, _ in jobs[shard::count]} for shard in range(count)]
        self.processes = []
        self.pipes: list[Connection] = []
        _running.add(self)
        try:
            for shard in range(count):
                parent_end, child_end = context.Pipe()
                # the child closes the parent's ends it inherits: a pipe whose reader is gone then fails
                inherited = [*self.pipes, parent_end]
                process = context.Process(
                    target=_worker,
                    args=(jobs[shard::count], parse, child_end, os.getpid(), inherited, spill_dir),
                    daemon=True,
                )
                self.pipes.append(parent_end)
                process.start()
                process._args = ()  # the child has its share of the jobs; the parent need not keep it
                child_end.close()
                self.processes.append(process)
            with cycle_collection_paused():  # the parent only gathers the workers' records
                self.parsed = sorted(self._gather_parsed(len(jobs), progress), key=lambda p: p.key)
        except BaseException:
            self.close(kill=True)
            raise

    def _gather_parsed(self, total: int, progress: Callable | None) -> list:
        done = [0] * len(self.pipes)
        results: list = []
        waiting = set(range(len(self.pipes)))
        while waiting:
            ready = wait([self.pipes[i] for i in waiting])
            for conn in ready:
                shard = self.pipes.index(conn)
                kind, payload = self._receive(shard)
                if kind == "some parsed":  # sent as they come: a worker does not hold them all
                    done[shard], parsed = payload
                    results.extend(parsed)
                    if progress:
                        progress(sum(done), total)
                elif kind == "parsed":
                    results.extend(payload)
                    waiting.discard(shard)
        if progress:
            progress(total, total)
        return results

    def _receive(self, shard: int):
        try:
            kind, payload = self.pipes[shard].recv()
        except EOFError:
            self.processes[shard].join()
            raise RuntimeError(f"index worker {shard} died (exit status {self.processes[shard].exitcode})") from None
        if kind == "error":
            text, error = payload
            if error is not None:  # a full disk, say: the parent reports it as its own
                raise OSError(*error)
            raise RuntimeError(f"index worker {shard} failed:\n{text}")
        return kind, payload

    def start_writing(self, folder: Path, owners: dict[str, list]) -> None:
        """Have each worker write the articles the parent chose (``owners``: id -> the file
        whose article wins) as index segments in ``folder``; ``finish_writing`` waits for them."""
        self._folder = folder
        try:
            writer.create_index(folder)
            for pipe, keys in zip(self.pipes, self._shard_keys, strict=True):
                # only the ids its own files won: each worker would otherwise hold every id
                mine = {doc_id: owner for doc_id, owner in owners.items() if owner[0] in keys}
                pipe.send(("write", (str(folder), mine)))
                del mine
        except BaseException:
            self.close(kill=True)
            raise

    def finish_writing(self) -> int:
        """Wait for the workers' segments and publish them in the index; returns the count."""
        try:
            tokens, written = [], 0
            for shard in range(len(self.pipes)):
                kind, (token, count) = self._receive(shard)
                tokens.append(token)
                written += count
        except BaseException:
            self.close(kill=True)
            raise
        self.close()
        writer.commit_segments(self._folder, tokens)
        return written

    def close(self, kill: bool = False) -> None:
        """End the workers: wait for them (briefly) or, when the build failed, kill them at once."""
        _running.discard(self)
        for pipe in self.pipes:
            pipe.close()
        for process in self.processes:
            if kill and process.is_alive():
                process.kill()
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()


class _ChosenArticles:
    """The articles the parent chose, read back from the spill file and unpickled one source file
    at a time as the segment writer takes them: holding them all, even pickled, would make a
    build's memory grow with the corpus (about 0.8 GB more per 155,000 articles)."""

    def __init__(self, spill: BinaryIO, kept: list, owners: dict) -> None:
        kept.reverse()  # taken from the end: popping is then cheap
        self._spill = spill
        self._kept = kept
        self._owners = owners
        self.count = 0

    def __iter__(self):
        kept, owners, spill = self._kept, self._owners, self._spill
        spill.seek(0)
        while kept:
            key, size = kept.pop()
            for article in pickle.loads(spill.read(size)):
                owner = owners.get(article.id)
                if owner is not None and owner[0] == key and owner[1] == (not article.is_related):
                    owners[article.id] = None  # a file repeating one URL writes it once
                    self.count += 1
                    yield article


def _worker(
    jobs: Sequence,
    parse: Callable,
    conn: Connection,
    parent_pid: int,
    inherited: list[Connection],
    spill_dir: str | os.PathLike[str] | None,
) -> None:
    die_with_parent(parent_pid)
    for pipe in inherited:
        pipe.close()
    try:
        # each file's articles, pickled, wait for the write phase in a file of their own, in the
        # order they are written back; it has no name, so it goes with the process however it ends
        spill = tempfile.TemporaryFile(dir=spill_dir, prefix=".parsed-")
        kept: list = []  # (file, bytes of its pickled articles in the spill file)
        stubs = []
        for number, job in enumerate(jobs, 1):
            parsed = parse(job)
            blob = pickle.dumps(parsed.articles, protocol=pickle.HIGHEST_PROTOCOL)
            spill.write(blob)
            kept.append((parsed.key, len(blob)))
            parsed.articles = [ArticleStub(a.id, a.related_to) for a in parsed.articles]
            stubs.append(parsed)
            if number % PROGRESS_EVERY == 0:
                conn.send(("some parsed", (number, stubs)))
                stubs = []
        spill.flush()
        conn.send(("parsed", stubs))
        del stubs
        release_free_memory()
        command, (folder, owners) = conn.recv()
        chosen = _ChosenArticles(spill, kept, owners)
        del kept  # the generator holds the list, and empties it as it goes
        token = writer.write_segment(Path(folder), chosen)
        spill.close()
        conn.send(("written", (token, chosen.count)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails the build
        error = (exc.errno, exc.strerror, exc.filename) if isinstance(exc, OSError) and exc.errno else None
        try:
            conn.send(("error", (traceback.format_exc(), error)))
        except OSError:
            pass
    finally:
        conn.close()
