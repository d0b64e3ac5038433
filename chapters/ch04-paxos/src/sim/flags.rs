//! The command-line flags every simulated chapter shares.
//!
//! A reader who learns `--seed 7 --no-color --step` in chapter 4 can type the
//! same words in chapter 5 (and later in chapter 6): each chapter's `main`
//! flattens these into its own arguments and adds only what is its own
//! (`--scenario`, `--servers`, ...).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// How to run and show one simulated run.
#[derive(clap::Args, Debug, Clone)]
pub struct SimFlags {
    /// The seed for every random choice of the run; the same seed replays the same run.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// One JSON object per event instead of text.
    #[arg(long)]
    pub json: bool,
    /// Plain text even on a terminal.
    #[arg(long)]
    pub no_color: bool,
    /// Classroom mode: print one event, wait for Enter, repeat.
    #[arg(long)]
    pub step: bool,
    /// Also draw the run as an SVG sequence diagram in FILE.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
}

impl SimFlags {
    /// Colour only for a person at a terminal: never in JSON, a pipe or with `--no-color`.
    pub fn wants_color(&self) -> bool {
        !self.no_color && !self.json && std::io::stdout().is_terminal()
    }
}

/// `--step`'s pause: a prompt, then the reader's line. `false` once they type `q` or their
/// input ends: stop stepping.
pub fn pause(lines: &mut impl Iterator<Item = std::io::Result<String>>) -> bool {
    print!("  ⏎ ");
    let _ = std::io::stdout().flush();
    matches!(lines.next(), Some(Ok(line)) if line.trim() != "q")
}
