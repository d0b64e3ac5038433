// The oracle for tests/zookeeper_bytes.rs: Zab's bytes as ZooKeeper 3.8's own classes write
// and read them. It sits in Leader's package so it can name the packet types (package-private
// constants there).
//
//   cases                    prints the txns and packets of the test's table, one per line:
//                            `txn NAME HEX`, `packet NAME HEX`, and `type NAME NUMBER`,
//                            `opcode NAME NUMBER` for the numbers the formats use
//   replay TXNS SNAP DIR     replays TXNS (each txn as an int length and its bytes) the way a
//                            server replays its log, writes the database to SNAP as a leader
//                            writes it after a SNAP packet, and prints a dump of it
//   load SNAP DIR            reads SNAP as a learner reads what follows a SNAP packet, and
//                            prints the same dump
//
// DIR is an empty directory for the FileTxnSnapLog these need (nothing is written to it).
package org.apache.zookeeper.server.quorum;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import org.apache.jute.BinaryInputArchive;
import org.apache.jute.BinaryOutputArchive;
import org.apache.jute.InputArchive;
import org.apache.jute.Record;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooDefs.OpCode;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.StatPersisted;
import org.apache.zookeeper.proto.CreateRequest;
import org.apache.zookeeper.server.DataNode;
import org.apache.zookeeper.server.DataTree;
import org.apache.zookeeper.server.TxnLogEntry;
import org.apache.zookeeper.server.ZKDatabase;
import org.apache.zookeeper.server.persistence.FileTxnSnapLog;
import org.apache.zookeeper.server.persistence.Util;
import org.apache.zookeeper.server.util.SerializeUtils;
import org.apache.zookeeper.server.util.ZxidUtils;
import org.apache.zookeeper.txn.CheckVersionTxn;
import org.apache.zookeeper.txn.CloseSessionTxn;
import org.apache.zookeeper.txn.CreateContainerTxn;
import org.apache.zookeeper.txn.CreateSessionTxn;
import org.apache.zookeeper.txn.CreateTTLTxn;
import org.apache.zookeeper.txn.CreateTxn;
import org.apache.zookeeper.txn.CreateTxnV0;
import org.apache.zookeeper.txn.DeleteTxn;
import org.apache.zookeeper.txn.ErrorTxn;
import org.apache.zookeeper.txn.MultiTxn;
import org.apache.zookeeper.txn.SetACLTxn;
import org.apache.zookeeper.txn.SetDataTxn;
import org.apache.zookeeper.txn.Txn;
import org.apache.zookeeper.txn.TxnDigest;
import org.apache.zookeeper.txn.TxnHeader;

public class ZabBytes {
    // The same values as the Rust table in tests/zookeeper_bytes.rs.
    static final long ALICE = 0x100000000000001L;
    static final long BOB = 0x100000000000002L;
    static final long TIME = 1_700_000_000_000L;
    static final List<ACL> DIGEST = Arrays.asList(
        new ACL(ZooDefs.Perms.ALL, new Id("digest", "bob:N7p8kQSyZiIHeS2U6cRqcgN4+K8=")));
    static final List<ACL> READ_IP_ALL_WORLD = Arrays.asList(
        new ACL(ZooDefs.Perms.READ, new Id("ip", "127.0.0.1")),
        new ACL(ZooDefs.Perms.ALL, new Id("world", "anyone")));

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "cases":
                numbers();
                txns();
                packets();
                break;
            case "replay":
                replay(new File(args[1]), new File(args[2]), new File(args[3]));
                break;
            case "load":
                load(new File(args[1]), new File(args[2]));
                break;
            default:
                throw new IllegalArgumentException(args[0]);
        }
    }

    static String hex(byte[] bytes) {
        if (bytes == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder();
        for (byte b : bytes) {
            out.append(String.format("%02x", b));
        }
        return out.toString();
    }

    static byte[] record(Record record) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        record.serialize(BinaryOutputArchive.getArchive(bytes), "record");
        return bytes.toByteArray();
    }

    // ---- numbers ------------------------------------------------------------------------

    static void number(String kind, String name, int value) {
        System.out.println(kind + " " + name + " " + value);
    }

    static void numbers() {
        number("type", "REQUEST", Leader.REQUEST);
        number("type", "PROPOSAL", Leader.PROPOSAL);
        number("type", "ACK", Leader.ACK);
        number("type", "COMMIT", Leader.COMMIT);
        number("type", "PING", Leader.PING);
        number("type", "REVALIDATE", Leader.REVALIDATE);
        number("type", "SYNC", Leader.SYNC);
        number("type", "INFORM", Leader.INFORM);
        number("type", "COMMITANDACTIVATE", Leader.COMMITANDACTIVATE);
        number("type", "NEWLEADER", Leader.NEWLEADER);
        number("type", "FOLLOWERINFO", Leader.FOLLOWERINFO);
        number("type", "UPTODATE", Leader.UPTODATE);
        number("type", "DIFF", Leader.DIFF);
        number("type", "TRUNC", Leader.TRUNC);
        number("type", "SNAP", Leader.SNAP);
        number("type", "OBSERVERINFO", Leader.OBSERVERINFO);
        number("type", "LEADERINFO", Leader.LEADERINFO);
        number("type", "ACKEPOCH", Leader.ACKEPOCH);
        number("type", "INFORMANDACTIVATE", Leader.INFORMANDACTIVATE);
        number("opcode", "create", OpCode.create);
        number("opcode", "create2", OpCode.create2);
        number("opcode", "createContainer", OpCode.createContainer);
        number("opcode", "createTTL", OpCode.createTTL);
        number("opcode", "delete", OpCode.delete);
        number("opcode", "deleteContainer", OpCode.deleteContainer);
        number("opcode", "setData", OpCode.setData);
        number("opcode", "reconfig", OpCode.reconfig);
        number("opcode", "setACL", OpCode.setACL);
        number("opcode", "check", OpCode.check);
        number("opcode", "multi", OpCode.multi);
        number("opcode", "error", OpCode.error);
        number("opcode", "createSession", OpCode.createSession);
        number("opcode", "closeSession", OpCode.closeSession);
    }

    // ---- txns ---------------------------------------------------------------------------

    /** The header of the n-th txn of the table: ALICE's request n, zxid 0x1_0000_000n. */
    static TxnHeader header(int n, int type) {
        return new TxnHeader(ALICE, n, ZxidUtils.makeZxid(1, n), TIME + n, type);
    }

    static void txn(String name, int n, int type, Record txn, TxnDigest digest) throws IOException {
        System.out.println("txn " + name + " " + hex(Util.marshallTxnEntry(header(n, type), txn, digest)));
    }

    static void txn(String name, int n, int type, Record txn) throws IOException {
        txn(name, n, type, txn, null);
    }

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    static Txn sub(int type, Record record) throws IOException {
        return new Txn(type, record(record));
    }

    static void txns() throws IOException {
        txn("create_session", 1, OpCode.createSession, new CreateSessionTxn(30000));
        txn("create", 2, OpCode.create,
            new CreateTxn("/app", bytes("v1"), ZooDefs.Ids.OPEN_ACL_UNSAFE, false, 1));
        txn("create_ephemeral", 3, OpCode.create, new CreateTxn("/app/e", null, DIGEST, true, 2));
        txn("create_container", 4, OpCode.createContainer,
            new CreateContainerTxn("/c", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, 3));
        txn("create_ttl", 5, OpCode.createTTL,
            new CreateTTLTxn("/t", bytes("x"), ZooDefs.Ids.OPEN_ACL_UNSAFE, 4, 5000));
        txn("delete", 6, OpCode.delete, new DeleteTxn("/c"));
        txn("set_data", 7, OpCode.setData, new SetDataTxn("/app", bytes("v2"), 1));
        txn("set_acl", 8, OpCode.setACL, new SetACLTxn("/app", READ_IP_ALL_WORLD, 1));
        txn("error", 9, OpCode.error, new ErrorTxn(-110));
        txn("close_session", 10, OpCode.closeSession,
            new CloseSessionTxn(Arrays.asList("/app/e", "/app/f")));
        // A multi's sub-txns are serialized one by one, as PrepRequestProcessor does.
        txn("multi", 11, OpCode.multi, new MultiTxn(Arrays.asList(
            sub(OpCode.create, new CreateTxn("/m", bytes("m"), ZooDefs.Ids.OPEN_ACL_UNSAFE, false, 5)),
            sub(OpCode.check, new CheckVersionTxn("/app", 1)),
            sub(OpCode.setData, new SetDataTxn("/m", null, 1)),
            sub(OpCode.delete, new DeleteTxn("/m")))));
        txn("multi_failed", 12, OpCode.multi, new MultiTxn(Arrays.asList(
            sub(OpCode.create, new CreateTxn("/f", bytes("f"), ZooDefs.Ids.OPEN_ACL_UNSAFE, false, 6)),
            sub(OpCode.error, new ErrorTxn(-101)),
            sub(OpCode.error, new ErrorTxn(-2)))));
        txn("with_digest", 13, OpCode.setData, new SetDataTxn("/app", bytes("v3"), 2),
            new TxnDigest(2, 0x0123456789abcdefL));
        // Upstream types that read back as their twin (written by us as create, delete, setData).
        txn("create2", 14, OpCode.create2,
            new CreateTxn("/app", bytes("v1"), ZooDefs.Ids.OPEN_ACL_UNSAFE, false, 1));
        txn("delete_container", 15, OpCode.deleteContainer, new DeleteTxn("/c"));
        txn("reconfig", 16, OpCode.reconfig,
            new SetDataTxn("/zookeeper/config", bytes("server.1=127.0.0.1:2888:3888"), -1));
        // Old formats a reader still accepts.
        txn("create_v0", 17, OpCode.create,
            new CreateTxnV0("/old", bytes("o"), ZooDefs.Ids.OPEN_ACL_UNSAFE, false));
        txn("close_session_3_5", 18, OpCode.closeSession, null);
    }

    // ---- packets ------------------------------------------------------------------------

    static void packet(String name, int type, long zxid, byte[] data, List<Id> authinfo)
            throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BinaryOutputArchive.getArchive(bytes).writeRecord(
            new QuorumPacket(type, zxid, data, authinfo), "packet");
        System.out.println("packet " + name + " " + hex(bytes.toByteArray()));
    }

    static void packet(String name, int type, long zxid, byte[] data) throws IOException {
        packet(name, type, zxid, data, null);
    }

    interface Payload {
        void write(DataOutputStream out) throws IOException;
    }

    /** A payload written with a DataOutputStream, as Learner and Leader write theirs. */
    static byte[] payload(Payload payload) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        payload.write(out);
        out.close();
        return bytes.toByteArray();
    }

    static byte[] anInt(int value) {
        byte[] bytes = new byte[4];
        ByteBuffer.wrap(bytes).putInt(value);
        return bytes;
    }

    static byte[] aLong(long value) {
        byte[] bytes = new byte[8];
        ByteBuffer.wrap(bytes).putLong(value);
        return bytes;
    }

    static void packets() throws IOException {
        long zxid = ZxidUtils.makeZxid(1, 7);
        // Learner.request: session, cxid, type, then the client's request record.
        byte[] create = record(new CreateRequest("/app", bytes("v1"), ZooDefs.Ids.OPEN_ACL_UNSAFE, 0));
        packet("request", Leader.REQUEST, -1, payload(out -> {
            out.writeLong(ALICE);
            out.writeInt(5);
            out.writeInt(OpCode.create);
            out.write(create);
        }), Arrays.asList(new Id("ip", "127.0.0.1")));
        // ZooKeeperServer.createSession submits cxid 0 and the timeout; no auth info.
        packet("request_create_session", Leader.REQUEST, -1, payload(out -> {
            out.writeLong(BOB);
            out.writeInt(0);
            out.writeInt(OpCode.createSession);
            out.writeInt(10000);
        }));
        byte[] proposal = Util.marshallTxnEntry(
            new TxnHeader(ALICE, 6, zxid, TIME, OpCode.setData),
            new SetDataTxn("/app", bytes("v2"), 1),
            new TxnDigest(2, 0x0123456789abcdefL));
        packet("proposal", Leader.PROPOSAL, zxid, proposal);
        // A DIFF sends the committed log: each PROPOSAL holds the committed request as
        // serializeRequest writes it, digest included (ZKDatabase.addCommittedProposal); the
        // same bytes are what ProposalStats counts (Leader.propose).
        org.apache.zookeeper.server.Request committed = new org.apache.zookeeper.server.Request(
            ALICE, 6, OpCode.setData, new TxnHeader(ALICE, 6, zxid, TIME, OpCode.setData),
            new SetDataTxn("/app", bytes("v2"), 1), zxid);
        committed.setTxnDigest(new TxnDigest(2, 0x0123456789abcdefL));
        packet("diff_proposal", Leader.PROPOSAL, zxid, SerializeUtils.serializeRequest(committed));
        // An observer's INFORM carries the PROPOSAL's data (Leader.sendObserverPacket).
        packet("inform_digested", Leader.INFORM, zxid, proposal);
        packet("ack", Leader.ACK, zxid, null);
        packet("commit", Leader.COMMIT, zxid, null);
        packet("ping", Leader.PING, zxid, null);
        // Learner.ping: the touch table, one (session, timeout) pair after another.
        packet("ping_reply", Leader.PING, zxid, payload(out -> {
            out.writeLong(ALICE);
            out.writeInt(30000);
            out.writeLong(BOB);
            out.writeInt(10000);
        }));
        packet("ping_reply_empty", Leader.PING, zxid, payload(out -> { }));
        // Learner.validateSession and Leader.revalidateSession.
        packet("revalidate", Leader.REVALIDATE, -1, payload(out -> {
            out.writeLong(ALICE);
            out.writeInt(30000);
        }));
        packet("revalidate_reply", Leader.REVALIDATE, -1, payload(out -> {
            out.writeLong(ALICE);
            out.writeBoolean(true);
        }));
        packet("sync", Leader.SYNC, 0, null);
        byte[] inform = Util.marshallTxnEntry(
            new TxnHeader(BOB, 2, zxid, TIME, OpCode.delete), new DeleteTxn("/app"), null);
        packet("inform", Leader.INFORM, zxid, inform);
        packet("commit_and_activate", Leader.COMMITANDACTIVATE, zxid, aLong(2));
        byte[] config = bytes("server.1=127.0.0.1:2888:3888:participant\nversion=0");
        packet("new_leader", Leader.NEWLEADER, ZxidUtils.makeZxid(2, 0), config);
        packet("follower_info", Leader.FOLLOWERINFO, ZxidUtils.makeZxid(1, 0),
            record(new LearnerInfo(2, 0x10000, 0)));
        packet("up_to_date", Leader.UPTODATE, -1, null);
        packet("diff", Leader.DIFF, zxid, null);
        packet("trunc", Leader.TRUNC, zxid, null);
        packet("snap", Leader.SNAP, zxid, null);
        packet("observer_info", Leader.OBSERVERINFO, ZxidUtils.makeZxid(1, 0),
            record(new LearnerInfo(4, 0x10000, 0x100000000L)));
        packet("leader_info", Leader.LEADERINFO, ZxidUtils.makeZxid(2, 0), anInt(0x10000));
        packet("ack_epoch", Leader.ACKEPOCH, zxid, anInt(1));
        packet("ack_epoch_already_accepted", Leader.ACKEPOCH, zxid, anInt(-1));
        byte[] activate = new byte[8 + inform.length];
        ByteBuffer.wrap(activate).putLong(3).put(inform);
        packet("inform_and_activate", Leader.INFORMANDACTIVATE, zxid, activate);
    }

    // ---- databases ----------------------------------------------------------------------

    static void replay(File txns, File snap, File dir) throws Exception {
        FileTxnSnapLog log = new FileTxnSnapLog(dir, dir);
        ZKDatabase db = new ZKDatabase(log);
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(txns)))) {
            while (in.available() > 0) {
                byte[] bytes = new byte[in.readInt()];
                in.readFully(bytes);
                TxnLogEntry entry = SerializeUtils.deserializeTxn(bytes);
                log.processTransaction(entry.getHeader(), db.getDataTree(),
                    db.getSessionWithTimeOuts(), entry.getTxn());
            }
        }
        // LearnerHandler.syncFollower: the database, then the signature.
        try (FileOutputStream file = new FileOutputStream(snap)) {
            BinaryOutputArchive out = BinaryOutputArchive.getArchive(file);
            db.serializeSnapshot(out);
            out.writeString("BenWasHere", "signature");
        }
        dump(db);
    }

    static void load(File snap, File dir) throws Exception {
        ZKDatabase db = new ZKDatabase(new FileTxnSnapLog(dir, dir));
        try (BufferedInputStream file = new BufferedInputStream(new FileInputStream(snap))) {
            // Learner.syncWithLeader on SNAP.
            InputArchive in = BinaryInputArchive.getArchive(file);
            db.deserializeSnapshot(in);
            String signature = in.readString("signature");
            if (!signature.equals("BenWasHere")) {
                throw new IOException("Missing signature. Got " + signature);
            }
            if (file.read() != -1) {
                throw new IOException("bytes after the signature");
            }
        }
        dump(db);
    }

    /** Every node (sorted by path), session and ephemeral, and the tree's digest. */
    static void dump(ZKDatabase db) {
        DataTree tree = db.getDataTree();
        TreeSet<String> paths = new TreeSet<>();
        List<String> pending = new ArrayList<>(Arrays.asList("/"));
        while (!pending.isEmpty()) {
            String path = pending.remove(pending.size() - 1);
            paths.add(path);
            for (String child : tree.getNode(path).getChildren()) {
                pending.add(path.equals("/") ? "/" + child : path + "/" + child);
            }
        }
        for (String path : paths) {
            DataNode node = tree.getNode(path);
            StatPersisted s = node.stat;
            StringBuilder acl = new StringBuilder();
            for (ACL entry : tree.getACL(node)) {
                acl.append(entry.getPerms()).append(':').append(entry.getId().getScheme())
                    .append(':').append(entry.getId().getId()).append(' ');
            }
            System.out.println("node " + path + " data=" + hex(node.getData()) + " acl=[" + acl
                + "] stat=" + s.getCzxid() + "," + s.getMzxid() + "," + s.getCtime() + ","
                + s.getMtime() + "," + s.getVersion() + "," + s.getCversion() + ","
                + s.getAversion() + "," + s.getEphemeralOwner() + "," + s.getPzxid()
                + " children=" + new TreeSet<>(node.getChildren()));
        }
        for (Map.Entry<Long, Integer> session : new TreeMap<>(db.getSessionWithTimeOuts()).entrySet()) {
            System.out.println("session " + Long.toHexString(session.getKey()) + " "
                + session.getValue() + " ephemerals=" + new TreeSet<>(tree.getEphemerals(session.getKey())));
        }
        System.out.println("ephemeral owners " + new TreeSet<>(tree.getEphemerals().keySet()));
        System.out.println("digest " + tree.getTreeDigest());
    }
}
