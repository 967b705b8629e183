"""Two fixes to whoosh-reloaded's file handling, applied when the engine is imported.

1. ``BufferFile`` wrapped every sub-file of a memory-mapped segment in ``BytesIO(buffer)``,
   which copies it: each reader held a private copy of the whole index (340 MB per reader on
   155,000 articles, per thread). ``_ViewFile`` reads the mapped buffer in place.
2. Each reader mapped each compound segment file again. Segment readers of one folder now
   share one mapping per segment file (their sub-file objects keep their own positions, so
   threads do not disturb each other); a reader's ``close`` leaves the shared mapping open.
"""

from __future__ import annotations

import io
import mmap
import os
import threading

from whoosh.codec import base as codec_base
from whoosh.filedb import structfile
from whoosh.filedb.compound import CompoundStorage


class _ViewFile(io.RawIOBase):
    """A read-only, seekable file over a memoryview, without copying it."""

    def __init__(self, view) -> None:
        self._view = memoryview(view)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else min(self._pos + size, len(self._view))
        data = self._view[self._pos : end].tobytes()
        self._pos = end
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            self._pos = offset
        elif whence == os.SEEK_CUR:
            self._pos += offset
        else:
            self._pos = len(self._view) + offset
        return self._pos

    def tell(self) -> int:
        return self._pos


def _buffer_file_init(self, buf, name=None, onclose=None) -> None:
    self._buf = buf
    self._name = name
    self.file = _ViewFile(buf)
    self.onclose = onclose
    self.is_real = False
    self.is_closed = False


class _SharedCompound:
    """A compound segment file mapped once and shared by every reader of the segment."""

    def __init__(self, storage: CompoundStorage) -> None:
        self._storage = storage

    def __getattr__(self, name):
        return getattr(self._storage, name)

    def close(self) -> None:  # the mapping lives as long as the cache holds it
        pass


_compounds: dict[tuple[str, str], _SharedCompound] = {}
_compounds_lock = threading.Lock()
_original_open_compound_file = codec_base.Segment.open_compound_file


def _open_compound_file(self, storage):
    folder = getattr(storage, "folder", None)
    if folder is None or not storage.supports_mmap:
        return _original_open_compound_file(self, storage)
    key = (os.path.realpath(folder), self.make_filename(self.COMPOUND_EXT))
    with _compounds_lock:
        shared = _compounds.get(key)
        if shared is None or shared._storage.is_closed:
            shared = _compounds[key] = _SharedCompound(_original_open_compound_file(self, storage))
        return shared


def forget_folder(folder: str) -> None:
    """Stop sharing the mappings of an index folder (its generation is no longer served).

    They are not closed here: requests still running on that generation keep using them, and
    they are unmapped when the last reader holding them is garbage-collected."""
    prefix = os.path.realpath(folder)
    with _compounds_lock:
        for key in [k for k in _compounds if k[0] == prefix]:
            del _compounds[key]


def drop_resident_pages(folder: str) -> int:
    """Unmap from this process the pages it has read of the shared segment files of ``folder``
    (``madvise(MADV_DONTNEED)``; they stay in the page cache, and a later read maps them again
    from there): after a pass that read every stored document once (the autocomplete index reads
    every title), so that the process does not keep hundreds of MB of them counted as its own.
    Returns the number of files done; 0 where the platform cannot."""
    prefix = os.path.realpath(folder)
    with _compounds_lock:
        sources = [shared._storage._source for key, shared in _compounds.items() if key[0] == prefix]
    done = 0
    for source in sources:
        try:
            source.madvise(mmap.MADV_DONTNEED)
            done += 1
        except (AttributeError, OSError, ValueError):  # no madvise here, or the mapping was closed
            continue
    return done


structfile.BufferFile.__init__ = _buffer_file_init
codec_base.Segment.open_compound_file = _open_compound_file
