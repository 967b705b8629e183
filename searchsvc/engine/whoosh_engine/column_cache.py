"""A generation's facet columns and sort ranks, saved beside it when it is published, so that
opening it (a server's start, each ``searchsvc search``) loads a few arrays instead of decoding
every document's facet values (about 0.6 s at 155k articles).

The file is only a cache: it names the segments and deletions it was made from, and a snapshot
whose segments differ (a file copied or linked from another generation, an older format) ignores
it and decodes the columns itself. No pickles: arrays and UTF-8 text only.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from searchsvc.engine.whoosh_engine.columns import MultiValueColumn, ValueColumn

CACHE_FILE = "columns.npz"
VERSION = 1
SINGLE = ("provider", "domain", "category", "type")


def signature(snapshot) -> np.ndarray:
    """What the cache must match: each segment's id, document count and deleted documents."""
    parts = [f"v{VERSION}"]
    for leaf, offset in snapshot.leaves:
        count = leaf.doc_count_all()
        deleted = int((~snapshot.live[offset : offset + count]).sum())
        parts.append(f"{leaf.segment().segment_id()}:{count}:{deleted}")
    return _text_array(parts)


def save(snapshot, folder: Path) -> None:
    """Write ``snapshot``'s columns and ranks to ``folder``/CACHE_FILE (atomically)."""
    arrays: dict[str, np.ndarray] = {"signature": signature(snapshot)}
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
            "key_rank": snapshot.key_rank,
            "ts_rank": snapshot.ts_rank,
        }
    )
    path = Path(folder) / CACHE_FILE
    partial = path.with_name(f".{CACHE_FILE}.{os.getpid()}.tmp")
    with open(partial, "wb") as out:
        np.savez(out, **arrays)
    os.replace(partial, path)


def load(snapshot) -> dict | None:
    """The cached columns of ``snapshot`` (name -> column or array), or None when there is no
    cache or it was made from other segments."""
    path = Path(snapshot.folder) / CACHE_FILE
    try:
        with np.load(path, allow_pickle=False) as data:
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
    except (OSError, KeyError, ValueError):  # none, or unreadable: decoded as without a cache
        return None


def _text_array(values: list[str]) -> np.ndarray:
    """Strings as one UTF-8 byte array: lengths first (count, then each length), then the bytes."""
    encoded = [v.encode("utf-8") for v in values]
    lengths = np.array([len(encoded), *map(len, encoded)], dtype=np.int64)
    return np.concatenate([lengths.view(np.uint8), np.frombuffer(b"".join(encoded), dtype=np.uint8)])


def _texts(array: np.ndarray) -> list[str]:
    count = int(array[:8].view(np.int64)[0])
    lengths = array[8 : 8 * (count + 1)].view(np.int64)
    data = array[8 * (count + 1) :].tobytes()
    ends = np.cumsum(lengths).tolist()
    starts = [0, *ends[:-1]]
    return [data[a:b].decode("utf-8") for a, b in zip(starts, ends, strict=True)]
