"""User query text -> a syntax tree, read exactly as the Whoosh engine's parser reads it (Whoosh's
qparser with the plugins query_parser.make_parser configures): the same taggers tried in the same
order at each position, then the same filters (groups, field names, +/-, operators).

Engine-neutral: it imports no engine. Linear in the text's length: the taggers that Whoosh runs
as regular expressions from every position (``\\w+:``, ``prefix*``, ``'quoted'``) are answered
from tables computed once per text. query_language.py turns the tree into query nodes."""

from __future__ import annotations

import re

# the field names users type -> the canonical field ("*" is no field: "*:x" is the word "*:x")
FIELD_NAMES = {
    "title": "title",
    "excerpt": "excerpt",
    "body": "body",
    "topic": "topics",
    "topics": "topics",
    "provider": "provider",
    "domain": "domain",
}
# Whoosh applies operators in this order: every NOT, then every AND, OR, ANDNOT, ANDMAYBE, REQUIRE
OPERATOR_ORDER = ("not", "and", "or", "andnot", "andmaybe", "require")
# Parentheses nested deeper are read as plain words (Whoosh's parser reads about 800 levels, then
# its recursion fails and the Whoosh engine falls back to plain words the same way).
MAX_DEPTH = 256
_KNOWN_FIELDS = frozenset(FIELD_NAMES.values())
_INFIX = {"AND": "and", "OR": "or", "ANDNOT": "andnot", "ANDMAYBE": "andmaybe"}
_SPACE = re.compile(r"\s")
_SPACES = re.compile(r"\s+")
_WORDS = re.compile(r"\w+")
_SLOP = re.compile(r"~([1-9][0-9]*)")


class Unreadable(Exception):
    """The syntax tree holds what Whoosh's parser fails on (a +/- marker inside parentheses, an
    operator with nothing to apply to): the caller falls back to plain words."""


class Node:
    __slots__ = ()


class Text(Node):
    """A word (``kind`` "word"), a quoted phrase ("phrase") or a prefix ("prefix")."""

    __slots__ = ("kind", "text", "field", "slop")

    def __init__(self, kind: str, text: str, slop: int = 0) -> None:
        self.kind, self.text, self.field, self.slop = kind, text, None, slop


class Mark(Node):
    """Every ("*:*"), whitespace (" "), "(", ")", "+", "-", or an operator ("not", "and", ...)."""

    __slots__ = ("kind",)

    def __init__(self, kind: str) -> None:
        self.kind = kind


class FieldName(Node):
    __slots__ = ("field", "original")

    def __init__(self, field: str, original: str) -> None:
        self.field, self.original = field, original


class Group(Node):
    """A group of kind and, or (merging), andnot, andmaybe, require (two nodes) or not (one)."""

    __slots__ = ("kind", "nodes")

    def __init__(self, kind: str, nodes: list | None = None) -> None:
        self.kind, self.nodes = kind, nodes if nodes is not None else []


def set_field(node: Node, field: str) -> None:
    if isinstance(node, Text) and node.field is None:
        node.field = field
    elif isinstance(node, Group):
        for child in node.nodes:
            set_field(child, field)


class _Tables:
    """What the position-anchored taggers need, computed right to left in one pass each."""

    def __init__(self, text: str) -> None:
        n = len(text)
        self.word_end = [-1] * (n + 1)  # the end of the \w run a position is in
        for match in _WORDS.finditer(text):
            for i in range(match.start(), match.end()):
                self.word_end[i] = match.end()
        self.prefix_end = [n] * (n + 1)  # the end of the [^ \t\r\n*] run starting at a position
        self.quote_close = [n] * (n + 2)  # the next ' that may close a single-quoted term
        self.newline = [n] * (n + 2)  # the next newline
        for i in range(n - 1, -1, -1):
            char = text[i]
            self.prefix_end[i] = i if char in " \t\r\n*" else self.prefix_end[i + 1]
            self.newline[i] = i if char == "\n" else self.newline[i + 1]
            closes = char == "'" and (i + 1 == n or text[i + 1] in "])}" or _SPACE.match(text, i + 1))
            self.quote_close[i] = i if closes else self.quote_close[i + 1]


def tag(text: str) -> list[Node]:
    """The flat list of syntax nodes, as Whoosh's QueryParser.tag makes it."""
    tables = _Tables(text)
    n = len(text)
    nodes: list[Node] = []
    prev = pos = 0
    while pos < n:
        node, end = _match(text, pos, tables)
        if node is None:
            pos += 1
            continue
        if prev < pos:
            nodes.append(Text("word", text[prev:pos]))
        nodes.append(node)
        prev = pos = end
    if prev < n:
        nodes.append(Text("word", text[prev:]))
    return nodes


def _space_at(text: str, i: int) -> bool:
    return 0 <= i < len(text) and _SPACE.match(text, i) is not None


def _match(text: str, pos: int, t: _Tables) -> tuple[Node | None, int]:
    """The node the first matching tagger makes at ``pos`` (in Whoosh's tagger order) and its end."""
    n = len(text)
    char = text[pos]
    # ANDNOT and ANDMAYBE (priority -5): (?<=\s)WORD(?=\s)
    for word in ("ANDNOT", "ANDMAYBE"):
        if text.startswith(word, pos) and _space_at(text, pos - 1) and _space_at(text, pos + len(word)):
            return Mark(_INFIX[word]), pos + len(word)
    if text.startswith("*:*", pos):  # EveryPlugin (priority -1)
        return Mark("every"), pos + 3
    if char == "'" and (pos == 0 or t.word_end[pos - 1] < 0):  # (^|(?<=\W))'(?P<text>.*?)'(?=...)
        close = t.quote_close[pos + 1]
        if close < n and close < t.newline[pos + 1]:
            return Text("word", text[pos + 1 : close]), close + 1
    end = t.word_end[pos]  # FieldsPlugin: (?P<text>\w+|[*]):
    if end >= 0 and end < n and text[end] == ":":
        name = text[pos:end]
        return FieldName(FIELD_NAMES.get(name, name), text[pos : end + 1]), end + 1
    if text.startswith("*:", pos):
        return FieldName("*", "*:"), pos + 2
    if char == '"':  # PhrasePlugin: "(?P<text>.*?)"(~(?P<slop>[1-9][0-9]*))?
        close = text.find('"', pos + 1, t.newline[pos + 1])
        if close >= 0:
            slop = _SLOP.match(text, close + 1)
            end = slop.end() if slop else close + 1
            return Text("phrase", text[pos + 1 : close], int(slop.group(1)) if slop else 0), end
    if char in "()":
        return Mark(char), pos + 1
    if text.startswith("NOT", pos) and (pos == 0 or text[pos - 1] in "()" or _space_at(text, pos - 1)):
        if _space_at(text, pos + 3):
            return Mark("not"), pos + 3
    for word in ("AND", "OR"):
        if text.startswith(word, pos) and _space_at(text, pos - 1) and _space_at(text, pos + len(word)):
            return Mark(_INFIX[word]), pos + len(word)
    if text.startswith("REQUIRE", pos) and (pos == 0 or _space_at(text, pos - 1)) and _space_at(text, pos + 7):
        return Mark("require"), pos + 7
    # PlusMinusPlugin as make_parser configures it: (?<![^\s(])[+-](?=\S)
    if char in "+-" and (pos == 0 or text[pos - 1] == "(" or _space_at(text, pos - 1)):
        if pos + 1 < n and not _space_at(text, pos + 1):
            return Mark(char), pos + 1
    end = t.prefix_end[pos]  # PrefixPlugin: (?P<text>[^ \t\r\n*]+)[*](?= |$|\))
    if end > pos and end < n and text[end] == "*":
        after = end + 1
        if after == n or text[after] in " )" or (after == n - 1 and text[after] == "\n"):
            return Text("prefix", text[pos:end]), after
    spaces = _SPACES.match(text, pos)
    if spaces:
        return Mark(" "), spaces.end()
    return None, pos


def syntax_tree(text: str) -> Group:
    """The tree after Whoosh's filters: groups, field names, whitespace, +/- and operators."""
    group = _fieldnames(_groups(tag(text)))
    group = _plus_minus(_without_spaces(group))
    return _operators(group)


def _groups(nodes: list[Node]) -> Group:
    stack = [Group("and")]
    for node in nodes:
        if isinstance(node, Mark) and node.kind == "(":
            if len(stack) > MAX_DEPTH:
                raise Unreadable("(")
            stack.append(Group("and"))
        elif isinstance(node, Mark) and node.kind == ")":
            if len(stack) > 1:
                last = stack.pop()
                stack[-1].nodes.append(last)
        else:
            stack[-1].nodes.append(node)
    top = stack[0]
    for level in stack[1:]:  # unclosed parentheses: their contents join the top level
        top.nodes.extend(level.nodes)
    if len(top.nodes) == 1 and isinstance(top.nodes[0], Group):
        top = top.nodes[0]
    return top


def _to_word(node: FieldName) -> Text:
    return Text("word", node.original)


def _fieldnames(group: Group) -> Group:
    """FieldsPlugin.do_fieldnames: "*:" is no field (it joins the next text), a field name
    applies to the node right after it, and a field name followed by nothing is a word."""
    kept: list[Node] = []
    unknown: FieldName | None = None
    for node in group.nodes:
        if isinstance(node, FieldName) and node.field not in _KNOWN_FIELDS:
            unknown = node
            continue
        if unknown is not None:
            if isinstance(node, Text):
                node.text = unknown.original + node.text
            else:
                kept.append(_to_word(unknown))
            unknown = None
        kept.append(node)
    if unknown is not None:
        kept.append(_to_word(unknown))
    out: list[Node] = []
    i = len(kept)
    while i > 0:
        i -= 1
        node = kept[i]
        if isinstance(node, FieldName):
            node = _to_word(node)
        elif isinstance(node, Group):
            node = _fieldnames(node)
        previous = kept[i - 1] if i > 0 else None
        if isinstance(previous, FieldName) and not (isinstance(node, Mark) and node.kind == " "):
            set_field(node, previous.field)
            i -= 1
        out.append(node)
    out.reverse()
    return Group(group.kind, out)


def _without_spaces(group: Group) -> Group:
    nodes = []
    for node in group.nodes:
        if isinstance(node, Group):
            nodes.append(_without_spaces(node))
        elif not (isinstance(node, Mark) and node.kind == " "):
            nodes.append(node)
    return Group(group.kind, nodes)


def _plus_minus(group: Group) -> Group:
    """PlusMinusPlugin.do_plusminus, on the top level only (as Whoosh): +parts are required (the
    others then only add to the score), -parts are excluded."""
    required, optional, banned = Group("and"), Group("and" if group.kind == "and" else "or"), Group("or")
    target = optional
    for node in group.nodes:
        if isinstance(node, Mark) and node.kind == "+":
            target = required
        elif isinstance(node, Mark) and node.kind == "-":
            target = banned
        else:
            target.nodes.append(node)
            target = optional
    result = optional
    if required.nodes:
        result = Group("andmaybe", [required, result])
    if banned.nodes:
        result = Group("andnot", [result, banned])
    return result


def _operators(group: Group) -> Group:
    """OperatorsPlugin.do_operators: each operator kind in turn, left to right, then inside."""
    nodes = group.nodes
    for kind in OPERATOR_ORDER:
        i = 0
        while i < len(nodes):
            node = nodes[i]
            if not (isinstance(node, Mark) and node.kind == kind):
                i += 1
                continue
            length = len(nodes)
            if kind == "not":  # a prefix operator: wraps the node after it
                del nodes[i]
                if i < length - 1:
                    nodes[i] = Group("not", [nodes[i]])
                continue
            if 0 < i < length - 1:
                left, right = nodes[i - 1], nodes[i + 1]
                if kind in ("and", "or") and isinstance(left, Group) and left.kind == kind:
                    left.nodes.append(right)
                    del nodes[i : i + 2]
                else:
                    nodes[i - 1 : i + 2] = [Group(kind, [left, right])]
            else:
                del nodes[i]
    for i, node in enumerate(nodes):
        if isinstance(node, Group):
            nodes[i] = _operators(node)
    return group
