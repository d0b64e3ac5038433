//! The shell of this chapter: chapter 1's zkCli shell, run by several named clients.
//!
//! Chapter 1's [`Shell`] does the parsing, the zkCli logic and the printing; this chapter adds
//! a backend ([`Clients`]) and the commands of [`commands`]. The one thing the loop here adds
//! is where events appear: the current client's events print before its command's output,
//! as zkCli's do (the notification is sent before the reply); another client's events print
//! under that client's prompt, as in the seed's transcript of the second machine:
//!
//! ```text
//! [zk: B(CONNECTED) 4]
//! WATCHER::
//!
//! WatchedEvent state:SyncConnected type:NodeDataChanged path:/sanguo
//! ```

pub mod clients;
pub mod commands;

use std::io::{self, BufRead, Write};

use ch01_znode::shell::printer::watcher_lines;
use ch01_znode::shell::repl::{emit, run_with, transcript_with};
use ch01_znode::shell::{Line, Shell};

pub use clients::Clients;

use crate::trace::Event;

// ANCHOR: execute
/// Runs one line as the current client. Returns its output (the current client's events
/// first), then the other clients' events, each group under its client's prompt.
pub fn execute(shell: &mut Shell<Clients>, command_count: usize, line: &str) -> Vec<Line> {
    if !line.trim().is_empty() {
        let client = shell.backend.current_name().to_string();
        shell.backend.trace.push(Event::Command {
            client,
            line: line.to_string(),
        });
    }
    let mut lines = shell.execute_line(line);
    let print = shell.print_watches();
    for (label, events) in shell.backend.take_others(print) {
        lines.push(Line::Out(format!("[zk: {label} {command_count}] ")));
        lines.extend(events.iter().flat_map(watcher_lines).skip(1));
    }
    lines
}
// ANCHOR_END: execute

/// The events that arrived before any command: zkCli prints the first connection's
/// `SyncConnected` before its first prompt.
fn greeting(shell: &mut Shell<Clients>) -> Vec<Line> {
    let events = shell.backend.take_current();
    events.iter().flat_map(watcher_lines).collect()
}

/// What a person at the terminal sees running `commands`: prompt and command, then output.
pub fn transcript(shell: &mut Shell<Clients>, commands: &[&str]) -> String {
    let mut text = String::new();
    for line in greeting(shell) {
        text.push_str(line.text());
        text.push('\n');
    }
    let mut count = 0;
    text + &transcript_with(shell, commands, |shell, command| {
        count += 1;
        execute(shell, count, command)
    })
}

/// Reads commands until end of input or `quit` with chapter 1's loop, each line run by
/// [`execute`]; with `prompt`, shows the prompt before each line. At the end every client's
/// session is closed (the loop closes the backend: [`Clients`] closes them all).
pub fn run(
    shell: &mut Shell<Clients>,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
    prompt: bool,
) -> io::Result<()> {
    emit(&greeting(shell), out, err)?;
    let mut count = 0;
    run_with(shell, input, out, err, prompt, |shell, command| {
        if !command.trim().is_empty() {
            count += 1;
        }
        execute(shell, count, command)
    })
}
