"""Handing freed memory back to the system, and keeping Python's cycle collector off a build's
records."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a build makes millions of long-lived objects that form
    no cycles (its records of the files and articles). Each full collection walks every object
    alive, and their number grows as the records do, so over a build the collector's cost grows
    with the square of the corpus (7 s of the parent's CPU at 620k articles). Garbage with cycles
    made meanwhile waits for the next collection after the block."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def release_free_memory(collect: bool = True) -> None:
    """Hand freed heap pages back to the system (glibc's malloc_trim), after collecting garbage
    unless ``collect`` is false: a build frees a lot before its peak, and a process's freed but
    kept pages count in its size. A server skips the collection (a full one holds the GIL for
    every thread of the process while it runs)."""
    import ctypes
    import ctypes.util

    if collect:
        gc.collect()
    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass
