"""Index a source tree: find files, skip unchanged ones, parse the rest in parallel, resolve
duplicate URLs, and write a new index generation that replaces the current one atomically."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from searchsvc import engine
from searchsvc.documents import Article, parse_article
from searchsvc.engine.whoosh_engine.build_workers import ShardWorkers, die_with_parent, stop_workers
from searchsvc.engine.whoosh_engine.generations import (
    BuildLock,
    current_generation,
    link_generation,
    new_generation,
    publish_generation,
    remove_old_generations,
    remove_unpublished_generations,
    write_error,
)
from searchsvc.errors import DocumentError
from searchsvc.memory import release_free_memory
from searchsvc.report import DocumentFailure, IndexReport
from searchsvc.sources import scan_sources

MANIFEST = "manifest.json"
PARALLEL_PARSE_THRESHOLD = 2000
PARALLEL_BUILD_THRESHOLD = 4000
MAX_FILE_BYTES = 5_000_000  # the default of the max_file_bytes setting
Progress = Callable[[int, int], None]
# one file to read: (absolute path, (path as found, id of an article without a URL, max_file_bytes))
Job = tuple[str, tuple[str, str, int]]


@dataclass(slots=True)
class FileEntry:
    size: int
    mtime_ns: int
    sha1: str
    ids: list[str] = field(default_factory=list)
    failure: str = ""
    line: int = 0
    display: str = ""  # the path as the user gave it; kept for failed files, to report them
    # ids this file carries but another file's article won (see _record)
    lost: list[str] = field(default_factory=list)


@dataclass
class Manifest:
    """What the last build saw of each file, and which file's article the index holds per id.

    Saved per generation as ``manifest.json``. Ownership is not saved: it follows from each
    file's ids (its own article first, then its related entries) and the ids it lost.
    """

    files: dict[str, FileEntry] = field(default_factory=dict)
    # id -> [path, is_top_level, mtime_ns] of the file whose article the index holds
    owners: dict[str, list] = field(default_factory=dict)
    # id -> files that also carry the id but lost to the owner
    shadowed: dict[str, list[str]] = field(default_factory=dict)
    report: dict = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        try:
            data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return cls()
        files = {path: FileEntry(*entry) for path, entry in data.get("files", {}).items()}
        owners: dict[str, list] = {}
        shadowed: dict[str, list[str]] = {}
        for path, entry in files.items():
            lost = set(entry.lost)
            for position, doc_id in enumerate(entry.ids):
                if doc_id in lost:
                    shadowed.setdefault(doc_id, []).append(path)
                else:
                    owners[doc_id] = (path, position == 0, entry.mtime_ns)
        return cls(files, owners, shadowed, data.get("report", {}))

    def encode_files(self) -> str:
        """The ``files`` part of the saved manifest, as JSON text (see ``save``)."""
        files = {}
        for path, e in self.files.items():
            lost = [i for i in e.ids if (self.owners.get(i) or ("",))[0] != path]
            files[path] = [e.size, e.mtime_ns, e.sha1, e.ids, e.failure, e.line, e.display, lost]
        return json.dumps(files, separators=(",", ":"))

    def save(self, folder: Path, encoded_files: str | None = None) -> None:
        """Write ``manifest.json``; ``encoded_files`` is ``encode_files()`` made earlier (a full
        build encodes the files and drops them before its write phase, its memory peak)."""
        if encoded_files is None:
            encoded_files = self.encode_files()
        tmp = folder / (MANIFEST + ".tmp")
        with open(tmp, "w", encoding="utf-8") as out:
            out.write('{"files":')
            out.write(encoded_files)
            out.write(',"report":')
            out.write(json.dumps(self.report, separators=(",", ":")))
            out.write("}")
        os.replace(tmp, folder / MANIFEST)


def read_manifest(index_dir: str | os.PathLike[str]) -> Manifest | None:
    generation = current_generation(index_dir)
    return Manifest.load(generation.path) if generation else None


@dataclass
class _Parsed:
    key: str
    display: str
    size: int
    mtime_ns: int
    sha1: str
    articles: list[Article] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failure: DocumentFailure | None = None


def _too_big(size: int, limit: int) -> str:
    return (
        f"file is {size:,} bytes, larger than the max_file_bytes setting ({limit:,} bytes); skipped. "
        "Raise max_file_bytes to index it"
    )


def _read_and_parse(job: Job) -> _Parsed:
    key, (display, id_path, max_bytes) = job
    try:
        info = os.stat(key)
        if info.st_size > max_bytes:  # never read whole
            failure = DocumentFailure(display, _too_big(info.st_size, max_bytes))
            return _Parsed(key, display, info.st_size, info.st_mtime_ns, "", failure=failure)
        with open(key, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        return _Parsed(key, display, 0, 0, "", failure=DocumentFailure(display, f"cannot read: {exc.strerror}"))
    if len(data) > max_bytes:  # grew since stat
        failure = DocumentFailure(display, _too_big(len(data), max_bytes))
        return _Parsed(key, display, len(data), info.st_mtime_ns, "", failure=failure)
    parsed = _Parsed(key, display, info.st_size, info.st_mtime_ns, hashlib.sha1(data).hexdigest())
    try:
        result = parse_article(display, data, id_path)
    except DocumentError as exc:
        parsed.failure = DocumentFailure(display, exc.reason, exc.line)
        return parsed
    except Exception as exc:  # noqa: BLE001 - one file's bug must not stop the build
        reason = f"could not be read as an article ({type(exc).__name__}); please report this file as a bug"
        parsed.failure = DocumentFailure(display, reason)
        return parsed
    parsed.articles = result.articles
    parsed.warnings = result.warnings
    return parsed


def parse_files(jobs: Sequence[Job], progress: Progress | None = None) -> list[_Parsed]:
    """Parse files (in worker processes when there are many), in the order given."""
    results: list[_Parsed] = []
    if len(jobs) >= PARALLEL_PARSE_THRESHOLD and (os.cpu_count() or 1) > 1:
        context = multiprocessing.get_context("fork")
        workers = min(os.cpu_count() or 1, 4)
        with context.Pool(workers, initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
            for parsed in pool.imap(_read_and_parse, jobs, chunksize=256):
                results.append(parsed)
                if progress and len(results) % 1000 == 0:
                    progress(len(results), len(jobs))
    else:
        for parsed in map(_read_and_parse, jobs):
            results.append(parsed)
            if progress and len(results) % 1000 == 0:
                progress(len(results), len(jobs))
    if progress:
        progress(len(results), len(jobs))
    return results


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
    index_dir: str | os.PathLike[str],
    full: bool = False,
    lock_timeout: float = 30.0,
    progress: Progress | None = None,
    max_file_bytes: int = MAX_FILE_BYTES,
    follow_external_links: bool = False,
) -> IndexReport:
    """Bring the index at ``index_dir`` up to date with ``sources`` and publish a new generation.

    Files over ``max_file_bytes`` are reported and skipped; symlinks that leave the source folders
    are followed only with ``follow_external_links``."""
    sources = [str(s) for s in sources]
    unfinished: list[str] = []
    try:
        with BuildLock(index_dir, lock_timeout):
            remove_old_generations(index_dir)
            try:
                return _build_locked(sources, Path(index_dir), full, progress, max_file_bytes, follow_external_links)
            except BaseException:
                # failed (an error, Ctrl+C, a full disk): no worker and no unfinished generation is left
                stop_workers()
                unfinished = remove_unpublished_generations(index_dir)
                raise
    except OSError as exc:
        error = write_error(exc, index_dir, unfinished[-1] if unfinished else None)
    # raised outside the handler, so it drops the OSError's frames, which hold the failed writers' open files
    raise error


def _build_locked(
    sources: list[str],
    index_dir: Path,
    full: bool,
    progress: Progress | None,
    max_file_bytes: int = MAX_FILE_BYTES,
    follow_external_links: bool = False,
) -> IndexReport:
    started = time.time()
    cwd = os.getcwd()
    current = current_generation(index_dir)
    full = full or current is None
    old = Manifest() if full else Manifest.load(current.path)
    scan = scan_sources(sources, follow_external_links)
    report = IndexReport(full=full, started_at=started, failures=list(scan.failures), warnings=list(scan.warnings))

    found: dict[str, tuple[str, str, int]] = {}
    for path, id_path in scan.files:
        found.setdefault(path if os.path.isabs(path) else os.path.join(cwd, path), (path, id_path, max_file_bytes))

    manifest = Manifest(owners=dict(old.owners), shadowed={k: list(v) for k, v in old.shadowed.items()})
    to_parse: dict[str, tuple[str, str, int]] = {}
    for key, job in found.items():
        entry = old.files.get(key)
        if entry is None:
            to_parse[key] = job
            continue
        try:
            info = os.stat(key)
        except OSError:
            to_parse[key] = job
            continue
        if (
            info.st_size == entry.size
            and info.st_mtime_ns == entry.mtime_ns
            # a changed max_file_bytes re-reads the files it now lets in or keeps out
            and (entry.size > max_file_bytes) == ("max_file_bytes" in entry.failure)
        ):
            manifest.files[key] = entry
        else:
            to_parse[key] = job
    # what was indexed from a folder that cannot be read now is kept, not deleted
    unreadable = tuple(p if os.path.isabs(p) else os.path.join(cwd, p) for p in scan.unreadable)
    gone = []
    for key, entry in old.files.items():
        if key in found:
            continue
        if unreadable and key.startswith(unreadable):
            manifest.files[key] = entry
        else:
            gone.append(key)

    # Release what deleted and re-parsed files held; files that lost those ids get another look.
    delete_ids: set[str] = set()
    for key in gone + [k for k in to_parse if k in old.files]:
        for doc_id in old.files[key].ids:
            owner = manifest.owners.get(doc_id)
            if owner and owner[0] == key:
                del manifest.owners[doc_id]
                delete_ids.add(doc_id)
                for other in manifest.shadowed.pop(doc_id, []):
                    if other in manifest.files and other in found and other != key:
                        to_parse.setdefault(other, found[other])
            elif doc_id in manifest.shadowed:
                manifest.shadowed[doc_id] = [p for p in manifest.shadowed[doc_id] if p != key]
    if not full and not to_parse and not gone:
        report.unchanged = len(manifest.files)
        report.failures += [
            DocumentFailure(e.display, e.failure, e.line or None) for e in manifest.files.values() if e.failure
        ]
        report.generation = current.name
        report.documents = old.report.get("documents") or engine.document_count(current.path)
        report.finished_at = time.time()
        report.seconds = report.finished_at - started
        return report
    report.timings["scan"] = round(time.time() - started, 3)
    jobs = sorted(to_parse.items())
    workers = None
    if full and len(jobs) >= PARALLEL_BUILD_THRESHOLD and _cpus() > 1:
        workers = ShardWorkers(jobs, _cpus(), progress)
        parsed_files, workers.parsed = workers.parsed, []
    else:
        parsed_files = parse_files(jobs, progress)

    winners: dict[str, Article] = {}
    for parsed in parsed_files:
        _record(parsed, manifest, report, winners)
    _count_changes(parsed_files, old, manifest, report)
    report.deleted = len(gone)

    delete_ids -= set(winners)
    del parsed_files  # the workers' write phase is the build's peak: hold no more than needed
    encoded_files = None
    if workers is not None:
        winners.clear()
    report.timings["parse"] = round(time.time() - started - sum(report.timings.values()), 3)
    generation = new_generation(index_dir)
    if workers is not None:
        workers.start_writing(generation.path, manifest.owners)
        # while they write, the manifest waits as JSON text: a sixth of its size as objects
        encoded_files = manifest.encode_files()
        manifest = Manifest()
        release_free_memory()
        report.articles = workers.finish_writing()
    elif full:
        articles = list(winners.values())
        engine.write_full(generation.path, articles)
        report.articles = len(articles)
    else:
        articles = list(winners.values())
        report.articles = len(articles)
        link_generation(current, generation)
        (generation.path / MANIFEST).unlink(missing_ok=True)
        engine.write_changes(generation.path, sorted(delete_ids), articles)
    report.documents = engine.document_count(generation.path)
    report.timings["write"] = round(time.time() - started - sum(report.timings.values()), 3)
    report.generation = generation.name
    report.finished_at = time.time()
    report.seconds = report.finished_at - started
    manifest.report = report.to_dict()
    manifest.save(generation.path, encoded_files)
    publish_generation(index_dir, generation)
    report.timings["publish"] = round(time.time() - started - sum(report.timings.values()), 3)
    return report


def _count_changes(parsed_files: list[_Parsed], old: Manifest, manifest: Manifest, report: IndexReport) -> None:
    for parsed in parsed_files:
        previous = old.files.get(parsed.key)
        if parsed.failure and not (previous and previous.failure == parsed.failure.reason):
            continue  # counted as failed only
        if previous is None:
            report.added += 1
        elif previous.sha1 == parsed.sha1 and previous.failure == (parsed.failure.reason if parsed.failure else ""):
            report.unchanged += 1
        else:
            report.updated += 1
    report.unchanged += len(manifest.files) - len(parsed_files)
    # unchanged files that failed before still fail
    reparsed = {p.key for p in parsed_files}
    for key, entry in manifest.files.items():
        if entry.failure and key not in reparsed:
            report.failures.append(DocumentFailure(entry.display, entry.failure, entry.line or None))


def _cpus() -> int:
    return max(1, min(len(os.sched_getaffinity(0)), 4))


def _record(parsed: _Parsed, manifest: Manifest, report: IndexReport, winners: dict[str, Article]) -> None:
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


def index_articles(articles: Sequence[Article], index_dir: str | os.PathLike[str], lock_timeout: float = 30.0) -> str:
    """Publish a new generation holding exactly ``articles`` (made in memory, not read from
    files; used to index judged test collections). Returns the generation's name."""
    with BuildLock(index_dir, lock_timeout):
        remove_old_generations(index_dir)
        generation = new_generation(index_dir)
        engine.write_full(generation.path, list(articles))
        Manifest(report={"articles": len(articles), "finished_at": time.time()}).save(generation.path)
        publish_generation(index_dir, generation)
        return generation.name
