//! Stopping a `keeper cluster` that a test started, however the test ends.

use std::path::Path;
use std::process::{ChildStdin, Command, Stdio};

/// The servers are detached from the test (that is the point of `keeper cluster`), so a test
/// binary killed outright (a CI timeout, Ctrl-C) would leave them running: no drop runs. A
/// reaper shell waits for its stdin to close, which happens when the test process ends in any
/// way, and then runs `keeper cluster stop` on the folder (retrying while a command holds it)
/// and removes it.
pub fn reaper(dir: &Path) -> Option<ChildStdin> {
    let mut shell = Command::new("sh")
        .arg("-c")
        // A `start` still under way holds the folder's lock: try again until it is done. Once
        // the folder is gone (the test's own drop stopped the cluster), there is nothing to do.
        .arg(
            r#"cat >/dev/null
for _ in $(seq 150); do
  [ -d "$1" ] || exit 0
  "$0" cluster stop --dir "$1" && exec rm -rf "$1"
  sleep 0.5
done"#,
        )
        .arg(env!("CARGO_BIN_EXE_keeper"))
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    shell.stdin.take()
}
