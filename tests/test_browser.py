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
    assert re.fullmatch(r"6 results for “climate” in \d+ ms", summary(page))
    assert facet_counts(page, "provider") == [
        ("Green Wire", "4", False),
        ("Daily Planet", "1", False),
        ("Tech Times", "1", False),
    ]
    assert page.locator(".chip").count() == 0

    page.get_by_label("Green Wire").check()  # submits the form by itself
    page.wait_for_url(live_server.url + "/?q=climate&per_page=2&provider=Green+Wire")
    assert re.fullmatch(r"4 results for “climate” in \d+ ms", summary(page))
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
    assert re.fullmatch(r"6 results for “climate” in \d+ ms", summary(page))
    assert not page.get_by_label("Green Wire").is_checked()


def test_removing_a_chip_and_sorting_keep_the_rest_of_the_search(page, live_server: Server):
    page.goto(live_server.url + "/?q=energy&provider=Daily+Planet&topic=Energy")
    assert summary(page).startswith("3 results")

    page.locator(".chip", has_text="Topic: Energy").click()
    page.wait_for_url(live_server.url + "/?q=energy&provider=Daily+Planet")
    assert texts(page, ".chip") == ["Provider: Daily Planet× (remove filter)"]

    page.select_option("#sort", "oldest")
    page.wait_for_url(live_server.url + "/?q=energy&sort=oldest&provider=Daily+Planet")
    assert titles(page) == [
        "Solar farms power a quiet revolution",
        "Wind turbines grow taller every year",
        "Heat pumps replace gas boilers",
    ]
    assert page.locator("#sort").input_value() == "oldest"


def test_the_page_stacks_filters_under_results_on_a_narrow_screen(browser, live_server: Server, tmp_path: Path):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/?q=solar")
        results = page.locator(".results").bounding_box()
        filters = page.locator(".filters").bounding_box()
        assert filters["y"] >= results["y"] + results["height"]
        assert filters["width"] == pytest.approx(results["width"], abs=1)
        save(page, tmp_path, "results-narrow.png")
    finally:
        context.close()


def test_suggestions_fill_the_datalist_while_typing(page, live_server: Server):
    page.goto(live_server.url + "/")
    page.locator("#q").press_sequentially("sol", delay=30)
    # a selector, not wait_for_function: the page's Content-Security-Policy forbids eval()
    page.wait_for_selector("#suggestions option", state="attached")

    assert page.eval_on_selector_all("#suggestions option", "els => els.map(e => e.value)") == ["solar"]


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
    page.locator("[data-back]").click()  # the script's own handler
    page.wait_for_url(live_server.url + "/?q=climate")

    assert violations == []
    # the bars' heights come from the stylesheet's h-N classes: January 2 articles, March 4
    assert len(heights) == 2 and heights[1] == pytest.approx(2 * heights[0], abs=2)
