"""A Whoosh segment writer for bulk builds that keeps postings in memory as arrays and writes
them block by block, instead of sorting every posting through Whoosh's external-sort pool and
adding them one call at a time. The files it writes are ordinary Whoosh (W3 codec) segments.

Only for writers that add documents and nothing else (no deletions, merges or add_reader):
the full build uses it; incremental updates use Whoosh's own SegmentWriter.
"""

from __future__ import annotations

from array import array

import numpy as np
from whoosh import formats
from whoosh.system import pack_uint
from whoosh.writing import SegmentWriter

from searchsvc.engine.whoosh_engine.postings_file import SIDECAR_FIELDS, sidecar_arrays
from searchsvc.engine.whoosh_engine.schema import encoded_single_position


class FlatPostings:
    """One field's postings in insertion order, in flat arrays: each posting's term
    number, document and frequency, and all positions one after another. About 16 bytes a
    posting, where an array per term costs hundreds of bytes for the many rare words."""

    def __init__(self, positional: bool = True) -> None:
        self.positional = positional  # else frequencies only (no positions kept)
        self.term_ids: dict[bytes, int] = {}
        self.terms = array("I")
        self.docs = array("I")
        self.freqs = array("I")
        self.positions = array("I")

    def add(self, docnum: int, postings) -> int:
        """Add one document's postings, (term bytes, frequency, positions or None) each; returns
        the sum of the frequencies (the field's length in the document)."""
        ids, terms, docs, freqs, positions = self.term_ids, self.terms, self.docs, self.freqs, self.positions
        length = 0
        for tbytes, freq, at in postings:
            number = ids.get(tbytes)
            if number is None:
                number = ids[tbytes] = len(ids)
            terms.append(number)
            docs.append(docnum)
            freqs.append(freq)
            if at is not None:
                positions.extend(at)
            length += freq
        return length

    def sorted_by_term(self):
        """(terms in sorted order, per-term posting starts, docs, freqs, per-term position
        starts, positions), postings grouped by term in sorted term order, docs ascending."""
        words = sorted(self.term_ids)
        rank = np.empty(len(words), dtype=np.int32)
        rank[np.fromiter((self.term_ids[w] for w in words), dtype=np.int64, count=len(words))] = np.arange(
            len(words), dtype=np.int32
        )
        posting_rank = rank[np.frombuffer(self.terms, dtype=np.uint32)]
        self.terms = array("I")
        # a stable sort keeps each term's postings in insertion (= document) order
        order = np.argsort(posting_rank, kind="stable")
        freqs_in = np.frombuffer(self.freqs, dtype=np.uint32).astype(np.int64)
        first_in = np.cumsum(freqs_in) - freqs_in
        freqs = freqs_in[order]
        if self.positional:
            total = int(freqs.sum())
            flat = np.repeat(first_in[order] - np.cumsum(freqs) + freqs, freqs) + np.arange(total)
            positions = np.frombuffer(self.positions, dtype=np.uint32)[flat]
            del flat
        else:
            positions = np.empty(0, dtype=np.uint32)
        docs = np.frombuffer(self.docs, dtype=np.uint32)[order].astype(np.int32)
        del order, first_in, freqs_in
        self.docs, self.freqs, self.positions = array("I"), array("I"), array("I")
        per_term = np.bincount(posting_rank, minlength=len(words))
        starts = np.zeros(len(words) + 1, dtype=np.int64)
        np.cumsum(per_term, out=starts[1:])
        pos_starts = np.zeros(len(words) + 1, dtype=np.int64)
        np.cumsum(np.add.reduceat(freqs, starts[:-1]) if len(freqs) else per_term, out=pos_starts[1:])
        return words, starts, docs, freqs.astype(np.uint32), pos_starts, positions


class BulkSegmentWriter(SegmentWriter):
    """SegmentWriter whose postings bypass the sorting pool."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._postings: dict[str, dict[bytes, tuple]] = {}  # fields without positions
        self._flat: dict[str, FlatPostings] = {}  # the search fields (SIDECAR_FIELDS)
        # the search fields' postings for the segment's postings file (postings_file.py),
        # gathered while the segment is flushed
        self.sidecar: dict[str, np.ndarray] = {}

    def add_document(self, **fields) -> None:
        self._check_state()
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        postings = self._postings
        perdocwriter.start_doc(docnum)
        try:
            for fieldname in sorted(name for name in fields if not name.startswith("_")):
                value = fields[fieldname]
                if value is None:
                    continue
                field = schema[fieldname]
                length = 0
                if field.indexed:
                    scorable = field.scorable
                    if fieldname in SIDECAR_FIELDS:
                        # positions kept as numbers (for the postings file); Whoosh's encoded
                        # values are made from them block by block when the segment is flushed
                        if not isinstance(value, str):
                            raise TypeError(f"{fieldname} must be text, not {type(value).__name__}")
                        items = field.positions_by_term(value).items()
                        found = self._flat_for(fieldname, True).add(
                            docnum, ((term.encode("utf-8"), len(at), at) for term, at in items)
                        )
                        length = found if scorable else 0
                    elif type(field.format) in _COUNTED and field.format.field_boost == 1.0:
                        # ids and the spelling words: term numbers, documents and frequencies
                        found = self._flat_for(fieldname, False).add(
                            docnum, ((tbytes, freq, None) for tbytes, freq, _, _ in field.index(value))
                        )
                        length = found if scorable else 0
                    else:
                        terms = postings.get(fieldname)
                        if terms is None:
                            terms = postings[fieldname] = {}
                        for tbytes, freq, weight, vbytes in field.index(value):
                            if scorable:
                                length += freq
                            entry = terms.get(tbytes)
                            if entry is None:
                                entry = terms[tbytes] = (array("I"), array("f"), [])
                            entry[0].append(docnum)
                            entry[1].append(weight)
                            if vbytes:
                                entry[2].append(vbytes)
                perdocwriter.add_field(fieldname, field, value if field.stored else None, length)
                column = field.column_type
                if column:
                    perdocwriter.add_column_value(fieldname, column, field.to_column_value(value))
        except Exception:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    def _flat_for(self, fieldname: str, positional: bool) -> FlatPostings:
        flat = self._flat.get(fieldname)
        if flat is None:
            flat = self._flat[fieldname] = FlatPostings(positional)
        return flat

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        fieldwriter = self.fieldwriter
        for fieldname in sorted(set(self._postings) | set(self._flat)):
            fieldwriter.start_field(fieldname, self.schema[fieldname])
            if fieldname in self._flat:
                self._write_flat(fieldname, self._flat.pop(fieldname))
            else:
                self._write_terms(self._postings.pop(fieldname))
            fieldwriter.finish_field()
        fieldwriter.close()

    def _write_terms(self, terms: dict[bytes, tuple]) -> None:
        fieldwriter = self.fieldwriter
        for tbytes in sorted(terms):
            docs, weights, values = terms[tbytes]
            fieldwriter.start_term(tbytes)
            self._write_blocks(docs, weights, lambda start, end, values=values: values[start:end])
            fieldwriter.finish_term()
        terms.clear()

    def _write_flat(self, fieldname: str, flat: FlatPostings) -> None:
        fieldwriter = self.fieldwriter
        fmt = self.schema[fieldname].format
        words, starts, docs, freqs, pos_starts, positions = flat.sorted_by_term()
        weights = freqs.astype(np.float64)
        for i, tbytes in enumerate(words):
            start, end = int(starts[i]), int(starts[i + 1])
            term_freqs = freqs[start:end].tolist()
            if not flat.positional:
                values = _counted_values(fmt, term_freqs)
            else:
                term_positions = positions[pos_starts[i] : pos_starts[i + 1]].tolist()
                firsts = [0]
                for freq in term_freqs:
                    firsts.append(firsts[-1] + freq)

                def values(begin: int, stop: int, term_freqs=term_freqs, term_positions=term_positions, firsts=firsts):
                    return _encoded_positions(fmt, term_freqs[begin:stop], term_positions, firsts[begin])

            fieldwriter.start_term(tbytes)
            self._write_blocks(docs[start:end].tolist(), weights[start:end].tolist(), values)
            fieldwriter.finish_term()
        if flat.positional:
            self.sidecar.update(sidecar_arrays(fieldname, words, starts, docs, freqs, pos_starts, positions))

    def _write_blocks(self, docs, weights, values) -> None:
        """One term's postings, block by block; ``values(start, end)`` gives a block's values."""
        writer = self.fieldwriter._postwriter
        limit = writer._blocklimit
        count = len(docs)
        for start in range(0, count, limit):
            end = min(start + limit, count)
            writer._ids = docs[start:end]
            writer._weights = weights[start:end]
            writer._values = values(start, end)
            writer._maxweight = max(writer._weights)
            if end < count:
                writer._write_block()
        # the last (possibly partial) block is written as the last one by finish_term


# formats whose values follow from the frequency: none (Existence) or the frequency (Frequency)
_COUNTED = (formats.Existence, formats.Frequency)


def _counted_values(fmt, freqs: list[int]):
    if isinstance(fmt, formats.Frequency):
        return lambda begin, stop: [pack_uint(freq) for freq in freqs[begin:stop]]
    return lambda begin, stop: []


def _encoded_positions(fmt, freqs: list[int], positions: list[int], first: int) -> list[bytes]:
    """Whoosh's encoded positions of consecutive postings with ``freqs``, whose positions start
    at ``positions[first]``."""
    values = []
    for freq in freqs:
        if freq == 1:
            values.append(encoded_single_position(fmt, positions[first]))
        else:
            values.append(fmt.encode(positions[first : first + freq]))
        first += freq
    return values
