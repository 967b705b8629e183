"""The phrases of many titles (searchsvc.autocomplete's rules) counted with numpy: each title cut
into words with one regular expression per chunk of titles, each distinct word analysed once, and
every phrase numbered from its words' numbers, so that counting is sorting integers. (A Python
dictionary of every phrase of 155,000 titles took 11 s and 300 MB; this takes about 2 s.)

A phrase's number: (first word * (MIDDLES + 1) + the stop words between) * WORDS + last word, a
word alone having MIDDLES in the middle place; stop words are numbered first, so "the stop words
between" (none, one or two of them) is a small number. Spellings are numbered alike, over their
own numbers. A phrase holding a word of several parts ("COVID-19" is "covid 19") is renumbered
by its words (_same_words_same_code), so that it counts with the same words written apart."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import numpy as np

from searchsvc.analysis import STOP_WORDS
from searchsvc.autocomplete import MAX_STOPS_BETWEEN, PIECES, TITLE_SUFFIX, unit_of

TITLES_PER_CHUNK = 20_000
_STOPS = sorted(STOP_WORDS)
assert MAX_STOPS_BETWEEN == 2, "phrase numbers hold at most two stop words between two words"


def count_phrases(titles: Iterable[str], cap: int) -> tuple[list[bytes], np.ndarray, list[bytes]]:
    """Every phrase key of ``titles`` (UTF-8), the articles holding it and its most used spelling
    (the first in code-point order on a tie), as autocomplete.title_phrases defines them: the
    ``cap`` most frequent at most, whole counts at a time (the rarest dropped first)."""
    flat, pieces = _piece_numbers(titles)
    keys: dict[str, int] = {word: i for i, word in enumerate(_STOPS)}
    spellings: dict[str, int] = {}
    stop_spellings: dict[str, int] = {}
    piece_key = np.full(len(pieces), -1, dtype=np.int32)  # -1: a break
    piece_spelling = np.zeros(len(pieces), dtype=np.int32)
    piece_stop_spelling = np.zeros(len(pieces), dtype=np.int32)
    for i, piece in enumerate(pieces):
        unit = unit_of(piece)
        if unit is not None:
            piece_key[i] = keys.setdefault(unit.key, len(keys))
            piece_spelling[i] = spellings.setdefault(unit.spelling, len(spellings))
            if unit.stop:
                piece_stop_spelling[i] = stop_spellings.setdefault(unit.spelling, len(stop_spellings))
    ends = np.flatnonzero(flat == 0)  # where each title ends
    key, spelling = piece_key[flat], piece_spelling[flat]
    stop_spelling = piece_stop_spelling[flat]
    del flat
    first, last = _spans(key, len(_STOPS))
    key_code = _codes(key, key, first, last, len(_STOPS), len(keys))
    key_code = _same_words_same_code(key_code, first, last, key, list(keys), len(keys))
    spell_code = _codes(spelling, stop_spelling, first, last, len(stop_spellings), len(spellings))
    del stop_spelling
    # an article counts once per phrase, with its first spelling (first in title order)
    order = np.lexsort((first, key_code))
    key_code, spell_code, first, last = key_code[order], spell_code[order], first[order], last[order]
    title = np.searchsorted(ends, first)
    once = np.ones(len(order), dtype=bool)
    once[1:] = (key_code[1:] != key_code[:-1]) | (title[1:] != title[:-1])
    del order, title
    key_code, spell_code, first, last = key_code[once], spell_code[once], first[once], last[once]
    # each phrase's spellings with their counts, the most used first
    by_form = np.lexsort((spell_code, key_code))
    new_form = np.ones(len(by_form), dtype=bool)
    new_form[1:] = (np.diff(key_code[by_form]) != 0) | (np.diff(spell_code[by_form]) != 0)
    form_start = np.flatnonzero(new_form)
    form_count = np.diff(np.append(form_start, len(by_form)))
    form_key, form_at = key_code[by_form][form_start], by_form[form_start]
    del by_form, new_form, key_code, spell_code
    best = np.lexsort((-form_count, form_key))
    form_key, form_count, form_at = form_key[best], form_count[best], form_at[best]
    phrase_start = np.flatnonzero(np.append(True, form_key[1:] != form_key[:-1])) if len(form_key) else form_key
    phrase_count = np.add.reduceat(form_count, phrase_start) if len(form_key) else form_count
    keep = np.arange(len(phrase_start))
    if len(keep) > cap:
        keep = np.flatnonzero(phrase_count > np.sort(phrase_count)[::-1][cap])
    starts = phrase_start[keep]
    spans = first[form_at[starts]], last[form_at[starts]]
    out_keys = [" ".join(w).encode("utf-8") for w in _words(list(keys), key, *spans)]
    spelling_text = list(spellings)
    spelled = [" ".join(w) for w in _words(spelling_text, spelling, *spans)]
    # several spellings used by as many articles: the first in code-point order
    ends_of = np.append(phrase_start[1:], len(form_key))[keep]
    tied = np.flatnonzero(
        (ends_of - starts > 1) & (form_count[np.minimum(starts + 1, len(form_count) - 1)] == form_count[starts])
    )
    if len(tied):
        widths = ends_of[tied] - starts[tied]
        owner = np.repeat(tied, widths)
        forms = starts[owner] + np.arange(int(widths.sum())) - np.repeat(np.cumsum(widths) - widths, widths)
        top = form_count[forms] == form_count[starts[owner]]
        forms, owner = forms[top], owner[top]
        for i, words in zip(
            owner.tolist(), _words(spelling_text, spelling, first[form_at[forms]], last[form_at[forms]]), strict=True
        ):
            spelled[i] = min(spelled[i], " ".join(words))
    return out_keys, phrase_count[keep], [text.encode("utf-8") for text in spelled]


def _piece_numbers(titles: Iterable[str]) -> tuple[np.ndarray, list[str]]:
    """The titles as one array of piece numbers (autocomplete.PIECES), 0 (a \\x00) after each."""
    pieces: dict[str, int] = {"\x00": 0}
    parts = []
    for batch in _batched(titles):
        found = PIECES.findall("\x00".join(_without_source(t.replace("\x00", " ")) for t in batch) + "\x00")
        for piece in set(found).difference(pieces):
            pieces[piece] = len(pieces)
        parts.append(np.fromiter(map(pieces.__getitem__, found), np.int32, len(found)))
    return (np.concatenate(parts) if parts else np.empty(0, dtype=np.int32)), list(pieces)


def _batched(items: Iterable[str]):
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, TITLES_PER_CHUNK)):
        yield batch


def _without_source(title: str) -> str:
    """The title without its " - Source" suffix (TITLE_SUFFIX, tried only where a dash or bar is)."""
    return TITLE_SUFFIX.sub("", title) if "-" in title or "|" in title or "–" in title or "—" in title else title


def _spans(key: np.ndarray, stops: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each phrase starts and ends: every word that is not a stop word, then every two such
    words with at most MAX_STOPS_BETWEEN stop words and no break between them."""
    content = key >= stops
    single = np.flatnonzero(content).astype(np.int32)
    mark = np.flatnonzero(content | (key < 0)).astype(np.int32)  # words and breaks: stop words between
    a, b = mark[:-1], mark[1:]
    pair = content[a] & content[b] & (b - a <= 1 + MAX_STOPS_BETWEEN)
    return np.concatenate([single, a[pair]]), np.concatenate([single, b[pair]])


def _codes(ids: np.ndarray, stop_ids: np.ndarray, first, last, stops: int, words: int) -> np.ndarray:
    """Each phrase's number (see the module's docstring), over ``ids`` (stop words by ``stop_ids``)."""
    middles = 1 + stops + stops * stops
    gap = last.astype(np.int64) - first - 1  # -1: a word alone
    one = stop_ids[np.minimum(first + 1, len(ids) - 1)].astype(np.int64)
    two = stop_ids[np.minimum(first + 2, len(ids) - 1)].astype(np.int64)
    between = np.select([gap < 0, gap == 0, gap == 1], [middles, 0, 1 + one], 1 + stops + one * stops + two)
    assert max(words, 1) * (middles + 1) * max(words, 1) < 2**62, "too many words to number phrases in 64 bits"
    end = np.where(gap < 0, 0, ids[last])
    return (ids[first].astype(np.int64) * (middles + 1) + between) * max(words, 1) + end


def _same_words_same_code(code, first, last, key, key_text: list[str], words: int) -> np.ndarray:
    """Phrases holding a word of several parts ("COVID-19", "civil-rights") numbered by their
    words: "civil-rights" as the pair "civil rights", "covid 19 vaccine" by a number of its own."""
    multi = np.fromiter((" " in k for k in key_text), dtype=bool, count=len(key_text))
    involved = np.flatnonzero(multi[key[first]] | multi[key[last]])
    if not len(involved):
        return code
    distinct, at, back = np.unique(code[involved], return_index=True, return_inverse=True)
    number = {word: i for i, word in enumerate(key_text)}
    stops, middles = len(_STOPS), 1 + len(_STOPS) + len(_STOPS) ** 2
    own: dict[str, int] = {}
    base = (words * (middles + 1) + middles) * words + words  # above every number _codes gives
    renumbered = np.empty(len(distinct), dtype=np.int64)
    texts = _words(key_text, key, first[involved[at]], last[involved[at]])
    for d, text in enumerate(" ".join(w) for w in texts):
        tokens = [number.get(t, -1) for t in text.split(" ")]
        inner = tokens[1:-1]
        pure = -1 not in tokens and min(tokens[0], tokens[-1]) >= stops and all(t < stops for t in inner)
        if not pure or len(inner) > MAX_STOPS_BETWEEN:
            renumbered[d] = base + own.setdefault(text, len(own))
            continue
        between = 0 if not inner else 1 + inner[0] if len(inner) == 1 else 1 + stops + inner[0] * stops + inner[1]
        renumbered[d] = (tokens[0] * (middles + 1) + between) * words + tokens[-1]
    code = code.copy()
    code[involved] = renumbered[back]
    return code


def _words(text: list[str], ids: np.ndarray, first: np.ndarray, last: np.ndarray) -> list[list[str]]:
    """The words (by ``ids``, named by ``text``) of each span first..last (at most four words)."""
    if not len(first):
        return []
    offsets = np.arange(2 + MAX_STOPS_BETWEEN)
    width = (last - first + 1).tolist()
    places = np.minimum(first[:, None] + offsets, len(ids) - 1)
    return [[text[i] for i in row[:n]] for row, n in zip(ids[places].tolist(), width, strict=True)]
