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
from whoosh.codec.whoosh3 import LENGTHS_COLUMN
from whoosh.system import pack_uint
from whoosh.util.numeric import length_to_byte
from whoosh.writing import SegmentWriter

from searchsvc.engine.whoosh_engine.postings_file import SIDECAR_FIELDS, sidecar_arrays
from searchsvc.engine.whoosh_engine.schema import FastText, single_positions
from searchsvc.engine.whoosh_engine.segment_postings import FlatPostings, TokenPostings
from searchsvc.engine.whoosh_engine.term_table import write_field_terms


class BulkSegmentWriter(SegmentWriter):
    """SegmentWriter whose postings bypass the sorting pool."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._postings: dict[str, dict[bytes, tuple]] = {}  # fields of other kinds: postings per term
        self._flat: dict[str, FlatPostings | TokenPostings] = {}  # ids; text fields' tokens
        # the search fields' postings for the segment's postings file (postings_file.py),
        # gathered while the segment is flushed
        self.sidecar: dict[str, np.ndarray] = {}
        self._plans: dict[str, tuple] = {}

    def add_document(self, **fields) -> None:
        self._check_state()
        perdocwriter = self.perdocwriter
        docnum = self.docnum
        perdocwriter.start_doc(docnum)
        stored = perdocwriter._storedfields  # what finish_doc pickles (W3PerDocWriter.add_field)
        try:
            for fieldname in sorted(name for name in fields if not name.startswith("_")):
                value = fields[fieldname]
                if value is None:
                    continue
                field, kind, length_column = self._plan(fieldname)
                length = 0
                if kind == _TOKENS or (kind == _TEXT_COUNTED and isinstance(value, str)):
                    # the search fields keep positions as numbers (for the postings file);
                    # Whoosh's encoded values are made from them block by block when the
                    # segment is flushed. The spelling words keep frequencies only.
                    if not isinstance(value, str):
                        raise TypeError(f"{fieldname} must be text, not {type(value).__name__}")
                    length = self._tokens_for(fieldname).add(docnum, field.token_terms(value))
                elif kind in (_COUNTED_TERMS, _TEXT_COUNTED):
                    # ids: term numbers, documents and frequencies
                    length = self._flat_for(fieldname).add(
                        docnum, ((tbytes, freq) for tbytes, freq, _, _ in field.index(value))
                    )
                elif kind == _TERMS:
                    length = self._add_terms(fieldname, field, value, docnum)
                if field.stored:
                    stored[fieldname] = value
                if length and field.scorable:
                    self._column(length_column, LENGTHS_COLUMN).add(docnum, length_to_byte(length))
                    perdocwriter._fieldlengths[fieldname] += length
                column = field.column_type
                if column:
                    self._column(fieldname, column).add(docnum, field.to_column_value(value))
        except Exception:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    def _plan(self, fieldname: str) -> tuple:
        """(field, how its postings are kept, its length column): decided once per field."""
        plan = self._plans.get(fieldname)
        if plan is None:
            field = self.schema[fieldname]
            fmt = field.format
            if not field.indexed:
                kind = None
            elif fieldname in SIDECAR_FIELDS:
                kind = _TOKENS
            elif isinstance(field, FastText) and type(fmt) in _COUNTED:
                kind = _TEXT_COUNTED
            elif type(fmt) in _COUNTED and fmt.field_boost == 1.0:
                kind = _COUNTED_TERMS
            else:
                kind = _TERMS
            plan = self._plans[fieldname] = (field, kind, f"_{fieldname}_len")  # W3's name for it
        return plan

    def _add_terms(self, fieldname: str, field, value, docnum: int) -> int:
        terms = self._postings.get(fieldname)
        if terms is None:
            terms = self._postings[fieldname] = {}
        length = 0
        for tbytes, freq, weight, vbytes in field.index(value):
            length += freq
            entry = terms.get(tbytes)
            if entry is None:
                entry = terms[tbytes] = (array("I"), array("f"), [])
            entry[0].append(docnum)
            entry[1].append(weight)
            if vbytes:
                entry[2].append(vbytes)
        return length

    def _column(self, name: str, column):
        """The per-document writer's column ``name`` (created on first use, as add_column_value
        does)."""
        writers = self.perdocwriter._colwriters
        writer = writers.get(name)
        if writer is None:
            self.perdocwriter._create_column(name, column)
            writer = writers[name]
        return writer

    def _tokens_for(self, fieldname: str) -> TokenPostings:
        tokens = self._flat.get(fieldname)
        if tokens is None:
            tokens = self._flat[fieldname] = TokenPostings(fieldname in SIDECAR_FIELDS)
        return tokens

    def _flat_for(self, fieldname: str) -> FlatPostings:
        flat = self._flat.get(fieldname)
        if flat is None:
            flat = self._flat[fieldname] = FlatPostings()
        return flat

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        fieldwriter = self.fieldwriter
        for fieldname in sorted(set(self._postings) | set(self._flat)):
            fieldwriter.start_field(fieldname, self.schema[fieldname])
            if fieldname in self._flat:
                self._write_flat(fieldname, self._flat.pop(fieldname))
            else:
                self._write_terms(fieldname, self._postings.pop(fieldname))
            fieldwriter.finish_field()
        fieldwriter.close()

    def _write_terms(self, fieldname: str, terms: dict[bytes, tuple]) -> None:
        """Write postings gathered per term (fields of other kinds than the text fields and ids)."""
        words = sorted(terms)
        docs, weights, values, starts = array("I"), array("f"), [], [0]
        for word in words:
            term_docs, term_weights, term_values = terms.pop(word)
            docs.extend(term_docs)
            weights.extend(term_weights)
            values.extend(term_values)  # none for a format without values (as Whoosh buffers them)
            starts.append(len(docs))
        write_field_terms(
            self.fieldwriter,
            self.schema[fieldname].format,
            words,
            np.array(starts, dtype=np.int64),
            np.frombuffer(docs, dtype=np.uint32),
            np.frombuffer(weights, dtype=np.float32),
            lambda begin, end: values[begin:end],
        )

    def _write_flat(self, fieldname: str, flat: FlatPostings | TokenPostings) -> None:
        fmt = self.schema[fieldname].format
        words, starts, docs, freqs, pos_starts, positions = flat.sorted_by_term()
        if flat.positional:
            values = _position_values(fmt, freqs, positions)
        else:
            values = _counted_values(fmt, freqs)
        write_field_terms(self.fieldwriter, fmt, words, starts, docs, freqs, values)
        if flat.positional:
            self.sidecar.update(sidecar_arrays(fieldname, words, starts, docs, freqs, pos_starts, positions))


# formats whose values follow from the frequency: none (Existence) or the frequency (Frequency)
_COUNTED = (formats.Existence, formats.Frequency)
# how a field's postings are kept: tokens (the search fields), tokens when the value is text
# (other text fields with counts only: the spelling words), postings with counts (ids), or
# postings with values per term (any other kind)
_TOKENS, _TEXT_COUNTED, _COUNTED_TERMS, _TERMS = "tokens", "text counted", "counted terms", "terms"


def _counted_values(fmt, freqs):
    """``values(begin, end)`` of a format whose values follow from the frequency: none
    (Existence) or the frequency itself (Frequency)."""
    if isinstance(fmt, formats.Frequency):
        counts = memoryview(np.ascontiguousarray(freqs, dtype=np.int64))
        return lambda begin, end: [pack_uint(freq) for freq in counts[begin:end].tolist()]
    return lambda begin, end: []


def _position_values(fmt, freqs, positions):
    """``values(begin, end)``: Whoosh's encoded positions of postings ``begin:end`` (``freqs``
    positions each, one after another in ``positions``)."""
    counts = memoryview(np.ascontiguousarray(freqs, dtype=np.int64))
    firsts = memoryview(np.cumsum(counts, dtype=np.int64) - counts)  # each posting's first position
    at = memoryview(np.ascontiguousarray(positions, dtype=np.int64))
    single = single_positions(fmt)

    def values(begin: int, end: int) -> list[bytes]:
        term_freqs = counts[begin:end].tolist()
        term_positions = at[firsts[begin] : firsts[end - 1] + term_freqs[-1]].tolist()
        if len(term_positions) == len(term_freqs):  # one position each: most postings
            return list(map(single.__getitem__, term_positions))
        values, first = [], 0
        for freq in term_freqs:
            if freq == 1:
                values.append(single[term_positions[first]])
            else:
                values.append(fmt.encode(term_positions[first : first + freq]))
            first += freq
        return values

    return values
