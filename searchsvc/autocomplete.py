"""Autocomplete's rules, shared by every engine: which phrases of a title can be suggested, what a
typed prefix asks for, and how candidates are ranked and merged with topic and provider names.

A title's *phrases* are its words and its word pairs, as titles hold them:

- the title loses a trailing " - Source" (as the collapse key does: nearly every title of a news
  feed ends with its outlet's name, which is no part of what the article is about);
- it splits into words (runs of letters and digits joined by hyphens or apostrophes: "COVID-19",
  "Ukraine's" without its possessive) and breaks at punctuation (":", ",", " - ", quotes...);
- a phrase is a word that is not a stop word, or two such words in a row with at most
  MAX_STOPS_BETWEEN stop words between them ("covid vaccine", "bank of england"); no phrase
  crosses a break.

Each phrase has a *key* (its words lower-cased, accents folded, joined by single spaces: what a
prefix is matched against) and the *spelling* the title gives it. An article counts once per key
(the first spelling in its title). A suggestion shows the spelling most articles use.

A typed prefix is completed on its last word; the words before it must be the start of the same
phrase, so "covid vac" is only completed by pairs titles hold ("covid vaccine"), never by a word
that merely starts with "vac". Of a longer prefix only the last whole word before the one being
typed is matched ("prime minister bor" completes "minister bor..."); the rest is kept as typed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from searchsvc.analysis import MAX_TOKEN_LENGTH, STOP_WORDS, fold
from searchsvc.engine.interface import Suggestion

# the " - Source" suffix normalise_title_key drops
TITLE_SUFFIX = re.compile(r"\s+[-|–—]\s+[^-|–—]{2,60}$")
# a word (letters and digits, joined by hyphens or apostrophes) or one punctuation character
PIECES = re.compile(r"\w+(?:['’\-]\w+)*|[^\w\s]")
TOKENS = re.compile(r"\w+")
MAX_STOPS_BETWEEN = 2
# an engine's phrase term: key, SEPARATOR, spelling ("covid vaccine\x1fCOVID vaccine")
SEPARATOR = "\x1f"
# the most frequent phrases under a prefix each engine hands to rank_phrases (a limit is at most 50)
CANDIDATES = 100
# a candidate that another candidate extends by letters ("ukrai" of "ukraine") and that is at
# least this many times rarer is a cut-off or misspelt word, not worth suggesting
FRAGMENT_RATIO = 20
# topic and provider names are matched by the last this many typed words at most
MAX_NAME_WORDS = 3
# the request parameter each kind of name filters on (searchsvc.request.FILTER_PARAMS)
FILTERS = {"topic": "topic", "provider": "provider"}


@dataclass(frozen=True, slots=True)
class Unit:
    """One word of a title: its key (folded words) and spelling, and whether it is a stop word."""

    key: str
    spelling: str
    stop: bool


_UNITS: dict[str, Unit | None] = {}


def unit_of(piece: str) -> Unit | None:
    """The word ``piece`` (one of PIECES) is, or None for a break (punctuation, an over-long word)."""
    unit = _UNITS.get(piece, False)
    if unit is False:
        spelling = piece[:-2] if len(piece) > 2 and piece[-2] in "'’" and piece[-1] in "sS" else piece
        key = " ".join(TOKENS.findall(fold(spelling))) if len(spelling) <= MAX_TOKEN_LENGTH else ""
        unit = Unit(key, spelling, key in STOP_WORDS) if key else None
        if len(_UNITS) > 500_000:  # bounded: a corpus of odd words must not grow it for ever
            _UNITS.clear()
        _UNITS[piece] = unit
    return unit


def forget_words() -> None:
    """Empty unit_of's cache: after the autocomplete index of a whole corpus is built it holds
    every word of its titles (about 30 MB at 155k articles), which typed prefixes do not need."""
    _UNITS.clear()


def title_units(title: str) -> list[Unit | None]:
    """The words of a title without its " - Source" suffix, None at each break."""
    return [unit_of(piece) for piece in PIECES.findall(TITLE_SUFFIX.sub("", title))]


def title_phrases(title: str) -> dict[str, str]:
    """Each phrase key of ``title`` with its first spelling there, in title order."""
    out: dict[str, str] = {}
    segment: list[Unit] = []
    for unit in [*title_units(title), None]:
        if unit is not None:
            segment.append(unit)
            continue
        for i, first in enumerate(segment):
            if first.stop:
                continue
            out.setdefault(first.key, first.spelling)
            for j in range(i + 1, min(len(segment), i + 2 + MAX_STOPS_BETWEEN)):
                if not segment[j].stop:
                    words = segment[i : j + 1]
                    out.setdefault(" ".join(u.key for u in words), " ".join(u.spelling for u in words))
                    break
        segment = []
    return out


def phrase_terms(title: str) -> list[str]:
    """The title's phrases as an engine indexes them: key, SEPARATOR, spelling."""
    return [key + SEPARATOR + spelling for key, spelling in title_phrases(title).items()]


@dataclass(frozen=True, slots=True)
class Typed:
    """What a typed prefix asks for: phrases whose key starts with ``key``, which begins at
    ``start`` in ``text`` (the words before it are kept as typed)."""

    text: str
    key: str
    start: int


def typed_prefix(prefix: str) -> Typed | None:
    """The phrase prefix ``prefix`` asks to complete, or None when it has nothing to complete."""
    text = " ".join(prefix.split())
    if prefix[-1:].isspace() and text:
        text += " "
    found = [(m.start(), m.end(), unit_of(m.group())) for m in PIECES.finditer(text)]
    units = [(start, end, unit) for start, end, unit in found if unit is not None]
    if not units:
        return None
    open_end = units[-1][1] == len(text)
    whole = units[:-1] if open_end else units
    content = [i for i, (_, _, unit) in enumerate(whole) if not unit.stop]
    if content:
        first = content[-1]
    elif open_end:
        first = len(units) - 1
    else:
        return None
    key = " ".join(unit.key for _, _, unit in units[first:]) + ("" if open_end else " ")
    return Typed(text, key, units[first][0])


def completed(typed: Typed, spelling: str) -> str:
    """The suggestion for a phrase of ``spelling`` under ``typed``: the words before the phrase
    as typed, the phrase as the titles spell it."""
    return typed.text[: typed.start] + spelling


def rank_phrases(rows: Iterable[tuple[str, str, int]], limit: int) -> list[tuple[str, str, int]]:
    """(key, spelling, articles) rows -> the ``limit`` best phrases: a key's rows are summed (its
    spelling the one most articles use, the first in code-point order on a tie), cut-off words
    dropped (see FRAGMENT_RATIO), the most frequent first, ties in key order."""
    merged: dict[str, list] = {}
    for key, spelling, count in rows:
        entry = merged.get(key)
        if entry is None:
            merged[key] = [count, spelling, count]
            continue
        entry[0] += count
        if (-count, spelling) < (-entry[2], entry[1]):
            entry[1], entry[2] = spelling, count
    keys = sorted(merged)
    kept = []
    for i, key in enumerate(keys):
        count = merged[key][0]
        longest = 0
        for other in keys[i + 1 :]:
            if not other.startswith(key):
                break
            if other[len(key)] != " ":
                longest = max(longest, merged[other][0])
        if longest < count * FRAGMENT_RATIO:
            kept.append((key, merged[key][1], count))
    kept.sort(key=lambda row: (-row[2], row[0]))
    return kept[:limit]


def name_suffixes(prefix: str, whole_only: bool = False) -> list[tuple[str, str]]:
    """(folded needle, words kept) for the typed words a topic or provider name may complete:
    all of them (when at most MAX_NAME_WORDS), then, unless ``whole_only``, the last few, the
    words before them kept as the query ("climate bb": BBC News, searching "climate")."""
    words = prefix.split()
    return [
        (fold(" ".join(words[len(words) - n :])), " ".join(words[: len(words) - n]))
        for n in range(min(len(words), MAX_NAME_WORDS), 0, -1)
        if not whole_only or n == len(words)
    ]


def name_starts(folded: str) -> list[int]:
    """Where a folded name's words start: a needle matches a name at one of them."""
    return [i for i, c in enumerate(folded) if c.isalnum() and (i == 0 or not folded[i - 1].isalnum())]


def name_suggestion(kind: str, name: str, query: str) -> Suggestion:
    """A topic or provider: choosing it searches ``query`` under that filter."""
    return Suggestion(name, kind, {FILTERS[kind]: [name]}, query)


def phrase_suggestions(typed: Typed, ranked: Iterable[tuple[str, str, int]]) -> list[Suggestion]:
    return [Suggestion(completed(typed, spelling), "word") for _, spelling, _ in ranked]


def merged(names: list[Suggestion], phrases: list[Suggestion], limit: int) -> list[Suggestion]:
    """Topics and providers first, then phrases, ``limit`` in all; names take at most half the
    places when there are phrases to fill the rest (so "new" lists words, not ten outlets)."""
    seen = {s.text.casefold() for s in names}
    phrases = [s for s in phrases if s.text.casefold() not in seen]
    shown = limit - min(len(phrases), limit // 2)
    out = names[:shown]
    return out + phrases[: limit - len(out)]
