"""The tantivy peer (tantivy-py, the Rust engine's Python bindings): the same articles and fields as
searchsvc, and a search that does what a searchsvc request does (top 10 with snippets, total,
facets). Needs the bench extra: pip install -e '.[bench]' -c constraints.txt

Run on its own it builds an index and prints its timings as JSON:

    python benchmarks/tantivy_baseline.py --corpus /work/data/news-all --index /tmp/x-tantivy
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from common import DEFAULT_CORPUS, ParsedCorpus, log, parse_corpus

from searchsvc.documents import Article

try:
    import tantivy
except ImportError:  # pragma: no cover - a message instead of a traceback
    raise SystemExit(
        "The tantivy peer needs the tantivy package: pip install -e '.[bench]' -c constraints.txt "
        "(or run search_latency.py with --skip-tantivy)."
    ) from None

TEXT_FIELDS = ("title", "excerpt", "topics", "body")
# searchsvc's default field_weights, as tantivy's per-field boosts of its BM25 scores
FIELD_BOOSTS = {"title": 3.0, "topics": 2.0, "excerpt": 1.5, "body": 1.0}
FACET_FIELDS = ("provider", "domain", "topic", "category", "type")
FACET_SIZE = 10
INFO_FILE = "bench_info.json"
WRITER_HEAP = 256_000_000
_PHRASE_OR_WORD = re.compile(r'"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w")


def make_schema():
    builder = tantivy.SchemaBuilder()
    for name in ("id", "url"):
        builder.add_text_field(name, stored=True, tokenizer_name="raw", index_option="basic")
    for name in TEXT_FIELDS:  # positions (the default index option) for "quoted phrases"
        builder.add_text_field(name, stored=name in ("title", "excerpt"), tokenizer_name="en_stem")
    for name in FACET_FIELDS:  # the raw value: a filter term and a column for the terms aggregation
        builder.add_text_field(name, stored=name == "provider", fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("month", fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("day", stored=True, indexed=True, fast=True)  # YYYYMMDD (UTC), for from/to
    return builder.build()


def to_document(article: Article):
    doc = tantivy.Document(id=article.id, url=article.url, title=article.title, excerpt=article.excerpt)
    doc.add_text("body", article.body)
    doc.add_text("topics", " ; ".join(article.topics))
    for name in ("provider", "domain", "category", "type"):
        value = getattr(article, name)
        if value:
            doc.add_text(name, value)
    for topic in article.topics:
        doc.add_text("topic", topic)
    if article.published_at:
        day = article.published_at.astimezone(dt.UTC).date()
        doc.add_text("month", day.strftime("%Y-%m"))
        doc.add_integer("day", int(day.strftime("%Y%m%d")))
    return doc


def build_tantivy(index_dir: Path, articles: Sequence[Article], info: dict[str, str] | None = None) -> float:
    """Create the index (one writer with its own threads, one commit, its merges waited for); the
    seconds it took."""
    shutil.rmtree(index_dir, ignore_errors=True)
    index_dir.mkdir(parents=True)
    started = time.perf_counter()
    index = tantivy.Index(make_schema(), path=str(index_dir))
    writer = index.writer(heap_size=WRITER_HEAP)
    for article in articles:
        writer.add_document(to_document(article))
    writer.commit()
    writer.wait_merging_threads()
    seconds = time.perf_counter() - started
    info = {"articles": str(len(articles)), **(info or {})}
    (index_dir / INFO_FILE).write_text(json.dumps(info), encoding="utf-8")
    return seconds


def read_info(index_dir: Path) -> dict[str, str]:
    """What build_tantivy recorded about the index ({} if it is missing or unreadable)."""
    try:
        return json.loads((index_dir / INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def ensure_tantivy(
    index_dir: Path, corpus: Path, articles: int, parse: Callable[[Path], ParsedCorpus] = parse_corpus
) -> None:
    """Reuse ``index_dir`` when it holds the same corpus with the searchsvc index's article count."""
    info = read_info(index_dir)
    if info.get("articles") == str(articles) and info.get("corpus") == str(corpus):
        log(f"using the tantivy index at {index_dir} ({articles} articles)")
        return
    log(f"building the tantivy index at {index_dir} from {corpus}")
    parsed = parse(corpus)
    seconds = build_tantivy(index_dir, parsed.articles, {"corpus": str(corpus)})
    log(f"indexed {len(parsed.articles)} articles in {seconds:.1f} s")
    if len(parsed.articles) != articles:
        log(f"note: tantivy has {len(parsed.articles)} articles, the searchsvc index {articles} documents")


def query_text(text: str) -> str:
    """The query in tantivy's query language: every word (or "quoted phrase") as a quoted phrase,
    so no query syntax gets through; '' when nothing is left. With conjunction_by_default each is
    required (AND), as in the FTS5 peer."""
    parts = []
    for phrase, word in _PHRASE_OR_WORD.findall(text):
        words = [w.replace("\\", " ").strip() for w in (phrase or word).split() if _WORD.search(w)]
        if words:
            parts.append('"' + " ".join(words) + '"')
    return " ".join(parts)


@dataclass
class TantivyResult:
    total: int
    hits: list[tuple]
    facets: dict[str, list[tuple[str, int]]]


FACETS_AGGREGATION = {
    **{name: {"terms": {"field": name, "size": FACET_SIZE}} for name in FACET_FIELDS},
    "month": {"terms": {"field": "month", "size": 1000, "order": {"_key": "asc"}}},
}


class TantivySearch:
    """One searcher; per query: the top 10 by BM25 (field boosts as searchsvc's field_weights) with
    the total, snippets of title and excerpt, then one aggregation request with a terms aggregation
    per facet over the same query (tantivy walks the matches again for it)."""

    def __init__(self, index_dir: Path) -> None:
        self.index = tantivy.Index.open(str(index_dir))
        self.schema = self.index.schema
        self.searcher = self.index.searcher()

    def close(self) -> None:
        self.searcher = None

    def search(self, q: str, provider: str | None = None, date_from: str | None = None, date_to: str | None = None):
        text = query_text(q)
        if not text:
            return TantivyResult(0, [], {})
        query = self.index.parse_query(text, list(TEXT_FIELDS), field_boosts=FIELD_BOOSTS, conjunction_by_default=True)
        clauses = [(tantivy.Occur.Must, query)]
        if provider:
            clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(self.schema, "provider", provider)))
        if date_from or date_to:
            low, high = (int(d.replace("-", "")) if d else None for d in (date_from, date_to))
            days = tantivy.Query.range_query(self.schema, "day", tantivy.FieldType.Integer, low, high)
            clauses.append((tantivy.Occur.Must, days))
        full = tantivy.Query.boolean_query(clauses) if len(clauses) > 1 else query
        searcher = self.searcher
        found = searcher.search(full, 10, count=True)
        titles = tantivy.SnippetGenerator.create(searcher, query, self.schema, "title")
        excerpts = tantivy.SnippetGenerator.create(searcher, query, self.schema, "excerpt")
        excerpts.set_max_num_chars(250)
        hits = []
        for score, address in found.hits:
            doc = searcher.doc(address)
            stored = doc.to_dict()
            hits.append(
                (
                    score,
                    titles.snippet_from_doc(doc).to_html(),
                    excerpts.snippet_from_doc(doc).to_html(),
                    stored["id"][0],
                    stored["url"][0],
                    stored.get("provider", [""])[0],
                    stored.get("day", [None])[0],
                )
            )
        aggregated = searcher.aggregate(full, FACETS_AGGREGATION) if found.count else {}
        facets = {
            name: [(b["key"], b["doc_count"]) for b in aggregated.get(name, {}).get("buckets", [])]
            for name in FACETS_AGGREGATION
        }
        return TantivyResult(found.count, hits, facets)


def main() -> None:
    parser = argparse.ArgumentParser(description="Build the tantivy peer's index and print timings as JSON.")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--index", type=Path, required=True, help="index folder to (re)create")
    args = parser.parse_args()
    parsed = parse_corpus(args.corpus)
    log(f"parsed {parsed.files} files into {len(parsed.articles)} articles in {parsed.seconds:.1f} s")
    seconds = build_tantivy(args.index, parsed.articles, {"corpus": str(args.corpus.resolve())})
    log(f"indexed {len(parsed.articles)} articles in {seconds:.1f} s")
    print(json.dumps({"files": parsed.files, "articles": len(parsed.articles), "build_seconds": seconds}))


if __name__ == "__main__":
    main()
