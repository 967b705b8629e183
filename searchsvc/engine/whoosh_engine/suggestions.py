"""Did-you-mean respellings and autocomplete, from a snapshot's spelling vocabulary and facet
values."""

from __future__ import annotations

import time

from searchsvc.engine.interface import Suggestion
from searchsvc.engine.limits import NO_DEADLINE, Deadline
from searchsvc.engine.whoosh_engine.evaluator import Evaluator
from searchsvc.engine.whoosh_engine.facets import all_of, filter_masks
from searchsvc.engine.whoosh_engine.query_parser import parse_user_query
from searchsvc.engine.whoosh_engine.snapshot import Snapshot

SUGGEST_MAX_WORDS = 6


def did_you_mean(s: Snapshot, parser, request, total: int, deadline: Deadline = NO_DEADLINE) -> str | None:
    """A respelling of the query's words that matches more documents (every word, under the
    same filters). Only for queries of a few words: long ones are prose, and get relaxed."""
    words = request.q.split()
    if len(words) > SUGGEST_MAX_WORDS:
        return None
    # a snapshot opened for one search builds its vocabulary here, once: that is not the query's
    # work, and is left out of its time budget (a served snapshot has it built already)
    started = time.monotonic()
    vocabulary = s.vocabulary()
    vocabulary.warm()
    deadline.end += time.monotonic() - started
    changed = False
    corrected = []
    for word in words:
        bare = word.strip(".,;!?\"'()").lower()
        if ":" in word or not bare.isalpha() or bare in ("and", "or", "not"):
            corrected.append(word)
            continue
        replacement = vocabulary.correct(bare)
        if replacement:
            corrected.append(replacement)
            changed = True
        else:
            corrected.append(word)
    if not changed:
        return None
    suggestion = " ".join(corrected)
    docs, _ = Evaluator(s, deadline=deadline).run(parse_user_query(parser, suggestion))
    matching = int(all_of(filter_masks(s, request, docs), len(docs)).sum())
    return suggestion if matching > total else None


def completions(s: Snapshot, prefix: str, limit: int = 10) -> list[Suggestion]:
    """Completions of the last word of ``prefix`` from titles, topics and providers."""
    text = prefix.strip()
    if not text:
        return []
    head, _, last = text.rpartition(" ")
    lead = (head + " ") if head else ""
    out: list[Suggestion] = []
    seen: set[str] = set()
    needle = text.casefold()
    for kind, column in (("topic", s.topics), ("provider", s.provider)):
        for value in column.values:
            folded = value.casefold()
            if folded.startswith(needle) or any(part.startswith(needle) for part in folded.split()):
                if folded not in seen:
                    seen.add(folded)
                    out.append(Suggestion(value, kind))
    # the vocabulary counts the words of deleted documents too (until their segment is merged):
    # look at a few more words, and keep those a live document still holds
    deleted = s.count < s.size
    for word, _ in s.vocabulary().complete(last, limit * 3 if deleted else limit):
        if deleted and not len(s.postings("spelling", word)[0]):
            continue
        completion = lead + word
        if completion.casefold() not in seen:
            seen.add(completion.casefold())
            out.append(Suggestion(completion, "word"))
    return out[:limit]
