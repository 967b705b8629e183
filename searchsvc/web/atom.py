"""SearchResults as an Atom 1.0 feed (RFC 4287), built with ElementTree so every text is escaped."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

from searchsvc.search import SearchResults

ATOM = "http://www.w3.org/2005/Atom"
# characters XML 1.0 cannot carry at all, even escaped
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: str) -> str:
    return _INVALID_XML.sub("", value or "")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _text(v) for k, v in attrs.items()})
    if text is not None:
        element.text = _text(text)
    return element


def feed_title(results: SearchResults) -> str:
    request = results.request
    parts = [f"“{request.q}”"] if request.q else []
    parts += [f"{name}: {', '.join(values)}" for name, values in request.filters().items()]
    return "searchsvc: " + ("; ".join(parts) if parts else "newest articles")


def render_feed(results: SearchResults, self_url: str, html_url: str, empty_updated: str | None = None) -> bytes:
    """The feed as UTF-8 XML bytes. ``updated`` is the newest entry's date, so it is stable; with
    no dated entry, ``empty_updated`` (when the index was built), else the present moment."""
    feed = ET.Element("feed", {"xmlns": ATOM})
    dates = [hit.published for hit in results.hits if hit.published]
    updated = max(dates) if dates else empty_updated or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    _sub(feed, "title", feed_title(results))
    _sub(feed, "id", self_url)
    _sub(feed, "updated", updated)
    _sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=html_url)
    _sub(feed, "generator", "searchsvc")
    for hit in results.hits:
        entry = _sub(feed, "entry")
        _sub(entry, "title", hit.title)
        _sub(entry, "id", hit.id)
        _sub(entry, "updated", hit.published or updated)
        if hit.published:
            _sub(entry, "published", hit.published)
        _sub(entry, "link", rel="alternate", href=hit.url or hit.id)
        author = _sub(entry, "author")
        _sub(author, "name", hit.provider or hit.domain or "unknown")
        for topic in hit.topics:
            _sub(entry, "category", term=topic)
        if hit.excerpt:
            _sub(entry, "summary", hit.excerpt)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
