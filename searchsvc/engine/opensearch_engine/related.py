"""More like this: an article's own related entries (and the article that lists it) first, then the
articles sharing its most distinctive words, never its syndicated copies."""

from __future__ import annotations

from searchsvc.engine.interface import Hit
from searchsvc.engine.opensearch_engine.mapping import doc_id
from searchsvc.engine.opensearch_engine.request_body import SOURCE_FIELDS
from searchsvc.engine.opensearch_engine.results import hit_of

CHOSEN_WORDS = 12
SIMILAR_FIELDS = ("title", "excerpt", "topics.text", "body")


def more_like_this(client, index: str, article_id: str, limit: int) -> list[Hit]:
    found = client.get(index=index, id=doc_id(article_id), ignore=[404], _source_includes=SOURCE_FIELDS)
    if not found.get("found"):
        return []
    source = found["_source"]
    shown = source.get("shown") or {}
    related = list(shown.get("related_ids") or [])
    if shown.get("related_to"):
        related.insert(0, shown["related_to"])
    out: list[Hit] = []
    seen = {found["_id"]}
    if related:
        ids = [doc_id(r) for r in dict.fromkeys(related)]
        for other in client.mget(index=index, body={"ids": ids}, _source_includes=SOURCE_FIELDS)["docs"]:
            if other.get("found") and other["_id"] not in seen:
                seen.add(other["_id"])
                out.append(hit_of(other, 0.0))
    if len(out) >= limit:
        return out[:limit]
    words = distinctive_words(client, index, (source.get("title") or "") + " " + (source.get("excerpt") or ""))
    if not words:
        return out
    should = [{"term": {field: word}} for word in words for field in SIMILAR_FIELDS]
    must_not = [{"ids": {"values": sorted(seen)}}]
    if source.get("title_key"):
        must_not.append({"term": {"title_key": source["title_key"]}})
    body = {
        "query": {"bool": {"should": should, "minimum_should_match": 1, "must_not": must_not}},
        "size": limit - len(out),
        "_source": SOURCE_FIELDS,
        "sort": ["_score", {"id": "asc"}],
    }
    for hit in client.search(index=index, body=body)["hits"]["hits"]:
        out.append(hit_of(hit, hit.get("_score") or 0.0))
    return out[:limit]


def distinctive_words(client, index: str, text: str) -> list[str]:
    """The analysed words of ``text`` found in more than one article's title or excerpt, rarest
    first (at most CHOSEN_WORDS), with document frequencies from the index (term vectors of an
    artificial document)."""
    body = {
        "doc": {"title": text, "excerpt": text},
        "fields": ["title", "excerpt"],
        "term_statistics": True,
        "field_statistics": False,
        "positions": False,
        "offsets": False,
    }
    vectors = client.termvectors(index=index, body=body).get("term_vectors", {})
    frequency: dict[str, int] = {}
    for field in ("title", "excerpt"):
        for word, info in vectors.get(field, {}).get("terms", {}).items():
            frequency[word] = frequency.get(word, 0) + int(info.get("doc_freq", 0))
    ranked = sorted((f, w) for w, f in frequency.items() if f > 1)
    return [w for _, w in ranked[:CHOSEN_WORDS]]
