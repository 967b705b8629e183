"""The neutral query tree (searchsvc.query_language) as OpenSearch query DSL: bool, match,
match_phrase (with slop), multi_match and prefix queries. Never ``query_string``: its syntax
errors and field access are not ours. OpenSearch analyses each word as the index does."""

from __future__ import annotations

from searchsvc import query_language as ql
from searchsvc.engine.opensearch_engine.mapping import SEARCH_FIELDS, TEXT_FIELDS
from searchsvc.engine.ranking import RankingModel
from searchsvc.query_terms import indexed_prefix

MATCH_NONE = {"match_none": {}}
MATCH_ALL = {"match_all": {}}


class Translator:
    def __init__(self, ranking: RankingModel) -> None:
        self.weights = ranking.field_weights

    def fields(self, field: str | None) -> list[str]:
        if field is not None:
            return [TEXT_FIELDS[field]]
        return [f"{TEXT_FIELDS[name]}^{self.weights[name]:g}" for name in SEARCH_FIELDS if self.weights[name] > 0]

    def query(self, node) -> dict:
        match node:
            case ql.Word(text=text, field=field):
                if field is not None:
                    return {"match": {TEXT_FIELDS[field]: {"query": text, "operator": "and"}}}
                return {
                    "multi_match": {
                        "query": text,
                        "fields": self.fields(None),
                        "type": "most_fields",
                        "operator": "and",
                    }
                }
            case ql.Phrase(words=words, field=field, slop=slop):
                text = " ".join(words)
                if field is not None:
                    return {"match_phrase": {TEXT_FIELDS[field]: {"query": text, "slop": slop}}}
                return {"multi_match": {"query": text, "fields": self.fields(None), "type": "phrase", "slop": slop}}
            case ql.Prefix(field=field):
                text = indexed_prefix(node)  # stemmed as a whole word, as the index's words are
                names = [TEXT_FIELDS[field]] if field is not None else [TEXT_FIELDS[n] for n in SEARCH_FIELDS]
                parts = [{"prefix": {name: {"value": text, "rewrite": "constant_score_boolean"}}} for name in names]
                return parts[0] if len(parts) == 1 else {"bool": {"should": parts, "minimum_should_match": 1}}
            case ql.Everything():
                return MATCH_ALL
            case ql.Nothing():
                return MATCH_NONE
            case ql.And(parts=parts):
                positive = [self.query(p) for p in parts if not isinstance(p, ql.Not)]
                negative = [self.query(p.part) for p in parts if isinstance(p, ql.Not)]
                return _bool(must=positive or [MATCH_ALL], must_not=negative)
            case ql.Or(parts=parts):
                should = []
                for part in parts:
                    if isinstance(part, ql.Not):
                        should.append(_bool(must=[MATCH_ALL], must_not=[self.query(part.part)]))
                    else:
                        should.append(self.query(part))
                return {"bool": {"should": should, "minimum_should_match": 1}}
            case ql.Not(part=part):
                return _bool(must=[MATCH_ALL], must_not=[self.query(part)])
            case ql.AndMaybe(required=required, optional=optional):
                return {"bool": {"must": [self.query(required)], "should": [self.query(optional)]}}
            case ql.Require(scored=scored, required=required):
                return {"bool": {"must": [self.query(scored)], "filter": [self.query(required)]}}
        raise TypeError(f"not a query node: {node!r}")

    def relaxed(self, words: list, required: list, excluded: list) -> dict:
        """Any of ``words``, every ``required`` part, none of ``excluded``: BM25 over the words as
        a bag, so more (and rarer) words rank higher."""
        body: dict = {"should": [self.query(w) for w in words], "minimum_should_match": 1}
        if required:
            body["must"] = [self.query(r) for r in required]
        if excluded:
            body["must_not"] = [self.query(e) for e in excluded]
        return {"bool": body}

    def proximity(self, words: list) -> list[dict]:
        """Bonus clauses for the query's words side by side (pairs in query order, a few apart),
        which lift an article holding "heat pumps" above one with "pumps ... heat"."""
        texts = [w.text for w in words if isinstance(w, ql.Word) and w.field is None]
        clauses = []
        for first, second in list(zip(texts, texts[1:], strict=False))[:8]:
            clauses.append(
                {
                    "multi_match": {
                        "query": f"{first} {second}",
                        "fields": self.fields(None),
                        "type": "phrase",
                        "slop": 2,
                    }
                }
            )
        return clauses


def _bool(must: list, must_not: list) -> dict:
    if len(must) == 1 and not must_not:
        return must[0]
    body: dict = {"must": must}
    if must_not:
        body["must_not"] = must_not
    return {"bool": body}


def plain_words(node) -> list:
    """The unfielded words of a query that is only words (for proximity), else []."""
    if isinstance(node, ql.And) and all(isinstance(p, ql.Word) and p.field is None for p in node.parts):
        return list(node.parts)
    return []
