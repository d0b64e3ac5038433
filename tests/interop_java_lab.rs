//! The seed's "servers up and down" lab, in Java against Debian's ZooKeeper
//! client jar, works on every server under test.
//!
//! `tests/interop/java/` holds the lab's two programs: `DistributeServer`
//! registers an ephemeral sequential znode under `/servers` and stays up;
//! `DistributeClient` watches `/servers` and prints `servers = [...]` on
//! every change. They are compiled with `javac` at test time. The test starts
//! the client, brings two servers up, kills one (SIGKILL, as a crash) and
//! requires the client to print the growing list and then the shrunken one:
//! the killed server's session expires and the server deletes its ephemeral
//! znode, which fires the client's child watch.

use crate::common;

use common::java_lab::{compiled, program as lab_program};
use common::{servers_under_test, tools, Server};
use std::time::Duration;

/// A JVM start on a busy machine, plus a round trip.
const JVM_TIMEOUT: Duration = Duration::from_secs(30);
/// A killed server's session lasts its 3 s timeout, rounded up to the
/// server's next tick bucket, before the server expires it.
const EXPIRY_TIMEOUT: Duration = Duration::from_secs(20);

#[test]
fn the_watching_client_sees_servers_come_up_and_a_killed_one_go_down() {
    const TEST: &str = "the servers up/down lab";
    if let Err(reason) = tools::javac() {
        return common::skip(TEST, &reason);
    }
    let classes = compiled();
    for kind in servers_under_test() {
        let Some(server) = Server::start_or_skip(kind, TEST) else {
            continue;
        };
        let address = server.address();
        let fail = |why: String| -> ! {
            panic!(
                "against {kind}: {why}\n--- server output:\n{}",
                server.log()
            )
        };

        let client = lab_program(&classes, "DistributeClient", &[&address]);
        let printed = |from: usize, line: &str, timeout: Duration| {
            client
                .wait_for_line(from, timeout, |l| l == line)
                .unwrap_or_else(|why| fail(format!("waiting for `{line}`: {why}")))
        };
        let mut at = printed(0, "servers = []", JVM_TIMEOUT);

        let alpha = lab_program(&classes, "DistributeServer", &[&address, "alpha"]);
        alpha
            .wait_for_line(0, JVM_TIMEOUT, |l| {
                l.starts_with("alpha is online as /servers/server-")
            })
            .unwrap_or_else(|why| fail(why));
        at = printed(at + 1, "servers = [alpha]", JVM_TIMEOUT);

        let beta = lab_program(&classes, "DistributeServer", &[&address, "beta"]);
        beta.wait_for_line(0, JVM_TIMEOUT, |l| {
            l.starts_with("beta is online as /servers/server-")
        })
        .unwrap_or_else(|why| fail(why));
        at = printed(at + 1, "servers = [alpha, beta]", JVM_TIMEOUT);

        drop(alpha);
        printed(at + 1, "servers = [beta]", EXPIRY_TIMEOUT);
    }
}
