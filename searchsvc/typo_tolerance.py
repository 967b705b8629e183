"""Typo tolerance: which query words count as misspelt, and which known words they also match.

The rules are the engines' shared ones (each engine finds the candidates in its own index):

- Only a query of at most MAX_QUERY_WORDS words is tolerant: a longer one is prose, which is
  relaxed to "some of the words" instead (measured: tolerance on long queries cost CISI's pasted
  paragraphs MAP 0.216 -> 0.212 in benchmarks/relevance.py).
- Only a plain word the user typed is tolerant: not a phrase's word, a prefix (``word*``), a
  ``field:value`` or an excluded (``-word``) one, and only a word of letters, 5 to 24 of them.
- It allows 1 edit (an inserted, dropped or replaced letter, or two neighbours swapped) from 5 to
  8 letters and 2 edits from 9 letters (as Meilisearch and Elasticsearch's ``AUTO:5,9`` do).
- It is corrected only when it is rare or unknown: found in at most ``rare_limit(documents)``
  articles. A word many articles hold is what the user meant, even if a more frequent word is
  one letter away ("sedan" is not "sudan").
- A candidate is a word of titles and topics (the spelling vocabulary) within the allowed edits
  that is in at least ``MORE_FREQUENT`` times as many articles as the typed word, and at least
  ``SHARE_OF_BEST`` of the most frequent candidate: "vacine" matches "vaccine", not also the
  handful of "racine". At most ``budget`` candidates per word (the ``typo_candidates`` setting),
  fewest edits first, then the most frequent.

Articles holding the words as typed rank above those that hold only corrections, and among those,
fewer edits rank higher (the engines order results by that before the score).
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_LETTERS = 5
TWO_EDITS_FROM = 9
MAX_LETTERS = 24  # longer "words" are slugs and run-on text, and cost their length in variants
RARE_SHARE = 0.0002  # a word in at most 0.02 % of the articles (31 of 155,000) is rare...
RARE_MIN = 2  # ... or in at most 2 articles, on a small index
MORE_FREQUENT = 5
SHARE_OF_BEST = 0.1
MAX_CORRECTED_WORDS = 4  # words corrected per query
MAX_QUERY_WORDS = 6  # as did-you-mean's limit: a longer query is prose, and is relaxed instead


@dataclass(frozen=True, slots=True)
class Candidate:
    word: str  # a known word, as the spelling vocabulary holds it (lower-case, unstemmed)
    edits: int
    frequency: int  # articles whose titles or topics hold it


def applies_to(text: str) -> bool:
    """Whether typo tolerance applies to a query's text at all (a query of a few words)."""
    return len(text.split()) <= MAX_QUERY_WORDS


def allowed_edits(word: str) -> int:
    """The edits a typed word may be away from a word it also matches (0: it is matched as typed)."""
    if not eligible(word):
        return 0
    return 2 if len(word) >= TWO_EDITS_FROM else 1


def eligible(word: str) -> bool:
    """Whether a typed word (lower-case, accents folded) may be corrected at all."""
    return MIN_LETTERS <= len(word) <= MAX_LETTERS and word.isalpha()


def rare_limit(documents: int) -> int:
    """The most articles a word may be in and still be corrected."""
    return max(RARE_MIN, int(documents * RARE_SHARE))


def choose(own: int, candidates: list[Candidate], budget: int) -> list[Candidate]:
    """The candidates a word in ``own`` articles also matches, best first, at most ``budget``."""
    least = max(1, MORE_FREQUENT * own)
    kept = [c for c in candidates if c.frequency >= least and c.edits >= 1]
    if not kept or budget <= 0:
        return []
    best = max(c.frequency for c in kept)
    kept = [c for c in kept if c.frequency >= SHARE_OF_BEST * best]
    kept.sort(key=lambda c: (c.edits, -c.frequency, c.word))
    return kept[:budget]


def tolerant_words(node) -> dict[str, str]:
    """Indexed word -> the word as typed (folded), for the plain words of a neutral query tree
    (searchsvc.query_nodes) that may be corrected: searched in every field, outside phrases,
    prefixes, field:value and excluded (NOT, -word) parts. At most MAX_CORRECTED_WORDS."""
    from searchsvc import query_nodes as qn
    from searchsvc.analysis import fold

    found: dict[str, str] = {}
    stack = [node]
    while stack and len(found) < MAX_CORRECTED_WORDS:
        part = stack.pop()
        if isinstance(part, qn.Word):
            typed = fold(part.text)
            if part.field is None and part.term and eligible(typed):
                found.setdefault(part.term, typed)
        elif isinstance(part, qn.And | qn.Or):
            stack.extend(reversed(part.parts))
        elif isinstance(part, qn.AndMaybe):
            stack.extend((part.optional, part.required))
        elif isinstance(part, qn.Require):
            stack.extend((part.required, part.scored))
    return found
