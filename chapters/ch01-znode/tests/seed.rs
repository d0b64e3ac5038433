//! The seed session, as a person at zkCli's prompt sees it, and as the chapter's trace.
//! Both are snapshots the book includes.

use ch01_znode::shell::repl::transcript;
use ch01_znode::trace::{fixed_shell, scenario_trace, seed_trace, SEED_SESSION};

#[test]
fn the_seed_session_prints_what_zkcli_prints() {
    let text = transcript(&mut fixed_shell(), SEED_SESSION);
    insta::with_settings!({omit_expression => true}, {
        insta::assert_snapshot!("seed_session", text);
    });
}

#[test]
fn the_seed_trace_shows_every_txn_and_stat_change() {
    let text: String = seed_trace().iter().map(|e| format!("{e}\n")).collect();
    insta::with_settings!({omit_expression => true}, {
        insta::assert_snapshot!("seed_trace", text);
    });
}

#[test]
fn the_seed_trace_as_json_is_one_object_per_event() {
    let events = seed_trace();
    let lines: Vec<String> = events
        .iter()
        .map(|e| serde_json::to_string(e).expect("events serialize"))
        .collect();
    assert_eq!(lines.len(), events.len());
    let first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(first["event"], "txn");
    assert_eq!(
        first["zxid"], "0x1",
        "zxids travel as ZooKeeper prints them"
    );
    assert!(lines
        .iter()
        .any(|l| l.contains(r#""event":"stat_changed""#)));
}

#[test]
fn replaying_the_seed_twice_gives_the_same_trace() {
    assert_eq!(seed_trace(), seed_trace());
}

#[test]
fn a_closing_session_takes_its_servers_away() {
    let events = scenario_trace("servers").expect("the servers scenario exists");
    let text: String = events.iter().map(|e| format!("{e}\n")).collect();
    insta::with_settings!({omit_expression => true}, {
        insta::assert_snapshot!("servers_trace", text);
    });
}

// ---- The book's excerpts ----
//
// The chapter page shows a few parts of the runs above on their own. Each part is cut from the
// same run by what it is (the block of one command, the lines of one kind), never by line
// number, and pinned as its own snapshot, so the page includes a checked file that cannot drift
// out of step with the whole.

/// The command a `[zk N] command` line of the trace shows typed, if the line is one.
fn typed_command(line: &str) -> Option<&str> {
    let (_, typed) = line.strip_prefix("[zk ")?.split_once("] ")?;
    Some(typed)
}

/// The block of the trace under the command typed as `command`: its `[zk N]` line and every
/// line up to the next command.
fn block(trace: &str, command: &str) -> String {
    let mut lines = trace
        .lines()
        .skip_while(|l| typed_command(l) != Some(command));
    let head = lines
        .next()
        .unwrap_or_else(|| panic!("the trace has no command `{command}`"));
    let body = lines.take_while(|l| !l.starts_with("[zk "));
    std::iter::once(head)
        .chain(body)
        .map(|l| format!("{l}\n"))
        .collect()
}

fn excerpt(name: &str, text: &str) {
    assert!(!text.trim().is_empty(), "the excerpt {name} is empty");
    insta::with_settings!({omit_expression => true}, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn the_book_shows_the_blocks_of_the_commands_it_discusses() {
    let trace: String = seed_trace().iter().map(|e| format!("{e}\n")).collect();
    excerpt(
        "seed_trace_create_sanguo",
        &block(&trace, r#"create /sanguo "diaochan""#),
    );
    excerpt(
        "seed_trace_ephemerals",
        &[
            r#"create -e /sanguo/wuguo/zhouyu "zhouyu""#,
            r#"create -e -s /sanguo/wuguo/zhouyu22 "zhouyu""#,
        ]
        .map(|c| block(&trace, c))
        .concat(),
    );
    excerpt("seed_trace_set", &block(&trace, r#"set /sanguo "xishi""#));
    excerpt(
        "seed_trace_child_create_and_delete",
        &[r#"create /sanguo/jin "simayi""#, "delete /sanguo/jin"]
            .map(|c| block(&trace, c))
            .concat(),
    );
    // deleteall's watch triggers are chapter 2's subject: here, what the one multi did.
    let deleteall: String = block(&trace, "deleteall /sanguo")
        .lines()
        .filter(|l| !l.trim_start().starts_with('⚑'))
        .map(|l| format!("{l}\n"))
        .collect();
    excerpt("seed_trace_deleteall", &deleteall);
    let events = scenario_trace("servers").expect("the servers scenario exists");
    let servers: String = events.iter().map(|e| format!("{e}\n")).collect();
    excerpt("servers_trace_quit", &block(&servers, "quit"));
}

/// The eleven lines of a Stat block, as zkCli prints them.
const STAT_FIELDS: [&str; 11] = [
    "cZxid",
    "ctime",
    "mZxid",
    "mtime",
    "pZxid",
    "cversion",
    "dataVersion",
    "aclVersion",
    "ephemeralOwner",
    "dataLength",
    "numChildren",
];

#[test]
fn the_book_shows_the_seed_session_without_its_stat_blocks_and_the_trace_as_its_txns() {
    let session = transcript(&mut fixed_shell(), SEED_SESSION);
    let without_stats: String = session
        .lines()
        .filter(|l| {
            !STAT_FIELDS
                .iter()
                .any(|f| l.strip_prefix(f).is_some_and(|v| v.starts_with(" = ")))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    excerpt("seed_session_without_stats", &without_stats);
    let trace: String = seed_trace().iter().map(|e| format!("{e}\n")).collect();
    let txns: String = trace
        .lines()
        .filter(|l| l.starts_with("[zk ") || l.trim_start().starts_with('→'))
        .map(|l| format!("{l}\n"))
        .collect();
    excerpt("seed_trace_txns", &txns);
}
