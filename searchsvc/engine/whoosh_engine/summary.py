"""The summary of a generation: documents, files, the last build's report, size on disk and the
top providers, from its manifest and a snapshot's columns."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from searchsvc.engine.interface import BuildState, IndexSummary
from searchsvc.engine.whoosh_engine.snapshot import Snapshot

# The indexer's BuildState, beside the segments of each generation: a line of JSON (the report and
# the number of files), then the file records as the indexer encoded them.
STATE = "build-state"
OLD_MANIFEST = "manifest.json"  # what earlier versions saved: {"files": {...}, "report": {...}}
STATE_FILES = (STATE, OLD_MANIFEST)


def read_state(folder: Path, with_files: bool = True) -> BuildState | None:
    """The BuildState a build saved in generation ``folder`` (None when there is none);
    ``with_files=False`` reads its report and count only."""
    try:
        with open(folder / STATE, "rb") as saved:
            head = json.loads(saved.readline())
            files = saved.read() if with_files else b""
        return BuildState(files, head.get("report", {}), int(head.get("file_count", 0)))
    except FileNotFoundError:
        pass
    except ValueError:
        return None
    try:
        data = json.loads((folder / OLD_MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    files = data.get("files", {})
    return BuildState(files if with_files else {}, data.get("report", {}), len(files))


def write_state(folder: Path, state: BuildState) -> None:
    """Save a BuildState in generation ``folder`` (written aside, then renamed into place)."""
    tmp = folder / (STATE + ".tmp")
    head = {"report": state.report, "file_count": state.file_count}
    with open(tmp, "wb") as out:
        out.write(json.dumps(head, separators=(",", ":")).encode("utf-8"))
        out.write(b"\n")
        out.write(state.files)
    tmp.replace(folder / STATE)


def summarise(s: Snapshot, top: int = 10) -> IndexSummary:
    folder = Path(s.folder)
    state = read_state(folder, with_files=False) or BuildState(b"", {})
    report = state.report
    size = sum(entry.stat().st_size for entry in folder.iterdir() if entry.is_file())
    return IndexSummary(
        view=s.name,
        documents=s.count,
        files=state.file_count,
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
