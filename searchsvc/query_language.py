"""What a user typed -> the engine-neutral query tree (query_nodes.py), read exactly as the Whoosh
engine reads it (README "Query syntax"): every word required, OR, AND, NOT, ANDNOT, ANDMAYBE,
REQUIRE, +word/-word, parentheses, "phrases"~N, field:value, prefix*, *:*; unreadable syntax is
searched as plain words. parse_query never raises. tests/test_query_language_differential.py
compares it with the Whoosh parser on generated queries."""

from __future__ import annotations

import re

from searchsvc.analysis import TOKEN_PATTERN, analyse_plain_term, analyse_term, fold_token
from searchsvc.query_nodes import (
    PLAIN_FIELDS,
    SEARCH_FIELDS,
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
from searchsvc.query_syntax import FIELD_NAMES, Group, Mark, Text, Unreadable, syntax_tree
from searchsvc.query_terms import (
    check_query_terms,
    content_words,
    node_key,
    phrase_terms,
    prefixes,
    query_terms,
    query_words,
    relaxable_parts,
)

__all__ = [
    "SEARCH_FIELDS",
    "And",
    "AndMaybe",
    "Everything",
    "Node",
    "Not",
    "Nothing",
    "Or",
    "Phrase",
    "Prefix",
    "Require",
    "Word",
    "check_query_terms",
    "content_words",
    "parse_query",
    "phrase_terms",
    "prefixes",
    "query_terms",
    "query_words",
    "relaxable_parts",
    "split_compounds",
]

SHOUTED_WORDS = 5
_WORDS = re.compile(r"\w+")
_TOKENS = re.compile(TOKEN_PATTERN)
_LOWERCASE = re.compile(r"[a-z]")
# (an apostrophe between letters joins a word, as in the index: "d'or", "o'brien")
_COMPOUND = re.compile(r"(?<=\w)[-./_](?=\w)")
_EXCLUSION_PREFIX = re.compile(r"(?<![^\s(])-(?=\S)")
_SYNTAX = re.compile(r"[\"()\[\]{}^~*:+\-]|\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE|REQUIRE|TO)\b")


def parse_query(text: str) -> Node:
    """The query tree of what a user typed. Never raises: unreadable syntax is searched as words."""
    try:
        return _parse_user_text(text)
    except Exception:  # noqa: BLE001 - a query never fails; a bug here must not become a 500
        return Nothing()


def _parse_user_text(text: str) -> Node:
    text = _unknown_fields_as_words(text)
    if not _LOWERCASE.search(text) and len(text.split()) >= SHOUTED_WORDS:
        text = text.lower()  # a long all-capitals query is prose: its AND/OR/NOT are words
    text = split_compounds(text)
    try:
        parsed = _parse(text)
        if isinstance(parsed, Nothing) and _only_exclusions(text):
            # "-word" alone: everything except the word, as "NOT word" means
            parsed = _parse(_EXCLUSION_PREFIX.sub("NOT ", text))
        return _shape(parsed)
    except (Unreadable, RecursionError):
        pass
    try:
        return _shape(_parse(_SYNTAX.sub(" ", text)))
    except Unreadable:
        return Nothing()


def _unknown_fields_as_words(text: str) -> str:
    """Unknown fields as words, "villages:solar" -> "villages solar" (as the regular
    expression ``(\\w+):`` replaced, in one pass over the runs of word characters)."""
    out: list[str] = []
    last = 0
    for match in _WORDS.finditer(text):
        end = match.end()
        if end < len(text) and text[end] == ":" and match.group(0) not in FIELD_NAMES:
            out.append(text[last:end])
            out.append(" ")
            last = end + 1
    out.append(text[last:])
    return "".join(out)


def split_compounds(text: str) -> str:
    """'left-wing' and 'cartoq.com' as separate words outside quotes and field:values (the Whoosh
    engine's parser calls this too); "d'or" stays one word."""
    out = []
    for number, chunk in enumerate(text.split('"')):
        if number % 2:  # inside quotes: a phrase keeps its words together anyway
            out.append(chunk)
            continue
        out.append(" ".join(t if ":" in t else _COMPOUND.sub(" ", t) for t in chunk.split(" ")))
    return '"'.join(out)


def _only_exclusions(text: str) -> bool:
    """Whether the text is only -words (the Whoosh engine's ``^\\s*(?:-\\S+\\s*)+$``)."""
    words = text.split()
    return bool(words) and all(len(word) > 1 and word[0] == "-" for word in words)


def _parse(text: str) -> Node:
    """The query of one reading of the text, normalised as Whoosh normalises (Excluding nodes
    still to be shaped); raises Unreadable where Whoosh's parser fails."""
    q = _query(syntax_tree(text))
    return _normalise(q) if _truthy(q) else Nothing()


# Whoosh's query objects before normalize(), as tuples: ("and" | "or", [parts]), ("not", part),
# ("andnot" | "andmaybe" | "require", a, b), or a node. None is "no query" (a stop word in a field):
# a binary operator then takes the other side. An And or Or of no parts is false, as Whoosh's.
def _truthy(q) -> bool:
    return q is not None and not (isinstance(q, tuple) and q[0] in ("and", "or") and not q[1])


def _query(node):
    if isinstance(node, Text):
        return _leaf(node)
    if isinstance(node, Mark):
        if node.kind == "every":
            return Everything()
        raise Unreadable(node.kind)  # a +/- marker inside parentheses (Whoosh raises too)
    if not isinstance(node, Group):
        raise Unreadable(type(node).__name__)
    if node.kind in ("and", "or"):
        parts = [q for q in map(_query, node.nodes) if q is not None]
        return (node.kind, parts)
    if node.kind == "not":
        if not node.nodes:
            raise Unreadable("NOT")
        q = _query(node.nodes[0])
        return ("not", q) if _truthy(q) else None
    if len(node.nodes) != 2:
        raise Unreadable(node.kind)
    a, b = _query(node.nodes[0]), _query(node.nodes[1])
    if a is None and b is None:
        return Nothing()
    if a is None or b is None:
        return b if a is None else a
    return (node.kind, a, b)


def _leaf(node: Text):
    field = node.field
    if node.kind == "prefix":
        return Prefix(fold_token(node.text), field)  # Whoosh's analyzer on the whole prefix
    analysed = analyse_plain_term if field in PLAIN_FIELDS else analyse_term
    tokens = _TOKENS.findall(node.text)
    terms = [(token, term) for token in tokens if (term := analysed(token))]
    if not terms:
        if node.kind == "phrase":
            return Nothing()
        return ("or", []) if field is None else None  # unfielded: an Or over fields of nothing
    if len({term for _, term in terms}) == 1 and (node.kind == "word" or len(terms) == 1):
        return Word(terms[0][0], terms[0][1], field)  # Whoosh's And of one term repeated is the term
    return Phrase(tuple(tokens), field, node.slop if node.kind == "phrase" else 0)


class _Excluding:
    """Whoosh's AndNot(a, b) until _shape makes it And(a, Not(b))."""

    __slots__ = ("a", "b")

    def __init__(self, a: Node, b: Node) -> None:
        self.a, self.b = a, b


def _normalise(q):
    """Whoosh's Query.normalize(): nested And/Or flattened, duplicates and Nothing dropped, an
    And or Or holding Everything is Everything, a binary operator with a Nothing side resolved."""
    if not isinstance(q, tuple):
        return q
    kind = q[0]
    if kind in ("and", "or"):
        cls = And if kind == "and" else Or
        flat: list = []
        for part in map(_normalise, q[1]):
            flat.extend(part.parts if isinstance(part, cls) else [part])
        if all(isinstance(part, Nothing) for part in flat):
            return Nothing()
        if any(isinstance(part, Everything) for part in flat):
            return Everything()
        return _compound(cls, [part for part in flat if not isinstance(part, Nothing)])
    if kind == "not":
        part = _normalise(q[1])
        return part if isinstance(part, Nothing) else Not(part)
    a, b = _normalise(q[1]), _normalise(q[2])
    if isinstance(a, Nothing) or (kind == "require" and isinstance(b, Nothing)):
        return Nothing()
    if isinstance(b, Nothing):
        return a
    return {"andnot": _Excluding, "andmaybe": AndMaybe, "require": Require}[kind](a, b)


def _compound(cls, parts: list):
    unique, seen = [], set()
    for part in parts:
        key = node_key(part)
        if key not in seen:
            seen.add(key)
            unique.append(part)
    if not unique:
        return Nothing()
    return unique[0] if len(unique) == 1 else cls(tuple(unique))


def _shape(node) -> Node:
    """The neutral shape: AndNot as And(..., Not(...)), nested And/Or flattened, a Not alone
    taken from Everything, Everything dropped from an And with other positive parts."""
    if isinstance(node, And | _Excluding):
        parts: list[Node] = []
        for part in _and_parts(node):
            if isinstance(part, Not):
                parts.append(Not(_shape(part.part)))
            else:
                shaped = _shape(part)
                parts.extend(shaped.parts if isinstance(shaped, And) else [shaped])
        positive = [p for p in parts if not isinstance(p, Not | Everything)]
        if positive:
            parts = [p for p in parts if not isinstance(p, Everything)]
        elif not any(isinstance(p, Everything) for p in parts):
            parts.insert(0, Everything())
        return _compound(And, parts)
    if isinstance(node, Or):
        flat: list[Node] = []
        for part in map(_shape, node.parts):
            flat.extend(part.parts if isinstance(part, Or) else [part])
        return _compound(Or, flat)
    if isinstance(node, Not):
        return And((Everything(), Not(_shape(node.part))))
    if isinstance(node, AndMaybe):
        return AndMaybe(_shape(node.required), _shape(node.optional))
    if isinstance(node, Require):
        return Require(_shape(node.scored), _shape(node.required))
    return node


def _and_parts(node) -> list:
    if isinstance(node, And):
        return [p for part in node.parts for p in _and_parts(part)]
    if isinstance(node, _Excluding):
        return _and_parts(node.a) + [Not(node.b)]
    return [node]
