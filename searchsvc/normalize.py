"""Cleaning of the messy values real news feeds carry: mojibake, HTML, dates, numbers, URLs."""

from __future__ import annotations

import datetime as dt
import html
import re
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit, urlunsplit

import ftfy

# Where a tag may start: a script or style element, a comment, or any other tag (closed by '>').
# Their ends are looked for by _strip_tags, which never searches the same text twice (a lazy
# '<script.*?</script>' rescans the rest of the text for every unclosed '<script').
_TAG_START = re.compile(r"<(?:(script|style)\b|(!--)|/?[A-Za-z][^<>]*>)", re.I)
_PLAIN_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_TAG_ENDS = {
    "script": re.compile(r"</script\s*>", re.I),
    "style": re.compile(r"</style\s*>", re.I),
    "!--": re.compile(r"-->"),
}
# &#<many digits>: html.unescape would turn them into an int (quadratic, and refused past 4300 digits)
_LONG_CHARREF = re.compile(r"&#(?:[xX][0-9a-fA-F]{9,}|[0-9]{9,});?")
_TRUNCATION = re.compile(r"\s*(?:…|\.\.\.)?\s*\[\+\d+ chars\]\s*$")
# UTF-8 read as Windows-1252/Latin-1 always shows a lead byte (Â..ô) before a continuation byte;
# ftfy is only asked to look at text with such a pair (it is slow, and most text is clean).
_MOJIBAKE = re.compile(
    "\u00c2 |[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)
_FTFY_CONFIG = ftfy.TextFixerConfig(unescape_html=False, uncurl_quotes=False, explain=False)


def clean_text(value: object) -> str:
    """Repair mojibake, strip tags, unescape entities and collapse whitespace.

    Tags are stripped before entities are unescaped, so an escaped ``&lt;script&gt;`` in a title
    survives as the literal text ``<script>`` (and is escaped again wherever it is shown).
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if not text.isascii() and _MOJIBAKE.search(text):
        text = ftfy.fix_text(text, _FTFY_CONFIG)
    if "<" in text:
        text = _strip_tags(text)
    if "&" in text:
        if "&#" in text:
            text = _LONG_CHARREF.sub(_short_charref, text)
        text = html.unescape(text)
        if not text.isascii() and _MOJIBAKE.search(text):
            text = ftfy.fix_text(text, _FTFY_CONFIG)
    return " ".join(text.split())


def _strip_tags(text: str) -> str:
    """Replace each tag (and each whole script/style element and comment) by a space, in linear time.

    Scanning goes left to right, so the end found for one kind of element (or the fact that there
    is none) also answers for every later start of that kind: each end is searched for once.
    """
    out: list[str] = []
    ends: dict[str, re.Match[str] | None] = {}
    pos = 0
    while (start := _TAG_START.search(text, pos)) is not None:
        kind = start.group(1) or start.group(2)
        end = None
        if kind:
            kind = kind.lower()
            end = ends.get(kind, False)
            if end is False or (end is not None and end.start() < start.end()):
                end = ends[kind] = _TAG_ENDS[kind].search(text, start.end())
            if end is None and kind != "!--":
                end = _PLAIN_TAG.match(text, start.start())  # an unclosed <script ...> is one tag
        else:
            end = start
        if end is None:
            out.append(text[pos : start.start() + 1])
            pos = start.start() + 1
            continue
        out.append(text[pos : start.start()])
        out.append(" ")
        pos = end.end()
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


def _short_charref(match: re.Match[str]) -> str:
    """A numeric character reference without its leading zeros; U+FFFD when it is out of range."""
    ref = match.group(0).rstrip(";")
    hexa = ref[2] in "xX"
    digits = ref[3 if hexa else 2 :].lstrip("0") or "0"
    if len(digits) > 8:
        return "\ufffd"
    return f"&#{'x' if hexa else ''}{digits};"


def clean_body(value: object) -> str:
    """Like clean_text, and drop a feed's ``… [+4857 chars]`` truncation marker."""
    return _TRUNCATION.sub("", clean_text(value))


_EXTRA_FORMATS = (
    "%B %d, %Y %I:%M %p",
    "%b %d, %Y %I:%M %p",
    "%B %d, %Y",
    "%b %d, %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
    "%m/%d/%Y",
    "%d.%m.%Y",
)


def parse_datetime(value: object) -> dt.datetime | None:
    """An aware UTC datetime from a YAML timestamp, ISO string, date, RFC 2822 string or epoch.

    Returns None when the value is missing or cannot be read as a date.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, dt.datetime):
        return _as_utc(value)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if isinstance(value, int | float):
        try:
            return dt.datetime.fromtimestamp(float(value), tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip()
    if not text:
        return None
    try:
        return _as_utc(dt.datetime.fromisoformat(text.replace(" UTC", "+00:00")))
    except ValueError:
        pass
    for fmt in _EXTRA_FORMATS:  # before RFC 2822, whose parser ignores AM/PM
        try:
            return _as_utc(dt.datetime.strptime(text, fmt))
        except ValueError:
            continue
    try:
        return _as_utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        pass
    return None


def _as_utc(value: dt.datetime) -> dt.datetime | None:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None


def parse_int(value: object) -> int | None:
    """An integer from an int, a float or a numeric string; None when it is not a number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return int(round(number))


def parse_flag(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if value is None:
        return None
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    return None


def canonical_url(value: object) -> str:
    """A URL with its scheme and host lower-cased and its fragment dropped; '' if not a URL."""
    if not isinstance(value, str):
        return ""
    text = value.strip()
    if not text:
        return ""
    try:
        parts = urlsplit(text)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""  # javascript:, data:, ... never reach a link
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, ""))


def rejected_scheme(value: object) -> str:
    """The scheme of a URL that canonical_url drops for not being http(s) ('javascript'); else ''."""
    if not isinstance(value, str) or ":" not in value:
        return ""
    try:
        scheme = urlsplit(value.strip()).scheme.lower()
    except ValueError:
        return ""
    return scheme if scheme and scheme not in ("http", "https") else ""


def domain_of(url: str) -> str:
    """The host of a URL without a leading ``www.``."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host[4:] if host.startswith("www.") else host


def normalise_title_key(title: str) -> str:
    """A key under which syndicated copies of one story agree (used to collapse duplicates)."""
    text = title.lower()
    text = re.sub(r"\s+[-|–—]\s+[^-|–—]{2,60}$", "", text)  # " - Provider Name" suffix
    return " ".join(re.findall(r"\w+", text))
