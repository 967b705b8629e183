"""Exports: every result of a search as CSV or JSON Lines, rendered as the hits are read (the
data is SearchService.export's ExportResults; the HTTP routes and ``searchsvc export`` only
stream these renderings)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

from searchsvc.search import ExportResults, hit_to_dict

if TYPE_CHECKING:
    from searchsvc.engine.interface import Hit


# the columns of an exported CSV file (a JSON Lines export has hit_to_dict's fields, less highlights)
EXPORT_COLUMNS = (
    "id",
    "title",
    "excerpt",
    "url",
    "provider",
    "domain",
    "published",
    "topics",
    "category",
    "type",
    "quality",
    "score",
    "duplicates",
)
# a spreadsheet reads a cell starting with one of these as a formula (OWASP, "CSV Injection")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")
EXPORT_CHUNK = 64 * 1024  # characters an export renders before handing them on


def csv_text(text: str) -> str:
    """A text cell a spreadsheet shows as text: a leading apostrophe before a cell that would
    start a formula (OWASP's advice against CSV injection). JSON Lines keep the text as it is."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def export_row(hit: Hit) -> list:
    """A hit as a row of EXPORT_COLUMNS (topics joined with "; ")."""
    texts = (hit.id, hit.title, hit.excerpt, hit.url, hit.provider, hit.domain)
    return [
        *map(csv_text, texts),
        hit.published or "",
        csv_text("; ".join(hit.topics)),
        csv_text(hit.category),
        csv_text(hit.type),
        "" if hit.quality is None else hit.quality,
        hit.score,
        hit.duplicates,
    ]


def export_csv(results: ExportResults) -> Iterator[str]:
    """The export as CSV (RFC 4180: a header row, CRLF line ends), in chunks of EXPORT_CHUNK."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    try:
        for hit in results.hits:
            writer.writerow(export_row(hit))
            if buffer.tell() >= EXPORT_CHUNK:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()
    finally:
        results.close()


def export_jsonl(results: ExportResults) -> Iterator[str]:
    """The export as JSON Lines: one hit (hit_to_dict, less highlights) a line, in chunks."""
    lines: list[str] = []
    size = 0
    try:
        for hit in results.hits:
            data = hit_to_dict(hit)
            del data["highlights"]
            line = json.dumps(data, ensure_ascii=False) + "\n"
            lines.append(line)
            size += len(line)
            if size >= EXPORT_CHUNK:
                yield "".join(lines)
                lines, size = [], 0
        if lines:
            yield "".join(lines)
    finally:
        results.close()
