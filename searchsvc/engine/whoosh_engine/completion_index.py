"""One snapshot's autocomplete index: the phrases of its live articles' titles (the rules are
searchsvc.autocomplete's) with how many articles hold each, and its topic and provider names, each
in a PrefixTable. Built once per snapshot (completion_index_of, or Snapshot.warm), from live documents only,
so a deleted article's words are never suggested.

Titles are read from the stored fields (about 17 microseconds an article) and cut into words with
one regular expression per chunk of titles; the phrases are then counted with numpy over word
numbers, not Python objects (a dictionary of every phrase of 155,000 titles took 11 s and 300 MB;
this takes about 2 s and a tenth of the memory).

Bounded memory: at most MAX_PHRASES phrases are kept, the most frequent (whole counts at a time:
on 155,000 titles that keeps every phrase at least two articles hold, 180,000 of 700,000, the rest
being one-offs), at about 45 bytes each with the precomputed answers: some 15 MB at the cap. Names
keep at most MAX_NAME_KEYS word starts, the most frequent names first."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

import numpy as np

from searchsvc.analysis import fold
from searchsvc.autocomplete import CANDIDATES, Typed, forget_words, name_starts, name_suffixes, name_suggestion
from searchsvc.engine.interface import Suggestion
from searchsvc.engine.whoosh_engine.patches import drop_resident_pages
from searchsvc.engine.whoosh_engine.phrase_counts import count_phrases
from searchsvc.engine.whoosh_engine.prefix_table import PackedBytes, PrefixTable

MAX_PHRASES = 300_000
MAX_NAME_KEYS = 200_000
MAX_NAME_TAIL = 100  # characters of a name kept from each word start (a needle is three words)
NAME_KINDS = ("topic", "provider")  # the facets whose names are suggested, in this order


class CompletionIndex:
    def __init__(self, phrases: PrefixTable, spellings: PackedBytes, names: dict[str, _Names]) -> None:
        self.phrases = phrases
        self.spellings = spellings
        self.names = names

    def phrase_rows(self, typed: Typed) -> list[tuple[str, str, int]]:
        """(key, spelling, articles) of the CANDIDATES most frequent phrases under ``typed``."""
        places = self.phrases.top(typed.key.encode("utf-8"), CANDIDATES).tolist()
        keys, spellings, counts = self.phrases.keys, self.spellings, self.phrases.counts
        return [(keys[p].decode("utf-8"), spellings[p].decode("utf-8"), int(counts[p])) for p in places]

    def arrays(self) -> dict[str, np.ndarray]:
        """The index as plain arrays (completion_file.py saves them)."""
        arrays = {**self.phrases.arrays("phrases"), **self.spellings.arrays("spellings")}
        for kind, names in self.names.items():
            arrays.update(names.arrays(f"names.{kind}"))
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> CompletionIndex:
        """The index ``arrays`` hold (views of them, not copies: they may be a mapped file's)."""
        phrases, spellings = PrefixTable.from_arrays(arrays, "phrases"), PackedBytes.from_arrays(arrays, "spellings")
        if len(spellings) != len(phrases):
            raise ValueError("one spelling per phrase expected")
        return cls(phrases, spellings, {kind: _Names.from_arrays(arrays, f"names.{kind}") for kind in NAME_KINDS})

    def name_suggestions(self, prefix: str, limit: int, whole_only: bool = False) -> list[Suggestion]:
        """Topics, then providers, a word of whose name starts with the typed words (or with the
        last few: autocomplete.name_suffixes), the most frequent first."""
        for needle, query in name_suffixes(prefix, whole_only):
            found = [s for kind in NAME_KINDS for s in self.names[kind].matches(kind, needle, query, limit)]
            if found:
                return found
        return []


class _Names:
    """The distinct names of one facet (folded alike: one name), keyed by each word start."""

    def __init__(self, values: list[str], counts: np.ndarray) -> None:
        groups: dict[str, list] = {}
        for value, count in zip(values, counts.tolist(), strict=True):
            if count and value:
                entry = groups.setdefault(fold(value), [0, value, count])
                entry[0] += count
                if (-count, value) < (-entry[2], entry[1]):
                    entry[1], entry[2] = value, count
        ranked = sorted(groups.items(), key=lambda item: (-item[1][0], item[0]))
        self.folded = [folded for folded, _ in ranked]
        self.shown = [entry[1] for _, entry in ranked]
        self.counts = [entry[0] for _, entry in ranked]
        tails: list[tuple[bytes, int]] = []
        for group, folded in enumerate(self.folded):
            starts = name_starts(folded)
            if len(tails) + len(starts) > MAX_NAME_KEYS:
                break
            # a tail ends in \x01 and the name's number: keys stay distinct, a prefix still matches
            tails.extend(((folded[s : s + MAX_NAME_TAIL] + f"\x01{group}").encode("utf-8"), group) for s in starts)
        tails.sort()
        self._group = np.array([group for _, group in tails], dtype=np.int32)
        self.table = PrefixTable([key for key, _ in tails], np.array(self.counts)[self._group], CANDIDATES)

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], name: str) -> _Names:
        names = cls.__new__(cls)
        names.folded = [v.decode("utf-8") for v in PackedBytes.from_arrays(arrays, f"{name}.folded")]
        names.shown = [v.decode("utf-8") for v in PackedBytes.from_arrays(arrays, f"{name}.shown")]
        names.counts = arrays[f"{name}.counts"].tolist()
        names._group = arrays[f"{name}.group"]
        names.table = PrefixTable.from_arrays(arrays, f"{name}.table")
        if not len(names.folded) == len(names.shown) == len(names.counts) or names._group.shape != (len(names.table),):
            raise ValueError(f"{name}: parts of different lengths")
        if len(names._group) and not 0 <= names._group.min() <= names._group.max() < len(names.shown):
            raise ValueError(f"{name}: a key of no name")
        return names

    def arrays(self, name: str) -> dict[str, np.ndarray]:
        return {
            **PackedBytes([v.encode("utf-8") for v in self.folded]).arrays(f"{name}.folded"),
            **PackedBytes([v.encode("utf-8") for v in self.shown]).arrays(f"{name}.shown"),
            f"{name}.counts": np.array(self.counts, dtype=np.int64),
            f"{name}.group": self._group,
            **self.table.arrays(f"{name}.table"),
        }

    def matches(self, kind: str, needle: str, query: str, limit: int) -> list[Suggestion]:
        places = self.table.top(needle.encode("utf-8"), limit + 5)  # (a name can match at two words)
        groups = sorted(set(self._group[places].tolist()))  # names are numbered most frequent first
        return [name_suggestion(kind, self.shown[g], query) for g in groups[:limit]]


BUILD_NOW_UP_TO = 20_000
CHILD_MODULE = "searchsvc.engine.whoosh_engine.completion_child"  # builds in a child process
_BUILDING = threading.Lock()
_STARTING = threading.Lock()
log = logging.getLogger("searchsvc.engine")


def completion_index_of(s) -> CompletionIndex:
    """Snapshot ``s``'s autocomplete index, built now if it is not yet, and kept on it."""
    index = s.__dict__.get("_completion_index")
    if index is None:
        with _BUILDING:
            index = s.__dict__.get("_completion_index")
            if index is None:
                index = s.__dict__["_completion_index"] = build_completion_index(s)
    return index


def ready_completion_index(s) -> CompletionIndex | None:
    """Snapshot ``s``'s autocomplete index if it is built, else None, having started building it
    in a background thread (once): it reads every live title, seconds on a large index (about 9 s
    of CPU at 155k articles), which neither a server's start nor a request should wait for. An
    index of at most BUILD_NOW_UP_TO articles (well under a second) is built, or waited for, now."""
    index = s.__dict__.get("_completion_index")
    if index is None:
        if s.count <= BUILD_NOW_UP_TO:
            return completion_index_of(s)
        build_in_background(s)
    return index


def build_in_background(s) -> None:
    """Start building snapshot ``s``'s autocomplete index in a daemon thread (once per snapshot)."""
    with _STARTING:
        if s.__dict__.get("_completion_thread") is not None:
            return
        thread = threading.Thread(target=_build_quietly, args=(s,), name=f"completions-{s.name}", daemon=True)
        s.__dict__["_completion_thread"] = thread
    thread.start()


def _build_quietly(s) -> None:
    from searchsvc.memory import release_free_memory

    try:
        index = _shared_index(s)
    except Exception as exc:  # noqa: BLE001 - the child could not start or died: built here instead
        log.warning("Cannot build the autocomplete index of %s in a child process (%s); building it here.", s.name, exc)
        index = None
    if index is not None:
        with _BUILDING:
            s.__dict__.setdefault("_completion_index", index)
        return
    try:
        completion_index_of(s)
    except Exception:  # noqa: BLE001 - logged; suggestions keep coming from the vocabulary
        log.exception("Cannot build the autocomplete index of %s; completing from title words only.", s.name)
    forget_words()  # every word of the titles, cached while they were cut
    drop_resident_pages(str(s.folder))  # every stored document, read once for its title
    release_free_memory(collect=True)  # the titles read and cut while building


def _shared_index(s) -> CompletionIndex:
    """Snapshot ``s``'s autocomplete index as saved beside its generation by whichever worker
    needed it first (completion_file.py), else built now in a child process that saves it: under
    the generation's lock, so that the other workers wait for it and map it instead of each
    building its own."""
    import fcntl

    from searchsvc.engine.whoosh_engine import completion_file

    index = completion_file.load(s, CompletionIndex.from_arrays)
    if index is not None:
        return index
    lock = completion_file.open_lock(s.folder)
    if lock is None:  # a read-only index folder: built for this worker alone
        return _built_in_child(s, save=False)
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        index = completion_file.load(s, CompletionIndex.from_arrays, warn=False)  # saved while this worker waited
        if index is None:
            index = _built_in_child(s, save=True)
    return index


def _built_in_child(s, save: bool) -> CompletionIndex:
    """Snapshot ``s``'s autocomplete index built in a child process that opens the generation
    itself and, told to ``save`` it, saves it beside the generation (completion_file.py), to be
    mapped from there; else (or when it cannot save it) sends it back, pickled, on its standard
    output. The build reads and cuts every title into words: in the server's process the memory
    that leaves behind (about 45 MB at 155k articles, freed but too scattered to give back) would
    stay, in every worker. A new interpreter, not multiprocessing's spawn, which would run the
    parent's main script again."""
    import os
    import pickle
    import subprocess
    import sys

    from searchsvc.engine.whoosh_engine import completion_file

    command = [sys.executable, "-m", CHILD_MODULE, str(s.folder), s.name, str(os.getpid())]
    if save:
        command.append("--save")
    child = subprocess.run(command, capture_output=True, check=False)  # noqa: S603 - our own module
    if child.returncode != 0:
        lines = child.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(f"exit status {child.returncode}: {lines[-1] if lines else 'no message'}")
    if child.stdout:
        return pickle.loads(child.stdout)  # noqa: S301 - from the child process this process started
    index = completion_file.load(s, CompletionIndex.from_arrays)
    if index is None:
        raise RuntimeError(f"the child saved no autocomplete index readable in {s.folder}")
    return index


def build_completion_index(s) -> CompletionIndex:
    """The autocomplete index of snapshot ``s`` (its live documents)."""
    live = np.flatnonzero(s.live)
    names = {
        "topic": _Names(s.topics.values, s.topics.counts(live)),
        "provider": _Names(s.provider.values, np.bincount(s.provider.ords[live], minlength=len(s.provider.values))),
    }
    keys, counts, spellings = count_phrases(_live_titles(s), MAX_PHRASES)
    order = sorted(range(len(keys)), key=keys.__getitem__)
    table = PrefixTable([keys[i] for i in order], counts[order], CANDIDATES)
    return CompletionIndex(table, PackedBytes([spellings[i] for i in order]), names)


def _live_titles(s) -> Iterable[str]:
    for leaf, offset in s.leaves_for_thread():
        live = s.live[offset : offset + leaf.doc_count_all()]
        for local in np.flatnonzero(live).tolist():
            yield leaf.stored_fields(local).get("title") or ""
