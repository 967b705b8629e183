"""The engine interface: everything the rest of searchsvc may know of a search engine.

A search engine has two sides, each a Protocol below:

- ``SearchEngine`` answers requests on a *view*: one published state of the index (a Whoosh
  generation, an OpenSearch index behind an alias). A request takes ``view()`` once and passes it
  to every call it makes, so it never mixes two states of the index.
- ``Builder`` writes a new state: ``begin(full)`` holds the build lock (one builder at a time) and
  returns a ``Build`` to ``delete`` / ``upsert`` / ``publish`` or ``abort``. Until ``publish``
  nothing a reader sees changes; an aborted or failed build leaves the published view serving.

What crosses the interface is engine-neutral and typed (the dataclasses below): hits, facets,
result pages, summaries, highlights as spans over plain text (each renderer escapes and marks them
up itself). Engines are chosen by the ``engine`` setting in one factory (``searchsvc.engine``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from html import escape as html_escape
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from searchsvc.documents import Article
    from searchsvc.request import SearchRequest


@dataclass(frozen=True, slots=True)
class Highlight:
    """A text with the character ranges a query matched. ``text`` is plain (not escaped); it may be
    a fragment of the field, cut at its start and/or end (``cut_before``/``cut_after``)."""

    text: str
    spans: tuple[tuple[int, int], ...] = ()
    cut_before: bool = False
    cut_after: bool = False

    def render(
        self,
        escape: Callable[[str], str] = html_escape,
        before: str = "<mark>",
        after: str = "</mark>",
        ellipsis: str = "…",
    ) -> str:
        """The text with every span wrapped in ``before``/``after``, the rest passed through
        ``escape`` (HTML by default), and an ellipsis where the text was cut."""
        out = [ellipsis] if self.cut_before else []
        position = 0
        for start, end in self.spans:
            out.append(escape(self.text[position:start]))
            out.append(before + escape(self.text[start:end]) + after)
            position = end
        out.append(escape(self.text[position:]))
        if self.cut_after:
            out.append(ellipsis)
        return "".join(out)

    def __bool__(self) -> bool:
        """An empty highlight (of an empty field) is false."""
        return bool(self.text)


def shown_score(score: float) -> float:
    """A score as hits carry it: six significant digits. (Rounding to decimal places showed a
    small index's scores, where a word in most articles weighs almost nothing, as 0.0.)"""
    return float(f"{float(score):.6g}")


@dataclass(slots=True)
class Hit:
    """One article as a result, an article page or a related article."""

    id: str
    title: str
    excerpt: str
    url: str
    provider: str
    domain: str
    published: str | None  # ISO 8601 with offset, or None when the article has no date
    topics: list[str]
    image: str
    score: float
    highlights: dict[str, Highlight] = field(default_factory=dict)  # title, excerpt, body
    category: str = ""
    type: str = ""
    quality: int | None = None
    duplicates: int = 0  # syndicated copies folded into this hit
    related_to: str = ""
    related_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class FacetValue:
    value: str
    count: int
    selected: bool = False
    # for date buckets: the first and last day the bucket covers
    start: str | None = None
    end: str | None = None


@dataclass(slots=True)
class Facet:
    name: str
    values: list[FacetValue] = field(default_factory=list)
    interval: str | None = None  # date facet: "day", "month" or "year"
    more: bool = False  # more values exist than were listed


@dataclass(frozen=True, slots=True)
class Correction:
    """A query word typed as no (or hardly any) article spells it, and the known words it also
    matched (typo tolerance: searchsvc.typo_tolerance has the rules)."""

    word: str  # as typed, lower-case
    matched: tuple[str, ...]  # the known words, fewest edits first


@dataclass(slots=True)
class ResultPage:
    """One page of results: ``total`` counts every (collapsed) match, ``hits`` the page asked for."""

    total: int
    hits: list[Hit]
    facets: dict[str, Facet]
    suggestion: str | None  # did-you-mean: a respelling that matches more
    relaxed: bool  # some results match only some of the words
    view: str  # the name of the view that answered
    words: list[str]  # the analysed words the query looked for
    folded: int = 0  # syndicated copies folded into the hits (total + folded = articles matched)
    corrections: list[Correction] = field(default_factory=list)  # misspelt words and what they matched


@dataclass(frozen=True, slots=True)
class Suggestion:
    """An autocomplete suggestion. A word (a word or phrase of titles) goes into the search box; a
    topic or provider name is a filter: choosing it searches ``query`` (the typed words before the
    name) under ``filter`` (request parameter -> values, as the page's facets set them)."""

    text: str
    kind: str  # "topic", "provider" or "word"
    filter: dict[str, list[str]] | None = field(default=None, hash=False)
    query: str | None = None


@dataclass(frozen=True, slots=True)
class IndexSummary:
    """What is in a view, for /api/stats, ``searchsvc stats`` and /readyz."""

    view: str
    documents: int
    files: int  # source files the last build saw
    built_at: float | None  # epoch seconds the view was published
    build_seconds: float
    report: dict[str, Any]  # the last build's report (IndexReport.to_dict())
    size_bytes: int
    top_providers: list[tuple[str, int]]
    health: str = "green"  # the engine's own health: "green", "yellow" or "red"


@runtime_checkable
class View(Protocol):
    """One published state of the index; what a request reads throughout."""

    @property
    def name(self) -> str: ...

    @property
    def documents(self) -> int: ...


class SearchEngine(Protocol):
    """The search side of an engine. Every method taking ``view`` reads that view (the current one
    when None). Bad queries raise QueryError (HTTP 400), a missing index IndexNotFoundError."""

    name: str  # the engine's setting value: "whoosh", "opensearch"

    def view(self) -> View: ...

    def search(self, request: SearchRequest, view: View | None = None) -> ResultPage: ...

    def article(self, doc_id: str, view: View | None = None) -> Hit | None: ...

    def more_like_this(self, doc_id: str, limit: int = 5, view: View | None = None) -> list[Hit]: ...

    def suggest(self, prefix: str, limit: int = 10) -> list[Suggestion]: ...

    def summary(self, view: View | None = None, top: int = 10) -> IndexSummary: ...

    def health(self, view: View | None = None) -> str:
        """The engine's health now: "green", "yellow" (some replicas missing, everything
        searchable) or "red" (some of the view is not searchable). Cheap: /readyz asks it."""
        ...

    def close(self) -> None: ...

    def export(self, request: SearchRequest, view: View | None = None, limit: int | None = None) -> ResultStream:
        """Every result of ``request`` (at most ``limit``), in the order, with the filters,
        collapse and relaxed matching of ``search`` (no facets, no highlights, no suggestion).
        The matching runs now, under the search time budget, so the total is known before the
        first hit; the hits are read as they are consumed, in bounded memory."""
        ...


@dataclass(slots=True)
class ResultStream:
    """Every result of a request, streamed (an export): ``total`` and ``folded`` count as a
    ResultPage's do; ``hits`` yields them in result order, reading the articles as it goes.
    ``close()`` releases what the reading holds (reading to the end releases it too)."""

    total: int
    hits: Iterator[Hit]
    relaxed: bool
    view: str
    folded: int = 0

    def close(self) -> None:
        close = getattr(self.hits, "close", None)
        if close is not None:
            close()


@dataclass(frozen=True, slots=True)
class BuildState:
    """What a build records beside its view: the indexer's file records (bytes the indexer
    encodes, opaque to the engine; read back as a dict from states saved by earlier versions),
    their number, and the build's report."""

    files: bytes | bytearray | dict[str, Any]
    report: dict[str, Any]
    file_count: int = 0


class ParseResult(Protocol):
    """What a parse function returns for one file (indexer.parsing.Parsed)."""

    key: str
    articles: list[Any]


class ShardedLoad(Protocol):
    """A full build's files parsed in worker processes that keep the articles: ``parsed`` holds
    each file's result with its articles reduced to stubs (``id`` and ``is_related``); ``start``
    has the workers write the articles the indexer chose (``owners``: id -> [file key,
    is_top_level, mtime]; the caller may drop it then) and ``finish`` waits for them and returns
    how many were written."""

    parsed: list[Any]

    def start(self, owners: dict[str, list]) -> None: ...

    def finish(self) -> int: ...


class Build(Protocol):
    """A build in progress; readers see none of it until ``publish``."""

    full: bool

    @property
    def view_name(self) -> str:
        """The name the build publishes its view under."""
        ...

    def delete(self, ids: Iterable[str]) -> None: ...

    def upsert(self, articles: Sequence[Article]) -> None: ...

    def sharded_load(
        self, jobs: Sequence[Any], parse: Callable[[Any], ParseResult], workers: int, progress: Callable | None
    ) -> ShardedLoad | None:
        """Parse ``jobs`` in ``workers`` processes that then write what the indexer chose, or None
        when this engine has no such path (the indexer then parses and upserts itself)."""
        ...

    def document_count(self) -> int: ...

    def publish(self, state: BuildState) -> str:
        """Make the build the view readers get, in one atomic step, saving ``state`` beside it
        (``last_state()`` returns it while the view is current); returns the view's name."""
        ...

    def abort(self) -> None: ...


class Builder(Protocol):
    """The build side of an engine."""

    name: str

    def begin(self, full: bool, lock_timeout: float) -> Iterator[Build]:
        """A context manager: hold the build lock, yield a Build, abort it if the block raises.
        ``full`` starts from an empty index; otherwise the build starts from the current view."""
        ...

    def current(self) -> str | None:
        """The name of the published view, or None when nothing is published yet."""
        ...

    def last_state(self) -> BuildState | None: ...

    def current_documents(self) -> int: ...
