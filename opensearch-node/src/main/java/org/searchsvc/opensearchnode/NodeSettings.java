package org.searchsvc.opensearchnode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.opensearch.common.settings.Settings;

/** The node's settings (what opensearch.yml would hold), built from the launch options. */
final class NodeSettings {

    private NodeSettings() {}

    static Settings build(LaunchOptions options, Path nodeDir) {
        Settings.Builder builder = Settings.builder()
            .put("cluster.name", options.clusterName)
            .put("node.name", options.nodeName)
            .put("path.home", nodeDir.toString())
            .put("path.data", nodeDir.resolve("data").toString())
            .put("path.logs", nodeDir.resolve("logs").toString())
            .put("network.host", options.host)
            .put("http.port", options.httpPort)
            .put("transport.port", options.transportPort)
            // A nearly full disk must not turn every index read-only on a developer's machine.
            .put("cluster.routing.allocation.disk.threshold_enabled", false);
        if (!options.roles.isEmpty()) {
            builder.putList("node.roles", options.roles);
        }
        if (options.singleNode()) {
            builder.put("discovery.type", "single-node");
        } else {
            List<String> seeds = new ArrayList<>();
            for (int port : options.seedPorts) {
                seeds.add(options.host + ":" + port);
            }
            builder.putList("discovery.seed_hosts", seeds);
            // Only cluster-manager-eligible nodes bootstrap a cluster; a data-only node just joins.
            if (options.managerEligible()) {
                builder.putList("cluster.initial_cluster_manager_nodes", options.initialManagers);
            }
        }
        return builder.build();
    }
}
