//! The command line the shell chapters' binaries share.
//!
//! `cargo run -p ch01-znode` and `cargo run -p ch02-watches` work the same way: `--trace`
//! replays the chapter's scenario (`--json` for one JSON event per line, `--no-color` for
//! plain), and without it a zkCli-style shell reads commands from a terminal, a pipe or
//! `--script FILE`, with `--echo` for a transcript and `--fixed-clock` for times that repeat
//! from run to run. The flags are defined once here and flattened into each binary's `Args`;
//! what is the chapter's own (what `--trace` replays, which backend the shell runs on) stays
//! in its `main.rs`.

use std::io::{self, BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::shell::backend::{Clock, LocalBackend};
use crate::trace::fixed_clock;

/// How `--trace` prints its events.
#[derive(clap::Args, Debug)]
pub struct TraceArgs {
    /// With --trace: one JSON object per event, per line.
    #[arg(long)]
    pub json: bool,
    /// Never color the trace (it is plain anyway when not printed to a terminal).
    #[arg(long)]
    pub no_color: bool,
    /// Accepted for uniformity with the other chapters; this chapter has no randomness.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

impl TraceArgs {
    /// Colour only on a terminal, and only if not turned off.
    pub fn color(&self) -> bool {
        !self.no_color && io::stdout().is_terminal()
    }
}

/// Where the shell's commands come from, and how it shows them.
#[derive(clap::Args, Debug)]
pub struct ShellArgs {
    /// Run the zkCli commands in FILE instead of reading stdin.
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
    /// Print a transcript: each prompt and command before its output (stdout only).
    #[arg(long)]
    pub echo: bool,
    /// Use the fixed clock of --trace, so times repeat from run to run.
    #[arg(long)]
    pub fixed_clock: bool,
}

impl ShellArgs {
    /// The clock the txns take their time from: the fixed one, or the system's.
    pub fn clock(&self) -> Clock {
        match self.fixed_clock {
            true => fixed_clock(),
            false => LocalBackend::system_clock(),
        }
    }

    /// The script, or stdin.
    pub fn input(&self) -> io::Result<Box<dyn BufRead>> {
        Ok(match &self.script {
            Some(path) => Box::new(io::BufReader::new(std::fs::File::open(path)?)),
            None => Box::new(io::stdin().lock()),
        })
    }

    /// A person at a terminal: zkCli shows its prompt (a pipe or a script gets none).
    pub fn interactive(&self) -> bool {
        self.script.is_none() && io::stdin().is_terminal()
    }
}

/// Every command in `input`, for `--echo`'s transcript.
pub fn read_commands(input: impl BufRead) -> io::Result<Vec<String>> {
    let text: String = input.lines().collect::<io::Result<Vec<_>>>()?.join("\n");
    Ok(text.lines().map(str::to_string).collect())
}

/// The process's exit status: a failure is printed, but a closed pipe (`| head`) is not one.
pub fn exit_code(result: io::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
