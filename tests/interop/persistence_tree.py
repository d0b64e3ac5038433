"""Writes a varied tree to a server, or reads one back, and prints it as JSON.

Usage: persistence_tree.py write|dump HOST:PORT

`write` makes every kind of txn a dataDir holds: a session, persistent,
ephemeral and sequential nodes, a sequential container, a digest ACL and a
setACL, setData, delete, a multi, failed writes (error txns), and enough nodes to roll the log a few
times under a small snapCount. Both modes then print every node's data and
Stat, and the session id, as one JSON object. `write` leaves its session open
(the process exits without closing it), so its ephemeral node and its session
are still on disk when the server is killed.
"""

import base64
import json
import os
import sys

from kazoo.client import KazooClient
from kazoo.exceptions import NodeExistsError, NoNodeError
from kazoo.protocol.serialization import Create2
from kazoo.security import OPEN_ACL_UNSAFE, make_acl, make_digest_acl


class CreateContainer(Create2):
    """createContainer (19), which kazoo does not send itself; its answer is create2's."""

    type = 19

mode, hosts = sys.argv[1], sys.argv[2]
zk = KazooClient(hosts=hosts, timeout=10.0)
zk.start(timeout=10)
# The digest ACL's owner may read its node; the dump needs that too.
zk.add_auth("digest", "alice:secret")

if mode == "write":
    zk.create("/app", b"first")
    zk.create("/app/ephemeral", b"mine", ephemeral=True)
    seqs = [zk.create("/app/seq-", b"s", sequence=True) for _ in range(3)]
    zk.create("/app/secret", b"hidden", acl=[make_digest_acl("alice", "secret", all=True)])
    # Flag 2 (sequential): a container whose name gets /app's counter.
    box = zk.handler.async_result()
    zk._call(CreateContainer("/app/box-", b"c", OPEN_ACL_UNSAFE, 2), box)
    box.get(timeout=10)
    zk.set_acls(seqs[0], [make_acl("world", "anyone", read=True)])
    zk.set("/app", b"second")
    zk.delete(seqs[1])
    tx = zk.transaction()
    tx.create("/app/multi", b"m")
    tx.set_data("/app", b"third")
    tx.commit()
    try:
        zk.create("/app")
    except NodeExistsError:
        pass
    try:
        zk.delete("/nothing-here")
    except NoNodeError:
        pass
    for i in range(30):
        zk.create("/app/bulk/n%02d" % i, b"%d" % i, makepath=True)
    zk.set("/app/bulk/n07", b"changed")


def walk(path):
    data, stat = zk.get(path)
    yield path, data, stat
    for child in sorted(zk.get_children(path)):
        yield from walk(path.rstrip("/") + "/" + child)


nodes = {}
for path, data, stat in walk("/"):
    nodes[path] = {
        "data": None if data is None else base64.b64encode(data).decode(),
        "stat": [
            stat.czxid, stat.mzxid, stat.ctime, stat.mtime, stat.version,
            stat.cversion, stat.aversion, stat.ephemeralOwner,
            stat.dataLength, stat.numChildren, stat.pzxid,
        ],
    }
print(json.dumps({"session": zk.client_id[0], "nodes": nodes}), flush=True)

if mode == "write":
    os._exit(0)  # no closeSession: the session and its ephemeral stay on disk
zk.stop()
zk.close()
