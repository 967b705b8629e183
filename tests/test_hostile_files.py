"""Hostile and broken source files: names that are not UTF-8, huge or pathological files, YAML
bombs, secrets in error messages, script URLs, unreadable folders, links out of the source and
absolute source paths. Each is reported with its path while the rest is indexed."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import searchsvc
from searchsvc.cli import main
from searchsvc.indexer import build_index, check_sources
from searchsvc.report import DocumentFailure

SECRET = "TOPSECRET=="


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def article(title: str, extra: str = "", body: str = "Body text.") -> str:
    return f"---\ntitle: {title}\npublishedDateTime: 2022-07-11T00:18:00Z\n{extra}---\n{body}\n"


# --- 3. a file name that is not UTF-8 --------------------------------------------------------


def write_latin1_name(corpus: Path) -> str:
    """Writes corpus/caf\\xe9.md (a Latin-1 name) and returns its path as the report shows it."""
    name = os.fsencode(corpus) + b"/caf\xe9.md"
    with open(name, "wb") as out:
        out.write(article("Cafe").encode())
    return f"{corpus}/caf\\xe9.md"


def test_file_name_that_is_not_utf8_is_reported_and_the_rest_indexed(corpus, index_dir, stored):
    write(corpus / "ok.md", article("Ok"))
    shown = write_latin1_name(corpus)

    report = build_index([corpus], index_dir)

    assert report.counts_line() == "added 1, updated 0, unchanged 0, deleted 0, duplicates 0, failed 1"
    assert report.failures == [
        DocumentFailure(shown, "file name is not UTF-8; it is skipped. Rename it (e.g. with convmv) to index it")
    ]
    assert sorted(stored(index_dir)) == ["corpus/ok.md"]


def test_file_name_that_is_not_utf8_does_not_stop_later_updates_from_indexing_new_articles(corpus, index_dir, stored):
    write(corpus / "ok.md", article("Ok"))
    build_index([corpus], index_dir)
    write_latin1_name(corpus)
    write(corpus / "new.md", article("New"))

    report = build_index([corpus], index_dir)

    assert report.counts_line() == "added 1, updated 0, unchanged 1, deleted 0, duplicates 0, failed 1"
    assert sorted(stored(index_dir)) == ["corpus/new.md", "corpus/ok.md"]


def test_folder_name_that_is_not_utf8_is_reported_once_and_its_files_skipped(corpus, index_dir):
    folder = os.fsencode(corpus) + b"/d\xe9p\xf4t"
    os.mkdir(folder)
    with open(folder + b"/a.md", "wb") as out:
        out.write(article("A").encode())
    write(corpus / "ok.md", article("Ok"))

    report = build_index([corpus], index_dir)

    assert [str(f) for f in report.failures] == [
        f"{corpus}/d\\xe9p\\xf4t: folder name is not UTF-8; its files are skipped. Rename it (e.g. with convmv) "
        "to index it"
    ]
    assert report.articles == 1


# --- 5. every per-file cost is bounded --------------------------------------------------------


def test_a_megabyte_of_unclosed_script_tags_is_indexed_within_seconds(corpus, index_dir, stored):
    write(corpus / "script.md", article("Scripts", body="<script x " * 100_000))
    started = time.monotonic()

    report = build_index([corpus], index_dir)

    # quadratic cleaning took 31 s for 160 KB (hours for this megabyte); linear, well under a second
    assert time.monotonic() - started < 30
    assert (report.failed, report.articles) == (0, 1)
    assert stored(index_dir)["corpus/script.md"]["title"] == "Scripts"


def test_first_line_heading_followed_by_200_000_spaces_is_read_within_seconds(corpus, index_dir, stored):
    write(corpus / "heading.md", "# Heading" + " " * 200_000 + "end #\nBody text.\n")
    started = time.monotonic()

    build_index([corpus], index_dir)

    assert time.monotonic() - started < 30
    assert stored(index_dir)["corpus/heading.md"]["title"] == "Heading end"


def test_file_larger_than_max_file_bytes_is_reported_with_its_size_and_skipped(corpus, index_dir, stored):
    write(corpus / "small.md", article("Small"))
    write(corpus / "big.md", article("Big", body="x" * 200))

    report = build_index([corpus], index_dir, max_file_bytes=150)

    assert report.failures == [
        DocumentFailure(
            str(corpus / "big.md"),
            "file is 260 bytes, larger than the max_file_bytes setting (150 bytes); skipped. "
            "Raise max_file_bytes to index it",
        )
    ]
    assert sorted(stored(index_dir)) == ["corpus/small.md"]


def test_raising_max_file_bytes_indexes_a_skipped_file_on_the_next_update(corpus, index_dir, stored):
    write(corpus / "big.md", article("Big", body="x" * 200))
    build_index([corpus], index_dir, max_file_bytes=150)

    report = build_index([corpus], index_dir, max_file_bytes=1000)

    assert report.counts_line() == "added 0, updated 1, unchanged 0, deleted 0, duplicates 0, failed 0"
    assert sorted(stored(index_dir)) == ["corpus/big.md"]


def _growing_after_stat(monkeypatch, path: Path, extra: bytes) -> None:
    """Append ``extra`` to ``path`` right after its first stat: a file that grows between the stat
    the reader sizes its read by and the read itself (a feed writing it as it is indexed)."""
    real_stat, grown = os.stat, []

    def stat_then_grow(target, *args, **kwargs):
        info = real_stat(target, *args, **kwargs)
        if os.fspath(target) == str(path) and not grown:
            grown.append(True)
            with open(path, "ab") as out:
                out.write(extra)
        return info

    monkeypatch.setattr(os, "stat", stat_then_grow)


def test_a_file_that_grows_while_it_is_read_is_read_whole_up_to_max_file_bytes(tmp_path, monkeypatch):
    from searchsvc.parsing import read_and_parse

    path = write(tmp_path / "growing.md", article("Growing", body="First part."))
    _growing_after_stat(monkeypatch, path, b"Second part, written later.\n")

    parsed = read_and_parse((str(path), (str(path), "growing.md", 1000)))

    assert parsed.failure is None
    assert parsed.articles[0].body == "First part. Second part, written later."
    assert parsed.size < len(path.read_bytes())  # the size found by the stat, before it grew


def test_a_file_that_grows_past_max_file_bytes_while_it_is_read_is_reported_and_skipped(tmp_path, monkeypatch):
    from searchsvc.parsing import read_and_parse

    path = write(tmp_path / "growing.md", article("Growing", body="First part."))
    _growing_after_stat(monkeypatch, path, b"x" * 500)

    parsed = read_and_parse((str(path), (str(path), "growing.md", 150)))

    assert parsed.articles == []
    assert parsed.failure == DocumentFailure(
        str(path),
        "file is 151 bytes, larger than the max_file_bytes setting (150 bytes); skipped. "
        "Raise max_file_bytes to index it",
    )


def test_index_command_takes_max_file_bytes_from_the_environment(runner, tmp_path):
    corpus = tmp_path / "news"
    write(corpus / "big.md", article("Big", body="x" * 200))

    result = runner.invoke(main, ["index", "news"], env={"SEARCHSVC_MAX_FILE_BYTES": "150"})

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[2] == (
        "news/big.md: file is 260 bytes, larger than the max_file_bytes setting (150 bytes); skipped. "
        "Raise max_file_bytes to index it"
    )


def billion_laughs() -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 9)}]")
    return "---\n" + "\n".join(lines) + "\ntitle: *a9\n---\nBody.\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            billion_laughs(),
            " YAML error: the front matter expands to more than 1,000,000 values (aliases that repeat aliases); "
            "write the values out or shorten it",
        ),
        ("---\ntitle: " + "[" * 10_000 + "\n---\n", "2: YAML error: exceeded maximum nesting depth"),
        (
            "---\ntitle: " + "[" * 999 + "]" * 999 + "\n---\n",
            " front matter is nested too deeply to read (hundreds of levels); flatten it",
        ),
    ],
    ids=["billion-laughs", "10000-brackets", "999-levels"],
)
def test_yaml_bomb_fails_that_file_with_a_reason_and_the_rest_is_indexed(corpus, index_dir, stored, text, expected):
    write(corpus / "bomb.md", text)
    write(corpus / "ok.md", article("Ok"))
    started = time.monotonic()

    report = build_index([corpus], index_dir)

    assert time.monotonic() - started < 30  # the alias bomb never finished
    assert [str(f) for f in report.failures] == [f"{corpus / 'bomb.md'}:{expected}"]
    assert sorted(stored(index_dir)) == ["corpus/ok.md"]


# --- 9. secured never shows, not even in errors -----------------------------------------------


def test_secured_value_appears_nowhere_even_when_it_cannot_be_read(runner, tmp_path):
    write(tmp_path / "news/int.md", article("Int", f'secured: !!int "{SECRET}"\n'))
    write(tmp_path / "news/float.md", article("Float", f"secured: !!float {SECRET}\n"))
    related = f"related:\n  - title: Rel\n    webUrl: https://example.com/r\n    secured: !!int {SECRET}\n"
    write(tmp_path / "news/related.md", article("Related", related))
    write(tmp_path / "news/escaped.md", article("Escaped", f'"\\x73ecured": !!int {SECRET}\n'))
    write(tmp_path / "news/anchor.md", article("Anchor", f"x: &s {{secured: !!int {SECRET}}}\ny:\n  <<: *s\n"))
    write(tmp_path / "news/broken.md", article("Broken", f"secured: {SECRET}\nquality: !!int abc\n"))

    outputs = [
        runner.invoke(main, ["index", "news", "--json"]).output,
        runner.invoke(main, ["index", "news", "--full", "-v"]).output,
        runner.invoke(main, ["check", "news", "-v"]).output,
    ]

    report = json.loads(outputs[0])
    assert (report["added"], report["failures"]) == (
        5,
        ["news/broken.md: YAML error: a value cannot be read (invalid literal for int() with base 10: 'abc')"],
    )
    assert not [out for out in outputs if SECRET in out]
    files = [p for p in (tmp_path / "index").rglob("*") if p.is_file()]
    assert len(files) > 5
    assert [p for p in files if SECRET.encode() in p.read_bytes()] == []


# --- 10. only http(s) URLs go out ----------------------------------------------------------------


def test_javascript_urls_are_dropped_with_a_warning_and_the_id_falls_back_to_the_path(corpus, index_dir, stored):
    extra = (
        "webUrl: javascript://example.com/%0Aalert(1)\n"
        "originalUrl: JavaScript://example.com/%0Aalert(2)\n"
        "images:\n  - url: javascript://example.com/%0Aalert(3)\n"
    )
    write(corpus / "js.md", article("Script links", extra))

    report = build_index([corpus], index_dir)

    doc = stored(index_dir)["corpus/js.md"]
    assert (doc.get("url", ""), doc.get("image", "")) == ("", "")
    path = corpus / "js.md"
    assert report.warnings == [
        f"{path}: webUrl has the scheme 'javascript': only http and https URLs are kept; dropped",
        f"{path}: originalUrl has the scheme 'javascript': only http and https URLs are kept; dropped",
        f"{path}: image has the scheme 'javascript': only http and https URLs are kept; dropped",
    ]


# --- 13. a folder that cannot be read ---------------------------------------------------------


def _without_read_override() -> None:
    """In the child: drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the bounding set, so that
    root, after exec, obeys file permissions like any user (CI runs as root)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return run_python(["-m", "searchsvc", *args], cwd)


def run_python(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEARCHSVC_")}
    env["PYTHONPATH"] = str(Path(searchsvc.__file__).parents[1])  # the searchsvc under test
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_without_read_override if os.geteuid() == 0 else None,
    )


@pytest.fixture
def unreadable(tmp_path: Path):
    """Makes a folder unreadable (chmod 000) for the processes run_cli starts; restores it after."""
    folders: list[Path] = []

    def lock(folder: Path) -> None:
        folder.chmod(0)
        folders.append(folder)
        try:
            probe = run_python(["-c", f"import os; os.listdir({str(folder)!r})"], tmp_path)
        except OSError as exc:
            pytest.skip(f"cannot run a process that obeys chmod 000 (as root, dropping CAP_DAC_OVERRIDE failed: {exc})")
        if "PermissionError" not in probe.stderr:
            pytest.skip("chmod 000 does not stop reading here (root without CAP_SETPCAP?): no unreadable folder")

    yield lock
    for folder in folders:
        folder.chmod(0o755)


def test_unreadable_folder_is_reported_and_on_an_update_its_articles_are_kept(tmp_path, unreadable):
    write(tmp_path / "news/top.md", article("Top"))
    write(tmp_path / "news/sub/inner.md", article("Inner"))
    first = run_cli(["index", "news", "--json"], tmp_path)
    assert json.loads(first.stdout)["documents"] == 2, first.stderr
    write(tmp_path / "news/new.md", article("New"))
    unreadable(tmp_path / "news/sub")

    update = json.loads(run_cli(["index", "news", "--json"], tmp_path).stdout)

    assert (update["added"], update["unchanged"], update["deleted"], update["documents"]) == (1, 2, 0, 3)
    assert update["failures"] == [
        "news/sub/: cannot read folder (Permission denied); its files were skipped, and an update keeps what was "
        "indexed from them before. Make it readable and index again"
    ]


def test_unreadable_folder_is_reported_on_a_full_build_and_the_rest_indexed(tmp_path, unreadable):
    write(tmp_path / "news/top.md", article("Top"))
    write(tmp_path / "news/sub/inner.md", article("Inner"))
    unreadable(tmp_path / "news/sub")

    report = json.loads(run_cli(["index", "news", "--json", "--full"], tmp_path).stdout)

    assert (report["added"], report["failed"], report["documents"]) == (1, 1, 1)
    assert report["failures"][0].startswith("news/sub/: cannot read folder (Permission denied)")


# --- 14. links that leave the source ----------------------------------------------------------


def test_symlink_to_a_file_outside_the_source_is_not_indexed_and_is_reported(corpus, tmp_path, index_dir, stored):
    outside = write(tmp_path / "private/passwd.txt", "root:x:0:0:root:/root:/bin/bash\n")
    write(corpus / "ok.md", article("Ok"))
    (corpus / "p.txt").symlink_to(outside)
    (corpus / "inside.md").symlink_to(corpus / "ok.md")
    (corpus / "loop").symlink_to(corpus)

    report = build_index([corpus], index_dir)

    assert report.warnings == [
        f"{corpus / 'p.txt'}: a link to {outside}, outside the source folders; not followed "
        "(set follow_external_links = true to follow such links)"
    ]
    assert sorted(stored(index_dir)) == ["corpus/inside.md", "corpus/ok.md"]


def test_symlink_outside_the_source_is_indexed_with_follow_external_links(corpus, tmp_path, index_dir, stored):
    outside = write(tmp_path / "shared/story.md", article("Shared"))
    (corpus / "story.md").symlink_to(outside)

    report = build_index([corpus], index_dir, follow_external_links=True)

    assert report.warnings == []
    assert sorted(stored(index_dir)) == ["corpus/story.md"]


def test_check_command_reports_a_link_out_of_the_source(runner, tmp_path):
    write(tmp_path / "private/passwd.txt", "root:x:0:0:root:/root:/bin/bash\n")
    write(tmp_path / "news/ok.md", article("Ok"))
    (tmp_path / "news/p.txt").symlink_to(tmp_path / "private/passwd.txt")

    result = runner.invoke(main, ["check", "news", "-v"])

    assert result.output.splitlines() == [
        "Checked 1 files: 1 ok, 0 duplicates, 0 failed.",
        f"warning: news/p.txt: a link to {tmp_path / 'private/passwd.txt'}, outside the source folders; "
        "not followed (set follow_external_links = true to follow such links)",
    ]


# --- 16b. ids of articles without a URL ------------------------------------------------------


def test_article_without_url_has_the_same_id_whether_its_source_is_given_absolute_or_relative(
    tmp_path, monkeypatch, stored
):
    write(tmp_path / "news/sub/a.md", article("A", "related:\n  - title: Rel\n"))
    monkeypatch.chdir(tmp_path)

    build_index(["news"], tmp_path / "relative")
    build_index([str(tmp_path / "news")], tmp_path / "absolute")
    build_index([str(tmp_path / "news/sub/a.md")], tmp_path / "file")

    assert sorted(stored(tmp_path / "relative")) == ["news/sub/a.md", "news/sub/a.md#related[0]"]
    assert sorted(stored(tmp_path / "absolute")) == ["news/sub/a.md", "news/sub/a.md#related[0]"]
    assert sorted(stored(tmp_path / "file")) == ["a.md", "a.md#related[0]"]


def test_check_sources_counts_scan_failures_apart_from_file_results(corpus):
    write(corpus / "ok.md", article("Ok"))
    write_latin1_name(corpus)

    report = check_sources([corpus])

    assert (report.added, report.failed) == (1, 1)
