//! The fault model: one seed, one ensemble, one set of clients, one run of bad luck.
//!
//! The idea to take away: a checker is only as good as the runs it sees, so the faults are
//! chosen to reach every path of the protocol. Each seed draws an ensemble (3 or 5 voters,
//! sometimes an observer, disks of different speeds, servers switched on one by one), a few
//! clients doing random work against random servers, and twenty seconds of trouble: lost,
//! duplicated, reordered and delayed messages (each one breaks a connection), a slow network
//! for a while, crashes and restarts, partitions that cut a leader or a follower off with some
//! clients. The disks fail too ([`crate::sim::disk_faults`]): a crash keeps only what was
//! fsynced and a prefix of the rest, perhaps torn; sometimes an fsync fails or a disk fills up
//! for a while, and the server stops; sometimes the power fails everywhere at once, and only
//! what each disk had fsynced survives. Half the runs take a fuzzy snapshot every few txns,
//! walked while txns go on being applied. The timeouts are short (a 500 ms tick) so that leaders come and go many times in
//! that window, and the DIFF window is small so that a follower that fell behind gets a SNAP.
//! Then the network heals, every server is switched back on, and the run goes on until it
//! settles: one leader, everyone following it at the same zxid, every client done.

use std::sync::Arc;

use ch01_znode::Sid;
use ch03_sessions::pipeline::Limits;
use ch04_paxos::sim::{Millis, Network, NodeId, Rng, Scenario, Sim, CLIENT_BASE};
use ch05_election::quorum::QuorumMaj;

use crate::peer::{Config, Flaw};
use crate::sim::ledger::{Ledger, SharedLedger};
use crate::sim::{ClientNode, DiskFaults, Node, RandomWork, ServerNode, SimTimer, Wire};

/// Faults happen during the first 20 s.
pub const FAULTY_MS: Millis = 20_000;
/// After the heal, the run must settle within this long.
pub const SETTLE_MS: Millis = 120_000;
/// And within this many steps: a run takes a few thousand, and one that takes this many has
/// messages multiplying faster than simulated time passes (the deadline would come only after
/// more steps than any machine can take).
pub const MAX_STEPS: u64 = 1_000_000;

/// One seed's run, ready to go.
pub struct Run {
    /// The simulation, invariants not attached yet.
    pub sim: Sim<Node>,
    /// What its servers write for the checkers.
    pub ledger: SharedLedger,
    /// The voters.
    pub servers: u64,
}

/// The command that replays `seed` (with the deliberate bug, if the run had it, and the
/// snapshots as the run was told to take them).
pub fn replay_command(
    seed: u64,
    servers: u64,
    flaw: Option<Flaw>,
    snapshots: Option<bool>,
) -> String {
    let flaw = match flaw {
        Some(Flaw::AckBeforeFsync) => " --flaw ack-before-fsync",
        Some(Flaw::LogSyncAfterUpToDate) => " --flaw log-sync-after-up-to-date",
        None => "",
    };
    let snapshots = match snapshots {
        Some(true) => " --snapshots on",
        Some(false) => " --snapshots off",
        None => "",
    };
    format!(
        "cargo run --release -p ch06-zab -- --check --servers {servers} --seed {seed}{flaw}{snapshots} --trace"
    )
}

// ANCHOR: build
/// The run of `seed` with `servers` voters, and a deliberate bug if `flaw` names one.
/// `snapshots` says whether the servers take periodic snapshots (`None`: as the seed draws).
pub fn build(seed: u64, servers: u64, flaw: Option<Flaw>, snapshots: Option<bool>) -> Run {
    let mut rng = Rng::new(seed ^ 0x2ab_c4ec);
    // The disks' faults come from a stream of their own, so that the rest of a seed's run
    // is what it was before disks could fail.
    let mut disk_rng = Rng::new(seed ^ 0xd15c_fa17);
    // So do the snapshots.
    let mut snap_rng = Rng::new(seed ^ 0x5a4b_5407);
    let voters: Vec<Sid> = (1..=servers).map(Sid).collect();
    let observers: Vec<Sid> = match rng.chance(0.2) {
        true => vec![Sid(servers + 1)],
        false => vec![],
    };
    let qv = Arc::new(QuorumMaj::new(voters.clone(), observers.clone()));
    let mut cfg = Config::new(qv);
    cfg.tick_ms = 500;
    cfg.sync_limit = rng.between(2, 5) as u32;
    cfg.commit_log_count = rng.between(3, 40) as usize;
    cfg.limits = Limits::for_tick(cfg.tick_ms as u32);
    cfg.flaw = flaw;
    // Half the runs snapshot every few txns, each server on its own schedule; a walk spans
    // many steps (`sim::fuzzy`), so their txns land inside it.
    let drawn = snap_rng.chance(0.5);
    if snapshots.unwrap_or(drawn) {
        cfg.snap_count = snap_rng.between(4, 40) as u32;
    }
    let ledger = Ledger::shared();
    let all: Vec<Sid> = voters.iter().chain(&observers).copied().collect();
    let mut nodes: Vec<Node> = all
        .iter()
        .map(|&sid| {
            let mut cfg = cfg.clone();
            cfg.snap_seed = snap_rng.next_u64();
            let server = ServerNode::new(sid, cfg, rng.between(1, 20))
                .starting_at(rng.between(0, 1_500))
                .with_disk_faults(disk_faults(&mut disk_rng))
                .with_ledger(Arc::clone(&ledger));
            Node::Server(Box::new(server))
        })
        .collect();
    for k in 1..=rng.between(2, 4) {
        let work = RandomWork::new(
            rng.next_u64(),
            rng.between(500, 4_000),
            rng.between(10, 40) as u32,
        );
        let timeout_ms = rng.between(3_000, 10_000) as i32;
        let client = ClientNode::random(k, all.clone(), work, timeout_ms);
        nodes.push(Node::Client(Box::new(client)));
    }
    let ids: Vec<NodeId> = nodes.iter().map(ch04_paxos::sim::Process::id).collect();
    let scenario = power_failure(&mut disk_rng, faults(&mut rng, &ids), &ids);
    let sim = Sim::new(seed, Network::default(), nodes, Node::recover)
        .tracing(false)
        .replay_command(replay_command(seed, servers, flaw, snapshots))
        .with_scenario(scenario);
    Run {
        sim,
        ledger,
        servers,
    }
}
// ANCHOR_END: build

// ANCHOR: disk_faults
/// One server's disk: now and then an fsync that fails, or a few seconds of a full disk,
/// always over before the heal.
fn disk_faults(rng: &mut Rng) -> DiskFaults {
    let mut faults = DiskFaults {
        write_back: true,
        seed: rng.next_u64(),
        ..DiskFaults::default()
    };
    if rng.chance(0.1) {
        let at = rng.between(0, FAULTY_MS - 5_000);
        faults.full = Some((at, at + rng.between(500, 5_000)));
    }
    if rng.chance(0.1) {
        faults.fsync_fails.push(rng.between(0, FAULTY_MS - 5_000));
    }
    faults
}

/// Sometimes the power fails: every server crashes at the same moment, so that nothing but
/// what the disks had fsynced is left anywhere, and they come back one by one.
fn power_failure(
    rng: &mut Rng,
    mut s: Scenario<Wire, SimTimer>,
    ids: &[NodeId],
) -> Scenario<Wire, SimTimer> {
    if rng.chance(0.25) {
        let at = rng.between(1_000, FAULTY_MS - 4_000);
        for &id in ids.iter().filter(|&&id| id < CLIENT_BASE) {
            s = s.crash(at, id).restart(at + rng.between(100, 3_000), id);
        }
    }
    s
}
// ANCHOR_END: disk_faults

// ANCHOR: faults
/// Twenty seconds of trouble, then a clean network with every server running.
fn faults(rng: &mut Rng, ids: &[NodeId]) -> Scenario<Wire, SimTimer> {
    let servers: Vec<NodeId> = ids.iter().copied().filter(|&id| id < CLIENT_BASE).collect();
    let clients: Vec<NodeId> = ids
        .iter()
        .copied()
        .filter(|&id| id >= CLIENT_BASE)
        .collect();
    let pick = |rng: &mut Rng, from: &[f64]| from[rng.between(0, from.len() as u64 - 1) as usize];
    // Links keep order, as TCP does, except in a window where messages may overtake each
    // other (the connections' sequence numbers turn that into broken connections).
    let mut s = Scenario::new()
        .fifo(0, true)
        .latency(0, 1, rng.between(3, 30))
        .drop_rate(0, pick(rng, &[0.0, 0.0, 0.001, 0.005, 0.02]))
        .duplicate_rate(0, pick(rng, &[0.0, 0.01, 0.05]));
    if rng.chance(0.3) {
        let at = rng.between(0, FAULTY_MS);
        s = s
            .fifo(at, false)
            .reorder_rate(at, pick(rng, &[0.01, 0.05, 0.2]))
            .fifo(at + rng.between(200, 3_000), true);
    }
    if rng.chance(0.3) {
        // A slow network for a while: messages take up to 300 ms.
        let at = rng.between(0, FAULTY_MS);
        s = s
            .latency(at, 50, 300)
            .latency(at + rng.between(500, 5_000), 1, 20);
    }
    for _ in 0..rng.between(0, 3) {
        let at = rng.between(0, FAULTY_MS);
        let node = servers[rng.between(0, servers.len() as u64 - 1) as usize];
        s = s.crash(at, node).restart(at + rng.between(50, 6_000), node);
    }
    for _ in 0..rng.between(0, 2) {
        let at = rng.between(0, FAULTY_MS);
        let mut cut: Vec<NodeId> = servers
            .iter()
            .copied()
            .filter(|_| rng.chance(0.4))
            .collect();
        if cut.is_empty() {
            continue;
        }
        cut.extend(clients.iter().copied().filter(|_| rng.chance(0.5)));
        s = s
            .partition(at, vec![cut])
            .heal(at + rng.between(300, 8_000));
    }
    s = s
        .heal(FAULTY_MS)
        .drop_rate(FAULTY_MS, 0.0)
        .duplicate_rate(FAULTY_MS, 0.0)
        .reorder_rate(FAULTY_MS, 0.0)
        .fifo(FAULTY_MS, true)
        .latency(FAULTY_MS, 1, 10);
    for &id in &servers {
        s = s.restart(FAULTY_MS, id);
    }
    s
}
// ANCHOR_END: faults
