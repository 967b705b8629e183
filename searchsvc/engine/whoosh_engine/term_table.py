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
from pickle import dumps

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
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
    hashfn, buckets, index_append = tindex.hashfn, tindex.buckets, tindex.index.append
    terms_tell, terms_write = terms_file.tell, terms_file.write
    posts_tell, posts_write = posts_file.tell, posts_file.write
    prefix = pack_ushort(fieldwriter._fieldid)
    pack_info, pack_lengths = _TERM_INFO.pack, _RECORD_LENGTHS.pack
    starts = memoryview(np.ascontiguousarray(starts, dtype=np.int64))
    # slices of memoryviews make lists of Python ints and floats at C speed, a term at a time
    all_docs = memoryview(np.ascontiguousarray(docs, dtype=np.int64))
    all_weights = memoryview(np.asarray(freqs, dtype=np.float64))
    key = b""
    for i, word in enumerate(words):
        start, end = starts[i], starts[i + 1]
        ids, weights = all_docs[start:end].tolist(), all_weights[start:end].tolist()
        count = end - start
        weight = sum(weights)
        if count < inline_limit:
            # as InliningPostingsWriter: a format without values stores b"" for each posting
            term_values = values(start, end) or [b""] * count
            record = pack_info(True, weight, count, *_NO_LENGTHS, max(weights), ids[0], ids[-1])
            record += dumps((tuple(ids), tuple(weights), tuple(term_values)), 2)
        else:
            offset = posts_tell()
            posts_write(WHOOSH3_HEADER_MAGIC)
            for begin in range(0, count, block_limit):
                stop = min(begin + block_limit, count)
                block_ids, block_weights = ids[begin:stop], weights[begin:stop]
                block_values = values(start + begin, start + stop)
                # each block's ids are deltas from 0 (delta_encode of the block)
                deltas = [b - a for a, b in zip([0, *block_ids[:-1]], block_ids, strict=True)]
                data = dumps((tuple(deltas), _mini_weights(block_weights), _mini_values(fixed_size, block_values)), 2)
                info = dumps((len(block_ids), block_ids[-1], max(block_weights), 0, *_NO_LENGTHS), 2)
                length = len(info) + len(data)
                posts_write(pack_int(-length if stop == count else length) + info + data)
            record = pack_info(False, weight, count, *_NO_LENGTHS, max(weights), ids[0], ids[-1])
            record += pack_long(offset) + pack_int(posts_tell() - offset)
        key = prefix + word
        position = terms_tell()
        index_append(position)
        terms_write(pack_lengths(len(key), len(record)) + key + record)
        hashed = hashfn(key)
        buckets[hashed & 255].append((hashed, position))
    if words:
        tindex.lastkey = key


def _mini_weights(weights: list[float]):
    # as W3PostingsWriter._mini_weights: None when all are 1, one number when all are equal
    first = weights[0]
    if first == 1.0 and all(w == 1.0 for w in weights):
        return None
    if all(w == first for w in weights):
        return first
    return tuple(weights)


def _mini_values(fixed_size: int | None, values: list[bytes]):
    # as W3PostingsWriter._mini_values
    if fixed_size is None or fixed_size < 0:
        return tuple(values)
    if fixed_size == 0:
        return None
    return b"".join(values)
