"""The build lock: one builder at a time per index folder, an exclusive ``flock`` on ``build.lock``.

The kernel releases an ``flock`` when the last descriptor of its open file goes, so a builder that
dies (even by SIGKILL) leaves no stale lock, with two cases handled here:

- a process forked while the lock is held (a parse worker) would hold it too, for as long as it
  lives: every fork closes the inherited lock in the child (``os.register_at_fork``);
- a lock kept by such a child of a builder that is gone (as earlier versions left them) does not
  block: when the process that took the lock is dead, the lock file is replaced by a fresh one.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path

from searchsvc.errors import IndexLockedError

LOCK = "build.lock"
POLL_SECONDS = 0.1
_held: set[int] = set()  # descriptors of the build locks this process holds


def _drop_inherited_locks() -> None:
    """In a forked child: let go of the parent's build locks (the descriptor then names /dev/null)."""
    if not _held:
        return
    null = os.open(os.devnull, os.O_RDWR)
    for fd in _held:
        os.dup2(null, fd)
    os.close(null)
    _held.clear()


os.register_at_fork(after_in_child=_drop_inherited_locks)


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie, dead but not yet reaped, is not)."""
    if pid <= 0:
        return True  # unknown (another pid namespace): assume the worst
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return stat[stat.rfind(")") + 2 :][:1] not in ("Z", "X")


def _lockers(fd: int) -> list[int]:
    """The pids /proc/locks gives as takers of the flocks on ``fd``'s file (the process that
    took a lock, even when it is gone and only a child it forked keeps the lock)."""
    info = os.fstat(fd)
    wanted = (os.major(info.st_dev), os.minor(info.st_dev), info.st_ino)
    pids = []
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        fields = line.split()
        if "->" in fields or len(fields) < 6 or fields[1] != "FLOCK":
            continue  # a waiting request, or another kind of lock
        try:
            major, minor, inode = fields[5].split(":")
            if (int(major, 16), int(minor, 16), int(inode)) == wanted:
                pids.append(int(fields[4]))
        except ValueError:
            continue
    return pids


class BuildLock:
    """One builder at a time: an exclusive ``flock`` on ``INDEX/build.lock``.

    Waits up to ``timeout`` seconds, then raises IndexLockedError naming the holder. Raises
    OSError when the index folder cannot be created or written.
    """

    def __init__(self, index_dir: str | os.PathLike[str], timeout: float = 30.0) -> None:
        self.path = Path(index_dir) / LOCK
        self.timeout = timeout
        self._handle = None

    def __enter__(self) -> BuildLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.timeout
        handle = None
        try:
            while True:
                if handle is None:
                    handle = open(self.path, "ab")
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    locked = True
                except BlockingIOError:
                    locked = False
                if not self._same_file(handle):  # replaced (see _take_orphaned_lock): lock the new one
                    handle.close()
                    handle = None
                    continue
                if locked:
                    break
                if self._take_orphaned_lock():
                    continue
                if time.monotonic() >= deadline:
                    holder = self.holder() or "an unknown process"
                    raise IndexLockedError(
                        f"Another build holds {self.path} ({holder}); waited {self.timeout:g} s. "
                        "Wait for it to finish, or raise --lock-timeout."
                    )
                time.sleep(POLL_SECONDS)
        except BaseException:
            if handle is not None:
                handle.close()
            raise
        _held.add(handle.fileno())
        self._handle = handle
        self._write_holder(handle)
        return self

    def _same_file(self, handle) -> bool:
        try:
            return os.stat(self.path).st_ino == os.fstat(handle.fileno()).st_ino
        except FileNotFoundError:
            return False

    def _write_holder(self, handle) -> None:
        """Who holds the lock, for the message of a builder that waits; best effort (a full disk
        must not stop the build that would clean it up)."""
        info = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        try:  # unbuffered: a failed write must not linger in a buffer that close() flushes again
            os.ftruncate(handle.fileno(), 0)
            os.pwrite(handle.fileno(), json.dumps(info).encode("utf-8"), 0)
        except OSError:
            pass

    def _take_orphaned_lock(self) -> bool:
        """Replace ``build.lock`` when only children of a dead builder keep its lock; True if
        replaced. Under a guard lock, so that two waiters never both replace it."""
        guard_path = self.path.with_name(self.path.name + ".guard")
        try:
            guard = open(guard_path, "a+b")
        except OSError:
            return False
        with guard:
            fcntl.flock(guard.fileno(), fcntl.LOCK_EX)
            try:
                with open(self.path, "rb") as current:
                    lockers = _lockers(current.fileno())
            except FileNotFoundError:
                return True
            if not lockers or any(pid_alive(pid) for pid in lockers):
                return False
            fresh = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            try:
                fresh.touch()
                os.replace(fresh, self.path)
            except OSError:
                fresh.unlink(missing_ok=True)
                return False
            return True

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
            _held.discard(self._handle.fileno())
            try:
                os.ftruncate(self._handle.fileno(), 0)
            except OSError:
                pass
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
