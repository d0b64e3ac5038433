// ZooKeeper 3.8's side of benches/memory: what its own DataTree and watch tables hold on the
// JVM heap for the same workload Keeper's bench builds in-process. The bench compiles and runs
// this file; by hand:
//
//   javac -cp /usr/share/java/zookeeper.jar -d /tmp/mb MemoryBench.java
//   java -Xmx4g -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar:/tmp/mb \
//        MemoryBench znodes 1000000
//   java ... MemoryBench watches 1000000
//
// Heap in use is read after three System.gc() calls, before and after the structure is built;
// the difference over the count is the figure printed as `bytes <n>`.
//
// Every znode gets its own copy of the 100-byte value, as data arriving from clients would be:
// `DataTree.createNode` keeps the array it is handed, so one array shared by every node would
// leave the data out of ZooKeeper's figure (it did once: 309 bytes per znode at 1M instead of
// some 425) while Keeper's figure counts it.

import java.lang.reflect.Field;
import java.util.List;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.DataTree;
import org.apache.zookeeper.server.watch.IWatchManager;

public class MemoryBench {
    static final int FANOUT = 1000;
    static final int SESSIONS = 10;

    // The paths ZooKeeper's DataTree bench (and Keeper's) use: 1000 children per parent.
    static String path(int i) {
        return String.format("/bench/p%04d/n%07d", i / FANOUT, i);
    }

    static long usedHeap() {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return rt.totalMemory() - rt.freeMemory();
    }

    // A session's connection as the watch tables see it: one object, compared by identity.
    static final class Session implements Watcher {
        long fired;

        public void process(WatchedEvent event) {
            fired++;
        }
    }

    static DataTree tree(int n, byte[] data) throws Exception {
        List<ACL> acl = ZooDefs.Ids.OPEN_ACL_UNSAFE;
        DataTree tree = new DataTree();
        long zxid = 0;
        tree.createNode("/bench", data, acl, 0, -1, ++zxid, zxid);
        for (int p = 0; p < (n + FANOUT - 1) / FANOUT; p++) {
            tree.createNode(String.format("/bench/p%04d", p), data, acl, 0, -1, ++zxid, zxid);
        }
        return tree;
    }

    static IWatchManager table(DataTree tree, String name) throws Exception {
        Field f = DataTree.class.getDeclaredField(name);
        f.setAccessible(true);
        return (IWatchManager) f.get(tree);
    }

    public static void main(String[] args) throws Exception {
        String what = args[0];
        int n = Integer.parseInt(args[1]);
        byte[] data = new byte[100];
        List<ACL> acl = ZooDefs.Ids.OPEN_ACL_UNSAFE;
        if (what.equals("znodes")) {
            DataTree tree = tree(n, data);
            long before = usedHeap();
            long start = System.nanoTime();
            long zxid = 1L << 32;
            for (int i = 0; i < n; i++) {
                tree.createNode(path(i), data.clone(), acl, 0, -1, ++zxid, zxid);
            }
            double secs = (System.nanoTime() - start) / 1e9;
            long bytes = usedHeap() - before;
            System.out.printf("bytes %d%nnodes %d%ncreate_s %.3f%n", bytes, tree.getNodeCount(), secs);
        } else {
            // n watches: n / SESSIONS paths, every session watching each of them; half the
            // sessions hold data watches (getData), half child watches (getChildren).
            int paths = n / SESSIONS;
            DataTree tree = tree(paths, data);
            long zxid = 1L << 32;
            for (int i = 0; i < paths; i++) {
                tree.createNode(path(i), data.clone(), acl, 0, -1, ++zxid, zxid);
            }
            Session[] sessions = new Session[SESSIONS];
            for (int s = 0; s < SESSIONS; s++) {
                sessions[s] = new Session();
            }
            long before = usedHeap();
            Stat stat = new Stat();
            for (int s = 0; s < SESSIONS; s++) {
                for (int i = 0; i < paths; i++) {
                    if (s % 2 == 0) {
                        tree.getData(path(i), stat, sessions[s]);
                    } else {
                        tree.getChildren(path(i), stat, sessions[s]);
                    }
                }
            }
            long bytes = usedHeap() - before;
            int count = tree.getWatchCount();
            // Firing: every path's data watches and child watches, as a change to the node
            // and to its children would fire them.
            IWatchManager dataWatches = table(tree, "dataWatches");
            IWatchManager childWatches = table(tree, "childWatches");
            long start = System.nanoTime();
            for (int i = 0; i < paths; i++) {
                String p = path(i);
                dataWatches.triggerWatch(p, Watcher.Event.EventType.NodeDataChanged, acl);
                childWatches.triggerWatch(p, Watcher.Event.EventType.NodeChildrenChanged, acl);
            }
            double secs = (System.nanoTime() - start) / 1e9;
            long fired = 0;
            for (Session s : sessions) {
                fired += s.fired;
            }
            System.out.printf("bytes %d%nwatches %d%nfired %d%nfire_s %.3f%n", bytes, count, fired, secs);
        }
    }
}
