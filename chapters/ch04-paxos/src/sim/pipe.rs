//! A chapter's printout piped into a reader that stops early (`--trace | head -1`).
//!
//! Rust's runtime ignores SIGPIPE, so a write to a closed pipe fails instead, and `println!`
//! panics on the failure ("failed printing to stdout: Broken pipe", exit 101). A command that
//! only prints wants what a shell command gets: the default action, which ends the process
//! quietly at that write. A command that holds sockets keeps the runtime's choice, so that a
//! peer that closes its end is an error to handle, never the end of the server.

/// Lets SIGPIPE end the process, as it ends a shell command, instead of `println!` panicking.
/// For commands that only print: call it before the first line.
pub fn end_quietly_when_the_reader_goes() {
    // SAFETY: `signal` only sets this process's action for SIGPIPE, back to the default it
    // has in any program the runtime did not change; nothing runs on another thread yet.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
