//! `cargo run -p ch01-znode`: a zkCli-style shell on an in-memory znode tree.
//!
//! * no arguments: an interactive shell at a terminal, or a script read from stdin;
//! * `--script FILE`: run the commands in FILE;
//! * `--echo`: print a transcript (prompt and command before each output), as a person at a
//!   terminal would see it;
//! * `--trace`: replay the course's session with a fixed clock, showing every txn and every
//!   Stat field it changes (`--json` for one JSON event per line, `--no-color` for plain;
//!   `--scenario servers` for servers registering and their session ending).

use ch01_znode::shell::repl::{run, transcript};
use ch01_znode::shell::{Backend, LocalBackend, Shell};
use ch01_znode::trace::{fixed_shell, scenario_trace, SCENARIOS};
use clap::Parser;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    version,
    about = "A zkCli-style shell on Keeper's znode tree (chapter 1)"
)]
struct Args {
    /// Replay the course's zkCli session, showing each txn and the Stat fields it changes.
    #[arg(long)]
    trace: bool,
    /// With --trace: one JSON object per event, per line.
    #[arg(long)]
    json: bool,
    /// Never color the trace (it is plain anyway when not printed to a terminal).
    #[arg(long)]
    no_color: bool,
    /// With --trace: which session to replay (`seed`, the course's session, or `servers`).
    #[arg(long, default_value = "seed")]
    scenario: String,
    /// Accepted for uniformity with the other chapters; this chapter has no randomness.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Run the zkCli commands in FILE instead of reading stdin.
    #[arg(long, value_name = "FILE")]
    script: Option<PathBuf>,
    /// Print a transcript: each prompt and command before its output (stdout only).
    #[arg(long)]
    echo: bool,
    /// Use the fixed clock of --trace, so times repeat from run to run.
    #[arg(long)]
    fixed_clock: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = if args.trace {
        print_trace(&args)
    } else {
        run_shell(&args)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn print_trace(args: &Args) -> io::Result<()> {
    let color = !args.no_color && io::stdout().is_terminal();
    let Some(events) = scenario_trace(&args.scenario) else {
        let names: Vec<&str> = SCENARIOS.iter().map(|(n, _)| *n).collect();
        let message = format!(
            "no scenario {:?}; try one of {}",
            args.scenario,
            names.join(", ")
        );
        return Err(io::Error::new(io::ErrorKind::InvalidInput, message));
    };
    let mut out = io::stdout().lock();
    for event in events {
        if args.json {
            let json = serde_json::to_string(&event).map_err(io::Error::other)?;
            writeln!(out, "{json}")?;
        } else if color {
            writeln!(out, "{}", event.colored())?;
        } else {
            writeln!(out, "{event}")?;
        }
    }
    Ok(())
}

fn run_shell(args: &Args) -> io::Result<()> {
    let mut shell = if args.fixed_clock {
        fixed_shell()
    } else {
        Shell::new(LocalBackend::new(LocalBackend::system_clock()))
    };
    let mut input: Box<dyn BufRead> = match &args.script {
        Some(path) => Box::new(io::BufReader::new(std::fs::File::open(path)?)),
        None => Box::new(io::stdin().lock()),
    };
    if args.echo {
        let text: String = input.lines().collect::<io::Result<Vec<_>>>()?.join("\n");
        let commands: Vec<&str> = text.lines().collect();
        print!("{}", transcript(&mut shell, &commands));
        return Ok(());
    }
    let interactive = args.script.is_none() && io::stdin().is_terminal();
    let (mut out, mut err) = (io::stdout(), io::stderr());
    if interactive {
        writeln!(out, "Connecting to {}", shell.backend.connect_string())?;
        writeln!(out, "Welcome to ZooKeeper!")?;
    }
    run(&mut shell, &mut input, &mut out, &mut err, interactive)
}
