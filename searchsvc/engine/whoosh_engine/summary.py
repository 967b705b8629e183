"""The summary of a generation: documents, files, the last build's report, size on disk and the
top providers, from its manifest and a snapshot's columns."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from searchsvc.engine.interface import BuildState, IndexSummary
from searchsvc.engine.whoosh_engine.snapshot import Snapshot

MANIFEST = "manifest.json"  # the indexer's BuildState, beside the segments of each generation


def read_state(folder: Path) -> BuildState | None:
    """The BuildState a build saved in generation ``folder`` (None when there is none)."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return BuildState(data.get("files", {}), data.get("report", {}))


def write_state(folder: Path, files: str, report: dict) -> None:
    """Save a BuildState in generation ``folder``: ``files`` is JSON text already (a full build
    encodes it before its write phase, its memory peak), spliced in as it is."""
    tmp = folder / (MANIFEST + ".tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        out.write('{"files":')
        out.write(files)
        out.write(',"report":')
        out.write(json.dumps(report, separators=(",", ":")))
        out.write("}")
    tmp.replace(folder / MANIFEST)


def summarise(s: Snapshot, top: int = 10) -> IndexSummary:
    folder = Path(s.folder)
    state = read_state(folder) or BuildState({}, {})
    report = state.report
    size = sum(entry.stat().st_size for entry in folder.iterdir() if entry.is_file())
    return IndexSummary(
        view=s.name,
        documents=s.count,
        files=len(state.files),
        built_at=report.get("finished_at") or folder.stat().st_mtime,
        build_seconds=float(report.get("seconds", 0.0)),
        report=report,
        size_bytes=size,
        top_providers=top_values(s, "provider", top),
    )


def top_values(s: Snapshot, column: str, top: int = 10) -> list[tuple[str, int]]:
    """The most frequent values of a column over the live documents (ties by value), counted
    from the snapshot's columns with numpy (no per-document Python)."""
    values = getattr(s, {"topic": "topics"}.get(column, column))
    if hasattr(values, "counts"):  # a multi-valued column
        counts = values.counts(np.flatnonzero(s.live))
    else:
        counts = np.bincount(values.ords[s.live], minlength=len(values.values))
    order = np.lexsort((np.arange(len(counts)), -counts))[:top]
    return [(values.values[i], int(counts[i])) for i in order if counts[i] > 0]
