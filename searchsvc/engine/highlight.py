"""Highlighted snippets: HTML-escaped text with <mark> around the words a query matched."""

from __future__ import annotations

import re
from html import escape

from searchsvc.engine.schema import TOKEN_PATTERN, analyse_token, text_analyzer

_ANALYZER = text_analyzer()
_TOKENS = re.compile(TOKEN_PATTERN)
_TERMS: dict[str, str] = {}


def _matches(word: str, wanted: set[str], prefixes: tuple[str, ...]) -> bool:
    return word in wanted or (bool(prefixes) and word.startswith(prefixes))


def highlight(text: str, wanted: set[str], prefixes: tuple[str, ...] = (), fragment: int = 0) -> str:
    """``text`` escaped, with matched words in <mark>. With ``fragment``, only the best window
    of about that many characters (with an ellipsis where it was cut)."""
    if not text:
        return ""
    spans = []
    if wanted or prefixes:
        for match in _TOKENS.finditer(text):
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
