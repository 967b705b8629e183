"""Sizes and modification times of many files, for an update's look at what changed since the last
build: a stat per file is most of a re-index that finds nothing to do (155,000 files: about 0.7 s
of 2), so with a second core a forked child stats the first half while this process stats the
rest (about 0.4 s), and the child sends its numbers back through a pipe."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

import numpy as np

from searchsvc.child_processes import die_with_parent

PARALLEL_STAT_THRESHOLD = 20_000  # fewer files: not worth a fork
_NUMBER = np.dtype(np.int64)


def file_stats(paths: Sequence[str], parallel_from: int = PARALLEL_STAT_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """(sizes, mtimes in nanoseconds) of ``paths``, -1 in both for a file that cannot be stat'ed
    (gone, unreadable). In two processes from ``parallel_from`` files, when this process runs no
    other thread (a fork copies only the calling thread) and may use a second core; a child that
    fails leaves its half to this process."""
    if len(paths) < max(parallel_from, 2) or _cores() < 2 or threading.active_count() > 1:
        return _stats(paths)
    split = len(paths) // 2
    read_end, write_end = os.pipe()
    parent = os.getpid()
    try:
        child = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return _stats(paths)
    if child == 0:  # ends in os._exit: no cleanup of the parent's objects, no buffered output flushed twice
        status = 1
        try:
            os.close(read_end)
            die_with_parent(parent)
            sizes, mtimes = _stats(paths[:split])
            _write_all(write_end, sizes.tobytes() + mtimes.tobytes())
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    try:
        sizes, mtimes = _stats(paths[split:])
        sent = _read_all(read_end)
    finally:
        os.close(read_end)
        _, status = os.waitpid(child, 0)
    if status == 0 and len(sent) == 2 * split * _NUMBER.itemsize:
        theirs = np.frombuffer(sent, _NUMBER)
        first_sizes, first_mtimes = theirs[:split], theirs[split:]
    else:
        first_sizes, first_mtimes = _stats(paths[:split])
    return np.concatenate([first_sizes, sizes]), np.concatenate([first_mtimes, mtimes])


def _stats(paths: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    sizes: list[int] = []
    mtimes: list[int] = []
    stat = os.stat
    for path in paths:
        try:
            info = stat(path)
        except OSError:
            sizes.append(-1)
            mtimes.append(-1)
            continue
        sizes.append(info.st_size)
        mtimes.append(info.st_mtime_ns)
    return np.array(sizes, _NUMBER), np.array(mtimes, _NUMBER)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no sched_getaffinity (macOS)
        return os.cpu_count() or 1


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_all(fd: int) -> bytes:
    parts = []
    while chunk := os.read(fd, 1 << 20):
        parts.append(chunk)
    return b"".join(parts)
