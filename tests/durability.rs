//! `keeper server` killed with SIGKILL under a steady write load, again and again, on one
//! dataDir: every write whose success reached the client survives each restart, nothing the
//! server never acknowledged is half-applied, and the sequential counter, the cversion and
//! the session ids continue.
//!
//! Each round starts the server on the dataDir the last round left, checks the tree against
//! what the client was told, then runs four writers of `multi(create sequential, setData
//! counter)` at once (so several txns share each group commit) and kills the server once the
//! round's number of writes has been acknowledged, while the others are still in flight. The
//! kill point varies from round to round.

use crate::common;

use common::{free_port, wait_until, zoo_cfg, Guarded, TempDir};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use zookeeper_client::{Acls, Client, CreateMode, MultiWriteResult};

/// Kills in the test; `KEEPER_CRASH_ROUNDS` asks for more.
const ROUNDS: usize = 22;
const WRITERS: usize = 4;
/// A bound on each wait: start-up, connecting, one write; a healthy server needs milliseconds.
const BOUND: Duration = Duration::from_secs(20);

/// What the client was told, across all rounds.
#[derive(Default)]
struct Acked {
    /// Each acknowledged create's path and data.
    nodes: BTreeMap<String, String>,
    /// Per writer: the counter's value the last acknowledged multi set.
    counters: [u64; WRITERS],
}

/// How many ports a start tries: a port picked free can be taken by another test, or by an
/// outgoing connection's ephemeral port, before the server binds it.
const PORT_TRIES: usize = 5;

/// Starts the server on `data_dir` on a port picked free; returns it and its port. A start
/// that finds its port taken ("cannot listen") is tried again on another.
fn start(dir: &Path, data_dir: &Path) -> (Guarded, u16) {
    let mut taken = Vec::new();
    while taken.len() < PORT_TRIES {
        let port = free_port();
        std::fs::write(
            dir.join("zoo.cfg"),
            // A small snapCount: the rounds cross several snapshot rolls.
            zoo_cfg(
                port,
                &data_dir.display().to_string(),
                &[("snapCount", "40")],
            ),
        )
        .expect("zoo.cfg");
        let server = Guarded::spawn(
            "Keeper",
            env!("CARGO_BIN_EXE_keeper"),
            &["server", "--config", "zoo.cfg"],
            dir,
            None,
        )
        .expect("keeper starts");
        let line = server
            .wait_for_line(0, BOUND, |line| {
                line.contains("standalone server on") || line.contains("cannot listen")
            })
            .unwrap_or_else(|e| panic!("the server did not come up: {e}"));
        if server
            .output()
            .lines()
            .nth(line)
            .is_some_and(|l| l.contains("cannot listen"))
        {
            taken.push(port);
            continue;
        }
        return (server, port);
    }
    panic!("every port picked was taken before the server bound it: {taken:?}")
}

/// A session whose ConnectRequest the server answers only once its createSession txn is
/// fsynced. Another process's disk load can hold that first fsync past the client's
/// connection timeout (3 s here); like any ZooKeeper client, the test then tries again.
async fn connect(address: &str, server: &Guarded) -> Client {
    let mut failures = Vec::new();
    while failures.len() < 3 {
        match Client::connector()
            .with_session_timeout(Duration::from_secs(5))
            .with_connection_timeout(Duration::from_secs(3))
            .connect(address)
            .await
        {
            Ok(client) => return client,
            Err(e) => failures.push(e.to_string()),
        }
    }
    panic!("connect to {address}: {failures:?}\n{}", server.output())
}

fn counter(writer: usize) -> String {
    format!("/counter-{writer}")
}

/// The tree matches what the client was told: every acknowledged node with its data; per
/// writer, as many nodes as its counter says (the multi is all or nothing), and at most one
/// more than were acknowledged (the one in flight at the kill). Returns the number of nodes.
async fn check_recovered(client: &Client, acked: &mut Acked, round: usize) -> usize {
    let children = client.list_children("/load").await.expect("list /load");
    // Every read is sent before the first answer is awaited: hundreds of nodes by the last
    // round, one round trip for all of them instead of one each.
    let reads: Vec<_> = acked
        .nodes
        .iter()
        .map(|(path, data)| (path, data, client.get_data(path)))
        .collect();
    for (path, data, read) in reads {
        let (found, _) = read
            .await
            .unwrap_or_else(|e| panic!("round {round}: acknowledged {path} is lost: {e}"));
        assert_eq!(
            String::from_utf8_lossy(&found),
            *data,
            "round {round}: {path}"
        );
    }
    for writer in 0..WRITERS {
        let (data, stat) = client.get_data(&counter(writer)).await.expect("counter");
        let value: u64 = String::from_utf8_lossy(&data).parse().expect("a number");
        let mine = children
            .iter()
            .filter(|c| c.starts_with(&format!("w{writer}-")))
            .count() as u64;
        assert_eq!(
            (value, stat.version as u64),
            (mine, mine),
            "round {round}: writer {writer}'s counter and its nodes disagree: half a multi"
        );
        assert!(
            value == acked.counters[writer] || value == acked.counters[writer] + 1,
            "round {round}: writer {writer} had {} acknowledged, found {value}",
            acked.counters[writer]
        );
        // The one in flight at the kill made it: the next round starts from it.
        acked.counters[writer] = value;
    }
    children.len()
}

/// One writer: multis until the server dies or the round has enough acknowledged.
async fn write(client: Arc<Client>, writer: usize, round: usize, acked: Arc<Mutex<Acked>>) {
    let options = CreateMode::PersistentSequential.with_acls(Acls::anyone_all());
    loop {
        let next = acked.lock().unwrap().counters[writer] + 1;
        let data = format!("r{round}-w{writer}-{next}");
        let mut multi = client.new_multi_writer();
        multi
            .add_create(&format!("/load/w{writer}-"), data.as_bytes(), &options)
            .unwrap();
        multi
            .add_set_data(&counter(writer), next.to_string().as_bytes(), None)
            .unwrap();
        let Ok(Ok(results)) = tokio::time::timeout(BOUND, multi.commit()).await else {
            return; // killed: this one is in flight, neither acknowledged nor refused
        };
        let Some(MultiWriteResult::Create { path, .. }) = results.first() else {
            panic!("a create's result, got {results:?}");
        };
        let mut acked = acked.lock().unwrap();
        acked.nodes.insert(path.clone(), data);
        acked.counters[writer] = next;
    }
}

#[test]
fn kill_9_under_load_loses_no_acknowledged_write() {
    let rounds = std::env::var("KEEPER_CRASH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(ROUNDS);
    let dir = TempDir::new("durability");
    let data_dir = dir.path().join("data");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let acked = Arc::new(Mutex::new(Acked::default()));
    let mut sessions = Vec::new();
    let mut total_acked = 0;
    for round in 0..rounds {
        let (server, port) = start(dir.path(), &data_dir);
        let address = format!("127.0.0.1:{port}");
        let client = Arc::new(runtime.block_on(connect(&address, &server)));
        sessions.push(client.session_id().0);
        let nodes = runtime.block_on(async {
            if round == 0 {
                let options = CreateMode::Persistent.with_acls(Acls::anyone_all());
                client.create("/load", b"", &options).await.expect("/load");
                for writer in 0..WRITERS {
                    client
                        .create(&counter(writer), b"0", &options)
                        .await
                        .unwrap();
                }
            }
            // No writer runs now: the record can leave its lock for the check.
            let mut record = std::mem::take(&mut *acked.lock().unwrap());
            let nodes = check_recovered(&client, &mut record, round).await;
            *acked.lock().unwrap() = record;
            nodes
        });
        // Sequential names continue from the recovered cversion: with nothing ever deleted,
        // the next name is the number of children so far.
        let probe = runtime
            .block_on(client.create(
                "/load/probe-",
                b"",
                &CreateMode::PersistentSequential.with_acls(Acls::anyone_all()),
            ))
            .expect("a sequential create")
            .1;
        assert_eq!(
            probe.into_i64(),
            nodes as i64,
            "round {round}: the sequential counter did not continue"
        );
        acked
            .lock()
            .unwrap()
            .nodes
            .insert(format!("/load/probe-{:010}", nodes), String::new());

        // The load, and the kill once this round's share is acknowledged.
        let kill_after = total_acked + 3 + (round * 7) % 17;
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| runtime.spawn(write(Arc::clone(&client), w, round, Arc::clone(&acked))))
            .collect();
        wait_until(BOUND, "the round's writes to be acknowledged", || {
            (acked.lock().unwrap().nodes.len() >= kill_after).then_some(())
        })
        .unwrap_or_else(|e| panic!("round {round}: {e}\n{}", server.output()));
        // SIGKILL, and waits until the process is gone. Nothing can be acknowledged any more.
        // A writer whose next multi was sent after the connection broke would wait for it
        // through the client's reconnect attempts (seconds): it is stopped instead. A reply
        // that had arrived but was not yet recorded is found by the next round's check as the
        // one in flight.
        drop(server);
        for writer in writers {
            writer.abort();
            if let Err(e) = runtime.block_on(writer) {
                assert!(e.is_cancelled(), "a writer: {e}");
            }
        }
        total_acked = acked.lock().unwrap().nodes.len();
    }
    // One last start: the final round's kill is checked too.
    let (server, port) = start(dir.path(), &data_dir);
    let client = runtime.block_on(connect(&format!("127.0.0.1:{port}"), &server));
    sessions.push(client.session_id().0);
    let mut record = std::mem::take(&mut *acked.lock().unwrap());
    runtime.block_on(check_recovered(&client, &mut record, rounds));
    drop(server);
    // Session ids come from each start's clock: every restart hands out new, larger ones.
    assert!(
        sessions.windows(2).all(|pair| pair[0] < pair[1]),
        "session ids went back after a restart: {sessions:x?}"
    );
    println!("{rounds} kills, {total_acked} acknowledged writes survived");
}

/// A record a crash left half written at the end of the log is cut off at the restart, and
/// the server says so on stderr, as upstream's log does ("Last transaction was partial"):
/// the data is right, but someone should know the file was damaged. The node acknowledged
/// before it is there.
#[test]
fn recovery_says_what_it_cut_off() {
    use ch07_persistence::names::{self, LOG_PREFIX, VERSION_DIR};
    use std::io::{Seek, SeekFrom, Write};
    let dir = TempDir::new("torn-tail");
    let data_dir = dir.path().join("data");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let options = CreateMode::Persistent.with_acls(Acls::anyone_all());
    {
        let (server, port) = start(dir.path(), &data_dir);
        let client = runtime.block_on(connect(&format!("127.0.0.1:{port}"), &server));
        runtime
            .block_on(client.create("/kept", b"1", &options))
            .expect("create /kept");
        // Dropping the server kills it.
    }
    let logs = names::list(&data_dir.join(VERSION_DIR), LOG_PREFIX).expect("the logs");
    let (_, log) = logs.last().expect("a log file");
    let read = ch07_persistence::txn_log::read_log(log).expect("the log reads");
    // After the last good record: a checksum, then a length that promises more than follows.
    let mut file = std::fs::OpenOptions::new().write(true).open(log).unwrap();
    file.seek(SeekFrom::Start(read.valid_len)).unwrap();
    file.write_all(&[7, 7, 7, 7, 7, 7, 7, 7, 0, 0, 0, 100, 1, 2, 3])
        .unwrap();
    drop(file);
    let (server, port) = start(dir.path(), &data_dir);
    let output = server.output();
    assert!(
        output.contains("keeper: warning: recovery: cut log.") && output.contains("bytes: "),
        "{output}"
    );
    let client = runtime.block_on(connect(&format!("127.0.0.1:{port}"), &server));
    let (data, _) = runtime
        .block_on(client.get_data("/kept"))
        .expect("/kept survives");
    assert_eq!(data, b"1");
}
