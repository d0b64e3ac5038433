//! How many writes per second the Zab core commits in the simulator, with tracing off.
//!
//! Run: `cargo bench -p ch06-zab --bench zab_throughput`
//!
//! An ensemble of 3 (then 5) servers elects a leader; then 16 clients, spread over the
//! servers, each send 400 `setData` one after another (a client waits for each answer, as a
//! synchronous ZooKeeper client does). Every write is forwarded or proposed, logged on a
//! quorum's disks, committed, applied on every server and answered. The figure is committed
//! writes per second of the machine's time: what the protocol code (election, Zab, the
//! pipeline, the tree) and the simulator cost together, with no network or disk to wait for.

use std::sync::Arc;
use std::time::Instant;

use ch01_znode::Sid;
use ch04_paxos::sim::{Network, Sim};
use ch05_election::quorum::QuorumMaj;
use ch06_zab::peer::Config;
use ch06_zab::sim::{ClientNode, ClientOp, HistoryEvent, Node, Outcome, Script, ServerNode};

const CLIENTS: u64 = 16;
const WRITES: u64 = 400;

fn run(servers: u64) -> (u64, f64) {
    let sids: Vec<Sid> = (1..=servers).map(Sid).collect();
    let cfg = Config::new(Arc::new(QuorumMaj::new(sids.clone(), [])));
    let mut nodes: Vec<Node> = sids
        .iter()
        .map(|&sid| Node::Server(Box::new(ServerNode::new(sid, cfg.clone(), 1))))
        .collect();
    for k in 1..=CLIENTS {
        let server = sids[(k as usize) % sids.len()];
        let mut script = Script::new().at(2_000, ClientOp::Connect { server }).at(
            2_100,
            ClientOp::Create {
                path: format!("/c{k}"),
                data: String::new(),
                ephemeral: false,
            },
        );
        for i in 0..WRITES {
            script = script.at(
                2_200,
                ClientOp::SetData {
                    path: format!("/c{k}"),
                    data: format!("{i}"),
                    version: -1,
                },
            );
        }
        nodes.push(Node::Client(Box::new(ClientNode::new(
            k,
            sids.clone(),
            script,
        ))));
    }
    let net = Network {
        latency_min_ms: 1,
        latency_max_ms: 1,
        ..Network::default()
    };
    let mut sim = Sim::new(7, net, nodes, |n: &Node| n.recover()).tracing(false);
    let answered = |sim: &Sim<Node>| {
        (1..=CLIENTS)
            .map(|k| {
                let client = sim.node(ch04_paxos::sim::CLIENT_BASE + k);
                let history = client.client().expect("a client").history();
                history
                    .iter()
                    .filter(|e| {
                        matches!(
                            e,
                            HistoryEvent::Complete {
                                outcome: Outcome::Ok { .. },
                                ..
                            }
                        )
                    })
                    .count() as u64
            })
            .sum::<u64>()
    };
    let start = Instant::now();
    // Stop soon after the last answer (checked every 100 virtual ms, so the check costs
    // nothing): idle pings are not what is measured.
    let target = CLIENTS * (WRITES + 1);
    let mut t = 0;
    while answered(&sim) < target && t < 600_000 {
        t += 100;
        sim.run_until(t).expect("no invariants");
    }
    (answered(&sim), start.elapsed().as_secs_f64())
}

fn main() {
    for servers in [3, 5] {
        let (writes, secs) = run(servers);
        assert_eq!(writes, CLIENTS * (WRITES + 1), "every write was answered");
        println!(
            "zab_throughput: {servers} servers: {writes} writes committed in {secs:.2}s = {:.0} writes/s",
            writes as f64 / secs
        );
    }
}
