//! zkCli sessions print the same against Keeper as against the real
//! ZooKeeper 3.8, and `keeper cli` prints what the real zkCli prints: the
//! seed's session, one of errors and watch events, a pair about ACLs and
//! node types, and one session per zkCli command beyond those (addWatch,
//! removewatches, printwatches, close and connect, config and reconfig,
//! the quota commands, history and redo, and a reconnect to the next server
//! of a connect string), and one session on a three-server ensemble.
//!
//! A student's first contact with ZooKeeper is zkCli: the course notes walk
//! through `ls /`, `create /sanguo "diaochan"`, sequential and ephemeral
//! nodes, `stat`, `deleteall`. Here the real zkCli 3.8 (Java
//! `ZooKeeperMain`, reading a pipe: no prompts, stdout and stderr
//! interleaved as a terminal shows them) runs each session against each
//! server under test on a fresh data directory, and so does `keeper cli`.
//! A session is typed line by line; `#` lines direct the harness
//! ([`run_script`]): `#wait TEXT` holds the next line until the line TEXT
//! is printed (an event, so no line races it), other `#` lines are actions (cut a
//! connection) or comments.
//!
//! Times, session ids, the port and the CLI's own version differ from run to
//! run, so they are masked. Zxids are not simply erased: each is shown as its
//! distance from the transcript's first one (`<zxid+3>`), so the order of
//! changes, which fields share a zxid, and the rule that a failed write still
//! uses a zxid (an error txn, on 3.8) are all compared; only the starting
//! number is not. zkCli prints its connection events from another thread,
//! racing the commands' answers: the SyncConnected event is put back where it
//! lands when that thread wins, and the Disconnected and Closed events at
//! the very end (which a `quit` may or may not leave) are dropped, so a race
//! is not mistaken for a server's difference.
//!
//! The real zkCli's masked transcript on the real ZooKeeper is an insta
//! snapshot, so the book can show it and any drift shows up in review; every
//! other pair of shell and server must print it line for line.
//!
//! The book's zkCli reference shows, for every command, its usage line and a
//! few lines typed with what the real zkCli printed for each. Those are cut
//! from the same oracle run ([`Shown`]) and pinned as small snapshots of their
//! own (`usage_*`, `example_*`). A line's answer is told apart from the next
//! one's by the script: it waits (`#wait`) for each answer the book shows
//! before typing the next line.

use crate::common;

use common::cluster::{programs_under_test, Cluster, Program};
use common::{run_script, servers_under_test, tools, Proxy, Server, ServerKind, Typed};
use std::process::Command;
use std::time::Duration;

/// The commands a student types from the course notes, ending with `quit`.
const SEED_SESSION: &str = include_str!("interop/seed-session.zkcli");

/// What the seed does not reach: every error a server reports (NodeExists,
/// NoNode, NotEmpty, BadVersion, NoChildrenForEphemerals), `ls -R`, `getAcl`,
/// `sync`, `getAllChildrenNumber`, `getEphemerals`, `whoami`, and one-shot
/// data, child and exists watches plus a persistent recursive one. Each
/// watch is triggered by a command that prints nothing (`set`, `delete`,
/// `deleteall`), and the next line waits for its event (`#wait`): zkCli
/// prints events from its own thread, and a loaded machine once let the
/// next command's answer overtake one.
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

/// addWatch's two modes, and zkCli's habit of keeping the last `-m`.
const ADD_WATCH: &str = include_str!("interop/add-watch.zkcli");

/// removewatches in each form, and NoWatcher when the client holds none.
const REMOVE_WATCHES: &str = include_str!("interop/remove-watches.zkcli");

/// printwatches off drops events for good.
const PRINT_WATCHES: &str = include_str!("interop/print-watches.zkcli");

/// close, `Not connected`, and connect with and without a server.
const CLOSE_AND_CONNECT: &str = include_str!("interop/close-and-connect.zkcli");

/// config on a standalone server, and reconfig refused.
const CONFIG_AND_RECONFIG: &str = include_str!("interop/config-and-reconfig.zkcli");

/// setquota, listquota and delquota, with the counts the server keeps: chapter 1's recorded
/// session (which its in-memory shell must print too), with the waits the book's examples need.
const QUOTAS: &str = include_str!("interop/quota.zkcli");

/// The commands of chapter 1's recorded quota session, which [`QUOTAS`] types.
const CHAPTER_1_QUOTAS: &str = include_str!("../chapters/ch01-znode/tests/zkcli/quota.commands");

/// history, redo and version.
const HISTORY_AND_REDO: &str = include_str!("interop/history-and-redo.zkcli");

/// A lost connection resumed on the next server, watches set again.
const RECONNECT: &str = include_str!("interop/reconnect.zkcli");

/// Separates the zkCli sessions of one transcript.
const NEXT_SESSION: &str = "--- the next zkCli session ---\n";

/// zkCli's JVM start plus a handful of round trips; generous for a busy
/// machine, and a hung session still fails instead of hanging the suite.
const ZKCLI_TIMEOUT: Duration = Duration::from_secs(60);

/// Java's `Date.toString()` of time 0 in UTC: the root's ctime and mtime,
/// which every server must print exactly, so it is not masked.
const EPOCH: &str = "Thu Jan 01 00:00:00 UTC 1970";

/// The two shells: the real zkCli 3.8 (the oracle, on the real ZooKeeper)
/// and `keeper cli` (chapter 1's shell over the wire).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shell {
    ZkCli,
    KeeperCli,
}

impl Shell {
    /// The shell's process, connected to `connect_string`.
    fn command(self, connect_string: &str) -> Command {
        let mut command = match self {
            Shell::ZkCli => {
                let mut java = Command::new("java");
                let classpath = tools::zookeeper_classpath();
                java.args(tools::JVM_OPTIONS).args([
                    "-Xmx128m",
                    "-cp",
                    &classpath,
                    "org.apache.zookeeper.ZooKeeperMain",
                ]);
                java
            }
            Shell::KeeperCli => {
                let mut keeper = Command::new(env!("CARGO_BIN_EXE_keeper"));
                keeper.arg("cli");
                keeper
            }
        };
        // Dates print in the local zone; pin it so the root's epoch reads the
        // same on every machine.
        command.args(["-server", connect_string]).env("TZ", "UTC");
        command
    }
}

impl std::fmt::Display for Shell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Shell::ZkCli => "zkCli",
            Shell::KeeperCli => "keeper cli",
        })
    }
}

/// Where a session runs: what the shell connects to, which addresses its
/// transcript masks (with what), and the actions its script names.
trait Stage {
    fn connect_string(&self) -> String;
    fn masks(&self) -> Vec<(String, &'static str)>;
    fn act(&mut self, action: &str) {
        panic!("this session has no action `{action}`");
    }
}

/// The shell talks to the server directly.
struct Direct(String);

impl Stage for Direct {
    fn connect_string(&self) -> String {
        self.0.clone()
    }

    fn masks(&self) -> Vec<(String, &'static str)> {
        vec![(self.0.clone(), "127.0.0.1:<port>")]
    }
}

/// What one session printed, and where each typed line's answer begins.
struct Ran {
    output: String,
    typed: Vec<Typed>,
}

impl Ran {
    /// What the shell printed after the `index`th line typed, up to the next.
    fn answer(&self, index: usize) -> &str {
        let from = self.typed[index].offset;
        let to = self
            .typed
            .get(index + 1)
            .map_or(self.output.len(), |t| t.offset);
        self.output
            .get(from..to)
            .expect("lines are typed between whole lines of output")
    }
}

/// Runs `script` through `shell` on `stage` (`{server}` in it is the
/// connect string) and returns what it printed. A shell that hangs or
/// exits non-zero fails the test.
fn session(shell: Shell, stage: &mut dyn Stage, script: &str) -> Ran {
    let connect_string = stage.connect_string();
    let script = script.replace("{server}", &connect_string);
    let command = shell.command(&connect_string);
    let finished = run_script(command, &script, ZKCLI_TIMEOUT, &mut |a| stage.act(a))
        .unwrap_or_else(|why| panic!("{shell} against {connect_string}: {why}"));
    assert!(
        finished.status.success(),
        "{shell} against {connect_string} exited with {}:\n{}",
        finished.status,
        finished.output
    );
    Ran {
        output: finished.output,
        typed: finished.typed,
    }
}

/// zkCli prints connection events from its event thread, racing its main
/// thread: the SyncConnected event may come before the banner's last line or
/// after the first command's answer; on `quit` the JVM may exit before the
/// Closed event is printed, and the server's close of the socket after its
/// reply may reach zkCli before zkCli marks itself closing, which it reports
/// as a Disconnected event; and `connect` while connected closes the old
/// session, whose event thread may print its Closed event after the new
/// session's thread printed SyncConnected. The first SyncConnected event is
/// moved to right after the banner, the Disconnected and Closed events at
/// the very end are dropped, and a Closed event printed right after a
/// SyncConnected one is put before it (the order zkCli causes them in), so
/// no such race is compared; that each session connected and closed, once,
/// still is.
///
/// An event at the very end may also be cut short: zkCli prints each one in
/// several writes (`printMessage("WATCHER::")`, then the event, each a
/// `println` of `"\n" + text` that flushes before its newline), and `quit`
/// ends the JVM (`System.exit` right after `zk.close()`) while its event
/// thread may be between two of them. The test sees the output only once the
/// process is gone, so what zkCli printed of its last event is chance: a
/// trailing start of a Disconnected or Closed event (`\nWATCHER::` at least)
/// is dropped as a whole one is. For the same reason the first command's
/// answer (`Created /p`, on stderr) may land between two writes of the
/// SyncConnected event: it is put after the event ([`lift_from_event`]).
fn settle_connection_events(session: &str) -> String {
    const CLOSED: &str = "\nWATCHER::\n\nWatchedEvent state:Closed type:None path:null\n";
    const DISCONNECTED: &str =
        "\nWATCHER::\n\nWatchedEvent state:Disconnected type:None path:null\n";
    const BANNER: &str = "JLine support is disabled\n";
    const CONNECTED: &str = "\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null\n";
    /// The shortest start of an event worth calling one: its first write.
    const STARTED: usize = "\nWATCHER::".len();
    let cut_short = |session: &str, event: &str| {
        (STARTED..=event.len())
            .rev()
            .find(|&printed| session.ends_with(&event[..printed]))
            .map(|printed| session.len() - printed)
    };
    let mut session = session;
    while let Some(end) = cut_short(session, CLOSED).or_else(|| cut_short(session, DISCONNECTED)) {
        session = &session[..end];
    }
    let mut settled = lift_from_event(session, CONNECTED);
    let Some(event) = settled.find(CONNECTED) else {
        return settled;
    };
    settled.replace_range(event..event + CONNECTED.len(), "");
    let first = settled
        .find(BANNER)
        .map_or(event, |banner| banner + BANNER.len());
    settled.insert_str(first, CONNECTED);
    // Only a later session's SyncConnected can be overtaken by a Closed.
    let (opening, rest) = settled.split_at(first + CONNECTED.len());
    let overtaken = format!("{CONNECTED}{CLOSED}");
    format!(
        "{opening}{}",
        rest.replace(&overtaken, &format!("{CLOSED}{CONNECTED}"))
    )
}

/// `session` with a line another thread printed between two of `event`'s
/// writes (`"\nWATCHER::"`, `"\n"`, `"\n" + the event`, `"\n"`) moved to
/// right after the event, so that the event reads whole; unchanged if no such
/// line is found.
fn lift_from_event(session: &str, event: &str) -> String {
    let after_watcher = "\nWATCHER::".len();
    let before_newline = event.len() - 1;
    for split in [after_watcher, after_watcher + 1, before_newline] {
        let (head, tail) = event.split_at(split);
        let mut from = 0;
        while let Some(at) = session[from..].find(head).map(|i| from + i) {
            let rest = &session[at + head.len()..];
            if let Some(line_end) = rest.find('\n') {
                let (line, after) = rest.split_at(line_end + 1);
                if !line.contains("WATCHER::") && after.starts_with(tail) {
                    let after = &after[tail.len()..];
                    return format!("{}{event}{line}{after}", &session[..at]);
                }
            }
            from = at + 1;
        }
    }
    session.to_string()
}

/// The zxid in a stat line such as `pZxid = 0x1a`.
fn zxid_in(line: &str) -> Option<u64> {
    let (field, value) = line.split_once(" = ")?;
    let hex = value.strip_prefix("0x")?;
    matches!(field, "cZxid" | "mZxid" | "pZxid")
        .then(|| u64::from_str_radix(hex, 16).ok())
        .flatten()
}

/// Masks what legitimately differs between runs (see the module doc):
/// `addresses` are replaced by their names.
fn mask(transcript: &str, addresses: &[(String, &str)]) -> String {
    mask_from(transcript, addresses, zxid_base(transcript))
}

/// The zxid every other is shown relative to: the smallest non-zero one
/// (0x0, the root's, stays as it is).
fn zxid_base(transcript: &str) -> Option<u64> {
    transcript
        .lines()
        .filter_map(zxid_in)
        .filter(|&z| z != 0)
        .min()
}

/// [`mask`] with the zxids shown relative to `base`: a part of a transcript
/// is masked with the whole transcript's base.
fn mask_from(transcript: &str, addresses: &[(String, &str)], base: Option<u64>) -> String {
    transcript
        .lines()
        .map(|line| {
            let masked = addresses
                .iter()
                .fold(line.to_string(), |l, (address, name)| {
                    l.replace(address, name)
                });
            if masked.starts_with("ZooKeeper CLI version: ") {
                return "ZooKeeper CLI version: <version>".to_string();
            }
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
/// server's to equal it, and `keeper cli`'s on every server too. What the
/// book's zkCli reference shows of the oracle run is pinned too (`shown`).
fn prints_the_same_on_every_server(test: &str, scripts: &[&str], snapshot: &str, shown: &[Shown]) {
    prints_the_same_on_every_stage(test, scripts, snapshot, shown, |server| {
        Box::new(Direct(server.address()))
    });
}

/// [`prints_the_same_on_every_server`] with the stage each server's shells
/// run on made by `stage`: zkCli then `keeper cli`, each on a fresh server
/// of each kind, the first transcript (zkCli on ZooKeeper) the oracle.
fn prints_the_same_on_every_stage(
    test: &str,
    scripts: &[&str],
    snapshot: &str,
    shown: &[Shown],
    stage: impl Fn(&Server) -> Box<dyn Stage>,
) {
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
        for shell in [Shell::ZkCli, Shell::KeeperCli] {
            let Some(server) = Server::start_or_skip(kind, test) else {
                continue;
            };
            let mut stage = stage(&server);
            let sessions: Vec<Ran> = scripts
                .iter()
                .map(|script| session(shell, &mut *stage, script))
                .collect();
            let outputs: Vec<String> = sessions
                .iter()
                .map(|ran| settle_connection_events(&ran.output))
                .collect();
            let transcript = mask(&outputs.join(NEXT_SESSION), &stage.masks());
            match &oracle {
                None => {
                    insta::with_settings!({ omit_expression => true }, {
                        insta::assert_snapshot!(snapshot, transcript);
                    });
                    let base = zxid_base(&outputs.join(NEXT_SESSION));
                    for part in shown {
                        part.pin(&sessions, &|text| mask_from(text, &stage.masks(), base));
                    }
                    oracle = Some(transcript);
                }
                Some(expected) => {
                    if let Some(difference) = first_difference(&transcript, expected) {
                        panic!(
                            "{shell} on {kind} printed `{test}` differently from zkCli on \
                             ZooKeeper 3.8: {difference}\n--- {shell} on {kind}:\n{transcript}\n\
                             --- zkCli on ZooKeeper 3.8:\n{expected}"
                        );
                    }
                }
            }
        }
    }
}

/// What the book's zkCli reference shows of an oracle session: commands as
/// typed, each followed by what the real zkCli printed for it.
enum Shown {
    /// `lines` lines typed in a row, from the `nth` (1 for the first) line
    /// of session `session` typed exactly as `first`; pinned as `example_NAME`.
    Lines {
        name: &'static str,
        session: usize,
        first: &'static str,
        nth: usize,
        lines: usize,
    },
    /// zkCli's usage text, which it prints for `first`, a command it does not
    /// know: each command's usage line pinned as `usage_COMMAND`.
    Usage { first: &'static str },
}

/// The `lines` lines typed in a row from the first line of session 0 typed as `first`.
const fn lines(name: &'static str, first: &'static str, lines: usize) -> Shown {
    Shown::Lines {
        name,
        session: 0,
        first,
        nth: 1,
        lines,
    }
}

impl Shown {
    /// Pins this part of `sessions` (the oracle run), masked by `mask`.
    fn pin(&self, sessions: &[Ran], mask: &dyn Fn(&str) -> String) {
        let find = |session: usize, first: &str, nth: usize| -> usize {
            let ran = &sessions[session];
            let mut matching = (0..ran.typed.len()).filter(|&i| ran.typed[i].line == first);
            matching.nth(nth - 1).unwrap_or_else(|| {
                panic!("session {session} types `{first}` fewer than {nth} times")
            })
        };
        match *self {
            Shown::Lines {
                name,
                session,
                first,
                nth,
                lines,
            } => {
                let at = find(session, first, nth);
                let ran = &sessions[session];
                assert!(
                    at + lines <= ran.typed.len(),
                    "{name}: the session ends first"
                );
                let text: String = (at..at + lines)
                    .map(|i| format!("> {}\n{}", ran.typed[i].line, mask(ran.answer(i))))
                    .map(|shown| {
                        if shown.ends_with('\n') {
                            shown
                        } else {
                            shown + "\n"
                        }
                    })
                    .collect();
                insta::with_settings!({ omit_expression => true }, {
                    insta::assert_snapshot!(format!("example_{name}"), text);
                });
            }
            Shown::Usage { first } => {
                let ran = &sessions[0];
                let usage = ran.answer(find(0, first, 1));
                let commands: Vec<&str> =
                    usage.lines().filter_map(|l| l.strip_prefix('\t')).collect();
                assert!(
                    commands.len() > 20,
                    "zkCli printed its usage for `{first}`:\n{usage}"
                );
                for line in commands {
                    let command = line
                        .split(' ')
                        .next()
                        .expect("a usage line names its command");
                    insta::with_settings!({ omit_expression => true }, {
                        insta::assert_snapshot!(format!("usage_{command}"), line);
                    });
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
        &[
            lines("ls", "ls /", 2),
            lines(
                "create",
                r#"create -s /sanguo/weiguo/zhangliao "zhangliao""#,
                4,
            ),
            lines("get", "get -s /sanguo", 1),
            lines("set", r#"set /sanguo "xishi""#, 2),
            lines("delete", r#"create /sanguo/jin "simayi""#, 3),
            Shown::Lines {
                name: "stat",
                session: 0,
                first: "stat /sanguo",
                nth: 2,
                lines: 1,
            },
            lines("deleteall", "deleteall /sanguo", 2),
        ],
    );
}

#[test]
fn zkcli_errors_listings_acls_and_watch_events_print_the_same_on_every_server() {
    prints_the_same_on_every_server(
        "the errors-and-watches zkCli session",
        &[ERRORS_AND_WATCHES],
        "errors_and_watches_on_real_zookeeper",
        &[
            lines("ls_recursive", "ls -R /", 1),
            lines("getAcl", "getAcl /shu", 1),
            lines("sync", "sync /shu", 1),
            lines("getAllChildrenNumber", "getAllChildrenNumber /", 1),
            lines("getEphemerals", "getEphemerals /", 1),
            lines("whoami", "whoami", 1),
            lines("get_watch", "get -w /shu", 3),
            lines("addWatch", "addWatch -m PERSISTENT_RECURSIVE /shu", 2),
        ],
    );
}

#[test]
fn masking_keeps_the_distances_between_zxids_and_the_epoch_but_hides_times_sessions_and_versions() {
    let raw = "Connecting to 127.0.0.1:4242\n\
               ZooKeeper CLI version: 3.8.0-abc, built on 2024-12-29 17:54 UTC\n\
               cZxid = 0x0\n\
               ctime = Thu Jan 01 00:00:00 UTC 1970\n\
               cZxid = 0x1a\n\
               mtime = Wed Nov 25 16:46:37 UTC 2026\n\
               mZxid = 0x3\n\
               pZxid = 0x1a\n\
               ephemeralOwner = 0x0\n\
               ephemeralOwner = 0x1000a3c2a50000";
    let expected = "Connecting to 127.0.0.1:<port>\n\
                    ZooKeeper CLI version: <version>\n\
                    cZxid = 0x0\n\
                    ctime = Thu Jan 01 00:00:00 UTC 1970\n\
                    cZxid = <zxid+23>\n\
                    mtime = <time>\n\
                    mZxid = <zxid+0>\n\
                    pZxid = <zxid+23>\n\
                    ephemeralOwner = 0x0\n\
                    ephemeralOwner = <session id>";
    let addresses = [("127.0.0.1:4242".to_string(), "127.0.0.1:<port>")];
    assert_eq!(mask(raw, &addresses), expected);
}

#[test]
fn zkcli_acls_and_node_types_print_the_same_on_every_server() {
    prints_the_same_on_every_server(
        "the ACLs and node types zkCli sessions",
        &ACLS_AND_NODE_TYPES,
        "acls_and_node_types_on_real_zookeeper",
        &[
            lines("create_container_and_ttl", "create -c /jobs", 4),
            lines("addauth", "addauth digest alice:secret", 4),
            lines("setAcl", "setAcl /jobs ip:127.0.0.1:r", 3),
        ],
    );
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
    // The answer may also land between two of the event's four writes.
    let banner = "Welcome to ZooKeeper!\nJLine support is disabled\n";
    for split in [10, 11, event.len() - 1] {
        let (head, tail) = event.split_at(split);
        let torn = format!("{banner}{head}Created /a\n{tail}");
        assert_eq!(settle_connection_events(&torn), won, "{torn:?}");
    }
    let early = format!(
        "Connecting\n{event}Welcome to ZooKeeper!\nJLine support is disabled\nCreated /a\n"
    );
    assert_eq!(
        settle_connection_events(&early),
        format!(
            "Connecting\nWelcome to ZooKeeper!\nJLine support is disabled\n{event}Created /a\n"
        )
    );
    let closed = "\nWATCHER::\n\nWatchedEvent state:Closed type:None path:null\n";
    assert_eq!(settle_connection_events(&format!("{won}{closed}")), won);
    let lost = "\nWATCHER::\n\nWatchedEvent state:Disconnected type:None path:null\n";
    assert_eq!(settle_connection_events(&format!("{won}{lost}")), won);
    assert_eq!(
        settle_connection_events(&format!("{won}{lost}{closed}")),
        won
    );
    // `quit` ends the JVM while the event thread prints: any start of the last event is cut.
    for printed in ["\nWATCHER::", "\nWATCHER::\n", &closed[..closed.len() - 1]] {
        assert_eq!(settle_connection_events(&format!("{won}{printed}")), won);
        assert_eq!(
            settle_connection_events(&format!("{won}{lost}{printed}")),
            won
        );
    }
    // Less than that is the answer's own end, kept.
    assert_eq!(
        settle_connection_events(&format!("{won}\n")),
        format!("{won}\n")
    );
    // `connect` with a session open: the old session's Closed, then the new one's SyncConnected.
    let reconnected = format!("{won}{closed}{event}[]\n");
    assert_eq!(settle_connection_events(&reconnected), reconnected);
    let overtaken = format!("{won}{event}{closed}[]\n");
    assert_eq!(settle_connection_events(&overtaken), reconnected);
}

#[test]
fn add_watch_in_both_modes_prints_the_same_on_every_server_and_shell() {
    prints_the_same_on_every_server(
        "the addWatch session",
        &[ADD_WATCH],
        "add_watch_on_real_zookeeper",
        &[],
    );
}

#[test]
fn removewatches_prints_the_same_on_every_server_and_shell() {
    prints_the_same_on_every_server(
        "the removewatches session",
        &[REMOVE_WATCHES],
        "remove_watches_on_real_zookeeper",
        &[lines("removewatches", "get -w /w", 3)],
    );
}

#[test]
fn printwatches_prints_the_same_on_every_server_and_shell() {
    prints_the_same_on_every_server(
        "the printwatches session",
        &[PRINT_WATCHES],
        "print_watches_on_real_zookeeper",
        &[lines("printwatches", "printwatches", 4)],
    );
}

#[test]
fn close_and_connect_print_the_same_on_every_server_and_shell() {
    prints_the_same_on_every_server(
        "the close and connect session",
        &[CLOSE_AND_CONNECT],
        "close_and_connect_on_real_zookeeper",
        &[lines("close", "close", 2), lines("connect", "connect", 2)],
    );
}

#[test]
fn config_and_reconfig_print_the_same_on_every_server_and_shell() {
    prints_the_same_on_every_server(
        "the config and reconfig session",
        &[CONFIG_AND_RECONFIG],
        "config_and_reconfig_on_real_zookeeper",
        &[
            lines("config", "config -s", 1),
            lines("reconfig", "reconfig -remove 2 -s", 1),
        ],
    );
}

#[test]
fn quota_commands_print_the_same_on_every_server_and_shell() {
    prints_the_same_on_every_server(
        "the quota session",
        &[QUOTAS],
        "quotas_on_real_zookeeper",
        &[
            lines("setquota", "setquota -n 5 /app", 2),
            lines("delquota", "delquota -n /app", 2),
        ],
    );
}

#[test]
fn the_quota_session_types_the_commands_chapter_one_recorded() {
    let typed: Vec<&str> = QUOTAS.lines().filter(|l| !l.starts_with('#')).collect();
    let recorded: Vec<&str> = CHAPTER_1_QUOTAS.lines().collect();
    assert_eq!(typed, recorded);
}

#[test]
fn history_redo_and_version_print_the_same_on_every_server_and_shell() {
    prints_the_same_on_every_server(
        "the history and redo session",
        &[HISTORY_AND_REDO],
        "history_and_redo_on_real_zookeeper",
        &[
            lines("history", r#"create /h "1""#, 3),
            lines("redo", "redo 1", 2),
            lines("version", "version", 1),
            Shown::Usage { first: "help" },
        ],
    );
}

/// The reconnect session's stage: the shell reaches the server through two
/// relays (its connect string names both), and a third client makes the
/// changes the session misses while it is away.
struct TwoRelays {
    server: String,
    first: Proxy,
    second: Proxy,
}

impl Stage for TwoRelays {
    fn connect_string(&self) -> String {
        format!("{},{}", self.first.address(), self.second.address())
    }

    fn masks(&self) -> Vec<(String, &'static str)> {
        vec![
            (self.first.address(), "127.0.0.1:<relay 1>"),
            (self.second.address(), "127.0.0.1:<relay 2>"),
            (self.server.clone(), "127.0.0.1:<port>"),
        ]
    }

    fn act(&mut self, action: &str) {
        match action {
            // Whichever relay the shell uses, its connection is gone, and
            // for now no server can be reached.
            "cut" => {
                self.first.refuse();
                self.second.refuse();
                self.first.cut();
                self.second.cut();
            }
            "change" => change_while_away(&self.server),
            // Only the second relay comes back: a shell that retried only
            // the server it had, or gave up, never gets its session back.
            "resume" => self.second.resume(),
            other => panic!("no action `{other}`"),
        }
    }
}

/// What another client changes while the shell is away: `/r`'s data and
/// children, and the missing `/gone` appears.
fn change_while_away(server: &str) {
    use zookeeper_client as zk;
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let writer = common::rust_client::connect(server).await;
        let persistent = common::rust_client::persistent();
        let failed = |what: &str, e: zk::Error| format!("{what} from another client: {e}");
        let set = writer.set_data("/r", b"z", None).await;
        set.unwrap_or_else(|e| panic!("{}", failed("set /r", e)));
        let delete = writer.delete("/r/c", None).await;
        delete.unwrap_or_else(|e| panic!("{}", failed("delete /r/c", e)));
        let create = writer.create("/gone", b"", &persistent).await;
        create.unwrap_or_else(|e| panic!("{}", failed("create /gone", e)));
    });
}

#[test]
fn a_lost_connection_resumes_on_the_next_server_with_its_watches_on_every_server_and_shell() {
    // Rule: a client whose connection is lost tries the other servers of its
    // connect string with its session id and password, then re-sends its
    // watches with the last zxid it saw, and the server fires each one whose
    // node changed meanwhile (ClientCnxn.primeConnection, DataTree.setWatches).
    prints_the_same_on_every_stage(
        "the reconnect session",
        &[RECONNECT],
        "reconnect_on_real_zookeeper",
        &[],
        |server| {
            Box::new(TwoRelays {
                server: server.address(),
                first: Proxy::start(&server.address()),
                second: Proxy::start(&server.address()),
            })
        },
    );
}

/// A session on a three-server ensemble: nodes made, read, listed, stat'ed and deleted, a
/// data watch and a child watch fired.
const ENSEMBLE_SESSION: &str = include_str!("interop/ensemble.zkcli");

/// A three-server `keeper cluster` as a stage: the shell is given every server's address.
struct OnCluster<'a>(&'a Cluster);

impl Stage for OnCluster<'_> {
    fn connect_string(&self) -> String {
        self.0.connect_string()
    }

    fn masks(&self) -> Vec<(String, &'static str)> {
        self.0
            .sids()
            .map(|sid| (self.0.address(sid), "127.0.0.1:<port>"))
            .collect()
    }
}

#[test]
fn zkcli_on_a_three_server_ensemble_prints_what_it_prints_on_zookeepers() {
    // Rule: an ensemble answers a client as one server does (a write through any server is
    // forwarded to the leader and committed by a quorum before its reply; a watch fires on
    // the server the client is on once it applies the change): the transcript is the one
    // real ZooKeeper 3.8's three servers give, pinned as a snapshot. The three JVMs run only
    // with KEEPER_ORACLE=zookeeper (see `programs_under_test`); the snapshot is theirs.
    const TEST: &str = "zkCli on a three-server ensemble";
    if let Err(reason) = tools::java() {
        return common::skip(TEST, &format!("zkCli needs Java: {reason}"));
    }
    for program in programs_under_test(TEST) {
        let cluster = Cluster::start_with(program, 3);
        cluster.wait_for_leader(&[1, 2, 3]);
        let shells = match program {
            Program::ZooKeeper => vec![Shell::ZkCli],
            Program::Keeper => vec![Shell::ZkCli, Shell::KeeperCli],
        };
        for shell in shells {
            let mut stage = OnCluster(&cluster);
            let ran = session(shell, &mut stage, ENSEMBLE_SESSION);
            let transcript = mask(&settle_connection_events(&ran.output), &stage.masks());
            insta::with_settings!({ omit_expression => true }, {
                insta::assert_snapshot!("ensemble_session_on_three_zookeepers", transcript);
            });
        }
        // The leader's srvr ends with the sizes of the session's proposals' data: each txn and
        // the 12-byte TxnDigest its PROPOSAL carries, the same on both servers.
        let leader = cluster.wait_for_leader(&[1, 2, 3]);
        let port = cluster.client_ports[leader as usize - 1];
        let srvr = common::four_letter_word(port, "srvr").expect("srvr");
        let last_line = srvr.lines().last().unwrap_or_default();
        let [last, min, max] = ZOOKEEPERS_PROPOSAL_SIZES;
        assert_eq!(
            last_line,
            format!("Proposal sizes last/min/max: {last}/{min}/{max}"),
            "{program:?}: {srvr}"
        );
    }
}

/// What ZooKeeper 3.8's leader's srvr says after [`ENSEMBLE_SESSION`]: `Proposal sizes
/// last/min/max` (the last proposal is the session's close).
const ZOOKEEPERS_PROPOSAL_SIZES: [i64; 3] = [48, 48, 91];
