"""Typed errors. Each message says what happened, names the value and says what to do next."""

from __future__ import annotations


class SearchsvcError(Exception):
    """Base class of every error searchsvc raises on purpose."""


class ConfigError(SearchsvcError):
    """A setting has a value that cannot be used."""


class DocumentError(SearchsvcError):
    """A file cannot be read as an article."""

    def __init__(self, path: str, reason: str, line: int | None = None) -> None:
        self.path = path
        self.reason = reason
        self.line = line
        super().__init__(self.location + ": " + reason)

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.line else str(self.path)


class IndexNotFoundError(SearchsvcError):
    """There is no index generation to open at the configured location."""

    def __init__(self, index_dir: str, message: str | None = None) -> None:
        self.index_dir = index_dir
        super().__init__(message or f"No index at {index_dir}. Run 'searchsvc index SOURCE --index {index_dir}' first.")


class IndexLockedError(SearchsvcError):
    """Another builder holds the index lock."""


class QueryError(SearchsvcError):
    """A search parameter has a value that cannot be used (rendered as HTTP 400)."""

    def __init__(self, message: str, parameter: str | None = None) -> None:
        self.parameter = parameter
        super().__init__(message)


class QueryTooExpensive(QueryError):
    """A search would take more work than one request may (too many words, prefixes that expand to
    too many words, too many filter values, or past the time budget); rendered as HTTP 400."""


class IndexWriteError(SearchsvcError):
    """The index folder cannot be written (a full disk, a read-only mount, missing permissions)."""


class EngineUnavailable(SearchsvcError):
    """The search engine cannot answer now: a cluster that cannot be reached, is red, refuses the
    credentials or rejects a request (rendered as HTTP 503; a build that meets it changes nothing)."""
