//! kazoo, the Python client most ZooKeeper users script with, works against
//! every server under test.
//!
//! `tests/interop/kazoo_suite.py` runs against a server address and prints
//! `ok - <check>` per check, stopping at the first failure. This test starts
//! each server under test, runs the script with Debian's `/usr/bin/python3`
//! (the one `python3-kazoo` is installed for), and requires every check, in
//! order: a check that silently went missing from the script fails here too.

use crate::common;

use common::{run_to_end, servers_under_test, tools, Server};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// What the script must print, in order; one line per check it runs.
const EXPECTED: &[&str] = &[
    "ok - ensure_path creates every missing parent and is idempotent",
    "ok - an ephemeral node is owned by its session and cannot have children",
    "ok - sequential nodes get a 10-digit suffix that counts up",
    "ok - an ephemeral node disappears when its session closes",
    "ok - set with the current version succeeds and a stale version raises BadVersion",
    "ok - ChildrenWatch sees every child created and deleted",
    "ok - DataWatch sees the node created, changed and deleted",
    "ok - exists with a watch returns None and fires when the node is created",
    "ok - a Lock admits one contender at a time",
    "ok - an Election has one leader and the next contender takes over when it steps down",
    "ok - a transaction with a failing check changes nothing, one that passes applies every op",
    "ok - a digest ACL lets its owner in and keeps another session out",
    "ok - CREATOR_ALL_ACL after add_auth makes the digest id the ACL, and exists sees the Stat of an unreadable node",
    "ok - delete checks the version, refuses a parent, and delete recursive removes a subtree",
];

/// The script bounds each of its waits by 10 s; this bounds the whole run.
const SUITE_TIMEOUT: Duration = Duration::from_secs(90);

#[test]
fn kazoo_passes_every_check_of_the_suite_on_every_server() {
    const TEST: &str = "the kazoo suite";
    if let Err(reason) = tools::kazoo() {
        return common::skip(TEST, &reason);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/kazoo_suite.py");
    for kind in servers_under_test() {
        let Some(server) = Server::start_or_skip(kind, TEST) else {
            continue;
        };
        let mut command = Command::new(tools::PYTHON);
        command.arg(&script).arg(server.address());
        let finished = run_to_end(command, "", SUITE_TIMEOUT)
            .unwrap_or_else(|why| panic!("kazoo suite against {kind}: {why}"));
        // kazoo may also log warnings (a dropped connection it retried):
        // shown on failure, but only the check lines are compared.
        let printed: Vec<&str> = finished
            .output
            .lines()
            .filter(|line| line.starts_with("ok - ") || line.starts_with("FAIL - "))
            .collect();
        assert!(
            finished.status.success() && printed == EXPECTED,
            "kazoo suite against {kind} exited with {} and printed:\n{}\n--- server output:\n{}",
            finished.status,
            finished.output,
            server.log()
        );
    }
}
