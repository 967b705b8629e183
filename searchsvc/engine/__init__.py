"""The search engine seam: the interface (interface.py) and the one factory that picks an engine
by the ``engine`` setting. Code outside this package imports only these names; each engine's
internals (the Whoosh engine's generations, segments and build workers; the OpenSearch engine's
indexes, alias and client) stay in its subpackage.
"""

from __future__ import annotations

from searchsvc.engine.interface import (
    Build,
    Builder,
    BuildState,
    Facet,
    FacetValue,
    Highlight,
    Hit,
    IndexSummary,
    ResultPage,
    SearchEngine,
    Suggestion,
    View,
)
from searchsvc.errors import ConfigError

ENGINES = ("whoosh", "opensearch")


def _check(settings) -> str:
    name = settings.engine
    if name not in ENGINES:
        raise ConfigError(f"Unknown engine {name!r} (the engine setting). Known engines: {', '.join(ENGINES)}.")
    return name


def open_search(settings, one_shot: bool = False) -> SearchEngine:
    """The search side of the engine ``settings.engine`` names; ``one_shot`` for a command that
    searches once (the Whoosh engine then skips building what only later queries could use)."""
    from searchsvc.engine.limits import QueryLimits
    from searchsvc.engine.ranking import RankingModel

    ranking, limits = RankingModel.from_settings(settings), QueryLimits.from_settings(settings)
    if _check(settings) == "opensearch":
        from searchsvc.engine.opensearch_engine.search import OpenSearchEngine

        return OpenSearchEngine(settings, ranking, limits)
    from searchsvc.engine.whoosh_engine.search import WhooshEngine

    return WhooshEngine(settings.index_dir, ranking, limits, warm=not one_shot)


def open_builder(settings) -> Builder:
    """The build side of the engine ``settings.engine`` names."""
    if _check(settings) == "opensearch":
        from searchsvc.engine.opensearch_engine.builder import OpenSearchBuilder
        from searchsvc.engine.ranking import RankingModel

        return OpenSearchBuilder(settings, RankingModel.from_settings(settings))
    from searchsvc.engine.whoosh_engine.builder import WhooshBuilder

    return WhooshBuilder(settings.index_dir)


__all__ = [
    "ENGINES",
    "Build",
    "BuildState",
    "Builder",
    "Facet",
    "FacetValue",
    "Highlight",
    "Hit",
    "IndexSummary",
    "ResultPage",
    "SearchEngine",
    "Suggestion",
    "View",
    "open_builder",
    "open_search",
]
