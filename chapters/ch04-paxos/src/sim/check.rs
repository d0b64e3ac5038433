//! Checking many seeds, and reporting a broken invariant so a human can replay it.
//!
//! One seed is one run with its own latencies, losses and crash timings. A protocol is only
//! believable after thousands of them. [`check_seeds`] runs a range of seeds with tracing off
//! (fast), and when one fails it runs that seed again with tracing on, so the report carries the
//! trace that leads to the violation. [`shortest_violation`] keeps searching and returns the
//! failing seed that breaks the invariant in the fewest steps: the easiest story to read.

use std::fmt;

use super::{Millis, Process, Sim};

/// An invariant that failed: which, why, when, and how to see it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The invariant's name.
    pub invariant: String,
    /// What the invariant said was wrong.
    pub message: String,
    /// The seed of the failing run.
    pub seed: u64,
    /// Virtual time of the failing step.
    pub at: Millis,
    /// How many steps the run took to fail.
    pub steps: u64,
    /// The plain trace up to and including the failing step (when tracing was on).
    pub trace: Option<String>,
    /// The command that replays the run.
    pub replay: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "invariant `{}` violated at {}ms (seed {}, step {}): {}",
            self.invariant, self.at, self.seed, self.steps, self.message
        )?;
        match &self.trace {
            Some(trace) => writeln!(f, "trace up to the violation:\n{trace}")?,
            None => writeln!(f, "(run with tracing on to see the trace)")?,
        }
        write!(f, "replay it: {}", self.replay)
    }
}

/// Run `build(seed)` up to `deadline` for every seed. Returns how many runs passed, or the first
/// violation, with its trace (the seed is re-run with tracing on if it was off).
pub fn check_seeds<P: Process>(
    seeds: impl IntoIterator<Item = u64>,
    deadline: Millis,
    build: impl Fn(u64) -> Sim<P>,
) -> Result<u64, Box<Violation>> {
    let mut passed = 0;
    for seed in seeds {
        if let Err(v) = build(seed).run_until(deadline) {
            return Err(with_trace(v, deadline, &build));
        }
        passed += 1;
    }
    Ok(passed)
}

/// Run every seed and return the violation reached in the fewest steps (ties: the lowest seed),
/// with its trace; `None` if every seed passed.
pub fn shortest_violation<P: Process>(
    seeds: impl IntoIterator<Item = u64>,
    deadline: Millis,
    build: impl Fn(u64) -> Sim<P>,
) -> Option<Box<Violation>> {
    let best = seeds
        .into_iter()
        .filter_map(|seed| build(seed).run_until(deadline).err())
        .min_by_key(|v| (v.steps, v.seed))?;
    Some(with_trace(best, deadline, &build))
}

fn with_trace<P: Process>(
    v: Box<Violation>,
    deadline: Millis,
    build: &impl Fn(u64) -> Sim<P>,
) -> Box<Violation> {
    if v.trace.is_some() {
        return v;
    }
    build(v.seed)
        .tracing(true)
        .run_until(deadline)
        .expect_err("a seed fails the same way every time it is run")
}
