//! The chapter's command, run as a student runs it.

use std::process::Output;

use ch04_paxos::sim::command;
use ch06_zab::storage::Storage;
use ch07_persistence::{FileStorage, FileStorageConfig};

fn persistence(args: &[&str]) -> Output {
    command::run(env!("CARGO_BIN_EXE_ch07-persistence"), args, "")
}

fn stdout(args: &[&str]) -> String {
    command::stdout(env!("CARGO_BIN_EXE_ch07-persistence"), args, "")
}

/// `cargo run -p ch07-persistence -- --trace`: the story the chapter walks through, plain
/// when piped (no colour codes), and the same for the same seed.
#[test]
fn the_first_command_tells_the_story_plainly_and_the_same_every_time() {
    let out = stdout(&["--trace"]);
    assert!(!out.contains('\x1b'), "colour codes in piped output");
    assert_eq!(out, stdout(&["--trace", "--seed", "1"]));
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("story", out);
    });
    assert_ne!(
        out,
        stdout(&["--trace", "--seed", "2"]),
        "the seed picks the sizes"
    );
}

/// `--json` prints the same events, one object per line, tagged with the event's name.
#[test]
fn json_is_one_tagged_object_per_event() {
    let json = stdout(&["--json", "--seed", "3"]);
    let trace = stdout(&["--trace", "--seed", "3"]);
    let events: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object"))
        .collect();
    let event_lines = trace.lines().filter(|l| l.starts_with("  ")).count();
    assert_eq!(events.len(), event_lines);
    assert!(events.iter().all(|e| e["event"].is_string()));
    assert!(events.iter().any(|e| e["event"] == "crashed"));
}

/// `--data-dir DIR` leaves the files behind for ZooKeeper's tools, and they recover to the
/// state the story ended in; a dataDir that is not empty is refused, untouched.
#[test]
fn data_dir_keeps_the_files_and_refuses_a_used_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = stdout(&["--data-dir", data.to_str().unwrap()]);
    assert!(out.contains("nothing acknowledged was lost"), "{out}");
    let recovered = FileStorage::open(FileStorageConfig::new(&data))
        .unwrap()
        .recover(0)
        .unwrap();
    let zxid = recovered.db.last_processed_zxid();
    assert!(out.contains(&format!("recovered up to {zxid}")), "{out}");

    let before = std::fs::read_dir(data.join("version-2")).unwrap().count();
    let refused = persistence(&["--data-dir", data.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not empty"));
    assert_eq!(
        std::fs::read_dir(data.join("version-2")).unwrap().count(),
        before
    );
}

/// `--dump` prints every log and snapshot the story left as ZooKeeper's tools print them:
/// each log's txns, each snapshot's nodes, after the story's ending.
#[test]
fn dump_prints_the_files_the_story_left() {
    let out = stdout(&["--dump", "--seed", "1"]);
    let logs = out.matches("$ keeper txnlog log.").count();
    assert!(logs >= 2, "{out}");
    assert_eq!(out.matches("EOF reached after ").count(), logs, "{out}");
    assert!(
        out.contains("$ keeper snapshot -d snapshot.0\nZNode Details (count="),
        "{out}"
    );
    assert!(out.contains(" zxid 0x1 createSession "), "{out}");
}

/// Lab 7.2's hexdump, as the book prints it: the header and the first record of the story's
/// `log.1`.
#[test]
fn the_first_record_of_the_story_as_a_hexdump() {
    use ch07_persistence::lab::{hexdump, story_log_head, FIRST_RECORD_END};
    let head = story_log_head(FIRST_RECORD_END).expect("the story runs");
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("first_record_hexdump", hexdump(&head));
    });
}
