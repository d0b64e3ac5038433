import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.ZooKeeper;

/**
 * The client side of the "servers up and down" lab: it lists the servers
 * registered under /servers and prints `servers = [...]` (host names, in
 * registration order) every time the list changes.
 *
 * A child watch fires once, so each notification re-reads the children and
 * sets the next watch in the same call: no change can slip between two
 * watches unnoticed.
 *
 * Usage: java DistributeClient HOST:PORT
 */
public class DistributeClient implements Watcher {
    private final ZooKeeper zk;

    DistributeClient(String connectString) throws Exception {
        zk = DistributeServer.connect(connectString);
    }

    public static void main(String[] args) throws Exception {
        DistributeClient client = new DistributeClient(args[0]);
        DistributeServer.ensureGroup(client.zk);
        client.printServers();
        // Everything else happens in the watcher.
        Thread.currentThread().join();
    }

    /** Reads the group, re-arming the child watch, and prints the host names. */
    void printServers() throws KeeperException, InterruptedException {
        List<String> children = new ArrayList<>(zk.getChildren(DistributeServer.GROUP, this));
        // Sequential suffixes sort in registration order.
        Collections.sort(children);
        List<String> hosts = new ArrayList<>();
        for (String child : children) {
            try {
                byte[] data = zk.getData(DistributeServer.GROUP + "/" + child, false, null);
                hosts.add(new String(data, StandardCharsets.UTF_8));
            } catch (KeeperException.NoNodeException wentDown) {
                // Gone between the listing and the read; the next event says so.
            }
        }
        System.out.println("servers = " + hosts);
    }

    @Override
    public void process(WatchedEvent event) {
        if (event.getType() != EventType.NodeChildrenChanged) {
            return;
        }
        try {
            printServers();
        } catch (KeeperException | InterruptedException e) {
            System.out.println("cannot list servers: " + e);
        }
    }
}
