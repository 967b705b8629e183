"""A parsed query -> matching documents and BM25F scores, in numpy: matching and scoring run on
posting arrays, which is what makes a search on a large index take milliseconds."""

from __future__ import annotations

import math

import numpy as np
from whoosh import query

from searchsvc.engine.limits import NO_DEADLINE, Deadline, too_many_prefix_words
from searchsvc.engine.ranking import DEFAULT_RANKING, RankingModel
from searchsvc.engine.whoosh_engine.match_sets import (
    _NONE,
    Matches,
    _add_optional,
    _intersect,
    _restrict,
    _subtract,
    _sum_by_doc,
    _union,
)
from searchsvc.engine.whoosh_engine.phrase_positions import adjacent, near
from searchsvc.engine.whoosh_engine.query_parser import FUNCTION_TERMS, query_term_counts
from searchsvc.engine.whoosh_engine.schema import (
    RANKED_FIELDS,
    SEARCH_FIELDS,
)
from searchsvc.engine.whoosh_engine.snapshot import Snapshot
from searchsvc.errors import QueryError

IDF_FLOOR = 1e-6


class Evaluator:
    """Evaluates a parsed query against one snapshot."""

    def __init__(
        self,
        snapshot: Snapshot,
        text: str = "",
        deadline: Deadline = NO_DEADLINE,
        ranking: RankingModel = DEFAULT_RANKING,
    ) -> None:
        self.s = snapshot
        # BM25F's knobs (ranking.py) by this schema's field names
        self.k1 = ranking.k1
        self.b = {RANKED_FIELDS[name]: value for name, value in ranking.b.items()}
        self.weights = {RANKED_FIELDS[name]: value for name, value in ranking.field_weights.items()}
        self.deadline = deadline  # checked before each part of the query is evaluated
        # (field, prefix) -> every word the prefix expands to, as check_prefixes found them
        self._expansions: dict[tuple[str, str], list[str]] = {}
        # how often each word occurs in the query: the parser keeps a repeated word once, but a
        # word a long query repeats ("MEDLARS ... MEDLARS") is what it is about (BM25's qtf)
        self.qtf = query_term_counts(text)
        self.idfs: dict[str, float] = {}  # each word's idf, as word() scored it
        self.typos = None  # a TypoMatcher (typos.py) when misspelt words may match known ones

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
                tolerant = self.typos.match(self, *unit, q.boost) if self.typos is not None else None
                return tolerant if tolerant is not None else self.word(*unit, q.boost)
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
        """A word the user typed (searched in every field); a field:value part is no plain word:
        relaxing keeps it required."""
        return isinstance(q, query.Or) and self._word_unit(q) is not None

    def content_words(self, parts: list[query.Query]) -> list[query.Query]:
        """The word parts without LONG_QUERY_FUNCTION_WORDS (all of them if fewer than two remain)."""
        kept = [part for part in parts if self._word_of(part) not in FUNCTION_TERMS]
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
                norm = s.length_norms(field, self.b.get(field, 0.75))[docs]
                parts_tf.append(self.weights.get(field, 1.0) * freqs / norm)
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
        k1 = self.k1
        scores = (idf * boost) * tf * (k1 + 1.0) / (tf + k1)
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
        if q.slop == 1:
            found = adjacent(self.s, field, q.words, docs, self.deadline)
        else:
            found = near(self.s, field, q.words, docs, q.slop, self.deadline)
        keep = np.isin(docs, found)
        return docs[keep], candidates[1][keep]

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
            if count % 32 == 0:  # a frequent word's postings take a while on a large index
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
