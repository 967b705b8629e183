"""A straightforward Whoosh build, for comparison with searchsvc's: the same schema and the same
document fields, one ``ix.writer()``, ``add_document`` per article, ``commit()``.

By default searchsvc's custom TEXT subclasses (faster indexing) are swapped for Whoosh's own
``TEXT`` with the same analyzer, so this is stock Whoosh; ``--schema searchsvc`` keeps them.

index_build.py runs it as a separate process (to measure its memory) on articles it pickled:

    python benchmarks/whoosh_baseline.py --articles articles.pickle --out /tmp/plain-whoosh [--n 20000]
"""

from __future__ import annotations

import argparse
import json
import pickle
import time
from collections.abc import Sequence
from pathlib import Path

from whoosh import fields, formats
from whoosh import index as whoosh_index

from searchsvc.documents import Article
from searchsvc.engine.whoosh_engine.schema import make_schema
from searchsvc.engine.whoosh_engine.writer import article_fields


def spread_subset(articles: Sequence[Article], n: int) -> list[Article]:
    """``n`` articles taken evenly across the list (all of them when ``n`` is 0 or too large)."""
    if not n or n >= len(articles):
        return list(articles)
    step = len(articles) / n
    return [articles[int(i * step)] for i in range(n)]


def stock_schema() -> tuple[fields.Schema, list[str]]:
    """searchsvc's schema with every TEXT subclass replaced by Whoosh's TEXT (same analyzer,
    positions and stored flag); and the names of the fields replaced."""
    schema, replaced = fields.Schema(), []
    for name, field in make_schema().items():
        if isinstance(field, fields.TEXT) and type(field) is not fields.TEXT:
            phrase = isinstance(field.format, formats.Positions)
            field = fields.TEXT(analyzer=field.analyzer, phrase=phrase, stored=field.stored)
            replaced.append(name)
        schema.add(name, field)
    return schema, replaced


def write_plain_whoosh(folder: Path, articles: Sequence[Article], schema: fields.Schema) -> float:
    """Seconds to write ``articles`` with Whoosh's defaults into a new index in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    ix = whoosh_index.create_in(str(folder), schema)
    writer = ix.writer()
    for article in articles:
        writer.add_document(**article_fields(article))
    writer.commit()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description="Time a plain Whoosh writer and print the result as JSON.")
    parser.add_argument("--articles", type=Path, required=True, help="pickled list of Article")
    parser.add_argument("--out", type=Path, required=True, help="index folder to create")
    parser.add_argument("--n", type=int, default=0, help="write only this many articles (0: all)")
    parser.add_argument(
        "--schema",
        choices=("stock", "searchsvc"),
        default="stock",
        help="stock: Whoosh's TEXT for every text field (default); searchsvc: make_schema() as is",
    )
    args = parser.parse_args()
    articles = pickle.loads(args.articles.read_bytes())
    subset = spread_subset(articles, args.n)
    schema, replaced = stock_schema() if args.schema == "stock" else (make_schema(), [])
    seconds = write_plain_whoosh(args.out, subset, schema)
    result = {"articles": len(subset), "of": len(articles), "seconds": seconds, "replaced": replaced}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
