"""What one search may cost: a time budget, and caps on words, prefix expansion and filter values.

Every limit is a setting (config.py): ``search_timeout``, ``max_query_terms``, ``max_prefix_terms``
and ``max_filter_values``; 0 turns one off. A search over a limit is refused with
QueryTooExpensive (HTTP 400) whose message says what to narrow.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from searchsvc.errors import QueryTooExpensive


@dataclass(frozen=True)
class QueryLimits:
    search_timeout: float = 1.0
    max_query_terms: int = 256
    max_prefix_terms: int = 2000
    max_filter_values: int = 100
    typo_tolerance: bool = True  # rare or unknown words also match known words an edit or two away
    typo_candidates: int = 8  # at most this many known words per misspelt query word

    @classmethod
    def from_settings(cls, settings) -> QueryLimits:
        return cls(
            search_timeout=settings.search_timeout,
            max_query_terms=settings.max_query_terms,
            max_prefix_terms=settings.max_prefix_terms,
            max_filter_values=settings.max_filter_values,
            typo_tolerance=settings.typo_tolerance,
            typo_candidates=settings.typo_candidates,
        )


class Deadline:
    """The moment a search's time budget runs out; ``check()`` between steps of work."""

    __slots__ = ("seconds", "end")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds if seconds > 0 else math.inf

    def check(self) -> None:
        if time.monotonic() > self.end:
            raise too_slow(self.seconds)


def too_slow(seconds: float) -> QueryTooExpensive:
    """The error of a search stopped at its time budget (``search_timeout``)."""
    return QueryTooExpensive(
        f"This search took more than {seconds:g} s (search_timeout) and was stopped. "
        "Narrow it: use fewer words, longer prefixes (more letters before the *), "
        "fewer NOT parts or fewer filter values.",
        "q",
    )


NO_DEADLINE = Deadline(0)


def too_many_prefix_words(prefixes: list[str], limit: int) -> QueryTooExpensive:
    shown = ", ".join(f"{p}*" for p in prefixes[:3]) + (f" and {len(prefixes) - 3} more" if len(prefixes) > 3 else "")
    if len(prefixes) == 1:
        what, fix = f"The prefix {shown} matches", "make it longer (more letters before the *)"
    else:
        what, fix = f"The prefixes {shown} match", "make them longer (more letters before the *) or use fewer of them"
    return QueryTooExpensive(f"{what} more than {limit} indexed words (max_prefix_terms); {fix}.", "q")
