//! The labs' output, as snapshots (what the book shows), and the graders of chapter 2's labs:
//! `cargo run -- lab check 2.1` runs the tests named `lab_2_1_*`, and so on. The repository
//! ships the answers, so here they pass; after `cargo run -- lab start 2.1` they fail until you
//! have done the lab.

use ch02_watches::demo::replay;
use ch02_watches::labs;
use ch02_watches::labs::burst::{self, StudentClient};

#[test]
fn servers_up_down() {
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(labs::servers::run().join("\n"));
    });
}

#[test]
fn configuration_push() {
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(labs::config::run().join("\n"));
    });
}

/// The watch events `script` makes the clients print, each as `"NodeDataChanged /x"`
/// (a connection's own `None` events left out).
fn events_heard(script: &[&str]) -> Vec<String> {
    let (text, _) = replay(script);
    text.lines()
        .filter_map(|line| line.strip_prefix("WatchedEvent state:SyncConnected type:"))
        .filter(|event| !event.starts_with("None "))
        .map(|event| event.replace(" path:", " "))
        .collect()
}

// ---- Lab 2.1: registered twice, told once (answers in this file) ----

/// Part 1. B runs `get -w /x` and then `stat -w /x`; A runs `set /x y`. What does B hear?
/// One string per event, like `"NodeCreated /x"`, in the order B prints them.
fn heard_after_get_stat_and_set() -> Vec<&'static str> {
    // LAB 2.1 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 2.1: what B hears after get -w, stat -w, and A's set")
    vec!["NodeDataChanged /x"]
    // LAB 2.1 END
}

/// Part 2. B runs `get -w /x` and then `ls -w /x`; A runs `delete /x`. What does B hear?
fn heard_after_get_ls_and_delete() -> Vec<&'static str> {
    // LAB 2.1 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 2.1: what B hears after get -w, ls -w, and A's delete")
    vec!["NodeDeleted /x"]
    // LAB 2.1 END
}

#[test]
fn lab_2_1_two_data_watches_then_a_set() {
    let heard = events_heard(&[
        "create /x",
        "connect B",
        "get -w /x",
        "stat -w /x",
        "use A",
        "set /x y",
    ]);
    assert_eq!(heard_after_get_stat_and_set(), heard);
}

#[test]
fn lab_2_1_a_data_and_a_child_watch_then_a_delete() {
    let heard = events_heard(&[
        "create /x",
        "connect B",
        "get -w /x",
        "ls -w /x",
        "use A",
        "delete /x",
    ]);
    assert_eq!(heard_after_get_ls_and_delete(), heard);
}

// ---- Lab 2.2: a recursive watch and the children (answers in this file) ----

/// B runs `addWatch /p` (the default mode, PERSISTENT_RECURSIVE). Then A runs
/// `create /p/c`, `create /p/c/d`, `set /p/c/d x`, `set /p y`, `delete /p/c/d`, `delete /p/c`.
/// What does B hear, event by event?
fn heard_by_the_recursive_watch() -> Vec<&'static str> {
    // LAB 2.2 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 2.2: every event B's recursive watch on /p hears, in order")
    vec![
        "NodeCreated /p/c",
        "NodeCreated /p/c/d",
        "NodeDataChanged /p/c/d",
        "NodeDataChanged /p",
        "NodeDeleted /p/c/d",
        "NodeDeleted /p/c",
    ]
    // LAB 2.2 END
}

/// Same changes, but B runs `addWatch -m PERSISTENT /p`. What does B hear now?
fn heard_by_the_persistent_watch() -> Vec<&'static str> {
    // LAB 2.2 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 2.2: every event B's persistent watch on /p hears, in order")
    vec![
        "NodeChildrenChanged /p",
        "NodeDataChanged /p",
        "NodeChildrenChanged /p",
    ]
    // LAB 2.2 END
}

/// A's changes under `/p`, after B's `watch` command.
fn changes_under_p(watch: &'static str) -> Vec<String> {
    events_heard(&[
        "create /p",
        "connect B",
        watch,
        "use A",
        "create /p/c",
        "create /p/c/d",
        "set /p/c/d x",
        "set /p y",
        "delete /p/c/d",
        "delete /p/c",
    ])
}

#[test]
fn lab_2_2_what_a_recursive_watch_hears() {
    assert_eq!(
        heard_by_the_recursive_watch(),
        changes_under_p("addWatch /p")
    );
}

#[test]
fn lab_2_2_what_a_persistent_watch_hears() {
    assert_eq!(
        heard_by_the_persistent_watch(),
        changes_under_p("addWatch -m PERSISTENT /p")
    );
}

// ---- Lab 2.3: waiting for a node to go away (answers in this file) ----

/// Part 1. `/lock` exists. Which commands does B run, so that B hears when it goes away?
fn wait_for_the_lock_to_go() -> Vec<&'static str> {
    // LAB 2.3 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 2.3: B's shell commands")
    vec!["stat -w /lock"]
    // LAB 2.3 END
}

/// Part 2. B runs the same commands, but `/lock` is already gone (`Node does not exist`).
/// Then A creates `/lock` again. What does B hear?
fn heard_when_the_lock_was_already_gone() -> Vec<&'static str> {
    // LAB 2.3 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 2.3: what B hears when A creates /lock")
    vec!["NodeCreated /lock"]
    // LAB 2.3 END
}

fn lock_script<'a>(before: &[&'a str], b: &[&'a str], after: &[&'a str]) -> Vec<&'a str> {
    let mut script = before.to_vec();
    script.push("connect B");
    script.extend_from_slice(b);
    script.push("use A");
    script.extend_from_slice(after);
    script
}

#[test]
fn lab_2_3_b_hears_the_lock_go() {
    let commands = wait_for_the_lock_to_go();
    let heard = events_heard(&lock_script(
        &["create /lock"],
        &commands,
        &["delete /lock"],
    ));
    assert_eq!(
        heard,
        ["NodeDeleted /lock"],
        "with {commands:?}, B does not hear the delete exactly once"
    );
}

#[test]
fn lab_2_3_when_the_lock_was_already_gone() {
    let commands = wait_for_the_lock_to_go();
    let heard = events_heard(&lock_script(&[], &commands, &["create /lock"]));
    assert_eq!(heard_when_the_lock_was_already_gone(), heard);
}

// ---- Lab 2.4: survive a burst of changes (src/labs/burst.rs) ----

#[test]
fn lab_2_4_student_client_survives_a_burst() {
    let output = burst::run(|session| StudentClient { session });
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("lab_2_4_burst", output.join("\n"));
    });
}
