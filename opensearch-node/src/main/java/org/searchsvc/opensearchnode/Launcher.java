package org.searchsvc.opensearchnode;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.opensearch.core.common.transport.TransportAddress;
import org.opensearch.http.HttpServerTransport;
import org.opensearch.node.Node;

/**
 * Starts one OpenSearch node in this JVM, prints "opensearch-node ready URL" once it answers
 * HTTP and its cluster is at least yellow (every primary shard assigned, so searches work), and
 * closes it on SIGTERM or Ctrl+C.
 */
public final class Launcher {

    private Launcher() {}

    public static void main(String[] args) throws Exception {
        // Keep log4j alive until the node has closed: our shutdown hook closes the node.
        System.setProperty("log4j2.shutdownHookEnabled", "false");
        System.setProperty("log4j.shutdownHookEnabled", "false");

        LaunchOptions options;
        try {
            options = LaunchOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("opensearch-node: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (options.help) {
            System.out.println(LaunchOptions.USAGE);
            return;
        }
        // A single node and a node of a multi-node cluster cannot share a folder: default to two.
        Path defaultDir = options.singleNode()
            ? defaultDataRoot().resolve(options.nodeName)
            : defaultDataRoot().resolve("cluster").resolve(options.nodeName);
        Path nodeDir = (options.dataDir != null ? options.dataDir : defaultDir)
            .toAbsolutePath()
            .normalize();
        Files.createDirectories(nodeDir);

        Node node;
        try {
            node = new EmbeddedNode(NodeSettings.build(options, nodeDir));
        } catch (RuntimeException e) {
            fail("cannot create the node in " + nodeDir, e, options, nodeDir);
            return;
        }
        long started = System.currentTimeMillis();
        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> close(node, closed), "opensearch-node-shutdown"));
        try {
            node.start();
        } catch (Exception e) {
            fail("cannot start the node", e, options, nodeDir);
            return;
        }

        TransportAddress http = node.injector().getInstance(HttpServerTransport.class).boundAddress().publishAddress();
        String url = "http://" + http.getAddress() + ":" + http.getPort();
        if (awaitUsableCluster(url, options, closed, started)) {
            System.out.println("opensearch-node ready " + url);
            System.out.flush();
        }
        closed.await();
    }

    /** opensearch-node/data beside the launcher jar (opensearch-node/target/), else ./data. */
    private static Path defaultDataRoot() {
        try {
            Path jar = Paths.get(Launcher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path target = jar.getParent();
            if (target != null && target.getFileName() != null && target.getFileName().toString().equals("target")) {
                return target.getParent().resolve("data");
            }
        } catch (URISyntaxException | SecurityException | NullPointerException ignored) {
            // fall through
        }
        return Paths.get("data");
    }

    private static final Pattern USABLE = Pattern.compile("\"status\"\\s*:\\s*\"(green|yellow)\"");

    /**
     * Waits, for as long as the node runs, until cluster health is yellow or green: after a
     * restart primaries recover from disk for a moment (red), and a node of a new multi-node
     * cluster has no cluster manager until enough of its peers are up. False if the node closed.
     */
    private static boolean awaitUsableCluster(String url, LaunchOptions options, CountDownLatch closed, long started)
        throws InterruptedException {
        boolean told = false;
        while (closed.getCount() > 0) {
            String body = get(url + "/_cluster/health?wait_for_status=yellow&timeout=5s&cluster_manager_timeout=5s");
            if (body != null && USABLE.matcher(body).find()) {
                return true;
            }
            if (!told && System.currentTimeMillis() - started > 15_000) {
                told = true;
                System.out.println("opensearch-node " + url + ": waiting for cluster health yellow or green"
                    + (options.singleNode() ? "" : " (start the other nodes: seed ports " + options.seedPorts
                        + ", initial cluster managers " + options.initialManagers + ")"));
                System.out.flush();
            }
            Thread.sleep(body == null ? 1000 : 200);
        }
        return false;
    }

    /** The body of a GET (whatever the status code), or null when the request failed. */
    private static String get(String url) {
        try {
            HttpURLConnection connection = (HttpURLConnection) URI.create(url).toURL().openConnection();
            connection.setConnectTimeout(1000);
            connection.setReadTimeout(40_000);
            InputStream in = connection.getResponseCode() < 400 ? connection.getInputStream() : connection.getErrorStream();
            try (InputStream stream = in) {
                return stream == null ? "" : new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } finally {
                connection.disconnect();
            }
        } catch (IOException e) {
            return null;
        }
    }

    private static void close(Node node, CountDownLatch closed) {
        try {
            node.close();
            if (!node.awaitClose(20, TimeUnit.SECONDS)) {
                System.err.println("opensearch-node: the node did not finish closing within 20 s");
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            System.err.println("opensearch-node: error while closing: " + e);
        } finally {
            closed.countDown();
            org.apache.logging.log4j.LogManager.shutdown();
        }
    }

    private static void fail(String what, Throwable e, LaunchOptions options, Path nodeDir) {
        String causes = rootMessage(e);
        System.err.println("opensearch-node: " + what + ": " + causes);
        String hint = hint(causes, options, nodeDir);
        if (hint != null) {
            System.err.println("opensearch-node: " + hint);
        }
        System.exit(1);
    }

    /** What to do next, for the failures a developer meets first. */
    private static String hint(String causes, LaunchOptions options, Path nodeDir) {
        if (causes.contains("BindException") || causes.contains("Failed to bind")) {
            return "port " + options.httpPort + " or " + options.transportPort + " is taken (ss -ltnp shows by whom):"
                + " choose others with --http-port and --transport-port.";
        }
        if (causes.contains("failed to obtain node locks")) {
            return "another node already uses " + nodeDir + " (or it is not writable): stop that node, or give this one"
                + " its own --name or --data DIR.";
        }
        if (causes.contains("[single-node]")) {
            return nodeDir + " holds a node of a multi-node cluster: start it with that cluster's --seed-ports, or"
                + " start a single node with another --name or --data DIR.";
        }
        return null;
    }

    private static String rootMessage(Throwable e) {
        StringBuilder message = new StringBuilder(String.valueOf(e));
        for (Throwable cause = e.getCause(); cause != null && cause != cause.getCause(); cause = cause.getCause()) {
            message.append("; caused by ").append(cause);
        }
        return message.toString();
    }
}
