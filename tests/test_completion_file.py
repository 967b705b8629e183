"""The autocomplete index saved beside its generation (completion_file.py): built once by the
first worker that needs it (in a child process, under the generation's lock), mapped by the
others, ignored when it was made from other documents or cannot be read, and never carried to the
next generation."""

from __future__ import annotations

import fcntl
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from searchsvc.autocomplete import typed_prefix
from searchsvc.engine.whoosh_engine import completion_file, completion_index, prefix_table
from searchsvc.engine.whoosh_engine.completion_index import CompletionIndex, build_completion_index
from searchsvc.engine.whoosh_engine.generations import current_generation
from searchsvc.engine.whoosh_engine.snapshot import Snapshot
from searchsvc.indexer import build_index

TITLES = [
    "COVID-19 vaccine doses for children approved",
    "Covid 19 vaccine trial | Health Wire",
    "Civil rights march draws crowds in the capital",
    "Rocket launch delayed by weather",
    "Rocket engines tested ahead of launch",
    "Élysée Palace hosts the summit",
    "Vaccine makers report record sales",
]
PREFIXES = ["c", "co", "covid", "covid 19 v", "rocket l", "ely", "élysée", "v", "zz", "health"]


def _corpus(folder: Path, titles: list[str]) -> Path:
    folder.mkdir(exist_ok=True)
    for i, title in enumerate(titles):
        topic = "Health" if "accine" in title else "Space"
        (folder / f"t{i}.md").write_text(
            f"---\ntitle: {title!r}\nwebUrl: https://x.example/{i}\ntopics: [{topic}]\n"
            f"provider:\n  name: Wire {i % 2}\n---\n"
        )
    return folder


@pytest.fixture
def generation(tmp_path):
    build_index([_corpus(tmp_path / "corpus", TITLES)], tmp_path / "index")
    return current_generation(tmp_path / "index")


def _answers(index: CompletionIndex) -> list:
    return [(index.phrase_rows(typed_prefix(p)), index.name_suggestions(p, 10)) for p in PREFIXES]


def test_a_saved_index_answers_every_prefix_as_the_index_it_was_saved_from(generation, monkeypatch):
    monkeypatch.setattr(prefix_table, "SCAN_CAP", 2)  # crowded prefixes, answered ahead, are saved too
    snapshot = Snapshot(generation.path, generation.name)
    built = build_completion_index(snapshot)
    assert len(built.phrases._answered) > 3

    completion_file.save(built.arrays(), snapshot)
    loaded = completion_file.load(snapshot, CompletionIndex.from_arrays)

    assert _answers(loaded) == _answers(built)
    assert list(loaded.spellings) == list(built.spellings)
    assert loaded.phrases.counts.tolist() == built.phrases.counts.tolist()
    assert {p: a.tolist() for p, a in loaded.phrases._answered.items()} == {
        p: a.tolist() for p, a in built.phrases._answered.items()
    }
    assert not loaded.phrases.counts.flags.owndata  # a view of the mapped file, not a copy
    assert isinstance(loaded.phrases.keys._data, np.ndarray)
    snapshot.close()


def test_the_first_worker_saves_the_index_and_the_next_maps_it_without_a_child(generation, monkeypatch):
    first, second = Snapshot(generation.path, generation.name), Snapshot(generation.path, generation.name)
    expected = _answers(build_completion_index(first))

    built = completion_index._shared_index(first)
    saved = generation.path / completion_file.COMPLETIONS_FILE
    inode = saved.stat().st_ino
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")  # a child could not start now
    mapped = completion_index._shared_index(second)

    assert _answers(built) == expected
    assert _answers(mapped) == expected
    assert saved.stat().st_ino == inode  # read, not written again
    assert sorted(p.name for p in generation.path.iterdir() if "completions" in p.name) == [
        ".completions.lock",
        "completions.npz",
    ]
    first.close()
    second.close()


def test_a_worker_waiting_for_the_lock_maps_the_index_saved_meanwhile(generation, monkeypatch):
    snapshot, waiting = Snapshot(generation.path, generation.name), Snapshot(generation.path, generation.name)
    built = build_completion_index(snapshot)
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")  # so it can only map the file
    found = []
    with open(generation.path / completion_file.LOCK_FILE, "ab") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker is building it
        thread = threading.Thread(target=lambda: found.append(completion_index._shared_index(waiting)))
        thread.start()
        thread.join(0.5)
        assert thread.is_alive()  # waits for the lock
        completion_file.save(built.arrays(), snapshot)
    thread.join(30)

    assert _answers(found[0]) == _answers(built)
    snapshot.close()
    waiting.close()


def test_a_saved_index_of_other_documents_is_not_used_and_an_update_does_not_carry_it(tmp_path):
    corpus = _corpus(tmp_path / "corpus", TITLES)
    build_index([corpus], tmp_path / "index")
    old = current_generation(tmp_path / "index")
    old_snapshot = Snapshot(old.path, old.name)
    completion_file.save(build_completion_index(old_snapshot).arrays(), old_snapshot)
    (old.path / ".completions.npz.123.tmp").write_bytes(b"left by a killed child")
    (corpus / "t0.md").unlink()

    build_index([corpus], tmp_path / "index")
    new = current_generation(tmp_path / "index")
    new_snapshot = Snapshot(new.path, new.name)

    assert sorted(p.name for p in new.path.iterdir() if "completions" in p.name) == []
    (new.path / completion_file.COMPLETIONS_FILE).write_bytes(
        (old.path / completion_file.COMPLETIONS_FILE).read_bytes()
    )
    assert (
        completion_file.load(new_snapshot, CompletionIndex.from_arrays) is None
    )  # made from the old generation's documents
    rebuilt = completion_index._shared_index(new_snapshot)
    assert _answers(rebuilt) == _answers(build_completion_index(new_snapshot))
    assert "covid 19 vaccine doses" not in [key for key, _, _ in rebuilt.phrase_rows(typed_prefix("covid 19 vaccine"))]
    old_snapshot.close()
    new_snapshot.close()


def test_an_unreadable_saved_index_is_built_again_with_a_warning(generation, caplog):
    snapshot = Snapshot(generation.path, generation.name)
    saved = generation.path / completion_file.COMPLETIONS_FILE
    saved.write_bytes(b"PK\x03\x04 not a zip file")

    with caplog.at_level("WARNING", logger="searchsvc.engine"):
        index = completion_index._shared_index(snapshot)

    assert _answers(index) == _answers(build_completion_index(snapshot))
    assert [r.getMessage() for r in caplog.records] == [
        f"Cannot read {saved} (File is not a zip file); building the autocomplete index again."
    ]
    assert completion_file.load(snapshot, CompletionIndex.from_arrays) is not None  # replaced by a good one
    snapshot.close()


def test_a_worker_that_cannot_make_the_lock_builds_its_own_index_in_a_child_and_saves_nothing(generation):
    snapshot = Snapshot(generation.path, generation.name)
    (generation.path / completion_file.LOCK_FILE).mkdir()  # as a read-only folder: cannot be opened to write

    index = completion_index._shared_index(snapshot)

    assert _answers(index) == _answers(build_completion_index(snapshot))
    assert not (generation.path / completion_file.COMPLETIONS_FILE).exists()
    assert isinstance(index.phrases.keys._data, bytes)  # sent back by the child, not mapped
    snapshot.close()
