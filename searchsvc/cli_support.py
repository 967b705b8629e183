"""What the ``searchsvc`` commands share: settings from the command line, and click's errors
for searchsvc's (an option named as the user typed it, where to build a missing index)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import click

from searchsvc.config import Settings, load_settings
from searchsvc.errors import IndexNotFoundError, QueryError, SearchsvcError

# search request parameter (parse_request's names) -> the ``search`` option that sets it
SEARCH_OPTIONS = {
    "q": "QUERY",
    **{name: f"--{name}" for name in ("provider", "topic", "domain", "category", "type", "from", "to")},
    **{name: f"--{name}" for name in ("published", "sort", "page", "facets")},
    "per_page": "--per-page",
    "facet_size": "--facet-size",
    "collapse": "--no-collapse",
    "typos": "--no-typos",
}


def settings_of(ctx: click.Context, **flags: Any) -> Settings:
    try:
        return load_settings(flags, config_file=ctx.obj.get("config") if ctx.obj else None)
    except SearchsvcError as exc:
        raise click.ClickException(str(exc)) from None


def no_index_error(exc: IndexNotFoundError, settings: Settings) -> click.ClickException:
    """Where the index was looked for (absolute) and the commands that build one there."""
    if settings.engine != "whoosh":
        return click.ClickException(str(exc))
    index = f"--index {shell_word(str(exc.index_dir))}"
    build = " ".join(["searchsvc index", *map(shell_word, settings.source), index])
    return click.ClickException(
        f"No index at {Path(exc.index_dir).absolute()}. Build one with '{build}' "
        f"(or start 'searchsvc serve {index}', which builds it)."
    )


def shell_word(text: str) -> str:
    """``text`` as one shell word, in double quotes when it needs quoting (the message quotes in ')."""
    if shlex.quote(text) == text:
        return text
    return '"' + re.sub(r'([\\"$`])', r"\\\1", text) + '"'


def option_error(exc: QueryError) -> click.BadParameter:
    """A parse_request error as click reports a bad option: naming ``--per-page``, not 'per_page'."""
    option = SEARCH_OPTIONS.get(exc.parameter or "", exc.parameter)
    message = str(exc).removeprefix(f"Parameter {exc.parameter!r} ")
    message = re.sub(r"^\((.+?)\) is after 'to' \((.+?)\)", r"\1 is after --to (\2)", message)
    return click.BadParameter(message, param_hint=f"'{option}'")
