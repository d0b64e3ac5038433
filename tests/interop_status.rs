//! `keeper status` prints what `zkServer.sh status` prints, against every
//! server under test and against none.
//!
//! An operator's scripts read `zkServer.sh status`: its stdout is `Client
//! port found: ...` and then the server's `Mode:` line, or `Error contacting
//! service. It is probably not running.` with exit status 1 (Debian's
//! ZooKeeper 3.8 script, `status` branch). `keeper status --config` is meant
//! to be a drop-in, so both run on the same zoo.cfg and their stdout and
//! exit status must be equal. (Their stderr differs by design: the script
//! says "ZooKeeper JMX enabled by default", Keeper warns about zoo.cfg keys
//! it ignores.)

use crate::common;

use common::{free_port, run_for_stdout, servers_under_test, tools, zoo_cfg, Server, TempDir};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// stdout (alone) and the exit code of a status command.
fn status_of(command: Command) -> (String, Option<i32>) {
    let finished =
        run_for_stdout(command, Duration::from_secs(60)).unwrap_or_else(|why| panic!("{why}"));
    (finished.output, finished.status.code())
}

fn zkserver_status(config: &Path, log_dir: &Path) -> (String, Option<i32>) {
    let mut command = Command::new(tools::ZKSERVER_SH);
    command
        .arg("status")
        .arg(config)
        .env("ZOO_LOG_DIR", log_dir);
    status_of(command)
}

fn keeper_status(config: &Path) -> (String, Option<i32>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keeper"));
    command.arg("status").arg("--config").arg(config);
    status_of(command)
}

#[test]
fn keeper_status_prints_what_zkserver_sh_status_prints_for_a_running_server() {
    const TEST: &str = "keeper status vs zkServer.sh status";
    if let Err(reason) = tools::zkserver_sh() {
        return common::skip(TEST, &reason);
    }
    let logs = TempDir::new("zkserver-logs");
    for kind in servers_under_test() {
        let Some(server) = Server::start_or_skip(kind, TEST) else {
            continue;
        };
        let expected = zkserver_status(&server.config_path(), logs.path());
        assert!(
            expected.0.ends_with("Mode: standalone\n") && expected.1 == Some(0),
            "zkServer.sh status against {kind}: {expected:?}"
        );
        assert_eq!(
            keeper_status(&server.config_path()),
            expected,
            "against {kind}"
        );
    }
}

#[test]
fn keeper_status_prints_what_zkserver_sh_status_prints_when_nothing_listens() {
    const TEST: &str = "keeper status with no server";
    if let Err(reason) = tools::zkserver_sh() {
        return common::skip(TEST, &reason);
    }
    let dir = TempDir::new("no-server");
    let config = dir.path().join("zoo.cfg");
    let data = dir.path().join("data");
    std::fs::write(
        &config,
        zoo_cfg(free_port(), &data.display().to_string(), &[]),
    )
    .expect("zoo.cfg");
    let expected = zkserver_status(&config, dir.path());
    assert_eq!(
        expected.1,
        Some(1),
        "zkServer.sh status with nothing listening: {expected:?}"
    );
    assert_eq!(keeper_status(&config), expected);
}

#[test]
fn keeper_status_names_localhost_as_zkserver_sh_does_when_zoo_cfg_has_no_client_port_address() {
    const TEST: &str = "keeper status without clientPortAddress";
    if let Err(reason) = tools::zkserver_sh() {
        return common::skip(TEST, &reason);
    }
    let dir = TempDir::new("no-address");
    let config = dir.path().join("zoo.cfg");
    let data = dir.path().join("data");
    let with_address = zoo_cfg(free_port(), &data.display().to_string(), &[]);
    let without: String = with_address
        .lines()
        .filter(|line| !line.starts_with("clientPortAddress="))
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(&config, without).expect("zoo.cfg");
    let expected = zkserver_status(&config, dir.path());
    assert!(
        expected.0.contains("Client address: localhost."),
        "zkServer.sh status: {expected:?}"
    );
    assert_eq!(keeper_status(&config), expected);
}

/// What chapter 3 shows: `keeper status` against a standalone Keeper, its port masked (a
/// test takes a free one; the course's is 2181).
#[test]
fn keeper_status_of_a_standalone_keeper_as_the_book_shows_it() {
    let Some(server) = Server::start_or_skip(common::ServerKind::Keeper, "keeper status") else {
        return;
    };
    let (stdout, code) = keeper_status(&server.config_path());
    assert_eq!(code, Some(0), "{stdout}");
    let shown = stdout.replace(&format!(": {}.", server.port()), ": <its port>.");
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("standalone_status", shown);
    });
}
