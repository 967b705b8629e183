"""Index a source tree: find files, skip unchanged ones, parse the rest (in parallel when there
are many), resolve duplicate URLs, and hand the result to the engine's builder, which publishes
a new view atomically. Engine-neutral: the builder (engine/interface.py) is all it writes to."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np

from searchsvc.child_processes import usable_cores
from searchsvc.documents import Article
from searchsvc.engine import Build, Builder, BuildState, open_builder
from searchsvc.file_stats import file_stats
from searchsvc.manifest import FileEntry, Manifest, ManifestError, ManifestTable, Owners
from searchsvc.memory import cycle_collection_paused, release_free_memory
from searchsvc.parsing import MAX_FILE_BYTES, Job, Parsed, Progress, parse_files, read_and_parse
from searchsvc.report import DocumentFailure, IndexReport
from searchsvc.sources import scan_sources

PARALLEL_BUILD_THRESHOLD = 4000
__all__ = ["MAX_FILE_BYTES", "Job", "build_index", "check_sources", "index_articles", "read_manifest"]


def read_manifest(builder_or_index_dir: Builder | str | os.PathLike[str]) -> Manifest | None:
    """The file records of the published view (None when nothing is published)."""
    builder = _builder(builder_or_index_dir)
    return Manifest.from_state(builder.last_state()) if builder.current() else None


def _builder(builder_or_index_dir: Builder | str | os.PathLike[str] | None, index_dir=None) -> Builder:
    """The builder given, or the default engine's builder of the index folder given."""
    folder = builder_or_index_dir if builder_or_index_dir is not None else index_dir
    if folder is None:
        raise TypeError("give the index folder (index_dir) or a Builder (builder=open_builder(settings))")
    if isinstance(folder, str | os.PathLike):
        from searchsvc.config import Settings

        return open_builder(Settings(index_dir=str(folder)))
    return folder


def check_sources(
    sources: Iterable[str],
    progress: Progress | None = None,
    max_file_bytes: int = MAX_FILE_BYTES,
    follow_external_links: bool = False,
) -> IndexReport:
    """Parse every file and report what an index run would, without writing anything."""
    started = time.time()
    scan = scan_sources(sources, follow_external_links)
    jobs = [(os.path.abspath(p), (p, id_path, max_file_bytes)) for p, id_path in scan.files]
    report = IndexReport(started_at=started, full=True, failures=list(scan.failures), warnings=list(scan.warnings))
    manifest = Manifest()
    for parsed in parse_files(jobs, progress):
        _record(parsed, manifest, report, {})
    report.added = len(jobs) - (report.failed - len(scan.failures))
    report.seconds = time.time() - started
    report.finished_at = time.time()
    return report


def build_index(
    sources: Iterable[str],
    index_dir: str | os.PathLike[str] | None = None,
    full: bool = False,
    lock_timeout: float = 30.0,
    progress: Progress | None = None,
    max_file_bytes: int = MAX_FILE_BYTES,
    follow_external_links: bool = False,
    builder: Builder | None = None,
) -> IndexReport:
    """Bring the index up to date with ``sources`` and publish a new view: through ``builder``
    (default: the Whoosh builder of ``index_dir``).

    Files over ``max_file_bytes`` are reported and skipped; symlinks that leave the source folders
    are followed only with ``follow_external_links``."""
    sources = [str(s) for s in sources]
    builder = _builder(builder, index_dir)
    with builder.begin(full, lock_timeout) as build:
        return _build(sources, builder, build, progress, max_file_bytes, follow_external_links)


def _build(
    sources: list[str],
    builder: Builder,
    build: Build,
    progress: Progress | None,
    max_file_bytes: int,
    follow_external_links: bool,
) -> IndexReport:
    started = time.time()
    cwd = os.getcwd()
    full = build.full
    old, damaged = (ManifestTable.empty(), "") if full else _last_table(builder)
    scan = scan_sources(sources, follow_external_links)
    report = IndexReport(full=full, started_at=started, failures=list(scan.failures), warnings=list(scan.warnings))
    report.warnings[:0] = getattr(build, "warnings", [])  # e.g. why an update became a full build
    if damaged:
        report.warnings.insert(0, damaged)

    found: dict[str, tuple[str, str, int]] = {}
    # (os.path.isabs and os.path.join without their generality: once per file of the tree)
    here = cwd.rstrip(os.sep) + os.sep
    for path, id_path in scan.files:
        found.setdefault(path if path.startswith(os.sep) else here + path, (path, id_path, max_file_bytes))

    kept, to_parse = _unchanged(found, old, max_file_bytes)
    # what was indexed from a folder that cannot be read now is kept, not deleted
    unreadable = tuple(p if os.path.isabs(p) else os.path.join(cwd, p) for p in scan.unreadable)
    gone: list[str] = []
    if len(old):
        seen = kept.copy()
        for key in to_parse:
            row = old.row_of.get(key)
            if row is not None:
                seen[row] = True
        for row in np.flatnonzero(~seen).tolist():
            key = old.paths[row]
            if unreadable and key.startswith(unreadable):
                kept[row] = True
            else:
                gone.append(key)
    if not full and not to_parse and not gone:
        report.unchanged = int(kept.sum())
        report.failures += [
            DocumentFailure(display, reason, line or None) for reason, line, display in old.failures_of(kept)
        ]
        report.generation = builder.current()
        report.documents = old.report.get("documents") or builder.current_documents()
        report.finished_at = time.time()
        report.seconds = report.finished_at - started
        return report

    # (a full build's owners are all new: a plain dict, dropped with the manifest before the write)
    manifest = Manifest(owners=Owners(old) if len(old) else {}, shadowed=old.shadowed(), base=old, kept=kept)
    # Release what deleted and re-parsed files held; files that lost those ids get another look.
    delete_ids: set[str] = set()
    row_of = old.row_of
    for key in gone + [k for k in to_parse if k in row_of]:
        for doc_id in old.ids_of(row_of[key]):
            owner = manifest.owners.get(doc_id)
            if owner and owner[0] == key:
                del manifest.owners[doc_id]
                delete_ids.add(doc_id)
                for other in manifest.shadowed.pop(doc_id, []):
                    row = row_of.get(other)
                    if row is not None and kept[row] and other in found and other != key:
                        to_parse.setdefault(other, found[other])
                        kept[row] = False
            elif doc_id in manifest.shadowed:
                manifest.shadowed[doc_id] = [p for p in manifest.shadowed[doc_id] if p != key]
    report.timings["scan"] = round(time.time() - started, 3)
    jobs = sorted(to_parse.items())
    load = None
    if full and len(jobs) >= PARALLEL_BUILD_THRESHOLD and _cpus() > 1:
        load = build.sharded_load(jobs, read_and_parse, _cpus(), progress)
    if load is not None:
        parsed_files, load.parsed = load.parsed, []
    else:
        parsed_files = parse_files(jobs, progress)
    del jobs, to_parse, found  # a few hundred bytes a file: the parsed files say what is needed now
    scan.files.clear()

    winners: dict[str, Article] = {}
    with cycle_collection_paused():  # a record per file and owner per id: no cycles among them
        for parsed in parsed_files:
            _record(parsed, manifest, report, winners)
        _count_changes(parsed_files, manifest, report)
    report.deleted = len(gone)

    delete_ids -= set(winners)
    del parsed_files  # the workers' write phase is the build's peak: hold no more than needed
    report.timings["parse"] = round(time.time() - started - sum(report.timings.values()), 3)
    if load is not None:
        winners.clear()
        load.start(manifest.owners)
        # while the workers write, the manifest waits encoded: a fraction of its size as objects
        state = BuildState(manifest.encode(), {}, manifest.file_count())
        manifest = Manifest()
        release_free_memory()
        report.articles = load.finish()
    else:
        articles = list(winners.values())
        report.articles = len(articles)
        build.delete(sorted(delete_ids))
        build.upsert(articles)
        del articles
        state = BuildState(manifest.encode(), {}, manifest.file_count())
    report.documents = build.document_count()
    report.timings["write"] = round(time.time() - started - sum(report.timings.values()), 3)
    report.finished_at = time.time()
    report.seconds = report.finished_at - started
    report.generation = build.view_name
    build.publish(replace(state, report=report.to_dict()))
    report.timings["publish"] = round(time.time() - started - sum(report.timings.values()), 3)
    return report


def _count_changes(parsed_files: list[Parsed], manifest: Manifest, report: IndexReport) -> None:
    old = manifest.base
    row_of = old.row_of
    for parsed in parsed_files:
        row = row_of.get(parsed.key)
        before = old.failures.get(row, ("",))[0] if row is not None else ""
        if parsed.failure and not (row is not None and before == parsed.failure.reason):
            continue  # counted as failed only
        if row is None:
            report.added += 1
        elif old.sha1[row].decode() == parsed.sha1 and before == (parsed.failure.reason if parsed.failure else ""):
            report.unchanged += 1
        else:
            report.updated += 1
    report.unchanged += manifest.file_count() - len(parsed_files)
    # unchanged files that failed before still fail
    report.failures += [
        DocumentFailure(display, reason, line or None) for reason, line, display in manifest.kept_failures()
    ]


def _last_table(builder: Builder) -> tuple[ManifestTable, str]:
    """The last build's file records, and a warning when they cannot be read (every file is
    then read again, as if new: the index stays right, the update takes longer)."""
    try:
        return ManifestTable.from_state(builder.last_state()), ""
    except (ManifestError, ValueError, KeyError, TypeError) as exc:
        reason = f"the last build's file records cannot be read ({exc}); every file was read again"
        return ManifestTable.empty(), reason


def _unchanged(
    found: dict[str, tuple[str, str, int]], old: ManifestTable, max_file_bytes: int
) -> tuple[np.ndarray, dict[str, tuple[str, str, int]]]:
    """Rows of ``old`` whose files are found with the size and mtime recorded (a mask), and the
    found files to read. Sizes and mtimes are compared as arrays: one stat per file is the cost."""
    kept = np.zeros(len(old), bool)
    if not len(old):
        return kept, dict(found)
    row_of = old.row_of
    keys = list(found)
    rows = np.fromiter((row_of.get(key, -1) for key in keys), np.int64, len(keys))
    known = rows >= 0
    size, mtime = file_stats(list(itertools.compress(keys, known.tolist())))
    at = rows[known]
    same = np.zeros(len(keys), bool)
    # a changed max_file_bytes re-reads the files it now lets in or keeps out
    same[known] = (size == old.size[at]) & (mtime == old.mtime[at]) & ((size > max_file_bytes) == old.too_big()[at])
    kept[rows[same]] = True
    to_parse = {keys[position]: found[keys[position]] for position in np.flatnonzero(~same).tolist()}
    return kept, to_parse


def _cpus() -> int:
    return min(usable_cores(), 4)


def _record(parsed: Parsed, manifest: Manifest, report: IndexReport, winners: dict[str, Article]) -> None:
    """Add one parsed file to the manifest, deciding which article owns each id."""
    entry = FileEntry(parsed.size, parsed.mtime_ns, parsed.sha1)
    manifest.files[parsed.key] = entry
    report.warnings.extend(parsed.warnings)
    if parsed.failure:
        entry.failure, entry.line = parsed.failure.reason, parsed.failure.line or 0
        entry.display = parsed.display
        report.failures.append(parsed.failure)
        return
    for article in parsed.articles:
        if article.id in entry.ids:  # a related entry repeating its own article's URL
            report.duplicates += 1
            continue
        entry.ids.append(article.id)
        claim = (parsed.key, not article.is_related, parsed.mtime_ns)
        owner = manifest.owners.get(article.id)
        if owner is None or owner[0] == parsed.key:
            manifest.owners[article.id] = claim
            winners[article.id] = article
            continue
        report.duplicates += 1
        if (claim[1], claim[2], claim[0]) > (owner[1], owner[2], owner[0]):
            manifest.shadowed.setdefault(article.id, []).append(owner[0])
            manifest.owners[article.id] = claim
            winners[article.id] = article
        else:
            manifest.shadowed.setdefault(article.id, []).append(parsed.key)


def index_articles(
    articles: Sequence[Article],
    index_dir: str | os.PathLike[str] | None = None,
    lock_timeout: float = 30.0,
    builder: Builder | None = None,
) -> str:
    """Publish a new view holding exactly ``articles`` (made in memory, not read from files; used
    to index judged test collections). Returns the view's name."""
    builder = _builder(builder, index_dir)
    with builder.begin(True, lock_timeout) as build:
        build.upsert(list(articles))
        return build.publish(BuildState(b"", {"articles": len(articles), "finished_at": time.time()}))
