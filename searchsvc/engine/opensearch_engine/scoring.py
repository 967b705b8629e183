"""How the OpenSearch engine scores: the ranking model's bounded recency and quality boosts as a
Painless script, and the constant bonuses that rank complete matches (of a short relaxed query)
and words as typed (typo tolerance) first, taken off again before a score is shown."""

from __future__ import annotations

# added to the score of an article holding every word of a short relaxed query, so that it ranks
# above those holding only some (and taken off again before the score is shown)
COMPLETE_BONUS = 100_000.0
SCORE_SCRIPT = """
double boost = 1.0;
if (params.rw > 0 && doc['published_at'].size() != 0) {
  double age = Math.max(params.newest - doc['published_at'].value.toInstant().toEpochMilli(), 0) / 86400000.0;
  boost += params.rw * Math.pow(2, -age / params.half);
}
if (params.qw > 0 && params.qscale > 0 && doc['quality'].size() != 0) {
  boost += params.qw * Math.min(Math.max(doc['quality'].value / params.qscale, 0.0), 1.0);
}
return _score * boost;
"""


def tiered(query: dict, tiers: list[dict]) -> dict:
    """``query`` with the edit bonuses of typo tolerance (typos.py), when some word was corrected."""
    return {"bool": {"must": [query], "should": tiers}} if tiers else query
