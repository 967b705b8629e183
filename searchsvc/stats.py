"""What is in the index: documents, generation, last build and its report, size, top providers.

``index_stats`` is the operator's view (``searchsvc stats``: paths included). ``public_stats`` is
what /api/stats shows anyone: bounded (counts, and only the first few failures and warnings) and
without the server's paths (file paths relative to their source folder, no index folder).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable

from searchsvc.engine import IndexSummary, open_search

# failures and warnings listed by /api/stats (the totals are always given)
PUBLIC_LIST_LIMIT = 20
COUNT_KEYS = ("added", "updated", "unchanged", "deleted", "duplicates", "failed")
REPORT_KEYS = (*COUNT_KEYS, "articles", "documents", "generation", "full", "seconds", "started_at", "finished_at")
# an absolute path inside a text (not the path part of a URL: that follows a ':' or a '/')
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~-])/(?:[^\s:'\"/]+/)*([^\s:'\"/]+)")


def _base(summary: IndexSummary) -> dict:
    report = summary.report
    built = None
    if summary.built_at:
        built = dt.datetime.fromtimestamp(summary.built_at, dt.UTC).isoformat(timespec="seconds")
    return {
        "health": summary.health,
        "generation": summary.view,
        "documents": summary.documents,
        "files": summary.files,
        "built_at": built,
        "build_seconds": summary.build_seconds,
        "last_report": ", ".join(f"{key} {report.get(key, 0)}" for key in COUNT_KEYS),
        "size_bytes": summary.size_bytes,
        "top_providers": list(summary.top_providers),
    }


def index_location(settings) -> str:
    """Where the index lives, as messages name it: a folder, or an alias on a cluster."""
    if settings.engine == "opensearch":
        return f"alias {settings.opensearch_index_prefix} on {', '.join(settings.opensearch_url)}"
    return str(settings.index_dir)


def index_stats(settings, top: int = 10) -> dict:
    """Everything about the view being served, for the operator (``searchsvc stats``)."""
    engine = open_search(settings)
    try:
        summary = engine.summary(top=top)
    finally:
        engine.close()
    return {
        "engine": settings.engine,
        "index_dir": str(settings.index_dir),
        "location": index_location(settings),
        **_base(summary),
        "report": summary.report,
    }


def public_stats(summary: IndexSummary, sources: Iterable[str], index_dir: str, engine: str = "whoosh") -> dict:
    """The stats of a view for /api/stats: bounded, and without the server's paths."""
    report = summary.report
    scrub = path_scrubber(sources, index_dir)
    failures = report.get("failures", [])
    warnings = report.get("warnings", [])
    bounded = {key: report[key] for key in REPORT_KEYS if key in report}
    bounded["failed"] = report.get("failed", len(failures))
    bounded["warned"] = len(warnings)
    bounded["failures"] = [scrub(str(text)) for text in failures[:PUBLIC_LIST_LIMIT]]
    bounded["warnings"] = [scrub(str(text)) for text in warnings[:PUBLIC_LIST_LIMIT]]
    return {"engine": engine, **_base(summary), "report": bounded}


def path_scrubber(sources: Iterable[str], index_dir: str | os.PathLike[str]):
    """A function that takes the server's paths out of a text: a file below a source folder
    becomes its path relative to that folder, the index folder becomes 'the index folder', and
    any other absolute path is cut down to its last part."""
    roots: list[str] = []
    for source in sources:
        for form in (str(source), os.path.abspath(source), os.path.realpath(source)):
            form = form.rstrip("/")
            if form and form not in roots:
                roots.append(form)
    roots.sort(key=len, reverse=True)  # the most specific folder first
    index_forms = sorted(
        {str(index_dir).rstrip("/"), os.path.abspath(index_dir), os.path.realpath(index_dir)} - {""},
        key=len,
        reverse=True,
    )

    def scrub(text: str) -> str:
        for root in roots:
            text = text.replace(root + "/", "")
        for form in index_forms:
            text = text.replace(form + "/", "").replace(form, "the index folder")
        return _ABSOLUTE_PATH.sub(lambda m: m.group(1), text)

    return scrub


def public_reindex(status: dict, sources: Iterable[str], index_dir: str | os.PathLike[str]) -> dict:
    """The re-index status with its failures bounded and without the server's paths."""
    last = status.get("last_run")
    if not last:
        return status
    scrub = path_scrubber(sources, index_dir)
    last = dict(last)
    for key in ("error", "status_error"):
        if isinstance(last.get(key), str):
            last[key] = scrub(last[key])
    report = last.get("report")
    if isinstance(report, dict):
        failures = report.get("failures") or []
        report = {**report, "failures": [scrub(str(text)) for text in failures[:PUBLIC_LIST_LIMIT]]}
        last["report"] = report
    return {**status, "last_run": last}
