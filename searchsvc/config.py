"""Settings: one table of (name, default, help).

Precedence, lowest first: the defaults below < a TOML file (``searchsvc.toml`` in the working
directory, or the file named by ``SEARCHSVC_CONFIG``) < ``SEARCHSVC_<NAME>`` environment variables
< command-line flags.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from searchsvc.errors import ConfigError


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    kind: type = str


SETTINGS: tuple[Setting, ...] = (
    Setting("engine", "whoosh", "The search engine: whoosh (embedded, one machine) or opensearch (a cluster).", str),
    Setting("index_dir", "index", "Where the index generations live.", str),
    Setting("source", ("seeds",), "Folders (or files) of articles to index.", tuple),
    Setting("lock_timeout", 30.0, "Seconds a second builder waits for the build lock.", float),
    Setting("host", "127.0.0.1", "Address the web server listens on.", str),
    Setting("port", 8080, "Port the web server listens on.", int),
    Setting("threads", 4, "Waitress worker threads per process.", int),
    Setting("workers", 0, "Server processes sharing the port; 0: one per usable core.", int),
    Setting("page_size_max", 100, "Largest page size a request may ask for.", int),
    Setting("facet_size", 10, "How many values each facet lists by default.", int),
    Setting("recency_weight", 0.3, "How much newer articles are favoured (0 turns it off).", float),
    Setting("quality_weight", 0.1, "How much higher-quality articles are favoured (0: off).", float),
    Setting("recency_half_life_days", 30.0, "Age in days at which the recency boost halves.", float),
    Setting("bm25_k1", 1.6, "BM25F term-frequency saturation (higher: repeated words count longer).", float),
    Setting(
        "bm25_b", "title=0.5, topics=0.3, excerpt=0.75, body=0.75", "BM25F length normalisation per field (0-1).", str
    ),
    Setting("field_weights", "title=3, topics=2, excerpt=1.5, body=1", "How much a match in each field counts.", str),
    Setting("relax_below", 10, "Fewer full matches than this add matches of some of the words (0: never).", int),
    Setting("and_like_words", 4, "Relaxed queries up to this many words rank full matches first.", int),
    Setting("collapse", True, "Fold syndicated copies of an article into one hit.", bool),
    Setting("result_cache", 512, "Search results kept per process (0 turns the cache off).", int),
    Setting("reindex_every", "", "Re-index the source this often while serving (e.g. 15m).", str),
    Setting("reindex_cron", "", "Re-index on this cron schedule (e.g. '*/15 * * * *').", str),
    Setting("full_reindex_cron", "", "Full rebuild on this cron schedule.", str),
    Setting("admin_token", "", "Token for POST /api/admin/reindex; empty disables it.", str),
    Setting("cors_origins", (), "Origins allowed to call the API from a browser.", tuple),
    Setting("max_file_bytes", 5_000_000, "Larger article files are reported and skipped.", int),
    Setting("follow_external_links", False, "Follow symlinks that point outside the source folders.", bool),
    Setting("reindex_timeout", 1800.0, "Seconds a scheduled or admin re-index may run before it is killed.", float),
    Setting("search_timeout", 1.0, "Seconds of work one search may take before it is refused with a 400.", float),
    Setting("max_query_terms", 256, "Most words, phrases and prefixes one query may hold.", int),
    Setting("max_prefix_terms", 2000, "Most indexed words the prefixes (word*) of one query may expand to.", int),
    Setting("max_filter_values", 100, "Most filter values (provider=, topic=, ...) one request may hold.", int),
    Setting(
        "export_max_rows",
        1_000_000,
        "Most rows one export (/api/export.csv, .jsonl, searchsvc export) may hold; a larger one is refused "
        "unless it asks for the first N with limit (0: no cap).",
        int,
    ),
    Setting(
        "typo_tolerance",
        True,
        "A rare or unknown query word of 5+ letters also matches known words 1 edit away (2 from 9 letters).",
        bool,
    ),
    Setting("typo_candidates", 8, "Most known words one misspelt query word may also match.", int),
    Setting(
        "opensearch_url",
        ("http://127.0.0.1:9200",),
        "The OpenSearch cluster's nodes (engine = opensearch), comma-separated; requests fail over between them.",
        tuple,
    ),
    Setting("opensearch_user", "", "User name for the cluster (HTTP basic authentication); empty: none.", str),
    Setting("opensearch_password", "", "Password of opensearch_user.", str),
    Setting("opensearch_ca_certs", "", "A CA bundle (PEM file) to verify the cluster's TLS certificates.", str),
    Setting("opensearch_verify_certs", True, "Verify the cluster's TLS certificates (https URLs).", bool),
    Setting("opensearch_index_prefix", "searchsvc", "Names of the cluster's indexes and alias start with this.", str),
    Setting(
        "opensearch_timeout", 10.0, "Seconds one request to the cluster may take before another node is tried.", float
    ),
    Setting("opensearch_shards", 1, "Primary shards of each index the cluster engine creates.", int),
    Setting(
        "opensearch_replicas",
        "0-1",
        "Replicas of each shard: a number, or a range the cluster fills as nodes join (0-1).",
        str,
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}
CONFIG_FILE = "searchsvc.toml"
ENV_PREFIX = "SEARCHSVC_"


@dataclass(frozen=True)
class Settings:
    engine: str = "whoosh"
    index_dir: str = "index"
    source: tuple[str, ...] = ("seeds",)
    lock_timeout: float = 30.0
    host: str = "127.0.0.1"
    port: int = 8080
    threads: int = 4
    workers: int = 0
    page_size_max: int = 100
    facet_size: int = 10
    recency_weight: float = 0.3
    quality_weight: float = 0.1
    recency_half_life_days: float = 30.0
    bm25_k1: float = 1.6
    bm25_b: str = "title=0.5, topics=0.3, excerpt=0.75, body=0.75"
    field_weights: str = "title=3, topics=2, excerpt=1.5, body=1"
    relax_below: int = 10
    and_like_words: int = 4
    collapse: bool = True
    result_cache: int = 512
    reindex_every: str = ""
    reindex_cron: str = ""
    full_reindex_cron: str = ""
    admin_token: str = field(default="", repr=False)
    cors_origins: tuple[str, ...] = ()
    max_file_bytes: int = 5_000_000
    follow_external_links: bool = False
    reindex_timeout: float = 1800.0
    search_timeout: float = 1.0
    max_query_terms: int = 256
    max_prefix_terms: int = 2000
    max_filter_values: int = 100
    export_max_rows: int = 1_000_000
    typo_tolerance: bool = True
    typo_candidates: int = 8
    opensearch_url: tuple[str, ...] = ("http://127.0.0.1:9200",)
    opensearch_user: str = ""
    opensearch_password: str = field(default="", repr=False)
    opensearch_ca_certs: str = ""
    opensearch_verify_certs: bool = True
    opensearch_index_prefix: str = "searchsvc"
    opensearch_timeout: float = 10.0
    opensearch_shards: int = 1
    opensearch_replicas: str = "0-1"

    def replace(self, **changes: Any) -> Settings:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        for name, value in changes.items():
            if value is None:
                continue
            values[name] = coerce(name, value, "argument")
        return Settings(**values)


def coerce(name: str, value: Any, origin: str) -> Any:
    """Turn a raw value (from TOML, the environment or a flag) into the setting's type."""
    setting = _BY_NAME.get(name)
    if setting is None:
        known = ", ".join(sorted(_BY_NAME))
        raise ConfigError(f"Unknown setting {name!r} in {origin}. Known settings: {known}.")
    kind = setting.kind
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if kind is tuple:
            if isinstance(value, str):
                return tuple(part.strip() for part in value.split(",") if part.strip())
            return tuple(str(part) for part in value)
        if kind is int and isinstance(value, bool):
            raise ValueError(value)
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"Setting {name} in {origin} must be {kind.__name__}, got {value!r}.") from None


def load_settings(
    overrides: dict[str, Any] | None = None,
    config_file: str | os.PathLike[str] | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Defaults < TOML file < SEARCHSVC_* environment < ``overrides`` (flags; None = unset)."""
    environ = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    path = config_file or environ.get(ENV_PREFIX + "CONFIG")
    if path is None and Path(CONFIG_FILE).is_file():
        path = CONFIG_FILE
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"Config file {path} does not exist. Create it or unset SEARCHSVC_CONFIG.") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"Config file {path} is not valid TOML: {exc}. Fix the file.") from None
        section = data.get("searchsvc", data)
        for name, value in section.items():
            values[name] = coerce(name, value, str(path))
    for setting in SETTINGS:
        raw = environ.get(ENV_PREFIX + setting.name.upper())
        if raw is not None:
            values[setting.name] = coerce(setting.name, raw, ENV_PREFIX + setting.name.upper())
    for name, value in (overrides or {}).items():
        if value is not None:
            values[name] = coerce(name, value, "--" + name.replace("_", "-"))
    return Settings(**values)


def settings_table_markdown() -> str:
    """The settings table as it stands in the README."""
    rows = ["| setting | environment | default | meaning |", "| --- | --- | --- | --- |"]
    for s in SETTINGS:
        default = ", ".join(s.default) if isinstance(s.default, tuple) else s.default
        if isinstance(default, bool):
            default = str(default).lower()
        rows.append(f"| `{s.name}` | `{ENV_PREFIX}{s.name.upper()}` | `{default}` | {s.help} |")
    return "\n".join(rows)
