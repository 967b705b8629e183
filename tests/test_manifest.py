"""manifest: the indexer's file records encoded as columns, read back as they were written, merged
with the kept records of the last build, read from the JSON of earlier versions, and a damaged
record set making the next build read every file again."""

from __future__ import annotations

import json

import numpy as np
import pytest

from searchsvc.engine.whoosh_engine.generations import current_generation
from searchsvc.engine.whoosh_engine.summary import OLD_MANIFEST, STATE, read_state
from searchsvc.indexer import build_index, read_manifest
from searchsvc.manifest import FileEntry, Manifest, ManifestError, ManifestTable, Owners

SHA_A, SHA_B, SHA_C = "a" * 40, "b" * 40, "c" * 40


def some_files() -> dict[str, FileEntry]:
    return {
        "/news/a.md": FileEntry(10, 1_000, SHA_A, ["https://a", "https://a/related"]),
        "/news/ünïcødé\udcff.md": FileEntry(
            20, 2_000, SHA_B, ["id\0with nul", "https://shared"], lost=["https://shared"]
        ),
        "/news/broken.md": FileEntry(5, 3_000, "", [], failure="YAML error: bad", line=3, display="news/broken.md"),
        "/news/empty.md": FileEntry(0, 4_000, SHA_C, []),
    }


def owners_of(files: dict[str, FileEntry]) -> dict[str, tuple[str, bool, int]]:
    return {
        doc_id: (path, position == 0, entry.mtime_ns)
        for path, entry in files.items()
        for position, doc_id in enumerate(entry.ids)
        if doc_id not in entry.lost
    }


def test_encoded_records_read_back_as_they_were_written():
    files = some_files()
    manifest = Manifest(files=files, owners=owners_of(files) | {"https://shared": ("/elsewhere.md", True, 1)})

    data = manifest.encode()
    back = Manifest.from_table(ManifestTable.decode(data))

    assert data.startswith(b"searchsvc-manifest 2\n")
    assert back.files == files
    assert back.owners == {
        "https://a": ("/news/a.md", True, 1_000),
        "https://a/related": ("/news/a.md", False, 1_000),
        "id\0with nul": ("/news/ünïcødé\udcff.md", True, 2_000),
    }
    assert back.shadowed == {"https://shared": ["/news/ünïcødé\udcff.md"]}


def test_an_id_won_by_no_file_is_recorded_as_lost_by_the_file_that_carries_it():
    files = {"/a.md": FileEntry(1, 1, SHA_A, ["https://a", "https://gone"])}

    back = ManifestTable.decode(Manifest(files=files, owners={"https://a": ("/a.md", True, 1)}).encode())

    assert back.entry(0).lost == ["https://gone"]


def test_an_update_keeps_the_rows_it_did_not_read_and_replaces_the_ones_it_did():
    files = some_files()
    base = ManifestTable.decode(Manifest(files=files, owners=owners_of(files)).encode())
    kept = np.ones(len(base), bool)
    kept[base.row_of["/news/empty.md"]] = False  # deleted
    changed = FileEntry(11, 1_001, SHA_C, ["https://a"])  # its related entry was removed
    added = FileEntry(7, 7_000, SHA_B, ["https://new", "https://shared"])
    owners = base.owners()
    del owners["https://a/related"]
    owners["https://new"] = ("/news/new.md", True, 7_000)
    owners["https://shared"] = ("/news/new.md", False, 7_000)  # taken from no one: it was lost
    update = Manifest(
        files={"/news/a.md": changed, "/news/new.md": added}, owners=owners, shadowed={}, base=base, kept=kept
    )

    assert update.file_count() == 4
    assert update.kept_failures() == [("YAML error: bad", 3, "news/broken.md")]
    back = Manifest.from_table(ManifestTable.decode(update.encode()))

    assert back.files == {
        "/news/ünïcødé\udcff.md": FileEntry(
            20, 2_000, SHA_B, ["id\0with nul", "https://shared"], lost=["https://shared"]
        ),
        "/news/broken.md": files["/news/broken.md"],
        "/news/a.md": changed,
        "/news/new.md": added,
    }


def test_a_kept_file_that_lost_an_id_gets_it_back_when_the_winner_is_gone():
    files = {
        "/a.md": FileEntry(1, 1, SHA_A, ["https://x"]),
        "/b.md": FileEntry(1, 2, SHA_B, ["https://x"], lost=["https://x"]),
    }
    base = ManifestTable.decode(Manifest(files=files, owners=owners_of(files)).encode())
    kept = np.array([False, True])  # /a.md deleted; /b.md kept; it owns the id now
    update = Manifest(owners={"https://x": ("/b.md", True, 2)}, base=base, kept=kept)

    back = Manifest.from_table(ManifestTable.decode(update.encode()))

    assert back.files == {"/b.md": FileEntry(1, 2, SHA_B, ["https://x"])}
    assert back.owners == {"https://x": ("/b.md", True, 2)}


def test_the_json_manifest_of_earlier_versions_reads_as_the_same_records():
    records = {
        "/news/a.md": [10, 1_000, SHA_A, ["https://a", "https://x"], "", 0, "", ["https://x"]],
        "/news/broken.md": [5, 3_000, "", [], "YAML error: bad", 3, "news/broken.md", []],
    }

    from_text = Manifest.from_table(ManifestTable.decode(json.dumps(records).encode()))
    from_dict = Manifest.from_table(ManifestTable.decode(records))

    expected = {
        "/news/a.md": FileEntry(10, 1_000, SHA_A, ["https://a", "https://x"], lost=["https://x"]),
        "/news/broken.md": FileEntry(5, 3_000, "", [], "YAML error: bad", 3, "news/broken.md"),
    }
    assert from_text.files == from_dict.files == expected
    assert from_text.owners == {"https://a": ("/news/a.md", True, 1_000)}


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"not a manifest", "not a searchsvc manifest"),
        (Manifest(files=some_files()).encode()[:-3], "truncated or unknown sections"),
    ],
)
def test_damaged_records_are_refused_with_a_reason(data, reason):
    with pytest.raises(ManifestError, match=reason):
        ManifestTable.decode(data)


def test_an_index_saved_with_the_json_manifest_updates_without_reading_its_files_again(
    corpus, index_dir, write_article
):
    write_article("a.md", "Alpha", "https://example.com/a")
    write_article("b.md", "Beta", "https://example.com/b")
    build_index([corpus], index_dir)
    folder = current_generation(index_dir).path
    state = read_state(folder)
    records = {
        path: [e.size, e.mtime_ns, e.sha1, e.ids, e.failure, e.line, e.display, e.lost]
        for path, e in read_manifest(index_dir).files.items()
    }
    (folder / OLD_MANIFEST).write_text(json.dumps({"files": records, "report": state.report}), encoding="utf-8")
    (folder / STATE).unlink()

    again = build_index([corpus], index_dir)

    assert again.counts_line() == "added 0, updated 0, unchanged 2, deleted 0, duplicates 0, failed 0"


def test_damaged_records_make_the_next_build_read_every_file_again_with_a_warning(corpus, index_dir, write_article):
    write_article("a.md", "Alpha", "https://example.com/a")
    build_index([corpus], index_dir)
    state_file = current_generation(index_dir).path / STATE
    head = state_file.read_bytes().split(b"\n", 1)[0]
    state_file.write_bytes(head + b"\ngarbage")

    again = build_index([corpus], index_dir)

    assert again.counts_line() == "added 1, updated 0, unchanged 0, deleted 0, duplicates 0, failed 0"
    assert again.warnings[0] == (
        "the last build's file records cannot be read (not a searchsvc manifest); every file was read again"
    )
    assert again.documents == 1
    assert read_manifest(index_dir).files[str(corpus / "a.md")].ids == ["https://example.com/a"]


def test_an_update_recomputes_the_lost_flags_of_the_ids_whose_owner_changed_as_a_full_recount_does():
    files = {
        "/a.md": FileEntry(1, 1, SHA_A, ["https://x", "https://y"]),
        "/b.md": FileEntry(1, 2, SHA_B, ["https://x", "https://z"], lost=["https://x"]),
        "/c.md": FileEntry(1, 3, SHA_C, ["https://c", "https://y"], lost=["https://y"]),
    }
    base = ManifestTable.decode(Manifest(files=files, owners=owners_of(files)).encode())
    owners = Owners(base)
    assert owners["https://x"] == ("/a.md", True, 1)
    assert owners.get("https://nobody") is None and "https://nobody" not in owners
    kept = np.array([False, True, True])  # /a.md changed: it no longer carries https://y
    del owners["https://x"]
    del owners["https://y"]
    owners["https://x"] = ("/b.md", True, 2)  # its shadowed copy takes over
    owners["https://y"] = ("/c.md", False, 3)
    owners["https://new"] = ("/a.md", True, 9)
    changed = {"/a.md": FileEntry(1, 9, SHA_C, ["https://new"])}

    lazily = Manifest(files=changed, owners=owners, base=base, kept=kept.copy()).encode()
    recounted = Manifest(files=changed, owners=dict(owners), base=base, kept=kept.copy()).encode()

    assert lazily == recounted
    assert Manifest.from_table(ManifestTable.decode(lazily)).owners == {
        "https://x": ("/b.md", True, 2),
        "https://z": ("/b.md", False, 2),
        "https://c": ("/c.md", True, 3),
        "https://y": ("/c.md", False, 3),
        "https://new": ("/a.md", True, 9),
    }
