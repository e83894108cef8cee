package dev.petrel.compat;

import java.util.Collection;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.common.Node;

/**
 * Smoke check: stock Apache Kafka AdminClient describeCluster() against BOOTSTRAP.
 * Prints cluster id, controller and nodes. Exit 0 on success, 1 on any failure, 2 on usage error.
 */
public final class DescribeCluster {
    private static final int TIMEOUT_MS = 15_000;
    /** Futures wait a little longer than the admin timeout so the client's own error surfaces. */
    private static final int WAIT_MS = TIMEOUT_MS + 5_000;

    private DescribeCluster() {}

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: DescribeCluster BOOTSTRAP (e.g. 127.0.0.1:9092)");
            System.exit(2);
        }
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "petrel-compat-java");
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, TIMEOUT_MS);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, TIMEOUT_MS);
        // Fail fast instead of retrying forever against a broker that closes connections.
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1_000);

        int rc = 0;
        Admin admin = null;
        try {
            admin = Admin.create(props);
            DescribeClusterResult r = admin.describeCluster(new DescribeClusterOptions().timeoutMs(TIMEOUT_MS));
            String clusterId = r.clusterId().get(WAIT_MS, TimeUnit.MILLISECONDS);
            Node controller = r.controller().get(WAIT_MS, TimeUnit.MILLISECONDS);
            Collection<Node> nodes = r.nodes().get(WAIT_MS, TimeUnit.MILLISECONDS);
            System.out.println("cluster id: " + clusterId);
            System.out.println("controller: " + (controller == null ? "none" : describe(controller)));
            System.out.println("nodes (" + nodes.size() + "):");
            for (Node n : nodes) {
                System.out.println("  " + describe(n));
            }
            if (clusterId == null || clusterId.isEmpty()) {
                System.err.println("FAIL: empty cluster id");
                rc = 1;
            } else if (nodes.isEmpty()) {
                System.err.println("FAIL: no nodes returned");
                rc = 1;
            }
        } catch (Throwable t) {
            System.err.println("FAIL: describeCluster: " + t);
            Throwable c = t.getCause();
            while (c != null) {
                System.err.println("  caused by: " + c);
                c = c.getCause();
            }
            rc = 1;
        } finally {
            if (admin != null) {
                try {
                    admin.close(java.time.Duration.ofSeconds(2));
                } catch (Throwable ignored) {
                    // closing must not change the verdict
                }
            }
        }
        System.exit(rc);
    }

    private static String describe(Node n) {
        return "id=" + n.id() + " host=" + n.host() + " port=" + n.port()
                + (n.hasRack() ? " rack=" + n.rack() : "");
    }
}
