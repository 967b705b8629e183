"""A field's postings written straight into a Whoosh (W3 codec) segment's term table and postings
file, a term at a time, for the bulk writer: the same bytes Whoosh's field writer writes for the
postings it is given one call at a time (a term info object, a postings buffer and a block
object per term, and an ordered-hash writer per term record), without those objects.

What it writes (whoosh-reloaded 2.7.5, codec/whoosh3.py and filedb/filetables.py): a term in
fewer than ``inlinelimit`` documents keeps its postings in its term record (pickled); the others
get blocks of at most ``blocklimit`` postings in the postings file (a magic header before the
first; each block its length, negative for the last, a pickled block info and pickled data).
No per-block length statistics (SearchsvcCodec has none). tests/test_fast_writer.py compares
every file of a segment with the one Whoosh's own writer makes of the same documents.
"""

from __future__ import annotations

import struct
from array import array
from hashlib import md5
from pickle import dumps

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.filedb.filetables import md5_hash
from whoosh.system import pack_int, pack_long, pack_ushort

_TERM_INFO = W3TermInfo._struct  # flags, weight, doc freq, min/max length byte, max weight, first/last id
_RECORD_LENGTHS = struct.Struct("!ii")  # a hash-file record: key and value lengths
_NO_LENGTHS = (0, 0)  # min and max length bytes without length statistics (length_to_byte(None) and (0))


def write_field_terms(fieldwriter, fmt, words, starts, docs, freqs, values) -> None:
    """Write one field's terms (``fieldwriter.start_field`` called): ``words`` sorted, term ``i``'s
    postings at ``starts[i]:starts[i+1]`` of ``docs`` (ascending per term) and ``freqs`` (their
    weights); ``values(begin, end)`` gives the encoded values of postings ``begin:end``."""
    postwriter = fieldwriter._postwriter
    inline_limit, block_limit = postwriter._inlinelimit, postwriter._blocklimit
    fixed_size = fmt.fixed_value_size()
    tindex = fieldwriter._tindex
    terms_file, posts_file = tindex.dbfile.file, fieldwriter._postfile.file
    hashfn, buckets = _fast_hash if tindex.hashfn is md5_hash else tindex.hashfn, tindex.buckets
    terms_write, posts_write = terms_file.write, posts_file.write
    # where each record starts, counted here rather than asked of the files a record at a time
    terms_at, posts_at = terms_file.tell(), posts_file.tell()
    prefix = pack_ushort(fieldwriter._fieldid)
    pack_info, pack_lengths = _TERM_INFO.pack, _RECORD_LENGTHS.pack
    inline_tail = _InlineTails()
    starts = memoryview(np.ascontiguousarray(starts, dtype=np.int64))
    docs = np.ascontiguousarray(docs, dtype=np.int64)
    # slices of memoryviews make lists of Python ints and floats at C speed, a term at a time
    all_docs = memoryview(docs)
    all_weights = memoryview(np.asarray(freqs, dtype=np.float64))
    # each posting's document less the one before it: a block's ids are these deltas, its first
    # id itself (delta_encode of the block)
    all_deltas = memoryview(np.diff(docs, prepend=0))
    record_starts = []
    key = b""
    for i, word in enumerate(words):
        start, end = starts[i], starts[i + 1]
        count = end - start
        if count == 1 and inline_limit > 1:
            # a term in one document (most of them): its pickled postings made from a template
            doc, weight = all_docs[start], all_weights[start]
            value = values(start, end)
            record = pack_info(True, weight, 1, *_NO_LENGTHS, weight, doc, doc) + inline_tail(
                doc, weight, value[0] if value else b""
            )
        else:
            ids, weights = all_docs[start:end].tolist(), all_weights[start:end].tolist()
            weight = sum(weights)
            if count < inline_limit:
                # as InliningPostingsWriter: a format without values stores b"" for each posting
                term_values = values(start, end) or [b""] * count
                record = pack_info(True, weight, count, *_NO_LENGTHS, max(weights), ids[0], ids[-1])
                record += dumps((tuple(ids), tuple(weights), tuple(term_values)), 2)
            else:
                blocks = _blocks(ids, weights, all_deltas[start:end], values, start, block_limit, fixed_size)
                posts_write(blocks)
                record = pack_info(False, weight, count, *_NO_LENGTHS, max(weights), ids[0], ids[-1])
                record += pack_long(posts_at) + pack_int(len(blocks))
                posts_at += len(blocks)
        key = prefix + word
        record_starts.append(terms_at)
        entry = pack_lengths(len(key), len(record)) + key + record
        terms_write(entry)
        hashed = hashfn(key)
        buckets[hashed & 255].append((hashed, terms_at))
        terms_at += len(entry)
    _extend_index(tindex.index, record_starts)
    if words:
        tindex.lastkey = key


def _blocks(ids: list, weights: list, deltas, values, start: int, block_limit: int, fixed_size) -> bytes:
    """A term's postings as the postings file holds them: a magic header, then blocks of at most
    ``block_limit`` postings (each its length, negative for the last, a pickled block info and
    pickled data). ``deltas``: each posting's document less the one before it."""
    count = len(ids)
    parts = [WHOOSH3_HEADER_MAGIC]
    for begin in range(0, count, block_limit):
        stop = min(begin + block_limit, count)
        block_ids, block_weights = ids[begin:stop], weights[begin:stop]
        block_values = values(start + begin, start + stop)
        block_deltas = deltas[begin:stop].tolist()
        block_deltas[0] = block_ids[0]  # each block's ids are deltas from 0 (delta_encode of the block)
        data = dumps((tuple(block_deltas), _mini_weights(block_weights), _mini_values(fixed_size, block_values)), 2)
        info = dumps((len(block_ids), block_ids[-1], max(block_weights), 0, *_NO_LENGTHS), 2)
        length = len(info) + len(data)
        parts += (pack_int(-length if stop == count else length), info, data)
    return b"".join(parts)


def _fast_hash(key: bytes) -> int:
    # whoosh's md5_hash (the hash's last 32 bits) without formatting it in hexadecimal first
    return int.from_bytes(md5(key, usedforsecurity=False).digest()[-4:], "big")


class _InlineTails(dict):
    """(weight, value) -> the pickle of ``((doc,), (weight,), (value,))`` after its first
    ``_ID_AT`` bytes (protocol 2 and the opcode of a document number 0), which do not depend on
    the document number: the record of a term in one document is then the protocol, the
    document's opcode and this tail, as ``pickle.dumps`` makes it."""

    def __call__(self, doc: int, weight: float, value: bytes) -> bytes:
        if doc > 0x7FFFFFFF:  # a long: pickled otherwise
            return dumps(((doc,), (weight,), (value,)), 2)
        try:
            tail = self[weight, value]
        except KeyError:
            tail = self[weight, value] = dumps(((0,), (weight,), (value,)), 2)[_ID_AT:]
        if doc < 0x100:
            return b"\x80\x02K" + doc.to_bytes(1, "little") + tail
        if doc < 0x10000:
            return b"\x80\x02M" + doc.to_bytes(2, "little") + tail
        return b"\x80\x02J" + doc.to_bytes(4, "little") + tail


_ID_AT = len(b"\x80\x02K\x00")  # protocol 2, then BININT1 0


def _extend_index(index, positions: list[int]) -> None:
    """Append ``positions`` (ascending) to an OrderedHashWriter's GrowableArray of record starts,
    at C speed when the array's type holds the last of them (else one at a time, as Whoosh
    widens the type)."""
    if not positions:
        return
    if isinstance(index.array, array):
        try:
            array(index.array.typecode, positions[-1:])
        except OverflowError:
            pass
        else:
            index.array.extend(positions)
            return
    index.extend(positions)


def _mini_weights(weights: list[float]):
    # as W3PostingsWriter._mini_weights: None when all are 1, one number when all are equal
    first = weights[0]
    if weights.count(first) == len(weights):
        return None if first == 1.0 else first
    return tuple(weights)


def _mini_values(fixed_size: int | None, values: list[bytes]):
    # as W3PostingsWriter._mini_values
    if fixed_size is None or fixed_size < 0:
        return tuple(values)
    if fixed_size == 0:
        return None
    return b"".join(values)
