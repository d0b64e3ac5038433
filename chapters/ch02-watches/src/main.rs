//! `cargo run -p ch02-watches`: chapter 1's zkCli-style shell for several named clients.
//!
//! * no arguments: an interactive shell at a terminal, or a script read from stdin; `connect B`
//!   opens a second client, `use A` switches back;
//! * `--script FILE`: run the commands in FILE;
//! * `--echo`: print a transcript (prompt and command before each output);
//! * `--trace`: replay the course's two-client watch demo, showing each watch registered, each
//!   txn with its triggers, each event sent and each watch spent (`--json` for one JSON event
//!   per line, `--no-color` for plain).

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use ch01_znode::cli::{exit_code, read_commands, ShellArgs, TraceArgs};
use ch01_znode::shell::Shell;
use ch02_watches::demo::{replay, SEED_DEMO};
use ch02_watches::render::{render, Format};
use ch02_watches::shell::{run, transcript, Clients};

#[derive(Parser, Debug)]
#[command(version, about = "Watches: register once, fire once (chapter 2)")]
struct Args {
    /// Replay the course's watch demo between two clients, step by step.
    #[arg(long)]
    trace: bool,
    #[command(flatten)]
    output: TraceArgs,
    #[command(flatten)]
    shell: ShellArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    exit_code(match args.trace {
        true => print_trace(&args.output),
        false => run_shell(&args.shell),
    })
}

fn print_trace(args: &TraceArgs) -> io::Result<()> {
    let format = match (args.json, args.color()) {
        (true, _) => Format::Json,
        (false, false) => Format::Plain,
        (false, true) => Format::Color,
    };
    let (_, trace) = replay(SEED_DEMO);
    let mut out = io::stdout().lock();
    for event in &trace {
        writeln!(out, "{}", render(event, format))?;
    }
    Ok(())
}

fn run_shell(args: &ShellArgs) -> io::Result<()> {
    let mut shell = Shell::new(Clients::new("A", args.clock()));
    let mut input = args.input()?;
    if args.echo {
        let commands = read_commands(input)?;
        let commands: Vec<&str> = commands.iter().map(String::as_str).collect();
        print!("{}", transcript(&mut shell, &commands));
        return Ok(());
    }
    let interactive = args.interactive();
    let (mut out, mut err) = (io::stdout(), io::stderr());
    run(&mut shell, &mut input, &mut out, &mut err, interactive)
}
