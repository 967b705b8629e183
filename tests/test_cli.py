"""cli: the index, check and stats commands as a user runs them (click's CliRunner, real index)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import click
import pytest

from searchsvc import __version__
from searchsvc.cli import main
from searchsvc.engine.whoosh_engine.generations import BuildLock

BROKEN_LINE = "corpus/broken.md:4: YAML error: found character that cannot start any token"
SECONDS = r"\d+\.\d s"


@pytest.fixture
def small_corpus(runner, write_article, corpus):
    """Run from the folder holding ``corpus/``: 2 good files (3 articles, one without a date)
    and one broken file, so paths print as ``corpus/...``."""
    write_article("one.md", "One", "https://example.com/one", related=[("One related", "https://example.com/r")])
    write_article("two.md", "Two", "https://example.com/two", date=None, extra="provider: Reuters")
    (corpus / "broken.md").write_text("---\ntitle: Broken\nprovider:\n\tname: Tabs\n---\n", encoding="utf-8")
    return Path("corpus")


def output_lines(result) -> list[str]:
    return result.output.splitlines()


def assert_lines(lines: list[str], patterns: list[str]) -> None:
    """Each line equals its expected text; ``{s}`` stands for the build time (e.g. ``0.0 s``)."""
    assert len(lines) == len(patterns), lines
    for line, pattern in zip(lines, patterns, strict=True):
        regex = re.escape(pattern).replace(re.escape("{s}"), SECONDS)
        assert re.fullmatch(regex, line), f"{line!r} does not match {pattern!r}"


# --- index -----------------------------------------------------------------------------------


def test_index_prints_counts_generation_failures_and_warning_count(runner, small_corpus):
    result = runner.invoke(main, ["index", "corpus", "--index", "ix"])

    assert result.exit_code == 0, result.output
    assert_lines(
        output_lines(result),
        [
            "Full build: added 2, updated 0, unchanged 0, deleted 0, duplicates 0, failed 1.",
            "Index gen-000001: 3 documents (3 articles written) in {s}.",
            BROKEN_LINE,
            "1 warning (run with --verbose to list them).",
        ],
    )
    assert (Path("ix") / "CURRENT").read_text(encoding="utf-8") == "gen-000001\n"


def test_index_verbose_lists_every_warning(runner, small_corpus):
    result = runner.invoke(main, ["index", "corpus", "--index", "ix", "--verbose"])

    assert result.exit_code == 0, result.output
    lines = output_lines(result)
    assert re.fullmatch(r"Timings: scan \d+\.\d s, parse \d+\.\d s, write \d+\.\d s, publish \d+\.\d s\.", lines[3]), (
        lines[3]
    )
    assert lines[2:3] + lines[4:] == [
        BROKEN_LINE,
        "warning: corpus/two.md: no publishedDateTime; indexed without a date",
    ]


def test_index_strict_exits_1_when_a_file_failed(runner, small_corpus):
    result = runner.invoke(main, ["index", "corpus", "--index", "ix", "--strict"])

    assert result.exit_code == 1
    assert BROKEN_LINE in output_lines(result)
    assert (Path("ix") / "CURRENT").read_text(encoding="utf-8") == "gen-000001\n"


def test_index_strict_exits_0_when_nothing_failed(runner, small_corpus):
    Path("corpus/broken.md").unlink()

    result = runner.invoke(main, ["index", "corpus", "--index", "ix", "--strict"])

    assert result.exit_code == 0, result.output
    assert output_lines(result)[0] == (
        "Full build: added 2, updated 0, unchanged 0, deleted 0, duplicates 0, failed 0."
    )


def test_index_run_again_reports_an_update_with_everything_unchanged(runner, small_corpus):
    runner.invoke(main, ["index", "corpus", "--index", "ix"])

    result = runner.invoke(main, ["index", "corpus", "--index", "ix", "--strict"])

    assert result.exit_code == 1
    assert_lines(
        output_lines(result),
        [
            "Update: added 0, updated 0, unchanged 3, deleted 0, duplicates 0, failed 1.",
            "Index gen-000001: 3 documents (0 articles written) in {s}.",
            BROKEN_LINE,
        ],
    )


def test_index_full_rebuilds_into_a_new_generation(runner, small_corpus):
    runner.invoke(main, ["index", "corpus", "--index", "ix"])

    result = runner.invoke(main, ["index", "corpus", "--index", "ix", "--full"])

    assert result.exit_code == 0, result.output
    assert_lines(
        output_lines(result)[:2],
        [
            "Full build: added 2, updated 0, unchanged 0, deleted 0, duplicates 0, failed 1.",
            "Index gen-000002: 3 documents (3 articles written) in {s}.",
        ],
    )


def test_index_reads_source_and_index_from_the_environment(runner, small_corpus, monkeypatch):
    monkeypatch.setenv("SEARCHSVC_SOURCE", "corpus")
    monkeypatch.setenv("SEARCHSVC_INDEX_DIR", "from-env")

    result = runner.invoke(main, ["index"])

    assert result.exit_code == 0, result.output
    assert (Path("from-env") / "CURRENT").is_file()


def test_index_of_a_missing_source_is_a_clear_error(runner):
    result = runner.invoke(main, ["index", "no-such-folder", "--index", "ix"])

    assert result.exit_code == 1
    assert result.output == (
        "Error: Source no-such-folder does not exist. Give a folder of articles, e.g. 'searchsvc index seeds/'.\n"
    )
    assert not Path("ix").exists()


def test_index_with_a_bad_setting_names_it(runner, small_corpus, monkeypatch):
    monkeypatch.setenv("SEARCHSVC_LOCK_TIMEOUT", "soon")

    result = runner.invoke(main, ["index", "corpus", "--index", "ix"])

    assert result.exit_code == 1
    assert result.output == "Error: Setting lock_timeout in SEARCHSVC_LOCK_TIMEOUT must be float, got 'soon'.\n"


def test_index_while_another_build_holds_the_lock_is_a_clear_error(runner, small_corpus):
    with BuildLock("ix"):
        result = runner.invoke(main, ["index", "corpus", "--index", "ix", "--lock-timeout", "0"])

    assert result.exit_code == 1
    assert re.fullmatch(
        rf"Error: Another build holds ix/build\.lock \(pid {os.getpid()} on \S+ since [0-9: -]+\); "
        r"waited 0 s\. Wait for it to finish, or raise --lock-timeout\.\n",
        result.output,
    )
    assert not (Path("ix") / "CURRENT").exists()


# --- check -----------------------------------------------------------------------------------


def test_check_prints_the_report_and_writes_nothing(runner, small_corpus):
    result = runner.invoke(main, ["check", "corpus"])

    assert result.exit_code == 0, result.output
    assert output_lines(result) == [
        "Checked 3 files: 2 ok, 0 duplicates, 1 failed.",
        BROKEN_LINE,
        "1 warning (run with --verbose to list them).",
    ]
    assert sorted(p.name for p in Path(".").iterdir()) == ["corpus"]


def test_check_strict_exits_1_when_a_file_failed(runner, small_corpus):
    result = runner.invoke(main, ["check", "corpus", "--strict"])

    assert result.exit_code == 1
    assert output_lines(result)[:2] == ["Checked 3 files: 2 ok, 0 duplicates, 1 failed.", BROKEN_LINE]


def test_check_strict_exits_0_for_a_clean_corpus(runner, small_corpus):
    Path("corpus/broken.md").unlink()

    result = runner.invoke(main, ["check", "corpus", "--strict", "--verbose"])

    assert result.exit_code == 0, result.output
    assert output_lines(result) == [
        "Checked 2 files: 2 ok, 0 duplicates, 0 failed.",
        "warning: corpus/two.md: no publishedDateTime; indexed without a date",
    ]


def test_check_counts_duplicates(runner, write_article):
    write_article("a.md", "A", "https://example.com/same")
    write_article("b.md", "B", "https://example.com/same")

    result = runner.invoke(main, ["check", "corpus"])

    assert output_lines(result) == ["Checked 2 files: 2 ok, 1 duplicates, 0 failed."]


def test_check_of_a_missing_source_is_a_clear_error(runner):
    result = runner.invoke(main, ["check", "nowhere"])

    assert result.exit_code == 1
    assert result.output == (
        "Error: Source nowhere does not exist. Give a folder of articles, e.g. 'searchsvc index seeds/'.\n"
    )


def test_check_without_a_source_is_a_usage_error(runner):
    result = runner.invoke(main, ["check"])

    assert result.exit_code == 2
    assert "Error: Missing argument 'SOURCES...'." in result.output


# --- stats -----------------------------------------------------------------------------------


def test_stats_shows_documents_generation_last_build_and_providers(runner, small_corpus):
    runner.invoke(main, ["index", "corpus", "--index", "ix"])

    result = runner.invoke(main, ["stats", "--index", "ix"])

    assert result.exit_code == 0, result.output
    lines = output_lines(result)
    assert lines[:3] == ["Index:       ix", "Generation:  gen-000001", "Documents:   3"]
    assert re.fullmatch(r"Built:       \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 in \d+\.\d s", lines[3])
    assert lines[4] == "Last build:  added 2, updated 0, unchanged 0, deleted 0, duplicates 0, failed 1"
    assert re.fullmatch(r"Size:        \d+\.\d MB", lines[5])
    assert lines[6:] == ["Top providers:", "         2  (none)", "         1  Reuters"]


def test_stats_json_has_the_document_count(runner, small_corpus):
    runner.invoke(main, ["index", "corpus", "--index", "ix"])

    result = runner.invoke(main, ["stats", "--index", "ix", "--json"])

    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    assert (stats["documents"], stats["files"], stats["generation"]) == (3, 3, "gen-000001")
    assert stats["top_providers"] == [["", 2], ["Reuters", 1]]
    assert stats["report"]["failures"] == [BROKEN_LINE]


def test_stats_puts_thousands_separators_in_the_document_and_provider_counts(runner, write_article):
    related = [(f"Related {n}", f"https://example.com/r{n}") for n in range(1000)]
    write_article("big.md", "Big", "https://example.com/big", related=related)
    runner.invoke(main, ["index", "corpus", "--index", "ix"])

    result = runner.invoke(main, ["stats", "--index", "ix"])

    assert result.exit_code == 0, result.output
    lines = output_lines(result)
    assert lines[2] == "Documents:   1,001"
    assert lines[6:] == ["Top providers:", "     1,001  (none)"]


def test_stats_without_an_index_names_the_absolute_folder_and_the_commands_that_build_it(runner):
    result = runner.invoke(main, ["stats", "--index", "ix"])

    assert result.exit_code == 1
    assert result.output == (
        f"Error: No index at {Path.cwd() / 'ix'}. Build one with 'searchsvc index seeds --index ix' "
        "(or start 'searchsvc serve --index ix', which builds it).\n"
    )


def test_no_index_message_quotes_folders_with_spaces_and_names_the_configured_sources(runner, monkeypatch):
    monkeypatch.setenv("SEARCHSVC_SOURCE", "my news")

    result = runner.invoke(main, ["stats", "--index", "new index"])

    assert result.exit_code == 1
    assert result.output == (
        f"Error: No index at {Path.cwd() / 'new index'}. Build one with "
        '\'searchsvc index "my news" --index "new index"\' '
        "(or start 'searchsvc serve --index \"new index\"', which builds it).\n"
    )


# --- search --published ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "titles"),
    [
        ((), ["1. Draft", "2. Live", "3. Unmarked"]),
        (("--published",), ["1. Live"]),
        (("--unpublished",), ["1. Draft"]),
    ],
)
def test_search_published_and_unpublished_filter_on_the_published_field(runner, write_article, flag, titles):
    write_article("live.md", "Live", "https://example.com/live", extra="published: true")
    write_article("draft.md", "Draft", "https://example.com/draft", extra="published: false")
    write_article("unmarked.md", "Unmarked", "https://example.com/unmarked")
    runner.invoke(main, ["index", "corpus", "--index", "ix"])

    result = runner.invoke(main, ["search", "--index", "ix", "--sort", "oldest", "--facets", "none", *flag])

    assert result.exit_code == 0, result.output
    assert [line for line in output_lines(result) if re.match(r"\d+\. ", line)] == titles


# --- help and version ------------------------------------------------------------------------


def test_version_option_prints_the_version(runner):
    result = runner.invoke(main, ["--version"])
    assert (result.exit_code, result.output) == (0, f"searchsvc, version {__version__}\n")


def test_main_help_lists_the_commands(runner):
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in ("index", "check", "stats"):
        assert re.search(rf"^  {name}\s+\S", result.output, re.M), f"{name} missing from --help"


def test_dash_h_prints_the_main_help(runner):
    result = runner.invoke(main, ["-h"])

    assert result.exit_code == 0, result.output
    assert result.output == runner.invoke(main, ["--help"]).output
    assert "  -h, --help " in result.output


@pytest.mark.parametrize("command", sorted(main.commands))
def test_dash_h_prints_each_commands_help(runner, command):
    result = runner.invoke(main, [command, "-h"])

    assert result.exit_code == 0, result.output
    assert result.output == runner.invoke(main, [command, "--help"]).output
    assert result.output.startswith(f"Usage: main {command} ")


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_option_of_every_command_has_help_text(command):
    options = [p for p in main.commands[command].params if isinstance(p, click.Option)]

    assert [option.name for option in options if not option.help] == []


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_has_help(runner, command):
    result = runner.invoke(main, [command, "--help"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: main {command} ")
    assert main.commands[command].help, f"'{command}' has no help text"
