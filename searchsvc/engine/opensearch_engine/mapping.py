"""The index's settings and mappings, and the document of one article.

The analysis is the Whoosh engine's (searchsvc.analysis): words are runs of letters and digits
(an apostrophe between two of them joins them: a possessive or contraction ending is cut, other
apostrophes removed, "d'Or" is "dor"), lower-cased, accent-folded, the same short English stop
list dropped, words over 64 characters dropped, stemmed with Snowball English (Porter2). Each
ranked field has BM25 with the ranking model's k1 and its own b. Facet values are keywords, with a
lower-cased, accent-folded sub-field for the filters (which match case-insensitively).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from searchsvc.analysis import ANALYSIS_VERSION, APOSTROPHES, CLITICS, MAX_TOKEN_LENGTH, STOP_WORDS, analyse_plain
from searchsvc.autocomplete import phrase_terms
from searchsvc.engine.ranking import RankingModel

# the user's field names (query language, ranking model) -> the mapping's fields
TEXT_FIELDS = {
    "title": "title",
    "topics": "topics.text",
    "excerpt": "excerpt",
    "body": "body",
    "provider": "provider.text",
    "domain": "domain.text",
}
SEARCH_FIELDS = ("title", "topics", "excerpt", "body")
# facet name -> (keyword field shown, folded keyword field filtered on)
FACET_FIELDS = {
    "provider": ("provider", "provider.folded"),
    "domain": ("domain", "domain.folded"),
    "topic": ("topics", "topics.folded"),
    "category": ("category", "category.folded"),
    "type": ("type", "type.folded"),
}
# autocomplete's phrases of the title (searchsvc.autocomplete.phrase_terms: "covid vaccine\x1fCOVID
# vaccine"), counted by a terms aggregation: some 15 terms an article, most shared between articles
PHRASES_FIELD = {"type": "keyword", "ignore_above": 1024}
# positions between the values of a many-valued field: no phrase spans two topics
VALUE_GAP = 100
# characters of each end of a body kept beside it, to tell whether a fragment starts or ends it
BODY_ENDS = 400
# the longest body the highlighter analyses (files are at most max_file_bytes)
MAX_ANALYSED_OFFSET = 6_000_000
# analysis.join_apostrophes as character filters, before the text is split into words (with
# offsets kept, so a highlight marks "d'Or" and "Trump's" whole, as the Whoosh engine does):
# first a possessive or contraction ending after a letter, where no letter follows ("Trump's");
# then every apostrophe between letters, and U+02BC (a letter itself) anywhere ("d'Or" -> "dOr").
# Java's \w (UNICODE_CHARACTER_CLASS) is Python's \w here; the endings are matched in either
# case letter by letter, as Python's lower() makes exactly those letters of them.
_JOINING = APOSTROPHES.replace("\u02bc", "")
_ENDINGS = "|".join("".join(f"[{c}{c.upper()}]" for c in clitic) for clitic in CLITICS)
APOSTROPHE_CHAR_FILTERS = {
    "searchsvc_clitics": {
        "type": "pattern_replace",
        "pattern": rf"(?U)(?<=\w)[{APOSTROPHES}](?:{_ENDINGS})(?!\w|[{_JOINING}]\w)",
        "replacement": "",
    },
    "searchsvc_apostrophes": {
        "type": "pattern_replace",
        "pattern": rf"(?U)\u02bc|(?<=\w)[{_JOINING}](?=\w)",
        "replacement": "",
    },
}


@cache
def stem_overrides() -> list[str]:
    """Words Lucene's Snowball English stems unlike PyStemmer's newer release (the Whoosh engine's),
    as stemmer_override rules, so that both engines index the same words ("evening" stays
    "evening", "biologists" is "biolog"). Made by scripts/stem-overrides from real corpora."""
    text = (Path(__file__).parent / "stem_overrides.txt").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if "=>" in line and not line.startswith("#")]


def doc_id(article_id: str) -> str:
    """The document _id of an article: its id can be any URL, longer than the 512 bytes an _id may be."""
    return hashlib.sha1(article_id.encode("utf-8")).hexdigest()


def index_body(ranking: RankingModel, shards: int, replicas: str) -> dict:
    """The body that creates one index (one view of the articles)."""
    similarity = {
        f"bm25_{name}": {"type": "BM25", "k1": ranking.k1, "b": ranking.b[name]}
        for name in ("title", "topics", "excerpt", "body")
    }
    settings = {
        "number_of_shards": shards,
        "max_result_window": 1_000_000,
        "highlight.max_analyzed_offset": MAX_ANALYSED_OFFSET,
        "similarity": similarity,
        "analysis": {
            # stop words are cut from the text before it is split into words, so that the words around
            # them are adjacent, as the Whoosh engine numbers them ("Alia and Ranbir" holds the
            # phrase "alia ranbir"); a stop filter would leave a gap in the positions
            "char_filter": {
                **APOSTROPHE_CHAR_FILTERS,
                "searchsvc_stop_words": {
                    "type": "pattern_replace",
                    "pattern": r"(?iU)\b(?:" + "|".join(sorted(STOP_WORDS, key=len, reverse=True)) + r")\b",
                    "replacement": " ",
                },
            },
            "tokenizer": {"words": {"type": "pattern", "pattern": r"\W+", "flags": "UNICODE_CHARACTER_CLASS"}},
            "filter": {
                "searchsvc_stop": {"type": "stop", "stopwords": sorted(STOP_WORDS)},
                "searchsvc_length": {"type": "length", "max": MAX_TOKEN_LENGTH},
                "porter2_overrides": {"type": "stemmer_override", "rules": stem_overrides()},
                "porter2": {"type": "snowball", "language": "English"},
            },
            "analyzer": {
                "searchsvc_text": {
                    "type": "custom",
                    "char_filter": [*APOSTROPHE_CHAR_FILTERS, "searchsvc_stop_words"],
                    "tokenizer": "words",
                    "filter": [
                        "lowercase",
                        "asciifolding",
                        "searchsvc_stop",
                        "searchsvc_length",
                        "porter2_overrides",
                        "porter2",
                    ],
                },
                "searchsvc_plain": {
                    "type": "custom",
                    "char_filter": [*APOSTROPHE_CHAR_FILTERS],
                    "tokenizer": "words",
                    "filter": ["lowercase", "asciifolding", "searchsvc_length"],
                },
            },
            "normalizer": {"folded": {"type": "custom", "filter": ["lowercase", "asciifolding"]}},
        },
    }
    settings.update(replica_settings(replicas))

    def text(name: str) -> dict:
        return {
            "type": "text",
            "analyzer": "searchsvc_text",
            "similarity": f"bm25_{name}",
            "position_increment_gap": VALUE_GAP,
        }

    def facet(sub_text: dict | None = None) -> dict:
        fields = {"folded": {"type": "keyword", "normalizer": "folded", "ignore_above": 1024}}
        if sub_text:
            fields["text"] = sub_text
        return {"type": "keyword", "ignore_above": 1024, "fields": fields}

    plain = {"type": "text", "analyzer": "searchsvc_plain", "position_increment_gap": VALUE_GAP}
    properties = {
        "id": {"type": "keyword"},
        "path": {"type": "keyword", "index": False, "doc_values": False},
        "title": text("title"),
        "excerpt": text("excerpt"),
        "body": text("body"),
        "topics": facet(text("topics")),
        "provider": facet(plain),
        "domain": facet(plain),
        "category": facet(),
        "type": facet(),
        "words": {"type": "keyword", "ignore_above": MAX_TOKEN_LENGTH},
        "phrases": PHRASES_FIELD,
        "published_at": {"type": "date"},
        "published": {"type": "boolean"},
        "quality": {"type": "integer"},
        "heat": {"type": "integer"},
        "is_related": {"type": "boolean"},
        "title_key": {"type": "keyword", "ignore_above": 4096},
        "story": {"type": "keyword"},
        "syndicated": {"type": "boolean"},
        "shown": {"type": "object", "enabled": False},
    }
    # _meta: the analysis rules the index was built with (a _clone keeps them with its analyzers)
    mappings = {"_meta": {"analysis_version": ANALYSIS_VERSION}, "dynamic": "strict", "properties": properties}
    return {"settings": {"index": settings}, "mappings": mappings}


def analysis_version(mappings: dict) -> int:
    """The analysis rules (analysis.ANALYSIS_VERSION) an index's mappings record: 1 for an index
    created before they were recorded (it keeps analysing with its own rules until a full build)."""
    return int((mappings.get("_meta") or {}).get("analysis_version", 1))


def replica_settings(replicas: str) -> dict:
    """``"1"`` -> one replica; ``"0-1"`` -> as many as the cluster has nodes for, up to one."""
    text = str(replicas).strip()
    if "-" in text:
        return {"auto_expand_replicas": text}
    return {"number_of_replicas": int(text), "auto_expand_replicas": False}


def check_replicas(replicas: str) -> str:
    from searchsvc.errors import ConfigError

    text = str(replicas).strip()
    low, dash, high = text.partition("-")
    if low.isdigit() and (not dash or high.isdigit() or high == "all"):
        return text
    raise ConfigError(f"Setting opensearch_replicas must be a number (1) or a range (0-1, 0-all); got {replicas!r}.")


def document(article) -> dict:
    """The indexed document of one article (its story fields are set by stories.py)."""
    published_at = article.published_at.isoformat().replace("+00:00", "Z") if article.published_at else None
    words = dict.fromkeys(analyse_plain(article.title + " " + " ".join(article.topics)))
    return {
        "id": article.id,
        "path": article.path,
        "title": article.title,
        "excerpt": article.excerpt,
        "body": article.body,
        "topics": list(article.topics),
        # empty values are absent (a facet lists no empty value)
        "provider": article.provider or None,
        "domain": article.domain or None,
        "category": article.category or None,
        "type": article.type or None,
        "words": list(words),
        "phrases": phrase_terms(article.title),  # autocomplete's words and pairs of the title
        "published_at": published_at,
        "published": article.published,
        "quality": article.quality,
        "heat": article.heat,
        "is_related": article.is_related,
        "title_key": article.title_key,
        "story": doc_id(article.id),
        "syndicated": False,
        "shown": {
            "url": article.url,
            "original_url": article.original_url,
            "image": article.image,
            "related_to": article.related_to,
            "related_ids": list(article.related_ids),
            "body_head": article.body[:BODY_ENDS],
            "body_tail": article.body[-BODY_ENDS:],
        },
    }
