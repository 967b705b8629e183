"""The SQLite FTS5 baseline: the same articles in an FTS5 table plus a table of facet columns,
and a search that does what a searchsvc request does (top 10 with snippets, total, facets).

Run on its own it builds a database and prints its timings as JSON (index_build.py runs it
this way to measure its memory):

    python benchmarks/fts5_baseline.py --corpus /work/data/news-all --db /tmp/x.db
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import pickle
import re
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from common import DEFAULT_CORPUS, log, parse_corpus

from searchsvc.documents import Article

SCHEMA = """
CREATE VIRTUAL TABLE docs USING fts5(title, excerpt, body, topics, tokenize='porter unicode61');
CREATE TABLE meta(
    id INTEGER PRIMARY KEY, doc_id TEXT, url TEXT,
    provider TEXT, domain TEXT, day TEXT, category TEXT, type TEXT
);
CREATE TABLE doc_topics(doc INTEGER NOT NULL, topic TEXT NOT NULL, PRIMARY KEY (doc, topic)) WITHOUT ROWID;
CREATE TABLE bench_info(key TEXT PRIMARY KEY, value TEXT);
"""
INDEXES = """
CREATE INDEX meta_provider ON meta(provider);
CREATE INDEX meta_domain ON meta(domain);
CREATE INDEX meta_day ON meta(day);
CREATE INDEX meta_category ON meta(category);
CREATE INDEX meta_type ON meta(type);
CREATE INDEX doc_topics_topic ON doc_topics(topic);
"""
# title, excerpt, body, topics
RANK = "bm25(docs, 10.0, 1.5, 1.0, 2.0)"
FACET_SIZE = 10
_PHRASE_OR_WORD = re.compile(r'"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w")


def build_fts5(db_path: Path, articles: Sequence[Article], info: dict[str, str] | None = None) -> float:
    """Create the database and insert all articles in one transaction; the seconds it took."""
    db_path.unlink(missing_ok=True)
    started = time.perf_counter()
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.executescript(SCHEMA)
        conn.execute("BEGIN")
        for rowid, article in enumerate(articles, start=1):
            conn.execute(
                "INSERT INTO docs(rowid, title, excerpt, body, topics) VALUES (?, ?, ?, ?, ?)",
                (rowid, article.title, article.excerpt, article.body, " ; ".join(article.topics)),
            )
            day = article.published_at.astimezone(dt.UTC).date().isoformat() if article.published_at else None
            conn.execute(
                "INSERT INTO meta VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    rowid,
                    article.id,
                    article.url,
                    article.provider,
                    article.domain,
                    day,
                    article.category,
                    article.type,
                ),
            )
            conn.executemany("INSERT INTO doc_topics VALUES (?, ?)", [(rowid, t) for t in article.topics])
        for statement in INDEXES.strip().splitlines():
            conn.execute(statement)
        info = {"articles": str(len(articles)), **(info or {})}
        conn.executemany("INSERT INTO bench_info VALUES (?, ?)", info.items())
        conn.execute("COMMIT")
    finally:
        conn.close()
    return time.perf_counter() - started


def read_info(db_path: Path) -> dict[str, str]:
    """What build_fts5 recorded about the database ({} if it is missing or unreadable)."""
    if not db_path.is_file():
        return {}
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            return dict(conn.execute("SELECT key, value FROM bench_info"))
        finally:
            conn.close()
    except sqlite3.Error:
        return {}


def match_expression(text: str) -> str:
    """A safe FTS5 MATCH expression: every word double-quoted (so no FTS5 syntax gets through),
    a "quoted phrase" kept as one phrase, all of them required. '' when nothing is left."""
    parts = []
    for phrase, word in _PHRASE_OR_WORD.findall(text):
        words = [w for w in (phrase or word).split() if _WORD.search(w)]
        if words:
            parts.append('"' + " ".join(words).replace('"', '""') + '"')
    return " ".join(parts)


@dataclass
class Fts5Result:
    total: int
    hits: list[tuple]
    facets: dict[str, list[tuple[str, int]]]


class Fts5Search:
    """One connection; per query: the matching rows (with the filters) into a temporary table,
    then the top 10 by bm25 with snippets, the total and a GROUP BY per facet.

    The facet queries use CROSS JOIN so the (small) temporary table drives the join: with a plain
    JOIN SQLite walks all of ``meta`` through the facet column's index to avoid a sort, which made
    this baseline about 10 times slower. Running the MATCH again for every facet instead of the
    temporary table measured about the same (slightly slower on average)."""

    def __init__(self, db_path: Path) -> None:
        self.conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, isolation_level=None)
        self.conn.execute("PRAGMA temp_store = MEMORY")
        self.conn.execute("CREATE TEMP TABLE matched(id INTEGER PRIMARY KEY)")

    def close(self) -> None:
        self.conn.close()

    def search(self, q: str, provider: str | None = None, date_from: str | None = None, date_to: str | None = None):
        expression = match_expression(q)
        if not expression:
            return Fts5Result(0, [], {})
        where, params = ["docs MATCH ?"], [expression]
        if provider:
            where.append("meta.provider = ?")
            params.append(provider)
        if date_from:
            where.append("meta.day >= ?")
            params.append(date_from)
        if date_to:
            where.append("meta.day <= ?")
            params.append(date_to)
        condition = " AND ".join(where)
        conn = self.conn
        conn.execute("DELETE FROM temp.matched")
        conn.execute(
            f"INSERT INTO temp.matched(id) SELECT docs.rowid FROM docs JOIN meta ON meta.id = docs.rowid "
            f"WHERE {condition}",
            params,
        )
        hits = conn.execute(
            f"SELECT docs.rowid, {RANK} AS score, "
            "snippet(docs, 0, '<mark>', '</mark>', '…', 12), snippet(docs, 1, '<mark>', '</mark>', '…', 40), "
            "meta.doc_id, meta.url, meta.provider, meta.domain, meta.day "
            f"FROM docs JOIN meta ON meta.id = docs.rowid WHERE {condition} ORDER BY score LIMIT 10",
            params,
        ).fetchall()
        total = conn.execute("SELECT count(*) FROM temp.matched").fetchone()[0]
        facets = {}
        for name, column in (
            ("provider", "meta.provider"),
            ("domain", "meta.domain"),
            ("category", "meta.category"),
            ("type", "meta.type"),
        ):
            facets[name] = conn.execute(
                f"SELECT {column}, count(*) AS n FROM temp.matched CROSS JOIN meta ON meta.id = matched.id "
                f"WHERE {column} != '' GROUP BY {column} ORDER BY n DESC LIMIT {FACET_SIZE}"
            ).fetchall()
        facets["topic"] = conn.execute(
            "SELECT topic, count(*) AS n FROM temp.matched CROSS JOIN doc_topics ON doc_topics.doc = matched.id "
            f"GROUP BY topic ORDER BY n DESC LIMIT {FACET_SIZE}"
        ).fetchall()
        facets["month"] = conn.execute(
            "SELECT substr(meta.day, 1, 7) AS month, count(*) FROM temp.matched "
            "CROSS JOIN meta ON meta.id = matched.id WHERE meta.day IS NOT NULL GROUP BY month ORDER BY month"
        ).fetchall()
        return Fts5Result(total, hits, facets)


def main() -> None:
    parser = argparse.ArgumentParser(description="Build the FTS5 baseline database and print timings as JSON.")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--db", type=Path, required=True, help="database file to (re)create")
    parser.add_argument("--dump-articles", type=Path, help="also pickle the parsed articles here")
    args = parser.parse_args()
    parsed = parse_corpus(args.corpus)
    log(f"parsed {parsed.files} files into {len(parsed.articles)} articles in {parsed.seconds:.1f} s")
    insert_seconds = build_fts5(args.db, parsed.articles, {"corpus": str(args.corpus.resolve())})
    log(f"inserted {len(parsed.articles)} articles in {insert_seconds:.1f} s")
    if args.dump_articles:
        args.dump_articles.write_bytes(pickle.dumps(parsed.articles, protocol=pickle.HIGHEST_PROTOCOL))
    result = {
        "files": parsed.files,
        "articles": len(parsed.articles),
        "failures": parsed.failures,
        "duplicates": parsed.duplicates,
        "parse_seconds": parsed.seconds,
        "insert_seconds": insert_seconds,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
