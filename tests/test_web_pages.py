"""The HTML pages: the search page in each of its states, the article page, the error pages."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from web_fixtures import (  # noqa: F401 - fixtures register by being imported
    SCRIPT_TITLE,
    app_fixture,
    client_fixture,
    url_of,
    web_corpus_fixture,
    web_index_fixture,
)

from searchsvc.web import create_app
from searchsvc.web.views import nice_date, took, web_url

ATOM = "{http://www.w3.org/2005/Atom}"
VOID = {"input", "img", "meta", "link", "br", "hr", "source"}


@dataclass
class Element:
    tag: str
    attrs: dict
    text: str = ""
    children: list = field(default_factory=list)


class Page(HTMLParser):
    """Every element with its attributes and text, to find things as a browser would."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.html = html
        self.elements: list[Element] = []
        self._open: list[Element] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {k: (v if v is not None else "") for k, v in attrs})
        self.elements.append(element)
        if tag not in VOID:
            self._open.append(element)

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop().tag == tag:
                break

    def handle_data(self, data):
        for element in self._open:
            element.text += data

    def find(self, tag: str, **attrs: str) -> list[Element]:
        found = []
        for e in self.elements:
            if e.tag != tag:
                continue
            if all(
                (
                    name.rstrip("_") in e.attrs
                    and (
                        value is True
                        or value in e.attrs[name.rstrip("_")].split()
                        or value == e.attrs[name.rstrip("_")]
                    )
                )
                for name, value in attrs.items()
            ):
                found.append(e)
        return found

    def texts(self, tag: str, **attrs) -> list[str]:
        return [" ".join(e.text.split()) for e in self.find(tag, **attrs)]

    def links(self, **attrs) -> list[tuple[str, str]]:
        return [(" ".join(e.text.split()), e.attrs.get("href", "")) for e in self.find("a", **attrs)]

    def checkboxes(self, name: str) -> list[tuple[str, bool]]:
        return [(e.attrs["value"], "checked" in e.attrs) for e in self.find("input", type="checkbox", name=name)]


def get(client, url: str, status: int = 200) -> Page:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    assert response.content_type == "text/html; charset=utf-8"
    return Page(response.get_data(as_text=True))


def test_empty_search_page_lists_the_newest_articles_with_a_focused_labelled_box(client):
    page = get(client, "/")

    assert page.find("html")[0].attrs["lang"] == "en"
    box = page.find("input", id="q")[0]
    assert "autofocus" in box.attrs and box.attrs["value"] == ""
    assert page.texts("label", for_="q") == ["Search news articles"]
    assert re.fullmatch(r"13 results in (\d+|under 1) ms", page.texts("h1")[0])
    assert len(page.find("li", class_="hit")) == 10
    assert page.texts("h2", class_="hit-title")[0] == "Heat pumps replace gas boilers"
    assert page.texts("footer") == ["Index generation gen-000001 · 13 documents API"]
    assert page.links(rel="next") == [("Next ›", "/?page=2")]


def test_search_page_shows_highlighted_hits_with_their_details(client):
    page = get(client, "/?q=solar")

    assert "autofocus" not in page.find("input", id="q")[0].attrs
    assert page.find("input", id="q")[0].attrs["value"] == "solar"
    assert page.texts("h1")[0].startswith("3 results for “solar” in ")
    assert page.texts("h2", class_="hit-title") == [
        "Batteries store solar energy overnight",
        "Solar farms power a quiet revolution",
        "Community solar cooperatives spread",
    ]
    assert (
        '<a href="https://dailyplanet.example/a01"><mark>Solar</mark> farms power a quiet revolution</a>' in page.html
    )
    assert page.texts("p", class_="snippet")[0] == (
        "About batteries store solar energy overnight. A short summary of the story."
    )
    assert page.texts("p", class_="hit-meta")[1] == "Daily Planet dailyplanet.example 5 Jan 2022"
    assert [e.attrs["src"] for e in page.find("img", class_="thumb")] == ["https://dailyplanet.example/img/solar.jpg"]
    assert page.links(class_="tag")[:2] == [("Energy", "/?topic=Energy"), ("Climate", "/?topic=Climate")]
    assert page.links(class_="related-link")[1] == (
        "Related articles for “Solar farms power a quiet revolution”",
        "/articles/https://dailyplanet.example/a01",
    )


def test_script_in_an_article_title_is_shown_as_text_never_as_markup(client):
    for url in ("/?q=bots", "/", "/articles/" + url_of("a06")):
        html = client.get(url).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url
        assert "<script>alert" not in html, url
    assert Page(client.get("/?q=bots").get_data(as_text=True)).texts("h2", class_="hit-title") == [SCRIPT_TITLE]


def test_facets_list_values_with_counts_and_keep_selected_values_ticked(client):
    page = get(client, "/?q=solar&provider=Daily+Planet")

    # the one result's domain, category and type are facets of one value it has: they add nothing
    assert page.texts("legend") == ["Provider", "Topic", "Published"]
    assert page.checkboxes("provider") == [("Green Wire", False), ("Daily Planet", True)]
    assert page.texts("span", class_="count")[:2] == ["2", "1"]
    assert page.checkboxes("topic") == [("Climate", False), ("Energy", False)]
    assert all(e.attrs["form"] == "search" for e in page.find("input", type="checkbox"))


def test_active_filters_are_chips_that_link_to_the_search_without_them(client):
    page = get(client, "/?q=energy&provider=Daily+Planet&provider=Green+Wire&from=2022-03-01&sort=newest&page=1")

    assert page.links(class_="chip") == [
        ("Provider: Daily Planet× (remove filter)", "/?q=energy&provider=Green+Wire&from=2022-03-01&sort=newest"),
        ("Provider: Green Wire× (remove filter)", "/?q=energy&provider=Daily+Planet&from=2022-03-01&sort=newest"),
        ("From 2022-03-01× (remove filter)", "/?q=energy&provider=Daily+Planet&provider=Green+Wire&sort=newest"),
    ]
    assert page.links(class_="clear-all") == [("Clear all", "/?q=energy&sort=newest")]
    assert [e.attrs["value"] for e in page.find("option", selected=True)] == ["newest"]
    assert page.find("input", name="from")[0].attrs["value"] == "2022-03-01"


def test_publication_dates_are_a_bar_chart_of_links_setting_the_range(client):
    page = get(client, "/?q=climate")

    bars = page.find("a", class_="bar")
    # the height is a class (h-0 .. h-100 in style.css): the Content-Security-Policy allows no inline style
    assert [(b.attrs["title"], b.attrs["href"], b.attrs["class"], "style" in b.attrs) for b in bars] == [
        ("January 2022: 2 articles", "/?q=climate&from=2022-01-01&to=2022-01-31", "bar h-50", False),
        ("March 2022: 4 articles", "/?q=climate&from=2022-03-01&to=2022-03-31", "bar h-100", False),
    ]
    selected = get(client, "/?q=climate&from=2022-03-01&to=2022-03-31").find("a", class_="bar")
    assert ["selected" in b.attrs["class"].split() for b in selected] == [False, True]


def test_pagination_links_keep_the_search_and_mark_the_current_page(client):
    page = get(client, "/?per_page=2&page=4&sort=oldest")

    assert page.links(rel="prev") == [("‹ Previous", "/?sort=oldest&per_page=2&page=3")]
    assert page.links(rel="next") == [("Next ›", "/?sort=oldest&per_page=2&page=5")]
    numbers = [(text, href) for text, href in page.links() if text.startswith("Page ")]
    assert numbers == [
        ("Page 1", "/?sort=oldest&per_page=2"),
        ("Page 2", "/?sort=oldest&per_page=2&page=2"),
        ("Page 3", "/?sort=oldest&per_page=2&page=3"),
        ("Page 4", "/?sort=oldest&per_page=2&page=4"),
        ("Page 5", "/?sort=oldest&per_page=2&page=5"),
        ("Page 6", "/?sort=oldest&per_page=2&page=6"),
        ("Page 7", "/?sort=oldest&per_page=2&page=7"),
    ]
    assert page.texts("a", class_="current") == ["Page 4"]
    assert [e.attrs["value"] for e in page.find("input", type="hidden")] == ["2"]


def test_long_pagination_elides_the_middle(client):
    page = get(client, "/?per_page=1&page=7")

    labels = [text for text, _ in page.links() if text.startswith("Page ")]
    assert labels == ["Page 1", "Page 5", "Page 6", "Page 7", "Page 8", "Page 9", "Page 13"]
    assert page.texts("span", class_="gap") == ["…", "…"]


def test_a_misspelt_word_says_what_it_also_matched_and_links_to_the_search_as_typed(client):
    page = get(client, "/?q=glaciars&provider=Green+Wire")

    assert page.texts("p", class_="corrected") == [
        "Including results for glaciers (you typed glaciars). Search only for “glaciars”"
    ]
    assert page.links(href="/?q=glaciars&provider=Green+Wire&typos=false") == [
        ("Search only for “glaciars”", "/?q=glaciars&provider=Green+Wire&typos=false")
    ]


def test_did_you_mean_links_to_the_corrected_search(client):
    page = get(client, "/?q=solr&provider=Green+Wire&typos=false")

    # once in "Did you mean", once in the empty state's suggestions
    assert (
        page.links(href="/?provider=Green+Wire&typos=false&q=solar")
        == [("solar", "/?provider=Green+Wire&typos=false&q=solar")] * 2
    )
    assert page.texts("p", class_="did-you-mean") == ["Did you mean solar?"]


def test_empty_results_suggest_removing_filters_checking_spelling_and_fewer_words(client):
    page = get(client, "/?q=zebra&topic=Space")

    assert page.texts("div", class_="empty") == [
        "Nothing matched “zebra” Try: Removing the filters (1 active) Checking the spelling of each word "
        "Using fewer or more general words"
    ]
    assert page.checkboxes("topic") == [("Space", True)]
    assert ("Removing the filters", "/?q=zebra") in page.links()


def test_a_facet_with_more_values_offers_a_show_more_link(client):
    page = get(client, "/?facet_size=1")

    assert page.links(class_="show-more")[0] == ("Show more provider values", "/?facet_size=50")
    assert page.checkboxes("provider") == [("Green Wire", False)]


def test_unknown_parameters_are_ignored_on_the_page(client):
    page = get(client, "/?q=solar&utm_source=newsletter&facets=none")

    assert page.texts("h1")[0].startswith("3 results for “solar”")
    assert page.texts("legend")[0] == "Provider"


def test_a_bad_parameter_shows_the_error_page_with_the_message(client):
    page = get(client, "/?q=solar&page=zero", status=400)

    assert page.texts("h1") == ["That search could not be run"]
    assert page.texts("p", class_="error-message") == [
        "Parameter 'page' must be a whole number from 1 to 1000; got 'zero'."
    ]
    assert page.find("input", id="q")[0].attrs["value"] == ""


def test_an_unknown_page_is_a_404_in_the_same_look(client):
    page = get(client, "/nothing/here", status=404)

    assert page.texts("h1") == ["Page not found"]
    assert page.texts("p", class_="error-message") == [
        "Nothing at /nothing/here. Check the address, or start again from the search page at /."
    ]
    assert page.find("link", rel="stylesheet")[0].attrs["href"] == "/static/style.css"


def test_an_unexpected_failure_is_a_generic_500_page_and_json_under_api(app, caplog):
    def fail():
        raise RuntimeError("secret detail")

    app.add_url_rule("/boom", "boom", fail)
    app.add_url_rule("/api/boom", "api_boom", fail)
    client = app.test_client()

    page = get(client, "/boom", status=500)
    api = client.get("/api/boom")

    message = "The server failed to answer this request. It has been logged; try again later."
    assert page.texts("p", class_="error-message") == [message]
    assert "secret detail" not in page.html
    assert api.status_code == 500
    assert api.get_json() == {"ok": False, "status": 500, "error": message, "errors": []}
    assert [r.getMessage() for r in caplog.records] == [
        "Unhandled error on GET /boom?",
        "Unhandled error on GET /api/boom?",
    ]


def test_article_page_shows_the_article_its_related_entry_and_more_like_this(client):
    page = get(client, "/articles/" + url_of("a01"))

    assert page.texts("h1") == ["Solar farms power a quiet revolution"]
    assert page.texts("p", class_="lead") == [
        "About solar farms power a quiet revolution. A short summary of the story."
    ]
    assert page.links(class_="primary")[-1] == ("Read on dailyplanet.example", url_of("a01"))
    titles = page.texts("h2", class_="hit-title")
    assert titles[0] == "Community solar cooperatives spread"
    assert titles[1:] == [
        "Batteries store solar energy overnight",
        "Language models learn to write code",
        "Robots sort recycling with computer vision",
        "Telescope spots water on a distant planet",
    ]


def test_unknown_article_page_is_a_404(client):
    page = get(client, "/articles/https://nowhere.example/x", status=404)

    assert page.texts("p", class_="error-message") == [
        "No article with id 'https://nowhere.example/x'. Search for it from the search page instead."
    ]


def test_static_files_are_served(client):
    css = client.get("/static/style.css")
    js = client.get("/static/search.js")

    assert (css.status_code, css.content_type) == (200, "text/css; charset=utf-8")
    assert "@media (max-width: 820px)" in css.get_data(as_text=True)
    assert js.status_code == 200 and "/api/suggest?q=" in js.get_data(as_text=True)
    css.close()
    js.close()


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("https://a.example/x", "https://a.example/x"),
        ("http://a.example", "http://a.example"),
        ("javascript://x%0Aalert(1)", ""),
        ("JAVASCRIPT:alert(1)", ""),
        ("data:text/html,x", ""),
        ("", ""),
    ],
)
def test_only_http_links_from_articles_reach_an_href(value, shown):
    assert web_url(value) == shown


def test_dates_are_shown_as_day_month_year():
    assert (nice_date("2022-03-08T09:00:00Z"), nice_date(None), nice_date("soon")) == ("8 Mar 2022", "", "soon")


def test_atom_feed_lists_the_search_newest_first_as_valid_xml(client):
    response = client.get("/search.atom?q=solar&sort=oldest")

    assert response.content_type == "application/atom+xml; charset=utf-8"
    feed = ET.fromstring(response.data)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}title") == "searchsvc: “solar”"
    assert feed.findtext(f"{ATOM}updated") == "2022-03-18T09:00:00Z"
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}id") for e in entries] == [
        url_of("a10"),
        "https://greenwire.example/coop",
        url_of("a01"),
    ]
    assert [e.find(f"{ATOM}link").get("href") for e in entries][0] == url_of("a10")
    assert entries[0].findtext(f"{ATOM}author/{ATOM}name") == "Green Wire"
    assert [c.get("term") for c in entries[0].findall(f"{ATOM}category")] == ["Energy", "Climate"]


def test_atom_feed_escapes_the_script_title(client):
    response = client.get("/search.atom?q=bots")

    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in response.data
    assert b"<script>" not in response.data
    assert ET.fromstring(response.data).findtext(f"{ATOM}entry/{ATOM}title") == SCRIPT_TITLE


NASTY = [
    "title:",
    "(",
    '"unclosed',
    "*",
    "a*",
    "NOT",
    "solar AND",
    "x:y",
    "[a TO b]",
    "solar~2",
    "solar^3",
    "\\",
    "%",
    "<script>",
    "((((((((",
    "*:*",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "\x00",
    "a" * 1000,
    " ".join(["solar"] * 300),
]


@pytest.mark.parametrize("query", NASTY, ids=[ascii(q)[:24] for q in NASTY])
def test_no_query_text_makes_the_page_or_the_feed_fail(client, query):
    for path in ("/", "/search.atom", "/api/search", "/api/suggest"):
        response = client.get(path, query_string={"q": query})
        assert response.status_code == 200, (path, query, response.get_data(as_text=True)[:500])


# issue 13, "The page"


def test_a_card_quotes_the_body_fragment_when_only_the_body_matched(client):
    page = get(client, "/?q=words&per_page=2")

    assert page.texts("p", class_="snippet") == [
        "In the article: Heat pumps replace gas boilers. The full body of the story goes here, with more words "
        "about it.",
        "In the article: Satellites track melting sea ice. The full body of the story goes here, with more words "
        "about it.",
    ]
    assert page.html.count("with more <mark>words</mark> about it.") == 2
    assert len(page.find("p", class_="from-body")) == 2


def test_a_card_quotes_the_excerpt_when_the_excerpt_matched_or_nothing_did(client):
    matched = get(client, "/?q=summary&per_page=1")
    newest = get(client, "/?per_page=1")

    assert matched.texts("p", class_="snippet") == [
        "About heat pumps replace gas boilers. A short summary of the story."
    ]
    assert "A short <mark>summary</mark> of the story." in matched.html
    assert newest.texts("p", class_="snippet") == [
        "About heat pumps replace gas boilers. A short summary of the story."
    ]
    assert matched.find("p", class_="from-body") == newest.find("p", class_="from-body") == []


def test_the_filters_come_before_the_results_in_the_page(client):
    html = get(client, "/?q=climate").html

    assert html.index('<aside class="filters"') < html.index('<section class="results"')
    assert html.index('name="provider"') < html.index('class="hit"')


def test_a_from_date_after_the_to_date_shows_the_form_again_with_the_message_beside_the_field(client):
    page = get(client, "/?q=solar&from=2022-03-01&to=2022-01-31", status=400)

    assert page.find("input", id="q")[0].attrs["value"] == "solar"
    assert page.texts("h1")[0].startswith("3 results for “solar” in ")
    date_from, date_to = page.find("input", id="date-from")[0], page.find("input", id="date-to")[0]
    assert (date_from.attrs["value"], date_from.attrs["aria-invalid"], date_from.attrs["aria-describedby"]) == (
        "2022-03-01",
        "true",
        "date-error",
    )
    assert "autofocus" in date_from.attrs and "autofocus" not in page.find("input", id="q")[0].attrs
    assert (date_to.attrs["value"], "aria-invalid" in date_to.attrs) == ("2022-01-31", False)
    assert page.texts("p", id="date-error") == [
        "Parameter 'from' (2022-03-01) is after 'to' (2022-01-31); swap them. "
        "The results below are not limited by date."
    ]
    assert page.html.index('id="date-from"') < page.html.index('id="date-error"') < page.html.index('id="date-to"')
    assert page.find("a", class_="chip") == []


def test_a_malformed_to_date_is_shown_beside_the_to_field(client):
    page = get(client, "/?q=solar&provider=Green+Wire&to=2022-02-30", status=400)

    assert page.find("input", id="date-to")[0].attrs["aria-invalid"] == "true"
    assert page.texts("p", id="date-error") == [
        "Parameter 'to' must be a date as YYYY-MM-DD (or YYYY-MM, YYYY); got '2022-02-30'. "
        "The results below are not limited by date."
    ]
    assert page.links(class_="chip") == [("Provider: Green Wire× (remove filter)", "/?q=solar")]


@pytest.mark.parametrize(
    ("sent", "location"),
    [
        ("/?q=solar&sort=relevance&from=&to=", "/?q=solar"),
        ("/?q=&sort=relevance&from=&to=", "/"),
        (
            "/?q=solar&sort=newest&from=&to=2022-03-01&provider=Green+Wire",
            "/?q=solar&sort=newest&to=2022-03-01&provider=Green+Wire",
        ),
    ],
)
def test_a_form_sent_without_javascript_redirects_to_the_url_without_empty_fields(client, sent, location):
    response = client.get(sent)

    assert (response.status_code, response.headers["Location"]) == (302, location)


def test_a_search_taking_under_a_millisecond_says_so_rather_than_0_ms():
    assert [took(0.04), took(0.99), took(1.0), took(12.4), took(1234.5)] == [
        "under 1 ms",
        "under 1 ms",
        "1 ms",
        "12 ms",
        "1,234 ms",
    ]


def test_histogram_labels_carry_the_year(client):
    months = get(client, "/?q=climate")
    days = get(client, "/?q=space")

    axis = re.compile(r'<div class="histogram-axis" aria-hidden="true"><span>(.*?)</span><span>(.*?)</span></div>')
    assert axis.findall(months.html) == [("Jan 2022", "Mar 2022")]
    assert axis.findall(days.html) == [("2 Mar 2022", "25 Mar 2022")]
    assert [b.attrs["title"] for b in days.find("a", class_="bar")] == [
        "2 March 2022: 1 article",
        "21 March 2022: 1 article",
        "25 March 2022: 1 article",
    ]


def test_a_bar_is_one_chip_and_following_the_selected_bar_removes_the_date_filter(client):
    page = get(client, "/?q=climate&from=2022-03-01&to=2022-03-31")

    assert page.links(class_="chip") == [("Published: March 2022× (remove filter)", "/?q=climate")]
    assert [(b.attrs["title"], b.attrs["href"]) for b in page.find("a", class_="bar")] == [
        ("January 2022: 2 articles", "/?q=climate&from=2022-01-01&to=2022-01-31"),
        ("Remove the date filter March 2022 (4 articles)", "/?q=climate"),
    ]
    day = get(client, "/?q=space&from=2022-03-21&to=2022-03-21")
    assert day.links(class_="chip") == [("Published: 21 March 2022× (remove filter)", "/?q=space")]
    year = get(client, "/?q=space&from=2022&to=2022")
    assert year.texts("a", class_="chip") == ["Published: 2022× (remove filter)"]
    other = get(client, "/?q=space&from=2022-03-02&to=2022-03-21")
    assert other.texts("a", class_="chip") == ["From 2022-03-02× (remove filter)", "To 2022-03-21× (remove filter)"]


def test_show_more_becomes_show_less(web_index):
    client = create_app(test_config={"index_dir": str(web_index), "result_cache": 0, "facet_size": 2}).test_client()

    fewer = get(client, "/?q=climate")
    more = get(client, "/?q=climate&facet_size=50")

    assert fewer.links(class_="show-more") == [
        ("Show more provider values", "/?q=climate&facet_size=50"),
        ("Show more topic values", "/?q=climate&facet_size=50"),
        ("Show more domain values", "/?q=climate&facet_size=50"),
    ]
    assert more.links(class_="show-more") == [
        ("Show less provider values", "/?q=climate"),
        ("Show less topic values", "/?q=climate"),
        ("Show less domain values", "/?q=climate"),
    ]
    assert more.checkboxes("provider") == [("Green Wire", False), ("Daily Planet", False), ("Tech Times", False)]


def test_a_facet_of_one_value_is_shown_when_it_narrows_or_is_ticked(client):
    narrows = get(client, "/?q=solar")  # the related entry has no category or type
    ticked = get(client, "/?q=solar&category=news")

    assert narrows.checkboxes("category") == [("news", False)]
    assert narrows.texts("legend") == ["Provider", "Topic", "Domain", "Category", "Type", "Published"]
    assert ticked.checkboxes("category") == [("news", True)]


def back_link(page) -> list[tuple[str, str]]:
    return [link for link in page.links() if link[0] == "‹ Back to results"]


def test_the_article_page_keeps_the_search_it_was_reached_from(client):
    url = "/articles/" + url_of("a02")
    response = client.get(url, headers={"Referer": "http://localhost/?q=wind&provider=Daily+Planet&utm=x"})
    page = Page(response.get_data(as_text=True))

    assert page.find("input", id="q")[0].attrs["value"] == "wind"
    assert back_link(page) == [("‹ Back to results", "/?q=wind&provider=Daily+Planet")]
    # its cards carry the search on to the next article page, which keeps it too
    links = [href for _, href in page.links(class_="related-link")]
    assert links and all(href.endswith("?q=wind&provider=Daily+Planet") for href in links)
    onward = get(client, links[0])
    assert onward.find("input", id="q")[0].attrs["value"] == "wind"
    assert back_link(onward) == [("‹ Back to results", "/?q=wind&provider=Daily+Planet")]
    assert "Referer" in response.headers["Vary"]


def test_the_article_page_keeps_no_search_from_another_site_or_page(client):
    url = "/articles/" + url_of("a02")
    for referrer in ("https://elsewhere.example/?q=wind", "http://localhost/articles/x?q=wind", ""):
        page = Page(client.get(url, headers={"Referer": referrer}).get_data(as_text=True))
        assert page.find("input", id="q")[0].attrs["value"] == "", referrer
        assert back_link(page) == [("‹ Back to results", "/")], referrer


def test_the_article_page_tags_each_kept_search_apart(client):
    url = "/articles/" + url_of("a02")
    wind = client.get(url, headers={"Referer": "http://localhost/?q=wind"})
    solar = client.get(url, headers={"Referer": "http://localhost/?q=solar", "If-None-Match": wind.headers["ETag"]})

    assert (wind.status_code, solar.status_code) == (200, 200)
    assert 'value="solar"' in solar.get_data(as_text=True)


def test_the_article_page_leaves_out_an_empty_related_section(client):
    without = get(client, "/articles/" + url_of("a02"))
    with_related = get(client, "/articles/" + url_of("a01"))

    assert without.texts("h2", id="related-heading") == []
    assert without.texts("h2", id="more-heading") == ["More like this"]
    assert with_related.texts("h2", id="related-heading") == ["Related articles"]


def test_the_feed_of_a_search_is_linked_visibly_and_from_the_head(client):
    page = get(client, "/?q=solar&provider=Green+Wire&page=1")

    assert page.links(type="application/atom+xml") == [
        ("Atom feed of this search", "/search.atom?q=solar&provider=Green+Wire")
    ]
    assert page.find("link", rel="alternate")[0].attrs["href"] == "/search.atom?q=solar&provider=Green+Wire"


def test_an_empty_feed_was_updated_when_the_index_was_built(client):
    feed = ET.fromstring(client.get("/search.atom?q=zebra").data)
    built_at = client.get("/api/stats").get_json()["built_at"]

    assert feed.findall(f"{ATOM}entry") == []
    assert built_at.startswith("20")
    assert feed.findtext(f"{ATOM}updated") == built_at


def test_bad_feed_parameters_are_a_plain_text_400(client):
    response = client.get("/search.atom?q=solar&from=2022-03-01&to=2022-01-31")

    assert (response.status_code, response.content_type) == (400, "text/plain; charset=utf-8")
    assert response.get_data(as_text=True) == (
        "That search could not be run: Parameter 'from' (2022-03-01) is after 'to' (2022-01-31); swap them.\n"
    )
