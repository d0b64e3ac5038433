"""kazoo, a client nobody here wrote, as the cluster tests' real client.

Usage (hosts is a connect string: one server or several, comma-separated):
  client.py create HOSTS PATH VALUE     create PATH (and its parents) holding VALUE
  client.py get "HOST HOST..." PATH     on each HOST alone in turn: sync, then print PATH's
                                        value ("-" if it has none), one a line
  client.py session HOSTS STOPFILE      hold an ephemeral node while the test kills our
                                        server; print "ready SESSION PORT", then
                                        "reconnected SESSION PORT" once on another server,
                                        "owner SESSION" (the ephemeral's owner), then
                                        wait for STOPFILE

A read syncs first: a follower may not have applied a write its leader already
acknowledged, and sync makes the read see everything committed before it.
Every wait is bounded; an error exits non-zero with the reason on stderr.
"""
import os
import sys
import threading
import time

from kazoo.client import KazooClient, KazooState
from kazoo.retry import KazooRetry

TIMEOUT_S = 20


def connect(hosts):
    # No retries inside a call: a create retried after a lost connection could
    # meet its own first attempt (NodeExists) and fail the test for nothing.
    client = KazooClient(
        hosts=hosts,
        timeout=10,
        connection_retry=KazooRetry(max_tries=-1, delay=0.05, max_delay=0.5),
    )
    client.start(timeout=TIMEOUT_S)
    return client


def main(argv):
    command, hosts = argv[1], argv[2]
    if command == "create":
        client = connect(hosts)
        client.create(argv[3], argv[4].encode(), makepath=True)
    elif command == "get":
        for host in hosts.split():
            client = connect(host)
            client.sync(argv[3])
            value, _stat = client.get(argv[3])
            print(value.decode() if value else "-", flush=True)
            client.stop()
            client.close()
        return
    elif command == "session":
        session(connect(hosts), argv[3])
        return
    else:
        sys.exit("unknown command " + command)
    client.stop()
    client.close()


def where(client):
    """The session id (hex) and the client port of the server the session is on."""
    # kazoo keeps the socket private; the test needs to know which server to kill.
    port = client._connection._socket.getpeername()[1]
    return "0x%x %d" % (client.client_id[0], port)


def session(client, stop_file):
    states = []
    changed = threading.Condition()

    def on_state(state):
        with changed:
            states.append(state)
            changed.notify_all()

    client.add_listener(on_state)
    client.create("/eph", b"mine", ephemeral=True)
    print("ready " + where(client), flush=True)
    with changed:
        # Lost connection (SUSPENDED), then the same session on another server (CONNECTED);
        # LOST would mean the session expired.
        if not changed.wait_for(lambda: KazooState.SUSPENDED in states, 60):
            sys.exit("the connection was never lost")
        if not changed.wait_for(lambda: states[-1] != KazooState.SUSPENDED, 60):
            sys.exit("no server took the session back")
        if states[-1] != KazooState.CONNECTED:
            sys.exit("the session ended: %s" % states[-1])
    # The server that took the session back asked the leader first (REVALIDATE), so it
    # serves under a live leader: no retry is needed here.
    print("reconnected " + where(client), flush=True)
    print("owner 0x%x" % client.exists("/eph").ephemeralOwner, flush=True)
    deadline = time.time() + 90
    while not os.path.exists(stop_file):
        if time.time() > deadline:
            sys.exit("the test never said stop")
        time.sleep(0.05)
    print("done", flush=True)
    client.stop()
    client.close()


if __name__ == "__main__":
    main(sys.argv)
