"""The child process that builds a generation's autocomplete index for a server process
(completion_index._built_in_child): ``python -m searchsvc.engine.whoosh_engine.completion_child
FOLDER NAME PARENT_PID [--save]`` saves the index beside the generation (completion_file.py) with
``--save``, and otherwise, or when it cannot be saved, writes it, pickled, on its standard output."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from searchsvc.child_processes import die_with_parent
from searchsvc.engine.whoosh_engine import completion_file
from searchsvc.engine.whoosh_engine.completion_index import CompletionIndex, build_completion_index
from searchsvc.engine.whoosh_engine.snapshot import Snapshot


def build_for_generation(folder: str, name: str, save: bool = False) -> CompletionIndex | None:
    """The autocomplete index of the generation in ``folder``; None when told to ``save`` it and
    saved."""
    snapshot = Snapshot(Path(folder), name)
    try:
        built = build_completion_index(snapshot)
        if save:
            try:
                completion_file.save(built.arrays(), snapshot)
                return None
            except OSError as exc:  # a full disk, say: the parent gets it the other way
                print(f"cannot save the autocomplete index in {folder}: {exc}", file=sys.stderr)
        return built
    finally:
        snapshot.close()


def main(argv: list[str]) -> None:
    folder, name, parent, *options = argv
    die_with_parent(int(parent))
    built = build_for_generation(folder, name, save=options == ["--save"])
    if built is not None:
        sys.stdout.buffer.write(pickle.dumps(built, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    main(sys.argv[1:])
