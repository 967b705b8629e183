"""Tracebacks in log lines without the markers under the failing expression, because finding that
expression parses source code: on CPython 3.11 the traceback module runs ``ast.parse`` on each
frame's line for its ``^^^`` markers, and the AST constructor's recursion counter is shared by all
threads, so a traceback formatted in one thread (a failed background build, a request's 500) can
make a parse in another fail with ``SystemError: AST constructor recursion depth mismatch``
(Werkzeug compiling URL rules as an app starts, say), or fail itself. Everything else of a
traceback is kept: every frame with its line of source, chained causes and exception groups."""

from __future__ import annotations

import logging
import traceback

LINE_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


class PlainTracebackFormatter(logging.Formatter):
    """logging.Formatter whose tracebacks parse no source (plain_traceback)."""

    def formatException(self, ei) -> str:  # noqa: N802 - logging's name
        return plain_traceback(*ei).rstrip("\n")


def plain_traceback(exc_type, value, tb) -> str:
    """The traceback ``traceback.format_exception`` prints, without column markers."""
    te = traceback.TracebackException(exc_type, value, tb, compact=True)
    pending, seen = [te], set()
    while pending:  # every exception in the chain: causes, contexts, groups
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        for frame in current.stack:
            frame.colno = frame.end_colno = None  # no columns: no markers, nothing to parse
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]
        pending += getattr(current, "exceptions", None) or []
    return "".join(te.format())
