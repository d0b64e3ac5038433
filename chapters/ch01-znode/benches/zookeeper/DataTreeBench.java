// The same workload as benches/tree.rs, run on ZooKeeper's own DataTree (the apply layer: no
// prep, no request pipeline), for the side-by-side figures in the book's benchmark appendix.
//
//   javac -cp /usr/share/java/zookeeper.jar -d /tmp/dtb DataTreeBench.java
//   java -Xmx4g -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar:/tmp/dtb \
//        DataTreeBench 1000000

import java.util.List;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.server.DataTree;

public class DataTreeBench {
    static final int FANOUT = 1000;

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

    interface Op {
        void run(int i) throws Exception;
    }

    static void timed(String name, int n, Op op) throws Exception {
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            op.run(i);
        }
        double secs = (System.nanoTime() - start) / 1e9;
        System.out.printf("%-8s %9d ops %7.2f s %12.0f ops/s%n", name, n, secs, n / secs);
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        List<ACL> acl = ZooDefs.Ids.OPEN_ACL_UNSAFE;
        byte[] data = "0123456789".getBytes();
        byte[] data2 = "abcdefghij".getBytes();
        DataTree tree = new DataTree();
        long[] zxid = {0};
        tree.createNode("/bench", data, acl, 0, -1, ++zxid[0], zxid[0]);
        for (int p = 0; p < (n + FANOUT - 1) / FANOUT; p++) {
            tree.createNode(String.format("/bench/p%04d", p), data, acl, 0, -1, ++zxid[0], zxid[0]);
        }
        System.out.printf("zookeeper DataTree: %d znodes with 10-byte data, %d per parent, apply only%n", n, FANOUT);
        long before = usedHeap();
        // Each node its own copy of the value, as a client's data would be: DataTree keeps the
        // array it is handed, and one shared array would leave the data out of the figure.
        timed("create", n, i -> tree.createNode(path(i), data.clone(), acl, 0, -1, ++zxid[0], zxid[0]));
        long bytes = usedHeap() - before;
        timed("get", n, i -> tree.getData(path(i), new org.apache.zookeeper.data.Stat(), null));
        timed("set", n, i -> tree.setData(path(i), data2.clone(), 1, ++zxid[0], zxid[0]));
        timed("delete", n, i -> tree.deleteNode(path(i), ++zxid[0]));
        System.out.printf("memory   %.0f bytes per znode (%.1f MiB for %d)%n",
            (double) bytes / n, bytes / (1024.0 * 1024.0), n);
    }
}
