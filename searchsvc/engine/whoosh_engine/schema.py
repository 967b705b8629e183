"""The Whoosh schema and analyzers: what is indexed, stored and kept in columns."""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator

import numpy as np
from whoosh import columns, fields, formats
from whoosh.analysis import CharsetFilter, Filter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.support.charset import accent_map
from whoosh.system import pack_uint

from searchsvc.analysis import (
    ANALYSIS_VERSION,
    MAX_TOKEN_LENGTH,
    STOP_WORDS,
    TOKEN_PATTERN,
    join_apostrophes,
    stem,
)

# Field weights (BM25F): a match in the title counts most.
SEARCH_FIELDS = ("title", "topics_text", "excerpt", "body")
# the ranking model's field names (engine/ranking.py) -> this schema's fields
RANKED_FIELDS = {"title": "title", "topics": "topics_text", "excerpt": "excerpt", "body": "body"}
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


# The string values of a document, in this order, joined by \x1e (topics joined by \x1f).
FACET_COLUMNS = ("provider", "domain", "category", "type", "topics", "title_key")
# The numbers of a document: published_ts, quality (-1 unknown), heat, published (1, 0, -1
# unknown), is_related. Integers only (Whoosh's float columns crash).
NUMBERS = struct.Struct("<qiibb")
NUMBER_DTYPE = np.dtype(
    [("published_ts", "<i8"), ("quality", "<i4"), ("heat", "<i4"), ("published", "i1"), ("is_related", "i1")]
)
# published_ts of an article without a date (any real date, 1970 or not, is above it)
NO_DATE = -(2**62)
NUMBERS_DEFAULT = NUMBERS.pack(NO_DATE, -1, 0, -1, 0)
PLAIN_TOKEN_PATTERN = TOKEN_PATTERN


class ApostropheFilter(Filter):
    """analysis.join_apostrophes on each token: "d'or" -> "dor", "trump's" -> "trump". (Indexes
    pickle their analyzers: this class keeps its name and module.)"""

    def __call__(self, tokens):
        for t in tokens:
            t.text = join_apostrophes(t.text)
            yield t


def snowball_english(word: str) -> str:
    """analysis.stem under the name every index's pickled schema refers to (Porter2 through
    PyStemmer, one stemmer per thread)."""
    return stem(word)


def text_analyzer():
    """Words, lower-cased, apostrophes joined, accents folded, English stop words dropped,
    stemmed with Porter2."""
    return (
        RegexTokenizer(TOKEN_PATTERN)
        | LowercaseFilter()
        | ApostropheFilter()
        | CharsetFilter(accent_map)
        | StopFilter(stoplist=STOP_WORDS, minsize=1, maxsize=MAX_TOKEN_LENGTH)
        | StemFilter(stemfn=snowball_english, cachesize=200_000)
    )


def plain_analyzer():
    """Words, lower-cased, apostrophes joined and accent-folded, not stemmed: for names
    (providers, domains)."""
    return (
        RegexTokenizer(PLAIN_TOKEN_PATTERN)
        | LowercaseFilter()
        | ApostropheFilter()
        | CharsetFilter(accent_map)
        | StopFilter(stoplist=frozenset(), minsize=1, maxsize=MAX_TOKEN_LENGTH)
    )


class FastText(fields.TEXT):
    """TEXT whose indexing skips Whoosh's per-token object pipeline.

    Each distinct token is analysed once by the field's real analyzer (so index and query terms
    agree exactly) and remembered; positions are the tokenizer's, as Whoosh assigns them.
    """

    def __init__(self, analyzer, pattern: str, **kwargs) -> None:
        super().__init__(analyzer=analyzer, **kwargs)
        self._pattern = pattern
        # pickled with the schema: the analysis rules the index was built with (an index's fields
        # keep their own analyzer and pattern, for its updates and its queries, until rebuilt)
        self.analysis_version = ANALYSIS_VERSION

    def index(self, value, **kwargs):
        if not isinstance(value, str):
            yield from super().index(value, **kwargs)
            return
        positions = self.positions_by_term(value)
        if isinstance(self.format, formats.Positions):
            for term, poslist in positions.items():
                if len(poslist) == 1:
                    yield term.encode("utf-8"), 1, 1.0, single_positions(self.format)[poslist[0]]
                else:
                    yield term.encode("utf-8"), len(poslist), float(len(poslist)), self.format.encode(poslist)
        else:
            for term, poslist in positions.items():
                yield term.encode("utf-8"), len(poslist), float(len(poslist)), pack_uint(len(poslist))

    def positions_by_term(self, value: str) -> dict[str, list[int]]:
        """Each term of ``value`` with its positions, as Whoosh would index them."""
        positions: dict[str, list[int]] = {}
        # as Whoosh's StopFilter renumbers: the first kept token keeps its place, later ones
        # follow it with no gaps for stop words
        position = -1
        for index, term in enumerate(self.token_terms(value)):
            if term:
                position = index if position < 0 else position + 1
                positions.setdefault(term, []).append(position)
        return positions

    def token_terms(self, value: str) -> Iterator[str]:
        """The term of each token of ``value`` in order, '' for a token the analyzer drops (a
        stop word, a giant): the token's index is its position before stop words close up."""
        return map(_term_cache(self.analyzer, self._pattern).__getitem__, _compiled(self._pattern)(value))


# Caches are keyed by id(analyzer) and keep the analyzer itself beside the value: the reference
# stops the id from being reused by another analyzer (schemas are unpickled per index opened).
_CACHES: dict[tuple[int, str], tuple[object, _TermCache]] = {}


class _SinglePositions(dict):
    """position -> a format's encoding of a posting at that one position (made on first lookup)."""

    __slots__ = ("fmt",)

    def __init__(self, fmt) -> None:
        super().__init__()
        self.fmt = fmt

    def __missing__(self, position: int) -> bytes:
        value = self[position] = self.fmt.encode([position])
        return value


_SINGLE_POSITIONS: dict[type, _SinglePositions] = {}  # by format class: the encoding has no other input


def single_positions(fmt) -> _SinglePositions:
    """The encodings of one-position postings in ``fmt`` (most postings have one position)."""
    cache = _SINGLE_POSITIONS.get(type(fmt))
    if cache is None:
        cache = _SINGLE_POSITIONS[type(fmt)] = _SinglePositions(fmt)
    return cache


_PATTERNS: dict[str, object] = {}


def _compiled(pattern: str):
    find = _PATTERNS.get(pattern)
    if find is None:
        find = re.compile(pattern, re.UNICODE).findall
        _PATTERNS[pattern] = find
    return find


class _TermCache(dict):
    """token -> the term one analyzer makes of it ('' when dropped); a token not seen before is
    analysed on lookup, and remembered unless it is longer than any term (a giant is dropped)."""

    __slots__ = ("analyzer",)

    def __init__(self, analyzer) -> None:
        super().__init__()
        self.analyzer = analyzer

    def __missing__(self, token: str) -> str:
        term = analyse_token(self.analyzer, token)
        if len(token) <= MAX_TOKEN_LENGTH:
            self[token] = term
        return term


def _term_cache(analyzer, pattern: str) -> _TermCache:
    key = (id(analyzer), pattern)
    entry = _CACHES.get(key)
    if entry is None or entry[0] is not analyzer or len(entry[1]) > 2_000_000:
        entry = _CACHES[key] = (analyzer, _TermCache(analyzer))
    return entry[1]


def analyse_token(analyzer, token: str) -> str:
    """The term the analyzer makes of one token ('' when it drops it, as a stop word)."""
    steps = _steps(analyzer)
    if steps is None:
        for t in analyzer(token, mode="index"):
            return t.text
        return ""
    text = token
    for kind, arg in steps:
        if kind == "lower":
            text = text.lower()
        elif kind == "apostrophes":
            text = join_apostrophes(text)
        elif kind == "charset":
            text = text.translate(arg)
        elif kind == "stop":
            stops, low, high = arg
            if len(text) < low or (high is not None and len(text) > high) or text in stops:
                return ""
        elif text not in arg[0]:  # stem
            text = arg[1](text)
    return text


_STEPS: dict[int, tuple[object, list | None]] = {}


def _steps(analyzer) -> list | None:
    """The analyzer's per-token filters as plain steps, or None when it has others."""
    key = id(analyzer)
    entry = _STEPS.get(key)
    if entry is None or entry[0] is not analyzer:
        steps: list | None = []
        for item in getattr(analyzer, "items", [])[1:]:
            if isinstance(item, LowercaseFilter):
                steps.append(("lower", None))
            elif isinstance(item, ApostropheFilter):
                steps.append(("apostrophes", None))
            elif isinstance(item, CharsetFilter):
                steps.append(("charset", item.charmap))
            elif isinstance(item, StopFilter):
                steps.append(("stop", (item.stops, item.min, item.max)))
            elif isinstance(item, StemFilter) and not item.lang:
                steps.append(("stem", (item.ignore, item.stemfn)))
            else:
                steps = None
                break
        _STEPS[key] = entry = (analyzer, steps)
    return entry[1]


def analysis_version(schema: fields.Schema) -> int:
    """The analysis rules (analysis.ANALYSIS_VERSION) an index's schema was made with: 1 for an
    index built before the version was recorded. An older index keeps searching and updating with
    its own rules, words split at apostrophes, until a full build (``searchsvc index --full``)."""
    return getattr(schema["body"], "analysis_version", 1)


def make_schema() -> fields.Schema:
    analyzer = text_analyzer()
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        path=fields.STORED(),
        title=FastText(analyzer, TOKEN_PATTERN, stored=True),
        excerpt=FastText(analyzer, TOKEN_PATTERN, stored=True),
        body=FastText(analyzer, TOKEN_PATTERN, stored=True),
        topics_text=FastText(analyzer, TOKEN_PATTERN),
        provider_text=FastText(plain_analyzer(), PLAIN_TOKEN_PATTERN),
        domain_text=FastText(plain_analyzer(), PLAIN_TOKEN_PATTERN),
        # unstemmed words of titles and topics: the vocabulary for "did you mean" and autocomplete
        spelling=FastText(plain_analyzer(), PLAIN_TOKEN_PATTERN, phrase=False),
        # facet, filter and sort values: columns only, read into arrays once per generation
        # (one column each would cost a column write per value per document)
        facets=fields.COLUMN(columns.VarBytesColumn()),  # FACET_COLUMNS joined by \x1e
        numbers=fields.COLUMN(columns.FixedBytesColumn(NUMBERS.size, default=NUMBERS_DEFAULT)),
        # what a hit shows (one pickled mapping per document)
        stored=fields.STORED(),
    )
