"""An update's stats of every file: in two processes from a threshold, with the same numbers as
one, -1 for what cannot be stat'ed, and the child's half done here when the child fails."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from searchsvc import file_stats as module
from searchsvc.file_stats import file_stats


@pytest.fixture()
def files(tmp_path: Path) -> list[str]:
    paths = []
    for n in range(60):
        path = tmp_path / f"{n:02d}.md"
        path.write_bytes(b"x" * n)
        os.utime(path, ns=(1_700_000_000_000_000_000 + n, 1_700_000_000_000_000_000 + n))
        paths.append(str(path))
    paths[7] = str(tmp_path / "gone.md")  # in the child's half
    paths[45] = str(tmp_path / "also-gone.md")  # in this process's half
    return paths


def _expected(paths: list[str]) -> tuple[list[int], list[int]]:
    sizes = [n if Path(p).exists() else -1 for n, p in enumerate(paths)]
    mtimes = [1_700_000_000_000_000_000 + n if size >= 0 else -1 for n, size in enumerate(sizes)]
    return sizes, mtimes


def test_two_processes_give_each_files_size_and_mtime_in_order(files, forks):
    sizes, mtimes = file_stats(files, parallel_from=10)
    assert len(forks) == 1
    assert (sizes.tolist(), mtimes.tolist()) == _expected(files)
    assert sizes.dtype == mtimes.dtype == np.int64


def test_below_the_threshold_one_process_stats_them(files, forks):
    sizes, mtimes = file_stats(files, parallel_from=61)
    assert forks == []
    assert (sizes.tolist(), mtimes.tolist()) == _expected(files)


def test_a_child_that_fails_leaves_its_half_to_the_parent(files, monkeypatch, forks):
    parent = os.getpid()
    real_stats = module._stats

    def failing_in_the_child(paths):
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return real_stats(paths)

    monkeypatch.setattr(module, "_stats", failing_in_the_child)
    sizes, mtimes = file_stats(files, parallel_from=10)
    assert len(forks) == 1
    assert (sizes.tolist(), mtimes.tolist()) == _expected(files)


def test_no_fork_while_another_thread_runs(files, forks):
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        sizes, mtimes = file_stats(files, parallel_from=10)
    finally:
        release.set()
        thread.join()
    assert forks == []
    assert (sizes.tolist(), mtimes.tolist()) == _expected(files)


def test_no_files_give_empty_arrays():
    sizes, mtimes = file_stats([], parallel_from=0)
    assert (sizes.tolist(), mtimes.tolist()) == ([], [])
