"""The engine's fixes to Whoosh's file handling: no private copy of the index per reader, and
one shared mapping per segment file."""

from __future__ import annotations

from searchsvc.engine.whoosh_engine.generations import current_generation
from searchsvc.engine.whoosh_engine.patches import _ViewFile, drop_resident_pages, forget_folder
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


def resident_kb(path: str) -> int:
    """This process's resident KB of the mappings of ``path`` (from /proc/self/smaps)."""
    total, inside = 0, False
    with open("/proc/self/smaps", encoding="utf-8") as smaps:
        for line in smaps:
            if "-" in line.split(" ", 1)[0]:
                inside = line.rstrip().endswith(path)
            elif inside and line.startswith("Rss:"):
                total += int(line.split()[1])
    return total


def test_dropping_resident_pages_unmaps_what_was_read_and_reads_go_on_answering(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(300):
        body = f"Story {i} " + "words of the body " * 200
        (corpus / f"a{i}.md").write_text(f"---\ntitle: Zeppelin {i}\nwebUrl: https://x.example/{i}\n---\n{body}\n")
    build_index([corpus], tmp_path / "index")
    generation = current_generation(tmp_path / "index")
    snapshot = Snapshot(generation.path, generation.name)
    reader = snapshot.ix.reader()
    titles = [reader.stored_fields(i)["title"] for i in range(reader.doc_count_all())]
    segment_file = next(str(p) for p in generation.path.glob("*.seg"))
    read = resident_kb(segment_file)

    assert drop_resident_pages(str(generation.path)) == 1
    assert (read > 0, resident_kb(segment_file)) == (True, 0)
    assert [reader.stored_fields(i)["title"] for i in range(reader.doc_count_all())] == titles
    assert drop_resident_pages(str(tmp_path / "elsewhere")) == 0
    reader.close()
    snapshot.close()
