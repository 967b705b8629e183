"""The response schemas of the OpenAPI description (components/schemas), every property described.

searchsvc.web.openapi assembles them with the paths and parameters into the document."""

from __future__ import annotations

from searchsvc.request import MAX_PAGE, SORTS
from searchsvc.stats import PUBLIC_LIST_LIMIT
from searchsvc.web.openapi_types import BOOL, DATE, DATE_TIME, INT, NUM, STR, STRINGS, nullable, obj, ok, ref, said

GENERATION = said(STR, "The index generation that answered, such as gen-000001.")

HIT = obj(
    {
        "id": said(STR, "The article's id: its URL, or for an article without one its file's path."),
        "title": said(STR, "The headline, as plain text."),
        "excerpt": said(STR, "A short summary of the article, as plain text; empty when it has none."),
        "url": said(STR, "The article's web address (webUrl, else originalUrl); empty when it has none."),
        "provider": said(STR, "The publisher's name; empty when unknown."),
        "domain": said(STR, "The publisher's web domain, such as example.com; empty when unknown."),
        "published": said(nullable(DATE_TIME), "When the article was published, in UTC; null when it has no date."),
        "topics": said(STRINGS, "The article's topics, in the order the file lists them."),
        "image": said(STR, "The address of the article's first image; empty when it has none."),
        "score": said(NUM, "Relevance to the query (higher is better); 0 when nothing was searched for."),
        "highlights": {
            "type": "object",
            "additionalProperties": STR,
            "description": "HTML-escaped text with <mark> around matched words, by field (title, excerpt, body).",
        },
        "category": said(STR, "The article's category, such as news or blog; empty when it has none."),
        "type": said(STR, "The article's type, such as article or video; empty when it has none."),
        "quality": said(nullable(INT), "The quality score the file gives, as a whole number; null when none."),
        "duplicates": said(INT, "Syndicated copies of this story folded into this hit (0 when none)."),
        "related_to": said(STR, "The id of the article that lists this one as related; empty when none."),
        "related_ids": said(STRINGS, "The ids of the articles this one lists as related."),
    }
)
EXPORT_ROW = {
    **obj({name: prop for name, prop in HIT["properties"].items() if name != "highlights"}),
    "description": "One line of a JSON Lines export: a Hit without highlights.",
}
FACET_VALUE = obj(
    {
        "value": said(STR, "The value, such as a provider's name, or for the date facet a day, month or year."),
        "count": said(INT, "Matching articles with this value (folded copies counted too)."),
        "selected": said(BOOL, "True when the search filters on this value."),
        "start": said(DATE, "Date facet only: the first day the bucket covers."),
        "end": said(DATE, "Date facet only: the last day the bucket covers."),
    },
    optional=("start", "end"),
)
FACET = obj(
    {
        "interval": said(
            nullable({"type": "string", "enum": ["day", "month", "year"]}),
            "Date facet only: the size of each bucket; null for the other facets.",
        ),
        "more": said(BOOL, "True when more values exist than facet_size listed."),
        "values": said({"type": "array", "items": ref("FacetValue")}, "The values listed (at most facet_size)."),
    }
)
CORRECTION = obj(
    {
        "word": said(STR, "A query word as typed (lower-case) that no or hardly any article holds."),
        "matched": said(STRINGS, "The known words it also matched, fewest edits first."),
    }
)
QUERY = obj(
    {
        "q": said(STR, "The query text, trimmed; empty when nothing was searched for."),
        "filters": {
            "type": "object",
            "additionalProperties": STRINGS,
            "description": "The filters applied, by parameter (provider, topic, domain, category, type).",
        },
        "published": said(nullable(BOOL), "The published filter; null when not set."),
        "from": said(nullable(DATE), "The first day included; null when not set."),
        "to": said(nullable(DATE), "The last day included; null when not set."),
        "sort": said({"type": "string", "enum": list(SORTS)}, "The order of the hits."),
        "collapse": said(BOOL, "True when syndicated copies are folded into one hit."),
        "typos": said(BOOL, "True when misspelt words may also match known words (typo tolerance)."),
    }
)
RESULTS = obj(
    {
        "ok": ok(True),
        "query": said(QUERY, "The search as the server understood it."),
        "total": said(INT, "Hits matching the search, over all pages (folded copies not counted)."),
        "folded": said(
            INT,
            "Syndicated copies folded into the hits (collapse): total + folded articles match, "
            "as the facet counts count them.",
        ),
        "page": said(INT, "This page's number, from 1."),
        "per_page": said(INT, "Hits per page asked for."),
        "pages": said(INT, f"Pages that can be asked for: ceil(total / per_page), at most {MAX_PAGE}."),
        "hits": said({"type": "array", "items": ref("Hit")}, "This page's hits, in the order asked for."),
        "facets": {
            "type": "object",
            "additionalProperties": ref("Facet"),
            "description": "The counted facets, by name (those the facets parameter asked for).",
        },
        "suggestion": said(nullable(STR), "Did you mean: a respelling of the query that matches more; null if none."),
        "relaxed": said(BOOL, "True when some hits match only some of the words (no hit matched them all)."),
        "corrections": said(
            {"type": "array", "items": ref("Correction")},
            "The query's misspelt words (rare or unknown, 5+ letters) and the known words each also "
            "matched; hits holding the words as typed rank first. Empty when none.",
        ),
        "took_ms": said(NUM, "Time the search took on the server, in milliseconds."),
        "generation": GENERATION,
    }
)
ERROR = obj(
    {
        "ok": ok(False),
        "status": said(INT, "The HTTP status code, repeated."),
        "error": said(STR, "What went wrong and what to do next, in one message."),
        "errors": said(
            {
                "type": "array",
                "items": obj(
                    {
                        "parameter": said(STR, "The parameter at fault, such as page."),
                        "message": said(STR, "What is wrong with it."),
                    }
                ),
            },
            "The parameter at fault and what is wrong with it; empty when the error is not about a parameter.",
        ),
    }
)
ARTICLE = obj(
    {
        "ok": ok(True),
        "article": said(ref("Hit"), "The article."),
        "related": said({"type": "array", "items": ref("Hit")}, "Articles like it, its own related entries first."),
    }
)
NAME_ONLY = "Topics and providers only: "
SUGGESTION = obj(
    {
        "text": said(STR, "A word or word pair of titles, spelt as most spell it, for the search box; or a name."),
        "kind": said({"type": "string"}, "Where it comes from: topic, provider or word."),
        "filter": said(
            {"type": "object", "additionalProperties": STRINGS},
            NAME_ONLY + 'the filter choosing it sets: request parameter -> values ({"provider": ["BBC News"]}).',
        ),
        "q": said(STR, NAME_ONLY + "the query to search under the filter: the typed words before the name."),
    },
    optional=("filter", "q"),
)
SUGGESTIONS = obj(
    {
        "ok": ok(True),
        "suggestions": said(
            {"type": "array", "items": SUGGESTION},
            "Completions of the text, at most limit: topics and providers (at most half when there are words), "
            "then words, the most frequent first.",
        ),
    }
)
ENGINE = said({"type": "string", "enum": ["whoosh", "opensearch"]}, "The engine serving (the engine setting).")
ENGINE_HEALTH = said(
    {"type": "string", "enum": ["green", "yellow", "red"]},
    "The engine's health: always green for Whoosh; the cluster's for OpenSearch (yellow: some "
    "replicas are not assigned, every article is searchable; red is answered with a 503).",
)
DOCUMENTS = said(INT, "Articles in the index (related entries count as articles).")
STATS = obj(
    {
        "ok": ok(True),
        "engine": ENGINE,
        "health": ENGINE_HEALTH,
        "generation": GENERATION,
        "documents": DOCUMENTS,
        "files": said(INT, "Source files the last build saw."),
        "built_at": said(DATE_TIME, "When the generation served was published, in UTC."),
        "build_seconds": said(NUM, "How long the last build took, in seconds."),
        "last_report": said(
            STR, "The last build's counts in one line: added, updated, unchanged, deleted, duplicates, failed."
        ),
        "report": {
            "type": "object",
            "description": f"The last build's counts; failures and warnings list the first {PUBLIC_LIST_LIMIT} "
            "(failed and warned count them all), file paths relative to their source folder.",
            "properties": {
                "failed": said(INT, "Files that could not be read as articles."),
                "warned": said(INT, "Warnings the build gave (an article indexed with a fault repaired)."),
                "failures": said(
                    {**STRINGS, "maxItems": PUBLIC_LIST_LIMIT}, "The first failures, as path:line: reason."
                ),
                "warnings": said({**STRINGS, "maxItems": PUBLIC_LIST_LIMIT}, "The first warnings."),
            },
            "required": ["failed", "warned", "failures", "warnings"],
        },
        "size_bytes": said(INT, "The size of the index on disk (or in the cluster), in bytes."),
        "top_providers": said(
            {
                "type": "array",
                "items": obj(
                    {"value": said(STR, "The provider's name."), "count": said(INT, "Its articles in the index.")}
                ),
            },
            "The providers with the most articles, most first.",
        ),
        "reindex": said(ref("Reindex"), "The state of re-index runs and their schedule."),
    }
)
REINDEX_REPORT = obj(
    {
        "added": said(INT, "Articles added."),
        "updated": said(INT, "Articles whose file changed."),
        "unchanged": said(INT, "Files unchanged since the last build (not read again)."),
        "deleted": said(INT, "Articles whose file went away."),
        "duplicates": said(INT, "Articles left out because another has the same id (URL)."),
        "failed": said(INT, "Files that could not be read as articles."),
        "documents": said(INT, "Articles in the index after the run."),
        "generation": said(STR, "The generation the run published (or kept, when nothing changed)."),
        "failures": said(
            {**STRINGS, "maxItems": PUBLIC_LIST_LIMIT},
            "Files that could not be read as articles, as path:line: reason (the first "
            f"{PUBLIC_LIST_LIMIT}; paths relative to their source folder).",
        ),
    }
)
RUN = {
    "id": said(STR, "The run's id (12 hexadecimal digits)."),
    "full": said(BOOL, "A full rebuild rather than an incremental update."),
    "trigger": said(
        {"type": "string", "enum": ["schedule", "api", "manual"]},
        "What started it: the schedule, POST /api/admin/reindex, or another caller (manual).",
    ),
    "started_at": said(DATE_TIME, "When it started, in UTC."),
}
SCHEDULE = obj(
    {
        "every": said(nullable(STR), "The reindex_every setting (such as 15m); null when not set."),
        "cron": said(nullable(STR), "The reindex_cron setting; null when not set."),
        "full_cron": said(nullable(STR), "The full_reindex_cron setting; null when not set."),
    }
)
LAST_RUN = obj(
    {
        **RUN,
        "finished_at": said(DATE_TIME, "When it finished, in UTC."),
        "seconds": said(NUM, "How long it took, in seconds."),
        "ok": said(BOOL, "False when the run failed; the previous index is still served."),
        "error": said(nullable(STR), "Why it failed; null when it did not."),
        "report": said(nullable(ref("ReindexReport")), "What it did; null when it failed."),
        "status_error": said(STR, "Only when the run's status could not be saved: why."),
    },
    optional=("status_error",),
)
REINDEX = obj(
    {
        "running": said(BOOL, "A run is going on now (in any server process)."),
        "current": said(nullable(obj(RUN)), "The run going on now; null when none."),
        "last_run": said(nullable(LAST_RUN), "The last finished run; null when there was none."),
        "next_run": said(nullable(DATE_TIME), "When the schedule starts the next run; null without a schedule."),
        "schedule": said(SCHEDULE, "The re-index schedule settings."),
        "generation": said(STR, "The generation this server process is serving."),
    }
)
REINDEX_STARTED = obj(
    {
        "ok": ok(True),
        "run": said(
            obj({"id": RUN["id"], "full": RUN["full"]}), "The run that started; follow it in /api/stats' reindex."
        ),
    },
)
HEALTH = obj({"ok": ok(True)})
READY = obj(
    {
        "ok": ok(True),
        "engine": ENGINE,
        "health": ENGINE_HEALTH,
        "generation": GENERATION,
        "documents": DOCUMENTS,
    }
)

SCHEMAS = {
    "SearchResults": RESULTS,
    "Hit": HIT,
    "ExportRow": EXPORT_ROW,
    "Facet": FACET,
    "FacetValue": FACET_VALUE,
    "Correction": CORRECTION,
    "Article": ARTICLE,
    "Suggestions": SUGGESTIONS,
    "Stats": STATS,
    "Reindex": REINDEX,
    "ReindexReport": REINDEX_REPORT,
    "ReindexStarted": REINDEX_STARTED,
    "Health": HEALTH,
    "Ready": READY,
    "Error": ERROR,
}
