"""The search page in a real headless Chromium against a real server: search, facets, paging and
the back button, with JavaScript on. Screenshots land in test-output/ (git-ignored)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_fixtures import (  # noqa: F401 - fixtures register by being imported
    OUTPUT,
    Server,
    live_server_fixture,
    start_server,
    write_corpus,
)

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium (apt-get install -y chromium)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
        assert errors == [], f"JavaScript errors: {errors}"
    finally:
        context.close()


def summary(page) -> str:
    return " ".join(page.locator("#results-heading").inner_text().split())


TOOK = r"in (\d+|under 1) ms"  # a cached answer takes under a millisecond


def facet_counts(page, name: str) -> list[tuple[str, str, bool]]:
    rows = []
    for label in page.locator(f"#facet-{name} label").all():
        checkbox = label.locator("input")
        rows.append(
            (label.locator(".facet-name").inner_text(), label.locator(".count").inner_text(), checkbox.is_checked())
        )
    return rows


def texts(page, selector: str) -> list[str]:
    """The text of each match as a screen reader reads it (hidden helper text included)."""
    return [" ".join(t.split()) for t in page.locator(selector).all_text_contents()]


def titles(page) -> list[str]:
    return [t.strip() for t in page.locator(".hit-title").all_inner_texts()]


def save(page, tmp_path: Path, name: str) -> Path:
    shot = tmp_path / name
    page.screenshot(path=str(shot), full_page=True)
    OUTPUT.mkdir(exist_ok=True)
    shutil.copy(shot, OUTPUT / name)
    return shot


def test_search_tick_a_facet_page_and_go_back_in_a_real_browser(page, live_server: Server, tmp_path: Path):
    page.goto(live_server.url + "/?per_page=2")
    assert page.evaluate("document.activeElement.id") == "q"  # autofocus on the empty page

    page.fill("#q", "climate")
    page.press("#q", "Enter")
    page.wait_for_url(live_server.url + "/?q=climate&per_page=2")
    assert re.fullmatch(r"6 results for “climate” " + TOOK, summary(page))
    assert facet_counts(page, "provider") == [
        ("Green Wire", "4", False),
        ("Daily Planet", "1", False),
        ("Tech Times", "1", False),
    ]
    assert page.locator(".chip").count() == 0

    page.get_by_label("Green Wire").check()  # submits the form by itself
    page.wait_for_url(live_server.url + "/?q=climate&per_page=2&provider=Green+Wire")
    assert re.fullmatch(r"4 results for “climate” " + TOOK, summary(page))
    assert facet_counts(page, "provider") == [
        ("Green Wire", "4", True),
        ("Daily Planet", "1", False),
        ("Tech Times", "1", False),
    ]
    assert facet_counts(page, "topic") == [("Climate", "4", False), ("Energy", "1", False), ("Space", "1", False)]
    assert texts(page, ".chip") == ["Provider: Green Wire× (remove filter)"]
    first_page = titles(page)
    assert len(first_page) == 2
    save(page, tmp_path, "results.png")

    page.get_by_role("link", name="Page 2").click()
    page.wait_for_url(live_server.url + "/?q=climate&provider=Green+Wire&per_page=2&page=2")
    second_page = titles(page)
    assert len(second_page) == 2 and not set(second_page) & set(first_page)
    assert texts(page, "a[aria-current=page]") == ["Page 2"]

    page.go_back()
    page.wait_for_url(live_server.url + "/?q=climate&per_page=2&provider=Green+Wire")
    assert titles(page) == first_page
    assert page.get_by_label("Green Wire").is_checked()

    page.go_back()
    page.wait_for_url(live_server.url + "/?q=climate&per_page=2")
    assert re.fullmatch(r"6 results for “climate” " + TOOK, summary(page))
    assert not page.get_by_label("Green Wire").is_checked()


def test_removing_a_chip_and_sorting_keep_the_rest_of_the_search(page, live_server: Server):
    page.goto(live_server.url + "/?q=energy&provider=Daily+Planet&topic=Energy")
    assert summary(page).startswith("3 results")

    page.locator(".chip", has_text="Topic: Energy").click()
    page.wait_for_url(live_server.url + "/?q=energy&provider=Daily+Planet")
    assert texts(page, ".chip") == ["Provider: Daily Planet× (remove filter)"]

    page.select_option("#sort", "oldest")
    page.wait_for_url(live_server.url + "/?q=energy&provider=Daily+Planet&sort=oldest")
    assert titles(page) == [
        "Solar farms power a quiet revolution",
        "Wind turbines grow taller every year",
        "Heat pumps replace gas boilers",
    ]
    assert page.locator("#sort").input_value() == "oldest"


def suggestions(page) -> list[str]:
    return [" ".join(t.split()) for t in page.locator("#suggest-list [role=option]").all_inner_texts()]


def test_suggestions_list_words_and_pairs_of_titles_while_typing(page, live_server: Server):
    page.goto(live_server.url + "/")
    page.locator("#q").press_sequentially("sol", delay=30)
    # a selector, not wait_for_function: the page's Content-Security-Policy forbids eval()
    page.wait_for_selector("#suggest-list [role=option]")

    assert suggestions(page) == ["solar", "solar cooperatives", "solar energy", "Solar farms"]
    assert page.locator("#q").get_attribute("aria-expanded") == "true"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.locator("#q").get_attribute("aria-activedescendant") == "suggest-1"
    page.keyboard.press("Enter")  # a word: into the box, and searched
    page.wait_for_url(live_server.url + "/?q=solar+cooperatives")
    assert page.locator("#q").input_value() == "solar cooperatives"


def test_choosing_a_provider_suggestion_ticks_its_filter_and_keeps_the_words_before_it(
    page, live_server: Server, tmp_path: Path
):
    page.goto(live_server.url + "/")
    page.locator("#q").press_sequentially("gree", delay=30)
    page.wait_for_selector("#suggest-list [role=option]")
    assert suggestions(page) == ["Green Wire · Provider filter"]
    page.keyboard.press("ArrowDown")
    save(page, tmp_path, "suggestions.png")
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/?provider=Green+Wire")
    assert page.get_by_label("Green Wire").is_checked()
    assert page.locator("#q").input_value() == ""
    assert texts(page, ".chip") == ["Provider: Green Wire× (remove filter)"]

    # on a results page: the typed words before the name stay the query, the other filters stay
    page.goto(live_server.url + "/?q=climate&topic=Energy")
    page.locator("#q").fill("")
    page.locator("#q").press_sequentially("solar da", delay=30)
    page.wait_for_selector("#suggest-list [role=option]")
    assert suggestions(page) == ["Daily Planet · Provider filter"]
    page.locator("#suggest-list [role=option]").first.click()
    page.wait_for_url(live_server.url + "/?q=solar&provider=Daily+Planet&topic=Energy")
    assert page.get_by_label("Daily Planet").is_checked()
    assert page.locator("#q").input_value() == "solar"


def test_escape_closes_the_suggestions_and_enter_then_searches_what_was_typed(page, live_server: Server):
    page.goto(live_server.url + "/")
    page.locator("#q").press_sequentially("sol", delay=30)
    page.wait_for_selector("#suggest-list [role=option]")
    page.keyboard.press("Escape")
    assert (page.locator("#suggest-list").is_visible(), page.locator("#q").input_value()) == (False, "sol")
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/?q=sol")


def test_the_pages_work_under_their_content_security_policy_without_a_violation(page, live_server: Server):
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )

    page.goto(live_server.url + "/?q=climate")
    heights = [box["height"] for box in (bar.bounding_box() for bar in page.locator("a.bar").all())]
    page.locator("a.related-link").first.click()
    page.wait_for_url(re.compile(r".*/articles/.*"))
    assert page.locator("#q").input_value() == "climate"  # the article page keeps the search (Referer)
    page.locator("[data-back]").click()  # the script's own handler
    page.wait_for_url(live_server.url + "/?q=climate")

    assert violations == []
    # the bars' heights come from the stylesheet's h-N classes: January 2 articles, March 4
    assert len(heights) == 2 and heights[1] == pytest.approx(2 * heights[0], abs=2)


# issue 13, "The page": phones, the keyboard, why a card matched, the date bars

LONG_DOMAIN = "news.the-regional-broadcasting-corporation-of-somewhere-far-away.example"
LONG_ARTICLE = f"""---
title: "Solar subsidies reach the countryside"
excerpt: "About solar subsidies. A short summary of the story."
publishedDateTime: 2022-02-10T09:00:00Z
webUrl: https://{LONG_DOMAIN}/solar-subsidies-for-every-village-and-farm-in-the-whole-region
provider:
  name: TheRegionalBroadcastingCorporationOfSomewhereFarAway
  domain: {LONG_DOMAIN}
topics:
  - Energy
images:
  - url: https://{LONG_DOMAIN}/img/solar.jpg
---
Solar subsidies reach the countryside.
"""


@pytest.fixture(scope="module")
def phone_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose corpus also holds an article with a thumbnail and a very long domain."""
    workdir = tmp_path_factory.mktemp("phone")
    corpus = write_corpus(workdir / "corpus")
    (corpus / "long.md").write_text(LONG_ARTICLE, encoding="utf-8")
    yield from start_server(corpus, workdir / "index", workdir)


def sideways(page) -> int:
    """How far the page scrolls sideways (0: it fits the viewport)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def test_a_phone_shows_cards_with_thumbnails_and_long_domains_without_scrolling_sideways(
    browser, phone_server: Server, tmp_path: Path
):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    try:
        page = context.new_page()
        page.route("**/img/*.jpg", lambda route: route.abort())  # no outside hosts: the thumbnails fail
        page.goto(phone_server.url + "/?q=solar")
        assert "Solar subsidies reach the countryside" in titles(page)
        assert page.locator(".hit .domain", has_text=LONG_DOMAIN).count() == 1
        assert sideways(page) == 0
        save(page, tmp_path, "results-phone.png")

        # the filters fold into a "Filters" button above the results
        toggle = page.locator(".filters-toggle")
        results = page.locator(".results").bounding_box()
        assert toggle.is_visible() and toggle.bounding_box()["y"] < results["y"]
        assert not page.get_by_label("Green Wire").is_visible()
        toggle.click()
        assert page.get_by_label("Green Wire").is_visible()
        filters = page.locator(".filters").bounding_box()
        assert filters["y"] + filters["height"] <= page.locator(".results").bounding_box()["y"]
        assert sideways(page) == 0
        save(page, tmp_path, "results-phone-filters.png")
    finally:
        context.close()


def test_a_phone_shows_thumbnails_at_the_phone_size(browser, phone_server: Server):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        # a loaded thumbnail (an inline image: the page may load http(s) and data: images)
        page.route(
            "**/img/*.jpg",
            lambda route: route.fulfill(
                content_type="image/gif",
                body=bytes.fromhex(
                    "47494638396101000100800000ffffff00000021f90401000000002c00000000010001000002024401003b"
                ),
            ),
        )
        page.goto(phone_server.url + "/?q=solar")
        page.wait_for_selector(".hit .thumb")
        boxes = [thumb.bounding_box() for thumb in page.locator(".hit .thumb").all()]
        assert [(box["width"], box["height"]) for box in boxes] == [(64, 64), (64, 64)]
        assert sideways(page) == 0
    finally:
        context.close()


def test_the_keyboard_reaches_the_first_facet_in_two_tabs_and_keeps_focus_after_ticking_it(page, live_server: Server):
    page.goto(live_server.url + "/?q=climate")
    page.focus("#q")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Search"
    page.keyboard.press("Tab")
    assert page.evaluate("[document.activeElement.name, document.activeElement.value]") == ["provider", "Green Wire"]

    page.keyboard.press("Space")  # ticks it; the page reloads with the filter
    page.wait_for_url(live_server.url + "/?q=climate&provider=Green+Wire")
    page.wait_for_load_state("load")
    assert page.evaluate(
        "[document.activeElement.name, document.activeElement.value, document.activeElement.checked]"
    ) == [
        "provider",
        "Green Wire",
        True,
    ]
    page.keyboard.press("Tab")
    assert page.evaluate("[document.activeElement.name, document.activeElement.value]") == ["provider", "Daily Planet"]

    page.focus("#sort")
    page.keyboard.press("ArrowDown")  # Newest first, applied at once
    page.wait_for_url(live_server.url + "/?q=climate&provider=Green+Wire&sort=newest")
    page.wait_for_load_state("load")
    assert page.evaluate("document.activeElement.id") == "sort"


def test_a_card_says_when_the_match_is_in_the_article_body(page, live_server: Server):
    page.goto(live_server.url + "/?q=words&per_page=3")

    snippets = page.locator(".hit .snippet")
    assert snippets.count() == 3
    assert [s.split(":")[0] for s in snippets.all_inner_texts()] == ["In the article"] * 3
    assert page.locator(".hit .snippet mark").all_inner_texts() == ["words"] * 3


def test_a_date_bar_is_one_chip_and_clicking_it_again_removes_it(page, live_server: Server):
    page.goto(live_server.url + "/?q=climate")

    page.locator("a.bar").nth(1).click()
    page.wait_for_url(live_server.url + "/?q=climate&from=2022-03-01&to=2022-03-31")
    page.wait_for_load_state("load")
    assert texts(page, ".chip") == ["Published: March 2022× (remove filter)"]
    assert re.fullmatch(r"4 results for “climate” " + TOOK, summary(page))
    assert page.evaluate("document.activeElement.title") == "Remove the date filter March 2022 (4 articles)"

    page.locator("a.bar.selected").click()
    page.wait_for_url(live_server.url + "/?q=climate")
    assert page.locator(".chip").count() == 0
    assert re.fullmatch(r"6 results for “climate” " + TOOK, summary(page))


def test_a_wrong_date_range_typed_into_the_form_comes_back_with_the_message_beside_it(page, live_server: Server):
    page.goto(live_server.url + "/?q=climate")

    page.fill("input[name=from]", "2022-03-01")
    page.fill("input[name=to]", "2022-01-31")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(live_server.url + "/?q=climate&from=2022-03-01&to=2022-01-31")

    assert page.locator("#q").input_value() == "climate"
    assert page.evaluate("document.activeElement.id") == "date-from"
    assert page.locator("#date-error").inner_text() == (
        "Parameter 'from' (2022-03-01) is after 'to' (2022-01-31); swap them. "
        "The results below are not limited by date."
    )
    assert re.fullmatch(r"6 results for “climate” " + TOOK, summary(page))
