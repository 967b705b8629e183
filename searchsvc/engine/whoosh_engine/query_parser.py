"""User query text -> Whoosh query tree: operators, phrases, fields and prefixes, analysed as
the index is (see evaluator.py for matching and scoring it)."""

from __future__ import annotations

import re

from whoosh import qparser, query

from searchsvc.analysis import FUNCTION_TERMS as FUNCTION_TERMS  # the one definition, re-exported
from searchsvc.analysis import LONG_QUERY_FUNCTION_WORDS as LONG_QUERY_FUNCTION_WORDS
from searchsvc.analysis import TOKEN_PATTERN
from searchsvc.engine.whoosh_engine.schema import (
    SEARCH_FIELDS,
    USER_FIELDS,
    analyse_token,
    text_analyzer,
)
from searchsvc.query_language import split_compounds

_FIELD_PREFIX = re.compile(r"(\w+):")
_LOWERCASE = re.compile(r"[a-z]")
SHOUTED_WORDS = 5
_ONLY_EXCLUSIONS_PREFIX = re.compile(r"(?<![^\s(])-(?=\S)")
_SYNTAX = re.compile(r"[\"()\[\]{}^~*:+\-]|\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE|REQUIRE|TO)\b")

# words of letters and digits, each maybe joined by apostrophes ("d'or"): one token each
_PLAIN_WORD = r"[^\W_]+(?:['\u2019\u2018\uff07][^\W_]+)*"
_PLAIN_WORDS = re.compile(rf"^\s*{_PLAIN_WORD}(?:\s+{_PLAIN_WORD})*\s*$")
# every operator word of Whoosh's OperatorsPlugin ("a REQUIRE b": documents with both, scored by a)
_OPERATORS = frozenset(("AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "REQUIRE", "TO"))


def make_parser(schema):
    parser = qparser.MultifieldParser(list(SEARCH_FIELDS), schema)
    aliases: dict[str, list[str]] = {}
    for user_name, field in USER_FIELDS.items():
        if user_name != field:
            aliases.setdefault(field, []).append(user_name)
    parser.add_plugin(qparser.FieldAliasPlugin(aliases))
    # +word / -word only at the start of a word: "covid-19" and "well-known" are words
    parser.add_plugin(qparser.PlusMinusPlugin(plusexpr=r"(?<![^\s(])\+(?=\S)", minusexpr=r"(?<![^\s(])-(?=\S)"))
    parser.remove_plugin_class(qparser.BoostPlugin)
    parser.remove_plugin_class(qparser.RangePlugin)
    # only trailing-* prefixes: a '?' ends a question, it is not a wildcard
    parser.remove_plugin_class(qparser.WildcardPlugin)
    parser.add_plugin(qparser.PrefixPlugin())
    return parser


def parse_user_query(parser, text: str) -> query.Query:
    """Parse what a user typed. Never raises: unreadable syntax is searched as plain words.

    The tree holds only nodes the evaluator implements: Term, Or, And, Not, AndNot, AndMaybe,
    Require, Phrase (any slop: ``"a b"~3``), Prefix, Every (``*:*``) and NullQuery."""
    text = _FIELD_PREFIX.sub(lambda m: m.group(0) if m.group(1) in USER_FIELDS else m.group(1) + " ", text)
    if not _LOWERCASE.search(text) and len(text.split()) >= SHOUTED_WORDS:
        text = text.lower()  # a long all-capitals query is prose: its AND/OR/NOT are words
    text = split_compounds(text)
    plain = _plain_words_query(parser.schema, text)
    if plain is not None:
        return plain
    try:
        parsed = parser.parse(text)
        if isinstance(parsed, query.qcore._NullQuery) and only_exclusions(text):
            # "-word" alone: everything except the word, as "NOT word" means
            parsed = parser.parse(_ONLY_EXCLUSIONS_PREFIX.sub("NOT ", text))
        if not _has_error(parsed):
            return parsed
    except Exception:  # noqa: BLE001 - any parser failure falls back to plain words
        pass
    plain = _SYNTAX.sub(" ", text)
    try:
        return parser.parse(plain)
    except Exception:  # noqa: BLE001
        return query.NullQuery


def only_exclusions(text: str) -> bool:
    r"""Whether ``text`` is only -words ("-a -b"). Linear: the regular expression this replaces,
    ``^\s*(?:-\S+\s*)+$``, backtracked exponentially ("-a--b--c--d..." took minutes)."""
    words = text.split()
    return bool(words) and all(len(word) > 1 and word[0] == "-" for word in words)


def _plain_words_query(schema, text: str) -> query.Query | None:
    """The query the parser makes of words alone (no operators, quotes or fields), built
    directly: parsing costs most of a millisecond, and most queries are a few words. A test
    checks that it equals the parser's on many strings."""
    if not _PLAIN_WORDS.match(text):
        return None
    tokens = text.split()
    if any(token in _OPERATORS for token in tokens):
        return None
    words: list[str] = []
    for token in tokens:
        word = analyse_token(schema[SEARCH_FIELDS[0]].analyzer, token)
        if word and word not in words:
            words.append(word)
    parts = [query.Or([query.Term(field, word) for field in SEARCH_FIELDS]) for word in words]
    if not parts:
        return query.NullQuery
    return parts[0] if len(parts) == 1 else query.And(parts)


def _has_error(q: query.Query) -> bool:
    if isinstance(q, query.qcore._NullQuery):
        return False
    if q.is_leaf():
        return type(q).__name__ == "ErrorQuery"
    return any(_has_error(child) for child in q.children())


def query_words(q: query.Query) -> set[tuple[str, str]]:
    """The (field, analysed word) pairs a query looks for, for highlighting."""
    found: set[tuple[str, str]] = set()
    if isinstance(q, query.Not):
        return found
    if isinstance(q, query.AndNot):
        return query_words(q.a)
    if isinstance(q, query.Term):
        found.add((q.fieldname, q.text))
    elif isinstance(q, query.Phrase):
        found.update((q.fieldname, w) for w in q.words)
    elif isinstance(q, query.Prefix | query.Wildcard):
        found.add((q.fieldname, q.text.rstrip("*") + "*"))
    elif not q.is_leaf():
        for child in q.children():
            found |= query_words(child)
    return found


_QUERY_TOKENS = re.compile(TOKEN_PATTERN)
_QUERY_ANALYZER = text_analyzer()


def query_term_counts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for token in _QUERY_TOKENS.findall(text):
        term = analyse_token(_QUERY_ANALYZER, token)
        if term:
            counts[term] = counts.get(term, 0) + 1
    return counts
