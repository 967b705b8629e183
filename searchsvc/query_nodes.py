"""The engine-neutral query tree (query_language.parse_query makes it; each engine translates it).

``field`` is a canonical field ("title", "excerpt", "body", "topics", "provider", "domain") or None
for every search field (title, topics, excerpt, body)."""

from __future__ import annotations

from dataclasses import dataclass

SEARCH_FIELDS = ("title", "topics", "excerpt", "body")
# fields of names, analysed without stop words or stemming (analysis.analyse_plain)
PLAIN_FIELDS = frozenset(("provider", "domain"))


@dataclass(frozen=True, slots=True)
class Word:
    """One word: ``text`` as typed, ``term`` as indexed (analysis.analyse, or analyse_plain in a
    plain field)."""

    text: str
    term: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class Phrase:
    """Words in this order (as typed: the raw tokens, stop words included; analysed they are two
    or more words). ``slop`` 0 is exact adjacency; ``"a b"~N`` gives N."""

    words: tuple[str, ...]
    field: str | None = None
    slop: int = 0


@dataclass(frozen=True, slots=True)
class Prefix:
    """Every word starting with ``text`` (lower-cased and accent-folded, not stemmed)."""

    text: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class Everything:
    """Every document: ``*:*``, and the base an exclusion alone (``-word``) is taken from."""


@dataclass(frozen=True, slots=True)
class Nothing:
    """No document: nothing searchable was typed (only stop words, empty quotes, operators)."""


@dataclass(frozen=True, slots=True)
class And:
    """Documents matching every part; a Not part excludes (an And of only Not parts starts from
    Everything)."""

    parts: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    parts: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """Only inside an And: documents matching ``part`` are excluded."""

    part: Node


@dataclass(frozen=True, slots=True)
class AndMaybe:
    """Documents matching ``required``; matching ``optional`` too adds to the score."""

    required: Node
    optional: Node


@dataclass(frozen=True, slots=True)
class Require:
    """Documents matching both, scored by ``scored`` alone ("a REQUIRE b")."""

    scored: Node
    required: Node


Node = Word | Phrase | Prefix | Everything | Nothing | And | Or | Not | AndMaybe | Require
