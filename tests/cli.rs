//! `keeper cli -server host:port`: chapter 1's zkCli shell over the wire, against a real
//! `keeper server` process, printing what zkCli prints.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use support::KeeperProcess;

#[test]
fn keeper_cli_runs_a_piped_zkcli_session_over_the_wire() {
    let server = KeeperProcess::start("");
    let mut child = Command::new(env!("CARGO_BIN_EXE_keeper"))
        .args(["cli", "-server", &server.connect_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn keeper cli");
    let script = "create /sanguo \"diaochan\"\nls /\nget /sanguo\ndelete /nosuch\nquit\n";
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write the script");
    let out = child.wait_with_output().expect("keeper cli runs");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("[sanguo, zookeeper]\n"), "{stdout}");
    assert!(stdout.contains("diaochan\n"), "{stdout}");
    // zkCli prints confirmations and errors on stderr.
    assert!(stderr.contains("Created /sanguo"), "{stderr}");
    assert!(stderr.contains("Node does not exist: /nosuch"), "{stderr}");
}
