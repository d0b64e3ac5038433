//! The student's view of the code the book shows around a lab.
//!
//! The book never includes a region holding an answer (`tests/book.rs` refuses it). Where it
//! shows the code a lab starts from, it includes one of these snapshots: the named anchor of a
//! chapter source as `keeper lab start` leaves it, less the `//>` copy of the skeleton that
//! `reset` uses. They are checked like every other snapshot, so the book cannot show a
//! skeleton the student will not get.

use std::fs;
use std::path::Path;

use keeper_lab::{Marked, LABS};

/// The lines of anchor `anchor` in `path`, in the student's edition of the file, as mdBook
/// includes them; without the `//>` lines, and with the opening marker's note cut.
fn student_listing(path: &str, anchor: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = fs::read_to_string(root.join(path)).unwrap();
    let mut marked = Marked::parse(&text).unwrap();
    for lab in LABS {
        marked.start(lab.id);
    }
    let student = marked.render();
    let open = format!("ANCHOR: {anchor}");
    let close = format!("ANCHOR_END: {anchor}");
    let lines: Vec<&str> = student
        .lines()
        .skip_while(|l| !l.trim_end().ends_with(&open))
        .skip(1)
        .take_while(|l| !l.trim_end().ends_with(&close))
        .filter(|l| !l.contains("ANCHOR:") && !l.contains("ANCHOR_END:"))
        .filter(|l| !l.trim_start().starts_with("//>"))
        .map(|l| match l.find(" YOUR CODE") {
            Some(at) => &l[..at + " YOUR CODE".len()],
            None => l,
        })
        .collect();
    assert!(!lines.is_empty(), "{path} has no anchor {anchor}");
    lines.join("\n")
}

fn check(name: &str, path: &str, anchor: &str) {
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(name, student_listing(path, anchor));
    });
}

#[test]
fn lab_2_4_student_client() {
    check(
        "lab_2_4_student_client",
        "chapters/ch02-watches/src/labs/burst.rs",
        "skeleton",
    );
}

#[test]
fn lab_4_6_your_accept_rule() {
    check(
        "lab_4_6_your_accept_rule",
        "chapters/ch04-paxos/src/labs/mod.rs",
        "your_accept_rule",
    );
}

#[test]
fn lab_5_1_lab_order() {
    check(
        "lab_5_1_lab_order",
        "chapters/ch05-election/src/lab.rs",
        "lab_order",
    );
}

#[test]
fn lab_6_1_can_commit() {
    check(
        "lab_6_1_can_commit",
        "chapters/ch06-zab/src/lab.rs",
        "can_commit",
    );
}

#[test]
fn lab_7_1_lost_write() {
    check(
        "lab_7_1_lost_write",
        "chapters/ch07-persistence/src/lab.rs",
        "lost_write",
    );
}

#[test]
fn lab_7_2_first_record() {
    check(
        "lab_7_2_first_record",
        "chapters/ch07-persistence/src/lab.rs",
        "first_record",
    );
}

#[test]
fn lab_8_1_may_die() {
    check("lab_8_1_may_die", "tests/ensemble_lab/quorum.rs", "may_die");
}

#[test]
fn lab_8_2_read_srvr() {
    check(
        "lab_8_2_read_srvr",
        "tests/ensemble_lab/leader.rs",
        "read_srvr",
    );
}
