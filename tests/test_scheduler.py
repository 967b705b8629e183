"""Re-indexing while serving: Reindexer runs (real ``searchsvc index`` subprocesses on a real
index), the APScheduler Schedule, the admin API and the status in /api/stats and the footer."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from schemathesis.specs.openapi.checks import response_schema_conformance
from web_fixtures import wait_for

from searchsvc.cli import main
from searchsvc.config import Settings
from searchsvc.engine.whoosh_engine.generations import BuildLock, current_generation
from searchsvc.errors import ConfigError
from searchsvc.indexer import build_index
from searchsvc.scheduler import (
    RUN_LOCK,
    SCHEDULE_FILE,
    STATUS_FILE,
    Reindexer,
    ReindexRunning,
    Schedule,
    parse_interval,
)
from searchsvc.web import create_app
from searchsvc.web.views import nice_time

TOKEN = "s3cret-token"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")
RUN_ID = re.compile(r"^[0-9a-f]{12}$")
DISABLED = (
    "The admin API is off. Set the admin_token setting (environment variable SEARCHSVC_ADMIN_TOKEN) "
    "to a secret and restart the server to enable POST /api/admin/reindex."
)
NO_TOKEN = "POST /api/admin/reindex needs the admin token: send it as 'Authorization: Bearer <token>'."
WRONG_TOKEN = "The admin token is not the one the server was started with (setting admin_token)."


def error(status: int, message: str, parameter: str | None = None) -> dict:
    errors = [{"parameter": parameter, "message": message}] if parameter else []
    return {"ok": False, "status": status, "error": message, "errors": errors}


def write(corpus: Path, name: str, title: str) -> Path:
    """An article whose id is https://news.example/<name>; every article has the word 'zebra'."""
    path = corpus / f"{name}.md"
    front = f"---\ntitle: {json.dumps(title)}\nwebUrl: https://news.example/{name}\n"
    path.write_text(f"{front}publishedDateTime: 2022-07-11T00:18:00Z\n---\n{title}. Zebra.\n", encoding="utf-8")
    return path


def events(caplog: pytest.LogCaptureFixture, name: str) -> list[dict]:
    """The JSON log lines of ``name`` on the searchsvc.reindex logger."""
    found = []
    for record in caplog.records:
        if record.name == "searchsvc.reindex":
            data = json.loads(record.getMessage())
            if data["event"] == name:
                found.append(data)
    return found


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, Path]:
    """A corpus of three articles and its index (gen-000001)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, title in (("a1", "Solar panels on every roof"), ("a2", "Wind farms at sea"), ("a3", "Rivers run dry")):
        write(corpus, name, title)
    index = tmp_path / "index"
    report = build_index([str(corpus)], index, full=True, lock_timeout=5)
    assert (report.documents, report.generation) == (3, "gen-000001")
    return corpus, index


def settings_for(site: tuple[Path, Path], **changes) -> Settings:
    corpus, index = site
    return Settings(index_dir=str(index), source=(str(corpus),), lock_timeout=10.0).replace(**changes)


@pytest.fixture
def reindexer(site) -> Iterator[Reindexer]:
    reindexer = Reindexer(settings_for(site))
    yield reindexer
    reindexer.stop()


@pytest.fixture
def reindex_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="searchsvc.reindex")
    return caplog


@pytest.fixture
def held_run_lock(site) -> Iterator[None]:
    """Another process's run, as far as every Reindexer can tell: reindex.lock held."""
    with open(site[1] / RUN_LOCK, "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield


def admin_app(site, **changes):
    config = {"index_dir": str(site[1]), "source": str(site[0]), "admin_token": TOKEN, "lock_timeout": 10.0}
    config.update(changes)
    return create_app(test_config=config)


# -- intervals and cron expressions -------------------------------------------------------------


@pytest.mark.parametrize(
    "text, seconds", [("90", 90), ("90s", 90), ("15m", 900), ("2h", 7200), ("1d", 86400), ("0.5s", 0.5)]
)
def test_parse_interval_reads_seconds_minutes_hours_and_days(text, seconds):
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "soon", "15 minutes", "-1m", "m"])
def test_parse_interval_rejects_anything_but_a_positive_duration_naming_the_value(text):
    with pytest.raises(ConfigError) as caught:
        parse_interval(text)

    assert str(caught.value) == f"reindex_every must be a duration like 30s, 15m, 2h or 1d; got {text!r}."


def test_a_bad_cron_expression_is_a_config_error_naming_the_setting_and_the_format(site):
    with pytest.raises(ConfigError) as caught:
        Schedule(Reindexer(settings_for(site, full_reindex_cron="0 3 * *")))

    assert str(caught.value) == (
        "full_reindex_cron '0 3 * *' is not a cron expression: Wrong number of fields; got 4, expected 5. "
        "Use five fields: minute hour day month weekday, e.g. '*/15 * * * *'."
    )


def test_a_schedule_lists_its_jobs_incremental_by_default_and_full_on_its_own_cron(site):
    schedule = Schedule(
        Reindexer(settings_for(site, reindex_every="15m", reindex_cron="*/5 * * * *", full_reindex_cron="0 3 * * 0"))
    )

    assert schedule.active is True
    assert schedule.describe() == ("incremental every 15m, incremental cron '*/5 * * * *', full cron '0 3 * * 0'")
    assert [(job.id, job.kwargs) for job in schedule.scheduler.get_jobs()] == [
        ("reindex", {"full": False}),
        ("reindex-cron", {"full": False}),
        ("full-reindex-cron", {"full": True}),
    ]
    assert Schedule(Reindexer(settings_for(site))).active is False


def test_serve_refuses_a_bad_schedule_before_building_an_index(runner, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write(corpus, "a1", "Solar")

    result = runner.invoke(
        main, ["serve", "--index", str(tmp_path / "index"), "--source", str(corpus), "--reindex-every", "soon"]
    )

    assert result.exit_code == 1
    assert result.output == "Error: reindex_every must be a duration like 30s, 15m, 2h or 1d; got 'soon'.\n"
    assert not (tmp_path / "index").exists()


def test_reindex_settings_come_from_the_environment_too(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("SEARCHSVC_REINDEX_CRON", "*/15 * * *")

    result = runner.invoke(main, ["serve", "--index", str(tmp_path / "index"), "--source", str(tmp_path)])

    assert result.exit_code == 1
    assert result.output == (
        "Error: reindex_cron '*/15 * * *' is not a cron expression: Wrong number of fields; got 4, expected 5. "
        "Use five fields: minute hour day month weekday, e.g. '*/15 * * * *'.\n"
    )


# -- runs ---------------------------------------------------------------------------------------


def test_a_run_indexes_new_and_deleted_files_and_records_one_json_log_line(site, reindexer, reindex_log):
    corpus, index = site
    write(corpus, "a4", "Glaciers melt")
    (corpus / "a2.md").unlink()

    handle = reindexer.start()
    assert reindexer.wait(30)
    status = reindexer.status()

    last = status["last_run"]
    assert (status["running"], status["current"], status["next_run"]) == (False, None, None)
    assert (last["id"], last["full"], last["trigger"], last["ok"], last["error"]) == (
        handle.id,
        False,
        "manual",
        True,
        None,
    )
    assert last["report"] == {
        "added": 1,
        "updated": 0,
        "unchanged": 2,
        "deleted": 1,
        "duplicates": 0,
        "failed": 0,
        "documents": 3,
        "generation": "gen-000002",
        "failures": [],
    }
    assert ISO.match(last["started_at"]) and ISO.match(last["finished_at"]) and last["seconds"] > 0
    assert current_generation(index).name == "gen-000002"
    [line] = events(reindex_log, "reindex")
    assert line["level"] == "info" and line["pid"] == os.getpid() and ISO.match(line["time"])
    assert {key: line[key] for key in last} == last


def test_a_failed_run_keeps_the_index_serving_is_reported_and_the_next_run_succeeds(site, reindexer, reindex_log):
    corpus, index = site
    client = create_app(test_config={"index_dir": str(index)}).test_client()
    hidden = corpus.with_name("elsewhere")
    corpus.rename(hidden)  # the source went missing (an unmounted share, a typo in a deploy)

    reindexer.start()
    assert reindexer.wait(30)
    failed = reindexer.status()["last_run"]

    assert (failed["ok"], failed["report"]) == (False, None)
    assert failed["error"] == (
        f"searchsvc index failed with exit status 1: Error: Source {corpus} does not exist. "
        "Give a folder of articles, e.g. 'searchsvc index seeds/'."
    )
    assert current_generation(index).name == "gen-000001"
    assert client.get("/api/search?q=zebra").get_json()["total"] == 3
    assert events(reindex_log, "reindex")[0]["level"] == "error"

    hidden.rename(corpus)
    write(corpus, "a4", "Glaciers melt")
    reindexer.start()
    assert reindexer.wait(30)
    again = reindexer.status()["last_run"]

    assert (again["ok"], again["error"], again["report"]["generation"]) == (True, None, "gen-000002")
    assert wait_for(lambda: client.get("/api/search?q=zebra").get_json()["total"] == 4, what="gen-000002")


def test_stopping_the_server_stops_its_run_and_records_how_it_ended(site, reindexer):
    with BuildLock(site[1], timeout=5):  # the run waits for the build lock, so it is still going
        reindexer.start()
        wait_for(lambda: reindexer._process is not None, what="the index subprocess")
        reindexer.stop()

    last = reindexer.status()["last_run"]
    assert (last["ok"], last["error"]) == (
        False,
        "searchsvc index was killed by SIGTERM; the previous index is still served.",
    )
    assert reindexer.status()["running"] is False


def test_a_run_refuses_to_start_while_another_process_runs_one(site, reindexer, reindex_log, held_run_lock):
    status_file = site[1] / STATUS_FILE
    status_file.write_text(json.dumps({"current": {"id": "0123456789ab", "started_at": "2030-01-01T00:00:00Z"}}))

    with pytest.raises(ReindexRunning) as caught:
        reindexer.start()
    reindexer.run_scheduled(full=True)

    assert str(caught.value) == (
        "A re-index is already running (run 0123456789ab, started 2030-01-01T00:00:00Z); "
        "try again when it has finished."
    )
    assert reindexer.status()["running"] is True
    [skipped] = events(reindex_log, "reindex_skipped")
    assert (skipped["level"], skipped["full"], skipped["reason"]) == (
        "warning",
        True,
        "a previous run is still running",
    )
    assert skipped["running"] == {"id": "0123456789ab", "started_at": "2030-01-01T00:00:00Z"}
    assert events(reindex_log, "reindex") == []


def test_a_run_left_behind_by_a_killed_server_is_not_reported_as_running(site, reindexer):
    (site[1] / STATUS_FILE).write_text(json.dumps({"current": {"id": "0123456789ab"}, "last_run": None}))
    (site[1] / SCHEDULE_FILE).write_text(json.dumps({"pid": 2**22 + 12345, "next_run": "2030-01-01T00:00:00Z"}))
    (site[1] / RUN_LOCK).touch()

    assert reindexer.status() == {"running": False, "current": None, "last_run": None, "next_run": None}


# -- the schedule -------------------------------------------------------------------------------


def test_a_schedule_fires_and_a_new_article_becomes_searchable_and_a_deleted_one_disappears(site, reindex_log):
    corpus, index = site
    client = create_app(test_config={"index_dir": str(index), "result_cache": 512}).test_client()
    assert client.get("/api/search?q=glaciers").get_json()["total"] == 0  # cached under gen-000001
    schedule = Schedule(Reindexer(settings_for(site, reindex_every="1s")))
    schedule.start()
    try:
        write(corpus, "a4", "Glaciers melt")
        found = wait_for(lambda: client.get("/api/search?q=glaciers").get_json()["total"] == 1, what="a4")
        (corpus / "a1.md").unlink()
        wait_for(lambda: client.get("/api/search?q=solar").get_json()["total"] == 0, what="a1 to go")
    finally:
        schedule.shutdown()
        schedule.reindexer.wait(30)  # let a run in progress finish rather than stop() it

    assert found
    assert client.get("/api/search?q=zebra").get_json()["total"] == 3
    assert client.get("/api/articles/https://news.example/a1").status_code == 404
    runs = events(reindex_log, "reindex")
    assert {run["trigger"] for run in runs} == {"schedule"}
    assert all(run["ok"] for run in runs)
    assert [run["report"]["generation"] for run in runs if run["report"]["added"] or run["report"]["deleted"]] == [
        "gen-000002",
        "gen-000003",
    ]
    assert not (index / SCHEDULE_FILE).exists()


def test_a_scheduled_run_still_going_when_the_next_is_due_is_skipped_and_logged(site, reindex_log):
    corpus, index = site
    write(corpus, "a4", "Glaciers melt")
    schedule = Schedule(Reindexer(settings_for(site, reindex_every="0.5s")))
    try:
        with BuildLock(index, timeout=5):  # the first run's subprocess waits here
            schedule.start()
            wait_for(lambda: len(events(reindex_log, "reindex_skipped")) >= 2, what="two skipped runs")
            assert events(reindex_log, "reindex") == []
            assert schedule.reindexer.status()["running"] is True
        wait_for(lambda: len(events(reindex_log, "reindex")) >= 2, what="two finished runs")
    finally:
        schedule.shutdown()
        schedule.reindexer.stop()

    skipped = events(reindex_log, "reindex_skipped")[0]
    assert (skipped["level"], skipped["job"], skipped["full"], skipped["reason"]) == (
        "warning",
        "reindex",
        False,
        "a previous run is still running",
    )
    runs = events(reindex_log, "reindex")
    assert runs[0]["report"]["added"] == 1 and runs[0]["ok"] is True
    spans = sorted((run["started_at"], run["finished_at"]) for run in runs)
    assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:], strict=False)), spans


# -- the admin API ------------------------------------------------------------------------------


def test_admin_reindex_is_off_without_a_token_and_says_how_to_turn_it_on(site):
    client = admin_app(site, admin_token="").test_client()

    response = client.post("/api/admin/reindex", headers={"Authorization": f"Bearer {TOKEN}"})

    assert (response.status_code, response.get_json()) == (404, error(404, DISABLED))
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "}])
def test_admin_reindex_without_a_token_is_401_with_a_bearer_challenge(site, headers):
    response = admin_app(site).test_client().post("/api/admin/reindex", headers=headers)

    assert (response.status_code, response.get_json()) == (401, error(401, NO_TOKEN))
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="searchsvc"'
    assert not (site[1] / STATUS_FILE).exists()


@pytest.mark.parametrize(
    "headers",
    [{"Authorization": "Bearer s3cret-tokeN"}, {"X-Admin-Token": "s3cret"}, {"Authorization": "Bearer s3cret-tökén"}],
)
def test_admin_reindex_with_a_wrong_token_is_403(site, headers):
    response = admin_app(site).test_client().post("/api/admin/reindex", headers=headers)

    assert (response.status_code, response.get_json()) == (403, error(403, WRONG_TOKEN))
    assert not (site[1] / STATUS_FILE).exists()


@pytest.mark.parametrize(
    "headers, query, body, full",
    [
        ({"Authorization": f"Bearer {TOKEN}"}, "", None, False),
        ({"authorization": f"bearer {TOKEN}"}, "?full=false", None, False),
        ({"X-Admin-Token": TOKEN}, "?full=true", None, True),
        ({"Authorization": f"Bearer {TOKEN}"}, "", {"full": True}, True),
    ],
)
def test_admin_reindex_with_the_token_starts_a_run_and_answers_202(site, reindex_log, headers, query, body, full):
    app = admin_app(site)

    response = app.test_client().post("/api/admin/reindex" + query, headers=headers, json=body)
    assert app.extensions["searchsvc.reindexer"].wait(30)

    data = response.get_json()
    assert (response.status_code, data["ok"], data["run"]["full"]) == (202, True, full)
    assert RUN_ID.match(data["run"]["id"])
    last = app.extensions["searchsvc.reindexer"].status()["last_run"]
    assert (last["id"], last["full"], last["trigger"], last["ok"]) == (data["run"]["id"], full, "api", True)
    assert last["report"]["added"] == (3 if full else 0)
    assert [line["id"] for line in events(reindex_log, "reindex")] == [data["run"]["id"]]


def test_admin_reindex_while_a_run_is_going_on_is_409(site, held_run_lock):
    response = admin_app(site).test_client().post("/api/admin/reindex", headers={"X-Admin-Token": TOKEN})

    message = "A re-index is already running; try again when it has finished."
    assert (response.status_code, response.get_json()) == (409, error(409, message))


@pytest.mark.parametrize(
    "query, body, status, message, parameter",
    [
        ("?full=maybe", None, 400, "Parameter 'full' must be true or false; got 'maybe'.", "full"),
        ("?fulll=true", None, 400, "Unknown parameter 'fulll'. Valid parameters: full.", "fulll"),
        ("?full=true", {"full": True}, 400, "Parameter 'full' was given 2 times; give it once.", "full"),
        ("", {"full": "yes please"}, 400, "Parameter 'full' must be true or false; got 'yes please'.", "full"),
        ("", {"quick": True}, 400, "Unknown field 'quick' in the request body. Valid fields: full.", "quick"),
        ("", [True], 400, 'The request body must be a JSON object such as {"full": true}, or empty.', "full"),
    ],
)
def test_admin_reindex_rejects_a_bad_full_parameter_or_body_with_400(site, query, body, status, message, parameter):
    client = admin_app(site).test_client()

    response = client.post("/api/admin/reindex" + query, headers={"X-Admin-Token": TOKEN}, json=body)

    assert (response.status_code, response.get_json()) == (status, error(status, message, parameter))
    assert not (site[1] / STATUS_FILE).exists()


def test_admin_reindex_answers_405_to_get_in_the_json_error_shape(site):
    response = admin_app(site).test_client().get("/api/admin/reindex")

    message = "GET is not allowed on /api/admin/reindex; use OPTIONS, POST."
    assert (response.status_code, response.get_json()) == (405, error(405, message))


# -- status in /api/stats, the footer and the OpenAPI description -------------------------------


def test_stats_report_the_last_run_the_next_one_and_the_generation_served(site):
    app = admin_app(site, reindex_every="1h")
    client = app.test_client()
    before = client.get("/api/stats")
    assert before.get_json()["reindex"] == {
        "running": False,
        "current": None,
        "last_run": None,
        "next_run": None,
        "schedule": {"every": "1h", "cron": None, "full_cron": None},
        "generation": "gen-000001",
    }
    schedule = Schedule(Reindexer(app.extensions["searchsvc.settings"]))
    schedule.start()
    try:
        run = client.post("/api/admin/reindex", headers={"X-Admin-Token": TOKEN}).get_json()["run"]
        assert app.extensions["searchsvc.reindexer"].wait(30)
        after = client.get("/api/stats", headers={"If-None-Match": before.headers["ETag"]})
        footer = " ".join(client.get("/").get_data(as_text=True).split("<footer")[1].split())
    finally:
        schedule.shutdown()

    reindex = after.get_json()["reindex"]
    last = reindex["last_run"]
    assert after.status_code == 200  # no new generation, but the status changed: a new ETag
    assert (reindex["running"], reindex["current"], reindex["generation"]) == (False, None, "gen-000001")
    assert ISO.match(reindex["next_run"])
    assert (last["id"], last["trigger"], last["ok"], last["error"]) == (run["id"], "api", True, None)
    assert (last["report"]["added"], last["report"]["unchanged"], last["report"]["generation"]) == (0, 3, "gen-000001")
    finished = nice_time(last["finished_at"])
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d UTC", finished)
    assert f'Last re-index <time datetime="{last["finished_at"]}">{finished}</time>: ok, 0 added, 0 updated, ' in footer
    assert f'0 deleted, 0 failed. Next <time datetime="{reindex["next_run"]}">' in footer


def test_the_footer_shows_a_failed_run_with_its_error(site):
    corpus, index = site
    app = admin_app(site, source=str(corpus / "missing"))
    app.test_client().post("/api/admin/reindex", headers={"X-Admin-Token": TOKEN})
    assert app.extensions["searchsvc.reindexer"].wait(30)

    html = app.test_client().get("/").get_data(as_text=True)
    footer = " ".join(re.sub(r"<[^>]+>", "", html.split("<footer")[1].split(">", 1)[1]).split())

    assert footer.startswith("Index generation gen-000001 · 3 documents Last re-index ")
    assert footer.endswith(
        # the page is public: the server's paths are cut to their last part
        "UTC: failed: searchsvc index failed with exit status 1: Error: Source missing does not "
        "exist. Give a folder of articles, e.g. &#39;searchsvc index seeds/&#39;. API"
    )


def test_stats_and_admin_answers_match_the_openapi_description(site):
    app = admin_app(site, reindex_every="1h")
    schedule = Schedule(Reindexer(app.extensions["searchsvc.settings"]))
    schedule.start()
    try:
        client = app.test_client()
        client.post("/api/admin/reindex?full=true", headers={"X-Admin-Token": TOKEN})
        app.extensions["searchsvc.reindexer"].wait(30)
        schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
        stats = schema["/api/stats"]["GET"].Case()
        started = schema["/api/admin/reindex"]["POST"].Case(headers={"X-Admin-Token": TOKEN}, query={"full": "false"})
        refused = schema["/api/admin/reindex"]["POST"].Case(headers={"X-Admin-Token": "wrong"})
        answers = [(case, case.call()) for case in (stats, started, refused)]
        app.extensions["searchsvc.reindexer"].wait(30)
    finally:
        schedule.shutdown()

    assert [response.status_code for _, response in answers] == [200, 202, 403]
    assert answers[0][1].json()["reindex"]["last_run"]["full"] is True
    for case, response in answers:
        case.validate_response(response, checks=[response_schema_conformance])
