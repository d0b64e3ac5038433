//! `keeper cluster` end to end: real server processes on loopback, real clients (kazoo, the
//! course's Java lab programs), and crashes by SIGKILL.
//!
//! This file owns what a student does with `keeper cluster` and the course's real clients
//! (the protocol's own behaviour under crashes, cuts and load is `tests/ensemble.rs`'s).
//! Each test starts its own cluster in a fresh folder with `--free-ports`, drives it only
//! through the commands a student types (`keeper cluster start|status|kill N|restart N|stop`)
//! and the four-letter word `srvr`, and stops it in a drop guard, so a failing test leaves no
//! server behind. Every wait is bounded.
//!
//! With `KEEPER_ORACLE=zookeeper` the ensemble tests run first on the real ZooKeeper 3.8
//! (`keeper cluster start --zookeeper`, the same files), the oracle that shows the
//! expectations are ZooKeeper's, then on Keeper.

use crate::common;

use common::cluster::{programs_under_test, Cluster, Program, COMMAND_TIMEOUT};
use common::raw::{
    check_a_moved_sessions_old_connection, check_a_request_sent_behind,
    check_a_request_sent_behind_a_reconnect, Connect,
};
use common::{four_letter_word, java_lab, run_for_stdout, tools, Guarded};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Runs tests/cluster/client.py (kazoo) to the end; its stdout, or why it failed.
/// Its answer is stdout alone: kazoo logs a warning to stderr for each connection attempt that
/// fails (a server still electing), and the command then succeeds on a later one.
fn kazoo(args: &[&str]) -> Result<String, String> {
    let mut command = Command::new(tools::PYTHON);
    command.arg(client_script()).args(args);
    let finished = run_for_stdout(command, COMMAND_TIMEOUT)?;
    if finished.status.success() {
        Ok(finished.output)
    } else {
        Err(format!(
            "kazoo {args:?}: {}{}",
            finished.output, finished.errors
        ))
    }
}

fn client_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cluster/client.py")
}

/// Starts `client.py COMMAND CONNECT-STRING ARGS... STOPFILE` (kazoo on every server) in the
/// background, killed when dropped; it ends by itself once the test creates `stop_file`.
fn kazoo_in_background(cluster: &Cluster, command: &[&str], stop_file: &Path) -> Guarded {
    let mut args = vec![client_script().into_os_string(), command[0].into()];
    args.push(cluster.connect_string().into());
    args.extend(command[1..].iter().map(|arg| arg.into()));
    args.push(stop_file.as_os_str().to_os_string());
    Guarded::spawn(
        "the kazoo client",
        tools::PYTHON,
        &args,
        cluster.root(),
        None,
    )
    .expect("python starts")
}

/// kazoo's answer, or the test fails with it and the servers' logs.
fn kazoo_ok(cluster: &Cluster, args: &[&str]) -> String {
    kazoo(args).unwrap_or_else(|why| panic!("{why}\n{}", cluster.logs()))
}

/// The value of `path` read from server `sid` alone, after a sync.
fn value_on(cluster: &Cluster, sid: u64, path: &str) -> String {
    values_on(cluster, &[sid], path).remove(0)
}

/// The value of `path` read from each of the servers `sids` alone, after a sync, in order:
/// one kazoo process for all of them (each takes a second to start on a loaded machine).
fn values_on(cluster: &Cluster, sids: &[u64], path: &str) -> Vec<String> {
    let hosts: Vec<String> = sids.iter().map(|&sid| cluster.address(sid)).collect();
    let values: Vec<String> = kazoo_ok(cluster, &["get", &hosts.join(" "), path])
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(values.len(), sids.len(), "one value per server: {values:?}");
    values
}

#[test]
fn start_writes_the_course_layout_and_every_command_does_what_it_says() {
    let cluster = Cluster::start(3);
    let root = cluster.root();
    for sid in 1..=3 {
        let myid = std::fs::read_to_string(root.join(format!("server{sid}/data/myid")));
        assert_eq!(myid.expect("a myid per server"), format!("{sid}\n"));
        let zoo_cfg = std::fs::read_to_string(cluster.zoo_cfg(sid)).expect("a zoo.cfg");
        let server_lines = zoo_cfg.lines().filter(|l| l.starts_with("server.")).count();
        assert_eq!(server_lines, 3, "{zoo_cfg}");
        assert!(zoo_cfg.contains(&format!(
            "dataDir={}",
            root.join(format!("server{sid}/data")).display()
        )));
    }
    // The servers outlived the command that started them, and formed an ensemble.
    cluster.wait_for_leader(&[1, 2, 3]);
    let status = cluster.ok(&["status"]);
    assert_eq!(status.matches("Mode: ").count(), 3, "{status}");

    let again = cluster.run(&["start"]);
    assert!(!again.status.success());
    assert!(
        again.output.contains("is already running"),
        "{}",
        again.output
    );
    let unknown = cluster.run(&["kill", "4"]);
    assert!(!unknown.status.success());
    assert!(
        unknown.output.contains("unknown server 4"),
        "{}",
        unknown.output
    );
    let other_size = cluster.run(&["start", "--servers", "5"]);
    assert!(
        other_size.output.contains("holds a 3-server cluster"),
        "{}",
        other_size.output
    );
    // Flags that shape a new cluster's files are refused, not ignored, on an existing one.
    for (flag, args) in [
        ("--set", &["start", "--set", "snapCount=100"][..]),
        ("--free-ports", &["start", "--free-ports"][..]),
    ] {
        let refused = cluster.run(args);
        assert!(!refused.status.success(), "{}", refused.output);
        let said = format!("{flag} only applies when start writes a new cluster");
        assert!(refused.output.contains(&said), "{}", refused.output);
    }

    cluster.ok(&["kill", "2"]);
    assert_eq!(
        cluster.mode(2),
        None,
        "server 2 still answers after kill -9"
    );
    let status = cluster.run(&["status"]);
    assert!(
        !status.status.success(),
        "status succeeds with a server down"
    );
    assert!(status
        .output
        .contains("Error contacting service. It is probably not running."));
    let not_running = cluster.run(&["kill", "2"]);
    assert!(
        not_running.output.contains("server 2 is not running"),
        "{}",
        not_running.output
    );
    let restarted = cluster.ok(&["restart", "2"]);
    assert!(restarted.contains("Mode: follower"), "{restarted}");

    let zoo_cfg_before = std::fs::read_to_string(cluster.zoo_cfg(1)).expect("a zoo.cfg");
    stop_and_check(&cluster);
    // A second start reuses the files: same config, same ports.
    let restarted = cluster.ok(&["start"]);
    assert!(restarted.contains("Reusing the cluster"), "{restarted}");
    assert_eq!(
        std::fs::read_to_string(cluster.zoo_cfg(1)).expect("a zoo.cfg"),
        zoo_cfg_before
    );
    assert!(restarted.contains(&format!("Connect string: {}", cluster.connect_string())));
}

/// `stop`, then no server answers and no pid file is left.
fn stop_and_check(cluster: &Cluster) {
    cluster.ok(&["stop"]);
    for sid in cluster.sids() {
        assert_eq!(cluster.mode(sid), None, "server {sid} answers after stop");
        assert!(
            !cluster.pid_file(sid).exists(),
            "server {sid}'s pid file outlived stop"
        );
    }
}

/// A zoo.cfg broken by hand is its own server's problem: `status` still shows every other
/// server and gives the broken one its error, a `restart` of that server is refused with the
/// error (and leaves it running), and `kill` and `stop` need only the pid files, as
/// `zkServer.sh stop` does.
#[test]
fn a_broken_zoo_cfg_stops_only_the_commands_that_need_it() {
    let cluster = Cluster::start(3);
    cluster.wait_for_leader(&[1, 2, 3]);
    let zoo_cfg = cluster.zoo_cfg(3);
    let text = std::fs::read_to_string(&zoo_cfg).expect("a zoo.cfg");
    let port = format!("clientPort={}", cluster.client_ports[2]);
    std::fs::write(&zoo_cfg, text.replace(&port, "clientPort=21x3")).expect("an edit");
    let error = "server3/conf/zoo.cfg line 8: clientPort=21x3 is not a valid number";

    let status = cluster.run(&["status"]);
    assert!(!status.status.success(), "{}", status.output);
    assert_eq!(
        status.output.matches("Mode: ").count(),
        2,
        "{}",
        status.output
    );
    assert_eq!(status.output.matches(error).count(), 1, "{}", status.output);
    assert!(
        !status.output.contains("zoo.cfg: zoo.cfg"),
        "{}",
        status.output
    );

    let refused = cluster.run(&["restart", "3"]);
    assert!(!refused.status.success(), "{}", refused.output);
    assert!(refused.output.contains(error), "{}", refused.output);
    assert!(
        cluster.mode(3).is_some(),
        "the refused restart stopped server 3"
    );

    cluster.ok(&["kill", "1"]);
    assert_eq!(
        cluster.mode(1),
        None,
        "server 1 still answers after kill -9"
    );
    stop_and_check(&cluster);
}

/// A server that cannot listen on its client port (another program holds it and accepts
/// connections there) exits at start-up: `start` says so, with the end of its log, and exits
/// non-zero, instead of taking the other program's connections for the server's.
#[test]
fn start_reports_a_server_that_dies_because_another_program_holds_its_client_port() {
    let cluster = Cluster::start(3);
    cluster.ok(&["stop"]);
    let port = cluster.client_ports[1];
    let taken = std::net::TcpListener::bind(("127.0.0.1", port)).expect("server 2's free port");
    let started = cluster.run(&["start"]);
    assert!(!started.status.success(), "{}", started.output);
    assert!(
        started.output.contains("server 2 exited"),
        "{}",
        started.output
    );
    let from_its_log = format!("cannot listen on client port 127.0.0.1:{port}");
    assert!(started.output.contains(&from_its_log), "{}", started.output);
    assert!(
        !started.output.contains("Connect string"),
        "{}",
        started.output
    );
    drop(taken);
}

/// `keeper cluster ARGS --dir DIR` with a stdout whose reader has gone, as in `| head -1`:
/// its exit status and what it said on stderr. The reader is closed before the command
/// starts, so its first line already has nobody to read it.
fn with_stdout_closed(cluster: &Cluster, args: &[&str]) -> (std::process::ExitStatus, String) {
    let (writer, reader) = std::os::unix::net::UnixStream::pair().expect("a socket pair");
    drop(reader);
    let ran = Command::new(common::cluster::KEEPER)
        .arg("cluster")
        .args(args)
        .arg("--dir")
        .arg(cluster.root())
        .stdout(std::os::fd::OwnedFd::from(writer))
        .output()
        .expect("keeper runs");
    (
        ran.status,
        String::from_utf8_lossy(&ran.stderr).into_owned(),
    )
}

/// A command whose reader goes away early does not panic. `start` still starts every server
/// and succeeds (its report is lost, its work is done, as a half-started cluster would be
/// worse), and `status` ends quietly, as `zkServer.sh status | head -1` does.
#[test]
fn a_closed_stdout_neither_panics_nor_stops_a_start_halfway() {
    let cluster = Cluster::start(3);
    cluster.ok(&["stop"]);
    let (started, errors) = with_stdout_closed(&cluster, &["start"]);
    assert!(started.success(), "{started:?}: {errors}");
    assert!(!errors.contains("panicked"), "{errors}");
    cluster.wait_for_leader(&[1, 2, 3]);
    let (_, errors) = with_stdout_closed(&cluster, &["status"]);
    assert!(!errors.contains("panicked"), "{errors}");
}

/// The ensemble tests need kazoo; without it they say so and pass.
fn kazoo_or_skip(test: &str) -> bool {
    match tools::kazoo() {
        Ok(()) => true,
        Err(reason) => {
            common::skip(test, &reason);
            false
        }
    }
}

/// The three servers of the course elect one leader, `keeper cluster status` shows it as
/// `zkServer.sh status` would on each machine, and a write through any server is read from
/// every other one (ZooKeeper's sequential consistency, with a sync before each read).
#[test]
fn three_servers_elect_one_leader_and_a_write_through_any_server_is_read_on_every_server() {
    const TEST: &str = "three servers elect and replicate";
    if !kazoo_or_skip(TEST) {
        return;
    }
    for program in programs_under_test(TEST) {
        let cluster = Cluster::start_with(program, 3);
        let leader = cluster.wait_for_leader(&[1, 2, 3]);
        let status = cluster.ok(&["status"]);
        assert_eq!(
            status.matches("Mode: leader").count(),
            1,
            "{program:?}: {status}"
        );
        assert_eq!(
            status.matches("Mode: follower").count(),
            2,
            "{program:?}: {status}"
        );
        for writer in 1..=3 {
            let path = format!("/course/via-{writer}");
            let value = format!("written through server {writer} (leader {leader})");
            kazoo_ok(
                &cluster,
                &["create", &cluster.address(writer), &path, &value],
            );
            let read = values_on(&cluster, &[1, 2, 3], &path);
            for (reader, read) in (1..).zip(read) {
                assert_eq!(read, value, "{program:?}: server {reader}");
            }
        }
    }
}

/// Killing the leader (SIGKILL) makes the other two elect a new one and writes go on; the
/// old leader, restarted, rejoins as a follower and serves what was written while it was down
/// (it catches up from the new leader: upstream `LearnerHandler.syncFollower`, DIFF or SNAP).
#[test]
fn a_killed_leader_is_replaced_and_once_restarted_it_catches_up() {
    const TEST: &str = "leader crash and catch-up";
    if !kazoo_or_skip(TEST) {
        return;
    }
    for program in programs_under_test(TEST) {
        let cluster = Cluster::start_with(program, 3);
        let old = cluster.wait_for_leader(&[1, 2, 3]);
        kazoo_ok(
            &cluster,
            &["create", &cluster.connect_string(), "/before", "1"],
        );
        cluster.ok(&["kill", &old.to_string()]);
        let rest: Vec<u64> = (1..=3).filter(|&sid| sid != old).collect();
        let new = cluster.wait_for_leader(&rest);
        assert_ne!(new, old, "{program:?}");
        kazoo_ok(
            &cluster,
            &["create", &cluster.address(rest[0]), "/during", "2"],
        );
        cluster.ok(&["restart", &old.to_string()]);
        assert_eq!(
            cluster.wait_for_leader(&[1, 2, 3]),
            new,
            "{program:?}: a rejoining server took over"
        );
        assert_eq!(value_on(&cluster, old, "/before"), "1", "{program:?}");
        assert_eq!(value_on(&cluster, old, "/during"), "2", "{program:?}");
    }
}

/// A client given every server's address keeps its session when its server is killed: it
/// moves to another server with the same session id and password, and its ephemeral node
/// stays (upstream `ClientCnxn` reconnects with them; the server that takes the session over
/// revalidates it with the leader). Watches are not checked here: kazoo 2.8 drops its watchers
/// on any lost connection (`KazooClient._reset_watchers`) and sends no setWatches.
#[test]
fn a_client_with_every_address_keeps_its_session_and_ephemerals_when_its_server_dies() {
    const TEST: &str = "multi-host client survives its server";
    if !kazoo_or_skip(TEST) {
        return;
    }
    for program in programs_under_test(TEST) {
        let cluster = Cluster::start_with(program, 3);
        cluster.wait_for_leader(&[1, 2, 3]);
        let stop_file = cluster.root().join("stop-session");
        let client = kazoo_in_background(&cluster, &["session"], &stop_file);
        let line = |prefix: &str| -> Vec<String> {
            let at = client
                .wait_for_line(0, COMMAND_TIMEOUT, |l| l.starts_with(prefix))
                .unwrap_or_else(|why| panic!("{program:?}: {why}\n{}", cluster.logs()));
            let output = client.output();
            let text = output.lines().nth(at).expect("the line waited for");
            text.split_whitespace()
                .skip(1)
                .map(str::to_string)
                .collect()
        };
        let ready = line("ready ");
        let port: u16 = ready[1].parse().expect("a port");
        let victim = cluster
            .sids()
            .find(|&sid| cluster.client_ports[sid as usize - 1] == port);
        let victim = victim.expect("the client is on one of the servers");
        cluster.ok(&["kill", &victim.to_string()]);
        let moved = line("reconnected ");
        assert_eq!(moved[0], ready[0], "{program:?}: the session changed");
        assert_ne!(
            moved[1], ready[1],
            "{program:?}: still on the killed server"
        );
        assert_eq!(
            line("owner "),
            [ready[0].clone()],
            "{program:?}: the ephemeral's owner"
        );
        let other = cluster
            .sids()
            .find(|&sid| sid != victim)
            .expect("a live server");
        assert_eq!(value_on(&cluster, other, "/eph"), "mine", "{program:?}");
        std::fs::write(&stop_file, "").expect("the stop file");
        line("done");
    }
}

/// Three servers of `program`, once one leads: the cluster, the leader's client port and the
/// followers'.
fn three_servers(program: Program) -> (Cluster, u16, Vec<u16>) {
    let cluster = Cluster::start_with(program, 3);
    let leader = cluster.wait_for_leader(&[1, 2, 3]);
    let port = |sid: u64| cluster.client_ports[sid as usize - 1];
    let followers: Vec<u16> = cluster.sids().filter(|&s| s != leader).map(port).collect();
    let leader = port(leader);
    (cluster, leader, followers)
}

/// A client may send its first request right behind its ConnectRequest. When it resumes its
/// session on a follower, the handshake waits for the leader's word, and the request waits
/// with it: it is answered after the handshake, not taken for a request without a session
/// (which closes the connection). A new session's request waits for its createSession txn.
#[test]
fn a_request_sent_behind_a_reconnect_is_answered_after_the_handshake() {
    const TEST: &str = "a request behind a reconnect";
    for program in programs_under_test(TEST) {
        let (cluster, leader, followers) = three_servers(program);
        let moves = [
            ("follower to follower", followers[0], followers[1]),
            ("leader to follower", leader, followers[0]),
            ("follower to leader", followers[1], leader),
        ];
        for (what, from, to) in moves {
            check_a_request_sent_behind_a_reconnect(from, to)
                .unwrap_or_else(|why| panic!("{program:?}, {what}: {why}\n{}", cluster.logs()));
        }
        // A new session on a follower waits for its createSession txn, and the request too.
        check_a_request_sent_behind(followers[0], &Connect::default(), 0)
            .unwrap_or_else(|why| panic!("{program:?}, a new session: {why}\n{}", cluster.logs()));
    }
}

/// A session moves to another server while its first connection stays open (two processes
/// with one session id and password): the old connection is closed at its next write through
/// a follower, or at its next request of any kind on the leader, and the session goes on where
/// it moved. ZooKeeper 3.8's leader checks each request's session against the server that
/// revalidated it last and answers SessionMoved by closing the connection
/// (`SessionTrackerImpl.checkSession`, `FinalRequestProcessor`). (issue 11)
#[test]
fn a_session_that_moved_loses_the_connection_it_left_at_its_next_write() {
    const TEST: &str = "a moved session's old connection";
    for program in programs_under_test(TEST) {
        let (cluster, leader, followers) = three_servers(program);
        let moves = [
            ("follower to follower", followers[0], followers[1], false),
            ("leader to follower", leader, followers[0], true),
        ];
        for (what, from, to, from_leads) in moves {
            check_a_moved_sessions_old_connection(from, to, from_leads)
                .unwrap_or_else(|why| panic!("{program:?}, {what}: {why}\n{}", cluster.logs()));
        }
    }
}

/// The course's Java lab on the course's three servers, each program given every server's
/// address: `DistributeClient` watches `/servers` while two `DistributeServer`s register.
/// The Keeper server the client is on is killed; the client moves to another with its
/// session and its child watch (the Java client sends setWatches on reconnecting), and still
/// sees the list shrink when a lab server dies (its session expires on the ensemble, which
/// deletes its ephemeral znode and fires the watch).
#[test]
fn the_java_lab_on_three_servers_sees_the_list_change_after_its_server_is_killed() {
    const TEST: &str = "the servers up/down lab on three servers";
    /// A JVM start on a busy machine, plus a round trip.
    const JVM_TIMEOUT: Duration = Duration::from_secs(30);
    /// A lab server's 3 s session, rounded up to 2 ticks of 2 s, expired by a leader that
    /// checks each tick, after the client's own move: generous for a loaded machine.
    const EXPIRY_TIMEOUT: Duration = Duration::from_secs(40);
    if let Err(reason) = tools::javac() {
        return common::skip(TEST, &reason);
    }
    // javac (once per version of the sources) and the cluster's start each take seconds on
    // a loaded machine: side by side.
    let (classes, cluster) = std::thread::scope(|s| {
        let compiled = s.spawn(java_lab::compiled);
        let cluster = Cluster::start(3);
        (compiled.join().expect("javac's thread"), cluster)
    });
    cluster.wait_for_leader(&[1, 2, 3]);
    let hosts = cluster.connect_string();
    let fail = |why: String| -> ! { panic!("{why}\n{}", cluster.logs()) };

    let client = java_lab::program(&classes, "DistributeClient", &[&hosts]);
    let printed = |from: usize, line: &str, timeout: Duration| {
        client
            .wait_for_line(from, timeout, |l| l == line)
            .unwrap_or_else(|why| fail(why))
    };
    let mut at = printed(0, "servers = []", JVM_TIMEOUT);
    // The client's server: the one whose `cons` lists a session, the only one so far.
    let home = cluster
        .sids()
        .find(|&sid| {
            four_letter_word(cluster.client_ports[sid as usize - 1], "cons")
                .is_ok_and(|c| c.contains(",sid=0x"))
        })
        .unwrap_or_else(|| fail("no server lists the client's session".into()));

    // Both start at once, so either may register first.
    let alpha = java_lab::program(&classes, "DistributeServer", &[&hosts, "alpha"]);
    let beta = java_lab::program(&classes, "DistributeServer", &[&hosts, "beta"]);
    at = client
        .wait_for_line(at + 1, JVM_TIMEOUT, |l| {
            l == "servers = [alpha, beta]" || l == "servers = [beta, alpha]"
        })
        .unwrap_or_else(|why| fail(why));

    cluster.ok(&["kill", &home.to_string()]);
    let rest: Vec<u64> = cluster.sids().filter(|&sid| sid != home).collect();
    cluster.wait_for_leader(&rest);
    drop(alpha);
    printed(at + 1, "servers = [beta]", EXPIRY_TIMEOUT);
    drop(beta);
}
