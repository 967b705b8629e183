"""The ranking model: every knob that orders results, in one place, read from the settings.

Engine-neutral: each engine reads what it can express (the Whoosh engine all of it; a cluster
engine maps field weights, k1 and b onto its own similarity). Field names here are the user's
(title, topics, excerpt, body). The defaults are the values measured best on the judged
collections (benchmarks/relevance.py; README "Relevance").
"""

from __future__ import annotations

from dataclasses import dataclass

from searchsvc.errors import ConfigError

RANKED_FIELDS = ("title", "topics", "excerpt", "body")


@dataclass(frozen=True)
class RankingModel:
    """The knobs; the defaults are those of the settings (config.py), built by from_settings."""

    # BM25F saturation (bm25_k1). Higher than BM25's usual 1.2 because field weights multiply term
    # frequencies before saturation (one title match already counts 3): at 1.2 a single weighted
    # match takes most of the score a word can give. On the judged collections every value from
    # 1.4 to 1.8 ranked better than FTS5 on all three; 1.6 is the middle of that plateau.
    k1: float
    # length normalisation per field (bm25_b): short fields (titles, topics) are normalised less
    b: dict[str, float]
    field_weights: dict[str, float]
    # When fewer documents than fill the first page (at most relax_below) match every word, the
    # documents matching some of the words follow them. A relaxed query of at most and_like_words
    # words still ranks the articles with every word first (a short query means all its words); a
    # longer one is prose, ranked by score alone (TIME MAP 0.688 -> 0.696).
    relax_below: int
    and_like_words: int
    # bounded boosts: text score x (1 + recency_weight * 2^(-age / half-life) + quality_weight * q)
    recency_weight: float
    recency_half_life_days: float
    quality_weight: float
    # term proximity (Büttcher et al.) on the best proximity_window matches, BM25-saturated
    proximity_window: int = 100
    proximity_k1: float = 1.2
    proximity_b: float = 0.75

    @classmethod
    def from_settings(cls, settings) -> RankingModel:
        return cls(
            k1=_positive("bm25_k1", settings.bm25_k1),
            b=parse_field_values("bm25_b", settings.bm25_b, upper=1.0),
            field_weights=parse_field_values("field_weights", settings.field_weights),
            recency_weight=_non_negative("recency_weight", settings.recency_weight),
            recency_half_life_days=_positive("recency_half_life_days", settings.recency_half_life_days),
            quality_weight=_non_negative("quality_weight", settings.quality_weight),
            relax_below=int(_non_negative("relax_below", settings.relax_below)),
            and_like_words=int(_non_negative("and_like_words", settings.and_like_words)),
        )


def parse_field_values(name: str, text: str, upper: float | None = None) -> dict[str, float]:
    """``"title=3, topics=2, excerpt=1.5, body=1"`` -> a value per ranked field (every field must
    be given once, each value >= 0 and, with ``upper``, at most ``upper``)."""
    values: dict[str, float] = {}
    for part in str(text).split(","):
        if not part.strip():
            continue
        key, equals, raw = part.partition("=")
        key = key.strip()
        if not equals or key not in RANKED_FIELDS or key in values:
            raise ConfigError(
                f"Setting {name} must give each of {', '.join(RANKED_FIELDS)} once as field=number "
                f"(e.g. 'title=3, topics=2, excerpt=1.5, body=1'); got {text!r}."
            )
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"Setting {name}: {key}={raw.strip()!r} is not a number.") from None
        if not value >= 0 or (upper is not None and value > upper):
            limit = f"from 0 to {upper:g}" if upper is not None else "0 or more"
            raise ConfigError(f"Setting {name}: {key} must be {limit}; got {value:g}.")
        values[key] = value
    missing = [f for f in RANKED_FIELDS if f not in values]
    if missing:
        raise ConfigError(f"Setting {name} does not give {', '.join(missing)}; give every one of {RANKED_FIELDS}.")
    return values


def _positive(name: str, value: float) -> float:
    if not value > 0:
        raise ConfigError(f"Setting {name} must be more than 0; got {value!r}.")
    return float(value)


def _non_negative(name: str, value: float) -> float:
    if not value >= 0:
        raise ConfigError(f"Setting {name} must be 0 or more; got {value!r}.")
    return value


def _default() -> RankingModel:
    from searchsvc.config import Settings

    return RankingModel.from_settings(Settings())


DEFAULT_RANKING = _default()
