"""A snapshot's facet columns count a set of documents' values exactly as counting each
document's values one by one does, whichever way a column keeps them."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest

from searchsvc.engine.whoosh_engine.columns import MAX_BIT_VALUES, DayColumn, MultiValueColumn, ValueColumn


def _counted_one_by_one(raw: list[bytes], docs: list[int], values: list[str]) -> list[int]:
    counts = dict.fromkeys(values, 0)
    for doc in docs:
        for value in raw[doc].split(b"\x1f") if raw[doc] else []:
            counts[value.decode()] += 1
    return [counts[v] for v in values]


def test_a_few_values_are_counted_from_one_byte_per_document():
    raw = [b"sport\x1fworld", b"", b"world", b"tech\x1fsport\x1fworld", b"tech", b""] * 5
    column = MultiValueColumn(raw)
    assert column._bits is not None
    for docs in ([], [1], [0, 3], list(range(len(raw))), [2, 3, 4, 9, 27]):
        picked = np.array(docs, dtype=np.int64)
        assert column.counts(picked).tolist() == _counted_one_by_one(raw, docs, column.values)
        assert column.counts(picked).dtype == np.int64


def test_a_value_a_document_holds_twice_counts_twice_as_before():
    raw = [b"sport\x1fsport", b"world", b"sport"]
    column = MultiValueColumn(raw)
    assert column._bits is None
    assert column.counts(np.arange(3)).tolist() == [3, 1]


def test_more_values_than_fit_in_a_byte_are_counted_from_their_lists():
    names = [f"topic{i:02d}".encode() for i in range(MAX_BIT_VALUES + 1)]
    raw = [b"\x1f".join(names[i : i + 3]) for i in range(len(names))]
    column = MultiValueColumn(raw)
    assert column._bits is None
    docs = list(range(len(raw)))
    assert column.counts(np.array(docs)).tolist() == _counted_one_by_one(raw, docs, column.values)


def test_days_months_and_years_count_each_dated_document_once():
    dates = ["2024-01-31", "2024-02-01", "2024-02-01", None, "2023-12-31", "2024-02-29", None]
    has_date = np.array([d is not None for d in dates])
    day = np.array([(dt.date.fromisoformat(d) - dt.date(1970, 1, 1)).days if d else 0 for d in dates], np.int32)
    column = DayColumn(day, has_date)
    assert [str(d) for d in column.days.astype("datetime64[D]")] == [
        "2023-12-31",
        "2024-01-31",
        "2024-02-01",
        "2024-02-29",
    ]
    assert column.counts(np.arange(len(dates))).tolist() == [1, 1, 2, 1]
    assert column.counts(np.array([3, 6])).tolist() == [0, 0, 0, 0]
    assert [str(m) for m in column.months.astype("datetime64[M]")] == ["2023-12", "2024-01", "2024-02", "2024-02"]
    assert column.years.astype("datetime64[Y]").astype(str).tolist() == ["2023", "2024", "2024", "2024"]


def _article_extra(provider: str, topics: list[str], category: str, kind: str) -> str:
    lines = [
        f"category: {category}",
        f"type: {kind}",
        "provider:",
        f"  name: {provider}",
        f"  domain: {provider}.example",
    ]
    if topics:
        lines += ["topics:", *(f"  - {topic}" for topic in topics)]
    return "\n".join(lines)


def test_an_update_derives_the_columns_the_decoding_of_every_segment_gives(
    corpus, index_dir, write_article, monkeypatch
):
    from searchsvc.engine.whoosh_engine import column_cache
    from searchsvc.engine.whoosh_engine.generations import all_generations
    from searchsvc.engine.whoosh_engine.snapshot import Snapshot
    from searchsvc.indexer import build_index

    def write(i: int, provider: str, topics: list[str], title: str | None = None, day: int = 1) -> None:
        extra = _article_extra(provider, topics, ["news", "sport"][i % 2], ["article", "video"][i % 3 == 0])
        date = f"2022-07-{day:02d}T00:00:00Z"
        write_article(f"a{i:02d}.md", title or f"Story {i % 4}", f"https://example.com/{i}", date=date, extra=extra)

    for i in range(12):
        write(i, ["Zeta", "Alpha", "Mid"][i % 3], [["Politics"], ["AI", "Politics"], []][i % 3], day=1 + i % 5)
    build_index([corpus], index_dir)
    derivations = []
    original = column_cache._derived
    monkeypatch.setattr(column_cache, "_derived", lambda *a: derivations.append(original(*a)) or derivations[-1])

    steps = [
        # a changed article takes a provider and topic no other has; one value leaves entirely
        lambda: write(3, "Beta", ["Climate"], title="Story 1", day=9),
        lambda: (corpus / "a05.md").unlink(),
        # new titles repeat old ones (the same title key), a new provider sorts first
        lambda: [write(i, "Aardvark" if i == 20 else "Mid", ["AI"], day=2) for i in range(20, 23)],
        # every article of a provider gone: its value must go from the values too
        lambda: [(corpus / f"a{i:02d}.md").unlink() for i in (0, 6, 9)],
    ]
    for step in steps:
        step()
        build_index([corpus], index_dir)
        current = all_generations(index_dir)[-1]
        snapshot = Snapshot(current.path, current.name)
        try:
            decoded = column_cache._decoded(snapshot)
            with np.load(current.path / column_cache.CACHE_FILE) as saved:
                published = {name: saved[name] for name in saved.files}
        finally:
            snapshot.close()
        assert derivations[-1] is not None
        assert sorted(published) == sorted([*decoded, "signature"])
        for name, array in decoded.items():
            assert published[name].dtype == array.dtype, name
            assert np.array_equal(published[name], array), name
    assert len(derivations) == len(steps)


def test_columns_saved_before_the_title_keys_were_kept_are_decoded_instead(corpus, index_dir, write_article):
    from searchsvc.engine.whoosh_engine import column_cache
    from searchsvc.engine.whoosh_engine.generations import current_generation
    from searchsvc.engine.whoosh_engine.snapshot import Snapshot
    from searchsvc.indexer import build_index

    write_article("a.md", "Alpha", "https://example.com/a")
    build_index([corpus], index_dir)
    previous = current_generation(index_dir)
    path = previous.path / column_cache.CACHE_FILE
    with np.load(path) as saved:
        older = {name: saved[name] for name in saved.files if name != column_cache.TITLE_KEYS}
    np.savez(path, **older)
    snapshot = Snapshot(previous.path, previous.name)
    try:
        assert column_cache._derived(snapshot, previous.path) is None
    finally:
        snapshot.close()


@pytest.mark.parametrize("seed", range(40))
def test_merged_columns_equal_the_columns_of_the_new_layout_decoded_whole(seed):
    """Old segments A, B, C; the new generation keeps C and A (in that order), drops B and adds
    two new ones: each merged column equals decoding the new layout's values whole."""
    from searchsvc.engine.whoosh_engine import column_cache as cc

    rng = random.Random(seed)
    words = [b"", b"alpha", b"beta", b"gamma", b"zeta", "ünï".encode(), b"Alpha"]

    def single(n: int) -> list[bytes]:
        return [rng.choice(words) for _ in range(n)]

    def multi(n: int) -> list[bytes]:
        return [b"\x1f".join(rng.sample(words[1:], rng.randint(0, 3))) for _ in range(n)]

    sizes = {"A": rng.randint(0, 6), "B": rng.randint(0, 6), "C": rng.randint(0, 6)}
    starts = {"A": 0, "B": sizes["A"], "C": sizes["A"] + sizes["B"]}
    layout = ["C", "new", "A", "new"]
    news = [rng.randint(0, 5), rng.randint(0, 5)]
    leaves, fresh_at = [], iter(news)
    for name in layout:
        leaves.append((None, next(fresh_at)) if name == "new" else (starts[name], sizes[name]))

    for kind in ("single", "title", "topics"):
        make = multi if kind == "topics" else single
        old = {name: make(sizes[name]) for name in "ABC"}
        old_raw = old["A"] + old["B"] + old["C"]
        fresh_parts = [make(n) for n in news]
        parts = iter(fresh_parts)
        new_raw = [v for name in layout for v in (next(parts) if name == "new" else old[name])]
        fresh = [v for part in fresh_parts for v in part]
        if kind == "single":
            before, expected = ValueColumn(old_raw), ValueColumn(new_raw)
            ords, values = cc._merged_single(leaves, before.ords, before.values, fresh)
            assert values == expected.values
        elif kind == "title":
            before, expected = ValueColumn(old_raw, keep_values=False), ValueColumn(new_raw, keep_values=False)
            ords, keys = cc._merged_title_keys(leaves, before.ords, list(dict.fromkeys(old_raw)), fresh)
            assert keys == list(dict.fromkeys(new_raw))
        else:
            before, expected = MultiValueColumn(old_raw), MultiValueColumn(new_raw)
            saved = {
                "topics.ords": before.ords,
                "topics.values": cc._text_array(before.values),
                "topics.indptr": before.indptr,
            }
            merged = cc._merged_topics(leaves, saved, fresh)
            ords = merged["topics.ords"]
            assert cc._texts(merged["topics.values"]) == expected.values
            assert merged["topics.indptr"].tolist() == expected.indptr.tolist()
            assert merged["topics.doc_of"].tolist() == expected.doc_of.tolist()
        assert ords.dtype == expected.ords.dtype
        assert ords.tolist() == expected.ords.tolist()


def test_saved_columns_of_an_index_without_topics_are_loaded(corpus, index_dir, write_article):
    from searchsvc.engine.whoosh_engine import column_cache
    from searchsvc.engine.whoosh_engine.generations import current_generation
    from searchsvc.engine.whoosh_engine.snapshot import Snapshot
    from searchsvc.indexer import build_index

    write_article("a.md", "Alpha", "https://example.com/a")
    build_index([corpus], index_dir)
    generation = current_generation(index_dir)
    snapshot = Snapshot(generation.path, generation.name)
    try:
        loaded = column_cache.load(snapshot)
    finally:
        snapshot.close()

    assert loaded is not None
    assert loaded["topics"].values == []
    assert loaded["provider"].values == [""]


def test_saved_columns_are_read_in_place_from_one_mapping_and_a_compressed_file_is_refused(
    corpus, index_dir, write_article
):
    import mmap

    from searchsvc.engine.whoosh_engine import column_cache
    from searchsvc.engine.whoosh_engine.generations import current_generation
    from searchsvc.engine.whoosh_engine.snapshot import Snapshot
    from searchsvc.indexer import build_index

    for i in range(3):
        write_article(f"a{i}.md", f"Title {i}", f"https://example.com/{i}")
    build_index([corpus], index_dir)
    generation = current_generation(index_dir)
    path = generation.path / column_cache.CACHE_FILE
    with np.load(path) as saved:
        copied = {name: saved[name] for name in saved.files}

    mapped = column_cache.mapped_arrays(path)

    assert sorted(mapped) == sorted(copied)
    for name, array in copied.items():
        assert np.array_equal(mapped[name], array) and mapped[name].dtype == array.dtype, name
        assert not mapped[name].flags.writeable
        owner = mapped[name]
        while isinstance(owner, np.ndarray):
            owner = owner.base
        assert isinstance(owner.obj if isinstance(owner, memoryview) else owner, mmap.mmap), name
    np.savez_compressed(path, **copied)
    with pytest.raises(ValueError, match="is not a stored array"):
        column_cache.mapped_arrays(path)
    snapshot = Snapshot(generation.path, generation.name)
    try:
        assert column_cache.load(snapshot) is None  # decoded from the segments instead
        assert snapshot.provider.values == [""]
    finally:
        snapshot.close()
