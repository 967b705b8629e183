"""Highlights: the spans of a field's text (or of its best fragment) that a query's words match."""

from __future__ import annotations

import re
from functools import lru_cache

from searchsvc.engine.interface import Highlight
from searchsvc.engine.whoosh_engine.schema import TOKEN_PATTERN, analyse_token, text_analyzer

_ANALYZER = text_analyzer()
_TOKENS = re.compile(TOKEN_PATTERN)
_TERMS: dict[str, str] = {}
# A field's highlighting looks at most this many characters of its text, and at most this many
# matches in them: the cost of a hit is bounded whatever the article holds ('boom ' * 20000).
MAX_SCANNED_CHARS = 50_000
MAX_MATCHES = 500


# letters the analyzer's accent folding changes (Latin-1 and Latin Extended letters and beyond)
_ACCENTED = re.compile(r"[^\x00-\x7f\u2000-\u206f\u00a0-\u00bf\u00d7\u00f7]")


# The apostrophes of texts without accented letters (the others, U+FF07 and U+02BC, are looked
# for among all tokens): one may join two letters of a word, and a term is its word without them.
_JOINS = "'\u2019\u2018"


@lru_cache(maxsize=4096)
def _candidate_pattern(terms: tuple[str, ...]) -> re.Pattern:
    # each a token (TOKEN_PATTERN) starting with the term's letters, an apostrophe between them
    # allowed ("dor" finds "d'Or"; the text is scanned with its curly ones made straight); a token
    # starts where no letter, and no letter and apostrophe, come before it, which is checked after
    # a term's first letter (over it): the scan then skips to where a term's first letter stands
    alternatives = "|".join(_alternative(t) for t in sorted(terms, key=len, reverse=True))
    return re.compile(rf"(?:{alternatives})(?:\w|'(?=\w))*", re.IGNORECASE | re.DOTALL)


def _alternative(term: str) -> str:
    if not term:
        return r"(?<!\w)(?<!\w')"
    return re.escape(term[0]) + r"(?<!\w.)(?<!\w'.)" + "".join("'?" + re.escape(c) for c in term[1:])


def _straight(text: str) -> str:
    """``text`` with its curly apostrophes (_JOINS) made straight: one character for one."""
    return text.replace("\u2019", "'").replace("\u2018", "'")


def _candidates(wanted: set[str], prefixes: tuple[str, ...]) -> re.Pattern:
    # A stem can end differently from its word ("happy" -> "happi", "sensibility" ->
    # "sensibl"), so candidates are words starting with the stem less its last letters.
    stems = set(wanted) | set(prefixes)
    return _candidate_pattern(tuple(sorted({t[: max(2, len(t) - 3)] for t in stems})))


def _matches(word: str, wanted: set[str], prefixes: tuple[str, ...]) -> bool:
    return word in wanted or (bool(prefixes) and word.startswith(prefixes))


def highlight(text: str, wanted: set[str], prefixes: tuple[str, ...] = (), fragment: int = 0) -> Highlight:
    """The spans of ``text`` whose words match (analysed as the index is). With ``fragment``, only
    the best window of about that many characters. Only the first MAX_SCANNED_CHARS characters are
    looked at (a longer text without ``fragment`` is cut there) and only the first MAX_MATCHES
    matches in them are marked."""
    if not text:
        return Highlight("")
    cut = len(text) > MAX_SCANNED_CHARS
    if cut:
        space = text.rfind(" ", MAX_SCANNED_CHARS - 30, MAX_SCANNED_CHARS)
        text = text[: space if space > 0 else MAX_SCANNED_CHARS]
    spans = []
    if wanted or prefixes:
        # Without accented letters (which the analyzer folds), a word can only match when it
        # starts with a wanted term: let a regular expression find those, then check each.
        accented = _ACCENTED.search(text)
        finder, scanned = (_TOKENS, text) if accented else (_candidates(wanted, prefixes), _straight(text))
        for match in finder.finditer(scanned):
            token = text[match.start() : match.end()]
            term = _TERMS.get(token)
            if term is None:
                term = analyse_token(_ANALYZER, token)
                if len(_TERMS) < 500_000:
                    _TERMS[token] = term
            if term and _matches(term, wanted, prefixes):
                spans.append(match.span())
                if len(spans) >= MAX_MATCHES:
                    break
    start, end = 0, len(text)
    if fragment and len(text) > fragment:
        start, end = _best_window(text, spans, fragment)
    inside = tuple((a - start, b - start) for a, b in spans if a >= start and b <= end)
    return Highlight(text[start:end], inside, cut_before=start > 0, cut_after=end < len(text) or cut)


def _best_window(text: str, spans: list[tuple[int, int]], size: int) -> tuple[int, int]:
    """The window of ``size`` characters holding most matches, widened to word boundaries."""
    best_start, best_count = 0, -1
    # spans are in order and do not overlap, so their ends ascend: the spans from i that end
    # within the window are those before the first one ending past it (one pass, two pointers)
    past = 0
    for i, (a, _) in enumerate(spans):
        past = max(past, i)
        while past < len(spans) and spans[past][1] <= a + size:
            past += 1
        count = past - i
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
