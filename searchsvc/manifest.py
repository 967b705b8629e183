"""What the last build saw of each file (size, mtime, hash, the ids it carries) and which file's
article the index holds per id: the indexer's change detection and duplicate resolution.

Engine-neutral: a build hands it to the engine as JSON text with its report (a BuildState), and
the next build gets it back from the engine's ``last_state()``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from searchsvc.engine.interface import BuildState


@dataclass(slots=True)
class FileEntry:
    size: int
    mtime_ns: int
    sha1: str
    ids: list[str] = field(default_factory=list)
    failure: str = ""
    line: int = 0
    display: str = ""  # the path as the user gave it; kept for failed files, to report them
    # ids this file carries but another file's article won (see _record)
    lost: list[str] = field(default_factory=list)


@dataclass
class Manifest:
    """What the last build saw of each file, and which file's article the index holds per id.

    Ownership is not saved: it follows from each file's ids (its own article first, then its
    related entries) and the ids it lost.
    """

    files: dict[str, FileEntry] = field(default_factory=dict)
    # id -> [path, is_top_level, mtime_ns] of the file whose article the index holds
    owners: dict[str, list] = field(default_factory=dict)
    # id -> files that also carry the id but lost to the owner
    shadowed: dict[str, list[str]] = field(default_factory=dict)
    report: dict = field(default_factory=dict)

    @classmethod
    def from_state(cls, state: BuildState | None) -> Manifest:
        if state is None:
            return cls()
        files = {path: FileEntry(*entry) for path, entry in state.files.items()}
        owners: dict[str, list] = {}
        shadowed: dict[str, list[str]] = {}
        for path, entry in files.items():
            lost = set(entry.lost)
            for position, doc_id in enumerate(entry.ids):
                if doc_id in lost:
                    shadowed.setdefault(doc_id, []).append(path)
                else:
                    owners[doc_id] = (path, position == 0, entry.mtime_ns)
        return cls(files, owners, shadowed, state.report)

    def encode_files(self) -> str:
        """The file records as JSON text, for Build.publish."""
        files = {}
        for path, e in self.files.items():
            lost = [i for i in e.ids if (self.owners.get(i) or ("",))[0] != path]
            files[path] = [e.size, e.mtime_ns, e.sha1, e.ids, e.failure, e.line, e.display, lost]
        return json.dumps(files, separators=(",", ":"))
