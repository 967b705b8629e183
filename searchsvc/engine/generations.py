"""Index generations on disk: ``gen-NNNNNN/`` folders, a ``CURRENT`` pointer, and the build lock.

A build writes a new generation beside the current one and then replaces ``CURRENT`` with an
atomic rename, so readers see either the old or the new generation, never half of one. A build
that dies (even by SIGKILL) leaves an unfinished folder that ``CURRENT`` never named; the next
build removes it. The lock is an ``flock`` on ``build.lock``, which the kernel releases when its
holder dies, so there is never a stale lock to clean up by hand.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from searchsvc.errors import IndexLockedError, IndexNotFoundError

CURRENT = "CURRENT"
LOCK = "build.lock"
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


class BuildLock:
    """One builder at a time: an exclusive ``flock`` on ``INDEX/build.lock``.

    Waits up to ``timeout`` seconds, then raises IndexLockedError naming the holder.
    """

    def __init__(self, index_dir: str | os.PathLike[str], timeout: float = 30.0) -> None:
        self.path = Path(index_dir) / LOCK
        self.timeout = timeout
        self._handle = None

    def __enter__(self) -> BuildLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = self.holder() or "an unknown process"
                    handle.close()
                    raise IndexLockedError(
                        f"Another build holds {self.path} ({holder}); waited {self.timeout:g} s. "
                        "Wait for it to finish, or raise --lock-timeout."
                    ) from None
                time.sleep(0.1)
        handle.seek(0)
        handle.truncate()
        info = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        handle.write(json.dumps(info))
        handle.flush()
        self._handle = handle
        return self

    def holder(self) -> str:
        try:
            info = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return ""
        if not info:
            return ""
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.get("since", 0)))
        return f"pid {info.get('pid')} on {info.get('host')} since {since}"

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            self._handle.seek(0)
            self._handle.truncate()
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def link_generation(source: Generation, target: Generation) -> None:
    """Fill ``target`` with hard links to ``source``'s files (Whoosh segment files never change)."""
    for entry in source.path.iterdir():
        if entry.is_file() and not entry.name.endswith(("WRITELOCK", ".lock")):
            try:
                os.link(entry, target.path / entry.name)
            except OSError:
                shutil.copy2(entry, target.path / entry.name)


def _fsync_tree(path: Path) -> None:
    for entry in path.iterdir():
        if entry.is_file():
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
