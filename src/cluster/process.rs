//! The servers as operating-system processes: started detached, found again by pid file,
//! signalled, and waited for with a bound.
//!
//! zkServer.sh starts the JVM with `nohup ... &`, writes `$!` to `zookeeper_server.pid` and
//! exits; `stop` sends SIGTERM to that pid. The same here, with two cares the script leaves out.
//! A server is started in a process group of its own, so a Ctrl-C typed after `keeper cluster
//! start` (which goes to the terminal's foreground group) does not reach it. And a pid file
//! is only believed when that pid still runs `keeper server` with this server's zoo.cfg:
//! after a crash or a reboot the number may belong to another program, which `stop` must not
//! signal.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write as _};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use super::program::Programs;
use std::thread;
use std::time::{Duration, Instant};

use super::layout::{Layout, Member, HOST};

/// How long a server may take to answer on its client port. Generous: on a loaded machine a
/// start takes far less, and a server that fails exits (which ends the wait at once).
pub const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a server may take to exit after SIGTERM before it gets SIGKILL.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a bounded wait looks again.
const POLL: Duration = Duration::from_millis(20);

/// The pid of server `sid` if it is running: its pid file names a live process whose command
/// line holds this server's zoo.cfg.
pub fn running(layout: &Layout, sid: u64) -> Option<u32> {
    let text = std::fs::read_to_string(layout.pid_file(sid)).ok()?;
    let pid: u32 = text.trim().parse().ok()?;
    is_our_server(pid, &layout.zoo_cfg(sid)).then_some(pid)
}

/// Whether `pid` is a live server on `<zoo_cfg>`. Linux shows a process's
/// arguments in `/proc/PID/cmdline` (empty for one that has exited but is not yet reaped);
/// elsewhere, `kill -0` says only that the pid is in use.
fn is_our_server(pid: u32, zoo_cfg: &Path) -> bool {
    if Path::new("/proc/self").exists() {
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            return false;
        };
        let wanted = zoo_cfg.as_os_str().as_encoded_bytes();
        return cmdline.split(|&b| b == 0).any(|arg| arg == wanted);
    }
    signal(pid, "0").is_ok()
}

/// A server this command started, and its process: watched while the command waits, so that
/// one that exits is reported at once.
pub struct Started {
    pub member: Member,
    child: Child,
}

impl Started {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The error if the process has exited, with the end of its log, which says why; its
    /// pid file goes, since it names no server any more.
    fn exited(&mut self, layout: &Layout) -> Result<(), String> {
        let Ok(Some(status)) = self.child.try_wait() else {
            return Ok(());
        };
        let sid = self.member.sid;
        let _ = std::fs::remove_file(layout.pid_file(sid));
        Err(format!(
            "server {sid} exited ({status}); the end of {}:\n{}",
            layout.log_file(sid).display(),
            log_tail(&layout.log_file(sid))
        ))
    }
}

/// Starts server `member` as a detached `keeper server --config DIR/serverN/conf/zoo.cfg` (or
/// ZooKeeper on it, see [`Programs`]), its output appended to its log, and records its pid.
pub fn spawn(layout: &Layout, member: &Member) -> Result<Started, String> {
    let sid = member.sid;
    let log_path = layout.log_file(sid);
    let open_log = || {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| format!("cannot open {}: {e}", log_path.display()))
    };
    let log: File = open_log()?;
    let child = Programs::recorded(&layout.dir)
        .of(sid)
        .command(&layout.zoo_cfg(sid))?
        .current_dir(layout.home(sid))
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(open_log()?)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start server {sid}: {e}"))?;
    std::fs::write(layout.pid_file(sid), format!("{}\n", child.id()))
        .map_err(|e| format!("cannot write {}: {e}", layout.pid_file(sid).display()))?;
    Ok(Started {
        member: *member,
        child,
    })
}

/// Waits until the server `started` answers on its client port (serving or not). If it
/// exits first, the error carries the end of its log. Another program on that port (the
/// reason ours cannot listen there) may accept connections too: it does not count.
pub fn wait_serving(layout: &Layout, started: &mut Started) -> Result<(), String> {
    let sid = started.member.sid;
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        started.exited(layout)?;
        if answers_as(layout, &started.member) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "server {sid} did not answer on {HOST}:{} within {START_TIMEOUT:?}; see {}",
                started.member.client_port,
                layout.log_file(sid).display()
            ));
        }
        thread::sleep(POLL);
    }
}

/// Whether the server answering on `member`'s client port is this one. The four-letter word
/// `envi` tells: every server answers it, serving or not, and its `user.dir` is the folder
/// the process runs in, which [`spawn`] made `DIR/serverN`. A zoo.cfg that does not allow
/// `envi` leaves only the refusal, which at least says a ZooKeeper server answered.
fn answers_as(layout: &Layout, member: &Member) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], member.client_port));
    let Some(answer) = crate::status::four_letter_word(addr, b"envi", PROBE_TIMEOUT) else {
        return false;
    };
    let home = format!("user.dir={}", layout.home(member.sid).display());
    answer.lines().any(|line| line == home) || answer.starts_with("envi is not executed")
}

/// How long one look at a client port may take; a slow answer is asked again.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// How long `start` and `restart` wait for the servers to serve (to report a mode): an
/// election among Keeper servers takes milliseconds, ZooKeeper's JVMs a few seconds.
pub const SERVE_TIMEOUT: Duration = Duration::from_secs(30);

/// Server `member`'s mode (`leader`, `follower`, `standalone`, ...) as `srvr` reports it; None
/// while it does not serve (no quorum yet) or does not answer.
pub fn mode(member: &Member) -> Option<String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], member.client_port));
    let answer = crate::status::srvr(addr)?;
    let line = crate::status::mode_line(&answer)?;
    Some(line.trim_start_matches("Mode: ").to_string())
}

/// Waits, at most [`SERVE_TIMEOUT`], until every one of `members` reports a mode; returns
/// each one's, None for one that never did. The servers this command `started` are watched
/// meanwhile: if any exits, the error names each that did, with the end of its log.
pub fn wait_modes(
    layout: &Layout,
    members: &[Member],
    started: &mut [Started],
) -> Result<Vec<Option<String>>, String> {
    let deadline = Instant::now() + SERVE_TIMEOUT;
    loop {
        let exits: Vec<String> = started
            .iter_mut()
            .filter_map(|s| s.exited(layout).err())
            .collect();
        if !exits.is_empty() {
            return Err(exits.join("\n"));
        }
        let modes: Vec<Option<String>> = members.iter().map(mode).collect();
        if modes.iter().all(Option::is_some) || Instant::now() >= deadline {
            return Ok(modes);
        }
        thread::sleep(POLL);
    }
}

/// The last lines of a log, for an error message.
fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}

/// Sends a signal (`TERM`, `KILL`, or `0` to probe) with the system's `kill`, as zkServer.sh does.
pub fn signal(pid: u32, name: &str) -> Result<(), String> {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run kill: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("kill -{name} {pid} failed"))
    }
}

/// Waits, at most `timeout`, until a server's process `pid` is gone: not merely past the
/// point where its command line disappears (early in its exit, while a JVM still holds its
/// sockets), but exited, a zombie or reaped, so that its ports are free for a restart.
/// The caller found `pid` running this server before it signalled it; its command line is
/// not asked again, since an exiting process has none any more.
pub fn wait_gone(pid: u32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while still_exiting_or_alive(pid) {
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(POLL);
    }
    true
}

/// Whether `pid` still holds what it had. On Linux: some thread of it is neither a zombie
/// (`Z`) nor dead (`X`), by `/proc/PID/task/TID/stat`. Every thread counts: when a JVM is
/// killed its main thread may be a zombie already while others are still exiting, and its
/// sockets close only with the last one. Elsewhere, `kill -0` says only that the pid is in use.
fn still_exiting_or_alive(pid: u32) -> bool {
    if !Path::new("/proc/self").exists() {
        return signal(pid, "0").is_ok();
    }
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.filter_map(Result::ok).any(|task| {
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // `TID (COMMAND) STATE ...`: the command may hold spaces and parentheses, the state
        // follows the last `)`.
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next());
        !matches!(state, Some("Z" | "X") | None)
    })
}

/// Removes a pid file that names no running server; a missing one is fine.
pub fn forget(layout: &Layout, sid: u64) {
    if let Err(e) = std::fs::remove_file(layout.pid_file(sid)) {
        if e.kind() != ErrorKind::NotFound {
            let path = layout.pid_file(sid);
            let _ = writeln!(
                std::io::stderr(),
                "keeper: cannot remove {}: {e}",
                path.display()
            );
        }
    }
}
