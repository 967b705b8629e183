"""The contract of what comes back about articles: a hit's fields, highlights as spans over plain
text, an article by id, more-like-this, autocomplete suggestions, did-you-mean, and the summary
of a view."""

from __future__ import annotations

import pytest
from contract_corpus import ALL_DOCS, GLACIER_BODY, ID, TOTAL_DOCUMENTS, name_of
from contract_support import names, request, search

from searchsvc.engine import Highlight, Suggestion
from searchsvc.search import SearchService


def marked(highlight: Highlight) -> list[str]:
    """The words a highlight marks, as they stand in its text."""
    return [highlight.text[start:end] for start, end in highlight.spans]


# --- hits ----------------------------------------------------------------------------------------


def test_an_article_by_id_carries_every_field_of_its_file(engine):
    hit = engine.article(ID["e01"])

    assert (hit.id, hit.url, hit.title) == (ID["e01"], ID["e01"], "Solar panels and batteries power island villages")
    assert hit.excerpt == "Cheap solar panels paired with battery storage bring electricity to island homes."
    assert (hit.provider, hit.domain, hit.published) == (
        "Harbour Herald",
        "harbourherald.example",
        "2023-03-01T10:00:00Z",
    )
    assert (hit.topics, hit.category, hit.type, hit.quality) == (["Energy", "Climate"], "news", "article", 70)
    assert (hit.related_to, hit.related_ids, hit.duplicates) == ("", [ID["r01"], ID["r02"]], 0)


def test_a_related_entry_is_an_article_linked_to_the_article_that_lists_it(engine):
    hit = engine.article(ID["r01"])

    assert (hit.title, hit.provider, hit.published) == (
        "Island microgrids spread along the coast",
        "Valley Voice",
        "2023-02-20T09:00:00Z",
    )
    assert (hit.related_to, hit.topics, hit.category, hit.type, hit.quality) == (ID["e01"], [], "", "", None)


def test_an_article_without_a_date_or_quality_has_none_for_them(engine):
    hit = engine.article(ID["s03"])

    assert (hit.title, hit.published, hit.quality) == ("Undated notes on telescope maintenance", None, None)


def test_an_unknown_article_is_none(engine):
    assert engine.article("https://nowhere.example/missing") is None


def test_a_search_hit_carries_the_same_fields_as_the_article(engine):
    (hit,) = search(engine, q="vapour").hits
    article = engine.article(ID["s01"])

    fields = ("id", "title", "excerpt", "url", "provider", "domain", "published", "topics", "category", "type")
    assert [getattr(hit, f) for f in fields] == [getattr(article, f) for f in fields]
    assert (hit.quality, hit.related_ids) == (75, [])


def test_a_title_holding_html_is_plain_text_that_the_highlight_escapes(engine):
    (hit,) = search(engine, q="robots").hits

    assert hit.title == "<b>Robots</b> draft reports in busy newsrooms"
    assert hit.highlights["title"].text == hit.title
    assert hit.highlights["title"].render() == "&lt;b&gt;<mark>Robots</mark>&lt;/b&gt; draft reports in busy newsrooms"


# --- highlights ----------------------------------------------------------------------------------


def test_a_prefix_highlights_every_word_starting_with_it(engine):
    hits = {name_of(hit.id): hit for hit in search(engine, q="batter*").hits}

    assert hits["e01"].highlights["title"].render() == "Solar panels and <mark>batteries</mark> power island villages"
    assert hits["e01"].highlights["excerpt"].render() == (
        "Cheap solar panels paired with <mark>battery</mark> storage bring electricity to island homes."
    )
    assert hits["e03"].highlights["title"].render() == "<mark>Battery</mark> recycling plant breaks ground"


def test_highlights_mark_stemmed_and_accent_folded_forms_in_their_original_spelling(engine):
    police = {name_of(hit.id): hit for hit in search(engine, q="policing").hits}
    cafe = {name_of(hit.id): hit for hit in search(engine, q="cafe").hits}

    assert police["p01"].highlights["title"].render() == "<mark>Police</mark> adopt facial recognition downtown"
    assert police["p02"].highlights["title"].render() == "City council debates <mark>policing</mark> budget"
    assert cafe["f01"].highlights["title"].render() == "Best <mark>café</mark> in town serves cold brew"
    assert cafe["f01"].highlights["excerpt"].render() == "The <mark>café</mark> roasts its own beans."


def test_every_word_of_the_query_is_highlighted_and_no_other(engine):
    (hit,) = search(engine, q="heat pumps", per_page="1").hits

    assert name_of(hit.id) == "e04"
    assert marked(hit.highlights["title"]) == ["Heat", "pumps"]
    assert marked(hit.highlights["excerpt"]) == ["heat", "pumps"]
    assert marked(hit.highlights["body"]) == []


def test_a_long_body_is_highlighted_as_a_fragment_around_its_match(engine):
    (hit,) = search(engine, q="glacier", per_page="1").hits

    body = hit.highlights["body"]
    assert name_of(hit.id) == "g01"
    assert marked(body) == ["glacier"]
    assert body.text in GLACIER_BODY and len(body.text) < len(GLACIER_BODY)
    assert (body.cut_before, body.cut_after) == (True, False)  # the match is in the last sentence
    assert body.render().startswith("…") and "<mark>glacier</mark> had lost a third of its ice." in body.render()
    assert (marked(hit.highlights["title"]), hit.highlights["title"].cut_before) == (["Glacier"], False)


def test_an_article_by_id_has_highlights_without_marks(engine):
    hit = engine.article(ID["e04"])

    assert set(hit.highlights) == {"title", "excerpt", "body"}
    assert [h.spans for h in hit.highlights.values()] == [(), (), ()]
    assert hit.highlights["title"].text == "Heat pumps replace gas boilers in old houses"


# --- more like this ------------------------------------------------------------------------------


def test_more_like_this_lists_the_articles_own_related_entries_first(engine):
    similar = names(engine.more_like_this(ID["e01"]))

    # then the articles sharing its distinctive words: solar (e02), battery and lithium (e03)
    assert similar[:2] == ["r01", "r02"]
    assert set(similar[2:]) == {"e02", "e03"}


def test_more_like_this_of_a_related_entry_lists_its_parent_first(engine):
    assert names(engine.more_like_this(ID["r01"]))[0] == "e01"


@pytest.mark.parametrize(("name", "expected"), [("p01", ["p02"]), ("f01", ["f02"]), ("s01", ["s03"])])
def test_more_like_this_finds_the_one_article_sharing_a_distinctive_word(engine, name, expected):
    # police / policing, café / cafe, telescope
    assert names(engine.more_like_this(ID[name])) == expected


def test_more_like_this_respects_the_limit(engine):
    assert names(engine.more_like_this(ID["e01"], limit=1)) == ["r01"]


@pytest.mark.parametrize("name", sorted(ALL_DOCS))
def test_more_like_this_never_lists_the_article_itself_or_its_syndicated_copies(engine, name):
    similar = names(engine.more_like_this(ID[name]))

    assert name not in similar
    assert len(similar) == len(set(similar)) <= 5
    if name in ("k01", "k02", "k03"):  # one title: the same story
        assert not {"k01", "k02", "k03"} & set(similar)


def test_more_like_this_of_an_unknown_article_is_empty(engine):
    assert engine.more_like_this("https://nowhere.example/missing") == []


def test_the_service_returns_an_article_with_the_articles_like_it(engine):
    service = SearchService(engine, cache_size=0)

    hit, similar = service.article(ID["p01"])

    assert (hit.id, names(similar)) == (ID["p01"], ["p02"])
    assert service.article("https://nowhere.example/missing") is None


# --- autocomplete --------------------------------------------------------------------------------


def test_suggest_lists_topics_and_providers_as_filters_then_title_words_and_pairs(engine):
    assert engine.suggest("pol") == [
        Suggestion("Politics", "topic", {"topic": ["Politics"]}, ""),
        Suggestion("Police", "word"),
        Suggestion("Police adopt", "word"),
        Suggestion("policing", "word"),
        Suggestion("policing budget", "word"),
    ]
    # k01's title ends in " - Harbour Herald": its source, not words of the article
    assert engine.suggest("her") == [Suggestion("Harbour Herald", "provider", {"provider": ["Harbour Herald"]}, "")]


def test_suggest_completes_the_last_word_after_the_words_a_title_holds_before_it(engine):
    assert engine.suggest("solar pa") == [Suggestion("Solar panels", "word")]


def test_suggest_matches_any_word_of_a_provider_name(engine):
    assert engine.suggest("observer") == [
        Suggestion("Orbit Observer", "provider", {"provider": ["Orbit Observer"]}, "")
    ]


def test_suggest_lists_the_most_frequent_words_first_within_the_limit(engine):
    # "rocket" and "rocket launch" are in three titles each ("Rocket" in two; the pair spelt three
    # ways, one each: the first in code-point order is shown), "robots" in one
    assert engine.suggest("ro") == [
        Suggestion("Rocket", "word"),
        Suggestion("Rocket Launch", "word"),
        Suggestion("Robots", "word"),
    ]
    assert engine.suggest("ro", limit=1) == [Suggestion("Rocket", "word")]


def test_suggest_ignores_blank_input_and_returns_nothing_for_unknown_prefixes(engine):
    assert (engine.suggest("   "), engine.suggest("zzz")) == ([], [])


# --- did you mean --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "suggestion"),
    [("glacer", "glacier"), ("glaicer", "glacier"), ("rockat", "rocket"), ("Telescpe", "telescope")],
)
def test_a_misspelt_word_suggests_the_correction_that_finds_articles(engine, q, suggestion):
    page = search(engine, q=q, typos="false")

    assert (page.total, page.suggestion) == (0, suggestion)


def test_a_misspelt_word_in_a_longer_query_is_corrected_in_place(engine):
    page = search(engine, q="glacer melt", typos="false")

    # nothing holds both words, so the query is relaxed to the article with "melt"
    assert (page.total, page.relaxed, names(page)) == (1, True, ["g01"])
    assert page.suggestion == "glacier melt"


@pytest.mark.parametrize("q", ["glacier", "solar", "rocket storm", "vapour", "title:glacer", "zzzzzz"])
def test_a_correctly_spelt_or_uncorrectable_query_has_no_suggestion(engine, q):
    assert search(engine, q=q).suggestion is None


def test_no_suggestion_when_the_correction_finds_nothing_under_the_filters(engine):
    assert search(engine, q="glacier", provider="Metro Ledger").total == 0

    page = search(engine, q="glacer", provider="Metro Ledger", typos="false")

    assert (page.total, page.suggestion) == (0, None)


# --- views and summaries -------------------------------------------------------------------------


def test_a_result_page_names_the_view_that_answered(engine):
    view = engine.view()

    assert search(engine, view, q="solar").view == view.name
    assert engine.search(request(q="solar")).view == engine.view().name


def test_the_summary_counts_the_views_documents_files_and_top_providers(engine):
    view = engine.view()
    summary = engine.summary(view)

    assert (summary.view, summary.documents, view.documents) == (view.name, TOTAL_DOCUMENTS, TOTAL_DOCUMENTS)
    assert summary.files == 18
    assert summary.top_providers == [
        ("Orbit Observer", 7),
        ("Valley Voice", 5),
        ("Harbour Herald", 4),
        ("Metro Ledger", 4),
    ]
    assert engine.summary(view, top=1).top_providers == [("Orbit Observer", 7)]
    assert (summary.report["added"], summary.report["documents"], summary.report["full"]) == (18, 20, True)
