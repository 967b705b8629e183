"""Autocomplete (topics, providers, then title words), did-you-mean (the term suggester over the
index's own title and topic words, kept only when the respelling finds more under the same
filters), and the prefix expansion limit."""

from __future__ import annotations

import re

from searchsvc import query_language as ql
from searchsvc.analysis import fold
from searchsvc.engine.interface import Suggestion
from searchsvc.engine.limits import too_many_prefix_words
from searchsvc.engine.opensearch_engine.mapping import SEARCH_FIELDS, TEXT_FIELDS
from searchsvc.engine.opensearch_engine.request_body import filter_clauses
from searchsvc.query_terms import indexed_prefix

SUGGEST_MAX_WORDS = 6
MAX_WORD_LENGTH = 24
_TERM = re.compile(r"(?:^|[\s(+])([\w.]+):(\S+?)(?=[\s)]|\^|$)")


def _regex_literal(text: str) -> str:
    """``text`` as a literal in Lucene's regular expression syntax."""
    return "".join(c if c.isalnum() else "\\" + c for c in text)


def completions(client, index: str, prefix: str, limit: int = 10) -> list[Suggestion]:
    """Completions of ``prefix``: topics and providers any of whose words start with it, then the
    last word completed from title and topic words (most frequent first), keeping the words before it."""
    text = prefix.strip()
    if not text or limit <= 0:
        return []
    head, _, last = text.rpartition(" ")
    needle = fold(text)
    any_word = f"(.*[^a-z0-9])?{_regex_literal(needle)}.*"
    aggs = {
        kind: {
            "terms": {
                "field": f"{field}.folded",
                "include": any_word,
                "size": limit,
                "order": [{"_count": "desc"}, {"_key": "asc"}],
            },
            "aggs": {"spelling": {"terms": {"field": field, "size": 1}}},
        }
        for kind, field in (("topic", "topics"), ("provider", "provider"))
    }
    word = fold(last)
    if word:
        aggs["word"] = {
            "terms": {
                "field": "words",
                "include": f"{_regex_literal(word)}.*",
                "size": limit,
                "order": [{"_count": "desc"}, {"_key": "asc"}],
            }
        }
    query = {"match_all": {}}
    if head.strip():
        query = {"match": {"title": {"query": head, "operator": "and"}}}
    body = {
        "size": 0,
        "query": {"match_all": {}},
        "aggs": {"all": {"global": {}, "aggs": {k: aggs[k] for k in ("topic", "provider")}}},
    }
    if "word" in aggs:
        body["aggs"]["matching"] = {"filter": query, "aggs": {"word": aggs["word"]}}
    found = client.search(index=index, body=body)["aggregations"]
    out: list[Suggestion] = []
    seen: set[str] = set()
    for kind in ("topic", "provider"):
        for bucket in found["all"][kind]["buckets"]:
            spelled = bucket["spelling"]["buckets"]
            value = spelled[0]["key"] if spelled else bucket["key"]
            if value.casefold() not in seen:
                seen.add(value.casefold())
                out.append(Suggestion(value, kind))
    lead = (head + " ") if head else ""
    for bucket in found.get("matching", {}).get("word", {}).get("buckets", []):
        completion = lead + bucket["key"]
        if completion.casefold() not in seen:
            seen.add(completion.casefold())
            out.append(Suggestion(completion, "word"))
    return out[:limit]


def did_you_mean(engine, view, request, total: int) -> str | None:
    """A respelling of the query's words that matches more articles (every word, under the same
    filters); only for queries of a few words. Each word is corrected by the term suggester to
    the most similar known word that is more frequent than it."""
    words = request.q.split()
    if len(words) > SUGGEST_MAX_WORDS:
        return None
    entries = {}
    for i, word in enumerate(words):
        bare = word.strip(".,;!?\"'()").lower()
        if ":" in word or not bare.isalpha() or bare in ("and", "or", "not") or not 3 <= len(bare) <= MAX_WORD_LENGTH:
            continue
        entries[str(i)] = {
            "text": fold(bare),
            "term": {
                "field": "words",
                "suggest_mode": "popular",
                "max_edits": 2,
                "prefix_length": 0,
                "min_word_length": 3,
                "string_distance": "damerau_levenshtein",
                "sort": "score",
                "size": 1,
            },
        }
    if not entries:
        return None
    client = engine.cluster.client
    with engine.cluster.errors("suggesting a respelling", view.name):
        found = client.search(index=view.name, body={"size": 0, "suggest": entries})["suggest"]
        corrected = list(words)
        changed = False
        for key, results in found.items():
            options = results[0]["options"] if results else []
            if options:
                corrected[int(key)] = options[0]["text"]
                changed = True
        if not changed:
            return None
        suggestion = " ".join(corrected)
        query = engine.translator.query(ql.parse_query(suggestion))
        clauses = list(filter_clauses(request).values())
        if clauses:
            query = {"bool": {"must": [query], "filter": clauses}}
        matching = int(client.count(index=view.name, body={"query": query})["count"])
    return suggestion if matching > total else None


def check_prefixes(cluster, index: str, node, limit: int) -> None:
    """Refuse a query whose prefixes together match more than ``limit`` indexed words (0: no
    limit). OpenSearch rewrites each prefix to at most limit + 1 of its words per field, and the
    words are counted from that rewrite (the validate API), so the check costs no more than that."""
    prefixes = ql.prefixes(node)
    if not prefixes or limit <= 0:
        return
    should = []
    for prefix in prefixes:
        fields = [TEXT_FIELDS[prefix.field]] if prefix.field else [TEXT_FIELDS[f] for f in SEARCH_FIELDS]
        for field in fields:
            should.append({"prefix": {field: {"value": indexed_prefix(prefix), "rewrite": f"top_terms_{limit + 1}"}}})
    body = {"query": {"bool": {"should": should}}}
    with cluster.errors("checking the query's prefixes", index):
        found = cluster.client.indices.validate_query(
            index=index, body=body, explain=True, rewrite=True, all_shards=True
        )
    words: set[str] = set()
    for explanation in found.get("explanations", []):
        for _field, word in _TERM.findall(" " + explanation.get("explanation", "")):
            words.add(word)
    if len(words) > limit:
        raise too_many_prefix_words(sorted({indexed_prefix(p) for p in prefixes}), limit)
