"""Handing freed memory back to the system."""

from __future__ import annotations


def release_free_memory(collect: bool = True) -> None:
    """Hand freed heap pages back to the system (glibc's malloc_trim), after collecting garbage
    unless ``collect`` is false: a build frees a lot before its peak, and a process's freed but
    kept pages count in its size. A server skips the collection (a full one holds the GIL for
    every thread of the process while it runs)."""
    import ctypes
    import ctypes.util
    import gc

    if collect:
        gc.collect()
    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass
