"""A parsed query -> matching documents and BM25F scores, in numpy: matching and scoring run on
posting arrays, which is what makes a search on a large index take milliseconds."""

from __future__ import annotations

import math
import re

import numpy as np
from whoosh import query

from searchsvc.engine.limits import NO_DEADLINE, Deadline, too_many_prefix_words
from searchsvc.engine.whoosh_engine.schema import (
    FIELD_WEIGHTS,
    SEARCH_FIELDS,
    TOKEN_PATTERN,
    analyse_token,
    text_analyzer,
)
from searchsvc.engine.whoosh_engine.snapshot import Snapshot
from searchsvc.errors import QueryError

# BM25F saturation. Higher than BM25's usual 1.2 because field weights multiply term frequencies
# before saturation (one title match already counts 3): at 1.2 a single weighted match takes
# most of the score a word can give. On the judged collections (benchmarks/relevance.py) every
# value from 1.4 to 1.8 ranked better than FTS5 on all three; 1.6 is the middle of that plateau.
K1 = 1.6
IDF_FLOOR = 1e-6
B = {"title": 0.5, "topics_text": 0.3, "excerpt": 0.75, "body": 0.75}
# The largest phrase slop ("a b"~N) looked at: farther than any two positions of one document
MAX_SLOP = 2**30

# Function words dropped from a long relaxed query (one of more than AND_LIKE_WORDS words, which is
# prose: "What countries have newly joined the United Nations?"): Lucene's English stop set, the
# question words, auxiliaries and other words that say nothing about a topic. They are in most
# long articles, so each one matched nudges long articles up. Short queries keep every word (the
# index's own stop list is smaller, see schema.STOP_WORDS). Measured: CISI MAP 0.208 -> 0.215.
LONG_QUERY_FUNCTION_WORDS = frozenset(
    """a an and are as at be but by for if in into is it no not of on or such that the their then
    there these they this to was will with what which who whom whose how why when where did does do
    has have had were been being its them those some any than also about over after before during
    between other more most very can could would should""".split()
)
Matches = tuple[np.ndarray, np.ndarray]  # sorted document numbers, scores
_NONE: Matches = (np.empty(0, dtype=np.int32), np.empty(0, dtype=np.float32))


_QUERY_TOKENS = re.compile(TOKEN_PATTERN)
_QUERY_ANALYZER = text_analyzer()
# the function words as the index spells them (stemmed; the index's stop words are never terms)
_FUNCTION_TERMS = frozenset(analyse_token(_QUERY_ANALYZER, word) for word in LONG_QUERY_FUNCTION_WORDS) - {""}


def query_term_counts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for token in _QUERY_TOKENS.findall(text):
        term = analyse_token(_QUERY_ANALYZER, token)
        if term:
            counts[term] = counts.get(term, 0) + 1
    return counts


class Evaluator:
    """Evaluates a parsed query against one snapshot."""

    def __init__(self, snapshot: Snapshot, text: str = "", deadline: Deadline = NO_DEADLINE) -> None:
        self.s = snapshot
        self.deadline = deadline  # checked before each part of the query is evaluated
        # (field, prefix) -> every word the prefix expands to, as check_prefixes found them
        self._expansions: dict[tuple[str, str], list[str]] = {}
        # how often each word occurs in the query: the parser keeps a repeated word once, but a
        # word a long query repeats ("MEDLARS ... MEDLARS") is what it is about (BM25's qtf)
        self.qtf = query_term_counts(text)
        self.idfs: dict[str, float] = {}  # each word's idf, as word() scored it

    def run(self, q: query.Query) -> Matches:
        """The documents ``q`` matches (ascending) and their scores: the documents Whoosh's own
        searcher matches (tests/test_evaluator_differential.py checks it on generated queries;
        Whoosh's AndNot matcher itself sometimes keeps a document it should not, see there).

        Implemented: every node parse_user_query makes (Term, Or, And, Not, AndNot, AndMaybe,
        Require, Phrase with any slop, Prefix, Every, NullQuery) and Wildcard. Any other node
        (FuzzyTerm, Regex, ranges, spans, DisjunctionMax, Every(field), ...) raises QueryError.
        There is no fallback to Whoosh's searcher: no query is silently run some other way, and
        an error inside the evaluator surfaces as itself, never as zero results."""
        self.deadline.check()
        if isinstance(q, query.qcore._NullQuery):
            return _NONE
        if isinstance(q, query.Every):
            if q.fieldname is not None:
                raise unsupported_query(q, "every document with a value in one field")
            docs = np.flatnonzero(self.s.live).astype(np.int32)
            return docs, np.zeros(len(docs), dtype=np.float32)
        if isinstance(q, query.Term):
            return self.word([q.fieldname], q.text, q.boost)
        if isinstance(q, query.Or):  # minmatch is not implemented by Whoosh either (it ignores it)
            unit = self._word_unit(q)
            if unit is not None:
                return self.word(*unit, q.boost)
            return _union([self.run(child) for child in q.subqueries], q.boost)
        if isinstance(q, query.And):
            if not q.subqueries:  # as Whoosh: an And of nothing matches nothing
                return _NONE
            positive = [c for c in q.subqueries if not isinstance(c, query.Not)]
            negative = [c.query for c in q.subqueries if isinstance(c, query.Not)]
            result = _intersect([self.run(child) for child in positive]) if positive else self.run(query.Every())
            for child in negative:
                result = _subtract(result, self.run(child)[0])
            return result
        if isinstance(q, query.AndNot):
            return _subtract(self.run(q.a), self.run(q.b)[0])
        if isinstance(q, query.AndMaybe):
            required, optional = self.run(q.a), self.run(q.b)
            return _add_optional(required, optional)
        if isinstance(q, query.Require):  # "a REQUIRE b": documents matching both, scored by a
            return _restrict(self.run(q.a), self.run(q.b)[0])
        if isinstance(q, query.Not):
            everything = self.run(query.Every())
            return _subtract(everything, self.run(q.query)[0])
        if isinstance(q, query.Phrase):
            return self.phrase(q)
        if isinstance(q, query.Prefix | query.Wildcard):
            return self.expansion(q)
        raise unsupported_query(q)

    def relaxable_parts(self, q: query.Query):
        """(words, required, excluded) of an And query whose plain words (two or more) may be
        relaxed to "some of the words"; None for anything else. Explicit syntax is never relaxed:
        phrases, field:value and other parts stay required, NOT/-word parts stay excluded."""
        negative: list[query.Query] = []
        while isinstance(q, query.AndNot):  # "a b -c" parses as AndNot(And(a, b), c)
            negative.append(q.b)
            q = q.a
        if not isinstance(q, query.And):
            return None
        positive = [c for c in q.subqueries if not isinstance(c, query.Not)]
        negative += [c.query for c in q.subqueries if isinstance(c, query.Not)]
        words = [c for c in positive if self._is_plain_word(c)]
        if len(words) < 2:
            return None
        return words, [c for c in positive if not self._is_plain_word(c)], negative

    def _is_plain_word(self, q: query.Query) -> bool:
        if isinstance(q, query.Term):
            return q.fieldname in SEARCH_FIELDS
        return isinstance(q, query.Or) and self._word_unit(q) is not None

    def content_words(self, parts: list[query.Query]) -> list[query.Query]:
        """The word parts without LONG_QUERY_FUNCTION_WORDS (all of them if fewer than two remain)."""
        kept = [part for part in parts if self._word_of(part) not in _FUNCTION_TERMS]
        return kept if len(kept) >= 2 else parts

    def _word_of(self, part: query.Query) -> str | None:
        if isinstance(part, query.Term):
            return part.text
        unit = self._word_unit(part) if isinstance(part, query.Or) else None
        return unit[1] if unit else None

    def relaxed(self, parts: list[query.Query], required=(), excluded=()) -> Matches:
        """Documents matching any of the word parts and every required part (and no excluded one),
        scored by the sum of the parts they match: BM25 over the query's words as a bag, so a
        document with more (and rarer) words ranks higher. A coordination factor (share of parts
        matched) was measured to cost MAP on the judged collections (benchmarks/relevance.py)."""
        result = _union([self.run(part) for part in parts])
        if required:
            result = _intersect([result] + [self.run(part) for part in required])
        for part in excluded:
            result = _subtract(result, self.run(part)[0])
        return result

    def _word_unit(self, q: query.Or) -> tuple[list[str], str] | None:
        """An Or of one word over several search fields, scored together as BM25F."""
        terms = q.subqueries
        if not terms or not all(isinstance(t, query.Term) and t.boost == 1.0 for t in terms):
            return None
        texts = {t.text for t in terms}
        fields = [t.fieldname for t in terms]
        if len(texts) != 1 or not set(fields) <= set(SEARCH_FIELDS):
            return None
        return fields, texts.pop()

    def word(self, fields: list[str], text: str, boost: float = 1.0) -> Matches:
        """BM25F: weighted, length-normalised term frequencies summed over fields, then saturated."""
        s = self.s
        parts_docs, parts_tf = [], []
        for field in fields:
            docs, freqs = s.postings(field, text)
            if not len(docs):
                continue
            if field in s.lengths:
                b = B.get(field, 0.75)
                norm = 1.0 - b + b * s.lengths[field][docs] / s.average_length[field]
                parts_tf.append(FIELD_WEIGHTS.get(field, 1.0) * freqs / norm)
            else:
                parts_tf.append(freqs)
            parts_docs.append(docs)
        if not parts_docs:
            return _NONE
        if len(parts_docs) == 1:
            docs, tf = parts_docs[0], parts_tf[0]
        else:
            docs, tf = _sum_by_doc(np.concatenate(parts_docs), np.concatenate(parts_tf), s.size)
        self.idfs[text] = self.idf(len(docs))
        idf = self.idfs[text] * self.qtf.get(text, 1)
        scores = (idf * boost) * tf * (K1 + 1.0) / (tf + K1)
        return docs, scores.astype(np.float32)

    def idf(self, df: int) -> float:
        """Robertson-Spärck Jones idf, as BM25 defines it (and FTS5 computes it), floored just
        above zero: a word in more than half the documents says nothing about which to prefer.
        Measured against Lucene's log(1 + ...) variant on the judged collections, it ranked
        better on all three (benchmarks/relevance.py)."""
        return max(math.log((self.s.count - df + 0.5) / (df + 0.5)), IDF_FLOOR)

    def phrase(self, q: query.Phrase) -> Matches:
        """Documents holding the phrase's words in order, each at most ``slop`` positions after
        the one before (Whoosh's Phrase, a SpanNear2 with mindist 1: slop 1 is exact adjacency,
        ``"india team"~3`` also finds "india beat the team"; a slop below 1 matches nothing),
        scored as the sum of the words' scores."""
        field = q.fieldname
        schema = self.s.reader().schema  # (the index's schema property reads its table of contents)
        if field in schema and not schema[field].format.supports("positions"):
            raise QueryError(
                f"The field {field!r} keeps no word positions, so a phrase cannot be searched in it; "
                "search its words without quotes instead.",
                "q",
            )
        words = [self.word([field], w) for w in q.words]
        candidates = _intersect(words)
        if not len(candidates[0]) or len(q.words) < 2:
            return candidates
        if q.slop < 1:
            return _NONE
        docs = candidates[0]
        found = self._adjacent(field, q.words, docs) if q.slop == 1 else self._near(field, q.words, docs, q.slop)
        keep = np.isin(docs, found)
        return docs[keep], candidates[1][keep]

    def _adjacent(self, field: str, words: list[str], docs: np.ndarray) -> np.ndarray:
        """The documents of ``docs`` where ``words`` stand next to each other, in order."""
        # each word's (document, position) pairs, shifted back by its place in the phrase: a
        # document holds the phrase where all the words' shifted pairs meet
        keys = None
        for place, word in enumerate(words):
            self.deadline.check()
            shifted = self.s.position_keys(field, word, docs) - place
            keys = shifted if keys is None else np.intersect1d(keys, shifted)
            if not len(keys):
                return keys
        return np.unique(keys >> 32)

    def _near(self, field: str, words: list[str], docs: np.ndarray, slop: int) -> np.ndarray:
        """The documents of ``docs`` where each of ``words`` stands 1 to ``slop`` positions after
        an occurrence of the word before it that ends such a chain."""
        # Positions are far below 2**31, and a key holds the document above bit 32: a gap of at
        # most MAX_SLOP never reaches from one document into the next.
        slop = min(int(slop), MAX_SLOP)
        ends = None  # doc << 32 | position of the last word of each chain so far (sorted)
        for word in words:
            self.deadline.check()
            keys = self.s.position_keys(field, word, docs)
            if ends is not None:
                # the nearest chain end before each position: a chain reaches the position when
                # that end is at most slop before it (a farther end cannot be nearer)
                before = np.searchsorted(ends, keys, side="left") - 1
                reached = before >= 0
                reached[reached] = keys[reached] - ends[before[reached]] <= slop
                keys = keys[reached]
            if not len(keys):
                return np.empty(0, dtype=np.int32)
            ends = keys
            docs = _distinct_sorted(ends >> 32).astype(np.int32)  # later words: these documents only
        return docs

    def check_prefixes(self, q: query.Query, limit: int) -> None:
        """Refuse a query whose prefixes (word*) together match more than ``limit`` distinct indexed
        words (0: no limit). Reads each prefix's words once, stopping past the limit; evaluation
        then takes them from here."""
        nodes, stack = [], [q]
        while stack:
            node = stack.pop()
            if isinstance(node, query.Prefix | query.Wildcard):
                nodes.append(node)
            elif not node.is_leaf():
                stack.extend(node.children())
        if not nodes:
            return
        seen: set[str] = set()
        for node in sorted(nodes, key=lambda n: (n.text, n.fieldname)):
            key = (node.fieldname, node.text)
            if key in self._expansions:
                continue
            words: list[str] = []
            for count, word in enumerate(self._terms(node)):
                if count % 256 == 0:
                    self.deadline.check()
                words.append(word)
                seen.add(word)
                if 0 < limit < len(seen):
                    raise too_many_prefix_words(sorted({n.text for n in nodes}), limit)
            self._expansions[key] = words

    def _terms(self, q: query.Query):
        """The indexed words a prefix (or wildcard) query expands to, in order."""
        reader = self.s.reader()
        if q.fieldname not in reader.schema:  # as Whoosh: a field that does not exist has no words
            return
        if isinstance(q, query.Prefix):
            terms = reader.expand_prefix(q.fieldname, q.text)
        else:
            terms = q._btexts(reader)
        for term in terms:
            yield term.decode("utf-8") if isinstance(term, bytes) else term

    def expansion(self, q: query.Query) -> Matches:
        """Documents holding any of the words a prefix (or wildcard) expands to, as Whoosh finds
        them: every word, however many (check_prefixes bounds how many a search may have)."""
        words = self._expansions.get((q.fieldname, q.text))
        if words is None:
            words = []
            for count, word in enumerate(self._terms(q)):
                if count % 256 == 0:
                    self.deadline.check()
                words.append(word)
        matches = []
        for count, word in enumerate(words):
            if count % 256 == 0:
                self.deadline.check()
            matches.append(self.word([q.fieldname], word))
        matches.sort(key=lambda m: -len(m[0]))  # summed from the most frequent word down
        docs, scores = _union(matches)
        if len(scores):  # a prefix matches many words: score it like one word
            scores = np.minimum(scores, max(float(scores.max()) / 2, 1.0))
        return docs, scores


def unsupported_query(q: query.Query, what: str = "") -> QueryError:
    """The error for a query node the evaluator does not implement (HTTP 400)."""
    name = type(q).__name__
    return QueryError(
        f"This search uses a kind of query that is not supported ({what or name}: {q}). "
        'Use words, "quoted phrases" (with ~N for words up to N apart), word*, field:value, '
        "OR, NOT or -word instead.",
        "q",
    )


def _sum_by_doc(docs: np.ndarray, values: np.ndarray, size: int = 0) -> Matches:
    """Distinct documents (ascending) and the sum of each one's values. Given the index size,
    many postings are summed into a dense array instead of being sorted."""
    if size and len(docs) * 8 > size:
        sums = np.bincount(docs, weights=values, minlength=size)
        present = np.zeros(size, dtype=bool)
        present[docs] = True
        unique = np.flatnonzero(present).astype(np.int32)
        return unique, sums[unique].astype(np.float32)
    unique, inverse = np.unique(docs, return_inverse=True)
    return unique.astype(np.int32), np.bincount(inverse, weights=values).astype(np.float32)


def _union(parts: list[Matches], boost: float = 1.0) -> Matches:
    parts = [p for p in parts if len(p[0])]
    if not parts:
        return _NONE
    if len(parts) == 1:
        docs, scores = parts[0]
    else:
        docs, scores = _sum_by_doc(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    return docs, scores * boost if boost != 1.0 else scores


def _intersect(parts: list[Matches]) -> Matches:
    if not parts:
        return _NONE
    parts = sorted(parts, key=lambda p: len(p[0]))
    docs, scores = parts[0]
    for other_docs, other_scores in parts[1:]:
        if not len(docs):
            return _NONE
        common, left, right = np.intersect1d(docs, other_docs, assume_unique=True, return_indices=True)
        docs, scores = common.astype(np.int32), scores[left] + other_scores[right]
    return docs, scores


def _distinct_sorted(values: np.ndarray) -> np.ndarray:
    """The distinct values of a sorted array."""
    if len(values) < 2:
        return values
    return values[np.concatenate(([True], values[1:] != values[:-1]))]


def _restrict(matches: Matches, allowed: np.ndarray) -> Matches:
    """The matches whose documents are in ``allowed`` (sorted), with their own scores."""
    if not len(matches[0]) or not len(allowed):
        return _NONE
    keep = np.isin(matches[0], allowed, assume_unique=True)
    return matches[0][keep], matches[1][keep]


def _subtract(matches: Matches, excluded: np.ndarray) -> Matches:
    if not len(excluded) or not len(matches[0]):
        return matches
    keep = ~np.isin(matches[0], excluded, assume_unique=True)
    return matches[0][keep], matches[1][keep]


def _add_optional(required: Matches, optional: Matches) -> Matches:
    if not len(required[0]) or not len(optional[0]):
        return required
    common, left, right = np.intersect1d(required[0], optional[0], assume_unique=True, return_indices=True)
    scores = required[1].copy()
    scores[left] += optional[1][right]
    return required[0], scores
