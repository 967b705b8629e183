"""What the last build saw of each file (size, mtime, hash, the ids it carries) and which file's
article the index holds per id: the indexer's change detection and duplicate resolution.

Engine-neutral: a build hands the engine its file records encoded as bytes (``Manifest.encode``,
the format in manifest_table.py) in a BuildState, and the next build gets them back from the
engine's ``last_state()``. A re-index with nothing changed compares sizes and mtimes as arrays;
an update builds objects only for the files it parses, looks up the owners of the ids it
touches, and copies the columns of the files it keeps.
"""

from __future__ import annotations

import itertools
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from searchsvc.engine.interface import BuildState
from searchsvc.manifest_table import FileEntry, ManifestError, ManifestTable, encode_table

__all__ = ["FileEntry", "Manifest", "ManifestError", "ManifestTable", "Owners"]


class Owners(MutableMapping):
    """id -> (path, is_top_level, mtime_ns) of the file whose article the index holds: the last
    build's owners, looked up in its table when asked (an update asks about a few thousand ids,
    not every one), under this build's changes (``changed``; None where an id was released)."""

    def __init__(self, base: ManifestTable) -> None:
        self.base = base
        self.changed: dict[str, tuple[str, bool, int] | None] = {}
        self._position: dict[str, int] | None = None

    def _from_base(self, doc_id: str) -> tuple[str, bool, int] | None:
        base = self.base
        if self._position is None:  # each owned id's place in the table's ids (a lost one is not owned)
            owned = ~base.lost
            self._position = dict(zip(itertools.compress(base.ids, owned), np.flatnonzero(owned).tolist(), strict=True))
        at = self._position.get(doc_id)
        if at is None:
            return None
        row = int(np.searchsorted(base.id_start, at, side="right")) - 1
        return base.paths[row], at == int(base.id_start[row]), int(base.mtime[row])

    def get(self, doc_id: str, default=None):
        found = self.changed[doc_id] if doc_id in self.changed else self._from_base(doc_id)
        return default if found is None else found

    def __getitem__(self, doc_id: str) -> tuple[str, bool, int]:
        found = self.get(doc_id)
        if found is None:
            raise KeyError(doc_id)
        return found

    def __contains__(self, doc_id: object) -> bool:
        return isinstance(doc_id, str) and self.get(doc_id) is not None

    def __setitem__(self, doc_id: str, owner: tuple[str, bool, int]) -> None:
        self.changed[doc_id] = owner

    def __delitem__(self, doc_id: str) -> None:
        self[doc_id]  # noqa: B018 - KeyError when it has no owner
        self.changed[doc_id] = None

    def __iter__(self):
        for doc_id in self.base.owners():
            if doc_id not in self.changed:
                yield doc_id
        yield from (doc_id for doc_id, owner in self.changed.items() if owner is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


@dataclass(eq=False)
class Manifest:
    """The file records a build is making: ``files`` holds the files it read (every file, in a
    full build); an update keeps the other records of the last build (``base``), those rows of it
    that ``kept`` marks, as they were.

    Ownership is not saved: it follows from each file's ids (its own article first, then its
    related entries) and the ids it lost.
    """

    files: dict[str, FileEntry] = field(default_factory=dict)
    # id -> (path, is_top_level, mtime_ns) of the file whose article the index holds (an update's
    # is an Owners over its base)
    owners: MutableMapping[str, Any] = field(default_factory=dict)
    # id -> files that also carry the id but lost to the owner
    shadowed: dict[str, list[str]] = field(default_factory=dict)
    report: dict = field(default_factory=dict)
    base: ManifestTable = field(default_factory=ManifestTable.empty)
    kept: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    @classmethod
    def from_state(cls, state: BuildState | None) -> Manifest:
        return cls.from_table(ManifestTable.from_state(state))

    @classmethod
    def from_table(cls, table: ManifestTable) -> Manifest:
        """Every record of ``table`` as a FileEntry (for reading a manifest whole; builds do not)."""
        files = {path: table.entry(row) for row, path in enumerate(table.paths)}
        return cls(files, table.owners(), table.shadowed(), table.report)

    def kept_rows(self) -> np.ndarray:
        """Rows of ``base`` kept as they were (a file read again is in ``files`` instead, and its
        row is no longer kept)."""
        if self.files and len(self.base):
            row_of = self.base.row_of
            for path in self.files:
                row = row_of.get(path)
                if row is not None:
                    self.kept[row] = False
        return np.flatnonzero(self.kept)

    def file_count(self) -> int:
        return len(self.files) + len(self.kept_rows())

    def kept_failures(self) -> list[tuple[str, int, str]]:
        """(reason, line, display) of the kept files that failed when last read."""
        self.kept_rows()  # (a row read again is no longer kept)
        return self.base.failures_of(self.kept)

    def encode(self) -> bytearray:
        """The file records as bytes, for the engine to keep beside the view it publishes."""
        touched = self.owners.changed.keys() if isinstance(self.owners, Owners) else None
        return encode_table(self.files, self.owners, (self.base, self.kept_rows()), touched).encode()
