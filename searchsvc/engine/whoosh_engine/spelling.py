"""Spelling correction and completion over the index's own words (titles and topics)."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from functools import cached_property

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA
from whoosh.codec.whoosh3 import W3TermsReader

from searchsvc.engine.whoosh_engine.schema import MAX_TOKEN_LENGTH
from searchsvc.typo_tolerance import TWO_EDITS_FROM, Candidate

# Only words of at most this many letters are corrected (and corrected to): each one costs its
# length in delete-variants, so a long "word" (a URL slug, a run of letters) would cost its
# length squared in memory. Real misspelt words are shorter.
MAX_WORD_LENGTH = 24


def read_word_counts(leaves, field: str = "spelling") -> dict[str, int]:
    """Each word of ``field`` with the number of documents holding it, over segments ``leaves``
    ((reader, offset) pairs): one sequential pass over each segment's terms (the multi-segment
    reader would look every term up in every segment), reading the frequency out of each term's
    record instead of decoding all of it (inlined postings are pickled in there)."""
    counts: dict[str, int] = {}
    for leaf, _ in leaves:
        terms = getattr(leaf, "_terms", None)
        if not isinstance(terms, W3TermsReader):
            pairs = ((term, info.doc_frequency()) for term, info in leaf.iter_field(field))
        elif field not in terms._fieldmap:
            continue
        else:
            pairs = _raw_frequencies(terms, field)
        for term, frequency in pairs:
            word = term.decode("utf-8") if isinstance(term, bytes) else term
            counts[word] = counts.get(word, 0) + frequency
    return counts


def _raw_frequencies(terms: W3TermsReader, field: str) -> Iterator[tuple[bytes, int]]:
    prefix = terms._keycoder(field, b"")
    start = len(prefix)
    for key, record in terms._tindex.items_from(prefix):
        if key[:start] != prefix:
            return
        # the record: flags (1 byte), weight (float), document frequency (big-endian uint32), ...
        yield key[start:], int.from_bytes(record[5:9], "big")


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class DeleteIndex:
    """The words that each delete-variant comes from (a word is its own variant too), as the
    variants' 64-bit hashes, sorted, beside the words' numbers: about 12 bytes a (variant, word)
    pair, where a dictionary of lists of strings took about 130 (50 MB a server process at 155k
    articles). A hash that two variants share only adds a candidate, which the edit distance
    then checks like any other."""

    def __init__(self, words: list[str]) -> None:
        self.words = words
        hashes: list[int] = []
        numbers: list[int] = []
        for number, word in enumerate(words):
            variants = _deletes(word) | {word}
            hashes.extend(map(hash, variants))
            numbers.extend([number] * len(variants))
        keys = np.array(hashes, dtype=np.int64)
        order = np.argsort(keys, kind="stable")
        self.hashes = keys[order]
        self.numbers = np.array(numbers, dtype=np.int32)[order]

    def words_for(self, variants: set[str]) -> list[str]:
        """The distinct words any of ``variants`` comes from, in the order of ``words``."""
        keys = np.fromiter(map(hash, variants), dtype=np.int64, count=len(variants))
        starts = np.searchsorted(self.hashes, keys, "left")
        ends = np.searchsorted(self.hashes, keys, "right")
        found = [self.numbers[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True) if b > a]
        if not found:
            return []
        return [self.words[n] for n in np.unique(np.concatenate(found)).tolist()]


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance, capped at ``limit``."""
    if abs(len(a) - len(b)) >= limit:
        return limit
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return min(previous[-1], limit)


class Vocabulary:
    """Words with their document frequencies; corrections within two edits; prefix completion.

    The index for corrections (every word's delete-variants, the costly part) is built on the
    first correction, and the sorted words on the first completion (or both by ``warm()``)."""

    MIN_FREQUENCY = 2

    def __init__(self, words: list[tuple[str, int]]) -> None:
        # (an index built before words were capped at MAX_TOKEN_LENGTH may hold longer ones)
        self.frequency = {
            w: f for w, f in words if len(w) <= MAX_TOKEN_LENGTH and (w.isalpha() or any(c.isalpha() for c in w))
        }

    @cached_property
    def sorted_words(self) -> list[str]:
        return sorted(self.frequency)

    @cached_property
    def _deletes(self) -> DeleteIndex:
        """Each delete-variant (and each word itself) -> the words worth suggesting it comes from."""
        # on a large index, words seen once are mostly typos and names: not worth suggesting
        least = self.MIN_FREQUENCY if len(self.frequency) > 50_000 else 1
        return DeleteIndex(
            [w for w, freq in self.frequency.items() if freq >= least and 3 <= len(w) <= MAX_WORD_LENGTH]
        )

    def warm(self) -> None:
        """Build now what corrections and completions build on first use."""
        self._deletes, self.sorted_words, self._long_words  # noqa: B018 - built on first use

    def correct(self, word: str) -> str | None:
        """The most frequent known word within two edits of ``word`` that is more frequent than it."""
        word = word[: MAX_WORD_LENGTH + 1].lower()
        if not 3 <= len(word) <= MAX_WORD_LENGTH or not word.isalpha():
            return None
        own = self.frequency.get(word, 0)
        best: tuple[int, int, str] | None = None
        for candidate in self._deletes.words_for(_deletes(word) | {word}):
            if candidate == word:
                continue
            distance = edit_distance(word, candidate)
            if distance > 2:
                continue
            freq = self.frequency[candidate]
            if own and freq <= own * 5:
                continue
            key = (-distance, freq, candidate)
            if best is None or key > best:
                best = key
        return best[2] if best else None

    @cached_property
    def _long_words(self) -> dict[int, list[str]]:
        """The words of TWO_EDITS_FROM - 2 letters or more worth matching, by length: where two
        edits are allowed, candidates are found by comparing with the words of about the same
        length (rapidfuzz's bit-parallel distance, a few milliseconds for all of them)."""
        least = self.MIN_FREQUENCY if len(self.frequency) > 50_000 else 1
        by_length: dict[int, list[str]] = {}
        for word, freq in self.frequency.items():
            if freq >= least and TWO_EDITS_FROM - 2 <= len(word) <= MAX_WORD_LENGTH and word.isalpha():
                by_length.setdefault(len(word), []).append(word)
        return by_length

    def candidates(self, word: str, edits: int) -> list[Candidate]:
        """Known words (worth suggesting) within ``edits`` (1 or 2) edits of ``word``, itself left out."""
        word = word.lower()
        if edits < 1 or not 3 <= len(word) <= MAX_WORD_LENGTH:
            return []
        found: dict[str, int] = {}
        for candidate in self._deletes.words_for(_deletes(word) | {word}):
            if candidate != word:
                distance = edit_distance(word, candidate)
                if distance <= edits:
                    found[candidate] = distance
        if edits >= 2:
            for length in range(len(word) - 2, len(word) + 3):
                words = self._long_words.get(length)
                if not words:
                    continue
                for candidate, distance, _ in process.extract(
                    word, words, scorer=OSA.distance, score_cutoff=edits, limit=None
                ):
                    if candidate != word:
                        found[candidate] = min(found.get(candidate, distance), int(distance))
        return [Candidate(w, d, self.frequency[w]) for w, d in found.items()]

    def complete(self, prefix: str, limit: int = 10) -> list[tuple[str, int]]:
        """Known words that start with ``prefix``, most frequent first."""
        prefix = prefix.lower()
        if not prefix:
            return []
        start = bisect.bisect_left(self.sorted_words, prefix)
        found = []
        for word in self.sorted_words[start : start + 5000]:
            if not word.startswith(prefix):
                break
            found.append((word, self.frequency[word]))
        found.sort(key=lambda item: (-item[1], item[0]))
        return found[:limit]
