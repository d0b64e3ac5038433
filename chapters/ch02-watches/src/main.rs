//! `cargo run -p ch02-watches`: chapter 1's zkCli-style shell for several named clients.
//!
//! * no arguments: an interactive shell at a terminal, or a script read from stdin; `connect B`
//!   opens a second client, `use A` switches back;
//! * `--script FILE`: run the commands in FILE;
//! * `--echo`: print a transcript (prompt and command before each output);
//! * `--trace`: replay the course's two-client watch demo, showing each watch registered, each
//!   txn with its triggers, each event sent and each watch spent (`--json` for one JSON event
//!   per line, `--no-color` for plain).

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use ch01_znode::shell::backend::Clock;
use ch01_znode::shell::{LocalBackend, Shell};
use ch01_znode::trace::fixed_clock;
use ch02_watches::demo::{replay, SEED_DEMO};
use ch02_watches::render::{render, Format};
use ch02_watches::shell::{run, transcript, Clients};

#[derive(Parser, Debug)]
#[command(version, about = "Watches: register once, fire once (chapter 2)")]
struct Args {
    /// Replay the course's watch demo between two clients, step by step.
    #[arg(long)]
    trace: bool,
    /// With --trace: one JSON object per event, per line.
    #[arg(long)]
    json: bool,
    /// Never color the trace (it is plain anyway when not printed to a terminal).
    #[arg(long)]
    no_color: bool,
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
        // `| head` closed the pipe: not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn print_trace(args: &Args) -> io::Result<()> {
    let format = match (args.json, args.no_color || !io::stdout().is_terminal()) {
        (true, _) => Format::Json,
        (false, true) => Format::Plain,
        (false, false) => Format::Color,
    };
    let (_, trace) = replay(SEED_DEMO);
    let mut out = io::stdout().lock();
    for event in &trace {
        writeln!(out, "{}", render(event, format))?;
    }
    Ok(())
}

fn run_shell(args: &Args) -> io::Result<()> {
    let clock: Clock = match args.fixed_clock {
        true => fixed_clock(),
        false => LocalBackend::system_clock(),
    };
    let mut shell = Shell::new(Clients::new("A", clock));
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
    run(&mut shell, &mut input, &mut out, &mut err, interactive)
}
