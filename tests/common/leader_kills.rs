//! How many servers may die: a `keeper cluster` whose leader is killed again and again until
//! the survivors can no longer serve a write.
//!
//! ZooKeeper serves writes while a majority of its voters is up: a leader needs a quorum to
//! be elected and to commit. The quickest way to watch that rule on real processes is to kill
//! the *leader* each time: its followers notice at once (their connection to it closes) and
//! start an election, which either ends with a new leader among the survivors or never ends.
//! Killing a follower instead would leave the leader to notice the lost quorum only after
//! `syncLimit` ticks (10 s with the course's settings).
//!
//! The caller says what it expects after each death (from the ensemble's quorum rule, or from
//! a student's answer); [`kill_leaders`] then waits, bounded, for exactly that: a new leader
//! and a write through a survivor read back from every survivor, or every survivor refusing.
//! A server that has no quorum answers `srvr` with "not currently serving"; that it *stays*
//! so cannot be seen in an instant, so a refusing cluster is watched for [`NO_QUORUM_WATCH`]
//! (many times the few milliseconds a Keeper election takes) and must refuse a real write.

use super::cluster::Cluster;
use super::wait_until;
use std::time::{Duration, Instant};

/// A Keeper election after a leader's death takes milliseconds; this bound is for a loaded
/// machine (and for a wrong expectation, which then fails here instead of hanging).
pub const ELECTION_TIMEOUT: Duration = Duration::from_secs(20);

/// How long a cluster without a quorum is watched for a leader that must not appear.
pub const NO_QUORUM_WATCH: Duration = Duration::from_secs(2);

/// What `srvr` answers on a server that has no leader to follow.
pub const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests";

/// What the cluster did after one more death.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Servers killed so far.
    pub dead: u64,
    /// Servers still running.
    pub alive: u64,
    /// Whether a write through a survivor succeeded (and every survivor read it back).
    pub served: bool,
}

/// Kills the leader of `cluster` again and again. `serves(dead)` says whether the survivors
/// should still serve writes with `dead` servers gone; after each death this waits for what it
/// said, and stops at the first death after which the cluster refuses. The steps seen, or what
/// the real cluster did instead of what was expected.
pub fn kill_leaders(cluster: &Cluster, serves: impl Fn(u64) -> bool) -> Result<Vec<Step>, String> {
    let mut alive: Vec<u64> = cluster.sids().collect();
    let mut steps = Vec::new();
    let mut leader = cluster
        .try_wait_for_leader(&alive, ELECTION_TIMEOUT)
        .map_err(|why| format!("the cluster never elected: {why}"))?;
    for dead in 0.. {
        let expected = serves(dead);
        let alive_count = alive.len() as u64;
        let served = if expected {
            leader = cluster
                .try_wait_for_leader(&alive, ELECTION_TIMEOUT)
                .map_err(|why| {
                    format!("{dead} dead, {alive_count} alive: expected a new leader, but {why}")
                })?;
            write_and_read_back(cluster, &alive, leader, dead)?;
            true
        } else {
            refuses(cluster, &alive).map_err(|why| {
                format!("{dead} dead, {alive_count} alive: expected no quorum, but {why}")
            })?;
            false
        };
        steps.push(Step {
            dead,
            alive: alive_count,
            served,
        });
        if !served || alive.len() == 1 {
            break;
        }
        cluster.ok(&["kill", &leader.to_string()]);
        alive.retain(|&sid| sid != leader);
    }
    Ok(steps)
}

/// A write through a follower (which forwards it to the leader), then read back on every
/// survivor: each applies the commit on its own, so each is waited for.
fn write_and_read_back(
    cluster: &Cluster,
    alive: &[u64],
    leader: u64,
    dead: u64,
) -> Result<(), String> {
    let through = alive
        .iter()
        .copied()
        .find(|&s| s != leader)
        .unwrap_or(leader);
    let path = format!("/after-{dead}-dead");
    if !cluster.create(through, &path, "served") {
        return Err(format!(
            "the write of {path} through server {through} failed"
        ));
    }
    for &sid in alive {
        wait_until(ELECTION_TIMEOUT, &format!("{path} on server {sid}"), || {
            (cluster.get(sid, &path).as_deref() == Some("served")).then_some(())
        })?;
    }
    Ok(())
}

/// Every survivor stops serving, none becomes leader while watched, and a write is refused.
fn refuses(cluster: &Cluster, alive: &[u64]) -> Result<(), String> {
    let not_serving = |sid: u64| {
        cluster
            .srvr(sid)
            .is_some_and(|answer| answer.contains(NOT_SERVING))
    };
    wait_until(ELECTION_TIMEOUT, "every survivor to stop serving", || {
        alive.iter().all(|&sid| not_serving(sid)).then_some(())
    })?;
    let until = Instant::now() + NO_QUORUM_WATCH;
    while Instant::now() < until {
        if let Some((sid, mode)) = alive
            .iter()
            .find_map(|&sid| cluster.mode(sid).map(|m| (sid, m)))
        {
            return Err(format!("server {sid} became {mode}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if cluster.create(alive[0], "/without-a-quorum", "lost") {
        return Err(format!("server {} accepted a write", alive[0]));
    }
    Ok(())
}
