"""scripts/opensearch-node: builds the launcher with Maven and starts a real OpenSearch node on
loopback, with the analysis the cluster engine needs, and stops it cleanly on SIGTERM.

Needs Java and Maven (CI has both); skipped with the reason where either is missing."""

from __future__ import annotations

import signal

import pytest
from opensearch_nodes import (
    call,
    free_ports,
    launch_node,
    needs_java,
    start_cluster,
    start_node,
    stop_all,
    wait_for_health,
)

pytestmark = needs_java


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    started = start_node(tmp_path_factory.mktemp("opensearch-node"))
    try:
        yield started.url
    finally:
        started.stop()


def test_the_node_answers_on_loopback_with_a_healthy_single_node_cluster(node):
    url = node

    health = call(f"{url}/_cluster/health")

    assert (health["cluster_name"], health["number_of_nodes"]) == ("searchsvc", 1)
    assert health["status"] in ("green", "yellow")
    assert call(url)["version"]["number"] == "2.19.6"


def test_the_node_has_the_analysis_the_engine_needs(node):
    url = node
    porter2 = {"type": "snowball", "language": "English"}
    analyzer = {"tokenizer": "standard", "filter": ["lowercase", "asciifolding", porter2]}

    tokens = call(f"{url}/_analyze", "POST", {**analyzer, "text": "Cafés hosting the Olympics"})["tokens"]

    assert [t["token"] for t in tokens] == ["cafe", "host", "the", "olymp"]


def test_an_alias_moves_between_two_indexes_in_one_call(node):
    url = node
    for name in ("articles-a", "articles-b"):
        call(f"{url}/{name}", "PUT", {"settings": {"number_of_shards": 1, "number_of_replicas": 0}})
    call(f"{url}/_aliases", "POST", {"actions": [{"add": {"index": "articles-a", "alias": "articles"}}]})

    call(
        f"{url}/_aliases",
        "POST",
        {
            "actions": [
                {"remove": {"index": "articles-a", "alias": "articles"}},
                {"add": {"index": "articles-b", "alias": "articles"}},
            ]
        },
    )

    assert list(call(f"{url}/_alias/articles")) == ["articles-b"]


def test_sigterm_stops_the_node_cleanly(tmp_path):
    started = start_node(tmp_path)
    try:
        assert call(f"{started.url}/_cluster/health")["number_of_nodes"] == 1

        status = started.stop()

        # the JVM runs its shutdown hook (which closes the node) and exits as SIGTERM's default does
        assert status == 128 + signal.SIGTERM
        log = started.log()
        assert "did not finish closing" not in log and "error while closing" not in log
    finally:
        started.kill()


def test_a_data_only_node_joins_a_cluster_and_its_loss_leaves_the_cluster_manager_serving(tmp_path):
    http_1, http_2, transport_1, transport_2 = free_ports(4)
    seeds = [transport_1, transport_2]
    manager = start_node(tmp_path, "node-1", seeds, http_1, transport_1, initial_managers=["node-1"])
    data = start_node(tmp_path, "node-2", seeds, http_2, transport_2, roles=["data", "ingest"])
    try:
        rows = call(f"{manager.url}/_cat/nodes?format=json&h=name,node.role,cluster_manager")
        assert sorted((row["name"], row["node.role"], row["cluster_manager"]) for row in rows) == [
            ("node-1", "dimr", "*"),
            ("node-2", "di", "-"),
        ]

        data.kill()

        # the manager notices at once (the connection drops) and answers alone: no quorum lost
        health = wait_for_health(manager.url, "green", 30, nodes=1)
        assert (health["number_of_nodes"], health["number_of_data_nodes"]) == (1, 1)
    finally:
        stop_all([manager, data])


def test_a_node_without_the_cluster_manager_role_refuses_to_be_a_cluster_of_its_own(tmp_path):
    node = launch_node(tmp_path, "node-1", roles=["data"])

    assert node.process.wait(timeout=60) == 2
    assert node.log().strip().splitlines()[-1] == (
        "opensearch-node: --roles data has no cluster_manager role, so this node cannot be a cluster of its own:"
        " give it --seed-ports (the transport ports of the cluster's cluster-manager-eligible nodes), or add"
        " cluster_manager to --roles."
    )


def test_a_two_node_cluster_of_cluster_manager_eligible_nodes_elects_one_manager(tmp_path):
    nodes = start_cluster(tmp_path, 2)
    try:
        rows = call(f"{nodes[0].url}/_cat/nodes?format=json&h=name,cluster_manager")

        assert sorted(row["name"] for row in rows) == ["node-1", "node-2"]
        assert sorted(row["cluster_manager"] for row in rows) == ["*", "-"]
    finally:
        stop_all(nodes)
