"""kazoo, the Python ZooKeeper client, against any server address.

Usage: /usr/bin/python3 kazoo_suite.py HOST:PORT

Each check exercises one thing an application built on kazoo relies on:
paths, node types, versions, ACLs, watches and the recipes (Lock, Election)
that are built from them. The script prints `ok - <check>` after each
check and stops at the first failure with `FAIL - <check>: <why>` and exit
status 1. Every wait is bounded by WAIT_S, so a server that never answers
fails the check instead of hanging it.
"""

import os
import queue
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import (
    BadVersionError,
    NoAuthError,
    NoChildrenForEphemeralsError,
    NodeExistsError,
    NotEmptyError,
    RolledBackError,
    RuntimeInconsistency,
)
from kazoo.protocol.states import EventType
from kazoo.security import ACL, CREATOR_ALL_ACL, Id, Permissions, make_digest_acl, make_digest_acl_credential

WAIT_S = 10.0
ROOT = "/kazoo-suite"
CHECKS = []


def check(name):
    """Registers a check; they run in the order they are defined."""

    def register(fn):
        CHECKS.append((name, fn))
        return fn

    return register


def expect(condition, what):
    if not condition:
        raise AssertionError(what)


def expect_raises(error, action, what):
    try:
        action()
    except error:
        return
    except Exception as other:
        raise AssertionError(f"{what}: raised {type(other).__name__} instead of {error.__name__}")
    raise AssertionError(f"{what}: no {error.__name__}")


def next_item(q, what):
    """The next item a watch callback put on `q`, within WAIT_S."""
    try:
        return q.get(timeout=WAIT_S)
    except queue.Empty:
        raise AssertionError(f"no {what} within {WAIT_S}s")


def eventually(condition, what):
    """Polls `condition` until it holds, for at most WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {WAIT_S}s")
        time.sleep(0.02)


class Sessions:
    """Opens client sessions to one address and closes them all at the end."""

    def __init__(self, address):
        self.address = address
        self.open = []

    def connect(self):
        client = KazooClient(hosts=self.address, timeout=WAIT_S)
        client.start(timeout=WAIT_S)
        self.open.append(client)
        return client

    def close(self, client):
        client.stop()
        client.close()
        self.open.remove(client)

    def close_all(self):
        for client in list(self.open):
            self.close(client)


@check("ensure_path creates every missing parent and is idempotent")
def ensure_path(zk, sessions):
    zk.ensure_path(f"{ROOT}/a/b/c")
    for path in (ROOT, f"{ROOT}/a", f"{ROOT}/a/b", f"{ROOT}/a/b/c"):
        expect(zk.exists(path) is not None, f"{path} exists")
    zk.ensure_path(f"{ROOT}/a/b/c")
    expect(zk.get_children(f"{ROOT}/a/b") == ["c"], "a second ensure_path adds nothing")


@check("an ephemeral node is owned by its session and cannot have children")
def ephemeral(zk, sessions):
    path = zk.create(f"{ROOT}/eph", b"e", ephemeral=True)
    _, stat = zk.get(path)
    expect(stat.ephemeralOwner == zk.client_id[0], f"ephemeralOwner {stat.ephemeralOwner:#x} is the session")
    expect_raises(NoChildrenForEphemeralsError, lambda: zk.create(f"{path}/child"), "a child of an ephemeral")


@check("sequential nodes get a 10-digit suffix that counts up")
def sequential(zk, sessions):
    first = zk.create(f"{ROOT}/seq/item-", b"", sequence=True, makepath=True)
    second = zk.create(f"{ROOT}/seq/item-", b"", sequence=True)
    expect(first == f"{ROOT}/seq/item-0000000000", f"first is {first}")
    expect(second == f"{ROOT}/seq/item-0000000001", f"second is {second}")
    eph = zk.create(f"{ROOT}/seq/eph-", b"", sequence=True, ephemeral=True)
    expect(eph == f"{ROOT}/seq/eph-0000000002", f"an ephemeral sequential continues the count: {eph}")


@check("an ephemeral node disappears when its session closes")
def ephemeral_dies_with_session(zk, sessions):
    other = sessions.connect()
    path = other.create(f"{ROOT}/owned-by-other", b"", ephemeral=True)
    events = queue.Queue()
    expect(zk.exists(path, watch=events.put) is not None, "the other session's node is visible")
    sessions.close(other)
    event = next_item(events, "watch event after the owner closed")
    expect(event.type == EventType.DELETED and event.path == path, f"event {event}")
    expect(zk.exists(path) is None, "the node is gone")


@check("set with the current version succeeds and a stale version raises BadVersion")
def versions(zk, sessions):
    path = zk.create(f"{ROOT}/data", b"v0")
    stat = zk.set(path, b"v1", version=0)
    expect(stat.version == 1, f"version after one set is {stat.version}")
    expect_raises(BadVersionError, lambda: zk.set(path, b"v2", version=0), "set with a stale version")
    data, stat = zk.get(path)
    expect((data, stat.version) == (b"v1", 1), f"a failed set changes nothing: {data!r} v{stat.version}")
    stat = zk.set(path, b"v2", version=-1)
    expect(stat.version == 2, "version -1 matches any version")


@check("ChildrenWatch sees every child created and deleted")
def children_watch(zk, sessions):
    parent = zk.create(f"{ROOT}/kids")
    seen = queue.Queue()
    zk.ChildrenWatch(parent, lambda children: seen.put(sorted(children)))
    expect(next_item(seen, "initial children") == [], "no children at first")
    zk.create(f"{parent}/c1")
    expect(next_item(seen, "children after a create") == ["c1"], "c1 appears")
    zk.create(f"{parent}/c2")
    expect(next_item(seen, "children after a second create") == ["c1", "c2"], "c2 appears")
    zk.delete(f"{parent}/c1")
    expect(next_item(seen, "children after a delete") == ["c2"], "c1 goes")


@check("DataWatch sees the node created, changed and deleted")
def data_watch(zk, sessions):
    path = f"{ROOT}/watched"
    seen = queue.Queue()
    zk.DataWatch(path, lambda data, stat, event: seen.put((data, event.type if event else None)))
    expect(next_item(seen, "initial data") == (None, None), "the node does not exist yet")
    zk.create(path, b"1")
    expect(next_item(seen, "data after create") == (b"1", EventType.CREATED), "created")
    zk.set(path, b"2")
    expect(next_item(seen, "data after set") == (b"2", EventType.CHANGED), "changed")
    zk.delete(path)
    expect(next_item(seen, "data after delete") == (None, EventType.DELETED), "deleted")


@check("exists with a watch returns None and fires when the node is created")
def exists_watch(zk, sessions):
    path = f"{ROOT}/later"
    events = queue.Queue()
    expect(zk.exists(path, watch=events.put) is None, "not there yet")
    zk.create(path, b"")
    event = next_item(events, "the exists watch")
    expect(event.type == EventType.CREATED and event.path == path, f"event {event}")


@check("a Lock admits one contender at a time")
def lock(zk, sessions):
    one, two = sessions.connect(), sessions.connect()
    first = one.Lock(f"{ROOT}/lock", "one")
    second = two.Lock(f"{ROOT}/lock", "two")
    expect(first.acquire(timeout=WAIT_S), "the first contender gets the lock")
    acquired = threading.Event()
    waiter = threading.Thread(target=lambda: second.acquire(timeout=WAIT_S) and acquired.set())
    waiter.start()
    eventually(lambda: first.contenders() == ["one", "two"], "the second contender queueing")
    expect(not acquired.is_set(), "the second waits while the first holds the lock")
    first.release()
    expect(acquired.wait(WAIT_S), "the second gets the lock once the first releases it")
    expect(first.contenders() == ["two"], f"contenders {first.contenders()}")
    second.release()
    waiter.join(WAIT_S)
    sessions.close(one)
    sessions.close(two)


@check("an Election has one leader and the next contender takes over when it steps down")
def election(zk, sessions):
    one, two = sessions.connect(), sessions.connect()
    leaders = queue.Queue()
    step_down = {"first": threading.Event(), "second": threading.Event()}

    def lead(name):
        leaders.put(name)
        step_down[name].wait(WAIT_S)

    runs = [
        threading.Thread(target=one.Election(f"{ROOT}/election", "first").run, args=(lead, "first")),
        threading.Thread(target=two.Election(f"{ROOT}/election", "second").run, args=(lead, "second")),
    ]
    runs[0].start()
    expect(next_item(leaders, "a leader") == "first", "the first contender leads")
    runs[1].start()
    observer = zk.Election(f"{ROOT}/election")
    eventually(lambda: observer.contenders() == ["first", "second"], "the second contender joining")
    expect(leaders.empty(), "only one leader at a time")
    step_down["first"].set()
    expect(next_item(leaders, "the next leader") == "second", "the second takes over")
    step_down["second"].set()
    for run in runs:
        run.join(WAIT_S)
    sessions.close(one)
    sessions.close(two)


@check("a transaction with a failing check changes nothing, one that passes applies every op")
def transaction(zk, sessions):
    path = zk.create(f"{ROOT}/txn", b"x")
    failing = zk.transaction()
    failing.create(f"{ROOT}/txn-created")
    failing.check(path, 5)
    failing.set_data(path, b"y")
    results = failing.commit()
    kinds = [type(r).__name__ for r in results]
    expect(
        kinds == [RolledBackError.__name__, BadVersionError.__name__, RuntimeInconsistency.__name__],
        f"results {kinds}",
    )
    expect(zk.exists(f"{ROOT}/txn-created") is None, "the create was rolled back")
    expect(zk.get(path)[0] == b"x", "the set was not applied")
    passing = zk.transaction()
    passing.check(path, 0)
    passing.create(f"{ROOT}/txn-created", b"c")
    passing.set_data(path, b"y")
    results = passing.commit()
    expect(results[0] is True and results[1] == f"{ROOT}/txn-created", f"results {results}")
    expect(results[2].version == 1, f"the set's stat {results[2]}")
    expect(zk.get(path)[0] == b"y", "the set was applied")


@check("a digest ACL lets its owner in and keeps another session out")
def digest_acl(zk, sessions):
    zk.add_auth("digest", "alice:secret")
    path = zk.create(f"{ROOT}/secret", b"s", acl=[make_digest_acl("alice", "secret", all=True)])
    expect(zk.get(path)[0] == b"s", "alice reads her node")
    expect_raises(NodeExistsError, lambda: zk.create(path), "a second create of the same path")
    stranger = sessions.connect()
    expect_raises(NoAuthError, lambda: stranger.get(path), "a stranger's read")
    expect_raises(NoAuthError, lambda: stranger.set(path, b"x"), "a stranger's write")
    sessions.close(stranger)


@check("CREATOR_ALL_ACL after add_auth makes the digest id the ACL, and exists sees the Stat of an unreadable node")
def creator_all_acl(zk, sessions):
    # kazoo writes CREATOR_ALL_ACL's empty id as a null string; the server reads it and
    # replaces the `auth` entry by the session's digest id (PrepRequestProcessor.fixupACL).
    owner = sessions.connect()
    owner.add_auth("digest", "user:pw")
    path = owner.create(f"{ROOT}/creator", b"c", acl=CREATOR_ALL_ACL)
    acl, stat = owner.get_acls(path)
    digest_id = Id("digest", make_digest_acl_credential("user", "pw"))
    expect(acl == [ACL(Permissions.ALL, digest_id)], f"the node's ACL is {acl}")
    stranger = sessions.connect()
    expect_raises(NoAuthError, lambda: stranger.get(path), "a stranger's read")
    # exists checks no permission in ZooKeeper 3.8: the Stat, not NoAuth.
    seen = stranger.exists(path)
    expect(seen == stat, f"a stranger's exists gave {seen}, the owner sees {stat}")
    owner.delete(path)
    sessions.close(stranger)
    sessions.close(owner)


@check("delete checks the version, refuses a parent, and delete recursive removes a subtree")
def delete(zk, sessions):
    path = zk.create(f"{ROOT}/del/leaf", b"", makepath=True)
    expect_raises(BadVersionError, lambda: zk.delete(path, version=3), "delete with a wrong version")
    expect_raises(NotEmptyError, lambda: zk.delete(f"{ROOT}/del"), "delete of a parent")
    zk.delete(path, version=0)
    expect(zk.exists(path) is None, "the leaf is gone")
    zk.delete(ROOT, recursive=True)
    expect(zk.exists(ROOT) is None, "the whole suite's subtree is gone")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sessions = Sessions(sys.argv[1])
    zk = sessions.connect()
    for name, run in CHECKS:
        try:
            run(zk, sessions)
        except Exception as failure:
            print(f"FAIL - {name}: {type(failure).__name__}: {failure}", flush=True)
            # kazoo's threads may wait on a broken server: leave without them.
            os._exit(1)
        print(f"ok - {name}", flush=True)
    sessions.close_all()


if __name__ == "__main__":
    main()
