//! `cargo run -p ch02-watches` opens the multi-client zkCli shell (reading a terminal, a pipe,
//! or `--script FILE`); `-- --trace` replays the seed's watch demo and prints what happened.

use std::io::{self, BufRead, IsTerminal, Write};

use clap::Parser;

use ch01_znode::shell::Shell;
use ch02_watches::demo::{replay, SEED_DEMO};
use ch02_watches::render::{render, Format};
use ch02_watches::shell::{run, Clients};

/// Watches: register once, fire once.
#[derive(Parser, Debug)]
#[command(name = "ch02-watches", about)]
struct Cli {
    /// Replay the seed's watch demo and print each step.
    #[arg(long)]
    trace: bool,
    /// Print the trace as one JSON object per line.
    #[arg(long)]
    json: bool,
    /// Plain text even on a terminal.
    #[arg(long)]
    no_color: bool,
    /// Accepted for uniformity with the other chapters: this chapter's runs use no randomness.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Run the shell on the commands in FILE instead of standard input.
    #[arg(long, value_name = "FILE")]
    script: Option<std::path::PathBuf>,
}

fn main() -> io::Result<()> {
    let cli = Cli::parse();
    if cli.trace || cli.json {
        let format = match (cli.json, cli.no_color || !io::stdout().is_terminal()) {
            (true, _) => Format::Json,
            (false, true) => Format::Plain,
            (false, false) => Format::Color,
        };
        let (_, trace) = replay(SEED_DEMO);
        let mut out = io::stdout().lock();
        for event in &trace {
            // A closed pipe (`| head`) ends the output quietly.
            if writeln!(out, "{}", render(event, format)).is_err() {
                break;
            }
        }
        return Ok(());
    }
    let mut shell = Shell::new(Clients::new(
        "A",
        ch01_znode::shell::LocalBackend::system_clock(),
    ));
    let (mut out, mut err) = (io::stdout(), io::stderr());
    match cli.script {
        Some(file) => {
            let mut input = io::BufReader::new(std::fs::File::open(file)?);
            run(&mut shell, &mut input, &mut out, &mut err, false)
        }
        None => {
            let prompt = io::stdin().is_terminal();
            let mut input: Box<dyn BufRead> = Box::new(io::stdin().lock());
            run(&mut shell, &mut input, &mut out, &mut err, prompt)
        }
    }
}
