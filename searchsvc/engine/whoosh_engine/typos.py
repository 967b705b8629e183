"""Typo tolerance on a snapshot: a rare or unknown query word also matches the known words an
edit or two away (the rules are searchsvc.typo_tolerance's), and each result learns how many
edits its matches took, so that results holding the words as typed rank first."""

from __future__ import annotations

import re
import time

import numpy as np
from whoosh import query

from searchsvc import typo_tolerance as rules
from searchsvc.analysis import TOKEN_PATTERN, analyse_term, fold
from searchsvc.engine.interface import Correction
from searchsvc.engine.whoosh_engine.match_sets import Matches, _union
from searchsvc.engine.whoosh_engine.schema import SEARCH_FIELDS

_TOKENS = re.compile(TOKEN_PATTERN)


def tolerant_words(q: query.Query, text: str) -> dict[str, str]:
    """Indexed word -> the word as typed (folded), for the query's plain words that may be
    corrected: each a word searched in every field, outside phrases, prefixes, field:value and
    excluded (NOT, -word) parts, of 5 to 24 letters. At most MAX_CORRECTED_WORDS of them."""
    typed: dict[str, str] = {}
    for token in _TOKENS.findall(text):
        word = fold(token)
        term = analyse_term(token)
        if term and term not in typed and rules.eligible(word):
            typed[term] = word
    found: dict[str, str] = {}
    stack = [q]
    while stack and len(found) < rules.MAX_CORRECTED_WORDS:
        node = stack.pop()
        if isinstance(node, query.Not):
            continue
        if isinstance(node, query.AndNot):
            stack.append(node.a)
            continue
        if isinstance(node, query.Or) and _is_word_unit(node):
            term = node.subqueries[0].text
            if term in typed:
                found.setdefault(term, typed[term])
            continue
        if not node.is_leaf():
            stack.extend(reversed(list(node.children())))
    return found


def _is_word_unit(q: query.Or) -> bool:
    terms = q.subqueries
    return (
        bool(terms)
        and all(isinstance(t, query.Term) and t.boost == 1.0 for t in terms)
        and len({t.text for t in terms}) == 1
        and {t.fieldname for t in terms} == set(SEARCH_FIELDS)
    )


class TypoMatcher:
    """Matches the tolerant words of one search and remembers what each correction matched."""

    def __init__(self, snapshot, words: dict[str, str], budget: int) -> None:
        self.s = snapshot
        self.words = words  # indexed word -> as typed
        self.budget = budget
        self.corrected: dict[str, tuple[Correction, list[tuple[np.ndarray, int]], np.ndarray]] = {}
        self.also: dict[str, str] = {}  # indexed word of a correction -> indexed word it stands for
        self._done: dict[tuple, Matches] = {}  # a relaxed search matches its words twice

    def match(self, evaluator, fields: list[str], term: str, boost: float) -> Matches | None:
        """The matches of a tolerant word: as typed, and, when it is rare, its corrections
        (scored as themselves); None when ``term`` is not a tolerant word."""
        typed = self.words.get(term)
        if typed is None:
            return None
        key = (tuple(fields), term, boost)
        if key not in self._done:
            self._done[key] = self._match(evaluator, fields, term, typed, boost)
        return self._done[key]

    def _match(self, evaluator, fields: list[str], term: str, typed: str, boost: float) -> Matches:
        exact = evaluator.word(fields, term, boost)
        own = len(exact[0])
        if own > rules.rare_limit(self.s.count):
            return exact
        # a snapshot opened for one search builds its vocabulary here, once: not the query's work,
        # so it is left out of the time budget (a served snapshot has it built already)
        started = time.monotonic()
        vocabulary = self.s.vocabulary()
        vocabulary.warm()
        evaluator.deadline.end += time.monotonic() - started
        found = rules.choose(own, vocabulary.candidates(typed, rules.allowed_edits(typed)), self.budget)
        parts: list[Matches] = [exact]
        matched: list[str] = []
        by_edits: list[tuple[np.ndarray, int]] = []
        for candidate in found:
            other = analyse_term(candidate.word)
            if not other or other == term:
                continue
            matches = evaluator.word(fields, other, boost)
            if not len(matches[0]):
                continue
            parts.append(matches)
            matched.append(candidate.word)
            by_edits.append((matches[0], candidate.edits))
            self.also.setdefault(other, term)
        if not matched:
            return exact
        self.corrected[term] = (Correction(typed, tuple(matched)), by_edits, exact[0])
        return _union(parts)

    @property
    def corrections(self) -> list[Correction]:
        return [entry[0] for entry in self.corrected.values()]

    def edits(self, docs: np.ndarray) -> np.ndarray | None:
        """For each of ``docs``, the edits its matches of the corrected words took (0 for a word it
        holds as typed, or does not hold at all); None when no word was corrected."""
        if not self.corrected:
            return None
        total = np.zeros(len(docs), dtype=np.int32)
        for _, by_edits, exact_docs in self.corrected.values():
            edits = np.zeros(self.s.size, dtype=np.int8)
            for matched_docs, count in sorted(by_edits, key=lambda item: -item[1]):
                edits[matched_docs] = count  # fewest edits last: each document keeps its best
            edits[exact_docs] = 0
            total += edits[docs]
        return total
