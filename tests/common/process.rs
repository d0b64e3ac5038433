//! Child processes that a test can wait on with a bound and that never
//! outlive it.
//!
//! A long-running child (a server, a Java client that watches forever) is
//! started under a tiny watchdog shell that holds a pipe from the test. When
//! that pipe closes, the watchdog kills the child with SIGKILL. The pipe
//! closes when the [`Guarded`] value is dropped, and also when the test
//! binary dies for any reason (a panic in another thread, a CI timeout,
//! Ctrl-C), so a stray JVM never keeps a port or a session alive.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Runs `"$@"` in the background, kills it when our stdin reaches EOF (then
/// removes `$REMOVE_AFTER`, if set), and exits with its status when it exits
/// by itself. The background list reads fd 3, a copy of the pipe, because a
/// non-interactive shell gives background jobs /dev/null as stdin.
const WATCHDOG: &str = r#"exec 3<&0 0</dev/null
"$@" &
pid=$!
(cat <&3 >/dev/null; kill -9 "$pid" 2>/dev/null; [ -z "$REMOVE_AFTER" ] || rm -rf "$REMOVE_AFTER") &
exec 3<&-
wait "$pid""#;

/// How often a bounded wait looks at its condition again.
const POLL: Duration = Duration::from_millis(25);

/// Polls `probe` until it returns `Some`, for at most `timeout`.
/// The error names `what` was awaited, for the test's failure message.
pub fn wait_until<T>(
    timeout: Duration,
    what: &str,
    mut probe: impl FnMut() -> Option<T>,
) -> Result<T, String> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(found) = probe() {
            return Ok(found);
        }
        if Instant::now() >= deadline {
            return Err(format!("timed out after {timeout:?} waiting for {what}"));
        }
        thread::sleep(POLL);
    }
}

/// Everything a child printed so far, one entry per line, stdout and
/// stderr together in the order the reader threads saw them.
#[derive(Default)]
struct Transcript {
    lines: Mutex<Vec<String>>,
    grew: Condvar,
}

impl Transcript {
    fn push(&self, line: String) {
        self.lines.lock().expect("transcript lock").push(line);
        self.grew.notify_all();
    }
}

/// A long-running child process, killed on drop (see the module doc).
pub struct Guarded {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    transcript: Arc<Transcript>,
}

impl Guarded {
    /// Starts `program args...` in `dir` under the watchdog, capturing its
    /// output line by line. With `remove_after`, the watchdog deletes that
    /// directory once the program is killed: the one cleanup that still runs
    /// for a server kept in a `static`, which is never dropped.
    pub fn spawn<S: AsRef<OsStr>>(
        name: &str,
        program: impl AsRef<OsStr>,
        args: &[S],
        dir: &Path,
        remove_after: Option<&Path>,
    ) -> std::io::Result<Guarded> {
        let mut child = Command::new("sh")
            .env("REMOVE_AFTER", remove_after.unwrap_or(Path::new("")))
            .arg("-c")
            .arg(WATCHDOG)
            .arg("sh")
            .arg(program)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let transcript = Arc::new(Transcript::default());
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        collect_lines(stdout, Arc::clone(&transcript));
        collect_lines(stderr, Arc::clone(&transcript));
        Ok(Guarded {
            name: name.to_string(),
            stdin: child.stdin.take(),
            child,
            transcript,
        })
    }

    /// The process id of the watchdog shell (the program runs as its child).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, if the child has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The child's output so far.
    pub fn output(&self) -> String {
        self.transcript
            .lines
            .lock()
            .expect("transcript lock")
            .join("\n")
    }

    /// Waits, at most `timeout`, for a line at index `from` or later that
    /// satisfies `wanted`; returns its index, so a caller can wait for a
    /// sequence of lines in order.
    pub fn wait_for_line(
        &self,
        from: usize,
        timeout: Duration,
        wanted: impl Fn(&str) -> bool,
    ) -> Result<usize, String> {
        let deadline = Instant::now() + timeout;
        let mut lines = self.transcript.lines.lock().expect("transcript lock");
        loop {
            if let Some(offset) = lines.iter().skip(from).position(|l| wanted(l)) {
                return Ok(from + offset);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(format!(
                    "timed out after {timeout:?}; {} printed:\n{}",
                    self.name,
                    lines.join("\n")
                ));
            }
            lines = self
                .transcript
                .grew
                .wait_timeout(lines, deadline - now)
                .expect("transcript lock")
                .0;
        }
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        // Closing the watchdog's stdin kills the program; the shell then exits.
        drop(self.stdin.take());
        let gone = wait_until(Duration::from_secs(10), "the watchdog to exit", || {
            self.child.try_wait().ok().flatten()
        });
        if gone.is_err() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn collect_lines(stream: impl Read + Send + 'static, into: Arc<Transcript>) {
    thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            match line {
                Ok(line) => into.push(line),
                Err(_) => break,
            }
        }
    });
}

/// What a short-lived command left behind.
pub struct Finished {
    pub status: ExitStatus,
    /// stdout and stderr through one file, so their lines interleave exactly
    /// as a terminal would show them ([`run_to_end`]), or stdout alone
    /// ([`run_for_stdout`]).
    pub output: String,
    /// For [`run_for_stdout`], what the command wrote to stderr (warnings a
    /// client logs while it retries, or why it failed); empty otherwise.
    pub errors: String,
    /// For [`run_script`], each line typed and how much `output` held when
    /// it was typed; empty otherwise.
    pub typed: Vec<Typed>,
}

/// A line [`run_script`] typed, and the length in bytes of the output so
/// far when it did. Where the script waited for a line's answer before
/// typing the next one, the output between two lines' offsets is exactly
/// what the first of them printed.
#[derive(Clone, Debug)]
pub struct Typed {
    pub line: String,
    pub offset: usize,
}

/// Which of a command's streams [`run`] keeps.
#[derive(Clone, Copy, PartialEq)]
enum Keep {
    StdoutAndStderr,
    Stdout,
}

/// Runs a command to completion with `input` on its stdin, for at most
/// `timeout` (then it is killed and this is an error).
pub fn run_to_end(command: Command, input: &str, timeout: Duration) -> Result<Finished, String> {
    run(command, input, timeout, Keep::StdoutAndStderr)
}

/// As [`run_to_end`] with no input, keeping stdout apart from stderr: the
/// answer in `output`, the warnings and errors in `errors`.
pub fn run_for_stdout(command: Command, timeout: Duration) -> Result<Finished, String> {
    run(command, "", timeout, Keep::Stdout)
}

fn run(
    mut command: Command,
    input: &str,
    timeout: Duration,
    keep: Keep,
) -> Result<Finished, String> {
    let scratch = super::TempDir::new("run");
    let out_path = scratch.path().join("output");
    let err_path = scratch.path().join("errors");
    let out = File::create(&out_path).map_err(|e| e.to_string())?;
    let err = match keep {
        Keep::StdoutAndStderr => out.try_clone(),
        Keep::Stdout => File::create(&err_path),
    };
    let err = err.map_err(|e| e.to_string())?;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start {command:?}: {e}"))?;
    // The input is small; a command that stops reading early is not an error.
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    let status = wait_until(timeout, "the command to finish", || {
        child.try_wait().ok().flatten()
    });
    let output = std::fs::read_to_string(&out_path).unwrap_or_default();
    let errors = std::fs::read_to_string(&err_path).unwrap_or_default();
    match status {
        Ok(status) => Ok(Finished {
            status,
            output,
            errors,
            typed: Vec::new(),
        }),
        Err(why) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(format!("{why}; it printed:\n{output}{errors}"))
        }
    }
}

/// Runs an interactive program on a script, as a person at a terminal
/// would: each line is typed in turn, and lines starting with `#` are
/// directions to the harness, never typed.
///
/// - `#wait TEXT` waits (at most `timeout`) until the program has printed
///   TEXT since the last line was typed (or since it started), so a line
///   that must come after an event, or after the previous line's answer, is
///   typed only once that is out. TEXT must not go on as a longer name
///   (`path:/shu` is not `path:/shu/guanyu`);
/// - `# words` is a comment;
/// - `#name` is an action: `act(name)` runs it (cut a connection, change a
///   node from elsewhere).
///
/// At the end of the script stdin is closed and the program must exit
/// within `timeout`. stdout and stderr share one file, so the result is
/// interleaved exactly as a terminal shows it.
pub fn run_script(
    mut command: Command,
    script: &str,
    timeout: Duration,
    act: &mut dyn FnMut(&str),
) -> Result<Finished, String> {
    let scratch = super::TempDir::new("script");
    let out_path = scratch.path().join("output");
    let out = File::create(&out_path).map_err(|e| e.to_string())?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let child = command
        .stdin(Stdio::piped())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start {command:?}: {e}"))?;
    // Killed if the script fails half-way; closing its stdin alone would
    // not stop a program that is waiting for an event.
    let mut child = KillOnDrop(child);
    let output = || std::fs::read_to_string(&out_path).unwrap_or_default();
    let printed = || std::fs::metadata(&out_path).map_or(0, |m| m.len() as usize);
    let failed = |why: String| format!("{why}; it printed:\n{}", output());
    let mut stdin = child.0.stdin.take();
    let mut typed: Vec<Typed> = Vec::new();
    for line in script.lines() {
        let Some(direction) = line.strip_prefix('#') else {
            typed.push(Typed {
                line: line.to_string(),
                offset: printed(),
            });
            // A program that already quit no longer reads: not an error.
            if let Some(input) = stdin.as_mut() {
                let _ = writeln!(input, "{line}").and_then(|()| input.flush());
            }
            continue;
        };
        match direction.split_once(' ') {
            Some(("wait", text)) => {
                let since = typed.last().map_or(0, |t| t.offset);
                wait_until(timeout, &format!("`{text}`"), || {
                    let so_far = std::fs::read(&out_path).unwrap_or_default();
                    let new = String::from_utf8_lossy(so_far.get(since..).unwrap_or_default());
                    if printed_whole(&new, text) {
                        return Some(Ok(()));
                    }
                    let exited = child.0.try_wait().ok().flatten();
                    exited.map(|status| Err(format!("it exited ({status})")))
                })
                .and_then(|waited| waited)
                .map_err(failed)?;
            }
            _ if direction.is_empty() || direction.starts_with(' ') => {}
            _ => act(direction.trim()),
        }
    }
    drop(stdin);
    let status = wait_until(timeout, "the program to finish", || {
        child.0.try_wait().ok().flatten()
    })
    .map_err(failed)?;
    Ok(Finished {
        status,
        output: output(),
        errors: String::new(),
        typed,
    })
}

/// Whether `text` was printed in `output` as itself, not as the start of a
/// longer name: `path:/shu` is not found in `path:/shu/guanyu` (a deleteall
/// prints both, and the second one may still be on its way), nor `Created /w`
/// in `Created /w/c`. What follows it must be printed too (a line ends with a
/// newline), so half a line written so far does not count either.
fn printed_whole(output: &str, text: &str) -> bool {
    let continues_a_name = |c: char| c.is_alphanumeric() || "/_-.".contains(c);
    output.match_indices(text).any(|(at, _)| {
        output[at + text.len()..]
            .chars()
            .next()
            .is_some_and(|next| !continues_a_name(next))
    })
}

/// A child killed (and reaped) when dropped.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
