"""Work for a second core without a pool of processes: a forked child computes, and sends its
result back pickled through a pipe. ``in_halves`` splits work between such a child and this
process: an update's stat of every file (file_stats.py), where a pool's start and hand-offs would
cost more than the second core saves, and a fork costs a few milliseconds.

Not everything pays: after a fork, this process takes a page fault on the first write to each
page it shares with the child, so in a process that already holds hundreds of MB (an update
after its scan), parsing its 1,708 files in halves or encoding its file records in a child while
it writes measured no faster than doing so in one process."""

from __future__ import annotations

import os
import pickle
import signal
import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from searchsvc.child_processes import die_with_parent, usable_cores

T = TypeVar("T")


def in_halves(work: Callable[[Sequence], T], items: Sequence, parallel_from: int) -> list[T]:
    """``[work(first half), work(second half)]``, the first half done by a forked child; or
    ``[work(items)]`` below ``parallel_from`` items or where no child can be started
    (``can_fork``). A child that fails leaves its half to this process."""
    if len(items) < max(parallel_from, 2) or not can_fork():
        return [work(items)]
    split = len(items) // 2
    with forked_call(work, items[:split]) as first:
        second = work(items[split:])
        return [first.result(), second]


class forked_call(Generic[T]):  # noqa: N801 - used as a function, in a with statement
    """``call(*args)`` in a forked child from now on; ``result()`` waits for its result. Where a
    child cannot be started (``can_fork``) or when it fails, ``result()`` runs the call here.
    Leaving the ``with`` block without the result ends the child. The call sees memory as it was
    at the fork."""

    def __init__(self, call: Callable[..., T], *args) -> None:
        self._call, self._args = call, args
        self._child: int | None = None
        self._read_end = -1
        if not can_fork():
            return
        read_end, write_end = os.pipe()
        parent = os.getpid()
        try:
            child = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            return
        if child == 0:  # ends in os._exit: no cleanup of the parent's objects, no output flushed twice
            status = 1
            try:
                os.close(read_end)
                die_with_parent(parent)
                _write_all(write_end, pickle.dumps(call(*args), protocol=pickle.HIGHEST_PROTOCOL))
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        self._child, self._read_end = child, read_end

    def result(self) -> T:
        if self._child is None:
            return self._call(*self._args)
        try:
            sent = _read_all(self._read_end)
        finally:
            status = self._end_child(kill=False)
        try:
            if status == 0:
                return pickle.loads(sent)
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
            pass
        return self._call(*self._args)  # the child failed: its work is done here

    def _end_child(self, kill: bool) -> int:
        child, self._child = self._child, None
        os.close(self._read_end)
        if kill:
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _, status = os.waitpid(child, 0)
        return status

    def __enter__(self) -> forked_call[T]:
        return self

    def __exit__(self, *exc) -> None:
        if self._child is not None:
            self._end_child(kill=True)


def can_fork() -> bool:
    """Whether a child would help and is safe: a second usable core, and no other thread running
    (a fork copies only the calling thread, and whatever locks the others held)."""
    return usable_cores() > 1 and threading.active_count() == 1


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_all(fd: int) -> bytes:
    parts = []
    while chunk := os.read(fd, 1 << 20):
        parts.append(chunk)
    return b"".join(parts)
