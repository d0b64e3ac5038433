//! `cargo run -p ch01-znode`: a zkCli-style shell on an in-memory znode tree.
//!
//! * no arguments: an interactive shell at a terminal, or a script read from stdin;
//! * `--script FILE`: run the commands in FILE;
//! * `--echo`: print a transcript (prompt and command before each output), as a person at a
//!   terminal would see it;
//! * `--trace`: replay the course's session with a fixed clock, showing every txn and every
//!   Stat field it changes (`--json` for one JSON event per line, `--no-color` for plain;
//!   `--scenario servers` for servers registering and their session ending).

use ch01_znode::cli::{exit_code, read_commands, ShellArgs, TraceArgs};
use ch01_znode::shell::repl::{run, transcript};
use ch01_znode::shell::{Backend, LocalBackend, Shell};
use ch01_znode::trace::{scenario_trace, SCENARIOS};
use clap::Parser;
use std::io::{self, Write};
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
    /// With --trace: which session to replay (`seed`, the course's session, or `servers`).
    #[arg(long, default_value = "seed")]
    scenario: String,
    #[command(flatten)]
    output: TraceArgs,
    #[command(flatten)]
    shell: ShellArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    exit_code(if args.trace {
        print_trace(&args)
    } else {
        run_shell(&args.shell)
    })
}

fn print_trace(args: &Args) -> io::Result<()> {
    let color = args.output.color();
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
        if args.output.json {
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

fn run_shell(args: &ShellArgs) -> io::Result<()> {
    let mut shell = Shell::new(LocalBackend::new(args.clock()));
    let mut input = args.input()?;
    if args.echo {
        let commands = read_commands(input)?;
        let commands: Vec<&str> = commands.iter().map(String::as_str).collect();
        print!("{}", transcript(&mut shell, &commands));
        return Ok(());
    }
    let interactive = args.interactive();
    let (mut out, mut err) = (io::stdout(), io::stderr());
    if interactive {
        writeln!(out, "Connecting to {}", shell.backend.connect_string())?;
        writeln!(out, "Welcome to ZooKeeper!")?;
    }
    run(&mut shell, &mut input, &mut out, &mut err, interactive)
}
