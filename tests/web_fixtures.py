"""Fixtures for the web tests: a small hand-written corpus, its index, the Flask app and a real
``searchsvc serve`` subprocess. tests/conftest.py belongs to the other modules' tests, so test
modules import the ``*_fixture`` functions they use; each registers under its short name
(``app``, ``client``, ``live_server``, ...)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest

from searchsvc.indexer import build_index
from searchsvc.web import create_app

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "test-output"
SCRIPT_TITLE = "<script>alert(1)</script> Bots take over the newsroom"

DAILY = ("Daily Planet", "dailyplanet.example")
TECH = ("Tech Times", "techtimes.example")
GREEN = ("Green Wire", "greenwire.example")

# name, title, provider (name, domain), day (published at 09:00 UTC), topics, category, type, quality
# fmt: off
ARTICLES = [
    ("a01", "Solar farms power a quiet revolution", DAILY, "2022-01-05", ["Energy", "Climate"], "news", "article", 70),
    ("a02", "Wind turbines grow taller every year", DAILY, "2022-01-12", ["Energy"], "news", "article", 55),
    ("a03", "Rockets reuse boosters to cut launch costs", DAILY, "2022-03-02", ["Space"], "news", "video", 60),
    ("a04", "Language models learn to write code", TECH, "2022-01-20", ["AI"], "blog", "article", 80),
    ("a05", "Robots sort recycling with computer vision", TECH, "2022-03-08", ["AI", "Climate"], "news", "article", 65),
    # the YAML holds the title HTML-escaped; the parser turns it into literal text
    ("a06", "&lt;script&gt;alert(1)&lt;/script&gt; Bots take over the newsroom", TECH, "2022-03-15", ["AI"], "blog",
     "article", 40),
    ("a07", "Telescope spots water on a distant planet", TECH, "2022-03-21", ["Space"], "news", "article", 75),
    ("a08", "Glaciers retreat faster than predicted", GREEN, "2022-01-25", ["Climate"], "news", "article", 85),
    ("a09", "Cities plant forests to cool streets", GREEN, "2022-03-10", ["Climate"], "news", "article", 50),
    ("a10", "Batteries store solar energy overnight", GREEN, "2022-03-18", ["Energy", "Climate"], "news", "video", 68),
    ("a11", "Satellites track melting sea ice", GREEN, "2022-03-25", ["Space", "Climate"], "news", "article", 72),
    ("a12", "Heat pumps replace gas boilers", DAILY, "2022-03-28", ["Energy"], "news", "article", 58),
]
# fmt: on


def url_of(name: str) -> str:
    domain = next(a[2][1] for a in ARTICLES if a[0] == name)
    return f"https://{domain}/{name}"


def article_file(name, title, provider, date, topics, category, kind, quality) -> str:
    lines = [
        "---",
        f'title: "{title}"',
        f"excerpt: {json.dumps('About ' + title.lower() + '. A short summary of the story.')}",
        f"publishedDateTime: {date}T09:00:00Z",
        f"webUrl: https://{provider[1]}/{name}",
        f"category: {category}",
        f"type: {kind}",
        f"quality: {quality}",
        "provider:",
        f"  name: {provider[0]}",
        f"  domain: {provider[1]}",
        "topics:",
        *[f"  - {t}" for t in topics],
    ]
    if name == "a01":
        lines += ["images:", "  - url: https://dailyplanet.example/img/solar.jpg"]
        lines += [
            "related:",
            '  - title: "Community solar cooperatives spread"',
            "    webUrl: https://greenwire.example/coop",
            "    publishedDateTime: 2022-01-06T10:00:00Z",
            "    provider:",
            "      name: Green Wire",
            "      domain: greenwire.example",
        ]
    lines += ["---", f"{title}. The full body of the story goes here, with more words about it.", ""]
    return "\n".join(lines)


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for row in ARTICLES:
        (folder / f"{row[0]}.md").write_text(article_file(*row), encoding="utf-8")
    return folder


@pytest.fixture(name="web_corpus", scope="module")
def web_corpus_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("web") / "corpus")


@pytest.fixture(name="web_index", scope="module")
def web_index_fixture(web_corpus: Path) -> Path:
    index = web_corpus.parent / "index"
    report = build_index([str(web_corpus)], index, full=True, lock_timeout=5)
    assert report.failed == 0, report.lines(True)
    return index


@pytest.fixture(name="app")
def app_fixture(web_index: Path):
    return create_app(test_config={"index_dir": str(web_index), "result_cache": 0})


@pytest.fixture(name="client")
def client_fixture(app):
    return app.test_client()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    output: Path

    def get(self, path: str, headers: dict | None = None) -> tuple[int, Message, bytes]:
        """Status, headers (case-insensitive) and body of a GET."""
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.headers, exc.read()

    def json(self, path: str) -> dict:
        status, _, body = self.get(path)
        assert status == 200, body
        return json.loads(body)


def server_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEARCHSVC_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_server(corpus: Path, index: Path, workdir: Path, *extra: str, workers: str | None = "1") -> Iterator[Server]:
    """Run ``python -m searchsvc serve`` on a free port until /readyz answers; stop it afterwards.
    One worker unless ``extra`` or ``workers`` asks for more (the default, one per usable core,
    depends on the machine); ``workers=None`` leaves the flag out."""
    port = free_port()
    if workers is not None and "--workers" not in extra:
        extra = ("--workers", workers, *extra)
    output = workdir / f"server-{port}.log"
    command = [
        sys.executable,
        "-m",
        "searchsvc",
        "serve",
        "--port",
        str(port),
        "--index",
        str(index),
        "--source",
        str(corpus),
        *extra,
    ]
    with open(output, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=workdir, env=server_environment())
    server = Server(f"http://127.0.0.1:{port}", process, output)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"server exited with {process.returncode}:\n{output.read_text()}")
            try:
                if server.get("/readyz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server did not become ready:\n{output.read_text()}")
            time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(name="live_server", scope="module")
def live_server_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real server that built its own index from a fresh corpus on its first start."""
    workdir = tmp_path_factory.mktemp("live")
    corpus = write_corpus(workdir / "corpus")
    yield from start_server(corpus, workdir / "index", workdir)


def wait_for(condition, timeout: float = 20.0, what: str = "the condition", every: float = 0.05):
    """``condition()``'s first true value, polled every ``every`` seconds; fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)
