"""What is in the index: documents, generation, last build and its report, size, top providers.

``index_stats`` is the operator's view (``searchsvc stats``: paths included). ``public_stats`` is
what /api/stats shows anyone: bounded (counts, and only the first few failures and warnings) and
without the server's paths (file paths relative to their source folder, no index folder).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterable
from typing import Any

from searchsvc import engine
from searchsvc.engine.whoosh_engine.generations import Generation, require_generation
from searchsvc.indexer import MANIFEST

# failures and warnings listed by /api/stats (the totals are always given)
PUBLIC_LIST_LIMIT = 20
COUNT_KEYS = ("added", "updated", "unchanged", "deleted", "duplicates", "failed")
REPORT_KEYS = (*COUNT_KEYS, "articles", "documents", "generation", "full", "seconds", "started_at", "finished_at")
# an absolute path inside a text (not the path part of a URL: that follows a ':' or a '/')
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~-])/(?:[^\s:'\"/]+/)*([^\s:'\"/]+)")


def _manifest(generation: Generation) -> tuple[int, dict]:
    """The number of files and the last build's report, from the generation's manifest."""
    try:
        data = json.loads((generation.path / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return 0, {}
    return len(data.get("files", {})), data.get("report", {})


def _base(generation: Generation, files: int, report: dict, top_providers: list[tuple[str, int]]) -> dict:
    size = sum(entry.stat().st_size for entry in generation.path.iterdir() if entry.is_file())
    finished = report.get("finished_at") or generation.path.stat().st_mtime
    return {
        "generation": generation.name,
        "documents": engine.document_count(generation.path),
        "files": files,
        "built_at": dt.datetime.fromtimestamp(finished, dt.UTC).isoformat(timespec="seconds"),
        "build_seconds": float(report.get("seconds", 0.0)),
        "last_report": ", ".join(f"{key} {report.get(key, 0)}" for key in COUNT_KEYS),
        "size_bytes": size,
        "top_providers": top_providers,
    }


def index_stats(index_dir: str | os.PathLike[str], top: int = 10) -> dict:
    """Everything about the current generation, for the operator (``searchsvc stats``)."""
    generation = require_generation(index_dir)
    files, report = _manifest(generation)
    data = _base(generation, files, report, engine.top_values(generation.path, "provider", top))
    return {"index_dir": str(index_dir), **data, "report": report}


def public_stats(generation: Generation, snapshot: Any, sources: Iterable[str], index_dir: str, top: int = 10) -> dict:
    """The stats of ``generation`` (served as the engine's ``snapshot``) for /api/stats: bounded,
    and without the server's paths. Costs a read of the manifest: compute it once per generation."""
    files, report = _manifest(generation)
    scrub = path_scrubber(sources, index_dir)
    failures = report.get("failures", [])
    warnings = report.get("warnings", [])
    bounded = {key: report[key] for key in REPORT_KEYS if key in report}
    bounded["failed"] = report.get("failed", len(failures))
    bounded["warned"] = len(warnings)
    bounded["failures"] = [scrub(str(text)) for text in failures[:PUBLIC_LIST_LIMIT]]
    bounded["warnings"] = [scrub(str(text)) for text in warnings[:PUBLIC_LIST_LIMIT]]
    data = _base(generation, files, report, engine.top_values(snapshot, "provider", top))
    return {**data, "report": bounded}


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
