"""indexer: full and incremental builds of a real Whoosh index on disk, duplicates, failures,
generations, a build killed mid-write, and the build lock."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from searchsvc.engine.whoosh_engine.builder import document_count
from searchsvc.engine.whoosh_engine.generations import BuildLock, all_generations, current_generation
from searchsvc.errors import IndexLockedError
from searchsvc.indexer import build_index, check_sources, read_manifest
from searchsvc.report import DocumentFailure

BROKEN_YAML = "---\ntitle: Broken\nprovider:\n\tname: Tabs\n---\n"
BROKEN_REASON = "YAML error: found character that cannot start any token"


def generation_names(index_dir: Path) -> list[str]:
    return [g.name for g in all_generations(index_dir)]


def current_count(index_dir: Path) -> int:
    return document_count(current_generation(index_dir).path)


@pytest.fixture
def three_articles(write_article):
    """alpha (with one related article), beta and gamma: 3 files, 4 documents."""
    write_article(
        "alpha.md",
        "Alpha",
        "https://example.com/alpha",
        related=[("Alpha follow-up", "https://other.org/a2")],
    )
    write_article("beta.md", "Beta", "https://example.com/beta")
    write_article("sub/gamma.md", "Gamma", "https://example.com/gamma")


# --- full and incremental builds -------------------------------------------------------------


def test_full_build_indexes_every_article_and_related_article(corpus, index_dir, three_articles, stored):
    report = build_index([corpus], index_dir)

    assert report.counts_line() == "added 3, updated 0, unchanged 0, deleted 0, duplicates 0, failed 0"
    assert (report.full, report.articles, report.documents, report.generation) == (True, 4, 4, "gen-000001")
    assert (index_dir / "CURRENT").read_text(encoding="utf-8") == "gen-000001\n"
    assert current_count(index_dir) == 4
    docs = stored(index_dir)
    assert sorted(docs) == [
        "https://example.com/alpha",
        "https://example.com/beta",
        "https://example.com/gamma",
        "https://other.org/a2",
    ]
    assert docs["https://other.org/a2"]["title"] == "Alpha follow-up"
    assert docs["https://other.org/a2"]["path"] == str(corpus / "alpha.md")
    assert docs["https://other.org/a2"]["stored"]["related_to"] == "https://example.com/alpha"
    assert docs["https://example.com/alpha"]["stored"]["related_ids"] == ["https://other.org/a2"]


def test_full_build_records_every_file_in_the_manifest(corpus, index_dir, three_articles):
    build_index([corpus], index_dir)

    manifest = read_manifest(index_dir)
    assert sorted(manifest.files) == [
        str(corpus / "alpha.md"),
        str(corpus / "beta.md"),
        str(corpus / "sub" / "gamma.md"),
    ]
    assert manifest.files[str(corpus / "alpha.md")].ids == [
        "https://example.com/alpha",
        "https://other.org/a2",
    ]
    assert manifest.report["documents"] == 4


def test_rebuild_with_nothing_changed_reports_unchanged_and_writes_no_generation(corpus, index_dir, three_articles):
    build_index([corpus], index_dir)

    report = build_index([corpus], index_dir)

    assert report.counts_line() == "added 0, updated 0, unchanged 3, deleted 0, duplicates 0, failed 0"
    assert (report.full, report.articles, report.documents, report.generation) == (False, 0, 4, "gen-000001")
    assert generation_names(index_dir) == ["gen-000001"]
    assert current_generation(index_dir).name == "gen-000001"


def test_incremental_build_adds_a_new_file(corpus, index_dir, three_articles, write_article, stored):
    build_index([corpus], index_dir)
    write_article("delta.md", "Delta", "https://example.com/delta")

    report = build_index([corpus], index_dir)

    assert report.counts_line() == "added 1, updated 0, unchanged 3, deleted 0, duplicates 0, failed 0"
    assert (report.full, report.articles, report.documents, report.generation) == (False, 1, 5, "gen-000002")
    assert current_count(index_dir) == 5
    assert stored(index_dir)["https://example.com/delta"]["title"] == "Delta"


def test_incremental_build_stores_the_changed_title(corpus, index_dir, three_articles, write_article, stored):
    build_index([corpus], index_dir)
    write_article("beta.md", "Beta, corrected headline", "https://example.com/beta", mtime=60)

    report = build_index([corpus], index_dir)

    assert report.counts_line() == "added 0, updated 1, unchanged 2, deleted 0, duplicates 0, failed 0"
    assert (report.articles, report.documents) == (1, 4)
    assert current_count(index_dir) == 4
    assert stored(index_dir)["https://example.com/beta"]["title"] == "Beta, corrected headline"


def test_incremental_build_removes_the_documents_of_a_deleted_file(corpus, index_dir, three_articles, stored):
    build_index([corpus], index_dir)
    (corpus / "alpha.md").unlink()

    report = build_index([corpus], index_dir)

    assert report.counts_line() == "added 0, updated 0, unchanged 2, deleted 1, duplicates 0, failed 0"
    assert (report.articles, report.documents) == (0, 2)
    assert sorted(stored(index_dir)) == ["https://example.com/beta", "https://example.com/gamma"]
    assert str(corpus / "alpha.md") not in read_manifest(index_dir).files


def test_incremental_build_drops_a_related_article_removed_from_its_file(
    corpus, index_dir, three_articles, write_article, stored
):
    build_index([corpus], index_dir)
    write_article("alpha.md", "Alpha", "https://example.com/alpha", mtime=60)

    report = build_index([corpus], index_dir)

    assert report.counts_line() == "added 0, updated 1, unchanged 2, deleted 0, duplicates 0, failed 0"
    assert report.documents == 3
    assert "https://other.org/a2" not in stored(index_dir)


def test_incremental_build_adds_changes_and_deletes_in_one_run(corpus, index_dir, three_articles, write_article):
    build_index([corpus], index_dir)
    write_article("delta.md", "Delta", "https://example.com/delta")
    write_article("epsilon.md", "Epsilon", "https://example.com/epsilon")
    write_article("sub/gamma.md", "Gamma updated", "https://example.com/gamma", mtime=60)
    (corpus / "beta.md").unlink()

    report = build_index([corpus], index_dir)

    assert report.counts_line() == "added 2, updated 1, unchanged 1, deleted 1, duplicates 0, failed 0"
    assert (report.articles, report.documents) == (3, 5)
    assert current_count(index_dir) == 5


def test_touched_file_with_the_same_content_counts_as_unchanged(corpus, index_dir, three_articles):
    build_index([corpus], index_dir)
    os.utime(corpus / "beta.md", (2_000_000_000, 2_000_000_000))

    report = build_index([corpus], index_dir)

    assert report.counts_line() == "added 0, updated 0, unchanged 3, deleted 0, duplicates 0, failed 0"
    assert report.documents == 4


def test_full_flag_rebuilds_every_file(corpus, index_dir, three_articles):
    build_index([corpus], index_dir)

    report = build_index([corpus], index_dir, full=True)

    assert report.counts_line() == "added 3, updated 0, unchanged 0, deleted 0, duplicates 0, failed 0"
    assert (report.full, report.documents, report.generation) == (True, 4, "gen-000002")


def test_build_reports_progress_up_to_the_number_of_files(corpus, index_dir, three_articles):
    calls = []
    build_index([corpus], index_dir, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(3, 3)]


def test_build_of_an_empty_folder_publishes_an_empty_index(corpus, index_dir):
    report = build_index([corpus], index_dir)
    assert report.counts_line() == "added 0, updated 0, unchanged 0, deleted 0, duplicates 0, failed 0"
    assert (report.documents, report.generation) == (0, "gen-000001")


# --- duplicates ------------------------------------------------------------------------------


@pytest.mark.parametrize("newer", ["a.md", "b.md"])
def test_two_files_with_the_same_url_make_one_document_from_the_newer_file(
    corpus, index_dir, write_article, stored, newer
):
    write_article("a.md", "Copy in a", "https://example.com/story", mtime=100 if newer == "a.md" else 0)
    write_article("b.md", "Copy in b", "https://example.com/story", mtime=100 if newer == "b.md" else 0)

    report = build_index([corpus], index_dir)

    assert report.counts_line() == "added 2, updated 0, unchanged 0, deleted 0, duplicates 1, failed 0"
    assert report.documents == 1
    doc = stored(index_dir)["https://example.com/story"]
    assert (doc["title"], doc["path"]) == (f"Copy in {newer[0]}", str(corpus / newer))


def test_urls_that_differ_only_in_host_case_and_fragment_are_duplicates(corpus, index_dir, write_article):
    write_article("a.md", "A", "https://Example.COM/story#top")
    write_article("b.md", "B", "https://example.com/story", mtime=10)

    report = build_index([corpus], index_dir)

    assert (report.duplicates, report.documents) == (1, 1)


def test_related_entry_loses_to_a_top_level_article_with_the_same_url(corpus, index_dir, write_article, stored):
    # the file holding the related copy is newer, but a top-level article always wins
    write_article(
        "parent.md",
        "Parent",
        "https://example.com/parent",
        mtime=500,
        related=[("Related copy", "https://example.com/t")],
    )
    write_article("top.md", "Top-level copy", "https://example.com/t", mtime=0)

    report = build_index([corpus], index_dir)

    assert report.counts_line() == "added 2, updated 0, unchanged 0, deleted 0, duplicates 1, failed 0"
    assert report.documents == 2
    doc = stored(index_dir)["https://example.com/t"]
    assert (doc["title"], doc["path"]) == ("Top-level copy", str(corpus / "top.md"))
    assert doc["stored"]["related_to"] == ""


def test_related_entry_repeating_its_own_article_url_is_a_duplicate(corpus, index_dir, write_article, stored):
    write_article("self.md", "Self", "https://example.com/self", related=[("Self again", "https://example.com/self")])

    report = build_index([corpus], index_dir)

    assert (report.duplicates, report.documents) == (1, 1)
    assert stored(index_dir)["https://example.com/self"]["title"] == "Self"


def test_deleting_the_winning_file_brings_the_shadowed_copy_back(corpus, index_dir, write_article, stored):
    write_article("old.md", "Old copy", "https://example.com/story", mtime=0)
    write_article("new.md", "New copy", "https://example.com/story", mtime=100)
    build_index([corpus], index_dir)
    (corpus / "new.md").unlink()

    report = build_index([corpus], index_dir)

    assert report.counts_line() == "added 0, updated 0, unchanged 1, deleted 1, duplicates 0, failed 0"
    assert report.documents == 1
    doc = stored(index_dir)["https://example.com/story"]
    assert (doc["title"], doc["path"]) == ("Old copy", str(corpus / "old.md"))


def test_deleting_the_top_level_winner_brings_the_related_copy_back(corpus, index_dir, write_article, stored):
    write_article(
        "parent.md",
        "Parent",
        "https://example.com/parent",
        related=[("Related copy", "https://example.com/t")],
    )
    write_article("top.md", "Top-level copy", "https://example.com/t")
    build_index([corpus], index_dir)
    (corpus / "top.md").unlink()

    report = build_index([corpus], index_dir)

    assert report.counts_line() == "added 0, updated 0, unchanged 1, deleted 1, duplicates 0, failed 0"
    assert report.documents == 2
    doc = stored(index_dir)["https://example.com/t"]
    assert (doc["title"], doc["path"]) == ("Related copy", str(corpus / "parent.md"))
    assert doc["stored"]["related_to"] == "https://example.com/parent"


def test_winner_moving_to_another_url_brings_the_shadowed_copy_back(corpus, index_dir, write_article, stored):
    write_article("old.md", "Old copy", "https://example.com/story", mtime=0)
    write_article("new.md", "New copy", "https://example.com/story", mtime=100)
    build_index([corpus], index_dir)
    write_article("new.md", "New copy", "https://example.com/moved", mtime=200)

    report = build_index([corpus], index_dir)

    assert report.counts_line() == "added 0, updated 1, unchanged 1, deleted 0, duplicates 0, failed 0"
    docs = stored(index_dir)
    assert {doc_id: doc["title"] for doc_id, doc in docs.items()} == {
        "https://example.com/story": "Old copy",
        "https://example.com/moved": "New copy",
    }


def test_shadowed_copy_edited_to_be_newer_takes_over(corpus, index_dir, write_article, stored):
    write_article("old.md", "Old copy", "https://example.com/story", mtime=0)
    write_article("new.md", "New copy", "https://example.com/story", mtime=100)
    build_index([corpus], index_dir)
    write_article("old.md", "Old copy, edited last", "https://example.com/story", mtime=200)

    report = build_index([corpus], index_dir)

    assert (report.updated, report.duplicates, report.documents) == (1, 1, 1)
    assert stored(index_dir)["https://example.com/story"]["title"] == "Old copy, edited last"


# --- broken files ----------------------------------------------------------------------------


def test_broken_file_is_reported_and_the_other_files_are_indexed(corpus, index_dir, three_articles):
    (corpus / "broken.md").write_text(BROKEN_YAML, encoding="utf-8")

    report = build_index([corpus], index_dir)

    assert report.failures == [DocumentFailure(str(corpus / "broken.md"), BROKEN_REASON, 4)]
    assert report.counts_line() == "added 3, updated 0, unchanged 0, deleted 0, duplicates 0, failed 1"
    assert report.documents == 4
    assert str(report.failures[0]) == f"{corpus / 'broken.md'}:4: {BROKEN_REASON}"


def test_unchanged_broken_file_is_still_reported_on_the_next_run(corpus, index_dir, three_articles):
    (corpus / "broken.md").write_text(BROKEN_YAML, encoding="utf-8")
    build_index([corpus], index_dir)

    report = build_index([corpus], index_dir)

    assert report.failures == [DocumentFailure(str(corpus / "broken.md"), BROKEN_REASON, 4)]
    assert report.counts_line() == "added 0, updated 0, unchanged 4, deleted 0, duplicates 0, failed 1"
    assert report.generation == "gen-000001"


def test_unchanged_broken_file_is_still_reported_when_another_file_changes(
    corpus, index_dir, three_articles, write_article
):
    (corpus / "broken.md").write_text(BROKEN_YAML, encoding="utf-8")
    build_index([corpus], index_dir)
    write_article("delta.md", "Delta", "https://example.com/delta")

    report = build_index([corpus], index_dir)

    assert report.failures == [DocumentFailure(str(corpus / "broken.md"), BROKEN_REASON, 4)]
    assert (report.added, report.unchanged, report.documents) == (1, 4, 5)


def test_fixed_broken_file_is_indexed_and_no_longer_reported(corpus, index_dir, three_articles, write_article, stored):
    (corpus / "broken.md").write_text(BROKEN_YAML, encoding="utf-8")
    build_index([corpus], index_dir)
    write_article("broken.md", "Fixed", "https://example.com/fixed", mtime=60)

    report = build_index([corpus], index_dir)

    assert report.counts_line() == "added 0, updated 1, unchanged 3, deleted 0, duplicates 0, failed 0"
    assert report.documents == 5
    assert stored(index_dir)["https://example.com/fixed"]["title"] == "Fixed"


def test_file_that_breaks_loses_its_documents(corpus, index_dir, three_articles):
    build_index([corpus], index_dir)
    (corpus / "beta.md").write_text(BROKEN_YAML, encoding="utf-8")

    report = build_index([corpus], index_dir)

    assert report.failures == [DocumentFailure(str(corpus / "beta.md"), BROKEN_REASON, 4)]
    assert (report.updated, report.documents) == (0, 3)


@pytest.mark.parametrize("field", ["quality", "heat"])
def test_number_too_large_for_the_index_does_not_abort_the_build(corpus, index_dir, write_article, stored, field):
    write_article("big.md", "Big", "https://example.com/big", extra=f"{field}: 99999999999")
    write_article("fine.md", "Fine", "https://example.com/fine")

    report = build_index([corpus], index_dir)

    assert report.documents + report.failed == 2
    assert "https://example.com/fine" in stored(index_dir)


def test_file_with_an_impossible_date_does_not_abort_the_build(corpus, index_dir, write_article, stored):
    write_article("bad-date.md", "Bad date", "https://example.com/bad", date="2021-02-30")
    write_article("fine.md", "Fine", "https://example.com/fine")

    report = build_index([corpus], index_dir)

    assert report.documents + report.failed == 2
    assert "https://example.com/fine" in stored(index_dir)


def test_moved_file_keeps_its_document(corpus, index_dir, three_articles, stored):
    build_index([corpus], index_dir)
    (corpus / "beta.md").rename(corpus / "sub" / "beta-moved.md")

    report = build_index([corpus], index_dir)

    assert report.counts_line() == "added 1, updated 0, unchanged 2, deleted 1, duplicates 0, failed 0"
    assert report.documents == 4
    assert stored(index_dir)["https://example.com/beta"]["path"] == str(corpus / "sub" / "beta-moved.md")


def test_check_sources_reports_without_writing_an_index(corpus, tmp_path, three_articles):
    (corpus / "broken.md").write_text(BROKEN_YAML, encoding="utf-8")

    report = check_sources([str(corpus)])

    assert report.counts_line() == "added 3, updated 0, unchanged 0, deleted 0, duplicates 0, failed 1"
    assert report.failures == [DocumentFailure(str(corpus / "broken.md"), BROKEN_REASON, 4)]
    assert report.generation == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus"]


# --- generations -----------------------------------------------------------------------------


def test_only_the_two_newest_generations_are_kept(corpus, index_dir, three_articles, write_article):
    build_index([corpus], index_dir)
    write_article("delta.md", "Delta", "https://example.com/delta")
    build_index([corpus], index_dir)
    write_article("epsilon.md", "Epsilon", "https://example.com/epsilon")
    report = build_index([corpus], index_dir)

    assert report.generation == "gen-000003"
    assert generation_names(index_dir) == ["gen-000002", "gen-000003"]
    assert (index_dir / "CURRENT").read_text(encoding="utf-8") == "gen-000003\n"
    assert current_count(index_dir) == 6


def write_bulk(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    for n in range(count):
        (folder / f"bulk-{n:05d}.md").write_text(
            f"---\ntitle: Bulk article {n}\nwebUrl: https://bulk.example.com/{n}\n"
            f"publishedDateTime: 2022-07-11T00:18:00Z\nprovider: Provider {n % 7}\n---\n"
            f"Body of bulk article number {n}.\n",
            encoding="utf-8",
        )


def test_a_parallel_full_build_equals_a_single_process_one(corpus, tmp_path, monkeypatch, stored):
    import searchsvc.indexer as indexer

    write_bulk(corpus / "bulk", 4100)
    # the same URL in two files of different shards: the newer file's article wins either way
    for n, stamp in ((5000, time.time() + 500), (5001, time.time() + 1000)):
        path = corpus / "dupes" / f"dupe-{n}.md"
        path.parent.mkdir(exist_ok=True)
        path.write_text(
            f"---\ntitle: Copy {n}\nwebUrl: https://bulk.example.com/7\n---\nCopy body {n}.\n", encoding="utf-8"
        )
        os.utime(path, (stamp, stamp))
    monkeypatch.setattr(indexer, "_cpus", lambda: 2)
    parallel = build_index([corpus], tmp_path / "parallel", full=True)
    monkeypatch.setattr(indexer, "PARALLEL_BUILD_THRESHOLD", 10**9)
    single = build_index([corpus], tmp_path / "single", full=True)

    assert parallel.counts_line() == single.counts_line()
    assert parallel.counts_line() == "added 4102, updated 0, unchanged 0, deleted 0, duplicates 2, failed 0"
    assert parallel.documents == single.documents == 4100
    ours, theirs = read_manifest(tmp_path / "parallel"), read_manifest(tmp_path / "single")
    assert ours.files == theirs.files
    assert ours.owners == theirs.owners
    assert ours.owners["https://bulk.example.com/7"][0].endswith("dupe-5001.md")
    assert stored(tmp_path / "parallel") == stored(tmp_path / "single")
    again = build_index([corpus], tmp_path / "parallel")
    assert again.counts_line() == "added 0, updated 0, unchanged 4102, deleted 0, duplicates 0, failed 0"


BUILD_IN_CHILD = (
    "import sys\nfrom searchsvc.indexer import build_index\nbuild_index([sys.argv[1]], sys.argv[2], full=True)\n"
)


def test_build_killed_mid_write_keeps_the_previous_generation_and_the_next_build_recovers(
    corpus, index_dir, three_articles
):
    build_index([corpus], index_dir)
    # 6000 files: enough for parallel parsing and parallel segment writers in the child build
    write_bulk(corpus / "bulk", 6000)
    unfinished = index_dir / "gen-000002"

    with subprocess.Popen(
        [sys.executable, "-c", BUILD_IN_CHILD, str(corpus), str(index_dir)],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    ) as child:
        try:
            deadline = time.monotonic() + 60
            while not unfinished.is_dir():
                assert child.poll() is None, f"build ended before it was killed: {child.stderr.read()!r}"
                assert time.monotonic() < deadline, "the build never started a new generation"
                time.sleep(0.005)
            # wait until the worker processes write their segments, so the kill lands mid-write
            while not (unfinished / "_MAIN_0.toc").exists() and time.monotonic() < deadline:
                time.sleep(0.005)
            assert child.poll() is None, "build finished before it could be killed"
        finally:
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            child.wait()
    assert child.returncode == -signal.SIGKILL

    assert current_generation(index_dir).name == "gen-000001"
    assert current_count(index_dir) == 4
    assert unfinished.is_dir()  # left behind by the dead build, never named by CURRENT

    report = build_index([corpus], index_dir, lock_timeout=5)

    assert report.counts_line() == "added 6000, updated 0, unchanged 3, deleted 0, duplicates 0, failed 0"
    assert (report.generation, report.documents) == ("gen-000002", 6004)
    assert generation_names(index_dir) == ["gen-000001", "gen-000002"]
    assert current_generation(index_dir).name == "gen-000002"
    assert current_count(index_dir) == 6004
    assert not Path(index_dir, "gen-000002", "MAIN.tmp").exists()


# --- the build lock --------------------------------------------------------------------------

HOLD_LOCK = (
    "import sys, time\n"
    "from searchsvc.engine.whoosh_engine.generations import BuildLock\n"
    "with BuildLock(sys.argv[1]):\n"
    "    print('locked', flush=True)\n"
    "    time.sleep(60)\n"
)


def test_second_build_waits_for_the_lock_then_names_the_holder(corpus, index_dir, three_articles):
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(index_dir)], stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout.readline() == "locked\n"
            started = time.monotonic()
            with pytest.raises(IndexLockedError) as caught:
                build_index([corpus], index_dir, lock_timeout=0.5)
            waited = time.monotonic() - started
        finally:
            holder.kill()
            holder.wait()

    assert waited >= 0.5
    assert re.fullmatch(
        rf"Another build holds {re.escape(str(index_dir / 'build.lock'))} \(pid {holder.pid} on \S+ since "
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\); waited 0\.5 s\. Wait for it to finish, or raise --lock-timeout\.",
        str(caught.value),
    )
    assert current_generation(index_dir) is None

    # the holder died: the kernel released its lock, so the next build needs no cleanup
    report = build_index([corpus], index_dir, lock_timeout=5)
    assert report.documents == 4


def test_build_lock_is_released_after_a_build(corpus, index_dir, three_articles):
    build_index([corpus], index_dir)
    with BuildLock(index_dir, timeout=0):
        pass
