"""What a view holds, for /api/stats, ``searchsvc stats`` and /readyz."""

from __future__ import annotations

from searchsvc.engine.interface import IndexSummary
from searchsvc.engine.opensearch_engine import state as names


def summarise(cluster, index: str, documents: int, top: int) -> IndexSummary:
    """The view's summary, without its health (which the engine adds as it is now)."""
    client = cluster.client
    found = names.read_state(cluster, index, with_files=False)
    state, built_at = found if found else (None, None)
    report = state.report if state else {}
    stats = client.indices.stats(index=index, metric="store")
    size = (
        int(stats["indices"][index]["primaries"]["store"]["size_in_bytes"]) if index in stats.get("indices", {}) else 0
    )
    body = {
        "size": 0,
        "aggs": {
            "providers": {
                "terms": {"field": "provider", "size": max(top, 1), "order": [{"_count": "desc"}, {"_key": "asc"}]}
            }
        },
    }
    buckets = client.search(index=index, body=body)["aggregations"]["providers"]["buckets"]
    providers = sorted(((b["key"], int(b["doc_count"])) for b in buckets), key=lambda kv: (-kv[1], kv[0].casefold()))
    return IndexSummary(
        view=index,
        documents=documents,
        files=state.file_count if state else 0,
        built_at=built_at,
        build_seconds=float(report.get("seconds") or 0.0),
        report=report,
        size_bytes=size,
        top_providers=providers[:top],
    )
