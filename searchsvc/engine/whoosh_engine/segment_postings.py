"""The bulk writer's postings of one field while a segment is written, kept as flat arrays and
grouped by term only when the segment is flushed: ``TokenPostings`` for text fields (a term
number per token), ``FlatPostings`` for the others (a term number per posting)."""

from __future__ import annotations

from array import array

import numpy as np


class FlatPostings:
    """One field's postings in insertion order, in flat arrays: each posting's term number,
    document and frequency (about 12 bytes a posting, where an array per term costs hundreds of
    bytes for the many rare words). For fields without positions: the ids."""

    positional = False

    def __init__(self) -> None:
        self.term_ids: dict[bytes, int] = {}
        self.terms = array("I")
        self.docs = array("I")
        self.freqs = array("I")

    def add(self, docnum: int, postings) -> int:
        """Add one document's postings, (term bytes, frequency) each; returns the sum of the
        frequencies (the field's length in the document)."""
        ids, terms, docs, freqs = self.term_ids, self.terms, self.docs, self.freqs
        length = 0
        for tbytes, freq in postings:
            number = ids.get(tbytes)
            if number is None:
                number = ids[tbytes] = len(ids)
            terms.append(number)
            docs.append(docnum)
            freqs.append(freq)
            length += freq
        return length

    def sorted_by_term(self):
        """(terms in sorted order, per-term posting starts, docs, freqs, None, None): postings
        grouped by term in sorted term order, docs ascending (no positions: the last two are a
        positional field's position starts and positions)."""
        words = sorted(self.term_ids)
        posting_rank = _ranks(self.term_ids, words)[np.frombuffer(self.terms, dtype=np.uint32)]
        # a stable sort keeps each term's postings in insertion (= document) order
        order = np.argsort(posting_rank, kind="stable")
        freqs = np.frombuffer(self.freqs, dtype=np.uint32)[order]
        docs = np.frombuffer(self.docs, dtype=np.uint32)[order].astype(np.int32)
        del order
        self.terms, self.docs, self.freqs = array("I"), array("I"), array("I")
        return words, _starts(posting_rank, len(words)), docs, freqs, None, None


def _ranks(numbers, terms: list) -> np.ndarray:
    """term number -> its place among ``terms`` (all of ``numbers``'s terms, sorted)."""
    rank = np.empty(len(terms), dtype=np.int32)
    rank[np.fromiter(map(numbers.__getitem__, terms), dtype=np.int64, count=len(terms))] = np.arange(
        len(terms), dtype=np.int32
    )
    return rank


def _starts(ranks: np.ndarray, count: int) -> np.ndarray:
    """Where each of ``count`` terms begins in items sorted by their terms' ``ranks`` (one more
    than ``count``: the last is the end)."""
    starts = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.bincount(ranks, minlength=count), out=starts[1:])
    return starts


class _TermNumbers(dict):
    """term -> its number in one field's segment (in order of first appearance); '' (a dropped
    token) is -1."""

    def __init__(self) -> None:
        super().__init__({"": -1})

    def __missing__(self, term: str) -> int:
        number = self[term] = len(self) - 1
        return number


class TokenPostings:
    """One text field's tokens in document order, each as its term's number (-1 where the
    analyzer drops the token), made into postings when the segment is flushed: adding a
    document costs a dictionary lookup per token, and the grouping by term and document is one
    stable sort of arrays. ``sorted_by_term`` gives what FlatPostings's does, with the position
    starts and positions of a positional field."""

    def __init__(self, positional: bool) -> None:
        self.positional = positional  # else frequencies only
        self.numbers = _TermNumbers()
        self.tokens = array("i")
        self.doc_numbers = array("I")  # the documents with tokens, ascending
        self.doc_tokens = array("I")  # and how many tokens each

    def add(self, docnum: int, terms) -> int:
        """Add a document's ``terms`` (one per token, '' for a dropped one: FastText's
        token_terms); returns how many were kept (the field's length in the document)."""
        numbers = list(map(self.numbers.__getitem__, terms))
        if not numbers:
            return 0
        self.tokens.extend(numbers)
        self.doc_numbers.append(docnum)
        self.doc_tokens.append(len(numbers))
        return len(numbers) - numbers.count(-1)

    def sorted_by_term(self):
        counts = np.frombuffer(self.doc_tokens, dtype=np.uint32).astype(np.int64)
        tokens = np.frombuffer(self.tokens, dtype=np.int32)
        kept = tokens >= 0
        doc = np.repeat(np.frombuffer(self.doc_numbers, dtype=np.uint32).astype(np.int32), counts)[kept]
        positions = _positions(counts, kept, doc) if self.positional else None
        tokens = tokens[kept]
        del kept
        self.tokens, self.doc_numbers, self.doc_tokens = array("i"), array("I"), array("I")
        terms = sorted(term for term in self.numbers if term)  # code point order is UTF-8's byte order
        words = [term.encode("utf-8") for term in terms]
        token_rank = _ranks(self.numbers, terms)[tokens]
        del terms, tokens
        self.numbers = _TermNumbers()
        order = np.argsort(token_rank, kind="stable")  # each word's tokens stay in document order
        token_rank, doc = token_rank[order], doc[order]
        if positions is not None:
            positions = positions[order].astype(np.uint32)
        del order
        first = np.ones(len(doc), dtype=bool)  # where a posting (a word in a document) begins
        first[1:] = (token_rank[1:] != token_rank[:-1]) | (doc[1:] != doc[:-1])
        firsts = np.flatnonzero(first)
        del first
        freqs = np.diff(np.append(firsts, len(doc))).astype(np.uint32)
        pos_starts = _starts(token_rank, len(words)) if self.positional else None
        return words, _starts(token_rank[firsts], len(words)), doc[firsts], freqs, pos_starts, positions


def _positions(counts: np.ndarray, kept: np.ndarray, doc: np.ndarray) -> np.ndarray:
    """Each kept token's position (``counts`` tokens per document, ``kept`` of all the tokens,
    ``doc`` of the kept ones): the first kept token of a document keeps its index there, the later
    ones follow it with no gaps, as Whoosh's StopFilter renumbers."""
    doc_starts = np.cumsum(counts) - counts
    index_in_doc = (np.arange(len(kept), dtype=np.int64) - np.repeat(doc_starts, counts))[kept]
    run_starts = np.flatnonzero(np.diff(doc, prepend=-1))
    run_lengths = np.diff(np.append(run_starts, len(doc)))
    return np.repeat(index_in_doc[run_starts] - run_starts, run_lengths) + np.arange(len(doc))
