"""config: defaults < TOML file < SEARCHSVC_* environment < flags, and errors that name the setting."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from searchsvc.config import SETTINGS, Settings, load_settings, settings_table_markdown
from searchsvc.errors import ConfigError


@pytest.fixture
def toml_file(clean_environ: Path):
    def write(text: str, name: str = "settings.toml") -> Path:
        path = clean_environ / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def test_defaults_match_the_settings_table(clean_environ):
    settings = load_settings(environ={})

    assert settings == Settings()
    for setting in SETTINGS:
        assert getattr(settings, setting.name) == setting.default, setting.name


def test_settings_table_and_settings_dataclass_name_the_same_settings():
    assert [s.name for s in SETTINGS] == list(Settings.__dataclass_fields__)


def test_toml_file_overrides_defaults(toml_file):
    path = toml_file('port = 9000\nsource = ["a", "b"]\ncollapse = false\nrecency_weight = 0\n')

    settings = load_settings(config_file=path, environ={})

    assert (settings.port, settings.source, settings.collapse, settings.recency_weight) == (
        9000,
        ("a", "b"),
        False,
        0.0,
    )
    assert settings.threads == 4


def test_toml_file_may_use_a_searchsvc_section(toml_file):
    path = toml_file('[searchsvc]\nindex_dir = "elsewhere"\nthreads = 2\n')
    settings = load_settings(config_file=path, environ={})
    assert (settings.index_dir, settings.threads) == ("elsewhere", 2)


def test_searchsvc_toml_in_the_working_directory_is_read(toml_file):
    toml_file("port = 9001\n", name="searchsvc.toml")
    assert load_settings(environ={}).port == 9001


def test_searchsvc_config_variable_names_the_file(toml_file):
    path = toml_file("port = 9002\n", name="other.toml")
    assert load_settings(environ={"SEARCHSVC_CONFIG": str(path)}).port == 9002


def test_environment_overrides_the_toml_file(toml_file):
    path = toml_file('port = 9000\nhost = "0.0.0.0"\n')

    settings = load_settings(
        config_file=path,
        environ={"SEARCHSVC_PORT": "9100", "SEARCHSVC_SOURCE": "x, y ,,z", "SEARCHSVC_COLLAPSE": "off"},
    )

    assert (settings.port, settings.host, settings.source, settings.collapse) == (
        9100,
        "0.0.0.0",
        ("x", "y", "z"),
        False,
    )


def test_flags_override_the_environment_and_none_leaves_a_setting_alone(toml_file):
    path = toml_file('port = 9000\nindex_dir = "from-toml"\n')

    settings = load_settings(
        {"port": 9200, "index_dir": None, "source": ("flag",)},
        config_file=path,
        environ={"SEARCHSVC_PORT": "9100", "SEARCHSVC_INDEX_DIR": "from-env"},
    )

    assert (settings.port, settings.index_dir, settings.source) == (9200, "from-env", ("flag",))


def test_unrelated_environment_variables_are_ignored(clean_environ):
    assert load_settings(environ={"SEARCHSVC_NOT_A_SETTING": "1", "PORT": "1"}) == Settings()


def test_settings_replace_coerces_and_skips_none():
    settings = Settings().replace(port="81", host=None)
    assert (settings.port, settings.host) == (81, "127.0.0.1")


@pytest.mark.parametrize(
    "name, raw, message",
    [
        ("PORT", "eighty", "Setting port in SEARCHSVC_PORT must be int, got 'eighty'."),
        ("PORT", "80.5", "Setting port in SEARCHSVC_PORT must be int, got '80.5'."),
        ("LOCK_TIMEOUT", "soon", "Setting lock_timeout in SEARCHSVC_LOCK_TIMEOUT must be float, got 'soon'."),
        ("COLLAPSE", "maybe", "Setting collapse in SEARCHSVC_COLLAPSE must be bool, got 'maybe'."),
    ],
)
def test_bad_environment_value_is_a_config_error_naming_the_setting(clean_environ, name, raw, message):
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={f"SEARCHSVC_{name}": raw})
    assert str(caught.value) == message


def test_bad_flag_value_is_a_config_error_naming_the_flag(clean_environ):
    with pytest.raises(ConfigError) as caught:
        load_settings({"threads": "many"}, environ={})
    assert str(caught.value) == "Setting threads in --threads must be int, got 'many'."


def test_boolean_for_an_integer_setting_is_a_config_error(toml_file):
    path = toml_file("port = true\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file=path, environ={})
    assert str(caught.value) == f"Setting port in {path} must be int, got True."


def test_unknown_setting_in_the_toml_file_is_a_config_error_listing_the_known_ones(toml_file):
    path = toml_file("prot = 9000\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file=path, environ={})
    known = ", ".join(sorted(s.name for s in SETTINGS))
    assert str(caught.value) == f"Unknown setting 'prot' in {path}. Known settings: {known}."


def test_unknown_flag_is_a_config_error(clean_environ):
    with pytest.raises(ConfigError, match=r"^Unknown setting 'colour' in --colour\. Known settings: "):
        load_settings({"colour": "blue"}, environ={})


def test_invalid_toml_is_a_config_error_naming_the_file(toml_file):
    path = toml_file("port = \n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file=path, environ={})
    assert str(caught.value).startswith(f"Config file {path} is not valid TOML: ")
    assert str(caught.value).endswith(". Fix the file.")


def test_missing_config_file_is_a_config_error(clean_environ):
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"SEARCHSVC_CONFIG": "missing.toml"})
    assert str(caught.value) == "Config file missing.toml does not exist. Create it or unset SEARCHSVC_CONFIG."


def test_settings_table_markdown_has_one_row_per_setting():
    rows = settings_table_markdown().splitlines()

    assert rows[:2] == ["| setting | environment | default | meaning |", "| --- | --- | --- | --- |"]
    assert len(rows) == 2 + len(SETTINGS)
    assert "| `source` | `SEARCHSVC_SOURCE` | `seeds` | Folders (or files) of articles to index. |" in rows
    assert "| `collapse` | `SEARCHSVC_COLLAPSE` | `true` | Fold syndicated copies of an article into one hit. |" in rows


def test_workers_default_to_one_per_usable_core_and_an_explicit_count_wins(clean_environ):
    from searchsvc.server_setup import worker_count

    assert Settings().workers == 0
    assert worker_count(load_settings(environ={})) == len(os.sched_getaffinity(0))
    assert worker_count(load_settings(environ={"SEARCHSVC_WORKERS": "3"})) == 3
    assert worker_count(load_settings({"workers": 1}, environ={"SEARCHSVC_WORKERS": "3"})) == 1


def test_usable_cores_follow_the_affinity_mask_not_the_machine():
    from searchsvc.server_setup import usable_cores

    allowed = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {min(allowed)})  # as a cpuset of one CPU would
        assert usable_cores() == 1
    finally:
        os.sched_setaffinity(0, allowed)
    assert usable_cores() == len(allowed)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_limit_malloc_arenas_sets_one_arena_unless_the_user_set_malloc_arena_max(monkeypatch):
    from searchsvc import server_setup

    calls = []

    class RecordingLibc:
        def mallopt(self, param: int, value: int) -> int:
            calls.append((param, value))
            return 1

    monkeypatch.setattr(server_setup.ctypes, "CDLL", lambda name: RecordingLibc())
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert server_setup.limit_malloc_arenas() is True
    assert calls == [(-8, 1)]
    calls.clear()
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert server_setup.limit_malloc_arenas() is True
    assert calls == []
