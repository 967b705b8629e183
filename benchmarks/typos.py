"""Typo tolerance benchmark: each of the 200 shared queries beside a misspelt twin (one realistic
edit in one word of 5+ letters: two neighbours swapped, a letter dropped or doubled, or a key's
neighbour typed instead; deterministic), through the engine with the result cache off.

Reports the mean overlap of each twin's top 10 with its correct query's top 10 (with typo
tolerance, and without it, as before), whether the correct queries' results stayed the same
(top 10 and total with typo tolerance on and off), and the latency of both kinds of queries.

    python benchmarks/typos.py --index /work/data/index-155k            # Whoosh, an index built
    python benchmarks/typos.py --engine opensearch                       # SEARCHSVC_OPENSEARCH_URL...

Prints Markdown tables. Timings are never asserted.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import zlib
from pathlib import Path

from common import QUERIES_FILE, fmt, format_table, log, summarise, wait_for_background_work

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from searchsvc.config import load_settings  # noqa: E402
from searchsvc.engine import open_search  # noqa: E402
from searchsvc.request import parse_request  # noqa: E402
from searchsvc.typo_tolerance import MIN_LETTERS  # noqa: E402

KEYBOARD = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
EDITS = ("swap", "drop", "double", "neighbour")


def neighbours(letter: str) -> str:
    """The letters beside ``letter`` on a QWERTY keyboard (same row)."""
    for row in KEYBOARD:
        at = row.find(letter)
        if at >= 0:
            return row[max(at - 1, 0) : at] + row[at + 1 : at + 2]
    return ""


def misspell(q: str) -> tuple[str, str, str] | None:
    """(twin, word, edit): ``q`` with one word of 5+ letters misspelt, chosen from a seed made of
    the query itself (the same twin every run); None when ``q`` has no such word."""
    words = q.split()
    eligible = [i for i, w in enumerate(words) if len(w) >= MIN_LETTERS and w.isalpha()]
    if not eligible:
        return None
    rng = random.Random(zlib.crc32(q.encode("utf-8")))
    index = rng.choice(eligible)
    word = words[index]
    for _ in range(20):
        edit = rng.choice(EDITS)
        at = rng.randrange(1, len(word) - 1)  # people rarely miss the first letter
        if edit == "swap" and word[at].lower() != word[at + 1].lower():
            typo = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
        elif edit == "drop":
            typo = word[:at] + word[at + 1 :]
        elif edit == "double":
            typo = word[: at + 1] + word[at] + word[at + 1 :]
        elif edit == "neighbour" and neighbours(word[at].lower()):
            typo = word[:at] + rng.choice(neighbours(word[at].lower())) + word[at + 1 :]
        else:
            continue
        if typo.lower() != word.lower():
            return " ".join(words[:index] + [typo] + words[index + 1 :]), word, edit
    return None


def request_of(query: dict, q: str, typos: bool):
    params = {"q": [q], "typos": ["true" if typos else "false"], "facets": ["provider,topic,date"]}
    for name in ("provider", "from", "to"):
        if query.get(name):
            params[name] = [query[name]]
    return parse_request(params)


def timed(engine, request) -> tuple[float, list[str], int]:
    started = time.perf_counter()
    page = engine.search(request)
    return (time.perf_counter() - started) * 1000, [hit.id for hit in page.hits], page.total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, help="the Whoosh index folder (engine whoosh)")
    parser.add_argument("--engine", default="whoosh", choices=("whoosh", "opensearch"))
    parser.add_argument("--passes", type=int, default=2, help="measured passes after one warm-up")
    parser.add_argument("--queries", type=Path, default=QUERIES_FILE)
    args = parser.parse_args()
    changes = {"engine": args.engine, "result_cache": 0}
    if args.index:
        changes["index_dir"] = str(args.index)
    settings = load_settings().replace(**changes)
    engine = open_search(settings)
    started = time.perf_counter()
    engine.view()  # opened (and warmed) before the first query, as a served index is
    log(f"opened the index in {time.perf_counter() - started:.2f} s")
    log(f"waited {wait_for_background_work():.1f} s for the engine's background work (the autocomplete index)")
    queries = [json.loads(line) for line in args.queries.read_text().splitlines() if line.strip()]
    pairs = []
    for query in queries:
        twin = misspell(query["q"])
        if twin is not None:
            pairs.append((query, *twin))
    log(f"{len(pairs)} of {len(queries)} queries have a word of {MIN_LETTERS}+ letters to misspell")
    kinds = {edit: 0 for edit in EDITS}
    for _, _, _, edit in pairs:
        kinds[edit] += 1

    correct_ms, twin_ms, plain_twin_ms = [], [], []
    overlap_on, overlap_off, unchanged, compared, corrected = [], [], 0, 0, 0
    for number in range(args.passes + 1):
        for query, twin, _, _ in pairs:
            ms_on, top_on, total_on = timed(engine, request_of(query, query["q"], True))
            ms_twin, top_twin, _ = timed(engine, request_of(query, twin, True))
            ms_plain, top_plain, _ = timed(engine, request_of(query, twin, False))
            if number == 0:  # the warm-up pass is where the results are compared
                _, top_off, total_off = timed(engine, request_of(query, query["q"], False))
                unchanged += (top_on, total_on) == (top_off, total_off)
                if top_on:
                    compared += 1
                    overlap_on.append(len(set(top_on) & set(top_twin)) / len(top_on))
                    overlap_off.append(len(set(top_on) & set(top_plain)) / len(top_on))
                    page = engine.search(request_of(query, twin, True))
                    corrected += bool(page.corrections)
                continue
            correct_ms.append(ms_on)
            twin_ms.append(ms_twin)
            plain_twin_ms.append(ms_plain)

    mean_on = sum(overlap_on) / max(len(overlap_on), 1)
    mean_off = sum(overlap_off) / max(len(overlap_off), 1)
    print(f"## Typo tolerance: {len(pairs)} misspelt twins of the shared queries ({args.engine})\n")
    print("Edits made: " + ", ".join(f"{kind} {count}" for kind, count in kinds.items()) + "\n")
    print(
        format_table(
            ["measure", "value", "goal"],
            [
                ["queries compared (the correct query has hits)", compared, ""],
                ["twins with a correction reported", corrected, ""],
                ["mean top-10 overlap, typo tolerance on", f"{mean_on:.3f}", ">= 0.8"],
                ["mean top-10 overlap, typo tolerance off (as before)", f"{mean_off:.3f}", ""],
                ["correct queries whose top 10 and total are unchanged", f"{unchanged} / {len(pairs)}", "all"],
            ],
            align="lrl",
        )
    )
    print()
    rows = []
    base = summarise(correct_ms)
    for name, values in (
        ("correct queries", correct_ms),
        ("twins, typo tolerance on", twin_ms),
        ("twins, typo tolerance off", plain_twin_ms),
    ):
        s = summarise(values)
        rows.append([name, len(values), fmt(s.p50, 2), fmt(s.p95, 2), f"{s.p95 / base.p95:.2f}x" if base.p95 else ""])
    print(format_table(["queries (cache off)", "samples", "p50 ms", "p95 ms", "p95 / correct"], rows, align="lrrrr"))
    print("\nGoal: twins' p95 <= 2x the correct queries' p95.")
    engine.close()


if __name__ == "__main__":
    main()
