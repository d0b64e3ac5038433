//! Driving the shell: from a terminal, from a pipe or a file, or into a transcript.
//!
//! zkCli behaves differently with and without a terminal. At a terminal it prints a prompt
//! before each line; reading a pipe it prints no prompt and does not echo commands, and its
//! stdout and stderr stay separate. We do the same. A *transcript* is what a person at the
//! terminal sees — prompt, the command typed, then both streams in order — which is what the
//! book and the snapshot tests show.

use super::{Backend, Line, Shell};
use std::io::{self, BufRead, Write};

/// Writes each line to the stream zkCli would use.
pub fn emit(lines: &[Line], out: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
    for line in lines {
        match line {
            Line::Out(text) => writeln!(out, "{text}")?,
            Line::Err(text) => writeln!(err, "{text}")?,
        }
    }
    out.flush()?;
    err.flush()
}

/// Reads commands until end of input or `quit`. With `prompt`, shows zkCli's prompt before
/// each line (an interactive session); without, runs silently like zkCli reading a pipe.
/// End of input closes the session, as zkCli's exit does.
pub fn run<B: Backend>(
    shell: &mut Shell<B>,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
    prompt: bool,
) -> io::Result<()> {
    run_with(shell, input, out, err, prompt, Shell::execute_line)
}

/// [`run`]'s loop with another step per line: a later chapter's shell runs each line through
/// [`Shell::execute_line`] and adds lines of its own (chapter 2 adds other clients' events).
pub fn run_with<B: Backend>(
    shell: &mut Shell<B>,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
    prompt: bool,
    mut execute: impl FnMut(&mut Shell<B>, &str) -> Vec<Line>,
) -> io::Result<()> {
    let mut line = String::new();
    while !shell.has_quit() {
        if prompt {
            write!(out, "{}", shell.prompt())?;
            out.flush()?;
        }
        line.clear();
        if input.read_line(&mut line)? == 0 {
            if prompt {
                writeln!(out)?;
            }
            break;
        }
        let lines = execute(shell, line.trim_end_matches(['\n', '\r']));
        emit(&lines, out, err)?;
    }
    if !shell.has_quit() {
        // Like zkCli's exit: the session ends, and its ephemerals with it.
        let _ = shell.backend.close();
    }
    Ok(())
}

/// What a shell prints with `commands` piped in, as zkCli's output is captured to compare
/// with ours: stdout and stderr, each whole. `run` is the loop that reads them ([`run`] with
/// no prompt, or a later chapter's loop).
pub fn piped(
    commands: &str,
    run: impl FnOnce(&mut dyn BufRead, &mut dyn Write, &mut dyn Write) -> io::Result<()>,
) -> io::Result<(String, String)> {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    run(&mut commands.as_bytes(), &mut out, &mut err)?;
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).map_err(io::Error::other);
    Ok((text(out)?, text(err)?))
}

// ANCHOR: transcript
/// What a person at a terminal would see running `commands`: each prompt with the command
/// after it, then the command's output, both streams in order.
pub fn transcript<B: Backend>(shell: &mut Shell<B>, commands: &[&str]) -> String {
    transcript_with(shell, commands, Shell::execute_line)
}

/// [`transcript`] with another step per line, as [`run_with`].
pub fn transcript_with<B: Backend>(
    shell: &mut Shell<B>,
    commands: &[&str],
    mut execute: impl FnMut(&mut Shell<B>, &str) -> Vec<Line>,
) -> String {
    let mut text = String::new();
    for command in commands {
        text.push_str(&shell.prompt());
        text.push_str(command);
        text.push('\n');
        for line in execute(shell, command) {
            text.push_str(line.text());
            text.push('\n');
        }
    }
    text
}
// ANCHOR_END: transcript
