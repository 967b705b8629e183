"""The child process that builds a generation's autocomplete index for a server process
(completion_index._built_in_child): ``python -m searchsvc.engine.whoosh_engine.completion_child
FOLDER NAME PARENT_PID`` writes the index, pickled, on its standard output."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from searchsvc.child_processes import die_with_parent
from searchsvc.engine.whoosh_engine.completion_index import CompletionIndex, build_completion_index
from searchsvc.engine.whoosh_engine.snapshot import Snapshot


def build_for_generation(folder: str, name: str) -> CompletionIndex:
    """The autocomplete index of the generation in ``folder``."""
    snapshot = Snapshot(Path(folder), name)
    try:
        return build_completion_index(snapshot)
    finally:
        snapshot.close()


def main(argv: list[str]) -> None:
    folder, name, parent = argv
    die_with_parent(int(parent))
    built = build_for_generation(folder, name)
    sys.stdout.buffer.write(pickle.dumps(built, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    main(sys.argv[1:])
