"""The bulk segment writer writes exactly the segment Whoosh's own writer writes: every file of it
byte for byte, and read back, every term of every field with the same documents, weights, encoded
values (positions, frequencies) and term statistics."""

from __future__ import annotations

import pickle
from pathlib import Path

from whoosh import fields
from whoosh import index as whoosh_index
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.filetables import md5_hash
from whoosh.formats import Positions
from whoosh.system import pack_uint
from whoosh.util.numlists import GrowableArray
from whoosh.writing import SegmentWriter

from searchsvc.documents import parse_article
from searchsvc.engine.whoosh_engine.fast_writer import BulkSegmentWriter
from searchsvc.engine.whoosh_engine.term_table import _extend_index, _fast_hash, _InlineTails
from searchsvc.engine.whoosh_engine.writer import INDEX_NAME, article_fields, create_index, new_codec, write_full

SEED = Path(__file__).resolve().parents[1] / "seeds"


def _articles():
    articles = []
    for path in sorted(SEED.rglob("*.txt")) + sorted(SEED.rglob("*.md")):
        articles.extend(parse_article(str(path), path.read_bytes()).articles)
    # many documents sharing words, so terms span several 128-posting blocks
    template = articles[0]
    for n in range(300):
        text = " ".join(["India team news", "team wins again", "the team of India"][: 1 + n % 3])
        articles.append(
            template.__class__(**{**template.__dict__, "id": f"https://bulk.example/{n}", "title": f"{text} {n}"})
        )
    # stop words before and between words (positions close up), apostrophes, accents, a token
    # too long to be a term, a word repeated, empty fields
    giant = "x" * 80
    articles.append(
        template.__class__(
            **{
                **template.__dict__,
                "id": "https://bulk.example/tricky",
                "title": f"The of the India's Café d'Or {giant} India INDIA india",
                "excerpt": "",
                "body": f"and the {giant} the Fête of Noël, and the fête again: India's india",
                "topics": [],
            }
        )
    )
    return articles


def _segment_files(folder: Path) -> dict[str, bytes]:
    """The files inside the one segment of the index in ``folder``, by name without the segment id."""
    ix = whoosh_index.open_dir(str(folder), indexname=INDEX_NAME)
    (segment,) = ix._segments()
    compound = CompoundStorage(ix.storage.open_file(segment.make_filename(".seg")))
    return {name.replace(segment.segment_id(), ""): compound.open_file(name).read() for name in compound.list()}


def _postings(folder: Path) -> dict:
    ix = whoosh_index.open_dir(str(folder), indexname=INDEX_NAME)
    out = {}
    with ix.reader() as reader:
        for fieldname in ix.schema.names():
            if not ix.schema[fieldname].indexed:
                continue
            for term in reader.lexicon(fieldname):
                matcher = reader.postings(fieldname, term)
                rows = []
                while matcher.is_active():
                    rows.append((matcher.id(), matcher.weight(), matcher.value()))
                    matcher.next()
                info = reader.term_info(fieldname, term)
                stats = (info.weight(), info.doc_frequency(), info.max_weight(), info.min_id(), info.max_id())
                out[fieldname, term] = (rows, stats)
    return out


def test_bulk_writer_segments_hold_exactly_what_whoosh_writes(tmp_path: Path):
    articles = _articles()
    bulk, plain = tmp_path / "bulk", tmp_path / "plain"
    bulk.mkdir()
    plain.mkdir()
    write_full(bulk, articles)
    create_index(plain)
    writer = SegmentWriter(whoosh_index.open_dir(str(plain), indexname=INDEX_NAME), codec=new_codec())
    for article in articles:
        writer.add_document(**article_fields(article))
    writer.commit()

    ours, theirs = _postings(bulk), _postings(plain)
    assert len(ours) > 100
    assert ours == theirs
    assert max(len(rows) for rows, _ in ours.values()) > 256
    assert ours["title", b"india"][0][-1][1:] == (4.0, Positions().encode([3, 6, 7, 8]))
    # byte for byte: the term table, the postings, the stored fields and every column
    ours_files, theirs_files = _segment_files(bulk), _segment_files(plain)
    assert {".trm", ".pst", "._stored.col", "._body_len.col"} <= set(ours_files) == set(theirs_files)
    assert [name for name in sorted(ours_files) if ours_files[name] != theirs_files[name]] == []


def test_terms_in_one_document_are_inlined_and_read_the_same_after_a_merge(tmp_path: Path):
    from searchsvc.engine.whoosh_engine.writer import write_changes

    articles = _articles()
    folder = tmp_path / "index"
    folder.mkdir()
    write_full(folder, articles[:150])
    write_changes(folder, [], articles[150:])  # a second segment, for the merge
    ix = whoosh_index.open_dir(str(folder), indexname=INDEX_NAME)
    with ix.reader() as reader:
        first_segment = reader.leaf_readers()[0][0]
        assert len(ix._segments()) == 2
        # inlined in the term table: no block in the postings file
        assert type(first_segment.postings("id", articles[0].id)).__name__ == "ListMatcher"
    before = _postings(folder)

    writer = SegmentWriter(ix, codec=new_codec())
    writer.commit(optimize=True)  # Whoosh's own merge reads every posting back

    assert len(whoosh_index.open_dir(str(folder), indexname=INDEX_NAME)._segments()) == 1
    assert _postings(folder) == before


def test_fields_of_other_kinds_are_written_exactly_as_whoosh_writes_them(tmp_path: Path):
    # a boosted plain TEXT field and a keyword field take the bulk writer's per-term path
    schema = fields.Schema(
        key=fields.ID(stored=True, unique=True),
        plain=fields.TEXT(field_boost=2.0),
        tags=fields.KEYWORD(scorable=True, commas=True),
    )
    documents = [
        {
            "key": f"doc{n}",
            "plain": "filler " * (n % 5) + " ".join(["alpha beta", "beta gamma beta", "delta"][: 1 + n % 3]) + f" w{n}",
            "tags": ",".join(["red", "green", "blue"][: 1 + n % 3]),
        }
        for n in range(400)
    ]
    folders = []
    for bulk in (True, False):
        folder = tmp_path / ("bulk" if bulk else "plain")
        folder.mkdir()
        ix = whoosh_index.create_in(str(folder), schema, indexname=INDEX_NAME)
        writer = BulkSegmentWriter(ix, codec=new_codec()) if bulk else SegmentWriter(ix, codec=new_codec())
        for document in documents:
            writer.add_document(**document)
        writer.commit()
        folders.append(folder)

    ours, theirs = _segment_files(folders[0]), _segment_files(folders[1])
    assert {".trm", ".pst"} <= set(ours) == set(theirs)
    assert [name for name in sorted(ours) if ours[name] != theirs[name]] == []
    rows = _postings(folders[0])[("plain", b"beta")][0]
    assert len(rows) == 400 and rows[1][:2] == (1, 6.0)  # doc1 "alpha beta beta gamma beta w1": 3 × 2.0


def test_a_term_in_one_document_is_pickled_as_pickle_would_for_any_document_number():
    tails = _InlineTails()
    for doc in (0, 255, 256, 65_535, 65_536, 2**31 - 1, 2**31, 2**40):
        for weight, value in ((1.0, b""), (1.0, b"\x00\x01"), (2.5, pack_uint(7))):
            assert tails(doc, weight, value) == pickle.dumps(((doc,), (weight,), (value,)), 2)
    assert len(tails) == 3  # one template per weight and value, whatever the document


def test_term_hashes_are_whooshs_md5_hash():
    for key in (b"", b"\x00\x03india", "café".encode(), bytes(range(256))):
        assert _fast_hash(key) == md5_hash(key)


def test_record_starts_widen_the_index_array_as_whoosh_does():
    fast, plain = GrowableArray("H"), GrowableArray("H")
    for positions in ([0, 10, 65_535], [65_536, 2**31 - 1], [2**31, 2**32 - 1], [2**32]):
        _extend_index(fast, positions)
        plain.extend(positions)
        assert (fast.typecode, list(fast)) == (plain.typecode, list(plain))
    assert fast.typecode == "q"
