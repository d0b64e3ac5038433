//! `cargo run -p ch03-sessions -- --trace`: a scripted client session against a real server
//! over loopback TCP, every frame decoded (`--bytes` adds the hex), every txn shown as it is
//! applied. `--json` prints one JSON event per line; `--seed` fixes the session ids.
//! `--scenario expiry` plays a session that expires instead, on the pure pipeline with a
//! virtual clock (no sockets); `--svg FILE` also draws it.

use std::io::IsTerminal;
use std::process::ExitCode;

use ch03_sessions::expiry::Event as ExpiryEvent;
use ch03_sessions::trace::{self, Event, TraceOptions};
use clap::Parser;
use colored::Colorize;

/// Chapter 3: sessions and the wire.
#[derive(Parser, Debug)]
#[command(name = "ch03-sessions", about)]
struct Args {
    /// Play the scripted session and print each frame and txn.
    #[arg(long)]
    trace: bool,
    /// Also print each frame's bytes in hex.
    #[arg(long)]
    bytes: bool,
    /// One JSON event per line.
    #[arg(long)]
    json: bool,
    /// Plain output even on a terminal.
    #[arg(long)]
    no_color: bool,
    /// Fixes the clock bits of the session ids, so runs are identical.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// `session` (the scripted session over TCP) or `expiry` (a silent client's lease runs out).
    #[arg(long, default_value = "session")]
    scenario: String,
    /// With `--scenario expiry`: also draw the run as an SVG sequence diagram.
    #[arg(long)]
    svg: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !args.trace {
        eprintln!("ch03-sessions: run with --trace (and --bytes, --json, --seed N)");
        return ExitCode::from(2);
    }
    if args.scenario == "expiry" {
        return expiry(&args);
    }
    if args.scenario != "session" {
        eprintln!(
            "ch03-sessions: unknown scenario `{}` (session, expiry)",
            args.scenario
        );
        return ExitCode::from(2);
    }
    let events = match trace::run(TraceOptions {
        seed: args.seed,
        bytes: args.bytes,
    }) {
        Ok(events) => events,
        Err(e) => {
            eprintln!("ch03-sessions: the scripted session failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    print_events(&args, &events, colorize);
    ExitCode::SUCCESS
}

/// Each event on its line: JSON with `--json`, coloured on a terminal, plain when piped.
fn print_events<E: serde::Serialize + std::fmt::Display>(
    args: &Args,
    events: &[E],
    colorize: impl Fn(&E) -> String,
) {
    let color = !args.no_color && std::io::stdout().is_terminal();
    for event in events {
        if args.json {
            println!(
                "{}",
                serde_json::to_string(event).expect("events serialize")
            );
        } else if color {
            println!("{}", colorize(event));
        } else {
            println!("{event}");
        }
    }
}

/// The terminal rendering: the server's state changes stand out from the frames.
fn colorize(event: &Event) -> String {
    let line = event.to_string();
    match event {
        Event::Applied { .. } => line.yellow().bold().to_string(),
        Event::Frame { from, .. } if from == "keeper" => line.cyan().to_string(),
        Event::Frame { .. } => line.green().to_string(),
    }
}

/// `--scenario expiry`: the virtual-clock run, its lines and (with `--svg`) its diagram.
fn expiry(args: &Args) -> ExitCode {
    let events = ch03_sessions::expiry::run();
    print_events(args, &events, colorize_expiry);
    if let Some(path) = &args.svg {
        let svg =
            ch03_sessions::expiry::svg("ch03 expiry: a silent client's lease runs out", &events);
        if let Err(e) = std::fs::write(path, svg) {
            eprintln!("ch03-sessions: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// The expiry run on a terminal: leases and applied txns stand out, idle ticks fade, and the
/// lease running out is red.
fn colorize_expiry(event: &ExpiryEvent) -> String {
    let line = event.to_string();
    match event {
        ExpiryEvent::Applied { .. } | ExpiryEvent::Lease { .. } => line.yellow().bold(),
        ExpiryEvent::Tick { due, .. } if due.is_empty() => line.dimmed(),
        ExpiryEvent::Tick { .. } | ExpiryEvent::Silent { .. } | ExpiryEvent::Closed { .. } => {
            line.red().bold()
        }
        ExpiryEvent::Frame { from, .. } if from == "keeper" => line.cyan(),
        ExpiryEvent::Frame { .. } => line.green(),
    }
    .to_string()
}
