import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;

/**
 * One business server of the "servers up and down" lab: it announces itself
 * by creating an ephemeral sequential znode under /servers holding its host
 * name, then works until it is killed. Its session dies with it, and the
 * server deletes the znode: that is how the others learn it went down.
 *
 * Usage: java DistributeServer HOST:PORT HOSTNAME
 */
public class DistributeServer {
    static final String GROUP = "/servers";
    /** Short, so a killed server's znode goes away within seconds. */
    static final int SESSION_TIMEOUT_MS = 3000;

    public static void main(String[] args) throws Exception {
        String connectString = args[0];
        String hostName = args[1];
        ZooKeeper zk = connect(connectString);
        ensureGroup(zk);
        String path = zk.create(GROUP + "/server-", hostName.getBytes(StandardCharsets.UTF_8),
                Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL);
        System.out.println(hostName + " is online as " + path);
        // The business logic: nothing but staying alive until killed.
        Thread.currentThread().join();
    }

    /** Returns once the session is established. */
    static ZooKeeper connect(String connectString) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connectString, SESSION_TIMEOUT_MS, event -> {
            if (event.getState() == KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        connected.await();
        return zk;
    }

    /** Creates the group node unless another process already did. */
    static void ensureGroup(ZooKeeper zk) throws KeeperException, InterruptedException {
        try {
            zk.create(GROUP, new byte[0], Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        } catch (KeeperException.NodeExistsException alreadyThere) {
            // Another server or the client created it first: fine.
        }
    }
}
