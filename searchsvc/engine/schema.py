"""The Whoosh schema and analyzers: what is indexed, stored and kept in columns."""

from __future__ import annotations

import re

from whoosh import columns, fields, formats
from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.support.charset import accent_map
from whoosh.system import pack_uint

# Field weights (BM25F): a match in the title counts most.
FIELD_WEIGHTS = {"title": 3.0, "topics_text": 2.0, "excerpt": 1.5, "body": 1.0}
SEARCH_FIELDS = tuple(FIELD_WEIGHTS)
# Names users type in ``field:value`` and the field each one searches.
USER_FIELDS = {
    "title": "title",
    "excerpt": "excerpt",
    "body": "body",
    "topic": "topics_text",
    "topics": "topics_text",
    "provider": "provider_text",
    "domain": "domain_text",
}


# published_ts of an article without a date (any real date, 1970 or not, is above it)
NO_DATE = -(2**62)
TOKEN_PATTERN = r"\w+(?:[.'’]\w+)*"
PLAIN_TOKEN_PATTERN = r"\w+"


def text_analyzer():
    """Words, lower-cased, accents folded, English stop words dropped, Porter-stemmed."""
    return (
        RegexTokenizer(TOKEN_PATTERN)
        | LowercaseFilter()
        | CharsetFilter(accent_map)
        | StopFilter(minsize=1)
        | StemFilter(cachesize=200_000)
    )


def plain_analyzer():
    """Words, lower-cased and accent-folded, not stemmed: for names (providers, domains)."""
    return RegexTokenizer(PLAIN_TOKEN_PATTERN) | LowercaseFilter() | CharsetFilter(accent_map)


class FastText(fields.TEXT):
    """TEXT whose indexing skips Whoosh's per-token object pipeline.

    Each distinct token is analysed once by the field's real analyzer (so index and query terms
    agree exactly) and remembered; positions are the tokenizer's, as Whoosh assigns them.
    """

    def __init__(self, analyzer, pattern: str, **kwargs) -> None:
        super().__init__(analyzer=analyzer, **kwargs)
        self._pattern = pattern

    def index(self, value, **kwargs):
        if not isinstance(value, str):
            yield from super().index(value, **kwargs)
            return
        terms = _term_cache(self.analyzer, self._pattern)
        find = _compiled(self._pattern)
        positions: dict[str, list[int]] = {}
        # as Whoosh's StopFilter renumbers: the first kept token keeps its place, later ones
        # follow it with no gaps for stop words
        position = -1
        for index, token in enumerate(find(value)):
            term = terms.get(token)
            if term is None:
                term = _analyse_token(self.analyzer, token)
                terms[token] = term
            if term:
                position = index if position < 0 else position + 1
                positions.setdefault(term, []).append(position)
        if isinstance(self.format, formats.Positions):
            encode = self.format.encode
            for term, poslist in positions.items():
                yield term.encode("utf-8"), len(poslist), float(len(poslist)), encode(poslist)
        else:
            for term, poslist in positions.items():
                yield term.encode("utf-8"), len(poslist), float(len(poslist)), pack_uint(len(poslist))


_CACHES: dict[tuple[int, str], dict[str, str]] = {}
_PATTERNS: dict[str, object] = {}


def _compiled(pattern: str):
    find = _PATTERNS.get(pattern)
    if find is None:
        find = re.compile(pattern, re.UNICODE).findall
        _PATTERNS[pattern] = find
    return find


def _term_cache(analyzer, pattern: str) -> dict[str, str]:
    key = (id(analyzer), pattern)
    cache = _CACHES.get(key)
    if cache is None or len(cache) > 2_000_000:
        cache = _CACHES[key] = {}
    return cache


def _analyse_token(analyzer, token: str) -> str:
    """The term the analyzer makes of one token ('' when it drops it, as a stop word)."""
    for t in analyzer(token, mode="index"):
        return t.text
    return ""


def make_schema() -> fields.Schema:
    analyzer = text_analyzer()
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        path=fields.STORED(),
        title=FastText(analyzer, TOKEN_PATTERN, stored=True),
        excerpt=FastText(analyzer, TOKEN_PATTERN, stored=True),
        body=FastText(analyzer, TOKEN_PATTERN, stored=True),
        topics_text=FastText(analyzer, TOKEN_PATTERN),
        provider_text=fields.TEXT(analyzer=plain_analyzer(), phrase=True),
        domain_text=fields.TEXT(analyzer=plain_analyzer(), phrase=True),
        # unstemmed words of titles and topics: the vocabulary for "did you mean" and autocomplete
        spelling=FastText(plain_analyzer(), PLAIN_TOKEN_PATTERN, phrase=False),
        # facet, filter and sort values: columns only, read into arrays once per generation
        provider=fields.COLUMN(columns.VarBytesColumn()),
        domain=fields.COLUMN(columns.VarBytesColumn()),
        category=fields.COLUMN(columns.VarBytesColumn()),
        type=fields.COLUMN(columns.VarBytesColumn()),
        topics=fields.COLUMN(columns.VarBytesColumn()),  # values joined by \x1f
        title_key=fields.COLUMN(columns.VarBytesColumn()),
        published_ts=fields.COLUMN(columns.NumericColumn("q", default=NO_DATE)),
        quality=fields.COLUMN(columns.NumericColumn("i", default=-1)),  # integers only
        heat=fields.COLUMN(columns.NumericColumn("i", default=0)),
        published=fields.COLUMN(columns.NumericColumn("b", default=-1)),  # 1, 0, -1 unknown
        is_related=fields.COLUMN(columns.NumericColumn("b", default=0)),
        # what a hit shows (one pickled mapping per document)
        stored=fields.STORED(),
    )
