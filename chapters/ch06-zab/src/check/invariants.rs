//! The servers' promises: checked after every step, and once more when the run has settled.
//!
//! The idea to take away: Zab's safety is a statement about **every moment**, not about the
//! end. At no step may two leaders be established in one epoch, or a server that serves
//! clients hold a database whose txns are not a prefix of what every other such server holds
//! (a committed txn, once shown to a client, may never be replaced). These are checked after
//! every step of the simulator, on the ledger the servers write ([`crate::sim::ledger`]),
//! which also catches a zxid naming two txns and a server applying out of zxid order the
//! moment it happens. When the run has settled, every server must hold the same database,
//! built from the same txns, and that sequence becomes the witness for the clients' histories.

use std::collections::{BTreeMap, HashMap};

use ch01_znode::{Epoch, Sid, Txn, Zxid};
use ch03_sessions::pipeline::Database;
use ch04_paxos::sim::Sim;
use ch05_election::vote::ServerState;

use crate::sim::ledger::SharedLedger;
use crate::sim::{Node, ServerNode};

/// Every server of the run that is up.
fn up_servers(sim: &Sim<Node>) -> impl Iterator<Item = &ServerNode> {
    sim.nodes()
        .filter_map(Node::server)
        .filter(|s| sim.is_up(s.id()))
}

/// The ledger's own findings: a zxid that names two txns, a server applying out of order.
pub fn ledger_clean(ledger: SharedLedger) -> impl FnMut(&Sim<Node>) -> Result<(), String> {
    move |_| match ledger.borrow().violations().first() {
        Some(v) => Err(v.clone()),
        None => Ok(()),
    }
}

// ANCHOR: one_leader_per_epoch
/// At most one established leader per epoch (zab.md §4: a leader uses its epoch only once a
/// quorum has promised it, and a quorum promises an epoch to one leader).
pub fn one_leader_per_epoch() -> impl FnMut(&Sim<Node>) -> Result<(), String> {
    let mut leaders: BTreeMap<Epoch, Sid> = BTreeMap::new();
    move |sim| {
        for s in up_servers(sim) {
            let peer = s.peer();
            if peer.state() != ServerState::Leading || !peer.is_serving() {
                continue;
            }
            let epoch = peer.epochs().current;
            match leaders.get(&epoch) {
                Some(&other) if other != peer.sid() => {
                    return Err(format!(
                        "n{other} and n{} both established as leaders of epoch {epoch}",
                        peer.sid()
                    ))
                }
                Some(_) => {}
                None => {
                    leaders.insert(epoch, peer.sid());
                }
            }
        }
        Ok(())
    }
}
// ANCHOR_END: one_leader_per_epoch

// ANCHOR: prefixes_agree
/// Every server that serves clients (an established leader, a learner after UPTODATE) holds a
/// database whose lineage is a prefix of the longest lineage ever served, or extends it: what
/// was committed is never replaced (zab.md §5, the new leader's history is a quorum's).
pub fn committed_prefixes_agree(
    ledger: SharedLedger,
) -> impl FnMut(&Sim<Node>) -> Result<(), String> {
    let mut committed: Vec<Zxid> = Vec::new();
    // Per serving server: the lineage generation and how much of it is already checked.
    let mut checked: HashMap<Sid, (u64, usize)> = HashMap::new();
    move |sim| {
        let ledger = ledger.borrow();
        for s in sim.nodes().filter_map(Node::server) {
            let sid = s.peer().sid();
            if !sim.is_up(s.id()) || !s.peer().is_serving() {
                checked.remove(&sid);
                continue;
            }
            let Some(lineage) = ledger.lineage_ref(sid) else {
                continue;
            };
            let from = match checked.get(&sid) {
                Some(&(generation, n))
                    if generation == lineage.generation && n <= lineage.zxids.len() =>
                {
                    n
                }
                _ => 0,
            };
            for (i, z) in lineage.zxids.iter().enumerate().skip(from) {
                match committed.get(i) {
                    Some(c) if c != z => {
                        return Err(format!(
                            "n{sid} serves a database with {z} as its txn #{}, where a database served before had {c}",
                            i + 1
                        ))
                    }
                    Some(_) => {}
                    None => committed.push(*z),
                }
            }
            checked.insert(sid, (lineage.generation, lineage.zxids.len()));
        }
        Ok(())
    }
}
// ANCHOR_END: prefixes_agree

/// Whether the run has settled: past the faults, every client done, every server running and
/// serving, one leader followed by all, everyone at the same zxid.
pub fn settled(sim: &Sim<Node>, after: ch04_paxos::sim::Millis) -> bool {
    if sim.now() < after {
        return false;
    }
    if !sim.nodes().filter_map(Node::client).all(|c| c.is_done()) {
        return false;
    }
    let mut leader = None;
    let mut zxid = None;
    for s in sim.nodes().filter_map(Node::server) {
        let peer = s.peer();
        if !sim.is_up(s.id()) || !s.is_running() || !peer.is_serving() {
            return false;
        }
        match (leader, peer.leader()) {
            (_, None) => return false,
            (None, l) => leader = l,
            (Some(a), Some(b)) if a != b => return false,
            _ => {}
        }
        let z = peer.database().last_processed_zxid();
        match zxid {
            None => zxid = Some(z),
            Some(other) if other != z => return false,
            _ => {}
        }
    }
    true
}

/// Why the run has not settled, for the report.
pub fn unsettled(sim: &Sim<Node>) -> String {
    let mut parts = Vec::new();
    for s in sim.nodes().filter_map(Node::server) {
        let peer = s.peer();
        parts.push(format!(
            "n{}: {}{} {} leader {:?} at {}",
            peer.sid(),
            if sim.is_up(s.id()) { "" } else { "down " },
            peer.state(),
            if peer.is_serving() {
                "serving"
            } else {
                "not serving"
            },
            peer.leader().map(|l| l.0),
            peer.database().last_processed_zxid()
        ));
    }
    let busy: Vec<String> = sim
        .nodes()
        .filter_map(Node::client)
        .filter(|c| !c.is_done())
        .map(|c| {
            format!(
                "c{} ({})",
                c.id() - ch04_paxos::sim::CLIENT_BASE,
                c.status()
            )
        })
        .collect();
    if !busy.is_empty() {
        parts.push(format!("clients still busy: {}", busy.join(" ")));
    }
    parts.join("; ")
}

// ANCHOR: at_end
/// Once settled: every server holds the same database, built from the same txns, and that
/// database is what replaying those txns gives. Returns the committed sequence.
pub fn at_end(sim: &Sim<Node>, ledger: &SharedLedger) -> Result<Vec<Txn>, String> {
    let ledger = ledger.borrow();
    let servers: Vec<&ServerNode> = sim.nodes().filter_map(Node::server).collect();
    let first = servers.first().ok_or("no servers")?;
    let lineage = ledger.lineage(first.peer().sid());
    for s in &servers[1..] {
        let other = ledger.lineage(s.peer().sid());
        if other.zxids != lineage.zxids {
            return Err(format!(
                "n{} and n{} ended with databases built from different txns",
                first.peer().sid(),
                s.peer().sid()
            ));
        }
        if s.peer().database() != first.peer().database() {
            return Err(format!(
                "n{} and n{} ended with different databases",
                first.peer().sid(),
                s.peer().sid()
            ));
        }
    }
    let mut committed = Vec::with_capacity(lineage.zxids.len());
    let mut replayed = Database::default();
    for z in &lineage.zxids {
        let txn = ledger
            .txn(*z)
            .ok_or_else(|| format!("{z} is in the lineage but no server ever had its txn"))?;
        replayed.apply(txn);
        committed.push(txn.clone());
    }
    if &replayed != first.peer().database() {
        return Err("the final database is not what replaying its txns gives".into());
    }
    Ok(committed)
}
// ANCHOR_END: at_end
