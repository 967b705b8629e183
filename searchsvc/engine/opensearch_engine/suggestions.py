"""Autocomplete (topics and providers as filters, then title words and pairs), did-you-mean (the term suggester over the
index's own title and topic words, kept only when the respelling finds more under the same
filters), and the prefix expansion limit."""

from __future__ import annotations

import re

from searchsvc import query_language as ql
from searchsvc.analysis import fold
from searchsvc.autocomplete import (
    CANDIDATES,
    SEPARATOR,
    merged,
    name_suffixes,
    name_suggestion,
    phrase_suggestions,
    rank_phrases,
    typed_prefix,
)
from searchsvc.engine.interface import Suggestion
from searchsvc.engine.limits import too_many_prefix_words
from searchsvc.engine.opensearch_engine.mapping import SEARCH_FIELDS, TEXT_FIELDS
from searchsvc.engine.opensearch_engine.request_body import filter_clauses
from searchsvc.query_terms import indexed_prefix

SUGGEST_MAX_WORDS = 6
# articles a shard reads the phrases of at most, per completion: a prefix of a letter or two is
# under most titles, and its counts come from this many of them (a longer prefix counts them all)
SAMPLE_DOCS = 20_000
MAX_WORD_LENGTH = 24
_TERM = re.compile(r"(?:^|[\s(+])([\w.]+):(\S+?)(?=[\s)]|\^|$)")


def _regex_literal(text: str) -> str:
    """``text`` as a literal in Lucene's regular expression syntax."""
    return "".join(c if c.isalnum() else "\\" + c for c in text)


def completions(client, index: str, prefix: str, limit: int = 10) -> list[Suggestion]:
    """Topics and providers (each a filter) a word of whose name the typed words start, then the
    words and word pairs of titles that complete ``prefix``, the most frequent first (the rules:
    searchsvc.autocomplete), in one search: a terms aggregation of the ``phrases`` field under the
    typed key (over at most SAMPLE_DOCS articles a shard), one of names per typed-word suffix."""
    if not prefix.strip() or limit <= 0:
        return []
    typed = typed_prefix(prefix)
    suffixes = name_suffixes(prefix)
    aggs = {
        f"{kind}{i}": _name_agg(field, needle, limit)
        for i, (needle, _) in enumerate(suffixes)
        for kind, field in _NAMES
    }
    if typed:
        aggs["phrases"] = {
            "filter": {"prefix": {"phrases": typed.key}},
            "aggs": {"sample": {"sampler": {"shard_size": SAMPLE_DOCS}, "aggs": {"terms": _phrase_agg(typed.key)}}},
        }
    found = client.search(index=index, body={"size": 0, "query": {"match_all": {}}, "aggs": aggs})["aggregations"]
    rows = []
    if typed:
        for bucket in found["phrases"]["sample"]["terms"]["buckets"]:
            key, _, spelling = bucket["key"].partition(SEPARATOR)
            rows.append((key, spelling, bucket["doc_count"]))
    phrases = phrase_suggestions(typed, rank_phrases(rows, limit)) if typed else []
    # the last typed words alone are read as a name only when titles hold no phrase of them all
    needles = [needle for needle, _ in suffixes]
    names: list[Suggestion] = []
    for needle, query in name_suffixes(prefix, whole_only=bool(phrases)):
        i = needles.index(needle)
        names = [name_suggestion(kind, _shown(b), query) for kind, _ in _NAMES for b in _buckets(found, kind, i)]
        if names:
            break
    return merged(names, phrases, limit)


_NAMES = (("topic", "topics"), ("provider", "provider"))


def _name_agg(field: str, needle: str, limit: int) -> dict:
    """The names of ``field`` a word of which starts with ``needle`` (folded), most frequent first,
    each with its spellings (a name's most used spelling is the one shown)."""
    any_word = f"(.*[^a-z0-9])?{_regex_literal(needle)}.*"
    terms = {
        "field": f"{field}.folded",
        "include": any_word,
        "size": limit,
        "order": [{"_count": "desc"}, {"_key": "asc"}],
    }
    spellings = {"terms": {"field": field, "size": 10, "order": [{"_count": "desc"}, {"_key": "asc"}]}}
    return {
        "filter": {"regexp": {f"{field}.folded": {"value": any_word}}},
        "aggs": {"names": {"terms": terms, "aggs": {"spelling": spellings}}},
    }


def _phrase_agg(key: str) -> dict:
    return {
        "terms": {
            "field": "phrases",
            "include": f"{_regex_literal(key)}[^{SEPARATOR}]*{SEPARATOR}.*",
            "size": 3 * CANDIDATES,  # (key, spelling) terms: a phrase may have a few spellings
            "order": [{"_count": "desc"}, {"_key": "asc"}],
        }
    }


def _buckets(found: dict, kind: str, i: int) -> list[dict]:
    return found[f"{kind}{i}"]["names"]["buckets"]


def _shown(bucket: dict) -> str:
    """A name's most used spelling (of those its articles hold: a topic's articles hold others)."""
    for spelled in bucket["spelling"]["buckets"]:
        if fold(spelled["key"]) == bucket["key"]:
            return spelled["key"]
    return bucket["key"]


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
