"""A Whoosh segment writer for bulk builds that keeps postings in memory as arrays and writes
them block by block, instead of sorting every posting through Whoosh's external-sort pool and
adding them one call at a time. The files it writes are ordinary Whoosh (W3 codec) segments.

Only for writers that add documents and nothing else (no deletions, merges or add_reader):
the full build uses it; incremental updates use Whoosh's own SegmentWriter.
"""

from __future__ import annotations

from array import array

from whoosh.writing import SegmentWriter

from searchsvc.engine.postings_file import SIDECAR_FIELDS, FieldArrays


class BulkSegmentWriter(SegmentWriter):
    """SegmentWriter whose postings bypass the sorting pool."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._postings: dict[str, dict[bytes, tuple]] = {}
        # the search fields' postings for the segment's postings file (postings_file.py),
        # gathered while the segment is flushed
        self.sidecar: dict[str, FieldArrays] = {}

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
                    terms = postings.get(fieldname)
                    if terms is None:
                        terms = postings[fieldname] = {}
                    scorable = field.scorable
                    if fieldname in SIDECAR_FIELDS and isinstance(value, str):
                        # also keep each posting's positions as numbers, for the postings file
                        for tbytes, freq, weight, vbytes, poslist in field.index_with_positions(value):
                            if scorable:
                                length += freq
                            entry = terms.get(tbytes)
                            if entry is None:
                                entry = terms[tbytes] = (array("I"), array("f"), [], array("I"))
                            entry[0].append(docnum)
                            entry[1].append(weight)
                            entry[2].append(vbytes)
                            entry[3].extend(poslist)
                    else:
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

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        fieldwriter = self.fieldwriter
        for fieldname in sorted(self._postings):
            terms = self._postings[fieldname]
            fieldwriter.start_field(fieldname, self.schema[fieldname])
            gathered = FieldArrays() if fieldname in SIDECAR_FIELDS else None
            for tbytes in sorted(terms):
                docs, weights, values = terms[tbytes][:3]
                if gathered is not None:
                    if len(terms[tbytes]) < 4:  # a value that was not text: no positions kept
                        gathered = None
                    else:
                        gathered.add(tbytes, docs, weights, terms[tbytes][3])
                fieldwriter.start_term(tbytes)
                writer = fieldwriter._postwriter
                limit = writer._blocklimit
                count = len(docs)
                for start in range(0, count, limit):
                    end = min(start + limit, count)
                    writer._ids = docs[start:end]
                    writer._weights = weights[start:end]
                    writer._values = values[start:end]
                    writer._maxweight = max(writer._weights)
                    if end < count:
                        writer._write_block()
                # the last (possibly partial) block is written as the last one by finish_term
                fieldwriter.finish_term()
            fieldwriter.finish_field()
            if gathered is not None:
                self.sidecar[fieldname] = gathered
            terms.clear()
        fieldwriter.close()
