"""Worker processes: how many cores they may use, and dying with their parent (parse pools,
build workers, a forked second core)."""

from __future__ import annotations

import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1


def usable_cores() -> int:
    """The CPUs this process may run on (its affinity mask, which a container's cpuset narrows), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no sched_getaffinity (macOS)
        return max(1, os.cpu_count() or 1)


def die_with_parent(parent_pid: int) -> None:
    """In a forked worker: be killed when the parent dies (even by SIGKILL), rather than live on as
    an orphan blocked on a pipe nobody reads. Linux only; elsewhere the closed pipe ends it."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)
