"""Autocomplete's rules (searchsvc.autocomplete) and the Whoosh engine's counting of them
(phrase_counts.py: numpy over word numbers, checked against the rules' plain Python) and its
prefix table (prefix_table.py: a crowded prefix answered ahead as a scan would answer it)."""

from __future__ import annotations

import sys
from collections import Counter

import numpy as np
import pytest

from searchsvc.autocomplete import (
    merged,
    name_suffixes,
    phrase_terms,
    rank_phrases,
    title_phrases,
    typed_prefix,
)
from searchsvc.engine.interface import Suggestion
from searchsvc.engine.whoosh_engine import prefix_table
from searchsvc.engine.whoosh_engine.phrase_counts import count_phrases
from searchsvc.engine.whoosh_engine.prefix_table import PrefixTable, top_in

TITLES = [
    "Ukraine's war: Bank of England raises rates for the COVID-19 vaccine - BBC News",
    "COVID-19 vaccine doses for children approved",
    "Covid 19 vaccine trial | Health Wire",
    "civil-rights march; civil rights law",
    "State-of-the-art robots — and a state of the art lab",
    "Élysée Palace, the Élysée and ÉLYSÉE",
    "rocket launch, Rocket Launch, Rocket launch",
    "O'Brien's band plays on",
    "a b c the of and",
    "",
    "\x00null\x00 bytes stay words",
    "Fears of a Ukraine winter grow",
]


def test_a_titles_phrases_are_its_words_and_pairs_without_its_source_or_stop_words_at_an_end():
    assert title_phrases("Ukraine's war: Bank of England raises rates for the COVID-19 vaccine - BBC News") == {
        "ukraine": "Ukraine",
        "ukraine war": "Ukraine war",
        "war": "war",
        "bank": "Bank",
        "bank of england": "Bank of England",
        "england": "England",
        "england raises": "England raises",
        "raises": "raises",
        "raises rates": "raises rates",
        "rates": "rates",
        "rates for the covid 19": "rates for the COVID-19",
        "covid 19": "COVID-19",
        "covid 19 vaccine": "COVID-19 vaccine",
        "vaccine": "vaccine",
    }


def test_a_phrase_term_is_its_key_and_its_spelling():
    assert phrase_terms("Élysée Palace") == ["elysee\x1fÉlysée", "elysee palace\x1fÉlysée Palace", "palace\x1fPalace"]


def test_the_numpy_count_agrees_with_the_rules_article_by_article():
    counts: Counter = Counter()
    spellings: Counter = Counter()
    for title in TITLES:
        for key, spelling in title_phrases(title.replace("\x00", " ")).items():
            counts[key] += 1
            spellings[key, spelling] += 1
    expected = {}
    for key, count in counts.items():
        shown = min((-n, s) for (k, s), n in spellings.items() if k == key)[1]
        expected[key] = (count, shown)

    keys, found, spelled = count_phrases(TITLES, cap=1000)

    got = {k.decode(): (int(n), s.decode()) for k, n, s in zip(keys, found, spelled, strict=True)}
    assert got == expected
    assert got["covid 19"] == (3, "COVID-19")  # "Covid 19" (two words) counts with "COVID-19"
    assert got["covid 19 vaccine"] == (2, "COVID-19 vaccine")  # "Covid 19 vaccine" is three words
    assert got["civil rights"] == (1, "civil-rights")  # one article, spelt first with a hyphen
    assert got["rocket launch"] == (1, "rocket launch")  # one article: its first spelling
    tie = count_phrases(["rocket launch", "Rocket launch", "Rocket Launch", "ROCKET"], cap=10)
    assert dict(zip(tie[0], tie[2], strict=True))[b"rocket launch"] == b"Rocket Launch"  # the first in code-point order


def test_the_numpy_count_keeps_the_most_frequent_phrases_whole_counts_at_a_time():
    titles = ["solar farm", "solar farm", "solar roof", "wind"]

    def kept(cap: int) -> list[tuple[str, int]]:
        keys, counts, _ = count_phrases(titles, cap=cap)
        return sorted(zip((k.decode() for k in keys), counts.tolist(), strict=True))

    assert kept(3) == [("farm", 2), ("solar", 3), ("solar farm", 2)]
    assert kept(2) == [("solar", 3)]  # the two articles' phrases are kept both or neither
    assert count_phrases([], cap=10)[0] == []


@pytest.mark.parametrize(
    ("typed", "key", "kept"),
    [
        ("ukrai", "ukrai", ""),
        ("covid vac", "covid vac", ""),
        ("covid ", "covid ", ""),
        ("  Élys", "elys", ""),
        ("prime minister bor", "minister bor", "prime "),
        ("bank of e", "bank of e", ""),
        ("the uk", "uk", "the "),
        ("ukraine's w", "ukraine w", ""),
        ("covid-1", "covid 1", ""),
    ],
)
def test_a_typed_prefix_asks_for_phrases_from_its_last_whole_word_on(typed, key, kept):
    found = typed_prefix(typed)
    assert (found.key, found.text[: found.start]) == (key, kept)


@pytest.mark.parametrize("typed", ["", "   ", "the ", "of and ", "!!"])
def test_a_prefix_of_stop_words_or_punctuation_asks_for_nothing(typed):
    assert typed_prefix(typed) is None


def test_ranking_sums_spellings_drops_cut_off_words_and_puts_the_most_frequent_first():
    rows = [
        ("ukraine", "Ukraine", 90),
        ("ukraine", "ukraine", 10),
        ("ukrai", "Ukrai", 4),  # 100 >= 20 * 4: a cut-off word
        ("ukrainian", "Ukrainian", 30),
        ("ukraine war", "Ukraine war", 30),  # a pair, not a longer word: kept
        ("ukr", "UKR", 6),  # 100 < 20 * 6: kept
    ]
    assert rank_phrases(rows, 10) == [
        ("ukraine", "Ukraine", 100),
        ("ukraine war", "Ukraine war", 30),
        ("ukrainian", "Ukrainian", 30),
        ("ukr", "UKR", 6),
    ]
    assert rank_phrases(rows, 1) == [("ukraine", "Ukraine", 100)]


def test_names_take_at_most_half_the_places_when_words_can_fill_the_rest():
    names = [Suggestion(f"Name {i}", "provider", {"provider": [f"Name {i}"]}, "") for i in range(6)]
    words = [Suggestion(f"word {i}", "word") for i in range(6)]
    assert [s.text for s in merged(names, words, 4)] == ["Name 0", "Name 1", "word 0", "word 1"]
    assert [s.text for s in merged(names, words[:1], 4)] == ["Name 0", "Name 1", "Name 2", "word 0"]
    assert [s.text for s in merged(names, [Suggestion("name 0", "word")], 2)] == ["Name 0", "Name 1"]


def test_a_name_is_matched_by_all_the_typed_words_then_by_the_last_few():
    assert name_suffixes("climate new yo") == [("climate new yo", ""), ("new yo", "climate"), ("yo", "climate new")]
    assert name_suffixes("climate new yo", whole_only=True) == [("climate new yo", "")]
    assert name_suffixes("a b c d", whole_only=True) == []


def test_a_crowded_prefix_is_answered_ahead_exactly_as_a_scan_answers_it(monkeypatch):
    monkeypatch.setattr(prefix_table, "SCAN_CAP", 8)
    rng = np.random.default_rng(7)
    keys = sorted({"".join(rng.choice(list("abc"), size=rng.integers(1, 6))).encode() for _ in range(400)})
    counts = rng.integers(1, 5, size=len(keys))
    table = PrefixTable(keys, counts, most=5)

    for prefix in (b"a", b"ab", b"abc", b"b", b"cc", b"cab", b"abcab"):
        inside = [i for i, k in enumerate(keys) if k.startswith(prefix)]
        lo, hi = (inside[0], inside[-1] + 1) if inside else (0, 0)
        assert table.top(prefix, 5).tolist() == top_in(np.asarray(counts), lo, hi, 5).tolist()
        expected = sorted(inside, key=lambda i: (-counts[i], i))[:5]
        assert table.top(prefix, 5).tolist() == expected


def test_a_background_build_answers_as_a_build_in_the_request_does_and_keeps_no_cache_of_words(tmp_path, monkeypatch):
    from searchsvc import autocomplete
    from searchsvc.engine.whoosh_engine import completion_index
    from searchsvc.engine.whoosh_engine.generations import current_generation
    from searchsvc.engine.whoosh_engine.snapshot import Snapshot
    from searchsvc.indexer import build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, title in enumerate(TITLES[:4] + TITLES[-1:]):
        (corpus / f"t{i}.md").write_text(f"---\ntitle: {title!r}\nwebUrl: https://x.example/{i}\n---\n")
    build_index([corpus], tmp_path / "index")
    generation = current_generation(tmp_path / "index")
    at_once, later = Snapshot(generation.path, generation.name), Snapshot(generation.path, generation.name)
    monkeypatch.setattr(completion_index, "BUILD_NOW_UP_TO", 0)
    built_here = []
    build_here = completion_index.build_completion_index
    monkeypatch.setattr(completion_index, "build_completion_index", lambda s: built_here.append(s) or build_here(s))
    autocomplete.forget_words()  # (what earlier tests cut in this process)

    assert completion_index.ready_completion_index(later) is None  # started in the background
    later.__dict__["_completion_thread"].join(60)
    assert built_here == []  # built in a child process
    assert autocomplete._UNITS == {}  # no words cut and cached in this process
    built = completion_index.ready_completion_index(later)
    expected = build_here(at_once)

    assert list(built.spellings) == list(expected.spellings) and len(built.spellings) > 0
    assert built.phrases.counts.tolist() == expected.phrases.counts.tolist()
    at_once.close()
    later.close()


def test_a_background_build_whose_child_fails_is_made_in_the_process_with_a_warning(tmp_path, monkeypatch, caplog):
    from searchsvc import autocomplete
    from searchsvc.engine.whoosh_engine import completion_index
    from searchsvc.engine.whoosh_engine.generations import current_generation
    from searchsvc.engine.whoosh_engine.snapshot import Snapshot
    from searchsvc.indexer import build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, title in enumerate(TITLES[:3]):
        (corpus / f"t{i}.md").write_text(f"---\ntitle: {title!r}\nwebUrl: https://x.example/{i}\n---\n")
    build_index([corpus], tmp_path / "index")
    generation = current_generation(tmp_path / "index")
    snapshot = Snapshot(generation.path, generation.name)
    monkeypatch.setattr(completion_index, "BUILD_NOW_UP_TO", 0)
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")

    with caplog.at_level("WARNING", logger="searchsvc.engine"):
        assert completion_index.ready_completion_index(snapshot) is None
        snapshot.__dict__["_completion_thread"].join(60)

    assert completion_index.ready_completion_index(snapshot) is not None
    assert autocomplete._UNITS == {}
    assert [r.getMessage() for r in caplog.records] == [
        f"Cannot build the autocomplete index of {generation.name} in a child process "
        "([Errno 2] No such file or directory: '/nonexistent/python'); building it here."
    ]
    snapshot.close()
