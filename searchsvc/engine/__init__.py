"""The search engine seam. Everything outside this package is engine-neutral; Whoosh is the
embedded engine and the only one that imports ``whoosh``.

An engine offers: ``write_full``/``write_changes``/``document_count`` for the indexer, and
``open_engine(settings)`` returning an object with ``search(request)``, ``article(id)``,
``more_like_this(id)``, ``suggest(prefix)`` and ``snapshot().name`` for the search layer.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from searchsvc.engine.whoosh_writer import (
    INDEX_NAME,
    commit_segments,
    create_index,
    write_changes,
    write_full,
    write_segment,
)


def _open(folder: Path):
    from whoosh import index as whoosh_index

    return whoosh_index.open_dir(str(folder), indexname=INDEX_NAME)


def document_count(folder: Path) -> int:
    return _open(folder).doc_count()


def top_values(folder: Path, column: str, top: int = 10) -> list[tuple[str, int]]:
    """The most frequent values of a column over the live documents."""
    from searchsvc.engine.whoosh_snapshot import read_facets

    counts: Counter[bytes] = Counter()
    with _open(folder).reader() as reader:
        values = read_facets(reader)[column]
        for docnum in reader.all_doc_ids():
            counts[values[docnum]] += 1
    return [(value.decode("utf-8"), count) for value, count in counts.most_common(top)]


def open_engine(settings):
    """The search engine for ``settings.index_dir``."""
    from searchsvc.engine.whoosh_search import Ranking, WhooshEngine

    ranking = Ranking(settings.recency_weight, settings.quality_weight)
    return WhooshEngine(settings.index_dir, ranking)


__all__ = [
    "commit_segments",
    "create_index",
    "document_count",
    "open_engine",
    "top_values",
    "write_changes",
    "write_full",
    "write_segment",
]
