"""Articles: the engine-neutral record, and reading them from Markdown/text files with front matter."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from searchsvc.errors import DocumentError
from searchsvc.front_matter import SECRET_KEY, load_yaml, split_front_matter  # noqa: F401 - re-exported
from searchsvc.normalize import (
    canonical_url,
    clean_body,
    clean_text,
    domain_of,
    normalise_title_key,
    parse_datetime,
    parse_flag,
    parse_int,
    rejected_scheme,
)
from searchsvc.sources import ARTICLE_SUFFIXES, iter_article_files  # noqa: F401 - re-exported

INT32 = 2**31 - 1
_HEADING_START = re.compile(r"\s{0,3}#{1,6}\s+")


@dataclass
class Article:
    """One news article, as every engine and renderer sees it. ``secured`` never gets here."""

    id: str
    path: str
    title: str
    excerpt: str = ""
    body: str = ""
    published_at: dt.datetime | None = None
    provider: str = ""
    domain: str = ""
    topics: list[str] = field(default_factory=list)
    category: str = ""
    type: str = ""
    published: bool | None = None
    quality: int | None = None
    heat: int | None = None
    url: str = ""
    original_url: str = ""
    image: str = ""
    related_to: str = ""
    related_ids: list[str] = field(default_factory=list)

    @property
    def is_related(self) -> bool:
        return bool(self.related_to)

    @property
    def title_key(self) -> str:
        return normalise_title_key(self.title)


@dataclass
class ParsedFile:
    """What one file yields: its article, its related articles, and warnings that did not stop it."""

    path: str
    articles: list[Article]
    warnings: list[str] = field(default_factory=list)


def iter_article_paths(roots: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Article files below each root, sorted, skipping hidden entries and never looping on links."""
    for path in iter_article_files(roots):
        yield Path(path)


def decode_article_bytes(path: str, data: bytes) -> tuple[str, list[str]]:
    """Text of a file: UTF-8 (with or without BOM), else Windows-1252 with a warning."""
    if not data.strip():
        raise DocumentError(path, "empty file")
    if b"\x00" in data[:8192]:
        raise DocumentError(path, "binary file (contains NUL bytes), not an article")
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        utf8_error = exc
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        line = data[: utf8_error.start].count(b"\n") + 1
        raise DocumentError(
            path, f"not UTF-8 text (byte 0x{data[utf8_error.start]:02x}) nor Windows-1252", line
        ) from None
    line = data[: utf8_error.start].count(b"\n") + 1
    return text, [f"{path}:{line}: not UTF-8; read as Windows-1252"]


def parse_article(path: str | os.PathLike[str], data: bytes | None = None, id_path: str | None = None) -> ParsedFile:
    """Read one file into its article and its related articles.

    ``id_path`` is the id of an article without a URL (default: ``path``); the indexer gives the
    path below the source folder, named after it (``news/a.md`` for ``/srv/news/a.md``).
    Raises DocumentError (with the path and, where known, the line) when the file is not an article.
    """
    path = str(path)
    id_path = path if id_path is None else id_path
    if data is None:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise DocumentError(path, f"cannot read file: {exc.strerror or exc}") from None
    text, warnings = decode_article_bytes(path, data)
    meta, body = split_front_matter(path, text)
    try:
        return _articles(path, meta, body, warnings, id_path)
    except RecursionError:
        reason = "front matter is nested too deeply to read (hundreds of levels); flatten it"
        raise DocumentError(path, reason) from None


def _articles(path: str, meta: dict[str, Any], body: str, warnings: list[str], id_path: str) -> ParsedFile:
    parent = build_article(path, meta, body, warnings, where="", id_path=id_path)
    articles = [parent]
    related = meta.get("related")
    if related is not None and not isinstance(related, list):
        warnings.append(f"{path}: related is not a list; ignored")
        related = []
    for position, entry in enumerate(related or []):
        if not isinstance(entry, dict):
            warnings.append(f"{path}: related[{position}] is not a mapping; ignored")
            continue
        try:
            child = build_article(path, entry, "", warnings, where=f"related[{position}]", id_path=id_path)
        except DocumentError as exc:
            warnings.append(f"{path}: related[{position}] skipped: {exc.reason}")
            continue
        child.related_to = parent.id
        parent.related_ids.append(child.id)
        articles.append(child)
    return ParsedFile(path, articles, warnings)


def build_article(
    path: str, meta: dict[str, Any], body: str, warnings: list[str], where: str, id_path: str | None = None
) -> Article:
    """Normalise one front-matter mapping (a file's, or one of its related entries)."""
    id_path = path if id_path is None else id_path
    label = f"{path}: {where + '.' if where else ''}"
    body_text = clean_body(body)
    title = clean_text(meta.get("title"))
    if not title:
        title, body_text = _title_from_body(body, body_text)
    if not title:
        raise DocumentError(path, "no title (no 'title' in the front matter and no heading or first line)")

    web_url = _url(meta.get("webUrl"), f"{label}webUrl", warnings)
    original_url = _url(meta.get("originalUrl"), f"{label}originalUrl", warnings)
    provider_name, provider_domain = _provider(meta.get("provider"))
    domain = (provider_domain or domain_of(web_url or original_url)).lower()
    if domain.startswith("www."):
        domain = domain[4:]

    raw_date = meta.get("publishedDateTime", meta.get("published_at", meta.get("date")))
    published_at = parse_datetime(raw_date)
    if published_at is None:
        if raw_date in (None, ""):
            warnings.append(f"{label}no publishedDateTime; indexed without a date")
        else:
            warnings.append(f"{label}publishedDateTime {_shown(raw_date)} is not a date; indexed without a date")

    numbers = {}
    for key in ("quality", "heat"):
        raw = meta.get(key)
        numbers[key] = parse_int(raw)
        if raw is not None and numbers[key] is None:
            warnings.append(f"{label}{key} {_shown(raw)} is not a number; ignored")
        elif numbers[key] is not None and abs(numbers[key]) > INT32:
            warnings.append(f"{label}{key} {_shown(raw)} is out of range (±{INT32}); ignored")
            numbers[key] = None

    published = parse_flag(meta.get("published"))
    if meta.get("published") is not None and published is None:
        warnings.append(f"{label}published {_shown(meta.get('published'))} is not true/false; ignored")

    identifier = web_url or original_url or (f"{id_path}#{where}" if where else id_path)
    return Article(
        id=identifier,
        path=path,
        title=title,
        excerpt=clean_text(meta.get("excerpt", meta.get("description"))),
        body=body_text,
        published_at=published_at,
        provider=provider_name,
        domain=domain,
        topics=_topics(meta.get("topics")),
        category=clean_text(meta.get("category")),
        type=clean_text(meta.get("type")),
        published=published,
        quality=numbers["quality"],
        heat=numbers["heat"],
        url=web_url or original_url,
        original_url=original_url,
        image=_image(meta.get("images"), meta.get("image"), f"{label}image", warnings),
    )


def _title_from_body(raw_body: str, body_text: str) -> tuple[str, str]:
    """A Markdown heading, else the first non-empty line of a plain text file, as the title."""
    lines = raw_body.strip().splitlines()
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        heading = _heading_text(line)
        title = clean_text(line if heading is None else heading)
        if len(title) > 300:
            return "", body_text
        return title, clean_body("\n".join(lines[number + 1 :]))
    return "", body_text


def _heading_text(line: str) -> str | None:
    """The text of a Markdown ATX heading (``## Text ##``), or None when the line is not one.
    (String methods, not a regex: a lazy ``(.+?)\\s*#*\\s*$`` backtracks quadratically.)"""
    start = _HEADING_START.match(line)
    if start is None:
        return None
    rest = line[start.end() :]
    return rest.rstrip().rstrip("#").rstrip() or rest[:1]


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _shown(value: Any) -> str:
    """A value as quoted in a warning, cut to a readable length."""
    return _shorten(repr(value), 80)


def _url(value: Any, label: str, warnings: list[str]) -> str:
    url = canonical_url(value)
    if not url:
        scheme = rejected_scheme(value)
        if scheme:
            warnings.append(f"{label} has the scheme {scheme!r}: only http and https URLs are kept; dropped")
    return url


def _provider(value: Any) -> tuple[str, str]:
    if isinstance(value, dict):
        return clean_text(value.get("name")), clean_text(value.get("domain"))
    if isinstance(value, str):
        return clean_text(value), ""
    return "", ""


def _topics(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    topics: list[str] = []
    for item in items:
        name = clean_text(item.get("name") if isinstance(item, dict) else item)
        if name and name not in topics:
            topics.append(name)
    return topics


def _image(images: Any, single: Any, label: str, warnings: list[str]) -> str:
    candidates = list(images) if isinstance(images, list) else [images]
    candidates.append(single)
    for item in candidates:
        url = _url(item.get("url") if isinstance(item, dict) else item, label, warnings)
        if url:
            return url
    return ""
