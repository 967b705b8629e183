"""Index generations on disk: ``gen-NNNNNN/`` folders, a ``CURRENT`` pointer, and the build lock.

A build writes a new generation beside the current one and then replaces ``CURRENT`` with an
atomic rename, so readers see either the old or the new generation, never half of one. A build
that dies (even by SIGKILL) leaves an unfinished folder that ``CURRENT`` never named; the next
build removes it, and a build that fails removes its own. The build lock is in build_lock.py.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from searchsvc.engine.whoosh_engine.build_lock import LOCK, BuildLock
from searchsvc.errors import IndexNotFoundError, IndexWriteError

__all__ = ["LOCK", "BuildLock"]  # re-exported: the lock of the generations

CURRENT = "CURRENT"
KEEP = 2
_GEN = re.compile(r"^gen-(\d{6,})$")


@dataclass(frozen=True)
class Generation:
    number: int
    path: Path

    @property
    def name(self) -> str:
        return self.path.name


def generation_name(number: int) -> str:
    return f"gen-{number:06d}"


def current_generation(index_dir: str | os.PathLike[str]) -> Generation | None:
    """The generation ``CURRENT`` names, or None when there is none yet."""
    root = Path(index_dir)
    try:
        name = (root / CURRENT).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    match = _GEN.match(name)
    if not match or not (root / name).is_dir():
        return None
    return Generation(int(match.group(1)), root / name)


def require_generation(index_dir: str | os.PathLike[str]) -> Generation:
    generation = current_generation(index_dir)
    if generation is None:
        raise IndexNotFoundError(str(index_dir))
    return generation


def all_generations(index_dir: str | os.PathLike[str]) -> list[Generation]:
    root = Path(index_dir)
    if not root.is_dir():
        return []
    found = []
    for entry in root.iterdir():
        match = _GEN.match(entry.name)
        if match and entry.is_dir():
            found.append(Generation(int(match.group(1)), entry))
    return sorted(found, key=lambda g: g.number)


def new_generation(index_dir: str | os.PathLike[str]) -> Generation:
    """A fresh, empty folder numbered after every generation present (finished or not)."""
    root = Path(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    existing = all_generations(root)
    number = (existing[-1].number + 1) if existing else 1
    path = root / generation_name(number)
    path.mkdir()
    return Generation(number, path)


def publish_generation(index_dir: str | os.PathLike[str], generation: Generation) -> None:
    """Point ``CURRENT`` at ``generation`` in one atomic step, then drop old generations."""
    root = Path(index_dir)
    _fsync_tree(generation.path)
    tmp = root / f".{CURRENT}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(generation.name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, root / CURRENT)
    _fsync_dir(root)
    remove_old_generations(root)


def remove_old_generations(index_dir: str | os.PathLike[str], keep: int = KEEP) -> list[str]:
    """Remove all but the newest ``keep`` published generations, and any unfinished ones.

    Call only while holding the build lock (an unfinished generation may be another build's).
    """
    current = current_generation(index_dir)
    removed = []
    if current is None:
        for generation in all_generations(index_dir):
            shutil.rmtree(generation.path, ignore_errors=True)
            removed.append(generation.name)
        return removed
    kept = 0
    for generation in reversed(all_generations(index_dir)):
        if generation.number > current.number:
            # newer than CURRENT: a build that died before publishing
            shutil.rmtree(generation.path, ignore_errors=True)
            removed.append(generation.name)
        elif kept < keep:
            kept += 1
        else:
            shutil.rmtree(generation.path, ignore_errors=True)
            removed.append(generation.name)
    return removed


def link_generation(source: Generation, target: Generation) -> None:
    """Fill ``target`` with hard links to ``source``'s files (Whoosh segment files never change)."""
    for entry in source.path.iterdir():
        # (not the saved columns, which column_cache.py makes anew for the new generation, nor the
        # saved autocomplete index, made from its documents when first needed: completion_file.py;
        # nor what a process killed while writing either left, .NAME.PID.tmp)
        name = entry.name
        if name.endswith(("WRITELOCK", ".lock", "columns.npz", "completions.npz")):
            continue
        if name.startswith(".") and name.endswith(".tmp"):
            continue
        if entry.is_file():
            try:
                os.link(entry, target.path / entry.name)
            except OSError:
                shutil.copy2(entry, target.path / entry.name)


def _fsync_tree(path: Path) -> None:
    """Flush a generation's files and folder to disk. A file linked from an older generation
    (more than one link) was flushed when that one was published: the folder's fsync makes its
    new link durable, and fsyncing the file again would only commit the journal once more per file
    (a few milliseconds each, for every segment an update keeps)."""
    for entry in path.iterdir():
        info = entry.stat(follow_symlinks=False)
        if stat.S_ISREG(info.st_mode) and info.st_nlink == 1:
            fd = os.open(entry, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    _fsync_dir(path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_unpublished_generations(index_dir: str | os.PathLike[str]) -> list[str]:
    """Remove the generations newer than ``CURRENT`` (all of them when there is none): the
    unfinished work of a build that failed. Call only while holding the build lock."""
    current = current_generation(index_dir)
    removed = []
    for generation in all_generations(index_dir):
        if current is None or generation.number > current.number:
            shutil.rmtree(generation.path, ignore_errors=True)
            removed.append(generation.name)
    return removed


def write_error(exc: OSError, index_dir: str | os.PathLike[str], writing: str | None = None) -> IndexWriteError:
    """One line for an OSError met while building the index in ``index_dir``: what happened,
    where, what to do, and what is served meanwhile. ``writing``: the generation being written."""
    current = current_generation(index_dir)
    serving = (
        f"the index keeps serving {current.name}." if current else "there is no index to serve until a build succeeds."
    )
    reason = exc.strerror or str(exc)
    where = Path(index_dir) / writing if writing else Path(index_dir)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return IndexWriteError(f"{reason} while writing {where}: free some space and run the build again; {serving}")
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EEXIST):
        return IndexWriteError(
            f"Cannot write to the index folder {index_dir}: {reason}"
            + (f" ({exc.filename})" if exc.filename and Path(exc.filename) != Path(index_dir) else "")
            + ". Give a folder searchsvc may write to (--index or the index_dir setting), "
            f"or fix its mount or permissions; {serving}"
        )
    return IndexWriteError(f"{reason} while writing {where}: fix the cause and run the build again; {serving}")
