"""Writing articles into a Whoosh index generation: in parallel segments for a full build,
with one ordinary writer for an incremental update."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import tempfile
from collections.abc import Sequence
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.codec import whoosh3
from whoosh.writing import SegmentWriter

from searchsvc.documents import Article
from searchsvc.engine.schema import make_schema

INDEX_NAME = "MAIN"
WRITER_MB = 256
PARALLEL_THRESHOLD = 4000


def _cached_reader(self, fieldname, column):
    # Whoosh looks a length column up once per posting and, for fields without lengths,
    # stats the missing column file every time; remember the miss too.
    try:
        return self._readers[fieldname]
    except KeyError:
        reader = self.column_reader(fieldname, column) if self.has_column(fieldname) else None
        self._readers[fieldname] = reader
        return reader


whoosh3.W3PerDocReader._cached_reader = _cached_reader


class SearchsvcCodec(whoosh3.W3Codec):
    """Whoosh's codec without per-block length statistics: they only serve Whoosh's own
    block-max scoring, which searchsvc does not use, and cost a column read per posting."""

    length_stats = False


def new_codec() -> whoosh3.W3Codec:
    return SearchsvcCodec()


def article_fields(article: Article) -> dict:
    """The Whoosh document for one article."""
    ts = int(article.published_at.timestamp()) if article.published_at else -1
    flag = -1 if article.published is None else int(article.published)
    return {
        "id": article.id,
        "path": article.path,
        "title": article.title,
        "excerpt": article.excerpt,
        "body": article.body,
        "topics_text": " ; ".join(article.topics),
        "spelling": article.title + " " + " ".join(article.topics),
        "provider_text": article.provider,
        "domain_text": article.domain.replace(".", " "),
        "provider": article.provider.encode("utf-8"),
        "domain": article.domain.encode("utf-8"),
        "category": article.category.encode("utf-8"),
        "type": article.type.encode("utf-8"),
        "topics": "\x1f".join(article.topics).encode("utf-8"),
        "title_key": article.title_key.encode("utf-8"),
        "published_ts": ts,
        "quality": article.quality if article.quality is not None else -1,
        "heat": article.heat if article.heat is not None else 0,
        "published": flag,
        "is_related": int(article.is_related),
        "stored": {
            "provider": article.provider,
            "domain": article.domain,
            "topics": article.topics,
            "category": article.category,
            "type": article.type,
            "published_ts": ts,
            "quality": article.quality,
            "heat": article.heat,
            "published": article.published,
            "url": article.url,
            "original_url": article.original_url,
            "image": article.image,
            "related_to": article.related_to,
            "related_ids": article.related_ids,
        },
    }


def create_index(folder: Path) -> None:
    whoosh_index.create_in(str(folder), make_schema(), indexname=INDEX_NAME)


def write_full(folder: Path, articles: Sequence[Article], processes: int | None = None) -> None:
    """Write all articles into the empty index in ``folder``, one segment per process."""
    create_index(folder)
    processes = processes or min(os.cpu_count() or 1, 4)
    if len(articles) < PARALLEL_THRESHOLD or processes < 2:
        ix = whoosh_index.open_dir(str(folder), indexname=INDEX_NAME)
        writer = SegmentWriter(ix, codec=new_codec(), limitmb=WRITER_MB)
        try:
            for article in articles:
                writer.add_document(**article_fields(article))
        except BaseException:
            writer.cancel()
            raise
        writer.commit(merge=False)
        return
    segments = _write_segments_in_parallel(folder, articles, processes)
    ix = whoosh_index.open_dir(str(folder), indexname=INDEX_NAME)
    writer = ix.writer()
    writer._close_segment()
    writer._commit_toc(list(writer.segments) + segments)
    writer._finish()


def _write_segments_in_parallel(folder: Path, articles: Sequence[Article], processes: int):
    context = multiprocessing.get_context("fork")
    with tempfile.TemporaryDirectory(prefix="segments-", dir=folder) as scratch:
        results = [Path(scratch) / f"segment-{n}.pickle" for n in range(processes)]
        workers = []
        for n in range(processes):
            part = range(n, len(articles), processes)
            proc = context.Process(target=_write_segment, args=(str(folder), articles, part, str(results[n])))
            proc.start()
            workers.append(proc)
        for proc in workers:
            proc.join()
        failed = [p.exitcode for p in workers if p.exitcode != 0]
        if failed:
            raise RuntimeError(f"an index writer process failed (exit codes {failed})")
        return [pickle.loads(path.read_bytes()) for path in results]


def _write_segment(folder: str, articles: Sequence[Article], part: range, result: str) -> None:
    ix = whoosh_index.open_dir(folder, indexname=INDEX_NAME)
    writer = SegmentWriter(ix, _lk=False, codec=new_codec(), limitmb=WRITER_MB)
    for position in part:
        writer.add_document(**article_fields(articles[position]))
    segment = writer._finalize_segment()  # the parent's writer removes the shared temp folder
    Path(result).write_bytes(pickle.dumps(segment))


def write_changes(folder: Path, delete_ids: Sequence[str], articles: Sequence[Article]) -> None:
    """Delete ``delete_ids`` and add (or replace) ``articles`` in the index in ``folder``."""
    ix = whoosh_index.open_dir(str(folder), indexname=INDEX_NAME)
    writer = SegmentWriter(ix, codec=new_codec(), limitmb=WRITER_MB)
    try:
        for doc_id in delete_ids:
            writer.delete_by_term("id", doc_id)
        for article in articles:
            writer.update_document(**article_fields(article))
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
