"""Work split between a forked child and this process: the same results in the same order as
one process, the child's half redone here when the child fails, and no fork where one is unsafe
or not worth it. Used by an update's stats (test_file_stats.py)."""

from __future__ import annotations

import os
import threading

from searchsvc import second_core
from searchsvc.second_core import forked_call, in_halves


def _pids_and_squares(items):
    return os.getpid(), [n * n for n in items]


def test_the_child_does_the_first_half_and_this_process_the_second(forks):
    (child_pid, first), (our_pid, second) = in_halves(_pids_and_squares, list(range(11)), parallel_from=4)
    assert forks == [child_pid]
    assert our_pid == os.getpid() != child_pid
    assert (first, second) == ([0, 1, 4, 9, 16], [25, 36, 49, 64, 81, 100])


def test_below_the_threshold_this_process_does_all(forks):
    assert in_halves(_pids_and_squares, [1, 2, 3], parallel_from=4) == [(os.getpid(), [1, 4, 9])]
    assert forks == []


def test_a_child_that_fails_leaves_its_half_to_this_process(forks):
    parent = os.getpid()

    def failing_in_the_child(items):
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return [n + 1 for n in items]

    assert in_halves(failing_in_the_child, [1, 2, 3, 4], parallel_from=2) == [[2, 3], [4, 5]]
    assert len(forks) == 1


def test_a_child_that_sends_what_cannot_be_unpickled_is_redone_here():
    parent = os.getpid()

    class Unloadable:
        def __reduce__(self):
            return (_refuse, ())

    def unloadable_from_the_child(items):
        return Unloadable() if os.getpid() != parent else list(items)

    assert in_halves(unloadable_from_the_child, [1, 2, 3, 4], parallel_from=2) == [[1, 2], [3, 4]]


def _refuse():
    raise ValueError("cannot be rebuilt")


def test_no_fork_while_another_thread_runs_or_with_one_core(monkeypatch, forks):
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert in_halves(_pids_and_squares, [1, 2, 3, 4], parallel_from=2) == [(os.getpid(), [1, 4, 9, 16])]
    finally:
        release.set()
        thread.join()
    monkeypatch.setattr(second_core, "usable_cores", lambda: 1)
    assert in_halves(_pids_and_squares, [1, 2, 3, 4], parallel_from=2) == [(os.getpid(), [1, 4, 9, 16])]
    assert forks == []


def _encode(records: dict) -> bytearray:
    return bytearray(repr(sorted(records.items())).encode())


def test_a_forked_call_computes_in_a_child_what_the_call_would_here(forks):
    records = {"b.md": 2, "a.md": 1}
    with forked_call(_pids_and_squares, [3, 4]) as pending, forked_call(_encode, records) as encoded:
        records["c.md"] = 3  # after the fork: the child saw the records as they were
        child_pid, squares = pending.result()
        assert encoded.result() == bytearray(b"[('a.md', 1), ('b.md', 2)]")
    assert forks == [child_pid, *forks[1:]] and len(forks) == 2
    assert squares == [9, 16]


def test_a_forked_call_whose_child_fails_runs_here():
    parent = os.getpid()

    def failing_in_the_child():
        if os.getpid() != parent:
            os._exit(3)
        return "done here"

    with forked_call(failing_in_the_child) as pending:
        assert pending.result() == "done here"


def test_leaving_without_the_result_ends_the_child(forks):
    release = threading.Event()

    def slow():
        release.wait(60)  # (in the child, nothing sets it)
        return 1

    try:
        with forked_call(slow):
            raise RuntimeError("the write failed")
    except RuntimeError:
        pass
    (child,) = forks
    try:
        os.waitpid(child, 0)
    except ChildProcessError:
        pass  # reaped: it is gone
    else:
        raise AssertionError("the child was left running")
