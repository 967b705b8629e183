"""highlight: escaped snippets with <mark> around the words a query matched, as a function and
as hits of a real search over the corpus in search_fixtures show them."""

from __future__ import annotations

import re

import pytest
from search_fixtures import name_of, request, search_index_fixture, service_fixture  # noqa: F401 - fixtures

from searchsvc.engine.whoosh_engine.highlight import highlight as spans_of

LONG = " ".join(f"word{i}" for i in range(100)) + " solar panels " + " ".join(f"tail{i}" for i in range(100))


def highlight(*args, **kwargs) -> str:
    """The highlight as the page and the API show it: escaped HTML with <mark> around the spans."""
    return spans_of(*args, **kwargs).render()


def plain(html: str) -> str:
    return re.sub(r"</?mark>", "", html)


# --- the function ------------------------------------------------------------------------------


def test_matched_words_are_marked_in_their_original_case():
    assert highlight("Solar panels on solar farms", {"solar"}) == (
        "<mark>Solar</mark> panels on <mark>solar</mark> farms"
    )


def test_words_are_matched_by_stem_and_without_accents():
    assert highlight("Policing the police", {"polic"}) == "<mark>Policing</mark> the <mark>police</mark>"
    assert highlight("Café culture", {"cafe"}) == "<mark>Café</mark> culture"


def test_prefixes_mark_every_word_starting_with_them():
    assert highlight("Batteries and battery; bats", set(), ("batter",)) == (
        "<mark>Batteries</mark> and <mark>battery</mark>; bats"
    )


def test_html_in_the_text_is_escaped():
    assert highlight('Solar <b>power</b> & "more" it\'s', {"solar"}) == (
        "<mark>Solar</mark> &lt;b&gt;power&lt;/b&gt; &amp; &quot;more&quot; it&#x27;s"
    )
    assert highlight("<solar>", {"solar"}) == "&lt;<mark>solar</mark>&gt;"


def test_text_without_matches_is_only_escaped():
    assert highlight("a < b", set()) == "a &lt; b"
    assert highlight("a < b", {"solar"}) == "a &lt; b"


def test_stop_words_are_never_marked():
    assert highlight("The solar", {"the"}) == "The solar"


def test_empty_text_is_empty():
    assert highlight("", {"solar"}) == ""
    assert highlight("", set(), fragment=10) == ""


def test_fragment_is_the_window_around_the_match_with_ellipses_where_cut():
    html = highlight(LONG, {"solar"}, fragment=80)

    assert html == "…word97 word98 word99 <mark>solar</mark> panels tail0 tail1 tail2 tail3 tail4 tail5 tail6…"
    assert len(plain(html)) <= 80 + 2


def test_fragment_without_a_match_is_the_start_of_the_text():
    assert highlight(LONG, set(), fragment=80) == (
        "word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11…"
    )


def test_fragment_prefers_the_window_with_most_matches():
    text = "Solar once. " + "filler " * 40 + "panels solar panels solar at the end."

    assert highlight(text, {"solar", "panel"}, fragment=60) == (
        "…filler filler filler <mark>panels</mark> <mark>solar</mark> <mark>panels</mark> "
        "<mark>solar</mark> at the end."
    )


def test_short_text_is_never_cut():
    assert highlight("Solar power is cheap.", {"solar"}, fragment=80) == "<mark>Solar</mark> power is cheap."


def test_a_word_joined_by_an_apostrophe_is_marked_whole_in_each_apostrophes_form():
    text = "Ballon d'Or, Ballon d’Or, dor and Ballon d‘Or"

    assert highlight(text, {"ballon", "dor"}) == (
        "<mark>Ballon</mark> <mark>d&#x27;Or</mark>, <mark>Ballon</mark> <mark>d’Or</mark>, <mark>dor</mark> "
        "and <mark>Ballon</mark> <mark>d‘Or</mark>"
    )
    # U+02BC and U+FF07 (and accented letters) take the path that looks at every token
    assert highlight("Ballon dʼOr, d＇Or, Élysée", {"dor"}) == "Ballon <mark>dʼOr</mark>, <mark>d＇Or</mark>, Élysée"


def test_a_possessive_is_marked_with_its_ending():
    assert highlight("Trump's plan, Trump’s rally and a trumpet", {"trump"}) == (
        "<mark>Trump&#x27;s</mark> plan, <mark>Trump’s</mark> rally and a trumpet"
    )


def test_the_letters_after_an_apostrophe_inside_a_word_are_not_a_word_of_their_own():
    assert highlight("O'Brien met Brien", {"brien"}) == "O&#x27;Brien met <mark>Brien</mark>"
    assert highlight("O'Brien met Brien", {"obrien"}) == "<mark>O&#x27;Brien</mark> met Brien"
    assert highlight("O'Brien and O’Brian", set(), ("obri",)) == "<mark>O&#x27;Brien</mark> and <mark>O’Brian</mark>"


@pytest.mark.parametrize(
    "text",
    [
        "Ballon d'Or: Benzema's year, O'Brien's rock 'n' roll and L'Oréal's 'quoted' words'",
        "x'y 'x' x'' ''x d’or d‘or ’or' Trump’s’ trump's's don't she'll",
    ],
)
def test_texts_with_apostrophes_are_marked_alike_with_and_without_accented_letters(text):
    wanted = {"ballon", "dor", "benzema", "obrien", "n", "loreal", "quot", "x", "xy", "trump", "don", "she"}

    # an accented letter makes highlight look at every token instead of the candidates' pattern
    assert highlight(text + " é", wanted) == highlight(text, wanted) + " é"


# --- in search results -------------------------------------------------------------------------


def test_hit_title_with_a_literal_script_tag_is_escaped(service):
    results = service.search(request(q="robots"))

    hit = results.hits[0]
    assert name_of(hit.id) == "s18"
    assert hit.title == "<script>alert(1)</script> Robots write the news"
    assert (
        hit.highlights["title"].render() == "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Robots</mark> write the news"
    )
    assert hit.highlights["excerpt"].render() == "Newsrooms test <mark>robots</mark> that draft reports."


def test_hit_shows_every_field_with_the_query_words_marked(service):
    results = service.search(request(q="glacier"))

    assert results.query_terms == ["glacier"]
    assert {name: value.render() for name, value in results.hits[0].highlights.items()} == {
        "title": "<mark>Glacier</mark> melt accelerates in the Alps",
        "excerpt": "<mark>Glacier</mark> melt doubled in a decade, scientists say.",
        "body": "…taken by their predecessors. By the last survey the <mark>glacier</mark> had lost a third "
        "of its ice.",
    }
    assert results.hits[1].highlights["body"].render() == (
        "One guide mentioned a <mark>glacier</mark> nearby, but most slopes are lower."
    )


def test_phrase_words_are_marked(service):
    results = service.search(request(q='"heat pumps"'))

    assert (
        results.hits[0].highlights["title"].render()
        == "<mark>Heat</mark> <mark>pumps</mark> replace gas boilers in old houses"
    )


def test_excluded_words_are_not_marked(service):
    results = service.search(request(q="panels NOT body:battery"))

    assert [name_of(hit.id) for hit in results.hits] == ["s01"]
    assert (
        results.hits[0].highlights["title"].render() == "Solar <mark>panels</mark> and batteries power remote villages"
    )
    assert results.query_terms == ["panel"]


def test_prefix_query_terms_keep_their_star(service):
    results = service.search(request(q="batter* solar"))

    assert results.query_terms == ["batter*", "solar"]
    assert results.hits[0].highlights["excerpt"].render() == (
        "Cheap <mark>solar</mark> panels paired with <mark>battery</mark> storage bring electricity to villages."
    )


@pytest.mark.parametrize("q", ["", "*:*"])
def test_hits_without_query_words_are_escaped_but_unmarked(service, q):
    results = service.search(request(q=q, topic="AI"))

    by_name = {name_of(hit.id): hit for hit in results.hits}
    assert by_name["s18"].highlights["title"].render() == "&lt;script&gt;alert(1)&lt;/script&gt; Robots write the news"
