"""The bulk segment writer writes exactly the segment Whoosh's own writer writes: every term of
every field with the same documents, weights and encoded values (positions, frequencies)."""

from __future__ import annotations

from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.writing import SegmentWriter

from searchsvc.documents import parse_article
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
    return articles


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
                out[fieldname, term] = rows
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
    assert max(len(rows) for rows in ours.values()) > 256


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
