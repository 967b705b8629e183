"""The engine's fixes to Whoosh's file handling: no private copy of the index per reader, and
one shared mapping per segment file."""

from __future__ import annotations

from searchsvc.engine.whoosh_engine.generations import current_generation
from searchsvc.engine.whoosh_engine.patches import _ViewFile, forget_folder
from searchsvc.engine.whoosh_engine.snapshot import Snapshot
from searchsvc.indexer import build_index


def test_view_file_reads_seeks_and_tells_without_copying_the_buffer():
    data = bytearray(b"0123456789")
    view = _ViewFile(memoryview(data))

    assert view.read(3) == b"012"
    assert view.tell() == 3
    view.seek(-2, 2)
    assert view.read() == b"89"
    view.seek(1)
    data[1] = ord("X")  # the file reads the buffer itself, not a copy of it
    assert view.read(2) == b"X2"


def test_readers_of_one_generation_share_one_mapping_per_segment(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text("---\ntitle: Zeppelins return\nwebUrl: https://x.example/a\n---\n")
    build_index([corpus], tmp_path / "index")
    generation = current_generation(tmp_path / "index")
    snapshot = Snapshot(generation.path, generation.name)

    first = snapshot.ix.reader()
    second = snapshot.ix.reader()

    assert first._storage.a is second._storage.a
    assert second.stored_fields(0)["title"] == "Zeppelins return"
    first.close()  # closing one reader leaves the other working
    assert second.stored_fields(0)["title"] == "Zeppelins return"
    second.close()
    forget_folder(str(generation.path))
    third = snapshot.ix.reader()
    assert third._storage.a is not first._storage.a
    third.close()
    snapshot.close()
