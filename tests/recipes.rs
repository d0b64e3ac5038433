//! The recipes (`ch03_sessions::recipes`) against real server processes: `keeper server` and,
//! where Java is installed, the real ZooKeeper 3.8.
//!
//! Each story is told against every server under test and must read the same on each (the
//! real ZooKeeper is the oracle); the story is pinned as a snapshot, which the book's recipes
//! page shows. The other tests check what a story cannot show: mutual exclusion under
//! contention, a lock passed on by a session that expired, counters that lose no visit.
//! Every wait is on an event or an answer, bounded by the check's budget; none sleeps.

use crate::common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ch03_sessions::client::{Client, ClientConfig};
use ch03_sessions::recipes::balance::Balancer;
use ch03_sessions::recipes::demo::{self, Actor};
use ch03_sessions::recipes::lock::{Design, Lock};
use ch03_sessions::recipes::{self, doorbell};
use common::{servers_under_test, Server, ServerKind};

/// One check's whole budget on one server; a healthy run needs well under a second.
const BUDGET: Duration = Duration::from_secs(60);

/// Runs `check` against each server under test (each test under its own root path on the
/// binary's shared server) and returns what it returned, by server.
fn on_every_server<T, F, Fut>(test: &str, check: F) -> Vec<(ServerKind, T)>
where
    F: Fn(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut results = Vec::new();
    for kind in servers_under_test() {
        let Some(server) = Server::shared(kind, test) else {
            continue;
        };
        println!("checking `{test}` against {kind} at {}", server.address());
        let addr: SocketAddr = server.address().parse().expect("a loopback address");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let result = runtime
            .block_on(async { tokio::time::timeout(BUDGET, check(addr)).await })
            .unwrap_or_else(|_| {
                panic!(
                    "`{test}` against {kind} took over {BUDGET:?}\n--- server output:\n{}",
                    server.log()
                )
            });
        results.push((kind, result));
    }
    results
}

/// A session with `addr` that keeps itself alive across connections (`Client::start`),
/// connected before it is returned.
async fn session(addr: SocketAddr, timeout_ms: i32) -> (Client, recipes::Events) {
    let config = ClientConfig {
        session_timeout_ms: timeout_ms,
        ..ClientConfig::default()
    };
    let (client, events) = Client::start(vec![addr], config);
    let state = client.settled(BUDGET).await;
    assert_eq!(state.name(), "CONNECTED", "a session with {addr}");
    (client, events)
}

async fn actors(addr: SocketAddr, names: &[&str]) -> Vec<Actor> {
    let mut actors = Vec::new();
    for name in names {
        actors.push(Actor::new(name, session(addr, 10_000).await));
    }
    actors
}

/// Checks that every server told the same story, and pins it as snapshot `name`.
fn pin(name: &str, told: Vec<(ServerKind, String)>) {
    let Some((oracle, expected)) = told.first() else {
        return;
    };
    for (kind, text) in &told[1..] {
        assert_eq!(text, expected, "{kind} tells `{name}` unlike {oracle}");
    }
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(name, expected);
    });
}

/// Tells story `name` (a `demo` function) with clients called `names` under `root` on every
/// server, checks they all told it alike, and pins it.
fn tell<F, Fut>(name: &str, root: &'static str, names: &'static [&'static str], story: F)
where
    F: Fn(Vec<Actor>, &'static str) -> Fut + Copy,
    Fut: std::future::Future<Output = recipes::Result<String>>,
{
    let told = on_every_server(name, |addr| async move {
        let told = story(actors(addr, names).await, root).await;
        told.unwrap_or_else(|e| panic!("the {name} story runs: {e}"))
    });
    pin(name, told);
}

const FIVE: [&str; 5] = ["c1", "c2", "c3", "c4", "c5"];

#[test]
fn watching_the_predecessor_rings_one_waiter_per_release() {
    // Rule: a waiter that watches only the node before its own is told once, when that node
    // goes (ZooKeeper recipes, "Locks": "each client watches only the node before it, which
    // avoids the herd effect").
    let told = on_every_server("lock, predecessor", |addr| async move {
        let count = demo::herd(
            actors(addr, &FIVE).await,
            "/herd-predecessor",
            Design::Predecessor,
        )
        .await
        .expect("the lock story runs");
        assert_eq!(
            count.doorbells,
            [0, 1, 1, 1, 1],
            "one doorbell per waiter:\n{}",
            count.text
        );
        assert_eq!(
            count.looks,
            [1, 2, 2, 2, 2],
            "one look to queue, one to take it"
        );
        count.text
    });
    pin("lock_predecessor", told);
}

#[test]
fn watching_the_parent_rings_every_waiter_on_every_change() {
    // The herd effect: a child watch on the lock's parent rings on every join and every release,
    // so every waiter wakes and re-reads the whole queue to learn it is still not first.
    let told = on_every_server("lock, parent", |addr| async move {
        let count = demo::herd(actors(addr, &FIVE).await, "/herd-parent", Design::Parent)
            .await
            .expect("the lock story runs");
        let rung: usize = count.doorbells.iter().sum();
        let looks: usize = count.looks.iter().sum();
        assert!(
            rung >= 4 * 4,
            "every waiter rung on every change:\n{}",
            count.text
        );
        assert!(
            looks > 2 * 5,
            "waiters look more than twice each:\n{}",
            count.text
        );
        (count.text, count.table)
    });
    // The book shows the counts on their own and the whole story folded away.
    let (stories, tables) = told
        .into_iter()
        .map(|(kind, (text, table))| ((kind, text), (kind, table)))
        .unzip();
    pin("lock_parent", stories);
    pin("lock_parent_counts", tables);
}

#[test]
fn the_lock_excludes_under_contention() {
    // Mutual exclusion: a read-modify-write of an unversioned counter, done only while holding
    // the lock by five clients at once, loses no increment.
    on_every_server("lock, contention", |addr| async move {
        let setup = session(addr, 10_000).await.0;
        recipes::delete_all(&setup, "/contended")
            .await
            .expect("a clean root");
        recipes::ensure_path(&setup, "/contended/counter")
            .await
            .expect("the counter");
        let lock = Arc::new(Lock::new("/contended/lock"));
        let mut workers = Vec::new();
        for _ in 0..5 {
            let (client, mut events) = session(addr, 10_000).await;
            let lock = lock.clone();
            workers.push(tokio::spawn(async move {
                for _ in 0..4 {
                    let ticket = lock.acquire(&client, &mut events).await.expect("acquire");
                    let (data, _) = client
                        .get_data("/contended/counter", false)
                        .await
                        .expect("read");
                    let n: u32 = String::from_utf8_lossy(&data.unwrap_or_default())
                        .parse()
                        .unwrap_or(0);
                    client
                        .set_data("/contended/counter", (n + 1).to_string().as_bytes(), -1)
                        .await
                        .expect("write");
                    lock.release(&client, &ticket).await.expect("release");
                }
                client.close().await.expect("close");
            }));
        }
        for worker in workers {
            worker.await.expect("a worker does not panic");
        }
        let (data, _) = setup
            .get_data("/contended/counter", false)
            .await
            .expect("read");
        assert_eq!(
            data.as_deref(),
            Some(&b"20"[..]),
            "5 clients x 4 increments under the lock"
        );
        recipes::delete_all(&setup, "/contended")
            .await
            .expect("clean up");
    });
}

#[test]
fn a_dead_holder_passes_the_lock_on_when_its_session_expires() {
    // An ephemeral node dies with its session: a holder that stops talking (no closeSession)
    // loses the lock when its session expires, and the waiter's predecessor watch rings.
    on_every_server("lock, expiry", |addr| async move {
        let lock = Lock::new("/expiring-lock");
        // A client that does not reconnect: when its process dies, so does its connection.
        let config = ClientConfig {
            session_timeout_ms: 1_000,
            ..ClientConfig::default()
        };
        let (holder, mut holder_events) = Client::connect(addr, config).await.expect("connect");
        let ticket = lock
            .acquire(&holder, &mut holder_events)
            .await
            .expect("the holder takes it");
        let (waiter, mut events) = session(addr, 10_000).await;
        let mine = lock.queue().join(&waiter, b"").await.expect("join");
        let turn = lock.queue().check(&waiter, &mine).await.expect("look");
        assert!(
            matches!(turn, recipes::lock::Turn::Waiting { ref watching } if *watching == ticket.path)
        );
        // The holder's process "dies": its connection closes without a goodbye, and the server
        // keeps the session (and the lock) until the session's timeout runs out.
        drop(holder);
        drop(holder_events);
        let rung = doorbell(&mut events)
            .await
            .expect("the predecessor watch rings");
        assert_eq!(rung.path.as_deref(), Some(ticket.path.as_str()));
        lock.queue()
            .wait_turn(&waiter, &mut events, &mine)
            .await
            .expect("the waiter takes it");
        lock.release(&waiter, &mine).await.expect("release");
        recipes::delete_all(&waiter, "/expiring-lock")
            .await
            .expect("clean up");
        waiter.close().await.expect("close");
    });
}

#[test]
fn the_next_candidate_leads_when_the_leader_goes() {
    // Rule: an ephemeral node is removed when its session closes, and a watch left by `exists`
    // on it fires NodeDeleted (DataTree.killSession, WatchManager.triggerWatch): only the next
    // candidate is told, and it finds itself first.
    tell(
        "election",
        "/election-story",
        &["a", "b", "c"],
        demo::election,
    );
}

#[test]
fn a_name_resolves_to_the_servers_alive() {
    // Rule: a closed session's ephemerals go, and a child watch on their parent fires
    // NodeChildrenChanged; sequential names never repeat under one parent (cversion counter).
    tell(
        "naming",
        "/naming-story",
        &["web-1", "web-2", "user"],
        demo::naming,
    );
}

#[test]
fn the_least_visited_server_takes_the_next_client() {
    // Rule: the least visited live server is picked, and a server whose session ended is not
    // (its ephemeral counter went with it).
    tell(
        "balance",
        "/balance-story",
        &["s1", "s2", "s3", "user"],
        demo::balance,
    );
}

#[test]
fn versioned_counters_lose_no_visit_under_contention() {
    // Rule: setData with an expected version fails with BadVersion if anyone wrote since
    // (PrepRequestProcessor.checkAndIncVersion), so a retried pick never overwrites a count.
    on_every_server("balance, contention", |addr| async move {
        let balancer = Balancer::new("/balance-contended");
        let mut servers = Vec::new();
        for name in ["s1", "s2", "s3"] {
            let (client, _events) = session(addr, 10_000).await;
            balancer.join(&client, name).await.expect("join");
            servers.push(client);
        }
        let mut pickers = Vec::new();
        for _ in 0..3 {
            let (client, _events) = session(addr, 10_000).await;
            let balancer = balancer.clone();
            pickers.push(tokio::spawn(async move {
                for _ in 0..10 {
                    balancer
                        .pick(&client)
                        .await
                        .expect("pick")
                        .expect("a server is up");
                }
                client.close().await.expect("close");
            }));
        }
        for picker in pickers {
            picker.await.expect("a picker does not panic");
        }
        let visits: Vec<u64> = balancer
            .loads(&servers[0])
            .await
            .expect("loads")
            .into_iter()
            .map(|(_, visits, _)| visits)
            .collect();
        assert_eq!(visits, [10, 10, 10], "30 picks, none lost, spread evenly");
        for server in &servers {
            server.close().await.expect("close");
        }
        recipes::delete_all(&session(addr, 10_000).await.0, "/balance-contended")
            .await
            .expect("clean up");
    });
}

#[test]
fn every_subscriber_reads_the_latest_configuration() {
    // Rule: a data watch fires once per registration (WatchManager removes it when it fires),
    // so two writes in a row ring a subscriber once, and its re-read sees the latest value.
    tell(
        "config",
        "/config-story",
        &["ops", "app-1", "app-2"],
        demo::config,
    );
}

#[test]
fn nobody_passes_the_barrier_before_all_arrive() {
    // Rule: an `exists` watch on a missing node fires NodeCreated when it is made (ZooKeeper
    // recipes, "Double Barriers"): no worker is through before the last one enters.
    tell(
        "barrier",
        "/barrier-story",
        &["observer", "w1", "w2", "w3"],
        demo::barrier,
    );
}
