"""Names on the cluster, the build state kept beside each view, and the cluster-wide build lock.

- ``<prefix>``: the alias readers follow; ``<prefix>-g<UTC timestamp>``: one index per view.
- ``<prefix>-state``: one document per view (its id the index name) holding the indexer's file
  records (zlib-compressed, as the indexer encoded them), their number and the report, and the
  ``lock`` document of the running build.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import time
import zlib
from datetime import UTC, datetime

from searchsvc.engine.interface import BuildState
from searchsvc.errors import IndexLockedError

STATE_SUFFIX = "-state"
VIEW_INFIX = "-g"
LOCK_ID = "lock"
# a lock older than this is a build that died without releasing it (a build is killed after
# reindex_timeout, 30 minutes by default)
STALE_LOCK_SECONDS = 6 * 3600


def alias(prefix: str) -> str:
    return prefix


def state_index(prefix: str) -> str:
    return prefix + STATE_SUFFIX


def new_view_name(prefix: str) -> str:
    return prefix + VIEW_INFIX + datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")


def is_view_of(prefix: str, index: str) -> bool:
    stamp = index.removeprefix(prefix + VIEW_INFIX)
    return stamp != index and stamp.isdigit()


def ensure_state_index(cluster) -> None:
    """Create the state index if it is missing (its documents are stored, never searched)."""
    from opensearchpy import exceptions

    name = state_index(cluster.prefix)
    if cluster.client.indices.exists(index=name):
        return
    body = {
        "settings": {"index": {"number_of_shards": 1, "auto_expand_replicas": "0-1"}},
        "mappings": {"dynamic": False, "properties": {"kind": {"type": "keyword"}}},
    }
    try:
        cluster.client.indices.create(index=name, body=body)
    except exceptions.RequestError as exc:  # created meanwhile by another builder
        if getattr(exc, "error", "") != "resource_already_exists_exception":
            raise


def write_state(cluster, view: str, state: BuildState, built_at: float) -> None:
    packed = base64.b64encode(zlib.compress(state.files, 6)).decode("ascii")
    body = {
        "kind": "view",
        "files_z": packed,
        "file_count": state.file_count,
        "report": json.dumps(state.report),
        "built_at": built_at,
    }
    cluster.client.index(index=state_index(cluster.prefix), id=view, body=body, refresh="wait_for")


def read_state(cluster, view: str, with_files: bool = True) -> tuple[BuildState, float | None] | None:
    """The BuildState saved beside ``view`` and when it was built (None when there is none);
    ``with_files=False`` leaves the file records on the cluster (a summary needs their count only,
    which states of earlier versions do not hold: those are read whole)."""
    from opensearchpy import exceptions

    index = state_index(cluster.prefix)
    try:
        if with_files:
            found = cluster.client.get(index=index, id=view)
        else:
            found = cluster.client.get(index=index, id=view, _source_excludes=["files_z"])
            if "file_count" not in found["_source"]:
                return read_state(cluster, view, with_files=True)
    except exceptions.NotFoundError:
        return None
    source = found["_source"]
    files = zlib.decompress(base64.b64decode(source["files_z"])) if with_files else b""
    count = source.get("file_count")
    if count is None:  # JSON text, in states of earlier versions
        count = len(json.loads(files)) if files.startswith(b"{") else 0
    state = BuildState(files=files, report=json.loads(source["report"]), file_count=int(count))
    return state, source.get("built_at")


def delete_state(cluster, views: list[str]) -> None:
    for view in views:
        cluster.client.delete(index=state_index(cluster.prefix), id=view, ignore=[404])


class ClusterLock:
    """One build at a time across every machine building this prefix: a lock document created
    with op_type=create (which fails while another exists). Taken over when its holder's process
    is gone (same host) or it is older than STALE_LOCK_SECONDS."""

    def __init__(self, cluster, timeout: float) -> None:
        self.cluster = cluster
        self.timeout = timeout
        self.owner = {"kind": "lock", "host": socket.gethostname(), "pid": os.getpid(), "taken_at": time.time()}

    def __enter__(self) -> ClusterLock:
        from opensearchpy import exceptions

        index = state_index(self.cluster.prefix)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                self.owner["taken_at"] = time.time()
                self.cluster.client.create(index=index, id=LOCK_ID, body=self.owner, refresh="true")
                return self
            except exceptions.ConflictError:
                holder = self._holder(index)
                if holder is not None and self._is_stale(holder):
                    self.cluster.client.delete(index=index, id=LOCK_ID, ignore=[404], refresh="true")
                    continue
                if time.monotonic() > deadline:
                    who = f"process {holder.get('pid')} on {holder.get('host')}" if holder else "another build"
                    raise IndexLockedError(
                        f"Another build ({who}) holds the build lock of {self.cluster.prefix} on the "
                        f"cluster; waited {self.timeout:g} s. Wait for it to finish, or raise lock_timeout."
                    ) from None
                time.sleep(0.2)

    def _holder(self, index: str) -> dict | None:
        from opensearchpy import exceptions

        try:
            return self.cluster.client.get(index=index, id=LOCK_ID)["_source"]
        except exceptions.NotFoundError:
            return None

    def _is_stale(self, holder: dict) -> bool:
        if time.time() - float(holder.get("taken_at", 0)) > STALE_LOCK_SECONDS:
            return True
        if holder.get("host") != socket.gethostname():
            return False
        pid = int(holder.get("pid", 0))
        if pid == os.getpid():
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def __exit__(self, *exc_info) -> None:
        self.cluster.client.delete(index=state_index(self.cluster.prefix), id=LOCK_ID, ignore=[404], refresh="true")
