"""Log lines format tracebacks without parsing source: on CPython 3.11 a parse in one thread can
break a parse in another (log_format.py), and a server's threads log while others parse."""

from __future__ import annotations

import ast
import logging
import subprocess
import sys
import textwrap

from searchsvc.log_format import PlainTracebackFormatter, plain_traceback


def _lookup(values: dict) -> int:
    return values["missing"] + 1  # a failing expression inside its line: 3.11 marks it with ^^^


def _caught():
    try:
        try:
            _lookup({})
        except KeyError as exc:
            raise RuntimeError("the lookup failed") from exc
    except RuntimeError:
        return sys.exc_info()


def _record(exc_info) -> logging.LogRecord:
    return logging.LogRecord("searchsvc.test", logging.ERROR, __file__, 1, "it failed", None, exc_info)


def test_a_logged_traceback_keeps_every_frame_line_and_cause_without_markers():
    text = PlainTracebackFormatter("%(levelname)s %(message)s").format(_record(_caught()))
    lines = text.splitlines()
    assert lines[0] == "ERROR it failed"
    assert lines[1] == "Traceback (most recent call last):"
    assert 'return values["missing"] + 1  # a failing expression inside its line: 3.11 marks it with ^^^' in text
    assert "in _lookup" in text and "in _caught" in text
    assert "The above exception was the direct cause of the following exception:" in text
    assert lines[-1] == "RuntimeError: the lookup failed"
    assert [line for line in lines if set(line.strip()) <= set("^~") and line.strip()] == []


def test_formatting_a_traceback_parses_no_source(monkeypatch):
    exc_info = _caught()
    calls = []
    real_parse = ast.parse

    def recording_parse(*args, **kwargs):
        calls.append(args[0] if args else kwargs.get("source"))
        return real_parse(*args, **kwargs)

    monkeypatch.setattr(ast, "parse", recording_parse)
    plain = plain_traceback(*exc_info)
    assert calls == []
    assert plain.splitlines()[-1] == "RuntimeError: the lookup failed"
    logging.Formatter().formatException(exc_info)  # the standard formatter parses (on 3.11 and later)
    assert calls


def test_exception_groups_and_contexts_are_formatted_whole():
    def fail(n):
        raise ValueError(f"part {n}")

    errors = []
    for n in (1, 2):
        try:
            fail(n)
        except ValueError as exc:
            errors.append(exc)
    try:
        try:
            raise ExceptionGroup("two parts failed", errors)
        except ExceptionGroup:
            {}["context"]
    except KeyError:
        text = plain_traceback(*sys.exc_info())
    assert "ExceptionGroup: two parts failed (2 sub-exceptions)" in text
    assert "ValueError: part 1" in text and "ValueError: part 2" in text
    assert "During handling of the above exception, another exception occurred:" in text
    assert text.splitlines()[-1] == "KeyError: 'context'"


def test_the_servers_log_lines_use_it():
    script = textwrap.dedent(
        """
        import logging
        from searchsvc.server_setup import configure_logging
        configure_logging()
        try:
            {}["missing"] + 1
        except KeyError:
            logging.getLogger("searchsvc.web").exception("request failed")
            logging.getLogger("searchsvc.reindex").exception("re-index failed")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    lines = done.stderr.splitlines()
    assert lines[0].endswith(" searchsvc.web ERROR request failed")
    assert lines.count("Traceback (most recent call last):") == 2
    assert "re-index failed" in lines
    assert lines.count("KeyError: 'missing'") == 2
    assert [line for line in lines if line.strip() and set(line.strip()) <= set("^~")] == []
