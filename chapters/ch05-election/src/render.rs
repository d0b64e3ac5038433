//! How a run is shown: a header saying what to watch for, the story one
//! event per line, and at the end what `zkServer.sh status` prints on each
//! server. Plain text is what the snapshots (and the book) hold; the
//! coloured form has the same characters.

use crate::sim::{ElectionEntry, Run, Setup};
use ch04_paxos::sim::render::{colored_line, Filter};
use colored::Colorize;

/// What the story shows: deliveries, drops, notes, state changes and fired
/// timers; not the sends (each delivery names its sender) nor every timer
/// re-arm.
pub const FILTER: Filter = Filter {
    sends: false,
    timer_sets: false,
};

/// The first line: which scenario, which seed, what to watch for.
pub fn header(setup: &Setup, seed: u64) -> String {
    format!(
        "scenario {} (seed {seed}): {}",
        setup.name.as_str(),
        setup.about
    )
}

/// One story line, plain or coloured.
pub fn line(e: &ElectionEntry, color: bool) -> Option<String> {
    FILTER.shows(&e.event).then(|| {
        if color {
            colored_line(e)
        } else {
            e.to_string()
        }
    })
}

/// The closing block: `zkServer.sh status` on every server.
pub fn status(run: &Run, color: bool) -> String {
    let mut out = String::from("zkServer.sh status, on each server:\n");
    for (sid, line) in &run.status {
        let line = match line.as_str() {
            _ if !color => line.clone(),
            "Mode: leader" => line.green().bold().to_string(),
            l if l.starts_with("Mode:") => line.cyan().to_string(),
            _ => line.red().to_string(),
        };
        out.push_str(&format!("  n{sid}  {line}\n"));
    }
    if !run.settled {
        out.push_str("(the deadline passed before every server decided)\n");
    }
    out
}

/// The whole transcript of a run: header, story, statuses.
pub fn transcript(setup: &Setup, seed: u64, run: &Run, color: bool) -> String {
    let mut out = header(setup, seed);
    out.push_str("\n\n");
    for l in run.story.iter().filter_map(|e| line(e, color)) {
        out.push_str(&l);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&status(run, color));
    out
}
