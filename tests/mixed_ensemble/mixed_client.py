"""kazoo on a mixed ensemble: writes through one server, reads the tree from each.

Usage:
  mixed_client.py write HOST PATH VALUE     through HOST alone: create PATH (and its parents)
                                            holding VALUE, or set it if it exists
  mixed_client.py churn HOST PATH COUNT     through HOST alone: COUNT setData of PATH, all in
                                            flight at once (a burst of txns)
  mixed_client.py tree "HOST HOST..." ROOT  on each HOST alone in turn: sync ROOT, then print one
                                            line: every node under ROOT (ROOT included), sorted by
                                            path, with its data and whole Stat
  mixed_client.py move FROM TO WRITER ROOT  a session with an ephemeral ROOT/eph and a data watch
                                            on ROOT/watched, on FROM alone, moves to TO: its
                                            connection is dropped without closing the session and
                                            it reconnects to TO with the session id and password,
                                            sets its watch again there (SetWatches, as ZooKeeper's
                                            own client does) and sees it fire on a write through
                                            WRITER. Then TO must refuse the session once closed,
                                            and a session id nobody made. Prints "session 0x..",
                                            "moved PORT", "owner 0x..", "fired PATH",
                                            "expired 0x.." for each refused id

A read syncs first: a follower may not have applied a write its leader already
acknowledged, and sync makes the read see everything committed before it.
Every wait is bounded; an error exits non-zero with the reason on stderr.
"""
import json
import os
import socket
import sys
import threading

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import NodeExistsError
from kazoo.protocol.serialization import write_string
from kazoo.protocol.states import EventType
from kazoo.retry import KazooRetry

# The cluster tests' client connects the same way: no retries inside a call, bounded waits.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cluster"))
from client import TIMEOUT_S, connect  # noqa: E402  (tests/cluster/client.py)


def write(client, path, value):
    try:
        client.create(path, value.encode(), makepath=True)
    except NodeExistsError:
        client.set(path, value.encode())


def churn(client, path, count):
    client.ensure_path(path)
    pending = [client.set_async(path, b"%d" % i) for i in range(count)]
    for p in pending:
        p.get(timeout=TIMEOUT_S)


def stat_fields(stat):
    return [
        stat.czxid, stat.mzxid, stat.ctime, stat.mtime, stat.version, stat.cversion,
        stat.aversion, stat.ephemeralOwner, stat.dataLength, stat.numChildren, stat.pzxid,
    ]


def tree(client, root):
    nodes = []
    todo = [root]
    while todo:
        path = todo.pop()
        data, stat = client.get(path)
        nodes.append([path, (data or b"").decode(), stat_fields(stat)])
        for child in client.get_children(path):
            todo.append(path.rstrip("/") + "/" + child)
    return sorted(nodes)


# A session id no server handed out: its top byte, the id of the server that made it, names none.
UNKNOWN_SESSION = 0x7E00000000000001


def session_password(session):
    """The password every server gives a session: java.util.Random(session ^ 0xB3415C00)
    .nextBytes(16) (ZooKeeperServer.generatePasswd). With it a follower cannot refuse an
    unknown session on the password alone and must ask the leader."""
    mask = (1 << 48) - 1
    seed = ((session ^ 0xB3415C00) ^ 0x5DEECE66D) & mask
    out = bytearray()
    while len(out) < 16:
        seed = (seed * 0x5DEECE66D + 0xB) & mask
        word = seed >> 16
        for _ in range(min(4, 16 - len(out))):
            out.append(word & 0xFF)
            word >>= 8
    return bytes(out)


class SetWatches:
    """SetWatches (opcode 101), which kazoo lacks: the watches a client held on its old
    server, for the new one to keep (ZooKeeper's ClientCnxn sends it on every reconnect)."""

    type = 101

    def __init__(self, relative_zxid, data_watches):
        self.relative_zxid = relative_zxid
        self.data_watches = data_watches

    def serialize(self):
        b = bytearray(int(self.relative_zxid).to_bytes(8, "big", signed=True))
        b.extend(len(self.data_watches).to_bytes(4, "big", signed=True))
        for path in self.data_watches:
            b.extend(write_string(path))
        # No exist watches, no child watches.
        b.extend((0).to_bytes(4, "big", signed=True) * 2)
        return b

    @classmethod
    def deserialize(cls, _bytes, _offset):
        return None


def fail(why):
    sys.exit(why)


def move(source, target, writer_host, root):
    writer = connect(writer_host)
    watched = root + "/watched"
    writer.ensure_path(watched)

    client = KazooClient(
        hosts=source,
        timeout=10,
        connection_retry=KazooRetry(max_tries=-1, delay=0.05, max_delay=0.5),
    )
    connected = threading.Event()
    client.add_listener(lambda state: connected.set() if state == KazooState.CONNECTED else None)
    client.start(timeout=TIMEOUT_S)
    session, password = client.client_id
    if session_password(session) != password:
        fail("session 0x%x: password %s, not Java's %s" % (session, password.hex(), session_password(session).hex()))
    print("session 0x%x" % session, flush=True)
    client.create(root + "/eph", b"mine", ephemeral=True)
    events = []
    fired = threading.Event()

    def watch(event):
        # kazoo tells every watch of a lost connection (type NONE) and forgets it; ZooKeeper's
        # own client keeps its watches and sends them to the next server (SetWatches): so
        # does this one, below.
        if event.type != EventType.NONE:
            events.append(event)
            fired.set()

    client.get(watched, watch=watch)

    # Away from SOURCE: the next connection goes to TARGET, and the socket is shut under kazoo,
    # as a lost connection would be; no closeSession is sent.
    client.set_hosts(target)
    connected.clear()
    client._connection._socket.shutdown(socket.SHUT_RDWR)
    if not connected.wait(TIMEOUT_S):
        fail("the session did not reconnect to %s" % target)
    if client.client_id[0] != session:
        fail("reconnected with session 0x%x, not 0x%x" % (client.client_id[0], session))
    print("moved %d" % client._connection._socket.getpeername()[1], flush=True)
    client._data_watchers[watched].add(watch)
    answered = client.handler.async_result()
    client._call(SetWatches(client.last_zxid, [watched]), answered)
    answered.get(timeout=TIMEOUT_S)

    writer.sync(root)
    stat = writer.exists(root + "/eph")
    if stat is None:
        fail("the ephemeral is gone after the move")
    print("owner 0x%x" % stat.ephemeralOwner, flush=True)
    if fired.is_set():
        fail("the watch fired before the write: %r" % events)
    writer.set(watched, b"after the move")
    if not fired.wait(TIMEOUT_S):
        fail("the watch did not fire after the move")
    print("fired %s %s" % (events[0].path, events[0].type), flush=True)

    client.stop()
    client.close()
    for refused in (session, UNKNOWN_SESSION):
        other = KazooClient(hosts=target, timeout=10, client_id=(refused, session_password(refused)))
        # Told the session expired (timeout 0), kazoo starts a new one: a server that took the
        # session would have answered with its id.
        other.start(timeout=TIMEOUT_S)
        if other.client_id[0] == refused:
            fail("session 0x%x was not refused" % refused)
        print("expired 0x%x" % refused, flush=True)
        other.stop()
        other.close()
    writer.stop()
    writer.close()


def main(argv):
    command, hosts = argv[1], argv[2]
    if command == "tree":
        for host in hosts.split():
            client = connect(host)
            client.sync(argv[3])
            print(json.dumps(tree(client, argv[3])), flush=True)
            client.stop()
            client.close()
        return
    if command == "move":
        move(hosts, argv[3], argv[4], argv[5])
        return
    client = connect(hosts)
    if command == "write":
        write(client, argv[3], argv[4])
    elif command == "churn":
        churn(client, argv[3], int(argv[4]))
    else:
        sys.exit("unknown command " + command)
    client.stop()
    client.close()


if __name__ == "__main__":
    main(sys.argv)
