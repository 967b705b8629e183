"""Reading and parsing article files for a build: one file at a time, or in a pool of worker
processes when there are many; a file's bug or size never stops the build."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from searchsvc.child_processes import die_with_parent
from searchsvc.documents import Article, parse_article
from searchsvc.errors import DocumentError
from searchsvc.report import DocumentFailure

PARALLEL_PARSE_THRESHOLD = 2000
MAX_FILE_BYTES = 5_000_000  # the default of the max_file_bytes setting
Progress = Callable[[int, int], None]
# one file to read: (absolute path, (path as found, id of an article without a URL, max_file_bytes))
Job = tuple[str, tuple[str, str, int]]


@dataclass(slots=True)
class Parsed:
    key: str
    display: str
    size: int
    mtime_ns: int
    sha1: str
    articles: list[Article] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failure: DocumentFailure | None = None


def _too_big(size: int, limit: int) -> str:
    return (
        f"file is {size:,} bytes, larger than the max_file_bytes setting ({limit:,} bytes); skipped. "
        "Raise max_file_bytes to index it"
    )


def read_and_parse(job: Job) -> Parsed:
    key, (display, id_path, max_bytes) = job
    try:
        info = os.stat(key)
        if info.st_size > max_bytes:  # never read whole
            failure = DocumentFailure(display, _too_big(info.st_size, max_bytes))
            return Parsed(key, display, info.st_size, info.st_mtime_ns, "", failure=failure)
        with open(key, "rb") as handle:
            # the size found, not the limit: a buffer of the limit (5 MB) for every file costs
            # a mapping and a copy each; one that grew since is read on, up to the limit
            data = handle.read(info.st_size + 1)
            if len(data) > info.st_size:
                data += handle.read(max_bytes + 1 - len(data))
    except OSError as exc:
        return Parsed(key, display, 0, 0, "", failure=DocumentFailure(display, f"cannot read: {exc.strerror}"))
    if len(data) > max_bytes:  # grew since stat
        failure = DocumentFailure(display, _too_big(len(data), max_bytes))
        return Parsed(key, display, len(data), info.st_mtime_ns, "", failure=failure)
    parsed = Parsed(key, display, info.st_size, info.st_mtime_ns, hashlib.sha1(data).hexdigest())
    try:
        result = parse_article(display, data, id_path)
    except DocumentError as exc:
        parsed.failure = DocumentFailure(display, exc.reason, exc.line)
        return parsed
    except Exception as exc:  # noqa: BLE001 - one file's bug must not stop the build
        reason = f"could not be read as an article ({type(exc).__name__}); please report this file as a bug"
        parsed.failure = DocumentFailure(display, reason)
        return parsed
    parsed.articles = result.articles
    parsed.warnings = result.warnings
    return parsed


def parse_files(jobs: Sequence[Job], progress: Progress | None = None) -> list[Parsed]:
    """Parse files (in worker processes when there are many), in the order given."""
    results: list[Parsed] = []
    if len(jobs) >= PARALLEL_PARSE_THRESHOLD and (os.cpu_count() or 1) > 1:
        context = multiprocessing.get_context("fork")
        workers = min(os.cpu_count() or 1, 4)
        with context.Pool(workers, initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
            for parsed in pool.imap(read_and_parse, jobs, chunksize=256):
                results.append(parsed)
                if progress and len(results) % 1000 == 0:
                    progress(len(results), len(jobs))
    else:
        for parsed in map(read_and_parse, jobs):
            results.append(parsed)
            if progress and len(results) % 1000 == 0:
                progress(len(results), len(jobs))
    if progress:
        progress(len(results), len(jobs))
    return results
