"""Front matter: the YAML block at the top of an article file, read with libyaml's safe loader.

Every ``secured`` key (at any depth) is dropped before any value is built, so no value of it,
not even an error about it, can appear anywhere; alias bombs are refused before they expand.
"""

from __future__ import annotations

from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler

from searchsvc.errors import DocumentError

_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _ArticleLoader(_BASE_LOADER):  # type: ignore[misc, valid-type]
    """The safe loader, reading timestamps as text: an impossible date (2021-02-30) then costs
    the article its date, with a warning, instead of failing the whole file."""


_ArticleLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))
_SAFE_LOADER = _ArticleLoader


SECRET_KEY = "secured"
MAX_YAML_VALUES = 1_000_000


def _needs_walk(text: str) -> bool:
    """Whether front matter may name a 'secured' key (in any case, or spelled with an escape) or
    define an anchor (aliases can repeat it: a "billion laughs"); only such front matter is walked
    node by node. (Three substring tests: a case-blind regex took as long as building the values.)"""
    return "&" in text or "\\" in text or SECRET_KEY in text.lower()


class _FrontMatter(YAMLHandler):
    """python-frontmatter's YAML handler on libyaml's safe loader: no tag can run code."""

    def load(self, fm: str, **kwargs: object) -> Any:
        return load_yaml(fm)


def load_yaml(text: str) -> Any:
    """The YAML document in ``text``, composed to nodes first: every ``secured`` key (at any depth)
    is dropped before any value is constructed, so no error can show its value, and a document
    whose aliases expand to more than MAX_YAML_VALUES values is refused before it is expanded."""
    loader = _SAFE_LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _needs_walk(text):
            _drop_secrets_and_bound(node)
            return loader.construct_document(node)
        try:
            return _construct_tree(loader, node, 0)
        except _NotPlain:
            return loader.construct_document(node)
    finally:
        loader.dispose()


_STR, _SEQ, _MAP = (f"tag:yaml.org,2002:{name}" for name in ("str", "seq", "map"))
_SCALARS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "timestamp", "binary"))
_MAX_PLAIN_DEPTH = 32


class _NotPlain(Exception):
    """The document has something the fast path leaves to the loader."""


def _construct_tree(loader, node: yaml.Node, depth: int) -> Any:
    """The value of a document without anchors (a tree: every node is reached once), built
    directly: about four times faster than the loader's generic construction, which it equals.
    Strings, lists and mappings are built here, every other scalar by the loader's own
    constructor (numbers, booleans, dates as text, ...); anything else (merge keys, a key that is
    not a scalar, another tag, deep nesting) raises _NotPlain, and the loader builds it all."""
    tag = node.tag
    if isinstance(node, yaml.ScalarNode):
        if tag == _STR:
            return node.value
        if tag in _SCALARS:
            return loader.yaml_constructors[tag](loader, node)
        raise _NotPlain
    if depth >= _MAX_PLAIN_DEPTH:
        raise _NotPlain
    if tag == _SEQ and isinstance(node, yaml.SequenceNode):
        return [_construct_tree(loader, child, depth + 1) for child in node.value]
    if tag == _MAP and isinstance(node, yaml.MappingNode):
        mapping = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or not (key_node.tag == _STR or key_node.tag in _SCALARS):
                raise _NotPlain  # merge keys ('<<'), '=' keys, sequences or mappings as keys
            mapping[_construct_tree(loader, key_node, depth + 1)] = _construct_tree(loader, value_node, depth + 1)
        return mapping
    raise _NotPlain


def _drop_secrets_and_bound(root: yaml.Node) -> None:
    """Remove ``secured`` keys from every mapping node, and count the values the document expands
    to (an alias counts its anchor's values each time): each distinct node is visited once."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        if finished:
            total = 1 + sum(sizes.get(id(child), 1) for child in _children(node))
            if total > MAX_YAML_VALUES:
                raise yaml.YAMLError(
                    f"the front matter expands to more than {MAX_YAML_VALUES:,} values "
                    "(aliases that repeat aliases); write the values out or shorten it"
                )
            sizes[id(node)] = total
            on_path.discard(id(node))
            continue
        if id(node) in sizes or id(node) in on_path:
            continue
        if isinstance(node, yaml.MappingNode):
            node.value = [
                (key, value)
                for key, value in node.value
                if not (isinstance(key, yaml.ScalarNode) and str(key.value).lower() == SECRET_KEY)
            ]
        on_path.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return node.value
    return []


_HANDLER = _FrontMatter()


def split_front_matter(path: str, text: str) -> tuple[dict[str, Any], str]:
    """The front-matter mapping and the body. A file without front matter has an empty mapping."""
    if not _HANDLER.detect(text):
        return {}, text
    try:
        fm, body = _HANDLER.split(text)
    except ValueError:
        raise DocumentError(path, "front matter starts with '---' but is never closed", 1) from None
    # the fence pattern also swallows blank lines after the opening '---'
    fence = _HANDLER.FM_BOUNDARY.match(text)
    offset = fence.group(0).count("\n") if fence else 0
    try:
        meta = _HANDLER.load(fm)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 + offset if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise DocumentError(path, f"YAML error: {problem}", line) from None
    except yaml.YAMLError as exc:
        raise DocumentError(path, f"YAML error: {exc}") from None
    except (ValueError, TypeError, AttributeError, OverflowError) as exc:
        # e.g. an explicit tag whose value does not fit it: !!int abc ('secured' is never read)
        raise DocumentError(path, f"YAML error: a value cannot be read ({_shorten(str(exc))})") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise DocumentError(path, f"front matter is a {type(meta).__name__}, not a mapping", 2)
    return meta, body


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
