package org.searchsvc.opensearchnode;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The launcher's command line, parsed and checked. */
final class LaunchOptions {

    static final String USAGE = String.join(
        "\n",
        "usage: Launcher [options]",
        "  --cluster-name NAME        cluster name (default: searchsvc)",
        "  --name NAME                node name (default: node-1)",
        "  --host ADDRESS             loopback address to bind and publish (default: 127.0.0.1);",
        "                             the node has no security plugin, so no other address is taken",
        "  --http-port PORT           HTTP port (default: 9200)",
        "  --transport-port PORT      transport port, node to node (default: 9300)",
        "  --data DIR                 this node's folder: config/, data/, logs/",
        "                             (default, beside the launcher jar: opensearch-node/data/NAME,",
        "                             or opensearch-node/data/cluster/NAME with --seed-ports)",
        "  --seed-ports P1,P2,...     transport ports of the cluster's nodes on --host; without",
        "                             it the node is a cluster of its own (discovery.type: single-node)",
        "  --initial-managers N1,...  names of the nodes that bootstrap a new cluster",
        "                             (default with --seed-ports: node-1 .. node-K, K = number of seed ports)",
        "  --roles R1,R2,...          node.roles, e.g. data,ingest for a node that can never be the",
        "                             cluster manager (needs --seed-ports); default: every role",
        "  --help                     print this and exit"
    );

    String clusterName = "searchsvc";
    String nodeName = "node-1";
    String host = "127.0.0.1";
    int httpPort = 9200;
    int transportPort = 9300;
    Path dataDir;
    List<Integer> seedPorts = new ArrayList<>();
    List<String> initialManagers = new ArrayList<>();
    /** node.roles; empty: OpenSearch's default (every role). */
    List<String> roles = new ArrayList<>();
    boolean help;

    boolean singleNode() {
        return seedPorts.isEmpty();
    }

    /** Whether this node may be elected cluster manager (every node is, unless --roles says otherwise). */
    boolean managerEligible() {
        return roles.isEmpty() || roles.contains("cluster_manager") || roles.contains("master");
    }

    static LaunchOptions parse(String[] args) {
        LaunchOptions options = new LaunchOptions();
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (flag.equals("--help") || flag.equals("-h")) {
                options.help = true;
                continue;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("Option " + flag + " needs a value. Run with --help for the options.");
            }
            String value = args[++i];
            switch (flag) {
                case "--cluster-name":
                    options.clusterName = value;
                    break;
                case "--name":
                    options.nodeName = value;
                    break;
                case "--host":
                    options.host = value;
                    break;
                case "--http-port":
                    options.httpPort = port(flag, value);
                    break;
                case "--transport-port":
                    options.transportPort = port(flag, value);
                    break;
                case "--data":
                    options.dataDir = Paths.get(value);
                    break;
                case "--seed-ports":
                    for (String part : splitList(value)) {
                        options.seedPorts.add(port(flag, part));
                    }
                    break;
                case "--initial-managers":
                    options.initialManagers.addAll(splitList(value));
                    break;
                case "--roles":
                    options.roles.addAll(splitList(value));
                    if (options.roles.isEmpty()) {
                        throw new IllegalArgumentException("--roles takes a comma-separated list of roles, such as"
                            + " data,ingest or cluster_manager,data, not '" + value + "'.");
                    }
                    break;
                default:
                    throw new IllegalArgumentException("Unknown option " + flag + ". Run with --help for the options.");
            }
        }
        if (!options.seedPorts.isEmpty() && options.initialManagers.isEmpty()) {
            for (int k = 1; k <= options.seedPorts.size(); k++) {
                options.initialManagers.add("node-" + k);
            }
        }
        if (options.seedPorts.isEmpty() && !options.initialManagers.isEmpty()) {
            throw new IllegalArgumentException("--initial-managers needs --seed-ports (the other nodes' transport ports).");
        }
        if (options.seedPorts.isEmpty() && !options.managerEligible()) {
            throw new IllegalArgumentException("--roles " + String.join(",", options.roles) + " has no cluster_manager"
                + " role, so this node cannot be a cluster of its own: give it --seed-ports (the transport ports of"
                + " the cluster's cluster-manager-eligible nodes), or add cluster_manager to --roles.");
        }
        if (!isLoopback(options.host)) {
            throw new IllegalArgumentException("--host " + options.host + " is not a loopback address: this node has no"
                + " security plugin (anyone who reaches it can read and delete every index), so it binds to loopback only.");
        }
        if (options.httpPort == options.transportPort) {
            throw new IllegalArgumentException("--http-port and --transport-port are both " + options.httpPort + ": give two different ports.");
        }
        return options;
    }

    private static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static List<String> splitList(String value) {
        List<String> parts = new ArrayList<>();
        for (String part : Arrays.asList(value.split(","))) {
            if (!part.isBlank()) {
                parts.add(part.trim());
            }
        }
        return parts;
    }

    private static int port(String flag, String value) {
        try {
            int port = Integer.parseInt(value.trim());
            if (port >= 1 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException(flag + " takes a port number from 1 to 65535, not '" + value + "'.");
    }
}
