"""The search engine seam. Everything outside this package is engine-neutral; Whoosh is the
embedded engine and the only one that imports ``whoosh``.

An engine offers: ``write_full``/``write_changes``/``document_count`` for the indexer, and
``open_engine(settings)`` returning an object with ``search(request)``, ``article(id)``,
``more_like_this(id)``, ``suggest(prefix)`` and ``snapshot().name`` for the search layer.
"""

from __future__ import annotations

from pathlib import Path

from searchsvc.engine.whoosh_engine.writer import (
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


def top_values(source, column: str, top: int = 10) -> list[tuple[str, int]]:
    """The most frequent values of a column over the live documents (ties by value).

    ``source`` is an open snapshot (``engine.snapshot()``: counted from its columns with numpy,
    no per-document Python) or a generation folder (read from disk, for the CLI).
    """
    import numpy as np

    from searchsvc.engine.whoosh_engine.snapshot import Snapshot, ValueColumn, read_facets

    if isinstance(source, Snapshot):
        values = getattr(source, {"topic": "topics"}.get(column, column))
        live = source.live
    else:
        with _open(Path(source)).reader() as reader:
            values = ValueColumn(read_facets(reader)[column])
            live = np.zeros(reader.doc_count_all(), dtype=bool)
            live[np.fromiter(reader.all_doc_ids(), dtype=np.int64)] = True
    if hasattr(values, "counts"):  # a multi-valued column
        counts = values.counts(np.flatnonzero(live))
    else:
        counts = np.bincount(values.ords[live], minlength=len(values.values))
    order = np.lexsort((np.arange(len(counts)), -counts))[:top]
    return [(values.values[i], int(counts[i])) for i in order if counts[i] > 0]


def open_engine(settings):
    """The search engine for ``settings.index_dir``."""
    from searchsvc.engine.limits import QueryLimits
    from searchsvc.engine.whoosh_engine.search import Ranking, WhooshEngine

    ranking = Ranking(settings.recency_weight, settings.quality_weight)
    return WhooshEngine(settings.index_dir, ranking, QueryLimits.from_settings(settings))


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
