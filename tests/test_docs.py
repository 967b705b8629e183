"""The README stays honest: every setting appears in it, as settings_table_markdown() renders it."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from searchsvc.config import ENV_PREFIX, SETTINGS, settings_table_markdown

README = Path(__file__).resolve().parents[1] / "README.md"
TABLE_ROWS = settings_table_markdown().splitlines()[2:]


@functools.cache
def readme_lines() -> list[str]:
    return README.read_text(encoding="utf-8").splitlines() if README.is_file() else []


@pytest.mark.parametrize("setting, row", list(zip(SETTINGS, TABLE_ROWS, strict=True)), ids=[s.name for s in SETTINGS])
def test_every_setting_appears_in_the_readme_settings_table(setting, row):
    assert f"`{ENV_PREFIX}{setting.name.upper()}`" in row
    assert README.is_file(), f"{README} does not exist; it must document the settings"
    assert row in readme_lines(), (
        f"README.md lacks the row for {setting.name!r}; paste settings_table_markdown() into it:\n{row}"
    )
