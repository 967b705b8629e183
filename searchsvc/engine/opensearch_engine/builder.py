"""The OpenSearch engine's build side. Every build writes a new index and publishes it by moving
the alias in one atomic call: a full build into an empty index, an incremental one into a clone of
the current index (``_clone`` hard-links its segments: no article is copied), so a request keeps
the view it took, nothing a build writes is visible before it publishes, and a build that fails
or cannot reach the cluster leaves the alias where it was. After the swap the index that served
before is kept for the requests still reading it, and older ones are deleted.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace

from searchsvc.analysis import ANALYSIS_VERSION
from searchsvc.engine.interface import BuildState
from searchsvc.engine.opensearch_engine import state as names
from searchsvc.engine.opensearch_engine.bulk import apply_stories, bulk_write, fetch_keys
from searchsvc.engine.opensearch_engine.connection import Cluster
from searchsvc.engine.opensearch_engine.mapping import (
    analysis_version,
    check_replicas,
    doc_id,
    document,
    index_body,
    replica_settings,
)
from searchsvc.engine.opensearch_engine.stories import of_articles
from searchsvc.engine.ranking import RankingModel
from searchsvc.errors import EngineUnavailable

# why a build asked for as an update rebuilds everything (a line of its report's warnings)
OUTDATED_ANALYSIS = (
    'The index was built with older text analysis (words split at apostrophes, so "d\'Or" was not '
    "found): rebuilt in full."
)


def current_view(cluster: Cluster) -> str | None:
    """The index the alias names, or None when nothing is published."""
    found = cluster.client.indices.get_alias(name=names.alias(cluster.prefix), ignore=[404])
    views = sorted(index for index in found if names.is_view_of(cluster.prefix, index)) if "error" not in found else []
    return views[-1] if views else None


class OpenSearchBuild:
    def __init__(self, cluster: Cluster, ranking: RankingModel, full: bool) -> None:
        self.cluster = cluster
        self.ranking = ranking
        self.current = current_view(cluster)
        self.full = full or self.current is None
        self.warnings: list[str] = []
        if not self.full:
            with cluster.errors("reading the current index's mappings", self.current):
                found = cluster.client.indices.get_mapping(index=self.current)
            mappings = found[self.current]["mappings"]
            if analysis_version(mappings) < ANALYSIS_VERSION or "phrases" not in mappings.get("properties", {}):
                # a clone keeps its analyzers and its (strict) fields: an index made with older
                # rules, or before autocomplete's phrases field, is rebuilt instead
                self.full = True
                self.warnings.append(OUTDATED_ANALYSIS)
        self.name = names.new_view_name(cluster.prefix)
        self._created = False
        self._deletes: list[str] = []
        self._keys: set[str] = set()  # title keys whose stories must be recomputed at publish
        self._batches = 0
        self._started = time.time()

    @property
    def view_name(self) -> str:
        return self.name

    def _start(self) -> None:
        if self._created:
            return
        client = self.cluster.client
        if self.full:
            body = index_body(self.ranking, self.cluster.settings.opensearch_shards, "0")
            body["settings"]["index"]["refresh_interval"] = "-1"
            client.indices.create(index=self.name, body=body)
        else:
            # a published index is never written again, so blocking its writes costs nothing
            client.indices.put_settings(index=self.current, body={"index.blocks.write": True})
            client.indices.clone(
                index=self.current,
                target=self.name,
                body={"settings": {"index.blocks.write": False, "index.refresh_interval": "-1"}},
                wait_for_active_shards="1",
            )
        self._created = True
        client.cluster.health(index=self.name, wait_for_status="yellow", timeout="60s", request_timeout=70)

    def delete(self, ids) -> None:
        if not self.full:
            self._deletes.extend(ids)

    def upsert(self, articles: Sequence) -> None:
        with self.cluster.errors("writing articles", self.name):
            self._start()
            client = self.cluster.client
            if self._deletes:
                gone = [doc_id(i) for i in dict.fromkeys(self._deletes)]
                self._keys |= fetch_keys(client, self.name, gone)
                bulk_write(client, self.name, ({"_op_type": "delete", "_id": i} for i in gone), len(gone))
                self._deletes = []
            if not articles:
                return
            self._batches += 1
            if self.full and self._batches == 1:
                stories = of_articles(articles)  # the whole build in one batch: its stories are final
            else:
                stories = {}
                self._keys |= fetch_keys(client, self.name, [doc_id(a.id) for a in articles])
                self._keys |= {a.title_key for a in articles if a.title_key}

            def actions():
                for article in articles:
                    source = document(article)
                    story = stories.get(source["story"])
                    if story is not None:
                        source["story"], source["syndicated"] = story
                    yield {"_op_type": "index", "_id": doc_id(article.id), "_source": source}

            bulk_write(client, self.name, actions(), len(articles))

    def sharded_load(self, jobs, parse, workers, progress):
        return None  # the indexer parses; the cluster writes in parallel itself

    def document_count(self) -> int:
        client = self.cluster.client
        with self.cluster.errors("counting articles", self.name):
            if not self._created:
                return 0 if self.full else int(client.count(index=self.current)["count"])
            client.indices.refresh(index=self.name)
            return int(client.count(index=self.name)["count"])

    def publish(self, state: BuildState) -> str:
        client = self.cluster.client
        settings = self.cluster.settings
        with self.cluster.errors("publishing the new index", self.name):
            self.upsert([])  # creates the index of an empty build, applies pending deletes
            client.indices.refresh(index=self.name)
            if self._keys:
                apply_stories(client, self.name, self._keys)
            after = {"index.refresh_interval": "1s", "index.blocks.write": True}
            after.update(
                {f"index.{k}": v for k, v in replica_settings(check_replicas(settings.opensearch_replicas)).items()}
            )
            client.indices.put_settings(index=self.name, body=after)
            client.indices.refresh(index=self.name)
            health = client.cluster.health(
                index=self.name, wait_for_status="yellow", timeout="120s", request_timeout=130
            )
            if health.get("timed_out"):
                raise EngineUnavailable(
                    f"The new index {self.name} has shards that did not start within 120 s; it was not published "
                    f"and the current index keeps serving. Check the cluster ('GET _cluster/allocation/explain')."
                )
            state = replace(state, report=dict(state.report, generation=self.name))
            names.write_state(self.cluster, self.name, state, time.time())
            actions = [{"add": {"index": self.name, "alias": names.alias(self.cluster.prefix)}}]
            found = client.indices.get_alias(name=names.alias(self.cluster.prefix), ignore=[404])
            for index in found if "error" not in found else ():
                actions.insert(0, {"remove": {"index": index, "alias": names.alias(self.cluster.prefix)}})
            client.indices.update_aliases(body={"actions": actions})
        self._remove_old()
        return self.name

    def _remove_old(self) -> None:
        """Delete every view but the new one and the one it replaced (which requests that began
        before the swap may still read; the next publish deletes it)."""
        client = self.cluster.client
        try:
            indexes = client.indices.get(
                index=self.cluster.prefix + names.VIEW_INFIX + "*", expand_wildcards="open,closed"
            )
        except Exception:  # noqa: BLE001 - cleaning up is best effort; the next publish tries again
            return
        keep = {self.name, self.current}
        old = sorted(i for i in indexes if names.is_view_of(self.cluster.prefix, i) and i not in keep)
        for index in old:
            try:
                client.indices.delete(index=index, ignore=[404])
                names.delete_state(self.cluster, [index])
            except Exception:  # noqa: BLE001
                return

    def abort(self) -> None:
        if self._created:
            try:
                self.cluster.client.indices.delete(index=self.name, ignore=[404])
            except Exception:  # noqa: BLE001 - an unreachable cluster: the next build removes it
                pass


class OpenSearchBuilder:
    name = "opensearch"

    def __init__(self, settings, ranking: RankingModel) -> None:
        check_replicas(settings.opensearch_replicas)
        self.cluster = Cluster(settings)
        self.ranking = ranking

    @contextmanager
    def begin(self, full: bool, lock_timeout: float = 30.0) -> Iterator[OpenSearchBuild]:
        with self.cluster.errors("starting a build"):
            names.ensure_state_index(self.cluster)
            lock = names.ClusterLock(self.cluster, lock_timeout)
            lock.__enter__()
        try:
            with self.cluster.errors("starting a build"):
                build = OpenSearchBuild(self.cluster, self.ranking, full)
            try:
                yield build
            except BaseException:
                build.abort()
                raise
        finally:
            try:
                lock.__exit__(None, None, None)
            except Exception:  # noqa: BLE001 - a lock left behind is taken over by the next build
                pass

    def current(self) -> str | None:
        with self.cluster.errors("reading the alias"):
            return current_view(self.cluster)

    def last_state(self) -> BuildState | None:
        with self.cluster.errors("reading the last build's state"):
            view = current_view(self.cluster)
            found = names.read_state(self.cluster, view) if view else None
        return found[0] if found else None

    def current_documents(self) -> int:
        with self.cluster.errors("counting articles"):
            view = current_view(self.cluster)
            return int(self.cluster.client.count(index=view)["count"]) if view else 0
