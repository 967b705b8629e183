"""Shared fixtures: article files written into a temporary folder, a CLI runner, a real index."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchsvc.engine.whoosh_engine.generations import current_generation

# A fixed point in time for mtimes, so "newer" and "older" never depend on the clock.
BASE_MTIME = 1_650_000_000


def article_text(
    title: str | None,
    url: str | None = None,
    date: str | None = "2022-07-11T00:18:00Z",
    body: str = "Body text.",
    related: list[tuple[str, str]] | None = None,
    extra: str = "",
) -> str:
    """A front-matter article in the project's (Smartable/Bing news) shape."""
    lines = ["---"]
    if title is not None:
        lines.append(f"title: {json.dumps(title)}")
    if url is not None:
        lines.append(f"webUrl: {url}")
    if date is not None:
        lines.append(f"publishedDateTime: {date}")
    if extra:
        lines.append(extra.rstrip("\n"))
    if related:
        lines.append("related:")
        for rel_title, rel_url in related:
            lines.append(f"  - title: {json.dumps(rel_title)}")
            lines.append(f"    webUrl: {rel_url}")
            lines.append("    publishedDateTime: 2022-07-12T08:00:00Z")
    lines.append("---")
    lines.append(body)
    return "\n".join(lines) + "\n"


WriteArticle = Callable[..., Path]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    return folder


@pytest.fixture
def write_article(corpus: Path) -> WriteArticle:
    """Write an article file below ``corpus``; ``mtime`` (seconds after BASE_MTIME) pins its mtime."""

    def write(name: str, title: str | None, url: str | None = None, mtime: int = 0, **kwargs) -> Path:
        path = corpus / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(article_text(title, url, **kwargs), encoding="utf-8")
        stamp = BASE_MTIME + mtime
        os.utime(path, (stamp, stamp))
        return path

    return write


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "index"


@pytest.fixture
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Run in an empty working directory with no SEARCHSVC_* variables (no stray searchsvc.toml)."""
    for name in list(os.environ):
        if name.startswith("SEARCHSVC_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def runner(clean_environ: Path) -> CliRunner:
    return CliRunner()


def stored_documents(index_dir: Path) -> dict[str, dict]:
    """id -> stored fields of every live document in the current generation (read with Whoosh)."""
    from whoosh import index as whoosh_index

    from searchsvc.engine.whoosh_engine.writer import INDEX_NAME

    generation = current_generation(index_dir)
    assert generation is not None, f"no current generation in {index_dir}"
    ix = whoosh_index.open_dir(str(generation.path), indexname=INDEX_NAME)
    try:
        with ix.searcher() as searcher:
            return {doc["id"]: doc for doc in searcher.all_stored_fields()}
    finally:
        ix.close()


@pytest.fixture
def stored() -> Callable[[Path], dict[str, dict]]:
    return stored_documents


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pids of the children os.fork starts in this test, in order (the fork still happens)."""
    forked: list[int] = []
    real_fork = os.fork

    def counting_fork() -> int:
        pid = real_fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counting_fork)
    return forked
