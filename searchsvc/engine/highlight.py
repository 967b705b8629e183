"""Highlighted snippets: HTML-escaped text with <mark> around the words a query matched."""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape

from searchsvc.engine.schema import TOKEN_PATTERN, analyse_token, text_analyzer

_ANALYZER = text_analyzer()
_TOKENS = re.compile(TOKEN_PATTERN)
_TERMS: dict[str, str] = {}


# letters the analyzer's accent folding changes (Latin-1 and Latin Extended letters and beyond)
_ACCENTED = re.compile(r"[^\x00-\x7f\u2000-\u206f\u00a0-\u00bf\u00d7\u00f7]")


@lru_cache(maxsize=4096)
def _candidate_pattern(terms: tuple[str, ...]) -> re.Pattern:
    alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})\w*", re.IGNORECASE)


def _candidates(wanted: set[str], prefixes: tuple[str, ...]) -> re.Pattern:
    # A stem can end differently from its word ("happy" -> "happi", "sensibility" ->
    # "sensibl"), so candidates are words starting with the stem less its last letters.
    stems = set(wanted) | set(prefixes)
    return _candidate_pattern(tuple(sorted({t[: max(2, len(t) - 3)] for t in stems})))


def _matches(word: str, wanted: set[str], prefixes: tuple[str, ...]) -> bool:
    return word in wanted or (bool(prefixes) and word.startswith(prefixes))


def highlight(text: str, wanted: set[str], prefixes: tuple[str, ...] = (), fragment: int = 0) -> str:
    """``text`` escaped, with matched words in <mark>. With ``fragment``, only the best window
    of about that many characters (with an ellipsis where it was cut)."""
    if not text:
        return ""
    spans = []
    if wanted or prefixes:
        # Without accented letters (which the analyzer folds), a word can only match when it
        # starts with a wanted term: let a regular expression find those, then check each.
        finder = _candidates(wanted, prefixes) if not _ACCENTED.search(text) else _TOKENS
        for match in finder.finditer(text):
            token = match.group()
            term = _TERMS.get(token)
            if term is None:
                term = analyse_token(_ANALYZER, token)
                if len(_TERMS) < 500_000:
                    _TERMS[token] = term
            if term and _matches(term, wanted, prefixes):
                spans.append(match.span())
    start, end = 0, len(text)
    if fragment and len(text) > fragment:
        start, end = _best_window(text, spans, fragment)
    out, position = [], start
    for a, b in spans:
        if a < start or b > end:
            continue
        out.append(escape(text[position:a]))
        out.append("<mark>" + escape(text[a:b]) + "</mark>")
        position = b
    out.append(escape(text[position:end]))
    html = "".join(out)
    if start > 0:
        html = "…" + html
    if end < len(text):
        html += "…"
    return html


def _best_window(text: str, spans: list[tuple[int, int]], size: int) -> tuple[int, int]:
    """The window of ``size`` characters holding most matches, widened to word boundaries."""
    best_start, best_count = 0, -1
    for i, (a, _) in enumerate(spans):
        count = sum(1 for c, d in spans[i:] if d <= a + size)
        if count > best_count:
            best_start, best_count = max(0, a - size // 4), count
    start = best_start
    if start > 0:
        space = text.rfind(" ", 0, start)
        start = space + 1 if space != -1 and start - space < 30 else start
    end = min(len(text), start + size)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start + size // 2 else end
    return start, end
