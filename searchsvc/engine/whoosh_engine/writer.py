"""Writing articles into a Whoosh index generation: in parallel segments for a full build, and
in a new segment beside the deletions and merges of Whoosh's own writer for an update."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from whoosh import index as whoosh_index
from whoosh.codec import whoosh3
from whoosh.writing import SegmentWriter

from searchsvc.engine.whoosh_engine import patches  # noqa: F401 - applies the file-handling fixes
from searchsvc.engine.whoosh_engine.fast_writer import BulkSegmentWriter
from searchsvc.engine.whoosh_engine.postings_file import gather_from_reader, sidecar_path, write_sidecar
from searchsvc.engine.whoosh_engine.schema import NO_DATE, NUMBERS, make_schema

if TYPE_CHECKING:  # (not imported at run time: a search never parses articles, nor loads ftfy)
    from searchsvc.documents import Article

INDEX_NAME = "MAIN"
CHANGES_MB = 64  # an update's postings beyond this spill to sorted runs on disk
SEGMENT_DOCS = 40_000


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


INLINE_LIMIT = 2  # a term in one document: its posting inlined (InliningPostingsWriter)


class InliningPostingsWriter(whoosh3.W3PostingsWriter):
    """Whoosh's postings writer, with the postings of a term in fewer than ``inlinelimit``
    documents kept in its record of the term table instead of a block of their own in the
    postings file (a header, a pickle and a block record for one posting). whoosh-reloaded
    2.7.5's own inlining calls a method its term info does not have (``set_inline``), so only
    its default, which never inlines, works. Readers of any version read inlined postings."""

    def finish_postings(self):
        terminfo = self._terminfo
        if not self.written() and 0 < len(self) < self._inlinelimit:
            terminfo.add_block(self)
            # a format without values (Existence) has none buffered: each posting's is b"", as a
            # block reader gives (merging reads them, and wants bytes)
            values = self._values or [b""] * len(self._ids)
            terminfo.set_inlined(self._ids, self._weights, values)
            self._terminfo = None
            return terminfo
        return super().finish_postings()


class SearchsvcCodec(whoosh3.W3Codec):
    """Whoosh's codec without per-block length statistics (they only serve Whoosh's own
    block-max scoring, which searchsvc does not use, and cost a column read per posting), and
    with the postings of a term found in one document inlined in the term table."""

    length_stats = False

    def postings_writer(self, dbfile, byteids=False):
        return InliningPostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )


def new_codec() -> whoosh3.W3Codec:
    # uncompressed posting blocks: zlib was a tenth of the build time and slows every query
    return SearchsvcCodec(compression=0, inlinelimit=INLINE_LIMIT)


def article_fields(article: Article) -> dict:
    """The Whoosh document for one article."""
    ts = int(article.published_at.timestamp()) if article.published_at else NO_DATE
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
        "facets": "\x1e".join(
            (
                article.provider,
                article.domain,
                article.category,
                article.type,
                "\x1f".join(article.topics),
                article.title_key,
            )
        ).encode("utf-8"),
        "numbers": NUMBERS.pack(
            ts,
            article.quality if article.quality is not None else -1,
            article.heat if article.heat is not None else 0,
            flag,
            int(article.is_related),
        ),
        "stored": {
            "provider": article.provider,
            "domain": article.domain,
            "topics": article.topics,
            "category": article.category,
            "type": article.type,
            "published_at": _iso(article),
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


def _iso(article: Article) -> str | None:
    if article.published_at is None:
        return None
    return article.published_at.isoformat().replace("+00:00", "Z")


def create_index(folder: Path) -> None:
    whoosh_index.create_in(str(folder), make_schema(), indexname=INDEX_NAME)


def write_full(folder: Path, articles: Sequence[Article]) -> None:
    """Write all articles into a new, empty index in ``folder`` (one process)."""
    create_index(folder)
    commit_segments(folder, write_segment(folder, articles))


def write_segment(folder: Path, articles: Iterable[Article]) -> list:
    """Write articles as new segments of the index in ``folder`` without publishing them
    (one segment per SEGMENT_DOCS articles, which bounds the memory a writer holds); returns
    the segments, to be passed to commit_segments. ``articles`` is read once, in order, so it
    may be a generator. Safe to run in several processes."""
    ix = whoosh_index.open_dir(str(folder), indexname=INDEX_NAME)
    segments = []
    writer = None
    try:
        for article in articles:
            if writer is None:
                writer = BulkSegmentWriter(ix, _lk=False, codec=new_codec())
            writer.add_document(**article_fields(article))
            if writer.docnum >= SEGMENT_DOCS:
                segments.append(_finish_segment(folder, writer))
                writer = None
        if writer is not None:
            segments.append(_finish_segment(folder, writer))
    except BaseException:
        if writer is not None:  # close its files (a full disk): a worker process would exit instead
            _cancel(writer)
        raise
    return segments


def _finish_segment(folder: Path, writer: BulkSegmentWriter):
    # the temporary folder is shared by all segment writers: commit_segments removes it
    segment = writer._finalize_segment()
    # after the segment is assembled (its compound file takes every file named after it)
    write_sidecar(sidecar_path(folder, segment.segment_id()), writer.sidecar)
    return segment


def commit_segments(folder: Path, segments: Sequence) -> None:
    """Make segments written by write_segment part of the index in ``folder``."""
    ix = whoosh_index.open_dir(str(folder), indexname=INDEX_NAME)
    writer = ix.writer()
    writer._close_segment()
    flat = [s for part in segments for s in (part if isinstance(part, list) else [part])]
    writer._commit_toc(list(writer.segments) + [s for s in flat if s.doc_count_all()])
    writer._finish()


def write_changes(folder: Path, delete_ids: Sequence[str], articles: Sequence[Article]) -> None:
    """Delete ``delete_ids`` and add (or replace) ``articles`` in the index in ``folder``.

    The articles go into new segments written by the bulk writer (with their postings files),
    as a full build's do; Whoosh's own writer only marks the deletions and merges small segments
    (MERGE_SMALL), and a merged segment's postings file is then read back from it."""
    ix = whoosh_index.open_dir(str(folder), indexname=INDEX_NAME)
    before = {segment.segment_id() for segment in ix._segments()}
    writer = SegmentWriter(ix, codec=new_codec(), limitmb=CHANGES_MB)
    try:
        # replaced articles too; through one searcher (Whoosh opens a reader per call without one)
        with writer.searcher() as searcher:
            for doc_id in [*delete_ids, *(article.id for article in articles)]:
                writer.delete_by_term("id", doc_id, searcher=searcher)
        added = write_segment(folder, articles) if articles else []
        kept = writer._merge_segments(None, None, None)
        if writer._added:  # the merge policy merged small segments into this writer's segment
            kept.append(writer._finalize_segment())
        else:
            writer._close_segment()
        writer._commit_toc(kept + [segment for segment in added if segment.doc_count_all()])
        writer._finish()
    except BaseException:
        _cancel(writer)
        raise
    write_missing_sidecars(folder, skip=before)


def _cancel(writer: SegmentWriter) -> None:
    """Close every file a failed writer holds open. Whoosh's cancel() stops at the first close that
    fails (on a full disk, flushing the last block fails too) and leaves the other files open."""
    try:
        writer.cancel()
    except Exception:  # noqa: BLE001 - the first error is the one to report
        _close_files([writer.perdocwriter, writer.fieldwriter, writer.pool])
        writer.is_closed = True


def _close_files(objects: list, depth: int = 4) -> None:
    """Close the open files reachable from ``objects`` through attributes, lists and dicts, at most
    ``depth`` steps deep (each object is visited once)."""
    seen: set[int] = set()
    level = list(objects)
    for _ in range(depth):
        found = []
        for obj in level:
            if id(obj) in seen or obj is None or isinstance(obj, (str, bytes, int, float)):
                continue
            seen.add(id(obj))
            if isinstance(obj, io.IOBase):
                try:
                    obj.close()  # a buffered file closes its descriptor even when its last flush fails
                except OSError:
                    pass
                continue
            if isinstance(obj, dict):
                found.extend(obj.values())
            elif isinstance(obj, (list, tuple)):
                found.extend(obj)
            elif hasattr(obj, "__dict__"):
                found.extend(vars(obj).values())
        level = found


def write_missing_sidecars(folder: Path, skip: set[str] = frozenset()) -> None:
    """Write the postings file of each segment that has none, reading the segment back (an
    update's segment, or a merge's: the bulk writer writes its own). Segments in ``skip`` (those
    an update found) are left alone: an index built before postings files existed is read
    through Whoosh until a full rebuild, rather than converted at once by an update."""
    ix = whoosh_index.open_dir(str(folder), indexname=INDEX_NAME)
    with ix.reader() as reader:
        for leaf, _ in reader.leaf_readers():
            segment_id = leaf.segment().segment_id()
            path = sidecar_path(folder, segment_id)
            if segment_id not in skip and not path.exists():
                write_sidecar(path, gather_from_reader(leaf))
