//! The command-line flags every simulated chapter shares.
//!
//! A reader who learns `--seed 7 --no-color --step` in chapter 4 can type the
//! same words in chapter 5 (and later in chapter 6): each chapter's `main`
//! flattens these into its own arguments and adds only what is its own
//! (`--scenario`, `--servers`, ...).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use super::checker::{Checkable, Order, Outcome, Search, Walks};
use super::Scenario;

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
    /// Classroom mode: you are the network. Choose which pending message to deliver or timer
    /// to fire, drop or duplicate messages, crash, restart, partition, step back, save.
    #[arg(long)]
    pub step: bool,
    /// Add this scenario file's timed faults (`at 40 crash n3`), then replay its `steps` (a
    /// session `--step` saved).
    #[arg(long, value_name = "FILE", alias = "faults")]
    pub scenario_file: Option<PathBuf>,
    /// Also draw the run as an SVG sequence diagram in FILE.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
}

impl SimFlags {
    /// Colour only for a person at a terminal: never in JSON, a pipe or with `--no-color`.
    pub fn wants_color(&self) -> bool {
        !self.no_color && !self.json && std::io::stdout().is_terminal()
    }

    /// The `--scenario-file`, read and parsed (an empty scenario without one).
    pub fn read_scenario_file<M, T>(&self) -> Result<Scenario<M, T>, String> {
        let Some(path) = &self.scenario_file else {
            return Ok(Scenario::new());
        };
        std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
            .and_then(|text| Scenario::parse(&text))
    }
}

/// `--model-check`'s bounds and output, the same words in every chapter that checks its
/// cluster: how deep to look, and where a counterexample goes.
#[derive(clap::Args, Debug, Clone)]
pub struct CheckFlags {
    /// --model-check: explore paths of at most this many steps (default: every path; from the
    /// model's starting state where a chapter starts past an election).
    #[arg(long, value_name = "N")]
    pub depth: Option<usize>,
    /// --model-check: where to write a counterexample, as a scenario file.
    #[arg(long, value_name = "FILE", default_value = "counterexample.txt")]
    pub counterexample: PathBuf,
    /// --model-check: instead of every path, this many random walks (their choices drawn from
    /// --seed), for bugs deeper than breadth first reaches; a counterexample is shrunk.
    #[arg(long, value_name = "N")]
    pub walks: Option<usize>,
    /// --model-check --walks: the most steps one walk takes.
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub walk_steps: usize,
    /// --model-check: search depth first, holding only the states beside one path (far less
    /// memory than breadth first, for an exhaustive census). A counterexample found is then
    /// not the shortest, and with --depth a state first reached past the limit may be missed.
    #[arg(long)]
    pub depth_first: bool,
    /// --model-check: search on N threads. With more than one, breadth first's first
    /// counterexample may not be the shortest either.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub threads: usize,
    /// --model-check: serve stateright's explorer on 127.0.0.1:PORT instead (browse the
    /// states by hand), until interrupted.
    #[arg(long, value_name = "PORT")]
    pub explore: Option<u16>,
}

impl CheckFlags {
    /// `--model-check` as the flags ask, for any chapter's model: the web explorer on
    /// `--explore`'s port, or else the search they name, given to `run` with the
    /// counterexample's file name, and what it found. `replay` is the command a counterexample
    /// prints to replay itself.
    pub fn check<P: Checkable>(
        &self,
        seed: u64,
        explore: impl FnOnce(u16) -> ExitCode,
        run: impl FnOnce(Search, &str) -> Result<Outcome<P>, String>,
        replay: &str,
    ) -> ExitCode {
        if let Some(port) = self.explore {
            return explore(port);
        }
        let outcome = run(self.search(seed), &self.counterexample.display().to_string());
        self.finish(outcome, replay)
    }

    /// The search the flags ask for: walks seeded by `seed`, or every path to `--depth`.
    fn search(&self, seed: u64) -> Search {
        match self.walks {
            Some(walks) => Search::Walks(Walks { walks, steps: self.walk_steps, seed }),
            None => Search::Every {
                max_depth: self.depth,
                order: match self.depth_first {
                    true => Order::DepthFirst,
                    false => Order::BreadthFirst,
                },
                threads: self.threads.max(1),
            },
        }
    }

    /// What `--model-check` prints for a finished check (see [`Outcome::print_and_save`]), or
    /// why it could not check (a start that is no path of the model, a counterexample that did
    /// not replay); `replay` is the replay command.
    fn finish<P: Checkable>(&self, outcome: Result<Outcome<P>, String>, replay: &str) -> ExitCode {
        match outcome {
            Ok(outcome) => outcome.print_and_save(&self.counterexample, replay),
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    }
}
