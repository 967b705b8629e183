"""Ranking quality on judged test collections: searchsvc (its default settings, through the same
SearchService the API uses) beside SQLite FTS5 (bm25 with the same field weights, porter).

    python3 benchmarks/relevance.py [--shared ../shared] [--collections time,cisi,med]

Prints MAP, nDCG@10, P@10 and recall@100 per collection and engine.

The loaders, runners and ``evaluate`` are importable: tests/test_relevance_regression.py runs
them on the judged queries with a shorter ranked list (``depth=100``) for both engines.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import math
import os
import re
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from searchsvc.config import Settings
from searchsvc.documents import Article
from searchsvc.engine import open_search
from searchsvc.engine.ranking import DEFAULT_RANKING
from searchsvc.indexer import index_articles
from searchsvc.search import SearchService, parse_request

DEPTH = 1000  # ranked list length for MAP
PAGE = 100


@dataclass
class Collection:
    name: str
    articles: list[Article]
    queries: dict[str, str]
    relevant: dict[str, set[str]]


def _records(path: Path, marker: str) -> list[tuple[str, dict[str, str]]]:
    """SMART-format records: '.I n' then '.X' fields."""
    records: list[tuple[str, dict[str, str]]] = []
    field = None
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith(marker + " "):
            records.append((line.split()[1], {}))
            field = None
        elif re.match(r"^\.[A-Z]$", line.strip()) and records:
            field = line.strip()[1]
            records[-1][1][field] = ""
        elif records and field:
            records[-1][1][field] += line.strip() + " "
    return records


def _article(doc_id: str, title: str, body: str, published: dt.datetime | None = None) -> Article:
    return Article(
        id=doc_id,
        path=doc_id,
        title=" ".join(title.split()) or doc_id,
        body=" ".join(body.split()),
        published_at=published,
        provider="",
        domain="",
    )


def _first_sentence(text: str) -> tuple[str, str]:
    match = re.match(r"(.+?[.?!])\s+(.*)", text.strip(), re.S)
    return (match.group(1), match.group(2)) if match else (text, "")


def load_cisi(root: Path) -> Collection:
    folder = root / "ir-cisi"
    docs = [_article(i, f.get("T", ""), f.get("W", "")) for i, f in _records(folder / "CISI.ALL", ".I")]
    queries = {i: f.get("W", "") for i, f in _records(folder / "CISI.QRY", ".I")}
    relevant: dict[str, set[str]] = {}
    for line in (folder / "CISI.REL").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2:
            relevant.setdefault(parts[0], set()).add(parts[1])
    return Collection("CISI", docs, queries, relevant)


def load_med(root: Path) -> Collection:
    folder = root / "ir-med"
    docs = []
    for i, f in _records(folder / "MED.ALL", ".I"):
        title, rest = _first_sentence(f.get("W", ""))
        docs.append(_article(i, title, rest))
    queries = {i: f.get("W", "") for i, f in _records(folder / "MED.QRY", ".I")}
    relevant: dict[str, set[str]] = {}
    for line in (folder / "MED.REL").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[3] != "0":
            relevant.setdefault(parts[0], set()).add(parts[2])
    return Collection("MED", docs, queries, relevant)


def load_time(root: Path) -> Collection:
    """TIME 1963. Judgments number documents by position: ordinals 1-370 are the records in file
    order; ordinal >= 378 is record (ordinal - 2) (see the collection's SOURCE.md)."""
    folder = root / "ir-time"
    docs: list[Article] = []
    text = (folder / "TIME.ALL").read_text(encoding="utf-8", errors="replace")
    for block in re.split(r"^\*TEXT\s+", text, flags=re.M)[1:]:
        header, _, body = block.partition("\n")
        number, *rest = header.split()
        published = None
        match = re.search(r"(\d\d)/(\d\d)/(\d\d)", header)
        if match:
            month, day, year = (int(g) for g in match.groups())
            published = dt.datetime(1900 + year, month, day, tzinfo=dt.UTC)
        lines = [line.strip() for line in body.splitlines() if line.strip()]
        title = lines[0] if lines else number
        docs.append(_article(f"time-{len(docs) + 1}", title, " ".join(lines[1:]), published))
    queries: dict[str, str] = {}
    for block in re.split(r"^\*FIND\s+", (folder / "TIME.QUE").read_text(), flags=re.M)[1:]:
        number, _, body = block.partition("\n")
        queries[number.strip()] = " ".join(body.split())
    relevant: dict[str, set[str]] = {}
    for line in (folder / "TIME.REL.ALL").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2:
            ordinals = [int(p) for p in parts[1:]]
            relevant[parts[0]] = {f"time-{o if o <= 370 else o - 2}" for o in ordinals}
    return Collection("TIME", docs, queries, relevant)


LOADERS = {"time": load_time, "cisi": load_cisi, "med": load_med}


def load_collection(key: str, shared: Path) -> Collection:
    """``key`` is one of LOADERS ("time", "cisi", "med"); ``shared`` is the folder holding corpora/."""
    return LOADERS[key](shared / "corpora")


def judged_only(collection: Collection) -> Collection:
    """The same collection without the queries that have no relevance judgments (``evaluate``
    skips those anyway; CISI has 112 queries, 76 judged)."""
    queries = {qid: text for qid, text in collection.queries.items() if collection.relevant.get(qid)}
    return dataclasses.replace(collection, queries=queries)


def run_searchsvc(collection: Collection, workdir: Path, depth: int = DEPTH) -> dict[str, list[str]]:
    """Index the collection into ``workdir`` and return the top ``depth`` ids per query."""
    index_dir = workdir / f"index-{collection.name}"
    index_articles(collection.articles, index_dir)
    # the defaults the API uses (SEARCHSVC_TYPO_TOLERANCE=false measures without typo tolerance)
    settings = Settings(index_dir=str(index_dir), typo_tolerance=os.environ.get("SEARCHSVC_TYPO_TOLERANCE") != "false")
    service = SearchService(open_search(settings), cache_size=0)
    per_page = min(PAGE, depth)
    rankings: dict[str, list[str]] = {}
    for qid, text in collection.queries.items():
        ranked: list[str] = []
        for page in range(1, math.ceil(depth / per_page) + 1):
            request = parse_request(
                {"q": [text], "page": [str(page)], "per_page": [str(per_page)], "facets": ["none"]},
                page_size_max=per_page,
            )
            results = service.search(request)
            ranked.extend(hit.id for hit in results.hits)
            if len(results.hits) < per_page:
                break
        rankings[qid] = ranked[:depth]
    return rankings


def run_fts5(collection: Collection, depth: int = DEPTH) -> dict[str, list[str]]:
    """Return the top ``depth`` ids per query from an in-memory FTS5 table."""
    with contextlib.closing(sqlite3.connect(":memory:")) as db:
        db.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, tokenize='porter unicode61')")
        db.executemany("INSERT INTO docs VALUES (?, ?, ?)", [(a.id, a.title, a.body) for a in collection.articles])
        weights = (0.0, DEFAULT_RANKING.field_weights["title"], DEFAULT_RANKING.field_weights["body"])
        rankings = {}
        for qid, text in collection.queries.items():
            words = re.findall(r"\w+", text.lower())
            if not words:
                rankings[qid] = []
                continue
            match = " OR ".join(f'"{w}"' for w in words)
            rows = db.execute(
                f"SELECT id FROM docs WHERE docs MATCH ? "
                f"ORDER BY bm25(docs, {weights[0]}, {weights[1]}, {weights[2]}) LIMIT {int(depth)}",
                (match,),
            ).fetchall()
            rankings[qid] = [r[0] for r in rows]
    return rankings


def evaluate(rankings: dict[str, list[str]], relevant: dict[str, set[str]]) -> dict[str, float]:
    """MAP (average precision over the whole ranked list given, so over the top ``depth``),
    nDCG@10, P@10 and recall@100, averaged over the judged queries."""
    judged = [q for q in rankings if relevant.get(q)]
    ap, ndcg, p10, r100 = [], [], [], []
    for qid in judged:
        ranked, rel = rankings[qid], relevant[qid]
        hits, precisions = 0, []
        for position, doc in enumerate(ranked, 1):
            if doc in rel:
                hits += 1
                precisions.append(hits / position)
        ap.append(sum(precisions) / len(rel))
        dcg = sum(1 / math.log2(i + 2) for i, doc in enumerate(ranked[:10]) if doc in rel)
        ideal = sum(1 / math.log2(i + 2) for i in range(min(10, len(rel))))
        ndcg.append(dcg / ideal)
        p10.append(sum(1 for doc in ranked[:10] if doc in rel) / 10)
        r100.append(sum(1 for doc in ranked[:100] if doc in rel) / len(rel))
    n = len(judged)
    return {"queries": n, "MAP": sum(ap) / n, "nDCG@10": sum(ndcg) / n, "P@10": sum(p10) / n, "R@100": sum(r100) / n}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    parser.add_argument("--collections", default="time,cisi,med")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="relevance-") as tmp:
        for key in args.collections.split(","):
            collection = load_collection(key.strip(), args.shared)
            for engine, runner in (("searchsvc", lambda c: run_searchsvc(c, Path(tmp))), ("SQLite FTS5", run_fts5)):
                started = time.perf_counter()
                scores = evaluate(runner(collection), collection.relevant)
                seconds = time.perf_counter() - started
                rows.append((collection.name, engine, scores, seconds))
    print("| collection | engine | queries | MAP | nDCG@10 | P@10 | R@100 | seconds |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, engine, s, seconds in rows:
        print(
            f"| {name} | {engine} | {s['queries']} | {s['MAP']:.3f} | {s['nDCG@10']:.3f} | {s['P@10']:.3f} | "
            f"{s['R@100']:.3f} | {seconds:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
