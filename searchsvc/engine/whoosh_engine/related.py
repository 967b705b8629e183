"""More like this on a snapshot: an article's own related entries, then the articles sharing
its most distinctive title and excerpt words (a plain BM25 search for them)."""

from __future__ import annotations

import numpy as np
from whoosh import query

from searchsvc.engine.interface import Hit
from searchsvc.engine.whoosh_engine.evaluator import Evaluator
from searchsvc.engine.whoosh_engine.schema import text_analyzer
from searchsvc.engine.whoosh_engine.snapshot import Snapshot


def more_like_this(engine, s: Snapshot, doc_id: str, limit: int = 5) -> list[Hit]:
    """The article's own related entries first, then articles sharing its distinctive words."""
    docnum = s.docnum_of(doc_id)
    if docnum is None:
        return []
    stored = s.stored(docnum)
    out: list[Hit] = []
    seen = {docnum}
    related = list(stored.get("stored", {}).get("related_ids", []))
    parent = stored.get("stored", {}).get("related_to")
    if parent:
        related.insert(0, parent)
    for other in related:
        other_doc = s.docnum_of(other)
        if other_doc is not None and other_doc not in seen:
            seen.add(other_doc)
            out.append(engine._hit(s, other_doc, 0.0, 0, set()))
    if len(out) >= limit:
        return out[:limit]
    text = stored.get("title", "") + " " + stored.get("excerpt", "")
    terms = {t.text for t in text_analyzer()(text)}
    ranked = sorted(terms, key=lambda w: s.doc_frequency("title", w) + s.doc_frequency("excerpt", w) or 10**9)
    chosen = [w for w in ranked if s.doc_frequency("title", w) + s.doc_frequency("excerpt", w) > 1][:12]
    if not chosen:
        return out
    q = query.Or([query.Or([query.Term(f, w) for f in ("title", "excerpt", "topics_text", "body")]) for w in chosen])
    docs, scores = Evaluator(s, ranking=engine.ranking).run(q)
    order = np.argsort(-scores, kind="stable")
    own_key = s.title_key.ords[docnum]
    for position in order:
        candidate = int(docs[position])
        if candidate in seen or s.title_key.ords[candidate] == own_key:
            continue
        seen.add(candidate)
        out.append(engine._hit(s, candidate, float(scores[position]), 0, set()))
        if len(out) >= limit:
            break
    return out
