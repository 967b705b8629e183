"""One index generation opened for searching: the Whoosh index, its per-document values as numpy
arrays, and postings cached as arrays. Shared by every thread; each thread has its own reader."""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import cached_property
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

from searchsvc.engine.whoosh_engine.column_cache import load as load_columns
from searchsvc.engine.whoosh_engine.columns import (
    DayColumn,
    MultiValueColumn,
    PerField,
    ValueColumn,
    fixed_width_bytes,
    key_rank_of,
    numbers_bytes,
    read_facets,
    ts_rank_of,
)
from searchsvc.engine.whoosh_engine.completion_index import build_in_background
from searchsvc.engine.whoosh_engine.postings_file import open_sidecar
from searchsvc.engine.whoosh_engine.schema import NO_DATE, NUMBER_DTYPE, SEARCH_FIELDS
from searchsvc.engine.whoosh_engine.writer import INDEX_NAME

_LENGTH_TABLE = np.array([byte_to_length(i) for i in range(256)], dtype=np.float32)
_EMPTY = (np.empty(0, dtype=np.int32), np.empty(0, dtype=np.float32))
POSTINGS_CACHE_ENTRIES = 4_000_000


def segment_leaves(reader) -> list:
    """The reader's (segment reader, first document number) pairs. An index with no segment (a
    build of an empty folder) has none: Whoosh's stand-in reader for it has no segment or columns."""
    return [(leaf, offset) for leaf, offset in reader.leaf_readers() if leaf.segment() is not None]


class Snapshot:
    """A generation opened for searching. Built once per generation and process.

    Opening reads the live documents and the numbers column; the rest (facet columns, field
    lengths, sort ranks, the spelling vocabulary) is read on first use, or all at once by
    ``warm()``: generation_switch warms each generation it opens, so that no search waits for
    (or spends its time budget on) reading them; a one-shot search leaves out the vocabulary,
    the costliest part, which only a did-you-mean or a completion needs."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder = folder
        self.name = name
        self.ix = whoosh_index.open_dir(str(folder), indexname=INDEX_NAME)
        self._local = threading.local()
        self._cache: OrderedDict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._cache_size = 0
        self._cache_lock = threading.Lock()
        self._vocabulary = None
        self._vocabulary_lock = threading.Lock()
        reader = self.reader()
        self.size = reader.doc_count_all()
        self.leaves = segment_leaves(reader)
        # each segment's postings file (None where a segment has none: read through Whoosh)
        self.sidecars = [open_sidecar(folder, leaf.segment().segment_id()) for leaf, _ in self.leaves]
        self.live = np.ones(self.size, dtype=bool)
        for leaf, offset in self.leaves:
            deleted = list(leaf.deleted_docs_set) if leaf.has_deletions() else []
            if deleted:
                self.live[np.array(deleted, dtype=np.int64) + offset] = False
        self.count = int(self.live.sum())
        numbers = np.frombuffer(b"".join(numbers_bytes(leaf) for leaf, _ in self.leaves), dtype=NUMBER_DTYPE)
        self.published_ts = numbers["published_ts"].astype(np.int64)
        self.quality = numbers["quality"].astype(np.int32)
        self.published = numbers["published"].astype(np.int8)
        self.is_related = numbers["is_related"].astype(np.int8)
        self.has_date = self.published_ts != NO_DATE
        dated = self.published_ts[self.has_date & self.live]
        self.newest_ts = int(dated.max()) if len(dated) else 0
        self.day = np.where(self.has_date, self.published_ts // 86400, 0).astype(np.int32)
        known_quality = self.quality[(self.quality >= 0) & self.live]
        self.quality_scale = float(np.percentile(known_quality, 95)) if len(known_quality) else 0.0
        # per search field: each document's length, and the live documents' average
        self.lengths = PerField(self._lengths)
        self.average_length = PerField(self._average_length)
        self._norms: dict[tuple[str, float], np.ndarray] = {}

    @property
    def documents(self) -> int:
        """Live documents: the View protocol's count."""
        return self.count

    @cached_property
    def _facet_values(self) -> dict[str, list[bytes]]:
        return read_facets(self.leaves_for_thread())

    @cached_property
    def _saved(self) -> dict:
        """The columns and ranks saved beside the generation (column_cache.py), {} when none fit."""
        return load_columns(self) or {}

    provider = cached_property(lambda self: self._saved.get("provider") or ValueColumn(self._facet_values["provider"]))
    domain = cached_property(lambda self: self._saved.get("domain") or ValueColumn(self._facet_values["domain"]))
    category = cached_property(lambda self: self._saved.get("category") or ValueColumn(self._facet_values["category"]))
    type = cached_property(lambda self: self._saved.get("type") or ValueColumn(self._facet_values["type"]))
    topics = cached_property(lambda self: self._saved.get("topics") or MultiValueColumn(self._facet_values["topics"]))
    title_key = cached_property(
        lambda self: self._saved.get("title_key") or ValueColumn(self._facet_values["title_key"], keep_values=False)
    )

    dates = cached_property(lambda self: DayColumn(self.day, self.has_date))  # for the date histogram

    @cached_property
    def key_rank(self) -> np.ndarray:
        """Each document's place when all are sorted by (title key, date, number): sorting a
        result set for collapsing is then sorting small integers, or marking them in a bitmap."""
        if "key_rank" in self._saved:
            return self._saved["key_rank"]
        return key_rank_of(self.title_key.ords, self.published_ts)

    @cached_property
    def ts_rank(self) -> np.ndarray:
        """Each document's date as a dense rank (ties share one): relevance order sorts one
        64-bit key of (score, date rank) instead of three keys."""
        if "ts_rank" in self._saved:
            return self._saved["ts_rank"]
        return ts_rank_of(self.published_ts)

    def warm(self, vocabulary: bool = True) -> None:
        """Read now everything otherwise read on first use (the vocabulary too, unless told not to)."""
        for field in SEARCH_FIELDS:
            self.average_length[field]  # reads the field's lengths too
        for name in ("provider", "domain", "category", "type", "topics", "title_key"):
            getattr(self, name)
        self.__dict__.pop("_facet_values", None)  # every column is built: its source can go
        self.key_rank, self.ts_rank, self.dates  # noqa: B018 - built on first use
        if vocabulary:
            self.vocabulary().warm()
            build_in_background(self)  # autocomplete's index takes longer: completion_index.py

    def _lengths(self, field: str) -> np.ndarray:
        out = np.zeros(self.size, dtype=np.float32)
        for leaf, offset in self.leaves_for_thread():
            column = leaf._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
            if column is None:
                continue
            raw = fixed_width_bytes(column, leaf.doc_count_all())
            if raw is None:
                lengths = np.fromiter(column, dtype=np.uint8, count=leaf.doc_count_all())
            else:
                lengths = np.frombuffer(raw, dtype=np.uint8)
            out[offset : offset + len(lengths)] = _LENGTH_TABLE[lengths]
        return out

    def length_norms(self, field: str, b: float) -> np.ndarray:
        """BM25's ``1 - b + b * length / average`` of each document's ``field``, once per field and
        ``b`` (a setting of the ranking model, not of a request: a few per process)."""
        norms = self._norms.get((field, b))
        if norms is None:
            norms = self._norms[field, b] = 1.0 - b + b * self.lengths[field] / self.average_length[field]
        return norms

    def _average_length(self, field: str) -> float:
        return max(float(self.lengths[field][self.live].mean()) if self.count else 1.0, 1.0)

    def reader(self):
        """This thread's reader of this generation."""
        reader = getattr(self._local, "reader", None)
        if reader is None:
            reader = self.ix.reader()
            self._local.reader = reader
        return reader

    def searcher(self):
        searcher = getattr(self._local, "searcher", None)
        if searcher is None:
            searcher = self.ix.searcher()
            self._local.searcher = searcher
        return searcher

    def postings(self, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Live document numbers (sorted) and term frequencies of ``text`` in ``field``."""
        key = (field, text)
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        term = text.encode("utf-8")
        docs_parts, freq_parts = [], []
        through_whoosh = False
        for (leaf, offset), sidecar in zip(self.leaves_for_thread(), self.sidecars, strict=True):
            if sidecar is not None and sidecar.covers(field, term):
                ids, weights = sidecar.postings(field, term)
            else:
                through_whoosh = True
                try:
                    matcher = leaf.postings(field, text)
                except TermNotFound:
                    continue
                ids, weights = _read_all(matcher)
            if len(ids):
                docs_parts.append(ids + offset)
                freq_parts.append(weights)
        if not docs_parts:
            result = _EMPTY
        else:
            docs = np.concatenate(docs_parts).astype(np.int32, copy=False)
            freqs = np.concatenate(freq_parts).astype(np.float32)
            keep = self.live[docs] if self.count < self.size else None  # (no deletions: all live)
            result = (docs[keep], freqs[keep]) if keep is not None and not keep.all() else (docs, freqs)
        if through_whoosh:  # postings files are read in place: only Whoosh's reads are cached
            with self._cache_lock:
                self._cache[key] = result
                self._cache_size += len(result[0]) + 1
                while self._cache_size > POSTINGS_CACHE_ENTRIES and self._cache:
                    _, old = self._cache.popitem(last=False)
                    self._cache_size -= len(old[0]) + 1
        return result

    def position_keys(self, field: str, text: str, docs: np.ndarray) -> np.ndarray:
        """``doc << 32 | position`` (int64, sorted) for each position of ``text`` in ``field`` of
        each of ``docs`` (sorted live document numbers)."""
        term = text.encode("utf-8")
        parts = []
        for (leaf, offset), sidecar in zip(self.leaves_for_thread(), self.sidecars, strict=True):
            n = leaf.doc_count_all()
            lo, hi = np.searchsorted(docs, [offset, offset + n])
            if lo == hi:
                continue
            inside = docs[lo:hi].astype(np.int64) - offset
            if sidecar is not None and sidecar.covers(field, term):
                keys = sidecar.position_keys(field, term, inside)
            else:
                keys = self._whoosh_position_keys(leaf, field, text, inside)
            if len(keys):
                parts.append(keys + (offset << 32))
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    def _whoosh_position_keys(self, leaf, field: str, text: str, inside: np.ndarray) -> np.ndarray:
        decode = leaf.schema[field].format.decode_positions
        try:
            matcher = leaf.postings(field, text)
        except TermNotFound:
            return np.empty(0, dtype=np.int64)
        keys: list[int] = []
        # skip from candidate to candidate: blocks without one are never decoded
        for local in inside.tolist():
            if not matcher.is_active():
                break
            matcher.skip_to(local)
            if matcher.is_active() and matcher.id() == local:
                keys.extend((local << 32) | p for p in decode(matcher.value()))
        return np.array(keys, dtype=np.int64)

    def leaves_for_thread(self):
        leaves = getattr(self._local, "leaves", None)
        if leaves is None:
            leaves = segment_leaves(self.reader())
            self._local.leaves = leaves
        return leaves

    def doc_frequency(self, field: str, text: str) -> int:
        return len(self.postings(field, text)[0])

    def stored(self, docnum: int) -> dict:
        return self.reader().stored_fields(int(docnum))

    def docnum_of(self, doc_id: str) -> int | None:
        docs, _ = self.postings("id", doc_id)
        return int(docs[0]) if len(docs) else None

    def vocabulary(self):
        """Words of titles and topics with their document frequencies (built on first use)."""
        with self._vocabulary_lock:
            if self._vocabulary is None:
                from searchsvc.engine.whoosh_engine.spelling import Vocabulary, read_word_counts

                self._vocabulary = Vocabulary(list(read_word_counts(self.leaves_for_thread()).items()))
            return self._vocabulary

    def close(self) -> None:
        for sidecar in self.sidecars:
            if sidecar is not None:
                sidecar.close()
        for name in ("reader", "searcher"):
            thing = getattr(self._local, name, None)
            if thing is not None:
                thing.close()


def _read_all(matcher) -> tuple[np.ndarray, np.ndarray]:
    """All ids and weights of a leaf matcher, block by block where the codec allows."""
    if hasattr(matcher, "_read_data") and hasattr(matcher, "_next_block") and not matcher._byteids:
        # the W3 codec's blocks: (delta-encoded ids, weights or one weight or None, values);
        # decoded with numpy instead of Whoosh's per-posting Python loop
        ids_parts, weight_parts = [], []
        while not matcher._atend:
            matcher._read_data()
            deltas, weights = matcher._data[0], matcher._data[1]
            ids = np.cumsum(np.asarray(deltas, dtype=np.int64))
            ids_parts.append(ids)
            if weights is None:
                weight_parts.append(np.ones(len(ids), dtype=np.float32))
            elif isinstance(weights, float | int):
                weight_parts.append(np.full(len(ids), weights, dtype=np.float32))
            else:
                weight_parts.append(np.asarray(weights, dtype=np.float32))
            matcher._next_block()
        return np.concatenate(ids_parts), np.concatenate(weight_parts)
    ids, weights = [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float32)
