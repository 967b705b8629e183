"""The limits of engine/limits.py applied to a parsed Whoosh query: its distinct terms."""

from __future__ import annotations

from whoosh import query

from searchsvc.errors import QueryTooExpensive


def query_terms(q: query.Query) -> set[tuple[str, object]]:
    """The distinct words, phrases and prefixes of a parsed query (a word searched in several
    fields counts once)."""
    found: set[tuple[str, object]] = set()
    stack = [q]
    while stack:
        node = stack.pop()
        if isinstance(node, query.Term):
            found.add(("word", node.text))
        elif isinstance(node, query.Phrase):
            found.add(("phrase", tuple(node.words)))
        elif isinstance(node, query.Prefix | query.Wildcard):
            found.add(("prefix", node.text))
        elif not node.is_leaf():
            stack.extend(node.children())
    return found


def check_query_terms(q: query.Query, limit: int) -> None:
    if limit <= 0:
        return
    count = len(query_terms(q))
    if count > limit:
        raise QueryTooExpensive(
            f"The query holds {count} different words, phrases and prefixes; at most {limit} are allowed "
            "(max_query_terms). Use fewer words.",
            "q",
        )
