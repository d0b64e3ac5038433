"""kazoo's recipes against a ZooKeeper-compatible server: python3 recipes.py HOST:PORT.

Each step asserts what a real ZooKeeper 3.8 answers; the script prints one line per step
and exits non-zero on the first difference."""
import sys
import threading

from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError, NoNodeError, NodeExistsError
from kazoo.security import make_digest_acl

hosts = sys.argv[1]
WAIT = 10  # seconds: every wait below is bounded


def connect():
    zk = KazooClient(hosts=hosts, timeout=WAIT)
    zk.start(timeout=WAIT)
    return zk


zk = connect()
other = connect()

zk.ensure_path("/app/config")
assert zk.exists("/app/config") is not None
print("ensure_path ok")

worker = zk.create("/app/worker-", b"10.0.0.1", ephemeral=True, sequence=True)
assert worker == "/app/worker-0000000001", worker
assert zk.get(worker)[1].ephemeralOwner == zk.client_id[0]
print("ephemeral sequential ok", worker)

children_seen = []
children_changed = threading.Event()


@other.ChildrenWatch("/app")
def on_children(children):
    children_seen.append(sorted(children))
    if len(children_seen) >= 2:
        children_changed.set()


data_seen = []
data_changed = threading.Event()


@other.DataWatch("/app/config")
def on_data(data, stat):
    data_seen.append(data)
    if data == b"v2":
        data_changed.set()


zk.set("/app/config", b"v2")
assert data_changed.wait(WAIT), data_seen
zk.create("/app/extra")
assert children_changed.wait(WAIT), children_seen
print("ChildrenWatch ok", children_seen[-1])
print("DataWatch ok", data_seen)

lock_a = zk.Lock("/lock", "a")
lock_b = other.Lock("/lock", "b")
assert lock_a.acquire(timeout=WAIT)
assert not lock_b.acquire(blocking=False)
lock_a.release()
assert lock_b.acquire(timeout=WAIT)
lock_b.release()
print("Lock ok")

leading = threading.Event()
step_down = threading.Event()


def lead():
    leading.set()
    step_down.wait(WAIT)


election = zk.Election("/election", "leader-a")
thread = threading.Thread(target=election.run, args=(lead,), daemon=True)
thread.start()
assert leading.wait(WAIT)
assert other.Election("/election").contenders() == ["leader-a"]
step_down.set()
thread.join(WAIT)
print("Election ok")

tx = zk.transaction()
tx.create("/t1", b"a")
tx.set_data("/app/config", b"v3")
tx.delete("/app/extra")
results = tx.commit()
assert results[0] == "/t1" and results[2] is True, results
tx = zk.transaction()
tx.create("/t2")
tx.delete("/missing")
failed = tx.commit()
assert type(failed[1]) is NoNodeError, failed
assert zk.exists("/t2") is None
print("transaction ok")

try:
    zk.create("/t1")
    raise AssertionError("a second create must fail")
except NodeExistsError:
    pass
zk.add_auth("digest", "alice:secret")
zk.create("/secret", b"s", acl=[make_digest_acl("alice", "secret", all=True)])
try:
    other.get("/secret")
    raise AssertionError("another session must not read /secret")
except NoAuthError:
    pass
print("acl ok")

zk.stop()
assert other.exists(worker) is None, "a closed session's ephemeral is gone"
print("session close ok")
other.stop()
