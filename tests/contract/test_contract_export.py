"""The contract of exports (``SearchEngine.export``): every result of a search, the same hits in
the same order as paging through ``search`` with the same filters, sort, collapse and relaxed
matching, with the same totals; at most ``limit``; read in batches (a batch size of two here, so
that the hits of one export come from many batches) and released when closed."""

from __future__ import annotations

import pytest
from contract_support import OPENSEARCH_URL, names, request

from searchsvc.engine.opensearch_engine import export as opensearch_export
from searchsvc.engine.whoosh_engine import export as whoosh_export

REQUESTS = [
    {},  # every article, newest first, syndicated copies folded
    {"collapse": "false"},
    {"q": "solar OR battery OR rocket OR glacier"},
    {"q": "rocket", "sort": "oldest"},
    {"q": "rocket", "sort": "newest"},
    {"q": "solar battery"},  # relaxed: one article holds both words
    {"q": "solar battery villages telescope rocket", "collapse": "false"},  # relaxed, long
    {"topic": "space", "sort": "quality", "collapse": "false"},
    {"provider": "Orbit Observer", "q": "rocket"},
    {"from": "2023-06-30", "to": "2023-07-01", "sort": "oldest"},
]


def every_page(engine, params: dict) -> tuple[list, object]:
    """The hits of every page of a search (default page size), and its first page."""
    first = engine.search(request(**params))
    hits = list(first.hits)
    page = 2
    while len(hits) < first.total:
        hits += engine.search(request(**params, page=str(page))).hits
        page += 1
    return hits, first


def without_highlights(hits) -> list[tuple]:
    return [
        (h.id, h.title, h.excerpt, h.url, h.provider, h.domain, h.published, h.topics, h.score, h.category, h.type)
        + (h.quality, h.duplicates, h.image, h.related_to, h.related_ids)
        for h in hits
    ]


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(opensearch_export, "BATCH_SIZE", 2)
    monkeypatch.setattr(whoosh_export, "BATCH", 2)


@pytest.mark.parametrize("params", REQUESTS, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()) or "all")
def test_an_export_yields_the_hits_of_every_page_of_the_search_in_order(engine, params, small_batches):
    paged, first = every_page(engine, params)
    stream = engine.export(request(**params))
    exported = list(stream.hits)

    assert names(exported) == names(paged)
    assert without_highlights(exported) == without_highlights(paged)
    assert (stream.total, stream.folded, stream.relaxed, stream.view) == (
        first.total,
        first.folded,
        first.relaxed,
        first.view,
    )
    assert all(hit.highlights == {} for hit in exported)


def test_an_export_of_the_whole_corpus_counts_what_a_search_counts(engine, small_batches):
    stream = engine.export(request())

    assert (stream.total, stream.folded, len(list(stream.hits))) == (19, 1, 19)


@pytest.mark.parametrize("limit", [1, 2, 5, 19, 50])
def test_an_export_with_a_limit_yields_the_first_results_only(engine, limit, small_batches):
    paged, _ = every_page(engine, {"q": "solar OR battery OR rocket OR glacier OR storm"})
    stream = engine.export(request(q="solar OR battery OR rocket OR glacier OR storm"), limit=limit)

    assert names(list(stream.hits)) == names(paged)[:limit]
    assert stream.total == len(paged)


def test_an_export_without_results_yields_nothing(engine):
    stream = engine.export(request(q="zzzunknownword"))

    assert (stream.total, list(stream.hits)) == (0, [])


def test_an_export_reads_the_view_it_was_given(engine):
    view = engine.view()
    stream = engine.export(request(topic="space"), view)

    assert stream.view == view.name
    assert len(list(stream.hits)) == engine.search(request(topic="space"), view).total


def test_an_export_over_a_query_limit_is_refused_before_it_yields(corpus_index):
    from searchsvc.errors import QueryTooExpensive

    engine = corpus_index.open(max_query_terms=2)
    try:
        with pytest.raises(QueryTooExpensive, match="max_query_terms"):
            engine.export(request(q="solar battery rocket"))
    finally:
        engine.close()


def test_an_export_closed_after_one_hit_releases_its_point_in_time(engine, engine_name, small_batches):
    stream = engine.export(request())
    first = next(iter(stream.hits))
    opened = open_pits(engine) if engine_name == "opensearch" else None
    stream.close()

    assert first.id
    assert list(stream.hits) == []
    if engine_name == "opensearch":
        assert opened >= 1
        assert open_pits(engine) == opened - 1


def open_pits(engine) -> int:
    """Points in time open on the cluster (other sessions' included: compared before and after)."""
    assert OPENSEARCH_URL
    return len(engine.cluster.client.get_all_pits().get("pits", []))


def test_an_export_refused_for_its_size_leaves_no_point_in_time_open(engine, engine_name):
    from searchsvc.errors import QueryTooExpensive
    from searchsvc.search import SearchService

    before = open_pits(engine) if engine_name == "opensearch" else None
    with pytest.raises(QueryTooExpensive, match="This search has 19 results, more than the 5 one export may hold"):
        SearchService(engine, cache_size=0).export(request(), None, max_rows=5)

    if engine_name == "opensearch":
        assert open_pits(engine) == before
