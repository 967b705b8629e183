"""What a query tree (query_nodes.py) asks for: its distinct words, phrases and prefixes (for
max_query_terms), its prefixes, the words to highlight, and the parts a relaxed search loosens.
Each mirrors the Whoosh engine's function of the same name on its own query tree."""

from __future__ import annotations

from searchsvc.analysis import FUNCTION_TERMS, MAX_TOKEN_LENGTH, STOP_WORDS, analyse, analyse_plain, stem
from searchsvc.errors import QueryTooExpensive
from searchsvc.query_nodes import (
    PLAIN_FIELDS,
    And,
    AndMaybe,
    Everything,
    Node,
    Not,
    Nothing,
    Or,
    Phrase,
    Prefix,
    Require,
    Word,
)


def phrase_terms(phrase: Phrase) -> list[str]:
    """The indexed words of a phrase (stop words and over-long words dropped)."""
    return (analyse_plain if phrase.field in PLAIN_FIELDS else analyse)(" ".join(phrase.words))


def indexed_prefix(prefix: Prefix) -> str:
    """The prefix as the Whoosh engine searches it: stemmed in a stemmed field, unless it is a stop
    word or longer than MAX_TOKEN_LENGTH (Whoosh's parser stems a prefix as a whole word)."""
    text = prefix.text
    if prefix.field in PLAIN_FIELDS or text in STOP_WORDS or len(text) > MAX_TOKEN_LENGTH:
        return text
    return stem(text)


def node_key(node: Node) -> tuple:
    """What makes two nodes the same query (a word typed differently but indexed the same is the
    same word), as Whoosh's query equality."""
    if isinstance(node, Word):
        return ("word", node.field, node.term)
    if isinstance(node, Phrase):
        return ("phrase", node.field, tuple(phrase_terms(node)), max(node.slop, 1))
    if isinstance(node, Prefix):
        return ("prefix", node.field, indexed_prefix(node))
    if isinstance(node, And | Or):
        return (type(node).__name__, tuple(map(node_key, node.parts)))
    if isinstance(node, Not):
        return ("not", node_key(node.part))
    if isinstance(node, AndMaybe):
        return ("andmaybe", node_key(node.required), node_key(node.optional))
    if isinstance(node, Require):
        return ("require", node_key(node.scored), node_key(node.required))
    if hasattr(node, "a"):  # query_language's Excluding, before it is shaped
        return ("andnot", node_key(node.a), node_key(node.b))
    return (type(node).__name__,)


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, And | Or):
        return node.parts
    if isinstance(node, Not):
        return (node.part,)
    if isinstance(node, AndMaybe):
        return (node.required, node.optional)
    if isinstance(node, Require):
        return (node.scored, node.required)
    return ()


def query_terms(node: Node) -> set[tuple[str, object]]:
    """The distinct words, phrases and prefixes of a query (a word searched in several fields
    counts once), as the Whoosh engine's query_limits.query_terms counts them."""
    found: set[tuple[str, object]] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Word):
            found.add(("word", current.term))
        elif isinstance(current, Phrase):
            found.add(("phrase", tuple(phrase_terms(current))))
        elif isinstance(current, Prefix):
            found.add(("prefix", indexed_prefix(current)))
        else:
            stack.extend(_children(current))
    return found


def check_query_terms(node: Node, limit: int) -> None:
    """Refuses a query of more than ``limit`` distinct words, phrases and prefixes (0: no limit)."""
    if limit <= 0:
        return
    count = len(query_terms(node))
    if count > limit:
        raise QueryTooExpensive(
            f"The query holds {count} different words, phrases and prefixes; at most {limit} are allowed "
            "(max_query_terms). Use fewer words.",
            "q",
        )


def prefixes(node: Node) -> list[Prefix]:
    """The distinct prefixes of a query, in the order typed (excluded parts included: they are
    expanded too)."""
    found: list[Prefix] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Prefix):
            if current not in found:
                found.append(current)
        else:
            stack.extend(reversed(_children(current)))
    return found


def relaxable_parts(node: Node) -> tuple[list[Word], list[Node], list[Node]] | None:
    """(words, required, excluded) of an And whose plain words (unfielded, two or more) may be
    relaxed to "some of the words"; None for anything else. Explicit syntax is never relaxed:
    phrases, field:value, prefixes and other parts stay required, NOT/-word parts excluded."""
    if not isinstance(node, And):
        return None
    positive = [p for p in node.parts if not isinstance(p, Not | Everything)]
    excluded = [p.part for p in node.parts if isinstance(p, Not)]
    words = [p for p in positive if isinstance(p, Word) and p.field is None]
    if len(words) < 2:
        return None
    return words, [p for p in positive if not (isinstance(p, Word) and p.field is None)], excluded


def content_words(words: list[Word]) -> list[Word]:
    """The words without LONG_QUERY_FUNCTION_WORDS (all of them if fewer than two remain)."""
    kept = [word for word in words if word.term not in FUNCTION_TERMS]
    return kept if len(kept) >= 2 else words


def query_words(node: Node) -> set[tuple[str | None, str]]:
    """The (field, indexed word) pairs a query looks for, for highlighting: prefixes as "text*",
    nothing from excluded (NOT) parts; field None is every search field."""
    found: set[tuple[str | None, str]] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Word):
            found.add((current.field, current.term))
        elif isinstance(current, Phrase):
            found.update((current.field, term) for term in phrase_terms(current))
        elif isinstance(current, Prefix):
            found.add((current.field, current.text + "*"))
        elif not isinstance(current, Not | Nothing | Everything):
            stack.extend(_children(current))
    return found
