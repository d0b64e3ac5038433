//! Zab over thousands of faulty runs: the servers' invariants and the clients' histories.
//!
//! The idea to take away: a protocol is believable after it has survived ten thousand runs of
//! bad luck and every one of them was checked, at every step and at the end, against what it
//! promises. One seed is one run ([`faults`]): an ensemble, random clients, twenty seconds of
//! faults, then a heal and a wait until everything has settled. While it runs, the
//! simulator checks the servers' invariants after every step ([`invariants`]); when it has
//! settled, every server must hold the same database, and the clients' histories are checked
//! against the committed sequence as a witness ([`history`], against the specification in
//! [`model`]). A failing seed is reported with the command that replays it, trace included.
//!
//! ```text
//! cargo run --release -p ch06-zab -- --check --seeds 10000             # 3 and 5 servers
//! cargo run --release -p ch06-zab -- --check --seed 42 --servers 5 --trace
//! ```
//!
//! # Layout
//! - [`faults`]: one seed's ensemble, clients and faults.
//! - [`invariants`]: the per-step invariants and the end-of-run agreement.
//! - [`model`]: the specification of the namespace the clients use.
//! - [`history`]: the client-history checks (linearizable writes, FIFO, read-your-writes,
//!   `sync`, watches, CAS), with the committed sequence as witness.

pub mod faults;
pub mod history;
pub mod invariants;
pub mod model;

use std::collections::BTreeMap;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

use ch04_paxos::sim::Sim;

use crate::peer::Flaw;
use crate::sim::{HistoryEvent, Node, Outcome};
use faults::{build, replay_command, Run, FAULTY_MS, MAX_STEPS, SETTLE_MS};
use history::{ClientHistory, Verdict};

/// A seed that broke a promise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The seed.
    pub seed: u64,
    /// Voters in the run.
    pub servers: u64,
    /// The promise broken (an invariant's or a check's name).
    pub check: String,
    /// What happened.
    pub message: String,
    /// The deliberate bug the run had, if any.
    pub flaw: Option<Flaw>,
    /// Whether the run was told to take periodic snapshots or not (`None`: as drawn).
    pub snapshots: Option<bool>,
}

impl Failure {
    /// The command that replays the run, with its trace.
    pub fn replay(&self) -> String {
        replay_command(self.seed, self.servers, self.flaw, self.snapshots)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "seed {} ({} servers): `{}` broken: {}",
            self.seed, self.servers, self.check, self.message
        )?;
        write!(f, "  replay: {}", self.replay())
    }
}

/// How one seed went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeedResult {
    /// Every promise kept; what the run went through.
    Passed(BTreeMap<&'static str, u64>),
    /// A promise broken.
    Failed(Failure),
    /// The history checker could not decide (never counted as passed).
    Unknown { seed: u64, why: String },
}

/// What a run of many seeds found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Seeds run.
    pub seeds: u64,
    /// Seeds that kept every promise.
    pub passed: u64,
    /// Seeds that broke one.
    pub failures: Vec<Failure>,
    /// Seeds the history checker could not decide.
    pub unknown: Vec<(u64, String)>,
    /// What the passing runs went through, summed.
    pub totals: BTreeMap<&'static str, u64>,
}

impl Report {
    /// Whether every seed passed.
    pub fn is_clean(&self) -> bool {
        self.passed == self.seeds
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for failure in &self.failures {
            writeln!(f, "{failure}")?;
        }
        for (seed, why) in &self.unknown {
            writeln!(f, "seed {seed}: unknown: {why}")?;
        }
        writeln!(
            f,
            "{} seeds: {} passed, {} failed, {} unknown",
            self.seeds,
            self.passed,
            self.failures.len(),
            self.unknown.len()
        )?;
        let totals: Vec<String> = self
            .totals
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        write!(f, "the passing runs went through: {}", totals.join(", "))
    }
}

// ANCHOR: run
/// Runs every seed with `servers` voters (`None`: 3 for even seeds, 5 for odd ones).
pub fn run(seeds: impl IntoIterator<Item = u64>, servers: Option<u64>) -> Report {
    run_with(seeds, servers, None, None)
}

/// [`run`], with a deliberate bug in every server if `flaw` names one, and periodic
/// snapshots as `snapshots` says ([`run_seed_with`]).
pub fn run_with(
    seeds: impl IntoIterator<Item = u64>,
    servers: Option<u64>,
    flaw: Option<Flaw>,
    snapshots: Option<bool>,
) -> Report {
    let mut report = Report::default();
    for seed in seeds {
        report.seeds += 1;
        match run_seed_with(seed, servers.unwrap_or(servers_for(seed)), flaw, snapshots) {
            SeedResult::Passed(counts) => {
                report.passed += 1;
                for (k, v) in counts {
                    *report.totals.entry(k).or_default() += v;
                }
            }
            SeedResult::Failed(failure) => report.failures.push(failure),
            SeedResult::Unknown { seed, why } => report.unknown.push((seed, why)),
        }
    }
    report
}
// ANCHOR_END: run

/// 3 voters for even seeds, 5 for odd ones.
pub fn servers_for(seed: u64) -> u64 {
    match seed % 2 {
        0 => 3,
        _ => 5,
    }
}

/// One seed, with every check; a panic in the core is a failure too.
pub fn run_seed(seed: u64, servers: u64) -> SeedResult {
    run_seed_with(seed, servers, None, None)
}

/// [`run_seed`], with a deliberate bug in every server if `flaw` names one, and the servers
/// taking periodic snapshots if `snapshots` says so, never if it says not, as the seed draws
/// if it is `None`. A seed that found a bug before runs took snapshots keeps the run that
/// found it with `Some(false)`.
pub fn run_seed_with(
    seed: u64,
    servers: u64,
    flaw: Option<Flaw>,
    snapshots: Option<bool>,
) -> SeedResult {
    let run = || run_checked(build(seed, servers, flaw, snapshots));
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(Ok(counts)) => SeedResult::Passed(counts),
        Ok(Err(Broken::Check(check, message))) => SeedResult::Failed(Failure {
            seed,
            servers,
            check,
            message,
            flaw,
            snapshots,
        }),
        Ok(Err(Broken::Unknown(why))) => SeedResult::Unknown { seed, why },
        Err(panic) => SeedResult::Failed(Failure {
            seed,
            servers,
            flaw,
            snapshots,
            check: "no panic".into(),
            message: panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic".into()),
        }),
    }
}

/// One seed, traced: the run (as far as it got) and how it went, for `--trace`.
pub fn replay(
    seed: u64,
    servers: u64,
    flaw: Option<Flaw>,
    snapshots: Option<bool>,
) -> (Sim<Node>, SeedResult) {
    let mut run = build(seed, servers, flaw, snapshots);
    run.sim = run.sim.tracing(true);
    let ledger = run.ledger.clone();
    let mut sim = attach(run.sim, &ledger);
    let result = match settle(&mut sim, MAX_STEPS) {
        Err(b) => b,
        Ok(()) => match finish(&sim, &ledger) {
            Ok(counts) => return (sim, SeedResult::Passed(counts)),
            Err(b) => b,
        },
    };
    let result = match result {
        Broken::Check(check, message) => SeedResult::Failed(Failure {
            seed,
            servers,
            check,
            message,
            flaw,
            snapshots,
        }),
        Broken::Unknown(why) => SeedResult::Unknown { seed, why },
    };
    (sim, result)
}

enum Broken {
    Check(String, String),
    Unknown(String),
}

fn attach(sim: Sim<Node>, ledger: &crate::sim::ledger::SharedLedger) -> Sim<Node> {
    sim.invariant(
        "one txn per zxid, applied in zxid order",
        invariants::ledger_clean(ledger.clone()),
    )
    .invariant(
        "one established leader per epoch",
        invariants::one_leader_per_epoch(),
    )
    .invariant(
        "committed prefixes agree",
        invariants::committed_prefixes_agree(ledger.clone()),
    )
}

fn run_checked(run: Run) -> Result<BTreeMap<&'static str, u64>, Broken> {
    let Run { sim, ledger, .. } = run;
    let mut sim = attach(sim, &ledger);
    settle(&mut sim, MAX_STEPS)?;
    finish(&sim, &ledger)
}

fn settle(sim: &mut Sim<Node>, max_steps: u64) -> Result<(), Broken> {
    let mut steps: u64 = 0;
    let settled = sim.run_until_condition(FAULTY_MS + SETTLE_MS, |sim| {
        steps += 1;
        steps > max_steps || invariants::settled(sim, FAULTY_MS)
    });
    if steps > max_steps {
        return Err(Broken::Check(
            "settles after the heal".into(),
            format!(
                "still running after {max_steps} steps, at {}ms: {}",
                sim.now(),
                invariants::unsettled(sim)
            ),
        ));
    }
    match settled {
        Ok(true) => Ok(()),
        Ok(false) => Err(Broken::Check(
            "settles after the heal".into(),
            invariants::unsettled(sim),
        )),
        Err(v) => Err(Broken::Check(
            v.invariant.clone(),
            format!("at {}ms: {}", v.at, v.message),
        )),
    }
}

// ANCHOR: finish
/// The settled run: the servers agree, then the clients' histories are checked with what
/// they agree on as the witness.
fn finish(
    sim: &Sim<Node>,
    ledger: &crate::sim::ledger::SharedLedger,
) -> Result<BTreeMap<&'static str, u64>, Broken> {
    let committed = invariants::at_end(sim, ledger)
        .map_err(|why| Broken::Check("servers agree at the end".into(), why))?;
    let clients: Vec<ClientHistory> = sim
        .nodes()
        .filter_map(Node::client)
        .map(|c| (c.id() - ch04_paxos::sim::CLIENT_BASE, c.history().to_vec()))
        .collect();
    match history::check(&clients, Some(&committed)) {
        Verdict::Ok => {}
        Verdict::Unknown(why) => return Err(Broken::Unknown(why)),
        Verdict::Violations(findings) => {
            let first = findings[0].check.to_string();
            let text: Vec<String> = findings.iter().map(|f| f.to_string()).collect();
            return Err(Broken::Check(first, text.join("\n  ")));
        }
    }
    let mut counts = ledger.borrow().counts().clone();
    counts.insert("txns committed", committed.len() as u64);
    for (_, events) in &clients {
        for e in events {
            let what = match e {
                HistoryEvent::Complete {
                    outcome: Outcome::Ok { .. } | Outcome::Err { .. },
                    ..
                } => "requests answered",
                HistoryEvent::Complete {
                    outcome: Outcome::Lost,
                    ..
                } => "requests lost",
                HistoryEvent::Disconnected { .. } => "client disconnections",
                HistoryEvent::Expired { .. } => "sessions expired",
                HistoryEvent::Watch { .. } => "watch events",
                _ => continue,
            };
            *counts.entry(what).or_default() += 1;
        }
    }
    Ok(counts)
}
// ANCHOR_END: finish

#[cfg(test)]
mod tests {
    use super::*;

    /// A run that is still going after its step budget fails its seed, naming the budget,
    /// instead of holding up the sweep (the runs that once never ended took millions).
    #[test]
    fn a_run_past_its_step_budget_fails_instead_of_running_on() {
        let run = build(1, 3, None, None);
        let ledger = run.ledger.clone();
        let mut sim = attach(run.sim, &ledger);
        match settle(&mut sim, 100) {
            Err(Broken::Check(check, message)) => {
                assert_eq!(check, "settles after the heal");
                assert!(
                    message.contains("still running after 100 steps"),
                    "{message}"
                );
            }
            _ => panic!("a run of a hundred steps cannot have settled"),
        }
    }
}
