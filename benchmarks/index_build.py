"""Index build benchmark: searchsvc's full build, a re-index with nothing changed and one with 1 %
of the files changed, against SQLite FTS5 and a straightforward Whoosh writer on the same articles.

    python benchmarks/index_build.py                     # the full corpus at /work/data/news-all
    python benchmarks/index_build.py --n 5000            # a 5,000-article subset (generated)
    python benchmarks/index_build.py --whoosh-baseline-n 20000

Prints one Markdown table. Each step is timed in a run without the memory sampler and run again
for its peak memory (a sampler reading a build's PSS stalls it); every file of the corpus is read
right before each full build and each FTS5 run, so that both find them in the page cache.
Timings are never asserted; the report counts of the 1 % step are checked against what was
changed (exit status 1 if they differ).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from common import (
    DEFAULT_CORPUS,
    MB,
    Measured,
    compile_package,
    fmt,
    format_table,
    log,
    prepare_corpus,
    read_corpus,
    run_measured,
)

from searchsvc.documents import iter_article_paths

HERE = Path(__file__).resolve().parent
CHANGE_FRACTION = 0.01
ADD_FRACTION = 0.001
DELETE_FRACTION = 0.001
TARGET_MEMORY_MB = 1024
# issue 14's goals, ratios within one run: the full build to FTS5's parse + insert with the same
# parser, the re-index with nothing changed and with 1 % changed to the full build
GOAL_FULL_TO_FTS5 = 0.70
GOAL_UNCHANGED_TO_FULL = 0.03
GOAL_CHANGED_TO_FULL = 0.06
# seconds between memory samples: RSS (cheap) and PSS (a page-table walk: ~25 ms per GB of the
# sampled process, on the same 2 cores as the build); set from the command line
SAMPLING = {"interval": 0.05, "pss_interval": 0.5}
_COUNTS = re.compile(r"added (\d+), updated (\d+), unchanged (\d+), deleted (\d+), duplicates (\d+), failed (\d+)")
_DOCUMENTS = re.compile(r"(\d+) documents \((\d+) articles written\)")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class BuildRun:
    label: str
    measured: Measured  # the timed run (memory not sampled) or, in ``memory``, the sampled one
    counts: dict[str, int]
    documents: int
    memory: Measured | None = None  # a second run of the same step, its memory sampled


def run_searchsvc_index(
    label: str, corpus: Path, index_dir: Path, full: bool, cwd: Path, sample: bool = False
) -> BuildRun:
    """One ``searchsvc index`` step: timed without the memory sampler (reading a process's PSS
    walks its page tables and holds its memory map's lock, which stalls a build that allocates
    as it goes: a sampled 155k build took up to a fifth longer), or, with ``sample``, sampled."""
    command = [sys.executable, "-m", "searchsvc", "index", str(corpus), "--index", str(index_dir)]
    if full:
        command.append("--full")
    if full:  # its files in the page cache, as the peer's are (read_corpus)
        log(f"read {corpus} in {read_corpus(corpus):.1f} s")
    measured = run_measured(command, cwd=cwd, sample=sample, **SAMPLING).check()
    counts_match = _COUNTS.search(measured.stdout)
    documents_match = _DOCUMENTS.search(measured.stdout)
    if not counts_match or not documents_match:
        raise SystemExit(f"Cannot read the index report from:\n{measured.stdout}")
    names = ("added", "updated", "unchanged", "deleted", "duplicates", "failed")
    counts = dict(zip(names, map(int, counts_match.groups()), strict=True))
    return BuildRun(label, measured, counts, int(documents_match.group(1)))


def copy_corpus(corpus: Path, target: Path) -> None:
    """A hard-linked copy where possible (changed files get new inodes, so the original stays
    untouched), else a full copy."""
    same_device = os.stat(corpus).st_dev == os.stat(target.parent).st_dev
    command = ["cp", "-al" if same_device else "-r", str(corpus), str(target)]
    log(f"$ {' '.join(command)}")
    subprocess.run(command, check=True)


def _replace_value(text: str, key: str, change) -> str | None:
    """``text`` with the front-matter line ``key: value`` rewritten as ``key: change(value)``;
    None when the line is missing or not a plain one-line string."""
    end = text.find("\n---", 4)
    match = re.search(rf"^{key}: .*$", text[:end], flags=re.M) if text.startswith("---") and end > 0 else None
    if not match:
        return None
    try:
        value = yaml.load(match.group(0), Loader=_LOADER)[key]
    except yaml.YAMLError:
        return None
    if not isinstance(value, str) or not value:
        return None
    line = yaml.safe_dump({key: change(value)}, allow_unicode=True, width=1_000_000).rstrip("\n")
    if "\n" in line:
        return None
    return text[: match.start()] + line + text[match.end() :]


def _rewrite(path: Path, text: str) -> None:
    """Replace the file with a new one (new inode, new mtime): a hard link's original is untouched."""
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _new_copy(text: str, name: str) -> str | None:
    """Another article made from ``text``: its title and URLs (hence its id) changed."""
    copy = _replace_value(text, "title", lambda t: f"{t} (new copy)")
    for key in ("webUrl", "originalUrl"):
        if copy is not None:
            copy = _replace_value(copy, key, lambda u: f"{u.rstrip('/')}/{name}") or copy
    return copy


def change_corpus(corpus: Path, seed: int = 2022) -> dict[str, int]:
    """Change the title of 1 % of the files, add 0.1 % new ones (copies with a new URL) and
    delete 0.1 %. Returns the counts the next index report should show."""
    paths = sorted(iter_article_paths([corpus]))
    want_changed = max(1, round(len(paths) * CHANGE_FRACTION))
    want_added = max(1, round(len(paths) * ADD_FRACTION))
    want_deleted = max(1, round(len(paths) * DELETE_FRACTION))
    order = list(paths)
    random.Random(seed).shuffle(order)
    changed = added = deleted = 0
    for path in order:
        if changed < want_changed:
            text = _replace_value(path.read_text(encoding="utf-8"), "title", lambda t: f"{t} (updated)")
            if text is not None:
                _rewrite(path, text)
                changed += 1
        elif deleted < want_deleted:
            path.unlink()
            deleted += 1
        elif added < want_added:
            name = f"bench-new-{added:05d}"
            text = _new_copy(path.read_text(encoding="utf-8"), name)
            if text is not None:
                path.with_name(name + ".md").write_text(text, encoding="utf-8")
                added += 1
        else:
            break
    return {"updated": changed, "added": added, "deleted": deleted}


def run_fts5_baseline(corpus: Path, scratch: Path, dump: Path | None, sample: bool = False) -> tuple[Measured, dict]:
    command = [
        sys.executable,
        str(HERE / "fts5_baseline.py"),
        "--corpus",
        str(corpus),
        "--db",
        str(scratch / "fts5.db"),
    ]
    if dump:
        command += ["--dump-articles", str(dump)]
    log(f"read {corpus} in {read_corpus(corpus):.1f} s")  # its files in the page cache, as searchsvc's were
    measured = run_measured(command, cwd=scratch, sample=sample, **SAMPLING).check()
    return measured, json.loads(measured.stdout.strip().splitlines()[-1])


def run_whoosh_baseline(articles: Path, scratch: Path, n: int, schema: str) -> tuple[Measured, dict]:
    shutil.rmtree(scratch / "plain-whoosh", ignore_errors=True)
    command = [
        sys.executable,
        str(HERE / "whoosh_baseline.py"),
        "--articles",
        str(articles),
        "--out",
        str(scratch / "plain-whoosh"),
        "--n",
        str(n),
        "--schema",
        schema,
    ]
    measured = run_measured(command, cwd=scratch, **SAMPLING).check()
    return measured, json.loads(measured.stdout.strip().splitlines()[-1])


def _rate(articles: int, seconds: float) -> str:
    return fmt(articles / seconds, 0) if seconds > 0 else "—"


def searchsvc_rows(runs: list[BuildRun], fts5_seconds: float | None) -> list[list]:
    """The table's rows of the full build, the re-index with nothing changed and the one with 1 %
    changed (``runs``, in that order), each with its ratio to what its goal compares it with (the
    full build's to FTS5's parse + insert: none when FTS5 was not measured) and its verdict."""
    full, same, changed = runs
    rows = []
    for run, base, goal in (
        (full, fts5_seconds, GOAL_FULL_TO_FTS5),
        (same, full.measured.seconds, GOAL_UNCHANGED_TO_FULL),
        (changed, full.measured.seconds, GOAL_CHANGED_TO_FULL),
    ):
        m = run.measured
        rate = _rate(run.documents, m.seconds) if run is full else "—"
        if run is full:
            target = f"≤ {goal:.2f}× FTS5, ≤ 1 GB"
            ratio = f"{m.seconds / base:.2f}× FTS5" if base else "—"
        else:
            target = f"≤ {goal * 100:g} % of full, ≤ 1 GB"
            ratio = f"{m.seconds / base * 100:.1f} % of full"
        memory = run.memory or m
        met = m.seconds <= goal * base and memory.pss_mb <= TARGET_MEMORY_MB if base else None
        verdict = "—" if met is None else "yes" if met else "no"
        rows.append(
            [run.label, f"{run.documents:,}", fmt(m.seconds, 2), rate, fmt(memory.pss_mb, 0), fmt(memory.rss_mb, 0)]
            + [ratio, target, verdict]
        )
    return rows


def _folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / MB


def measure_searchsvc(corpus: Path, scratch: Path) -> tuple[list[BuildRun], list[str], bool]:
    """Full build, nothing changed, 1 % changed: on a hard-linked copy of the corpus."""
    copy, index_dir = scratch / "corpus-copy", scratch / "index"
    for leftover in (copy, index_dir):  # from an earlier run in the same --workdir
        shutil.rmtree(leftover, ignore_errors=True)
    copy_corpus(corpus, copy)
    # each step is timed in a run of its own, and run again with its memory sampled: the full
    # build into a second folder first (so that the updates follow the timed build at once, as
    # they would without it), the re-index with nothing changed on the same index (it writes
    # nothing), the 1 % update on a copy of the index made before it
    label = "searchsvc full build (--full)"
    sampled = run_searchsvc_index(label, copy, scratch / "index-sampled", True, scratch, sample=True)
    shutil.rmtree(scratch / "index-sampled")
    full = run_searchsvc_index(label, copy, index_dir, True, scratch)
    full.memory = sampled.measured
    size = _folder_mb(index_dir)
    label = "searchsvc re-index, nothing changed"
    same = run_searchsvc_index(label, copy, index_dir, False, scratch)
    same.memory = run_searchsvc_index(label, copy, index_dir, False, scratch, sample=True).measured
    expected = change_corpus(copy)
    label = (
        f"searchsvc re-index, 1 % changed ({expected['updated']} changed, "
        f"{expected['added']} added, {expected['deleted']} deleted files)"
    )
    shutil.copytree(index_dir, scratch / "index-sampled", symlinks=True)
    changed = run_searchsvc_index(label, copy, index_dir, False, scratch)
    sampled = run_searchsvc_index(label, copy, scratch / "index-sampled", False, scratch, sample=True)
    changed.memory = sampled.measured
    shutil.rmtree(scratch / "index-sampled")
    verified = all({k: run.counts[k] for k in expected} == expected for run in (changed, sampled))

    files = full.counts["added"] + full.counts["failed"]
    notes = [
        f"corpus: {corpus} ({files:,} files; {full.counts['failed']} failed, "
        f"{full.counts['duplicates']} duplicate ids); searchsvc index after the full build: {size:,.0f} MB",
        f"1 % step: report {changed.counts}, expected {expected}: {'verified' if verified else 'MISMATCH'}",
    ]
    notes += [f"{run.label}: {run.measured.stdout.strip().splitlines()[0]}" for run in (full, same, changed)]
    sampled_s = ", ".join(f"{r.memory.seconds:.2f} s" for r in (full, same, changed))
    cpu = ", ".join(f"{r.memory.sampler_cpu_seconds:.1f} s" for r in (full, same, changed))
    notes.append(
        f"the three searchsvc steps' runs with their memory sampled (the memory columns): {sampled_s}, "
        f"the sampler's own CPU time {cpu}"
    )
    return [full, same, changed], notes, verified


def measure_fts5(corpus: Path, scratch: Path, dump: Path | None) -> tuple[list[list], list[str], float]:
    # timed without the memory sampler, as searchsvc's steps are; its memory from a second run
    _, result = run_fts5_baseline(corpus, scratch, None)
    m, _ = run_fts5_baseline(corpus, scratch, dump, sample=True)
    n = result["articles"]
    parse_s, insert_s = result["parse_seconds"], result["insert_seconds"]
    both = parse_s + insert_s
    rows = [
        ["SQLite FTS5: parse (same parser, 1 process)", f"{n:,}", fmt(parse_s, 2), _rate(n, parse_s)],
        ["SQLite FTS5: insert (one transaction)", f"{n:,}", fmt(insert_s, 2), _rate(n, insert_s)],
        [
            "SQLite FTS5: parse + insert",
            f"{n:,}",
            fmt(both, 2),
            _rate(n, both),
            fmt(m.pss_mb, 0),
            fmt(m.rss_mb, 0),
        ],
    ]
    size = (scratch / "fts5.db").stat().st_size / MB
    notes = [f"SQLite FTS5: {n:,} articles from {result['files']:,} files; database {size:,.0f} MB"]
    return rows, notes, both


def measure_whoosh(articles: Path, scratch: Path, n: int, schema: str) -> tuple[list[list], list[str]]:
    m, plain = run_whoosh_baseline(articles, scratch, n, schema)
    seconds, label = plain["seconds"], "Whoosh: plain writer, add_document + commit"
    if plain["articles"] < plain["of"]:
        seconds = seconds * plain["of"] / plain["articles"]
        label += f" (timed on {plain['articles']:,}, extrapolated linearly)"
    rate = _rate(plain["of"], seconds)
    rows = [[label, f"{plain['of']:,}", fmt(seconds, 2), rate, fmt(m.pss_mb, 0), fmt(m.rss_mb, 0)]]
    fields = ", ".join(plain["replaced"]) or "none"
    notes = [
        f"Whoosh plain writer: {plain['articles']:,} articles in {plain['seconds']:.1f} s; schema {schema} "
        f"(fields switched to whoosh.fields.TEXT: {fields}); its memory includes the unpickled articles"
    ]
    return rows, notes


def measure(args: argparse.Namespace, scratch: Path) -> dict:
    compile_package()
    corpus = prepare_corpus(args.corpus.resolve(), args.n, scratch / f"corpus-n{args.n}")
    runs, notes, verified = measure_searchsvc(corpus, scratch)
    want_whoosh = not args.skip_whoosh_baseline
    dump = scratch / "articles.pickle" if want_whoosh else None
    fts_rows, fts5_seconds = [], None
    if not args.skip_fts5_baseline or want_whoosh:
        fts_rows, fts_notes, fts5_seconds = measure_fts5(corpus, scratch, dump)
        if args.skip_fts5_baseline:
            fts_rows, fts5_seconds = [], None
        else:
            notes += fts_notes
    rows = searchsvc_rows(runs, fts5_seconds) + fts_rows
    if want_whoosh:
        whoosh_rows, whoosh_notes = measure_whoosh(dump, scratch, args.whoosh_baseline_n, args.whoosh_baseline_schema)
        rows += whoosh_rows
        notes += whoosh_notes
    headers = ["step", "articles", "seconds", "articles/s", "peak PSS MB (tree)", "peak RSS MB (1 proc)"]
    table = format_table(headers + ["ratio", "goal (issue 14)", "met"], rows, "lrrrrrrll")
    if args.n:
        notes.insert(0, "the goals are for the full 155,346-article corpus; this run used a subset")
    notes.append(
        f"MB = 2^20 bytes; RSS sampled every {SAMPLING['interval'] * 1000:g} ms, the tree's PSS every "
        f"{SAMPLING['pss_interval'] * 1000:g} ms; 'articles' is the index's document count"
    )
    return {"table": table, "notes": notes, "verified": verified}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help=f"articles (default {DEFAULT_CORPUS})")
    parser.add_argument("--n", type=int, default=0, help="measure an N-article subset made with make_corpus.py")
    parser.add_argument("--skip-whoosh-baseline", action="store_true", help="do not time the plain Whoosh writer")
    parser.add_argument("--skip-fts5-baseline", action="store_true", help="do not time SQLite FTS5")
    parser.add_argument(
        "--whoosh-baseline-n",
        type=int,
        default=0,
        help="time the plain Whoosh writer on this many articles and extrapolate linearly (default: all)",
    )
    parser.add_argument(
        "--whoosh-baseline-schema",
        choices=("stock", "searchsvc"),
        default="stock",
        help="stock: Whoosh's own TEXT fields (default); searchsvc: make_schema() with its custom fields",
    )
    parser.add_argument(
        "--sample-interval", type=float, default=0.05, help="seconds between RSS samples (default 0.05)"
    )
    parser.add_argument(
        "--pss-interval", type=float, default=0.5, help="seconds between PSS samples of the tree (default 0.5)"
    )
    parser.add_argument("--workdir", type=Path, help="scratch folder, kept (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()
    SAMPLING.update(interval=args.sample_interval, pss_interval=args.pss_interval)

    if args.workdir:  # the caller's folder: kept
        scratch = args.workdir
        scratch.mkdir(parents=True, exist_ok=True)
    else:
        scratch = Path(tempfile.mkdtemp(prefix="bench-index-build-"))
    try:
        report = measure(args, scratch.resolve())
    finally:
        if args.keep or args.workdir:
            log(f"scratch files kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    print(report["table"])
    print()
    print("\n".join(report["notes"]))
    if not report["verified"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
