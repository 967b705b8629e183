"""What publishing a generation flushes to disk: every file written for it and its folder, before
CURRENT points at it; the segment files it shares (hard links) with the generation before were
flushed when that one was published, and are not flushed again."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from searchsvc.engine.whoosh_engine.generations import current_generation
from searchsvc.indexer import build_index

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def _recording_fsync(monkeypatch) -> list[str]:
    flushed: list[str] = []
    fsync = os.fsync

    def recording(fd: int) -> None:
        flushed.append(os.readlink(f"/proc/self/fd/{fd}"))
        fsync(fd)

    monkeypatch.setattr(os, "fsync", recording)
    return flushed


def test_an_update_flushes_its_new_files_and_folders_but_not_the_segments_it_shares(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    index = tmp_path / "index"
    flushed = _recording_fsync(monkeypatch)
    build_index([corpus], index, full=True)
    first = current_generation(index).path
    assert {Path(p) for p in flushed} >= {path for path in first.iterdir() if path.is_file()} | {first, index}

    flushed.clear()
    article = next(corpus.rglob("*.txt"))
    article.write_text(article.read_text(encoding="utf-8").replace("title:", "title: Updated", 1), encoding="utf-8")
    build_index([corpus], index)

    second = current_generation(index).path
    files = [path for path in second.iterdir() if path.is_file()]
    shared = {path for path in files if os.stat(path).st_nlink > 1}
    new = set(files) - shared
    assert any(path.name.endswith(".seg") for path in shared)  # the first build's segment, linked
    assert any(path.name.endswith(".seg") for path in new)  # the update's own segment
    assert {Path(p) for p in flushed} & shared == set()
    assert {Path(p) for p in flushed} >= new | {second, index}
    assert flushed.index(str(second)) < flushed.index(str(index))  # the folder before CURRENT's
