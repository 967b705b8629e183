"""The OpenSearch engine beyond the contract: errors that say what to do (an unreachable cluster,
refused credentials, a missing alias, a red index, a rejected bulk item), builds that leave the
alias serving when they fail, the cluster-wide build lock, old indexes removed after a swap, and
the stories that collapse syndicated copies.

Tests that need a cluster run where ``SEARCHSVC_TEST_OPENSEARCH_URL`` names one (.ci/run starts a
node); the others run everywhere."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner
from search_fixtures import Doc, write_article_file

from searchsvc.analysis import analyse
from searchsvc.cli import main
from searchsvc.config import Settings
from searchsvc.documents import Article
from searchsvc.engine import open_builder, open_search
from searchsvc.engine.opensearch_engine.results import split_marks
from searchsvc.engine.opensearch_engine.stories import COLLAPSE_SECONDS, UNDATED, stories
from searchsvc.errors import EngineUnavailable, IndexLockedError, IndexNotFoundError
from searchsvc.indexer import build_index
from searchsvc.request import parse_request
from searchsvc.web import create_app

URL = os.environ.get("SEARCHSVC_TEST_OPENSEARCH_URL", "")
needs_cluster = pytest.mark.skipif(
    not URL, reason="SEARCHSVC_TEST_OPENSEARCH_URL is not set (the URL of an OpenSearch cluster to test against)"
)
SKYLINE = ("Skyline Daily", "skyline.example")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def settings_for(url: str, prefix: str | None = None, **changes) -> Settings:
    return Settings(
        engine="opensearch",
        opensearch_url=(url,),
        opensearch_index_prefix=prefix or f"searchsvc-test-{uuid.uuid4().hex[:8]}",
        opensearch_timeout=5.0,
        **changes,
    )


def http(method: str, path: str) -> dict:
    request = urllib.request.Request(URL + path, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")


@pytest.fixture
def prefix():
    name = f"searchsvc-test-{uuid.uuid4().hex[:8]}"
    yield name
    if URL:
        http("DELETE", f"/{name}-*?expand_wildcards=all")


@pytest.fixture
def built(prefix, tmp_path):
    """Three articles built into a fresh prefix: (settings, source folder)."""
    source = tmp_path / "corpus"
    source.mkdir()
    for name, title in (("u01", "Zeppelins return"), ("u02", "Trains beat planes"), ("u03", "Ferries at night")):
        write_article_file(source, Doc(name, title, "An excerpt.", "2022-01-01T00:00:00Z", SKYLINE, ["Transport"]))
    settings = settings_for(URL, prefix, index_dir=str(tmp_path / "index"))
    build_index([str(source)], settings.index_dir, full=True, lock_timeout=10, builder=open_builder(settings))
    return settings, source


# --- errors without a cluster --------------------------------------------------------------------


def test_an_unreachable_cluster_is_an_error_that_names_it_and_says_what_to_do():
    url = f"http://127.0.0.1:{closed_port()}"
    engine = open_search(settings_for(url))

    with pytest.raises(EngineUnavailable) as info:
        engine.search(parse_request({"q": ["solar"]}))

    assert str(info.value) == (
        f"Cannot reach the OpenSearch cluster at {url} while reading the alias. "
        "Start it (scripts/opensearch-node starts a local node) or fix opensearch_url."
    )


def test_the_api_answers_503_with_the_one_error_shape_when_the_cluster_is_unreachable(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}"
    app = create_app(settings_for(url, index_dir=str(tmp_path / "index"), result_cache=0))
    client = app.test_client()

    search = client.get("/api/search?q=solar")
    ready = client.get("/readyz")

    message = (
        f"Cannot reach the OpenSearch cluster at {url} while reading the alias. "
        "Start it (scripts/opensearch-node starts a local node) or fix opensearch_url."
    )
    assert (search.status_code, search.json) == (503, {"ok": False, "status": 503, "error": message, "errors": []})
    assert (ready.status_code, ready.json["error"], ready.headers["Retry-After"]) == (503, message, "5")


def test_the_cli_reports_an_unreachable_cluster_in_one_line(tmp_path, monkeypatch):
    url = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("SEARCHSVC_ENGINE", "opensearch")
    monkeypatch.setenv("SEARCHSVC_OPENSEARCH_URL", url)
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(main, ["search", "solar"])

    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        f"Error: Cannot reach the OpenSearch cluster at {url} while reading the alias. "
        "Start it (scripts/opensearch-node starts a local node) or fix opensearch_url."
    )


class _RefusingCluster(BaseHTTPRequestHandler):
    """Answers every request as a cluster with the security plugin answers wrong credentials."""

    def do_GET(self):  # noqa: N802 - the http.server API
        body = b'{"error":{"type":"security_exception","reason":"Unauthorized"},"status":401}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_PUT = do_GET

    def log_message(self, *args):
        pass


def test_refused_credentials_say_which_settings_to_check():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RefusingCluster)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        engine = open_search(settings_for(url, opensearch_user="reader", opensearch_password="wrong"))
        with pytest.raises(EngineUnavailable) as info:
            engine.search(parse_request({"q": ["solar"]}))
    finally:
        server.shutdown()
        server.server_close()

    assert str(info.value) == (
        f"The OpenSearch cluster at {url} refused the credentials while reading the alias. "
        "Check the opensearch_user and opensearch_password settings."
    )


def test_an_index_prefix_the_cluster_cannot_name_is_a_setting_error():
    from searchsvc.errors import ConfigError

    with pytest.raises(ConfigError, match="^Setting opensearch_index_prefix must be lower-case"):
        open_search(settings_for("http://127.0.0.1:9200", "News"))


# --- stories and highlight marks (no cluster) ---------------------------------------------------


def test_copies_of_a_title_within_three_days_of_the_one_before_are_one_story():
    day = 86400.0
    found = stories(
        [
            ("a", "rocket", 0.0),
            ("b", "rocket", 1.5 * day),
            ("c", "rocket", 1.5 * day + COLLAPSE_SECONDS),  # three days after b: still the story
            ("d", "rocket", 20 * day),
            ("e", "", 0.0),
            ("f", "glacier", UNDATED),
            ("g", "glacier", UNDATED),
            ("h", "solo", 5 * day),
        ]
    )

    assert found == {
        "a": ("a", True),
        "b": ("a", True),
        "c": ("a", True),
        "d": ("d", False),
        "e": ("e", False),
        "f": ("f", True),
        "g": ("f", True),
        "h": ("h", False),
    }


def test_highlight_marks_become_spans_over_the_plain_text():
    text, spans = split_marks("<b>\ue000Robots\ue001</b> draft \ue000reports\ue001")

    assert (text, spans) == ("<b>Robots</b> draft reports", ((3, 9), (20, 27)))
    assert split_marks("no marks") == ("no marks", ())
    assert split_marks("cut \ue000off") == ("cut off", ())


# --- errors and builds on a cluster -----------------------------------------------------------


@needs_cluster
def test_a_prefix_with_no_index_is_index_not_found_naming_the_alias(prefix):
    engine = open_search(settings_for(URL, prefix))

    with pytest.raises(IndexNotFoundError) as info:
        engine.search(parse_request({"q": ["solar"]}))

    assert str(info.value) == (
        f"No index {prefix} on the OpenSearch cluster at {URL}. "
        "Run 'searchsvc index SOURCE' with engine = opensearch first."
    )


@needs_cluster
def test_a_re_index_that_cannot_reach_the_cluster_leaves_the_alias_serving(built):
    settings, source = built
    before = open_builder(settings).current()
    write_article_file(source, Doc("u04", "Zeppelins land in Berlin", "Crowds.", "2022-01-04T00:00:00Z", SKYLINE))
    unreachable = settings.replace(opensearch_url=f"http://127.0.0.1:{closed_port()}")

    with pytest.raises(EngineUnavailable, match="^Cannot reach the OpenSearch cluster at "):
        build_index([str(source)], settings.index_dir, lock_timeout=10, builder=open_builder(unreachable))

    engine = open_search(settings)
    assert (open_builder(settings).current(), engine.search(parse_request({})).total) == (before, 3)


@needs_cluster
def test_a_rejected_bulk_item_fails_the_build_with_its_reason_and_leaves_the_alias(built):
    settings, _ = built
    builder = open_builder(settings)
    before = builder.current()
    broken = Article(id="https://skyline.example/u09", path="u09.md", title="Too good", quality=2**40)

    with pytest.raises(EngineUnavailable) as info:
        with builder.begin(False, 10) as build:
            unpublished = build.view_name
            build.upsert([broken])

    assert str(info.value).startswith(f"OpenSearch rejected 1 of 1 bulk items while writing {unpublished} (first: ")
    assert str(info.value).endswith("The build was not published; the current index keeps serving.")
    assert builder.current() == before
    assert unpublished not in http("GET", f"/{settings.opensearch_index_prefix}-g*")


@needs_cluster
def test_a_second_build_waits_for_the_cluster_lock_and_says_who_holds_it(built):
    settings, _ = built
    with open_builder(settings).begin(False, 10):
        with pytest.raises(IndexLockedError) as info:
            with open_builder(settings).begin(False, 0.5):
                pass

    assert str(info.value) == (
        f"Another build (process {os.getpid()} on {socket.gethostname()}) holds the build lock of "
        f"{settings.opensearch_index_prefix} on the cluster; waited 0.5 s. "
        "Wait for it to finish, or raise lock_timeout."
    )


@needs_cluster
def test_after_each_swap_only_the_new_index_and_the_one_it_replaced_remain(built):
    settings, source = built
    builder = open_builder(settings)
    published = [builder.current()]
    for _ in range(3):
        build_index([str(source)], settings.index_dir, full=True, lock_timeout=10, builder=builder)
        published.append(builder.current())

    indexes = sorted(http("GET", f"/{settings.opensearch_index_prefix}-g*"))
    assert len(set(published)) == 4
    assert indexes == sorted(published[-2:])
    assert open_search(settings).search(parse_request({})).total == 3


@needs_cluster
def test_a_red_index_makes_readyz_and_searches_answer_503(prefix, tmp_path):
    # an index whose only shard may live on no node is red: its alias points at nothing searchable
    red = f"{prefix}-g{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S%f}"
    body = json.dumps({"settings": {"index.routing.allocation.require._name": "nowhere", "number_of_replicas": 0}})
    request = urllib.request.Request(
        f"{URL}/{red}?wait_for_active_shards=0", body.encode(), {"Content-Type": "application/json"}, method="PUT"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
    http("PUT", f"/{red}/_alias/{prefix}")
    app = create_app(settings_for(URL, prefix, index_dir=str(tmp_path / "index"), result_cache=0))
    client = app.test_client()

    search = client.get("/api/search?q=solar")
    ready = client.get("/readyz")

    assert (search.status_code, ready.status_code) == (503, 503)
    assert search.json["error"] == (
        f"The OpenSearch cluster at {URL} failed while opening the index {red} (HTTP 503: all shards failed). "
        "Check the cluster's health ('GET _cluster/health')."
    )
    assert ready.json["error"] == search.json["error"]


@needs_cluster
def test_the_index_analyses_words_exactly_as_the_whoosh_engine_does(built):
    settings, _ = built
    index = open_builder(settings).current()
    text = "The evening news: biologists added Cafés, naïve Zürich hosting Olympics; U.S. state-of-the-art"
    body = json.dumps({"analyzer": "searchsvc_text", "text": text}).encode()
    request = urllib.request.Request(f"{URL}/{index}/_analyze", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        tokens = [t["token"] for t in json.loads(response.read())["tokens"]]

    assert tokens == analyse(text)
    assert tokens[:4] == ["evening", "news", "biolog", "add"]


class _Scripted(BaseHTTPRequestHandler):
    """Answers each request with the next (status, body) of ``script``: a cluster losing a node."""

    script: list[tuple[int, dict]] = []

    def do_POST(self):  # noqa: N802 - the http.server API
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, body = self.script.pop(0)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST

    def log_message(self, *args):
        pass


def _scripted_search(script: list[tuple[int, dict]]) -> tuple[dict | Exception, int]:
    from searchsvc.engine.opensearch_engine.connection import Cluster, search_all_shards

    _Scripted.script = list(script)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        cluster = Cluster(settings_for(url))
        try:
            result: dict | Exception = search_all_shards(cluster, "news-g1", {"query": {}}, 5.0, "searching")
        except EngineUnavailable as exc:
            result = exc
    finally:
        server.shutdown()
        server.server_close()
    return result, len(script) - len(_Scripted.script)


ANSWER = {"_shards": {"total": 2, "successful": 2, "failed": 0}, "hits": {"total": {"value": 3}, "hits": []}}
PARTIAL = {"_shards": {"total": 2, "successful": 1, "failed": 1}, "hits": {"total": {"value": 1}, "hits": []}}
NODE_LEFT = {
    "error": {
        "type": "send_request_transport_exception",
        "reason": "[node-2][127.0.0.1:59321][indices:data/read/search[phase/fetch/id]] disconnected",
    },
    "status": 500,
}


def test_a_search_that_meets_a_node_leaving_mid_fetch_is_tried_again_and_answers():
    result, requests = _scripted_search([(500, NODE_LEFT), (200, ANSWER)])

    assert (result, requests) == (ANSWER, 2)


def test_a_search_some_shards_of_which_failed_twice_is_refused_not_answered_with_fewer_articles():
    result, requests = _scripted_search([(200, PARTIAL), (200, PARTIAL)])

    assert requests == 2
    assert isinstance(result, EngineUnavailable)
    assert str(result).startswith("Only 1 of 2 shards of news-g1 answered while searching on the OpenSearch cluster")
