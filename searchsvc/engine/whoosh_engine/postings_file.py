"""A segment's search-field postings as flat arrays in one file beside it (``<segment>.postings``),
memory-mapped by every reader: looking a word up is a binary search and its postings are array
slices, instead of Whoosh's per-block pickles. The file is an accelerator: the Whoosh segment
holds the same postings, and a segment without the file (or a word the file does not cover) is
read through Whoosh.

Layout: ``MAGIC``, the header's length (uint64), a JSON header naming each array's dtype, offset
and length, then the arrays (8-byte aligned). Per field ``F``:

- ``F.terms``: the field's words (UTF-8, at most ``MAX_TERM_BYTES``), sorted, fixed width;
- ``F.starts`` / ``F.pos_starts`` (int64, one more than terms): where each word's postings and
  positions begin;
- ``F.docs`` (int32, segment document numbers, ascending per word) and ``F.freqs`` (uint32,
  occurrences in that document);
- ``F.positions`` (uint32): each posting's word positions, ``freqs`` of them, in posting order.

The file name matches Whoosh's segment file pattern, so Whoosh deletes it with its segment.
"""

from __future__ import annotations

import bisect
import json
import mmap
import os
from array import array
from collections.abc import Iterable
from pathlib import Path

import numpy as np

MAGIC = b"SSPOST01"
SUFFIX = ".postings"
# fields searched by words (and phrases); "id" and "spelling" are only read through Whoosh
SIDECAR_FIELDS = ("title", "excerpt", "body", "topics_text", "provider_text", "domain_text")
# a longer word is left out of the file (and looked up through Whoosh): fixed-width term arrays
# stay small even when an article holds one absurdly long "word"
MAX_TERM_BYTES = 64
_ALIGN = 8
TERM_BLOCK = 64  # words per block of a field's word list (postings lookups)


def sidecar_path(folder: Path, segment_id: str) -> Path:
    return Path(folder) / f"{segment_id}{SUFFIX}"


class FieldArrays:
    """One field's postings, gathered by a writer: words in sorted order with their postings."""

    def __init__(self) -> None:
        self.terms: list[bytes] = []
        self.counts = array("q")
        self.pos_counts = array("q")
        self.docs = array("I")
        self.freqs = array("f")
        self.positions = array("I")

    def add(self, term: bytes, docs, freqs, positions) -> None:
        """Add the next word (words must come in sorted order): its document numbers, each
        one's frequency (the number of its positions) and all their positions in order."""
        if len(term) > MAX_TERM_BYTES:
            return
        self.terms.append(term)
        self.counts.append(len(docs))
        self.pos_counts.append(len(positions))
        self.docs.extend(docs)
        self.freqs.extend(freqs)
        self.positions.extend(positions)

    def arrays(self, field: str) -> dict[str, np.ndarray]:
        return sidecar_arrays(
            field,
            self.terms,
            _offsets(self.counts),
            np.frombuffer(self.docs, dtype=np.uint32).view(np.int32),
            np.frombuffer(self.freqs, dtype=np.float32).astype(np.uint32),
            _offsets(self.pos_counts),
            np.frombuffer(self.positions, dtype=np.uint32),
        )


def sidecar_arrays(field, words, starts, docs, freqs, pos_starts, positions) -> dict[str, np.ndarray]:
    """The named arrays of one field's postings (words sorted, each with its postings from
    ``starts[i]`` and positions from ``pos_starts[i]``), leaving out words too long to hold."""
    keep = np.fromiter((len(w) <= MAX_TERM_BYTES for w in words), dtype=bool, count=len(words))
    if not keep.all():
        per_term = np.diff(starts)
        posting_kept = np.repeat(keep, per_term)
        docs, positions = docs[posting_kept], positions[np.repeat(posting_kept, freqs.astype(np.int64))]
        freqs = freqs[posting_kept]
        words = [w for w, k in zip(words, keep, strict=True) if k]
        starts = np.concatenate(([0], np.cumsum(per_term[keep])))
        pos_starts = np.concatenate(([0], np.cumsum(np.diff(pos_starts)[keep])))
    width = max((len(w) for w in words), default=1)
    return {
        f"{field}.terms": np.array(words, dtype=f"S{width}"),
        f"{field}.starts": np.asarray(starts, dtype=np.int64),
        f"{field}.pos_starts": np.asarray(pos_starts, dtype=np.int64),
        f"{field}.docs": np.asarray(docs, dtype=np.int32),
        f"{field}.freqs": np.asarray(freqs, dtype=np.uint32),
        f"{field}.positions": np.asarray(positions, dtype=np.uint32),
    }


def _offsets(counts: array) -> np.ndarray:
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    if len(counts):
        np.cumsum(np.frombuffer(counts, dtype=np.int64), out=out[1:])
    return out


def write_sidecar(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write the named arrays (``sidecar_arrays`` of each field) atomically: a reader sees all of
    the file or none of it."""
    header: dict[str, list] = {}
    offset = 0
    for name, values in arrays.items():
        header[name] = [values.dtype.str, offset, len(values)]
        offset += _padded(values.nbytes)
    header_bytes = json.dumps(header).encode("utf-8")
    start = _padded(len(MAGIC) + 8 + len(header_bytes))
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as out:
        out.write(MAGIC + len(header_bytes).to_bytes(8, "little") + header_bytes)
        out.write(b"\0" * (start - out.tell()))
        for values in arrays.values():
            out.write(values.tobytes())
            out.write(b"\0" * (_padded(values.nbytes) - values.nbytes))
    os.replace(tmp, path)


def _padded(n: int) -> int:
    return (n + _ALIGN - 1) // _ALIGN * _ALIGN


class _Field:
    __slots__ = ("terms", "width", "firsts", "starts", "pos_starts", "docs", "freqs", "positions")

    def __init__(self, arrays: dict[str, np.ndarray], field: str) -> None:
        self.terms = arrays[f"{field}.terms"]
        self.width = self.terms.dtype.itemsize
        # every TERM_BLOCK-th word, in memory: a lookup reads one block of the file's words
        # instead of probing pages all over them (each probe a TLB and cache miss)
        self.firsts = self.terms[::TERM_BLOCK].tolist()
        self.starts = arrays[f"{field}.starts"]
        self.pos_starts = arrays[f"{field}.pos_starts"]
        self.docs = arrays[f"{field}.docs"]
        self.freqs = arrays[f"{field}.freqs"]
        self.positions = arrays[f"{field}.positions"]


class SegmentPostings:
    """A segment's sidecar file, memory-mapped (shared by all threads; read-only)."""

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        buffer = memoryview(self._map)
        if bytes(buffer[: len(MAGIC)]) != MAGIC:
            raise ValueError(f"{path} is not a searchsvc postings file")
        size = int.from_bytes(buffer[len(MAGIC) : len(MAGIC) + 8], "little")
        header = json.loads(bytes(buffer[len(MAGIC) + 8 : len(MAGIC) + 8 + size]))
        base = _padded(len(MAGIC) + 8 + size)
        arrays = {
            name: np.frombuffer(buffer, dtype=np.dtype(dtype), count=count, offset=base + offset)
            for name, (dtype, offset, count) in header.items()
        }
        self.fields = {field: _Field(arrays, field) for field in SIDECAR_FIELDS if f"{field}.terms" in arrays}

    def covers(self, field: str, term: bytes) -> bool:
        """Whether this file answers for ``term`` in ``field`` (found or not)."""
        return field in self.fields and len(term) <= MAX_TERM_BYTES

    def _find(self, f: _Field, term: bytes) -> int:
        if len(term) > f.width or not len(f.terms):
            return -1
        # the block whose first word is the last one <= term, then the word within it: the
        # place np.searchsorted(f.terms, term) finds (words are distinct and sorted)
        block = bisect.bisect_right(f.firsts, term) - 1
        if block < 0:
            return -1
        lo = block * TERM_BLOCK
        i = bisect.bisect_left(f.terms, term, lo, min(lo + TERM_BLOCK, len(f.terms)))
        return i if i < len(f.terms) and f.terms[i] == term else -1

    def postings(self, field: str, term: bytes) -> tuple[np.ndarray, np.ndarray]:
        """Segment document numbers and frequencies of ``term`` (views into the file)."""
        f = self.fields[field]
        i = self._find(f, term)
        if i < 0:
            return f.docs[:0], f.freqs[:0]
        start, end = f.starts[i], f.starts[i + 1]
        return f.docs[start:end], f.freqs[start:end]

    def position_keys(self, field: str, term: bytes, candidates: np.ndarray) -> np.ndarray:
        """``doc << 32 | position`` (int64) for every position of ``term`` in each of
        ``candidates`` (sorted segment document numbers) that holds it."""
        f = self.fields[field]
        i = self._find(f, term)
        if i < 0 or not len(candidates):
            return np.empty(0, dtype=np.int64)
        start, end = f.starts[i], f.starts[i + 1]
        docs, freqs = f.docs[start:end], f.freqs[start:end].astype(np.int64)
        at = np.searchsorted(docs, candidates)
        inside = at < len(docs)
        at, candidates = at[inside], candidates[inside]
        at = at[docs[at] == candidates]
        if not len(at):
            return np.empty(0, dtype=np.int64)
        firsts = (np.cumsum(freqs) - freqs)[at] + f.pos_starts[i]
        counts = freqs[at]
        total = int(counts.sum())
        flat = np.repeat(firsts - np.cumsum(counts) + counts, counts) + np.arange(total)
        doc_of = np.repeat(docs[at].astype(np.int64), counts)
        return (doc_of << 32) | f.positions[flat].astype(np.int64)

    def close(self) -> None:
        self.fields = {}
        try:
            self._map.close()
        except BufferError:  # arrays still point into it: the mapping goes with them
            pass


def open_sidecar(folder: Path, segment_id: str) -> SegmentPostings | None:
    """The segment's postings file, or None when it has none (or one that cannot be read)."""
    path = sidecar_path(folder, segment_id)
    try:
        return SegmentPostings(path)
    except (OSError, ValueError, KeyError):
        return None


def gather_from_reader(leaf, fields: Iterable[str] = SIDECAR_FIELDS) -> dict[str, np.ndarray]:
    """The postings of a written segment, read back through Whoosh (for segments that were not
    written by the bulk writer: an incremental update's, or a merge's)."""
    out: dict[str, np.ndarray] = {}
    for field in fields:
        if field not in leaf.schema:
            continue
        decode = leaf.schema[field].format.decode_positions
        gathered = FieldArrays()
        for term in leaf.lexicon(field):
            if len(term) > MAX_TERM_BYTES:
                continue
            matcher = leaf.postings(field, term)
            docs, freqs, positions = [], [], []
            while matcher.is_active():
                poslist = decode(matcher.value())
                docs.append(matcher.id())
                freqs.append(len(poslist))
                positions.extend(poslist)
                matcher.next()
            gathered.add(term, docs, freqs, positions)
        out.update(gathered.arrays(field))
    return out
