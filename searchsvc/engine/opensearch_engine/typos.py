"""Typo tolerance on the cluster (the rules are searchsvc.typo_tolerance's): one request finds,
for the query's tolerant words, how many articles hold each as typed (a filters aggregation) and
the known title and topic words within the allowed edits (term suggesters on ``words``). The
query then matches each corrected word's candidates too, and ranks articles by the edits their
matches took before the score (a constant bonus per word, taken off before scores are shown)."""

from __future__ import annotations

import threading
from collections import OrderedDict

from rapidfuzz.distance import OSA

from searchsvc import query_language as ql
from searchsvc import typo_tolerance as rules
from searchsvc.analysis import analyse_term
from searchsvc.engine.interface import Correction
from searchsvc.engine.opensearch_engine.mapping import SEARCH_FIELDS, TEXT_FIELDS
from searchsvc.engine.opensearch_engine.query_dsl import Translator

# added per corrected word to an article's score for each edit fewer its match of that word
# took (two for the word as typed); above any text score, below COMPLETE_BONUS
EDIT_BONUS = 10_000.0
MAX_BONUS = 2 * EDIT_BONUS * rules.MAX_CORRECTED_WORDS
CACHED = 4096


class TypoLookup:
    """Finds corrections in a view, remembering the last few thousand words' answers per view
    (a view never changes: a re-index publishes a new one)."""

    def __init__(self, cluster, limits) -> None:
        self.cluster = cluster
        self.budget = limits.typo_candidates
        self._cache: OrderedDict[tuple[str, str], tuple[int, list[rules.Candidate]]] = OrderedDict()
        self._lock = threading.Lock()

    def corrections(self, view, words: dict[str, str]) -> dict[str, list[rules.Candidate]]:
        """Indexed word -> the candidates (known words) it also matches, for the rare ones."""
        found: dict[str, tuple[int, list[rules.Candidate]]] = {}
        missing = {}
        with self._lock:
            for term, typed in words.items():
                cached = self._cache.get((view.name, typed))
                if cached is None:
                    missing[term] = typed
                else:
                    self._cache.move_to_end((view.name, typed))
                    found[term] = cached
        if missing:
            asked = self._ask(view, missing)
            with self._lock:
                for term, answer in asked.items():
                    found[term] = answer
                    self._cache[(view.name, missing[term])] = answer
                while len(self._cache) > CACHED:
                    self._cache.popitem(last=False)
        limit = rules.rare_limit(view.documents)
        out = {}
        for term, (own, candidates) in found.items():
            if own > limit:
                continue
            chosen = [c for c in rules.choose(own, candidates, self.budget) if analyse_term(c.word) not in ("", term)]
            if chosen:
                out[term] = chosen
        return out

    def _ask(self, view, words: dict[str, str]) -> dict[str, tuple[int, list[rules.Candidate]]]:
        keys = {term: str(i) for i, term in enumerate(words)}
        suggest = {}
        filters = {}
        for term, typed in words.items():
            key = keys[term]
            fields = [TEXT_FIELDS[name] for name in SEARCH_FIELDS]
            filters[key] = {"multi_match": {"query": typed, "fields": fields, "type": "most_fields"}}
            suggest[key] = {
                "text": typed,
                "term": {
                    "field": "words",
                    "suggest_mode": "always",
                    "max_edits": rules.allowed_edits(typed),
                    "prefix_length": 0,
                    "min_word_length": rules.MIN_LETTERS,
                    "string_distance": "damerau_levenshtein",
                    "sort": "score",
                    "size": max(self.budget * 3, 10),
                    "max_inspections": 10,
                },
            }
        body = {"size": 0, "track_total_hits": False, "aggs": {"own": {"filters": {"filters": filters}}}}
        body["suggest"] = suggest
        with self.cluster.errors("looking up corrections of misspelt words", view.name):
            response = self.cluster.client.search(index=view.name, body=body)
        buckets = response["aggregations"]["own"]["buckets"]
        out = {}
        for term, typed in words.items():
            key = keys[term]
            options = response["suggest"][key][0]["options"] if response["suggest"].get(key) else []
            allowed = rules.allowed_edits(typed)
            candidates = []
            for option in options:
                edits = OSA.distance(typed, option["text"], score_cutoff=allowed)
                if option["text"] != typed and edits <= allowed:
                    candidates.append(rules.Candidate(option["text"], int(edits), int(option["freq"])))
            out[term] = (int(buckets[key]["doc_count"]), candidates)
        return out


class TolerantTranslator(Translator):
    """The translator of one search whose misspelt words also match their candidates."""

    def __init__(self, ranking, corrections: dict[str, list[rules.Candidate]]) -> None:
        super().__init__(ranking)
        self.corrections = corrections

    def query(self, node) -> dict:
        if isinstance(node, ql.Word) and node.field is None and node.term in self.corrections:
            exact = super().query(node)
            others = [super(TolerantTranslator, self).query(_word(c.word)) for c in self.corrections[node.term]]
            return {"bool": {"should": [exact, *others], "minimum_should_match": 1}}
        return super().query(node)

    def edit_tiers(self, node) -> list[dict]:
        """Should clauses that add EDIT_BONUS per corrected word for each edit fewer an article's
        match of it took: twice for the word as typed or for not holding it at all (a relaxed
        match), once for a candidate one edit away, none for two."""
        clauses = []
        for word in _words(node):
            candidates = self.corrections.get(word.term)
            if not candidates or word.field is not None:
                continue
            exact = Translator.query(self, word)
            every = [Translator.query(self, _word(c.word)) for c in candidates]
            one_edit = [Translator.query(self, _word(c.word)) for c in candidates if c.edits == 1]
            tiers = [
                {"constant_score": {"filter": exact, "boost": 2 * EDIT_BONUS}},
                {"constant_score": {"filter": {"bool": {"must_not": every}}, "boost": 2 * EDIT_BONUS}},
            ]
            if one_edit:
                tiers.append(
                    {
                        "constant_score": {
                            "filter": {"bool": {"should": one_edit, "minimum_should_match": 1}},
                            "boost": EDIT_BONUS,
                        }
                    }
                )
            clauses.append({"dis_max": {"queries": tiers}})
        return clauses


def _word(text: str) -> ql.Word:
    return ql.Word(text=text, term=analyse_term(text))


def _words(node) -> list:
    found, stack, seen = [], [node], set()
    while stack:
        part = stack.pop()
        if isinstance(part, ql.Word):
            if part.term not in seen:
                seen.add(part.term)
                found.append(part)
        elif isinstance(part, ql.And | ql.Or):
            stack.extend(reversed(part.parts))
        elif isinstance(part, ql.AndMaybe):
            stack.extend((part.optional, part.required))
        elif isinstance(part, ql.Require):
            stack.extend((part.required, part.scored))
    return found


def corrections_of(words: dict[str, str], corrections: dict[str, list[rules.Candidate]]) -> list[Correction]:
    return [Correction(words[term], tuple(c.word for c in found)) for term, found in corrections.items()]
