"""A generation's autocomplete index saved beside it, so that a server's workers build it once per
generation instead of once each (about 7 s of CPU at 155k articles, each), and share its pages
instead of each holding a copy (about 11 MB at 155k).

The first worker that needs it takes the generation's lock file and has a child process build the
index and write it here; the others wait on the lock, then map what it wrote. Only a cache: the
file names the segments and deletions it was made from (column_cache.signature) and its format's
version, and one that does not match, or cannot be read, is built again. Arrays and UTF-8 text
only, as column_cache's file (an .npz of stored members, mapped read-only): no pickles. Not
carried to the next generation (generations.link_generation)."""

from __future__ import annotations

import logging
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

import numpy as np

from searchsvc.engine.whoosh_engine.column_cache import signature
from searchsvc.engine.whoosh_engine.saved_arrays import mapped_arrays

COMPLETIONS_FILE = "completions.npz"
LOCK_FILE = ".completions.lock"
VERSION = 1
log = logging.getLogger("searchsvc.engine")
Index = TypeVar("Index")


def save(arrays: dict[str, np.ndarray], snapshot) -> None:
    """Write the ``arrays`` of ``snapshot``'s autocomplete index (CompletionIndex.arrays) beside
    its generation, atomically."""
    path = Path(snapshot.folder) / COMPLETIONS_FILE
    arrays = dict(arrays)
    arrays["signature"] = signature(snapshot)
    arrays["version"] = np.array([VERSION], dtype=np.int64)
    partial = path.with_name(f".{COMPLETIONS_FILE}.{os.getpid()}.tmp")
    try:
        with open(partial, "wb") as out:
            np.savez(out, **arrays)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def load(snapshot, from_arrays: Callable[[dict[str, np.ndarray]], Index], warn: bool = True) -> Index | None:
    """The saved autocomplete index of ``snapshot``, made by ``from_arrays`` (CompletionIndex's)
    from its arrays, mapped; None when there is none, or none made from this generation's
    documents, or one that cannot be read (a warning says why, if told to ``warn``)."""
    path = Path(snapshot.folder) / COMPLETIONS_FILE
    try:
        arrays = mapped_arrays(path)
        version, made_from = arrays.get("version"), arrays.get("signature")
        if version is None or version.tolist() != [VERSION] or made_from is None:
            return None  # another version's
        if not np.array_equal(made_from, signature(snapshot)):
            return None  # made from other documents
        return from_arrays(arrays)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        if warn:
            log.warning("Cannot read %s (%s); building the autocomplete index again.", path, exc)
        return None


def open_lock(folder: str | os.PathLike[str]) -> BinaryIO | None:
    """The generation's lock file for building its saved index, open (to be held with flock); None
    when it cannot be made (a read-only index folder: each worker then builds its own index)."""
    try:
        return open(Path(folder) / LOCK_FILE, "ab")
    except OSError:
        return None
