"""A generation's facet columns and sort ranks, saved beside it when it is published, so that
opening it (a server's start, each ``searchsvc search``) loads a few arrays instead of decoding
every document's facet values (about 0.6 s at 155k articles).

The file is only a cache: it names the segments and deletions it was made from, and a snapshot
whose segments differ (a file copied or linked from another generation, an older format) ignores
it and decodes the columns itself. No pickles: arrays and UTF-8 text only.

An update's generation shares most segments with the one before: its columns are derived from
the previous generation's file for those segments (their ordinals remapped to the new sorted
values) and decoded only for the new segments, the same arrays as decoding everything (the
tests compare them), in a fraction of the time.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from searchsvc.engine.whoosh_engine.columns import (
    MultiValueColumn,
    ValueColumn,
    key_rank_of,
    read_facets,
    ts_rank_of,
)
from searchsvc.engine.whoosh_engine.saved_arrays import mapped_arrays

CACHE_FILE = "columns.npz"
VERSION = 1
SINGLE = ("provider", "domain", "category", "type")
# the title keys in the order of their ordinals (ValueColumn numbers them as they first appear):
# kept for deriving the next generation's, never read to search
TITLE_KEYS = "title_key.keys"


def signature(snapshot) -> np.ndarray:
    """What the cache must match: each segment's id, document count and deleted documents."""
    parts = [f"v{VERSION}"]
    for leaf, offset in snapshot.leaves:
        count = leaf.doc_count_all()
        deleted = int((~snapshot.live[offset : offset + count]).sum())
        parts.append(f"{leaf.segment().segment_id()}:{count}:{deleted}")
    return _text_array(parts)


def save(snapshot, folder: Path, previous: Path | None = None) -> None:
    """Write ``snapshot``'s columns and ranks to ``folder``/CACHE_FILE (atomically): derived
    from the file of generation folder ``previous`` for the segments they share, when it fits."""
    arrays = (_derived(snapshot, previous) if previous is not None else None) or _decoded(snapshot)
    arrays["signature"] = signature(snapshot)
    path = Path(folder) / CACHE_FILE
    partial = path.with_name(f".{CACHE_FILE}.{os.getpid()}.tmp")
    with open(partial, "wb") as out:
        np.savez(out, **arrays)
    os.replace(partial, path)


def _decoded(snapshot) -> dict[str, np.ndarray]:
    """The arrays of every column, decoded from the segments (or as the snapshot has them)."""
    arrays: dict[str, np.ndarray] = {}
    for name in SINGLE:
        column = getattr(snapshot, name)
        arrays[f"{name}.ords"] = column.ords
        arrays[f"{name}.values"] = _text_array(column.values)
    topics = snapshot.topics
    arrays.update(
        {
            "topics.ords": topics.ords,
            "topics.values": _text_array(topics.values),
            "topics.indptr": topics.indptr,
            "topics.doc_of": topics.doc_of,
            "title_key.ords": snapshot.title_key.ords,
            "title_key.empty": np.array([snapshot.title_key.empty], dtype=np.int64),
            TITLE_KEYS: _bytes_array(list(dict.fromkeys(snapshot._facet_values["title_key"]))),
            "key_rank": snapshot.key_rank,
            "ts_rank": snapshot.ts_rank,
        }
    )
    return arrays


def _derived(snapshot, previous: Path) -> dict[str, np.ndarray] | None:
    """The arrays of every column, from ``previous``'s file for the segments the snapshot shares
    with it and decoded for the others; None when the file is missing, of another version, or
    shares no segment."""
    try:
        old = mapped_arrays(Path(previous) / CACHE_FILE)
    except (OSError, ValueError, zipfile.BadZipFile):
        return None
    parts = _texts(old.get("signature", np.zeros(8, np.uint8)))
    if not parts or parts[0] != f"v{VERSION}" or TITLE_KEYS not in old:
        return None
    starts, start = {}, 0
    for part in parts[1:]:
        segment_id, count, _ = part.rsplit(":", 2)
        starts[segment_id] = (start, int(count))
        start += int(count)
    # each leaf of the snapshot: (first document in the old arrays, count) or (None, count)
    leaves = []
    for leaf, _ in snapshot.leaves:
        count = leaf.doc_count_all()
        found = starts.get(leaf.segment().segment_id())
        leaves.append((found[0] if found and found[1] == count else None, count))
    if all(first is None for first, _ in leaves):
        return None
    fresh = read_facets([pair for pair, (first, _) in zip(snapshot.leaves, leaves, strict=True) if first is None])
    arrays: dict[str, np.ndarray] = {}
    for name in SINGLE:
        ords, values = _merged_single(leaves, old[f"{name}.ords"], _texts(old[f"{name}.values"]), fresh.get(name, []))
        arrays[f"{name}.ords"], arrays[f"{name}.values"] = ords, _text_array(values)
    arrays.update(_merged_topics(leaves, old, fresh.get("topics", [])))
    title_ords, keys = _merged_title_keys(
        leaves, old["title_key.ords"], _byte_strings(old[TITLE_KEYS]), fresh.get("title_key", [])
    )
    arrays["title_key.ords"] = title_ords
    arrays["title_key.empty"] = np.array([keys.index(b"") if b"" in keys else -1], dtype=np.int64)
    arrays[TITLE_KEYS] = _bytes_array(keys)
    arrays["key_rank"] = key_rank_of(title_ords, snapshot.published_ts)
    arrays["ts_rank"] = ts_rank_of(snapshot.published_ts)
    return arrays


def _pieces(leaves, old_part, fresh_part):
    """Per leaf, in order: ("old", its slice of the old documents) or ("new", its slice of the
    fresh values), through the callables given."""
    done = 0
    for first, count in leaves:
        if first is None:
            yield "new", fresh_part(done, done + count)
            done += count
        else:
            yield "old", old_part(first, first + count)


def _merged_single(leaves, old_ords, old_values: list[str], fresh: list[bytes]) -> tuple[np.ndarray, list[str]]:
    pieces = list(_pieces(leaves, lambda a, b: old_ords[a:b], lambda a, b: fresh[a:b]))
    return _remapped(pieces, old_values, fresh)


def _remapped(pieces, old_values: list[str], fresh: list[bytes]) -> tuple[np.ndarray, list[str]]:
    """Ordinals into the sorted values in use (as ValueColumn makes them) from old ordinals and
    fresh byte values."""
    used_old = [ords for kind, ords in pieces if kind == "old"]
    used = np.unique(np.concatenate(used_old)) if used_old else np.zeros(0, np.int64)
    distinct = sorted({old_values[i].encode("utf-8") for i in used.tolist()} | set(fresh))
    place = {value: i for i, value in enumerate(distinct)}
    old_map = np.zeros(len(old_values), dtype=np.int32)
    old_map[used] = [place[old_values[i].encode("utf-8")] for i in used.tolist()]
    out = [
        old_map[part] if kind == "old" else np.fromiter((place[v] for v in part), np.int32, len(part))
        for kind, part in pieces
    ]
    ords = np.concatenate(out).astype(np.int32) if out else np.zeros(0, np.int32)
    return ords, [v.decode("utf-8", "replace") for v in distinct]


def _merged_topics(leaves, old: dict, fresh: list[bytes]) -> dict[str, np.ndarray]:
    indptr = old["topics.indptr"]
    old_ords = old["topics.ords"]

    def old_part(a: int, b: int):
        return np.diff(indptr[a : b + 1]), old_ords[indptr[a] : indptr[b]]

    def new_part(a: int, b: int):
        raw = fresh[a:b]
        lengths = np.fromiter((v.count(b"\x1f") + 1 if v else 0 for v in raw), dtype=np.int64, count=len(raw))
        return lengths, (b"\x1f".join(v for v in raw if v).split(b"\x1f") if lengths.any() else [])

    pieces = list(_pieces(leaves, old_part, new_part))
    flat_fresh = [v for kind, (_, values) in pieces if kind == "new" for v in values]
    ords, values = _remapped([(kind, values) for kind, (_, values) in pieces], _texts(old["topics.values"]), flat_fresh)
    lengths = np.concatenate([lengths for _, (lengths, _) in pieces]).astype(np.int64)
    new_indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_indptr[1:])
    return {
        "topics.ords": ords,
        "topics.values": _text_array(values),
        "topics.indptr": new_indptr,
        "topics.doc_of": np.repeat(np.arange(len(lengths), dtype=np.int32), lengths),
    }


def _merged_title_keys(leaves, old_ords, old_keys: list[bytes], fresh: list[bytes]) -> tuple[np.ndarray, list[bytes]]:
    """Title-key ordinals numbered in order of first appearance, as ValueColumn numbers them:
    each document's key as a number (an old key's old ordinal; a fresh key not among the old
    ones, a number after them), renumbered by where each number first appears."""
    number = {key: i for i, key in enumerate(old_keys)}
    added: list[bytes] = []
    for key in fresh:
        if key not in number:
            number[key] = len(old_keys) + len(added)
            added.append(key)
    fresh_numbers = np.fromiter((number[key] for key in fresh), np.int64, len(fresh))
    pieces = list(_pieces(leaves, lambda a, b: old_ords[a:b].astype(np.int64), lambda a, b: fresh_numbers[a:b]))
    numbers = np.concatenate([part for _, part in pieces]) if pieces else np.zeros(0, np.int64)
    distinct, firsts, inverse = np.unique(numbers, return_index=True, return_inverse=True)
    order = np.argsort(firsts, kind="stable")
    rank = np.empty(len(distinct), dtype=np.int32)
    rank[order] = np.arange(len(distinct), dtype=np.int32)
    every_key = old_keys + added
    return rank[inverse.reshape(-1)].astype(np.int32), [every_key[n] for n in distinct[order].tolist()]


def load(snapshot) -> dict | None:
    """The cached columns of ``snapshot`` (name -> column or array), or None when there is no
    cache or it was made from other segments."""
    path = Path(snapshot.folder) / CACHE_FILE
    try:
        data = mapped_arrays(path)
        if not np.array_equal(data["signature"], signature(snapshot)):
            return None
        found: dict = {}
        for name in SINGLE:
            found[name] = ValueColumn.from_arrays(data[f"{name}.ords"], _texts(data[f"{name}.values"]))
        found["topics"] = MultiValueColumn.from_arrays(
            data["topics.ords"], _texts(data["topics.values"]), data["topics.indptr"], data["topics.doc_of"]
        )
        found["title_key"] = ValueColumn.from_arrays(data["title_key.ords"], None, int(data["title_key.empty"][0]))
        found["key_rank"] = data["key_rank"]
        found["ts_rank"] = data["ts_rank"]
        return found
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):  # none, or unreadable: decoded instead
        return None


def _text_array(values: list[str]) -> np.ndarray:
    """Strings as one UTF-8 byte array: lengths first (count, then each length), then the bytes."""
    return _bytes_array([v.encode("utf-8") for v in values])


def _bytes_array(encoded: list[bytes]) -> np.ndarray:
    """Byte strings as one array: lengths first (count, then each length), then the bytes."""
    lengths = np.array([len(encoded), *map(len, encoded)], dtype=np.int64)
    return np.concatenate([lengths.view(np.uint8), np.frombuffer(b"".join(encoded), dtype=np.uint8)])


def _texts(array: np.ndarray) -> list[str]:
    return [v.decode("utf-8") for v in _byte_strings(array)]


def _byte_strings(array: np.ndarray) -> list[bytes]:
    count = int(array[:8].view(np.int64)[0])
    lengths = array[8 : 8 * (count + 1)].view(np.int64)
    data = array[8 * (count + 1) :].tobytes()
    ends = np.cumsum(lengths).tolist()
    starts = [0, *ends[:-1]] if ends else []  # (no values: an empty column)
    return [data[a:b] for a, b in zip(starts, ends, strict=True)]
