"""The indexer's file records as columns (ManifestTable), and their encoding as bytes.

The encoding is columnar so that an update reads it without a Python object per file: the paths
(NUL-separated; a path cannot hold a NUL), sizes and mtimes as int64, SHA-1s as hex, each file's
number of ids, the ids (JSON: an id is any string), a flag per id that another file's article
won it, and the failed files' reasons (JSON); then a JSON header (counts, section lengths) and
its length. Manifests of older versions (one JSON object, path -> record) are read too.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from searchsvc.engine.interface import BuildState

MAGIC = b"searchsvc-manifest 2\n"
TOO_BIG = "max_file_bytes"  # in the reason of a file skipped for its size (parsing._too_big)
_SECTIONS = ("paths", "size", "mtime", "sha1", "id_counts", "ids", "lost", "failures")


class ManifestError(ValueError):
    """The stored file records cannot be read (the next build then re-reads every file)."""


@dataclass(slots=True)
class FileEntry:
    size: int
    mtime_ns: int
    sha1: str
    ids: list[str] = field(default_factory=list)
    failure: str = ""
    line: int = 0
    display: str = ""  # the path as the user gave it; kept for failed files, to report them
    # ids this file carries but another file's article won (see indexer._record)
    lost: list[str] = field(default_factory=list)


class ManifestTable:
    """The file records of the last build, as columns: row ``i`` is file ``paths[i]``; its ids
    are ``ids[id_start[i]:id_start[i + 1]]`` (its own article's first, when it has one)."""

    __slots__ = ("_row_of", "failures", "id_start", "ids", "lost", "mtime", "paths", "report", "sha1", "size")

    def __init__(
        self,
        paths: list[str],
        size: np.ndarray,
        mtime: np.ndarray,
        sha1: np.ndarray,
        id_counts: np.ndarray,
        ids: list[str],
        lost: np.ndarray,
        failures: dict[int, tuple[str, int, str]],
        report: dict | None = None,
    ) -> None:
        n = len(paths)
        if not (len(size) == len(mtime) == len(sha1) == len(id_counts) == n and len(ids) == len(lost)):
            raise ManifestError(f"columns of different lengths ({n} paths)")
        self.paths = paths
        self.size = size
        self.mtime = mtime
        self.sha1 = sha1
        self.id_start = np.zeros(n + 1, np.int64)
        np.cumsum(id_counts, out=self.id_start[1:])
        if self.id_start[-1] != len(ids):
            raise ManifestError(f"{len(ids)} ids where the files count {int(self.id_start[-1])}")
        self.ids = ids
        self.lost = lost
        self.failures = failures  # row -> (reason, line, display), failed files only
        self.report = report or {}
        self._row_of: dict[str, int] | None = None

    @classmethod
    def empty(cls) -> ManifestTable:
        none = np.zeros(0, np.int64)
        return cls([], none, none, np.zeros(0, "S40"), none, [], np.zeros(0, bool), {})

    @classmethod
    def from_state(cls, state: BuildState | None) -> ManifestTable:
        if state is None:
            return cls.empty()
        table = cls.decode(state.files)
        table.report = state.report
        return table

    @classmethod
    def decode(cls, data: bytes | bytearray | dict[str, list] | None) -> ManifestTable:
        if not data:
            return cls.empty()
        if isinstance(data, dict):
            return cls._from_records(data)
        if data.startswith(b"{"):
            return cls._from_records(json.loads(data))
        if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 8:
            raise ManifestError("not a searchsvc manifest")
        view = memoryview(data)
        header_end = len(data) - 8
        header_start = header_end - int.from_bytes(view[header_end:], "little")
        try:
            header = json.loads(bytes(view[max(header_start, len(MAGIC)) : header_end]))
            n, m, sections = header["files"], header["ids"], header["sections"]
        except (ValueError, KeyError, TypeError):
            raise ManifestError("truncated or unknown sections") from None
        chunks, offset = {}, len(MAGIC)
        for name, length in sections:
            chunks[name] = view[offset : offset + length]
            offset += length
        if offset != header_start or set(chunks) != set(_SECTIONS):
            raise ManifestError("truncated or unknown sections")
        paths = bytes(chunks["paths"]).decode("utf-8", "surrogateescape").split("\0") if n else []
        failures = {int(k): tuple(v) for k, v in json.loads(bytes(chunks["failures"])).items()}
        return cls(
            paths,
            np.frombuffer(chunks["size"], np.int64, n),
            np.frombuffer(chunks["mtime"], np.int64, n),
            np.frombuffer(chunks["sha1"], "S40", n),
            np.frombuffer(chunks["id_counts"], np.int64, n),
            json.loads(bytes(chunks["ids"])) if m else [],
            np.frombuffer(chunks["lost"], bool, m),
            failures,
        )

    @classmethod
    def _from_records(cls, files: dict[str, list]) -> ManifestTable:
        """The JSON manifest of earlier versions: path -> [size, mtime, sha1, ids, failure, line, display, lost]."""
        entries = {path: FileEntry(*record) for path, record in files.items()}
        return encode_table(entries, {}, None)

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def row_of(self) -> dict[str, int]:
        """path -> row (made on first use: a re-index with nothing changed needs it, a full build does not)."""
        if self._row_of is None:
            self._row_of = dict(zip(self.paths, range(len(self.paths)), strict=True))
        return self._row_of

    def too_big(self) -> np.ndarray:
        """Rows of files the last build skipped for their size."""
        flags = np.zeros(len(self.paths), bool)
        for row, (reason, _, _) in self.failures.items():
            flags[row] = TOO_BIG in reason
        return flags

    def failures_of(self, rows: np.ndarray) -> list[tuple[str, int, str]]:
        """(reason, line, display) of the failed files among ``rows`` (a mask), in row order."""
        return [failure for row, failure in sorted(self.failures.items()) if rows[row]]

    def ids_of(self, row: int) -> list[str]:
        return self.ids[self.id_start[row] : self.id_start[row + 1]]

    def entry(self, row: int) -> FileEntry:
        ids = self.ids_of(row)
        start = self.id_start[row]
        lost = [doc_id for j, doc_id in enumerate(ids) if self.lost[start + j]]
        reason, line, display = self.failures.get(row, ("", 0, ""))
        return FileEntry(
            int(self.size[row]), int(self.mtime[row]), self.sha1[row].decode(), ids, reason, line, display, lost
        )

    def owners(self) -> dict[str, tuple[str, bool, int]]:
        """id -> (path, is_top_level, mtime_ns) of the file whose article the index holds."""
        counts = np.diff(self.id_start)
        rows = np.repeat(np.arange(len(self.paths)), counts)
        top = np.zeros(len(self.ids), bool)
        top[self.id_start[:-1][counts > 0]] = True
        keep = ~self.lost
        paths, mtimes = self.paths, self.mtime.tolist()
        return {
            doc_id: (paths[row], is_top, mtimes[row])
            for doc_id, row, is_top in zip(
                itertools.compress(self.ids, keep), rows[keep].tolist(), top[keep].tolist(), strict=True
            )
        }

    def shadowed(self) -> dict[str, list[str]]:
        """id -> the files that carry it but lost it to its owner."""
        rows = np.repeat(np.arange(len(self.paths)), np.diff(self.id_start))
        found: dict[str, list[str]] = {}
        for j in np.flatnonzero(self.lost).tolist():
            found.setdefault(self.ids[j], []).append(self.paths[rows[j]])
        return found

    def encode(self) -> bytearray:
        """The table as bytes: built in one buffer, each section added and let go in turn (a
        full build encodes at its memory peak)."""
        out = bytearray(MAGIC)
        sections = []
        for name in _SECTIONS:
            size = len(out)
            for piece in self._pieces(name):
                out += piece
            sections.append([name, len(out) - size])
        header = json.dumps({"files": len(self.paths), "ids": len(self.ids), "sections": sections}).encode()
        out += header
        out += len(header).to_bytes(8, "little")
        return out

    def _pieces(self, name: str):
        if name == "paths":
            yield "\0".join(self.paths).encode("utf-8", "surrogateescape")
        elif name in ("size", "mtime"):
            yield np.ascontiguousarray(getattr(self, name), np.int64).tobytes()
        elif name == "sha1":
            yield np.ascontiguousarray(self.sha1, "S40").tobytes()
        elif name == "id_counts":
            yield np.diff(self.id_start).astype(np.int64).tobytes()
        elif name == "ids":  # a JSON array, encoded a slice at a time
            yield b"["
            step = 8192
            for start in range(0, len(self.ids), step):
                text = json.dumps(self.ids[start : start + step], separators=(",", ":"))
                yield (("," if start else "") + text[1:-1]).encode("ascii")
            yield b"]"
        elif name == "lost":
            yield np.ascontiguousarray(self.lost, bool).tobytes()
        else:
            yield json.dumps({str(k): list(v) for k, v in self.failures.items()}).encode("ascii")


def encode_table(
    files: dict[str, FileEntry],
    owners: Mapping[str, Any],
    kept: tuple[ManifestTable, np.ndarray] | None,
    touched: Collection[str] | None = None,
) -> ManifestTable:
    """Kept rows of a table, then ``files``. With ``kept`` each id's lost flag follows from
    ``owners`` (an id a file lost before may be its own now, and the other way round): every
    id's, or the kept rows' ids in ``touched`` only (those whose owner the build changed);
    without (reading an old manifest) the entries' ``lost`` lists are taken as they are."""
    base, rows = kept if kept is not None else (ManifestTable.empty(), np.zeros(0, np.int64))
    entries = list(files.values())
    counts = np.diff(base.id_start)[rows]
    kept_mask = np.zeros(len(base), bool)
    kept_mask[rows] = True
    keep_ids = np.repeat(kept_mask, np.diff(base.id_start))
    kept_ids = list(itertools.compress(base.ids, keep_ids))
    new_ids = [doc_id for e in entries for doc_id in e.ids]
    ids = kept_ids + new_ids
    paths = [base.paths[row] for row in rows.tolist()] + list(files)
    id_counts = np.concatenate([counts, np.fromiter((len(e.ids) for e in entries), np.int64, len(entries))])
    if kept is None:
        lost = np.fromiter((doc_id in set(e.lost) for e in entries for doc_id in e.ids), bool, len(ids))
    else:
        lost = np.empty(len(ids), bool)
        lost[: len(kept_ids)] = base.lost[keep_ids]
        if touched is not None:  # only ids whose owner this build changed may have changed
            again = [j for j, doc_id in enumerate(kept_ids) if doc_id in touched]
        else:
            again = range(len(kept_ids))
        ends = np.cumsum(id_counts)
        nobody = ("",)
        for j in again:
            path = paths[int(np.searchsorted(ends, j, side="right"))]
            lost[j] = (owners.get(kept_ids[j]) or nobody)[0] != path
        j = len(kept_ids)
        for path, e in zip(paths[len(rows) :], entries, strict=True):
            for doc_id in e.ids:
                lost[j] = (owners.get(doc_id) or nobody)[0] != path
                j += 1
    failures: dict[int, tuple[str, int, str]] = {}
    if base.failures and len(rows):  # rows are in ascending order
        failed = np.array(sorted(base.failures), np.int64)
        positions = np.searchsorted(rows, failed)
        for row, position in zip(failed.tolist(), positions.tolist(), strict=True):
            if position < len(rows) and rows[position] == row:
                failures[position] = base.failures[row]
    for position, e in enumerate(entries, start=len(rows)):
        if e.failure:
            failures[position] = (e.failure, e.line, e.display)
    return ManifestTable(
        paths,
        np.concatenate([base.size[rows], np.fromiter((e.size for e in entries), np.int64, len(entries))]),
        np.concatenate([base.mtime[rows], np.fromiter((e.mtime_ns for e in entries), np.int64, len(entries))]),
        np.concatenate([base.sha1[rows], np.array([e.sha1 for e in entries], "S40").reshape(-1)]),
        id_counts,
        ids,
        lost,
        failures,
    )
