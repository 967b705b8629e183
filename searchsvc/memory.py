"""Handing freed memory back to the system."""

from __future__ import annotations


def release_free_memory() -> None:
    """Collect garbage and hand freed heap pages back to the system (glibc's malloc_trim): a
    build frees a lot before its peak, and a process's freed but kept pages count in its size."""
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass
