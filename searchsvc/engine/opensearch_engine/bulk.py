"""Writing articles in bulk, and recomputing the stories (syndicated copies) of title keys."""

from __future__ import annotations

from collections.abc import Iterable

from searchsvc.engine.opensearch_engine.stories import stories, timestamp
from searchsvc.errors import EngineUnavailable

CHUNK_DOCUMENTS = 500
CHUNK_BYTES = 8 * 1024 * 1024
KEYS_PER_SEARCH = 256
SHOWN_ERRORS = 3


def bulk_write(client, index: str, actions: Iterable[dict], expected: int) -> int:
    """Send ``actions`` in bulk requests of bounded size; any rejected item fails the build with
    the first few items' reasons (the indexer then aborts it: the alias does not move)."""
    from opensearchpy.helpers import streaming_bulk

    written = 0
    failed: list[str] = []
    failures = 0
    for ok, item in streaming_bulk(
        client,
        actions,
        index=index,
        chunk_size=CHUNK_DOCUMENTS,
        max_chunk_bytes=CHUNK_BYTES,
        raise_on_error=False,
        raise_on_exception=True,
        max_retries=3,
        initial_backoff=1,
    ):
        if ok:
            written += 1
            continue
        op, result = next(iter(item.items()))
        if op == "delete" and result.get("status") == 404:
            continue  # deleting what is already gone
        failures += 1
        if len(failed) < SHOWN_ERRORS:
            error = result.get("error") or {}
            reason = error.get("reason", error) if isinstance(error, dict) else error
            failed.append(f"{result.get('_id')}: {reason}")
    if failures:
        raise EngineUnavailable(
            f"OpenSearch rejected {failures} of {expected} bulk items while writing {index} "
            f"(first: {'; '.join(failed)}). The build was not published; the current index keeps serving."
        )
    return written


def fetch_keys(client, index: str, ids: list[str]) -> set[str]:
    """The title keys the documents ``ids`` have now (those that exist)."""
    keys: set[str] = set()
    for start in range(0, len(ids), CHUNK_DOCUMENTS):
        found = client.mget(
            index=index, body={"ids": ids[start : start + CHUNK_DOCUMENTS]}, _source_includes="title_key"
        )
        for doc in found["docs"]:
            key = (doc.get("_source") or {}).get("title_key") if doc.get("found") else None
            if key:
                keys.add(key)
    return keys


def apply_stories(client, index: str, keys: set[str]) -> int:
    """Recompute the stories of every article holding one of ``keys`` and update those that
    changed. The cost is the articles of those keys (the copies), not the index."""
    changed = 0
    ordered = sorted(keys)
    for start in range(0, len(ordered), KEYS_PER_SEARCH):
        batch = ordered[start : start + KEYS_PER_SEARCH]
        members = []
        current = {}
        for hit in _scan(client, index, {"terms": {"title_key": batch}}):
            source = hit["_source"]
            members.append((hit["_id"], source.get("title_key", ""), timestamp(source.get("published_at"))))
            current[hit["_id"]] = (source.get("story"), bool(source.get("syndicated")))
        updates = [
            {"_op_type": "update", "_id": _id, "doc": {"story": story, "syndicated": syndicated}}
            for _id, (story, syndicated) in stories(members).items()
            if current.get(_id) != (story, syndicated)
        ]
        if updates:
            changed += bulk_write(client, index, updates, len(updates))
    if changed:
        client.indices.refresh(index=index)
    return changed


def _scan(client, index: str, query: dict):
    """Every hit of ``query`` (search_after over _id: no scroll context left behind)."""
    after = None
    while True:
        body = {
            "query": query,
            "size": 1000,
            "sort": [{"id": "asc"}],
            "_source": ["title_key", "published_at", "story", "syndicated"],
        }
        if after is not None:
            body["search_after"] = after
        hits = client.search(index=index, body=body)["hits"]["hits"]
        yield from hits
        if len(hits) < 1000:
            return
        after = hits[-1]["sort"]
