"""Start and stop real OpenSearch nodes from tests, with scripts/opensearch-node (the Java launcher
in opensearch-node/), each on free loopback ports with its data and log in a test's folder.

    node = start_node(tmp_path)                    # a single-node cluster, once it said "ready"
    nodes = start_cluster(tmp_path, 2)             # node-1 and node-2, both cluster-manager-eligible
    wait_for_health(node.url, "green", 60)
    node.kill()                                    # kill -9
    node.stop()                                    # SIGTERM, then wait until it has closed

Needs Java 17 and Maven on PATH; ``needs_java`` skips a test (with ``SKIP_REASON``) where either
is missing.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "opensearch-node"
START_SECONDS = 180  # a build with downloads, then a JVM start on 2 busy cores
STOP_SECONDS = 60
HEAP = "512m"  # the script starts the JVM with -Xms256m and -Xmx of this

SKIP_REASON = "needs Java 17 and Maven (java and mvn on PATH) to build and start an OpenSearch node"
JAVA_MISSING = shutil.which("java") is None or shutil.which("mvn") is None
needs_java = pytest.mark.skipif(JAVA_MISSING, reason=SKIP_REASON)

HEALTH_ORDER = ("red", "yellow", "green")


@dataclass
class Node:
    """One launcher process: a node on 127.0.0.1 with its data in ``data_dir``."""

    process: subprocess.Popen
    name: str
    http_port: int
    transport_port: int
    data_dir: Path
    log_path: Path
    log_offset: int = 0  # where this start's output begins in log_path (restarts append to it)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def log(self) -> str:
        """What the node printed since this start."""
        with self.log_path.open(encoding="utf-8", errors="replace") as log:
            log.seek(self.log_offset)
            return log.read()

    def kill(self) -> None:
        """SIGKILL (kill -9): the node gets no chance to close anything."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def stop(self, timeout: float = STOP_SECONDS) -> int:
        """SIGTERM, then wait for the JVM's shutdown hook to close the node; SIGKILL after ``timeout``.
        The exit status (128 + 15 after a clean SIGTERM)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports that were free on 127.0.0.1 a moment ago."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port() -> int:
    return free_ports(1)[0]


def call(url: str, method: str = "GET", body: dict | None = None, timeout: float = 30) -> dict | list:
    """A JSON request to a node with urllib; the decoded answer (HTTPError on 4xx and 5xx)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"}, method=method)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def launch_node(
    folder: Path,
    name: str = "node-1",
    seed_ports: list[int] | None = None,
    http_port: int | None = None,
    transport_port: int | None = None,
    roles: list[str] | None = None,
    initial_managers: list[str] | None = None,
    heap: str = HEAP,
) -> Node:
    """Start the launcher for node ``name`` (data in ``folder/name``, output appended to
    ``folder/name.log``) without waiting for it: see ``wait_until_ready``."""
    if http_port is None or transport_port is None:
        ports = free_ports(2)
        http_port = http_port or ports[0]
        transport_port = transport_port or ports[1]
    data_dir = folder / name
    log_path = folder / f"{name}.log"
    command = [str(SCRIPT), "--heap", heap, "--name", name, "--data", str(data_dir)]
    command += ["--http-port", str(http_port), "--transport-port", str(transport_port)]
    if seed_ports:
        command += ["--seed-ports", ",".join(map(str, seed_ports))]
    if initial_managers:
        command += ["--initial-managers", ",".join(initial_managers)]
    if roles:
        command += ["--roles", ",".join(roles)]
    folder.mkdir(parents=True, exist_ok=True)
    with log_path.open("a") as log:
        offset = log.tell()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT)
    return Node(process, name, http_port, transport_port, data_dir, log_path, offset)


def wait_until_ready(node: Node, timeout: float = START_SECONDS) -> Node:
    """Wait for the launcher's ready line; on a timeout or an exit, kill it and fail with its log."""
    ready = f"opensearch-node ready {node.url}"
    deadline = time.monotonic() + timeout
    while ready not in node.log():
        if node.process.poll() is not None or time.monotonic() > deadline:
            node.kill()
            raise AssertionError(f"{node.name} did not start (exit {node.process.returncode}):\n{node.log()[-4000:]}")
        time.sleep(0.25)
    return node


def start_node(
    folder: Path,
    name: str = "node-1",
    seed_ports: list[int] | None = None,
    http_port: int | None = None,
    transport_port: int | None = None,
    roles: list[str] | None = None,
    heap: str = HEAP,
    initial_managers: list[str] | None = None,
) -> Node:
    """Start node ``name`` and return it once it is ready (its cluster yellow or green). Without
    ``seed_ports`` it is a cluster of its own; ports default to free ones."""
    node = launch_node(folder, name, seed_ports, http_port, transport_port, roles, initial_managers, heap)
    return wait_until_ready(node)


def start_cluster(folder: Path, count: int, heap: str = HEAP) -> list[Node]:
    """``count`` cluster-manager-eligible nodes, node-1 .. node-N, started together (a new cluster
    bootstraps once all of them are up) and returned once every one is ready."""
    ports = free_ports(2 * count)
    http_ports, transport_ports = ports[:count], ports[count:]
    nodes = [
        launch_node(folder, f"node-{k + 1}", transport_ports, http_ports[k], transport_ports[k], heap=heap)
        for k in range(count)
    ]
    try:
        for node in nodes:
            wait_until_ready(node)
    except BaseException:
        stop_all(nodes)
        raise
    return nodes


def stop_all(nodes: list[Node]) -> None:
    """SIGTERM every node that still runs, then wait for each."""
    for node in nodes:
        if node.process.poll() is None:
            node.process.send_signal(signal.SIGTERM)
    for node in nodes:
        node.stop()


def cluster_health(url: str, status: str = "red", wait_seconds: int = 0, nodes: int | None = None) -> dict:
    """``_cluster/health``, waiting up to ``wait_seconds`` for ``status`` (and ``nodes`` nodes); on a
    408 (the wait timed out) or a 503 (no cluster manager) the answer's body, whose "status" tells."""
    query = f"wait_for_status={status}&timeout={wait_seconds}s"
    if nodes is not None:
        query += f"&wait_for_nodes={nodes}"
    try:
        return call(f"{url}/_cluster/health?{query}", timeout=wait_seconds + 30)
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read() or b"{}")


def wait_for_health(url: str, status: str, timeout: float, nodes: int | None = None) -> dict:
    """The cluster's health once it is ``status`` or better (green > yellow > red), with exactly
    ``nodes`` nodes if given; fails with the last health seen (or error) after ``timeout`` seconds."""
    wanted = HEALTH_ORDER.index(status)  # ValueError for a status that is none of them
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        wait = max(1, min(5, int(deadline - time.monotonic())))
        try:
            health = cluster_health(url, status, wait, nodes)
            if health.get("status") in HEALTH_ORDER[wanted:] and nodes in (None, health["number_of_nodes"]):
                return health
            last = health
            if health.get("status") not in HEALTH_ORDER:  # an error (503: no cluster manager yet)
                time.sleep(0.5)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            last = exc
            time.sleep(0.5)
        if time.monotonic() > deadline:
            wanted_nodes = "" if nodes is None else f" with {nodes} nodes"
            raise AssertionError(f"{url} was not {status}{wanted_nodes} within {timeout:.0f} s; last health: {last}")
