"""What is in the index: documents, generation, last build and its report, size, top providers."""

from __future__ import annotations

import datetime as dt
import os

from searchsvc import engine
from searchsvc.engine.generations import require_generation
from searchsvc.indexer import Manifest


def index_stats(index_dir: str | os.PathLike[str], top: int = 10) -> dict:
    generation = require_generation(index_dir)
    manifest = Manifest.load(generation.path)
    report = manifest.report
    size = sum(entry.stat().st_size for entry in generation.path.iterdir() if entry.is_file())
    finished = report.get("finished_at") or generation.path.stat().st_mtime
    counts_line = ", ".join(
        f"{key} {report.get(key, 0)}" for key in ("added", "updated", "unchanged", "deleted", "duplicates", "failed")
    )
    return {
        "index_dir": str(index_dir),
        "generation": generation.name,
        "documents": engine.document_count(generation.path),
        "files": len(manifest.files),
        "built_at": dt.datetime.fromtimestamp(finished, dt.UTC).isoformat(timespec="seconds"),
        "build_seconds": float(report.get("seconds", 0.0)),
        "last_report": counts_line,
        "report": report,
        "size_bytes": size,
        "top_providers": engine.top_values(generation.path, "provider", top),
    }
