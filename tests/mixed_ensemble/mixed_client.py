"""kazoo on a mixed ensemble: writes through one server, reads the tree from each.

Usage:
  mixed_client.py write HOST PATH VALUE     through HOST alone: create PATH (and its parents)
                                            holding VALUE, or set it if it exists
  mixed_client.py churn HOST PATH COUNT     through HOST alone: COUNT setData of PATH, all in
                                            flight at once (a burst of txns)
  mixed_client.py tree "HOST HOST..." ROOT  on each HOST alone in turn: sync ROOT, then print one
                                            line: every node under ROOT (ROOT included), sorted by
                                            path, with its data and whole Stat

A read syncs first: a follower may not have applied a write its leader already
acknowledged, and sync makes the read see everything committed before it.
Every wait is bounded; an error exits non-zero with the reason on stderr.
"""
import json
import os
import sys

from kazoo.exceptions import NodeExistsError

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
