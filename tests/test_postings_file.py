"""Each segment's postings file answers exactly as the Whoosh segment beside it does, for every
word of every search field, after full builds and incremental updates alike; a segment without
one (or with a broken one) is read through Whoosh."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from searchsvc.engine.whoosh_engine.evaluator import Evaluator
from searchsvc.engine.whoosh_engine.generations import current_generation
from searchsvc.engine.whoosh_engine.postings_file import (
    MAX_TERM_BYTES,
    SIDECAR_FIELDS,
    SUFFIX,
    TERM_BLOCK,
    open_sidecar,
    sidecar_arrays,
    write_sidecar,
)
from searchsvc.engine.whoosh_engine.query_parser import make_parser, parse_user_query
from searchsvc.engine.whoosh_engine.snapshot import Snapshot
from searchsvc.indexer import build_index

# longer in UTF-8 than the postings files hold (read through Whoosh), within the token length
LONG_WORD = "ж" * (MAX_TERM_BYTES // 2 + 3)
ARTICLES = [
    ("a.md", "India team wins the cup", "The India team beat Australia; team spirit, India said."),
    ("b.md", "Team India loses", "A loss for team India in the final over, the team said."),
    ("c.md", "Cup final tickets", f"Tickets for the cup final: {LONG_WORD} and more tickets."),
    ("d.md", "Weather in Delhi", "Rain in Delhi; the India Meteorological Department warns of rain."),
]


def _write_corpus(write_article, articles=ARTICLES) -> None:
    for i, (name, title, body) in enumerate(articles):
        write_article(name, title, f"https://news.example/{name}", body=body, mtime=i)


def _snapshots(index_dir: Path) -> tuple[Snapshot, Snapshot]:
    """The current generation read with its postings files, and read through Whoosh only."""
    generation = current_generation(index_dir)
    with_files = Snapshot(generation.path, generation.name)
    whoosh_only = Snapshot(generation.path, generation.name)
    whoosh_only.sidecars = [None] * len(whoosh_only.sidecars)
    return with_files, whoosh_only


def _all_words(snapshot: Snapshot) -> list[tuple[str, str]]:
    words = set()
    for leaf, _ in snapshot.leaves:
        for field in SIDECAR_FIELDS:
            words.update((field, term.decode("utf-8")) for term in leaf.lexicon(field))
    return sorted(words)


def _assert_same_postings(index_dir: Path) -> None:
    fast, slow = _snapshots(index_dir)
    words = _all_words(fast)
    assert len(words) > 25
    for field, word in words:
        fast_docs, fast_freqs = fast.postings(field, word)
        slow_docs, slow_freqs = slow.postings(field, word)
        assert fast_docs.tolist() == slow_docs.tolist(), (field, word)
        assert fast_freqs.tolist() == slow_freqs.tolist(), (field, word)
        every = np.flatnonzero(fast.live).astype(np.int32)
        assert fast.position_keys(field, word, every).tolist() == slow.position_keys(field, word, every).tolist()


def test_a_full_build_writes_one_postings_file_per_segment(write_article, corpus, index_dir):
    _write_corpus(write_article)
    build_index([corpus], index_dir, full=True)
    generation = current_generation(index_dir)
    snapshot = Snapshot(generation.path, generation.name)

    files = sorted(p.name for p in generation.path.iterdir() if p.name.endswith(SUFFIX))
    segments = sorted(leaf.segment().segment_id() + SUFFIX for leaf, _ in snapshot.leaves)
    assert files == segments
    assert all(sidecar is not None for sidecar in snapshot.sidecars)


def test_postings_files_give_exactly_what_whoosh_gives_for_every_word(write_article, corpus, index_dir):
    _write_corpus(write_article)
    build_index([corpus], index_dir, full=True)

    _assert_same_postings(index_dir)


def test_an_incremental_update_writes_postings_files_for_its_segments(write_article, corpus, index_dir):
    _write_corpus(write_article)
    build_index([corpus], index_dir, full=True)
    write_article("e.md", "Team spirit in Delhi", "https://news.example/e.md", body="India team in Delhi.", mtime=10)
    (corpus / "b.md").unlink()
    build_index([corpus], index_dir)
    generation = current_generation(index_dir)
    snapshot = Snapshot(generation.path, generation.name)

    assert len(snapshot.leaves) >= 2
    assert all(sidecar is not None for sidecar in snapshot.sidecars)
    _assert_same_postings(index_dir)
    docs, _ = snapshot.postings("title", "team")
    titles = sorted(snapshot.stored(d)["title"] for d in docs)
    assert titles == ["India team wins the cup", "Team spirit in Delhi"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"india team"', ["India team wins the cup"]),
        ('"team india"', ["Team India loses"]),
        ("india team", ["India team wins the cup", "Team India loses"]),
        ('"cup final"', ["Cup final tickets"]),
        (LONG_WORD, ["Cup final tickets"]),
        ('"india meteorological department"', ["Weather in Delhi"]),
        ('"meteorological india"', []),
    ],
)
def test_queries_match_the_same_documents_with_and_without_postings_files(
    write_article, corpus, index_dir, text, expected
):
    _write_corpus(write_article)
    build_index([corpus], index_dir, full=True)
    fast, slow = _snapshots(index_dir)
    parsed = parse_user_query(make_parser(fast.ix.schema), text)

    results = []
    for snapshot in (fast, slow):
        docs, scores = Evaluator(snapshot, text).run(parsed)
        results.append((sorted(snapshot.stored(d)["title"] for d in docs), np.round(scores, 5).tolist()))
    assert results[0] == results[1]
    assert results[0][0] == expected


def test_a_missing_or_broken_postings_file_falls_back_to_whoosh(write_article, corpus, index_dir):
    _write_corpus(write_article)
    build_index([corpus], index_dir, full=True)
    generation = current_generation(index_dir)
    for path in generation.path.iterdir():
        if path.name.endswith(SUFFIX):
            path.write_bytes(b"not a postings file")
    snapshot = Snapshot(generation.path, generation.name)

    assert snapshot.sidecars == [None] * len(snapshot.leaves)
    docs, _ = snapshot.postings("title", "india")
    assert sorted(snapshot.stored(d)["title"] for d in docs) == ["India team wins the cup", "Team India loses"]


def test_words_in_several_posting_blocks_read_the_same_both_ways(write_article, corpus, index_dir):
    # Whoosh writes 128 postings per block: 300 articles put "team" in three blocks, with one
    # to three positions per article
    articles = [
        (f"n{i:03}.md", f"Match report {i}", " ".join(["team scores", "team wins", "the team"][: 1 + i % 3]))
        for i in range(300)
    ]
    _write_corpus(write_article, articles)
    build_index([corpus], index_dir, full=True)

    _assert_same_postings(index_dir)
    fast, _ = _snapshots(index_dir)
    docs, freqs = fast.postings("body", "team")
    assert (len(docs), sorted(set(freqs.tolist()))) == (300, [1.0, 2.0, 3.0])


def test_an_update_of_an_index_without_postings_files_writes_them_for_new_segments_only(
    write_article, corpus, index_dir
):
    _write_corpus(write_article)
    build_index([corpus], index_dir, full=True)
    old = current_generation(index_dir)
    for path in old.path.iterdir():
        if path.name.endswith(SUFFIX):
            path.unlink()  # as an index built before postings files existed
    write_article("e.md", "Team spirit in Delhi", "https://news.example/e.md", body="India team in Delhi.", mtime=10)
    build_index([corpus], index_dir)
    generation = current_generation(index_dir)
    snapshot = Snapshot(generation.path, generation.name)

    assert [sidecar is not None for sidecar in snapshot.sidecars] == [False, True]
    _assert_same_postings(index_dir)
    docs, _ = snapshot.postings("title", "team")
    assert sorted(snapshot.stored(d)["title"] for d in docs) == [
        "India team wins the cup",
        "Team India loses",
        "Team spirit in Delhi",
    ]


def test_a_word_is_found_in_any_block_of_a_long_word_list(tmp_path):
    # more words than one lookup block holds: every word, and words between, before and after
    # them, are found (or not) where a binary search of the whole list finds them
    words = sorted({f"w{i * 7919 % 100_003:06d}".encode() for i in range(1, 700)})
    docs = np.arange(len(words), dtype=np.int32)
    ones = np.ones(len(words), dtype=np.uint32)
    starts = np.arange(len(words) + 1, dtype=np.int64)
    arrays = sidecar_arrays("title", words, starts, docs, ones, starts, np.zeros(len(words), dtype=np.uint32))
    write_sidecar(tmp_path / "seg.postings", arrays)
    postings = open_sidecar(tmp_path, "seg")
    field = postings.fields["title"]
    assert len(words) > 5 * TERM_BLOCK
    probes = words + [w + b"0" for w in words] + [w[:-1] for w in words] + [b"", b"a", b"w", b"x", b"\xff"]
    for probe in probes:
        expected = words.index(probe) if probe in words else -1
        assert postings._find(field, probe) == expected, probe
        found, _ = postings.postings("title", probe)
        assert found.tolist() == ([expected] if expected >= 0 else [])
    postings.close()
