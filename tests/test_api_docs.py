"""The OpenAPI description describes every parameter and field, and /api/docs renders it as a page
(server-side, own assets only, under the site's Content-Security-Policy), linked from every footer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_web_pages import Page, get
from test_web_security import SECURITY_HEADERS
from web_fixtures import (  # noqa: F401 - fixtures register by being imported
    Server,
    app_fixture,
    client_fixture,
    live_server_fixture,
    web_corpus_fixture,
    web_index_fixture,
)

from searchsvc.config import Settings
from searchsvc.web.docs import build_docs, type_label
from searchsvc.web.openapi import spec

CHROMIUM = Path("/usr/bin/chromium")
OPERATIONS = [
    "GET /api/search",
    "GET /api/export.csv",
    "GET /api/export.jsonl",
    "GET /api/articles/{id}",
    "GET /api/article",
    "GET /api/suggest",
    "GET /api/stats",
    "POST /api/admin/reindex",
    "GET /healthz",
    "GET /readyz",
]


def undescribed(schema: dict, where: str) -> list[str]:
    """Where a schema's properties (nested ones too) lack a description."""
    found = []
    for name, prop in schema.get("properties", {}).items():
        if not prop.get("description", "").strip():
            found.append(f"{where}.{name}")
        found += undescribed(prop, f"{where}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            found += undescribed(schema[key], f"{where}[{key}]")
    return found


def section(html: str, anchor: str) -> Page:
    """The part of the page in the section with this id."""
    return Page(html.split(f'id="{anchor}"', 1)[1].split("</section>", 1)[0])


def test_every_parameter_and_every_schema_property_in_the_description_has_a_description():
    document = spec(Settings())
    offenders = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            for param in operation["parameters"]:
                if not param.get("description", "").strip():
                    offenders.append(f"{method.upper()} {path} parameter {param['name']}")
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            offenders += undescribed(body.get("schema", {}), f"{method.upper()} {path} body")
    for name, schema in document["components"]["schemas"].items():
        offenders += undescribed(schema, name)

    assert offenders == []


def test_the_walk_finds_a_property_without_a_description():
    schema = {"properties": {"a": {"type": "string"}, "b": {"type": "array", "items": {"properties": {"c": {}}}}}}

    assert undescribed(schema, "X") == ["X.a", "X.b", "X.b[items].c"]


def test_the_docs_page_lists_every_operation_with_its_method_path_and_summary(client):
    response = client.get("/api/docs")
    page = Page(response.get_data(as_text=True))

    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    assert page.texts("h1") == ["searchsvc JSON API " + spec(Settings())["info"]["version"]]
    assert [t for t in page.texts("h2") if t.startswith(("GET", "POST"))] == OPERATIONS
    assert page.texts("p", class_="summary-line") == [
        "Search articles.",
        "Every result of a search as CSV, streamed.",
        "Every result of a search as JSON Lines, streamed.",
        "An article and the articles related to it.",
        "The same, with the id as a query parameter.",
        "Completions for a search box.",
        "What is in the index, and the state of re-index runs.",
        "Start a re-index run now (incremental unless full is true).",
        "The process is up.",
        "An index is open and searchable.",
    ]
    assert ("/api/openapi.json", "/api/openapi.json") in page.links()


def test_the_search_parameters_table_has_each_name_place_type_requirement_default_and_description(client):
    html = get(client, "/api/docs").html
    rows = [[" ".join(cell.text.split()) for cell in row] for row in table_rows(section(html, "get-api-search"))]

    assert [row[0] for row in rows] == [
        "q",
        "provider",
        "topic",
        "domain",
        "category",
        "type",
        "published",
        "from",
        "to",
        "sort",
        "page",
        "per_page",
        "facets",
        "facet_size",
        "collapse",
        "typos",
    ]
    by_name = {row[0]: row[1:] for row in rows}
    assert by_name["page"] == ["query", "integer, 1 to 1000", "no", "1", "Page number, from 1 to 1000."]
    assert by_name["per_page"] == [
        "query",
        "integer, 1 to 100",
        "no",
        "10",
        "Hits per page, from 1 to 100 (the page_size_max setting).",
    ]
    assert by_name["sort"][3] == "relevance"
    assert by_name["sort"][4] == (
        "Order of the hits: relevance (best match first), newest, oldest, or quality (highest first). "
        "One of: relevance, newest, oldest, quality."
    )
    assert by_name["provider"][1:4] == ["array of string", "no", "none"]
    assert by_name["q"][1] == "string, at most 4000 characters"


def test_other_operations_show_their_own_parameters(client):
    html = get(client, "/api/docs").html

    suggest = {
        row[0].text: [" ".join(c.text.split()) for c in row[1:]] for row in table_rows(section(html, "get-api-suggest"))
    }
    path_id = [" ".join(c.text.split()) for c in table_rows(section(html, "get-api-articles-id"))[0]]
    reindex = section(html, "post-api-admin-reindex")

    assert suggest["limit"] == ["query", "integer, 1 to 50", "no", "10", "At most this many suggestions, from 1 to 50."]
    assert path_id[:4] == ["id", "path", "string", "yes"]
    assert "Needs the admin token, as Authorization: Bearer <token> or X-Admin-Token: <token>." in reindex.texts("p")
    assert [" ".join(e.text.split()) for e in reindex.find("span", class_="status")] == [
        "202",
        "400",
        "401",
        "403",
        "404",
        "409",
        "500",
    ]


def table_rows(page: Page) -> list[list]:
    """The cells (th and td) of each body row, in order (the header row left out)."""
    rows, current = [], None
    for element in page.elements:
        if element.tag == "tr":
            current = []
            rows.append(current)
        elif element.tag in ("th", "td") and current is not None:
            current.append(element)
    return [row for row in rows if row and row[0].tag == "th" and row[0].attrs.get("scope") == "row"]


def test_responses_list_their_status_codes_and_the_fields_of_their_body_nested(client):
    html = get(client, "/api/docs").html
    search = section(html, "get-api-search")

    assert [" ".join(e.text.split()) for e in search.find("span", class_="status")] == [
        "200",
        "304",
        "400",
        "503",
        "500",
    ]
    names = [e.text for e in search.find("code", class_="field-name")]
    # SearchResults, with the fields of its inline query object nested after "query"
    assert names[:10] == ["ok", "query", "q", "filters", "published", "from", "to", "sort", "collapse", "typos"]
    assert "Header ETag: Changes with the index generation and the URL." in search.texts("p", class_="header-line")
    assert search.links() == [
        ("array of Hit", "#schema-Hit"),
        ("object of Facet", "#schema-Facet"),
        ("array of Correction", "#schema-Correction"),
        *[("Error", "#schema-Error")] * 3,  # 400, 503, 500
    ]
    assert search.texts("div", class_="field-about")[names.index("pages")] == (
        "Pages that can be asked for: ceil(total / per_page), at most 1000."
    )


def test_the_error_shape_and_the_schemas_the_responses_refer_to_have_their_own_sections(client):
    html = get(client, "/api/docs").html
    error = section(html, "schema-Error")

    assert [e.text for e in error.find("code", class_="field-name")] == [
        "ok",
        "status",
        "error",
        "errors",
        "parameter",
        "message",
    ]
    assert error.texts("div", class_="field-about")[0] == "Always false in this answer. One of: false."
    assert [s.name for s in build_docs(spec(Settings())).schemas] == [
        "Hit",
        "ExportRow",
        "Facet",
        "FacetValue",
        "Correction",
        "Reindex",
        "ReindexReport",
        "Error",
    ]
    for anchor in (
        "schema-Hit",
        "schema-Facet",
        "schema-FacetValue",
        "schema-Correction",
        "schema-Reindex",
        "schema-ReindexReport",
    ):
        assert f'id="{anchor}"' in html


def test_every_link_to_a_section_of_the_page_has_its_section(client):
    page = get(client, "/api/docs")
    ids = {e.attrs["id"] for e in page.elements if "id" in e.attrs}
    targets = {href[1:] for _, href in page.links() if href.startswith("#")}

    assert targets - ids == set()


def test_type_labels_say_the_type_its_limits_and_whether_it_may_be_null():
    assert type_label({"type": "integer", "minimum": 1, "maximum": 50}) == "integer, 1 to 50"
    assert type_label({"type": "string", "format": "date-time", "nullable": True}) == "string (date-time) or null"
    assert type_label({"type": "array", "items": {"$ref": "#/components/schemas/Hit"}}) == "array of Hit"
    assert type_label({"type": "object", "additionalProperties": {"type": "string"}}) == "object of string"
    assert type_label({"type": "array", "items": {"type": "string"}, "maxItems": 20}) == (
        "array of string, at most 20 items"
    )


def test_the_footer_of_the_search_page_links_to_the_docs_page(client):
    page = get(client, "/")

    assert page.links(href="/api/docs") == [("API", "/api/docs")]
    assert [link for link in page.links() if link[0] == "API"] == [("API", "/api/docs")]


def test_the_docs_page_uses_only_its_own_stylesheets_and_script_and_carries_the_security_headers(client):
    response = client.get("/api/docs")
    page = Page(response.get_data(as_text=True))

    assert {name: response.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS
    assert [e.attrs["href"] for e in page.find("link")] == ["/static/style.css", "/static/api_docs.css"]
    assert [e.attrs.get("src") for e in page.find("script")] == ["/static/search.js"]
    assert all(not e.text.strip() for e in page.find("script"))
    assert page.find("style") == []
    inline = [(e.tag, name) for e in page.elements for name in e.attrs if name == "style" or name.startswith("on")]
    assert inline == []
    external = [e.attrs for e in page.find("link") + page.find("script") if re.search(r"https?://", str(e.attrs))]
    assert external == []


def test_the_docs_stylesheet_is_served_from_the_package(client):
    response = client.get("/static/api_docs.css")
    css = response.get_data(as_text=True)
    response.close()

    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert "@media (max-width: 820px)" in css
    assert not re.search(r"https?://|@import|url\(", css)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium (apt-get install -y chromium)")
def test_the_docs_page_fits_a_phone_without_scrolling_sideways_or_breaking_the_policy(live_server: Server):
    from playwright.sync_api import sync_playwright
    from test_browser import ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844})  # no zooming out
            page = context.new_page()
            violations: list[str] = []
            page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
            page.goto(live_server.url + "/api/docs")
            sideways = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            header_hidden = page.locator("#get-api-search thead").is_hidden()
            page.locator("footer a", has_text="API").click()
            page.wait_for_url(live_server.url + "/api/docs")
        finally:
            browser.close()

    assert (sideways, header_hidden, violations) == (0, True, [])
