"""Did-you-mean respellings and autocomplete, from a snapshot's spelling vocabulary and facet
values."""

from __future__ import annotations

import time

from searchsvc.analysis import fold
from searchsvc.autocomplete import merged, phrase_suggestions, rank_phrases, typed_prefix
from searchsvc.engine.interface import Suggestion
from searchsvc.engine.limits import NO_DEADLINE, Deadline
from searchsvc.engine.whoosh_engine.completion_index import ready_completion_index
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
    """Topics and providers (each a filter) a word of whose name the last typed words start, then
    the words and word pairs of live articles' titles that complete ``prefix``, the most frequent
    first (the rules: searchsvc.autocomplete; the index: completion_index.py)."""
    if not prefix.strip() or limit <= 0:
        return []
    index = ready_completion_index(s)
    if index is None:  # still being built (seconds after a generation opens): title words alone
        return word_completions(s, prefix, limit)
    typed = typed_prefix(prefix)
    phrases = phrase_suggestions(typed, rank_phrases(index.phrase_rows(typed), limit)) if typed else []
    # the last typed words alone are read as a name only when titles hold no phrase of them all
    return merged(index.name_suggestions(prefix, limit, whole_only=bool(phrases)), phrases, limit)


def word_completions(s: Snapshot, prefix: str, limit: int) -> list[Suggestion]:
    """Completions of the last typed word from the words of titles and topics (whole words, the
    most frequent first), the words before it kept as typed: what autocomplete offers while its
    index is being built. Words only deleted articles held are left out."""
    head, _, last = prefix.strip().rpartition(" ")
    lead = (head + " ") if head else ""
    deleted = s.count < s.size
    out: list[Suggestion] = []
    for word, _ in s.vocabulary().complete(fold(last), limit * 3 if deleted else limit):
        if deleted and not len(s.postings("spelling", word)[0]):
            continue
        out.append(Suggestion(lead + word, "word"))
    return out[:limit]
