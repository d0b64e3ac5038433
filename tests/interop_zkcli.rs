//! zkCli sessions print the same against Keeper as against the real
//! ZooKeeper 3.8: the seed's session, one of errors and watch events, and a
//! pair about ACLs and node types.
//!
//! A student's first contact with ZooKeeper is zkCli: the course notes walk
//! through `ls /`, `create /sanguo "diaochan"`, sequential and ephemeral
//! nodes, `stat`, `deleteall`. Here the real zkCli 3.8 (Java
//! `ZooKeeperMain`, piped: no prompts, stdout and stderr interleaved as a
//! terminal shows them) runs that session against each server under test on
//! a fresh data directory.
//!
//! Times, session ids and the port differ from run to run, so they are
//! masked. Zxids are not simply erased: each is shown as its distance from
//! the transcript's first one (`<zxid+3>`), so the order of changes, which
//! fields share a zxid, and the rule that a failed write still uses a zxid
//! (an error txn, on 3.8) are all compared; only the starting number is not.
//! zkCli prints its connection events from another thread, racing the
//! commands' answers: the SyncConnected event is put back where it lands when
//! that thread wins, and a Closed event at the very end (which the JVM may
//! exit before printing) is dropped, so a race is not mistaken for a
//! server's difference. Watch events race the same way; the scripts follow
//! each trigger with `sync /`, which zkCli completes only after printing
//! them (see [`ERRORS_AND_WATCHES`]).
//!
//! The real ZooKeeper's masked transcript is an insta snapshot, so the book
//! can show it and any drift shows up in review; every other server's
//! masked transcript must equal it line for line.

mod common;

use common::{run_to_end, servers_under_test, tools, Server, ServerKind};
use std::process::Command;
use std::time::Duration;

/// The commands a student types from the course notes, ending with `quit`.
const SEED_SESSION: &str = include_str!("interop/seed-session.zkcli");

/// What the seed does not reach: every error a server reports (NodeExists,
/// NoNode, NotEmpty, BadVersion, NoChildrenForEphemerals), `ls -R`, `getAcl`,
/// `sync`, `getAllChildrenNumber`, `getEphemerals`, `whoami`, and one-shot
/// data, child and exists watches plus a persistent recursive one. Each
/// watch is triggered by a command that prints nothing (`set`, `delete`,
/// `deleteall`), then `sync /`: zkCli prints events from its own thread,
/// racing the next commands' answers, but it completes `sync` on that same
/// thread, after every event that arrived before it, so `Sync is OK` comes
/// after the event's block on any machine, however loaded.
const ERRORS_AND_WATCHES: &str = include_str!("interop/errors-and-watches.zkcli");

/// Node types beyond the seed's (a container; a TTL node, which a server
/// without extended types refuses) and ACLs: `addauth digest`, `setAcl`
/// with the `auth` and `ip` schemes, `getAcl`, `whoami`, and the
/// permission each command needs. Then a second session, without
/// Alice's credentials, tries her node.
const ACLS_AND_NODE_TYPES: [&str; 2] = [
    include_str!("interop/acls-and-node-types.zkcli"),
    include_str!("interop/acls-as-a-stranger.zkcli"),
];

/// Separates the zkCli sessions of one transcript.
const NEXT_SESSION: &str = "--- the next zkCli session ---\n";

/// zkCli's JVM start plus a handful of round trips; generous for a busy
/// machine, and a hung session still fails instead of hanging the suite.
const ZKCLI_TIMEOUT: Duration = Duration::from_secs(60);

/// Java's `Date.toString()` of time 0 in UTC: the root's ctime and mtime,
/// which every server must print exactly, so it is not masked.
const EPOCH: &str = "Thu Jan 01 00:00:00 UTC 1970";

/// Pipes `script` through the real zkCli 3.8 connected to `address`.
fn zkcli(address: &str, script: &str) -> String {
    let mut command = Command::new("java");
    command
        .args(["-Xmx128m", "-cp", &tools::zookeeper_classpath()])
        .args(["org.apache.zookeeper.ZooKeeperMain", "-server", address])
        // Dates print in the JVM's zone; pin it so the root's epoch reads
        // the same on every machine.
        .env("TZ", "UTC");
    shell_session("zkCli", address, command, script)
}

/// Pipes `script` through `command`, a shell (`client` names it in a
/// failure) connected to `address`, and returns what it printed with its
/// connection events settled. A shell that hangs or exits non-zero fails
/// the test.
fn shell_session(client: &str, address: &str, command: Command, script: &str) -> String {
    let finished = run_to_end(command, script, ZKCLI_TIMEOUT)
        .unwrap_or_else(|why| panic!("{client} against {address}: {why}"));
    assert!(
        finished.status.success(),
        "{client} against {address} exited with {}:\n{}",
        finished.status,
        finished.output
    );
    settle_connection_events(&finished.output)
}

/// zkCli prints connection events from its event thread, racing its main
/// thread: on a fast server the SyncConnected event may come after the
/// first command's answer; on `quit` the JVM may exit before the Closed
/// event is printed, and the server's close of the socket after its reply
/// may reach zkCli before zkCli marks itself closing, which it reports as a
/// Disconnected event. The SyncConnected event is moved to where it lands
/// when the event thread wins (after the banner), and the Disconnected and
/// Closed events at the very end are dropped, so no such race is compared;
/// that the session connected, once, still is.
fn settle_connection_events(session: &str) -> String {
    const CLOSED: &str = "\nWATCHER::\n\nWatchedEvent state:Closed type:None path:null\n";
    const DISCONNECTED: &str =
        "\nWATCHER::\n\nWatchedEvent state:Disconnected type:None path:null\n";
    let mut session = session;
    while let Some(earlier) = session
        .strip_suffix(CLOSED)
        .or_else(|| session.strip_suffix(DISCONNECTED))
    {
        session = earlier;
    }
    const BANNER: &str = "JLine support is disabled\n";
    const EVENT: &str = "\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null\n";
    match (session.find(BANNER), session.find(EVENT)) {
        (Some(banner), Some(event)) if event > banner + BANNER.len() => {
            let mut moved = session.to_string();
            moved.replace_range(event..event + EVENT.len(), "");
            moved.insert_str(banner + BANNER.len(), EVENT);
            moved
        }
        _ => session.to_string(),
    }
}

/// The zxid in a stat line such as `pZxid = 0x1a`.
fn zxid_in(line: &str) -> Option<u64> {
    let (field, value) = line.split_once(" = ")?;
    let hex = value.strip_prefix("0x")?;
    matches!(field, "cZxid" | "mZxid" | "pZxid")
        .then(|| u64::from_str_radix(hex, 16).ok())
        .flatten()
}

/// Masks what legitimately differs between runs (see the module doc).
fn mask(transcript: &str, address: &str) -> String {
    // 0x0 (the root's) stays; every other zxid is shown as its distance from
    // the smallest non-zero one.
    let base = transcript
        .lines()
        .filter_map(zxid_in)
        .filter(|&z| z != 0)
        .min();
    transcript
        .lines()
        .map(|line| {
            let masked = line.replace(address, "127.0.0.1:<port>");
            match (masked.split_once(" = "), zxid_in(&masked), base) {
                (Some((field, _)), Some(zxid), Some(base)) if zxid != 0 => {
                    format!("{field} = <zxid+{}>", zxid - base)
                }
                (Some((field @ ("ctime" | "mtime"), value)), _, _) if value != EPOCH => {
                    format!("{field} = <time>")
                }
                (Some(("ephemeralOwner", value)), _, _) if value != "0x0" => {
                    "ephemeralOwner = <session id>".to_string()
                }
                _ => masked,
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `scripts` through zkCli, one session after the other, against each
/// server under test on a fresh data directory; snapshots the real
/// ZooKeeper's masked transcript as `snapshot` and requires every other
/// server's to equal it.
fn prints_the_same_on_every_server(test: &str, scripts: &[&str], snapshot: &str) {
    if let Err(reason) = tools::java() {
        return common::skip(test, &format!("zkCli needs Java: {reason}"));
    }
    let servers = servers_under_test();
    assert_eq!(
        servers.first(),
        Some(&ServerKind::ZooKeeper),
        "the oracle comes first"
    );
    let mut oracle: Option<String> = None;
    for kind in servers {
        let Some(server) = Server::start_or_skip(kind, test) else {
            continue;
        };
        let sessions: Vec<String> = scripts
            .iter()
            .map(|script| zkcli(&server.address(), script))
            .collect();
        let transcript = mask(&sessions.join(NEXT_SESSION), &server.address());
        match &oracle {
            None => {
                insta::with_settings!({ omit_expression => true }, {
                    insta::assert_snapshot!(snapshot, transcript);
                });
                oracle = Some(transcript);
            }
            Some(expected) => {
                if let Some(difference) = first_difference(&transcript, expected) {
                    panic!(
                        "{kind} printed `{test}` differently from ZooKeeper 3.8: {difference}\n\
                         --- {kind}:\n{transcript}\n--- ZooKeeper 3.8:\n{expected}"
                    );
                }
            }
        }
    }
}

/// Where two transcripts first part, as a one-line message.
fn first_difference(actual: &str, expected: &str) -> Option<String> {
    let (mut actual, mut expected) = (actual.lines(), expected.lines());
    for number in 1.. {
        match (actual.next(), expected.next()) {
            (None, None) => return None,
            (a, e) if a == e => continue,
            (a, e) => {
                return Some(format!(
                    "line {number} is {} where ZooKeeper printed {}",
                    a.map_or("missing".into(), |l| format!("`{l}`")),
                    e.map_or("nothing".into(), |l| format!("`{l}`"))
                ))
            }
        }
    }
    unreachable!("the loop returns when both transcripts end")
}

#[test]
fn the_seed_zkcli_session_prints_the_same_on_every_server_as_on_real_zookeeper() {
    prints_the_same_on_every_server(
        "the seed zkCli session",
        &[SEED_SESSION],
        "seed_session_on_real_zookeeper",
    );
}

#[test]
fn zkcli_errors_listings_acls_and_watch_events_print_the_same_on_every_server() {
    prints_the_same_on_every_server(
        "the errors-and-watches zkCli session",
        &[ERRORS_AND_WATCHES],
        "errors_and_watches_on_real_zookeeper",
    );
}

#[test]
fn masking_keeps_the_distances_between_zxids_and_the_epoch_but_hides_times_and_sessions() {
    let raw = "Connecting to 127.0.0.1:4242\n\
               cZxid = 0x0\n\
               ctime = Thu Jan 01 00:00:00 UTC 1970\n\
               cZxid = 0x1a\n\
               mtime = Wed Nov 25 16:46:37 UTC 2026\n\
               mZxid = 0x3\n\
               pZxid = 0x1a\n\
               ephemeralOwner = 0x0\n\
               ephemeralOwner = 0x1000a3c2a50000";
    let expected = "Connecting to 127.0.0.1:<port>\n\
                    cZxid = 0x0\n\
                    ctime = Thu Jan 01 00:00:00 UTC 1970\n\
                    cZxid = <zxid+23>\n\
                    mtime = <time>\n\
                    mZxid = <zxid+0>\n\
                    pZxid = <zxid+23>\n\
                    ephemeralOwner = 0x0\n\
                    ephemeralOwner = <session id>";
    assert_eq!(mask(raw, "127.0.0.1:4242"), expected);
}

#[test]
fn zkcli_acls_and_node_types_print_the_same_on_every_server() {
    prints_the_same_on_every_server(
        "the ACLs and node types zkCli sessions",
        &ACLS_AND_NODE_TYPES,
        "acls_and_node_types_on_real_zookeeper",
    );
}

/// Pipes `script` through `keeper cli` (chapter 1's shell over the wire)
/// connected to `address`.
fn keeper_cli(address: &str, script: &str) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keeper"));
    command.args(["cli", "-server", address]).env("TZ", "UTC");
    shell_session("keeper cli", address, command, script)
}

/// A snapshot's transcript: the file without insta's 3-line header.
fn snapshot_body(name: &str) -> String {
    let path = format!(
        "{}/tests/snapshots/interop_zkcli__{name}.snap",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.splitn(4, '\n').nth(3).unwrap_or_default().to_string()
}

#[test]
fn keeper_cli_prints_the_seed_session_as_real_zkcli_prints_it_on_every_server() {
    // The client side of the same promise: Keeper's own shell, run against
    // each server under test, prints the real zkCli's transcript on
    // ZooKeeper 3.8 (the seed snapshot) line for line.
    let expected = snapshot_body("seed_session_on_real_zookeeper");
    for kind in servers_under_test() {
        let Some(server) = Server::start_or_skip(kind, "keeper cli, the seed session") else {
            continue;
        };
        let transcript = mask(
            &keeper_cli(&server.address(), SEED_SESSION),
            &server.address(),
        );
        if let Some(difference) = first_difference(&transcript, &expected) {
            panic!(
                "keeper cli against {kind} printed the seed differently from zkCli: {difference}\n\
                 --- keeper cli:\n{transcript}\n--- zkCli on ZooKeeper 3.8:\n{expected}"
            );
        }
    }
}

#[test]
fn a_transcript_difference_names_the_first_line_that_differs() {
    assert_eq!(first_difference("a\nb\nc", "a\nb\nc"), None);
    assert_eq!(
        first_difference("a\nx\nc", "a\nb\nc").as_deref(),
        Some("line 2 is `x` where ZooKeeper printed `b`")
    );
    assert_eq!(
        first_difference("a", "a\nb").as_deref(),
        Some("line 2 is missing where ZooKeeper printed `b`")
    );
}

#[test]
fn connection_events_that_race_the_commands_are_put_in_one_place() {
    let event = "\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null\n";
    let won = format!("Welcome to ZooKeeper!\nJLine support is disabled\n{event}Created /a\n");
    let lost = format!("Welcome to ZooKeeper!\nJLine support is disabled\nCreated /a\n{event}");
    assert_eq!(settle_connection_events(&won), won);
    assert_eq!(settle_connection_events(&lost), won);
    let closed = "\nWATCHER::\n\nWatchedEvent state:Closed type:None path:null\n";
    assert_eq!(settle_connection_events(&format!("{won}{closed}")), won);
    let lost = "\nWATCHER::\n\nWatchedEvent state:Disconnected type:None path:null\n";
    assert_eq!(settle_connection_events(&format!("{won}{lost}")), won);
    assert_eq!(
        settle_connection_events(&format!("{won}{lost}{closed}")),
        won
    );
}
