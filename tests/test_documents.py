"""documents: reading article files (front matter, plain text, Markdown) and finding them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

import pytest

from searchsvc.documents import Article, iter_article_paths, parse_article
from searchsvc.errors import DocumentError

REFERENCE = Path(__file__).resolve().parents[1] / "seeds" / "000_0b299f2cb35e1191.txt"
# The shared corpora sit beside the checkout (in CI as well), at ../shared.
SHARED = Path(__file__).resolve().parents[2] / "shared"
PARENT_URL = "https://techstory.in/minneapolis-poised-to-ban-facial-recognition-for-police-use/"
CHILD_URL = (
    "https://theprint.in/india/dna-fingerprints-facial-recognition-used-to-probe-riots-cases-"
    "says-delhi-police-chief/608235/"
)
SECURED_PREFIX = "NELWcwY2hqFZRPcxBAnqOA2mrouDwuK"
SMARTABLE_NEWS = SHARED / "corpora" / "smartable-powerapps-news" / "_news"


def parse_bytes(tmp_path: Path, data: bytes, name: str = "article.md"):
    path = tmp_path / name
    path.write_bytes(data)
    return parse_article(path)


def parse_error(tmp_path: Path, data: bytes, name: str = "article.md") -> DocumentError:
    with pytest.raises(DocumentError) as caught:
        parse_bytes(tmp_path, data, name)
    assert caught.value.path == str(tmp_path / name)
    return caught.value


def all_values(value: object):
    """Every key and leaf value inside a (nested) asdict() result."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from all_values(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from all_values(item)
    else:
        yield value


# --- the reference article -------------------------------------------------------------------


def test_reference_article_yields_itself_and_its_related_article():
    parsed = parse_article(REFERENCE)

    assert [a.id for a in parsed.articles] == [PARENT_URL, CHILD_URL]
    parent, child = parsed.articles
    assert parent.related_to == ""
    assert parent.related_ids == [CHILD_URL]
    assert child.related_to == PARENT_URL
    assert child.related_ids == []
    assert parsed.warnings == []


def test_reference_article_fields_are_normalised():
    parent, child = parse_article(REFERENCE).articles

    assert parent == Article(
        id=PARENT_URL,
        path=str(REFERENCE),
        title="Minneapolis poised to ban facial recognition for police use",
        excerpt=(
            "Minneapolis cast a ballot to boycott the utilization of facial acknowledgment "
            "programming for its police officers on Friday according to reports."
        ),
        body="",
        published_at=dt.datetime(2021, 2, 16, 3, 47, tzinfo=dt.UTC),
        provider="tech",
        domain="techstory.in",
        topics=["Computer Vision", "AI"],
        category="news",
        type="article",
        published=False,
        quality=39,
        heat=-1,
        url=PARENT_URL,
        original_url=PARENT_URL,
        image="https://techstory.in/wp-content/uploads/2021/02/4645.jpg",
        related_to="",
        related_ids=[CHILD_URL],
    )
    assert child.title == "DNA fingerprints, facial recognition used to probe riots cases, says Delhi Police chief"
    assert child.provider == "ThePrint"
    assert child.domain == "theprint.in"
    assert child.quality == 51
    assert child.heat is None
    assert child.published is None
    assert child.published_at == dt.datetime(2021, 2, 19, 13, 54, tzinfo=dt.UTC)
    assert child.image == "https://static.theprint.in/wp-content/uploads/2020/03/cars.jpg"
    assert child.path == str(REFERENCE)


def test_reference_related_excerpt_has_its_mojibake_repaired():
    child = parse_article(REFERENCE).articles[1]

    assert child.excerpt == (
        "Commissioner S N Shrivastava said 231 accused were arrested on the basis of CCTV footage, "
        "137 identified through Facial Recognition System & 94 through driving license photographs."
    )
    assert "Â" not in child.excerpt


def test_reference_article_secured_blob_appears_in_no_field():
    assert SECURED_PREFIX in REFERENCE.read_text(encoding="utf-8")
    for article in parse_article(REFERENCE).articles:
        assert "secured" not in {f.name for f in dataclasses.fields(article)}
        for value in all_values(dataclasses.asdict(article)):
            text = str(value)
            assert "secured" not in text.lower()
            assert SECURED_PREFIX not in text
            assert "KNpeRqgjMjLPvyKESNLSCQ" not in text


@pytest.mark.skipif(
    not SMARTABLE_NEWS.is_dir(),
    reason=f"shared corpus not found at {SMARTABLE_NEWS} (it sits beside the checkout in CI)",
)
def test_every_smartable_news_file_parses_without_a_document_error():
    paths = list(iter_article_paths([SMARTABLE_NEWS]))
    assert len(paths) == 192

    failures = []
    for path in paths:
        try:
            parsed = parse_article(path)
        except DocumentError as exc:
            failures.append(str(exc))
            continue
        assert parsed.articles[0].title
    assert failures == []


# --- front-matter values ---------------------------------------------------------------------


def test_provider_given_as_a_bare_string_is_the_provider_name(tmp_path):
    parsed = parse_bytes(tmp_path, b"---\ntitle: T\nprovider: Reuters\nwebUrl: https://www.reuters.com/world/x\n---\n")
    article = parsed.articles[0]
    assert article.provider == "Reuters"
    assert article.domain == "reuters.com"


def test_missing_provider_domain_is_derived_from_web_url_without_www(tmp_path):
    data = b"---\ntitle: T\nprovider:\n  name: BBC\nwebUrl: https://WWW.BBC.co.uk/news/a\n---\n"
    article = parse_bytes(tmp_path, data).articles[0]
    assert article.provider == "BBC"
    assert article.domain == "bbc.co.uk"
    assert article.id == "https://www.bbc.co.uk/news/a"


def test_provider_domain_with_www_is_stripped(tmp_path):
    data = b"---\ntitle: T\nprovider:\n  name: X\n  domain: www.Example.com\n---\n"
    assert parse_bytes(tmp_path, data).articles[0].domain == "example.com"


def test_topics_given_as_a_single_string_become_a_one_item_list(tmp_path):
    data = b"---\ntitle: T\ntopics: AI\n---\n"
    assert parse_bytes(tmp_path, data).articles[0].topics == ["AI"]


def test_topics_as_mappings_are_deduplicated_in_order(tmp_path):
    data = b"---\ntitle: T\ntopics:\n  - name: AI\n  - Robots\n  - name: AI\n---\n"
    assert parse_bytes(tmp_path, data).articles[0].topics == ["AI", "Robots"]


def test_quality_that_is_not_a_number_is_dropped_with_a_warning_naming_the_field(tmp_path):
    data = b"---\ntitle: T\nquality: abc\npublishedDateTime: 2022-07-11\n---\n"
    parsed = parse_bytes(tmp_path, data)
    assert parsed.articles[0].quality is None
    assert parsed.warnings == [f"{tmp_path / 'article.md'}: quality 'abc' is not a number; ignored"]


def test_missing_date_is_indexed_without_a_date_and_warned(tmp_path):
    parsed = parse_bytes(tmp_path, b"---\ntitle: T\n---\n")
    assert parsed.articles[0].published_at is None
    assert parsed.warnings == [f"{tmp_path / 'article.md'}: no publishedDateTime; indexed without a date"]


def test_unparseable_date_is_indexed_without_a_date_and_warned(tmp_path):
    parsed = parse_bytes(tmp_path, b"---\ntitle: T\npublishedDateTime: last Tuesday\n---\n")
    assert parsed.articles[0].published_at is None
    assert parsed.warnings == [
        f"{tmp_path / 'article.md'}: publishedDateTime 'last Tuesday' is not a date; indexed without a date"
    ]


def test_related_entry_warnings_name_the_entry(tmp_path):
    data = (
        b"---\ntitle: T\npublishedDateTime: 2022-07-11\nrelated:\n"
        b"  - title: R\n    webUrl: https://e.com/r\n    heat: hot\n---\n"
    )
    parsed = parse_bytes(tmp_path, data)
    path = tmp_path / "article.md"
    assert parsed.warnings == [
        f"{path}: related[0].no publishedDateTime; indexed without a date",
        f"{path}: related[0].heat 'hot' is not a number; ignored",
    ]


def test_related_entry_without_a_title_is_skipped_with_a_warning(tmp_path):
    data = b"---\ntitle: T\npublishedDateTime: 2022-07-11\nrelated:\n  - webUrl: https://e.com/r\n---\n"
    parsed = parse_bytes(tmp_path, data)
    assert [a.title for a in parsed.articles] == ["T"]
    assert parsed.articles[0].related_ids == []
    assert parsed.warnings[-1].startswith(f"{tmp_path / 'article.md'}: related[0] skipped: no title")


def test_body_truncation_marker_is_removed(tmp_path):
    data = "---\ntitle: T\n---\nThe plan goes ahead, officials said… [+4857 chars]\n".encode()
    assert parse_bytes(tmp_path, data).articles[0].body == "The plan goes ahead, officials said"


def test_article_without_url_is_identified_by_its_path(tmp_path):
    article = parse_bytes(tmp_path, b"---\ntitle: T\n---\n").articles[0]
    assert article.id == str(tmp_path / "article.md")
    assert article.url == ""


# --- titles from the body --------------------------------------------------------------------


def test_plain_text_file_without_front_matter_takes_its_first_line_as_title(tmp_path):
    data = b"\n\n  Storm closes schools  \nSchools closed on Monday.\nMore later.\n"
    article = parse_bytes(tmp_path, data, "story.txt").articles[0]
    assert article.title == "Storm closes schools"
    assert article.body == "Schools closed on Monday. More later."


def test_markdown_heading_is_the_title(tmp_path):
    data = b"## Storm *closes* schools ##\n\nSchools closed on **Monday**.\n"
    article = parse_bytes(tmp_path, data).articles[0]
    assert article.title == "Storm *closes* schools"
    assert article.body == "Schools closed on **Monday**."


def test_front_matter_without_title_takes_the_heading_below_it(tmp_path):
    data = b"---\nexcerpt: E\n---\n# Heading title\nThe body.\n"
    article = parse_bytes(tmp_path, data).articles[0]
    assert (article.title, article.excerpt, article.body) == ("Heading title", "E", "The body.")


def test_no_title_anywhere_is_a_document_error(tmp_path):
    error = parse_error(tmp_path, b"---\nexcerpt: only an excerpt\n---\n\n   \n")
    assert error.reason == "no title (no 'title' in the front matter and no heading or first line)"
    assert error.line is None


# --- files that are not articles -------------------------------------------------------------


def test_yaml_syntax_error_reports_the_line_of_the_file(tmp_path):
    data = b'---\ntitle: T\nexcerpt: "quoted" then more\nprovider: P\n---\nbody\n'
    error = parse_error(tmp_path, data)
    assert error.line == 3
    assert error.reason == "YAML error: did not find expected key"
    assert str(error) == f"{tmp_path / 'article.md'}:3: YAML error: did not find expected key"


def test_yaml_syntax_error_deep_in_the_front_matter_reports_its_line(tmp_path):
    keys = "".join(f"key{n}: value\n" for n in range(10))  # lines 2..11
    data = f"---\n{keys}  indented: wrongly\n---\n".encode()  # line 12
    error = parse_error(tmp_path, data)
    assert error.line == 12


def test_yaml_syntax_error_in_a_crlf_file_reports_the_line_of_the_file(tmp_path):
    data = b'---\r\ntitle: T\r\nexcerpt: "quoted" then more\r\n---\r\n'
    assert parse_error(tmp_path, data).line == 3


def test_yaml_syntax_error_after_a_byte_order_mark_reports_the_line_of_the_file(tmp_path):
    data = b'\xef\xbb\xbf---\ntitle: T\nexcerpt: "quoted" then more\n---\n'
    assert parse_error(tmp_path, data).line == 3


def test_yaml_syntax_error_after_a_blank_line_reports_the_line_of_the_file(tmp_path):
    data = b'---\n\ntitle: T\nexcerpt: "quoted" then more\n---\n'
    assert parse_error(tmp_path, data).line == 4


@pytest.mark.parametrize("date", ["2021-02-30", "2021-13-01T00:00:00Z", "2021-02-28T25:00:00Z"])
def test_impossible_yaml_date_is_a_warning_or_a_document_error_not_a_crash(tmp_path, date):
    data = f"---\ntitle: T\npublishedDateTime: {date}\n---\n".encode()
    try:
        parsed = parse_bytes(tmp_path, data)
    except DocumentError as exc:
        assert exc.line == 3
    else:
        assert parsed.articles[0].published_at is None
        assert parsed.warnings[-1].endswith("is not a date; indexed without a date")


def test_tab_indented_yaml_is_a_document_error_with_the_line_number(tmp_path):
    data = b"---\ntitle: T\nprovider:\n\tname: Reuters\n---\n"
    error = parse_error(tmp_path, data)
    assert error.line == 4
    assert error.reason == "YAML error: found character that cannot start any token"


def test_front_matter_never_closed_is_a_document_error_on_line_1(tmp_path):
    error = parse_error(tmp_path, b"---\ntitle: T\nexcerpt: E\n\nBody without a closing fence.\n")
    assert (error.line, error.reason) == (1, "front matter starts with '---' but is never closed")


def test_front_matter_that_is_a_list_is_a_document_error(tmp_path):
    error = parse_error(tmp_path, b"---\n- a\n- b\n---\n")
    assert (error.line, error.reason) == (2, "front matter is a list, not a mapping")


@pytest.mark.parametrize("data", [b"", b"  \n\n\t\n"], ids=["empty", "whitespace"])
def test_empty_file_is_a_document_error(tmp_path, data):
    error = parse_error(tmp_path, data)
    assert (error.line, error.reason) == (None, "empty file")


def test_binary_file_with_nul_bytes_is_a_document_error(tmp_path):
    error = parse_error(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", name="image.md")
    assert error.reason == "binary file (contains NUL bytes), not an article"


def test_windows_1252_file_is_read_with_a_warning_naming_the_line(tmp_path):
    data = b"---\ntitle: Caf\xe9 \x93quoted\x94\npublishedDateTime: 2022-07-11\n---\n"
    parsed = parse_bytes(tmp_path, data)
    assert parsed.articles[0].title == "Café “quoted”"
    assert parsed.warnings == [f"{tmp_path / 'article.md'}:2: not UTF-8; read as Windows-1252"]


def test_bytes_invalid_in_utf8_and_windows_1252_are_a_document_error(tmp_path):
    error = parse_error(tmp_path, b"---\ntitle: T\n---\nfirst\n\x81\x8d\n")
    assert (error.line, error.reason) == (5, "not UTF-8 text (byte 0x81) nor Windows-1252")


def test_utf8_byte_order_mark_is_not_part_of_the_text(tmp_path):
    parsed = parse_bytes(tmp_path, b"\xef\xbb\xbf---\ntitle: With BOM\npublishedDateTime: 2022-07-11\n---\n")
    assert parsed.articles[0].title == "With BOM"
    assert parsed.warnings == []


def test_python_yaml_tag_is_refused_and_runs_nothing(tmp_path):
    target = tmp_path / "pwned"
    data = f'---\ntitle: T\nx: !!python/object/apply:os.system ["touch {target}"]\n---\n'.encode()
    error = parse_error(tmp_path, data)
    assert error.line == 3
    assert error.reason.startswith("YAML error: could not determine a constructor for the tag")
    assert not target.exists()


def test_unreadable_path_is_a_document_error(tmp_path):
    with pytest.raises(DocumentError) as caught:
        parse_article(tmp_path / "missing.md")
    assert caught.value.reason == "cannot read file: No such file or directory"


# --- finding article files -------------------------------------------------------------------


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x\n")


def test_iter_article_paths_is_recursive_sorted_and_keeps_only_article_suffixes(tmp_path):
    touch(
        tmp_path,
        "b.md",
        "A.MD",
        "c.Markdown",
        "d.TXT",
        "notes.json",
        "image.png",
        "README",
        "sub/e.md",
        "sub/deeper/f.txt",
    )
    found = [p.relative_to(tmp_path).as_posix() for p in iter_article_paths([tmp_path])]
    assert found == ["A.MD", "b.md", "c.Markdown", "d.TXT", "sub/deeper/f.txt", "sub/e.md"]


def test_iter_article_paths_skips_hidden_files_and_hidden_folders(tmp_path):
    touch(tmp_path, "seen.md", ".hidden.md", ".git/HEAD.md", ".cache/sub/x.md", "sub/.draft.md")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_article_paths([tmp_path])]
    assert found == ["seen.md"]


def test_iter_article_paths_does_not_yield_a_folder_named_like_an_article(tmp_path):
    touch(tmp_path, "x.md/inside.md")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_article_paths([tmp_path])]
    assert found == ["x.md/inside.md"]


def test_iter_article_paths_terminates_on_a_symlink_loop_and_yields_each_file_once(tmp_path):
    touch(tmp_path, "top.md", "loop/inner.md")
    os.symlink("..", tmp_path / "loop" / "up")  # loop/up -> the root again
    os.symlink(".", tmp_path / "loop" / "self")  # loop/self -> loop
    found = [p.relative_to(tmp_path).as_posix() for p in iter_article_paths([tmp_path])]
    assert found == ["loop/inner.md", "top.md"]


def test_iter_article_paths_accepts_files_and_skips_missing_roots(tmp_path):
    touch(tmp_path, "one.md", "two.json")
    roots = [tmp_path / "one.md", tmp_path / "two.json", tmp_path / "missing"]
    assert list(iter_article_paths(roots)) == [tmp_path / "one.md"]
