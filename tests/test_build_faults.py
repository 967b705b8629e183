"""Builds that go wrong, for real: a build killed (SIGKILL, Ctrl+C) while its worker processes
parse or write, a lock kept by an orphan of a dead build, a full disk (a small tmpfs), a read-only
index folder, and a re-index run that exceeds reindex_timeout. Each ends with the previous
generation still served, no worker process left, the lock free and the next build succeeding."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from web_fixtures import wait_for

from searchsvc.cli import main
from searchsvc.config import Settings
from searchsvc.engine.whoosh_engine.build_lock import pid_alive
from searchsvc.engine.whoosh_engine.generations import BuildLock, all_generations, current_generation
from searchsvc.errors import IndexWriteError
from searchsvc.indexer import build_index
from searchsvc.reindex import Reindexer

WORDS = "solar wind river glacier market election vaccine storm harbour festival".split()
INDEX_CMD = [sys.executable, "-m", "searchsvc", "index"]
ROOT = Path(__file__).resolve().parents[1]  # the child processes import searchsvc from here
needs_two_cpus = pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2, reason="parallel parse workers start only with two CPUs or more"
)


def write_long_corpus(folder: Path, count: int, words: int = 400, first: int = 0) -> Path:
    """``count`` articles of ``words`` words each (6000 of them take a full build seconds to parse)."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(first, first + count):
        body = " ".join(WORDS[(n * 7 + i * 3) % len(WORDS)] + str(i % 50) for i in range(words))
        (folder / f"long-{n:05d}.md").write_text(
            f"---\ntitle: Long article {n}\nwebUrl: https://long.example.com/{n}\n"
            f"publishedDateTime: 2022-07-11T00:18:00Z\nprovider: Provider {n % 7}\n---\n{body}\n",
            encoding="utf-8",
        )
    return folder


def children(pid: int) -> list[int]:
    """Live processes whose parent is ``pid`` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
                found.append(int(entry.name))
    return found


def generation_names(index_dir: Path) -> list[str]:
    return [g.name for g in all_generations(index_dir)]


def lock_is_free(index_dir: Path) -> bool:
    with BuildLock(index_dir, timeout=0):
        return True


def kill_all(pids) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def start_build(corpus: Path, index_dir: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*INDEX_CMD, str(corpus), "--index", str(index_dir), *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextmanager
def tmpfs(path: Path, options: str) -> Iterator[Path]:
    """A real tmpfs mounted at ``path`` (root only), unmounted afterwards."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here ({mounted.stderr.decode().strip()}); run as root")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(folder: Path, leave: int = 0) -> Path:
    """Fill the file system of ``folder`` up to ``leave`` free bytes (0: until writes fail)."""
    filler = folder / f"filler-{len(list(folder.glob('filler-*')))}"
    info = os.statvfs(folder)
    todo = max(0, info.f_bavail * info.f_frsize - leave)
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        chunk = b"\0" * (1 << 20)
        while todo > 0 or not leave:
            try:
                todo -= os.write(fd, chunk[: min(len(chunk), todo)] if leave else chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
    finally:
        os.close(fd)
    return filler


def free_blocks(folder: Path) -> int:
    return os.statvfs(folder).f_bfree


# --- killed builds and the lock ---------------------------------------------------------------


@needs_two_cpus
def test_build_killed_by_sigkill_while_parsing_leaves_no_worker_and_the_next_build_takes_the_lock(tmp_path, stored):
    corpus = write_long_corpus(tmp_path / "corpus", 6000)
    index_dir = tmp_path / "index"
    child = start_build(corpus, index_dir, "--full")
    workers: list[int] = []
    try:
        workers = wait_for(lambda: len(found := children(child.pid)) >= 2 and found, what="the parse workers")
        assert generation_names(index_dir) == []  # still parsing: the generation comes after
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        wait_for(lambda: not any(pid_alive(p) for p in workers), timeout=5, what="the orphaned workers to die")
    finally:
        kill_all([child.pid, *workers])
        child.wait()
        child.stderr.close()

    report = build_index([corpus], index_dir, lock_timeout=2)  # an orphan would hold the lock: IndexLockedError
    assert report.counts_line() == "added 6000, updated 0, unchanged 0, deleted 0, duplicates 0, failed 0"
    assert (report.generation, report.documents) == ("gen-000001", 6000)
    assert len(stored(index_dir)) == 6000


ORPHAN_HOLDER = """
import fcntl, json, os, sys, time
handle = open(os.path.join(sys.argv[1], "build.lock"), "a+")
fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
handle.write(json.dumps({"pid": os.getpid(), "host": "elsewhere", "since": time.time()}))
handle.flush()
child = os.fork()
if child == 0:  # keeps the inherited lock, as parse workers of earlier versions did, until stdin closes
    os.close(1)
    sys.stdin.read()
    os._exit(0)
print(child, flush=True)
os._exit(0)
"""


def test_a_lock_kept_only_by_an_orphan_of_a_dead_build_does_not_block_the_next_build(tmp_path, stored):
    corpus = write_long_corpus(tmp_path / "corpus", 3)
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", ORPHAN_HOLDER, str(index_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    orphan = int(holder.stdout.readline())
    holder.wait(10)
    try:
        dead_builder = json.loads((index_dir / "build.lock").read_text(encoding="utf-8"))["pid"]
        assert (dead_builder, pid_alive(orphan), pid_alive(dead_builder)) == (holder.pid, True, False)
        report = build_index([corpus], index_dir, lock_timeout=2)
        assert pid_alive(orphan)  # still there, still keeping the old lock file's lock
    finally:
        holder.stdin.close()
        holder.stdout.close()
        kill_all([orphan])

    assert (report.generation, report.documents) == ("gen-000001", 3)
    assert len(stored(index_dir)) == 3
    assert lock_is_free(index_dir)


@needs_two_cpus
def test_ctrl_c_during_the_write_phase_removes_the_unfinished_generation_and_stops_the_workers(tmp_path, stored):
    corpus = write_long_corpus(tmp_path / "corpus", 3)
    index_dir = tmp_path / "index"
    build_index([corpus], index_dir)
    write_long_corpus(corpus, 6000, first=3)
    child = start_build(corpus, index_dir, "--full")
    workers: list[int] = []
    try:
        workers = wait_for(lambda: len(found := children(child.pid)) >= 2 and found, what="the workers")
        wait_for(lambda: (index_dir / "gen-000002" / "_MAIN_0.toc").exists(), what="the write phase", every=0.005)
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=30)
        wait_for(lambda: not any(pid_alive(p) for p in workers), timeout=5, what="the workers to end")
    finally:
        kill_all([child.pid, *workers])
        child.wait()

    assert (child.returncode, stderr.strip()) == (1, "Aborted!")
    assert generation_names(index_dir) == ["gen-000001"]
    assert current_generation(index_dir).name == "gen-000001"
    assert len(stored(index_dir)) == 3
    assert lock_is_free(index_dir)


# --- a full disk ----------------------------------------------------------------------------


def test_a_full_disk_fails_the_build_in_one_line_removes_its_generation_and_the_next_build_succeeds(tmp_path, stored):
    corpus = write_long_corpus(tmp_path / "corpus", 3)
    with tmpfs(tmp_path / "disk", "size=32m") as disk:
        index_dir = disk / "index"
        assert build_index([corpus], index_dir).generation == "gen-000001"
        fill(disk, leave=128 * 1024)
        write_long_corpus(corpus, 2500, first=3)
        before = free_blocks(disk)

        with pytest.raises(IndexWriteError) as caught:
            build_index([corpus], index_dir)

        assert str(caught.value) == (
            f"No space left on device while writing {index_dir}/gen-000002: free some space and run the "
            "build again; the index keeps serving gen-000001."
        )
        assert generation_names(index_dir) == ["gen-000001"]
        assert current_generation(index_dir).name == "gen-000001"
        assert free_blocks(disk) == before  # nothing of the failed build is left taking room
        assert len(stored(index_dir)) == 3
        assert lock_is_free(index_dir)

        # the disk at 100 %: a build with nothing to do still runs (writing the lock's owner fails)
        for path in corpus.glob("long-*.md"):
            if int(path.stem[5:]) >= 3:
                path.unlink()
        fill(disk)
        unchanged = build_index([corpus], index_dir)
        assert unchanged.counts_line() == "added 0, updated 0, unchanged 3, deleted 0, duplicates 0, failed 0"
        assert unchanged.generation == "gen-000001"

        for path in disk.glob("filler-*"):
            path.unlink()
        write_long_corpus(corpus, 2500, first=3)
        report = build_index([corpus], index_dir)
        assert (report.generation, report.documents) == ("gen-000002", 2503)
        assert generation_names(index_dir) == ["gen-000001", "gen-000002"]
        assert len(stored(index_dir)) == 2503


@needs_two_cpus
def test_a_full_disk_under_a_parallel_full_build_is_one_error_line_from_the_cli(tmp_path):
    corpus = write_long_corpus(tmp_path / "corpus", 4500)
    with tmpfs(tmp_path / "disk", "size=8m") as disk:
        index_dir = disk / "index"
        (disk / "index").mkdir()
        fill(disk, leave=512 * 1024)
        child = start_build(corpus, index_dir, "--full")
        _, stderr = child.communicate(timeout=120)

        assert child.returncode == 1
        # the disk fills while the workers keep their parsed articles in the index folder
        assert stderr == (
            f"Error: No space left on device while writing {index_dir}: free some space and run "
            "the build again; there is no index to serve until a build succeeds.\n"
        )
        assert generation_names(index_dir) == []
        assert [p.name for p in index_dir.iterdir() if p.name.startswith(".parsed-")] == []
        assert lock_is_free(index_dir)


# --- an index folder that cannot be written -------------------------------------------------


def read_only_message(index_dir: Path, filename: str | None) -> str:
    where = f" ({filename})" if filename else ""
    return (
        f"Error: Cannot write to the index folder {index_dir}: Read-only file system{where}. Give a folder "
        "searchsvc may write to (--index or the index_dir setting), or fix its mount or permissions; "
        "there is no index to serve until a build succeeds.\n"
    )


def test_index_into_a_read_only_folder_exits_with_one_line_naming_the_folder(runner, tmp_path):
    corpus = write_long_corpus(tmp_path / "corpus", 3)
    with tmpfs(tmp_path / "ro", "ro,size=1m") as read_only:
        result = runner.invoke(main, ["index", str(corpus), "--index", str(read_only)])
        below = runner.invoke(main, ["index", str(corpus), "--index", str(read_only / "index")])

    assert (result.exit_code, result.output) == (1, read_only_message(read_only, f"{read_only}/build.lock"))
    assert (below.exit_code, below.output) == (1, read_only_message(read_only / "index", None))


def test_index_folder_below_a_regular_file_exits_with_one_line_naming_the_folder(runner, tmp_path):
    corpus = write_long_corpus(tmp_path / "corpus", 3)
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    index_dir = tmp_path / "a-file" / "index"

    result = runner.invoke(main, ["index", str(corpus), "--index", str(index_dir)])

    assert (result.exit_code, result.output) == (
        1,
        f"Error: Cannot write to the index folder {index_dir}: Not a directory. Give a folder searchsvc may "
        "write to (--index or the index_dir setting), or fix its mount or permissions; there is no index "
        "to serve until a build succeeds.\n",
    )


def test_serve_with_a_read_only_index_folder_exits_with_one_line_naming_the_folder(tmp_path):
    corpus = write_long_corpus(tmp_path / "corpus", 3)
    with tmpfs(tmp_path / "ro", "ro,size=1m") as read_only:
        served = subprocess.run(
            [sys.executable, "-m", "searchsvc", "serve", "--index", str(read_only), "--source", str(corpus)]
            + ["--port", "0"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert served.returncode == 1
    assert served.stdout == f"No index at {read_only}: building it from {corpus} ...\n"
    assert served.stderr == read_only_message(read_only, f"{read_only}/build.lock")


# --- a re-index run past reindex_timeout ------------------------------------------------------


@needs_two_cpus
def test_a_run_past_reindex_timeout_is_killed_with_its_workers_and_the_next_run_goes_ahead(tmp_path, stored):
    corpus = write_long_corpus(tmp_path / "corpus", 3)
    index_dir = tmp_path / "index"
    build_index([corpus], index_dir)
    write_long_corpus(corpus, 8000, first=3)
    settings = Settings(index_dir=str(index_dir), source=(str(corpus),), lock_timeout=5.0, reindex_timeout=2.0)
    reindexer = Reindexer(settings)
    workers: list[int] = []
    try:
        reindexer.start(full=True)
        child = wait_for(lambda: reindexer._process, what="the index subprocess", every=0.005)
        workers = wait_for(lambda: len(found := children(child.pid)) >= 2 and found, what="its parse workers")
        assert reindexer.wait(30)
    finally:
        reindexer.stop()
        kill_all(workers)
    failed = reindexer.status()

    assert (failed["running"], failed["last_run"]["ok"], failed["last_run"]["report"]) == (False, False, None)
    assert failed["last_run"]["error"] == (
        "searchsvc index ran longer than reindex_timeout=2 s and was killed; the previous index is still "
        "served and the next run starts afresh. Raise reindex_timeout if the source has grown, or run "
        "'searchsvc index -v' by hand to find a file that takes long."
    )
    wait_for(lambda: not any(pid_alive(pid) for pid in workers), timeout=5, what="the killed run's workers to end")
    assert lock_is_free(index_dir)
    assert current_generation(index_dir).name == "gen-000001"
    assert len(stored(index_dir)) == 3

    again = Reindexer(settings.replace(reindex_timeout=300.0))
    again.start()
    assert again.wait(120)
    last = again.status()["last_run"]
    assert (last["ok"], last["error"], last["report"]["generation"], last["report"]["documents"]) == (
        True,
        None,
        "gen-000002",
        8003,
    )
    assert generation_names(index_dir) == ["gen-000001", "gen-000002"]
