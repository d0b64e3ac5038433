//! The differential test: the same raw requests to real ZooKeeper 3.8 and to `keeper server`,
//! and the same answers back, byte for byte once the volatile fields are masked.
//!
//! A reader who compares our server with the real one on the wire must find the same bytes;
//! this test is that comparison, done for every case each time `cargo test` runs. It speaks
//! the protocol itself (no client library in between, so it can send nulls and odd flags that
//! no client sends) and masks only what two correct servers may disagree on: session ids and
//! passwords, zxids (kept as "zero or not"), times, and the session id in a Stat's
//! `ephemeralOwner` (kept as "owned or not"); see `wire.rs`.
//!
//! The masking is checked before it judges Keeper: every case runs on **two** real ZooKeeper
//! servers first, and they must agree on all of it. Then Keeper must agree with the first.
//!
//! ```text
//! cargo test --test conformance                       # start 2 ZooKeepers + Keeper, compare
//! cargo test --test conformance -- --list             # the cases, one a line (cases.txt)
//! cargo test --test conformance -- acl-               # only the cases whose name has "acl-"
//! cargo test --test conformance -- --against 127.0.0.1:2181 127.0.0.1:2182
//! ```
//!
//! `--against A B` compares any two running servers (A is the reference); each case works
//! under `/conformance-<case>`, so the servers should be fresh. Left out on purpose:
//! createTTL with a mode without a TTL and a negative TTL, which makes ZooKeeper 3.8 fail
//! applying its own log (the server stops); Keeper answers it BadArguments.

#[path = "../common/mod.rs"]
mod common;

mod cases;
mod generated;
mod wire;

use cases::{Case, Run, KNOWN_DIFFERENCES};
use common::{Server, ServerKind};
use std::process::ExitCode;

const TEST: &str = "the conformance test";

/// Runs every selected case on the server at `address`: one transcript per case.
fn transcripts(address: &str, cases: &[&Case]) -> Vec<Vec<String>> {
    cases
        .iter()
        .map(|case| {
            let mut run = Run::new(address, format!("/conformance-{}", case.name));
            let setup = run.session();
            let base = run.base.clone();
            run.ask(setup, "create base", cases::OP_CREATE, base_body(&base));
            (case.steps)(&mut run);
            // After each case, a fresh session must still be served.
            let after = run.session();
            run.ask(after, "after: exists /", cases::OP_EXISTS, root_exists());
            run.lines
        })
        .collect()
}

fn base_body(path: &str) -> Vec<u8> {
    let mut w = ch03_sessions::jute::Writer::new();
    w.write_ustring(Some(path));
    w.write_buffer(None);
    w.write_int(1);
    w.write_int(31);
    w.write_ustring(Some("world"));
    w.write_ustring(Some("anyone"));
    w.write_int(0);
    w.into_bytes()
}

fn root_exists() -> Vec<u8> {
    let mut w = ch03_sessions::jute::Writer::new();
    w.write_ustring(Some("/"));
    w.write_bool(false);
    w.into_bytes()
}

/// Compares two servers' transcripts case by case; returns the names of the cases that
/// differ, after printing each difference line by line.
fn compare(
    names: (&str, &str),
    cases: &[&Case],
    a: &[Vec<String>],
    b: &[Vec<String>],
) -> Vec<String> {
    let mut differing = Vec::new();
    for ((case, left), right) in cases.iter().zip(a).zip(b) {
        if left == right {
            continue;
        }
        differing.push(case.name.clone());
        println!("DIFFERENT {}: {} vs {}", case.name, names.0, names.1);
        for i in 0..left.len().max(right.len()) {
            let l = left.get(i).map_or("(nothing)", String::as_str);
            let r = right.get(i).map_or("(nothing)", String::as_str);
            let mark = if l == r { " " } else { "≠" };
            println!("  {mark} {l}");
            if l != r {
                println!("    {r}");
            }
        }
    }
    differing
}

/// The cases one a line, a known difference with its reason, after a first line with the
/// counts (what the book includes).
fn listing(cases: &[&Case]) -> String {
    let known = |case: &Case| {
        KNOWN_DIFFERENCES
            .iter()
            .find(|(name, _)| *name == case.name)
            .map(|(_, why)| why)
    };
    let differences = cases.iter().filter(|c| known(c).is_some()).count();
    let mut text = format!(
        "{} cases, {differences} of them known differences\n",
        cases.len()
    );
    for case in cases {
        match known(case) {
            Some(why) => text += &format!("{}  (known difference: {why})\n", case.name),
            None => text += &format!("{}\n", case.name),
        }
    }
    text
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let all = cases::all();
    // libtest's own flags (`--nocapture`, `-q`...) may be passed by `cargo test`: ignored.
    let filter: Vec<&String> = args
        .iter()
        .filter(|a| !a.starts_with('-') && !a.contains(':'))
        .collect();
    let selected: Vec<&Case> = all
        .iter()
        .filter(|c| filter.is_empty() || filter.iter().any(|f| c.name.contains(f.as_str())))
        .collect();
    if args.iter().any(|a| a == "--list") {
        print!("{}", listing(&selected));
        return ExitCode::SUCCESS;
    }
    // The book counts the cases by including `cases.txt`: a full run checks it is current.
    if filter.is_empty() && !args.iter().any(|a| a == "--against") {
        let current = listing(&selected);
        if current != include_str!("cases.txt") {
            println!(
                "tests/conformance/cases.txt is not the current list of cases: write it with\n  \
                 cargo test --test conformance -- --list > tests/conformance/cases.txt"
            );
            return ExitCode::FAILURE;
        }
    }
    if let Some(i) = args.iter().position(|a| a == "--against") {
        let (Some(a), Some(b)) = (args.get(i + 1), args.get(i + 2)) else {
            eprintln!("--against takes two addresses: host:port host:port");
            return ExitCode::FAILURE;
        };
        let differing = compare(
            (a, b),
            &selected,
            &transcripts(a, &selected),
            &transcripts(b, &selected),
        );
        println!("{} cases, {} different", selected.len(), differing.len());
        return if differing.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let started = [
        ServerKind::ZooKeeper,
        ServerKind::ZooKeeper,
        ServerKind::Keeper,
    ]
    // No fsync per txn: the answers do not depend on it, and each case writes a few txns
    // (sessions, its base node) that would otherwise wait for the disk.
    .map(|kind| Server::start_with_or_skip(kind, TEST, &[("forceSync", "no")]));
    let [Some(zk_a), Some(zk_b), Some(keeper)] = started else {
        return ExitCode::SUCCESS;
    };
    // The three servers are asked at once: each has its own cases' nodes, and the wall time
    // is the slowest server's, not the sum.
    let [reference, second, ours] = std::thread::scope(|scope| {
        [zk_a.address(), zk_b.address(), keeper.address()]
            .map(|address| {
                let selected = &selected;
                scope.spawn(move || transcripts(&address, selected))
            })
            .map(|thread| thread.join().expect("a server's transcripts"))
    });
    let masking = compare(("ZooKeeper", "ZooKeeper"), &selected, &reference, &second);
    if !masking.is_empty() {
        println!("the masking lets two real ZooKeepers differ: {masking:?}");
        return ExitCode::FAILURE;
    }
    let differing = compare(("ZooKeeper", "Keeper"), &selected, &reference, &ours);
    let unexpected: Vec<_> = differing
        .iter()
        .filter(|name| !KNOWN_DIFFERENCES.iter().any(|(known, _)| known == name))
        .collect();
    println!(
        "conformance: {} cases, ZooKeeper = ZooKeeper on all, Keeper differs on {} ({} known)",
        selected.len(),
        differing.len(),
        differing.len() - unexpected.len()
    );
    if unexpected.is_empty() {
        ExitCode::SUCCESS
    } else {
        println!("unexpected differences: {unexpected:?}");
        ExitCode::FAILURE
    }
}
