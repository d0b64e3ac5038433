//! How many messages per second the simulator delivers, with tracing off.
//!
//! Run: `cargo bench -p ch04-paxos --bench sim_throughput`
//!
//! Five nodes pass tokens around: every delivered message makes its receiver send one message
//! to the next node, over a network with 1..=5ms random latency. So the figure is the cost of the
//! simulator itself (queue, RNG, bookkeeping), which bounds how many seeds a test can check.
//! A second figure runs whole single-decree Paxos instances, to show what a seed costs.

use std::fmt;
use std::time::Instant;

use ch04_paxos::sim::{Input, Network, NodeId, Output, Process, Sim};
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
struct Token(u64);
impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "token {}", self.0)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
struct NoTimer;
impl fmt::Display for NoTimer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("none")
    }
}

struct Passer {
    id: NodeId,
    n: u64,
}

impl Process for Passer {
    type Msg = Token;
    type Timer = NoTimer;
    type Note = Token;
    fn id(&self) -> NodeId {
        self.id
    }
    fn step(&mut self, input: Input<Token, NoTimer>) -> Vec<Output<Token, NoTimer, Token>> {
        let next = self.id % self.n + 1;
        match input {
            // Each node starts four tokens, so 20 are in flight at once.
            Input::Start => (0..4).map(|k| Output::Send { to: next, msg: Token(k) }).collect(),
            Input::Receive { msg, .. } => vec![Output::Send { to: next, msg: Token(msg.0 + 1) }],
            Input::Timeout(_) => Vec::new(),
        }
    }
    fn status(&self) -> String {
        String::from("PASSING")
    }
}

fn main() {
    let n = 5;
    let net = Network { latency_min_ms: 1, latency_max_ms: 5, ..Network::default() };
    let nodes: Vec<Passer> = (1..=n).map(|id| Passer { id, n }).collect();
    let mut sim = Sim::new(7, net, nodes, |p: &Passer| Passer { id: p.id, n: p.n }).tracing(false);
    let start = Instant::now();
    let mut t = 0;
    while start.elapsed().as_secs_f64() < 2.0 {
        t += 10_000;
        sim.run_until(t).expect("no invariants to break");
    }
    let secs = start.elapsed().as_secs_f64();
    let delivered = sim.stats().delivered;
    println!(
        "sim_throughput: {delivered} messages delivered in {secs:.2}s = {:.2}M msgs/s",
        delivered as f64 / secs / 1e6
    );

    // Whole Paxos runs with random faults and the three safety invariants checked after every
    // step: what one seed of the safety test costs.
    let start = Instant::now();
    let (mut seeds, mut steps, mut msgs) = (0u64, 0u64, 0u64);
    while start.elapsed().as_secs_f64() < 2.0 {
        let (sim, deadline) = ch04_paxos::scenarios::random(seeds);
        let mut sim = sim.tracing(false);
        sim.run_until(deadline).expect("Paxos is safe");
        steps += sim.stats().steps;
        msgs += sim.stats().delivered;
        seeds += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "paxos_seeds: {seeds} random-fault runs in {secs:.2}s = {:.0} runs/s ({:.2}M steps/s, {:.2}M msgs/s, invariants on)",
        seeds as f64 / secs,
        steps as f64 / secs / 1e6,
        msgs as f64 / secs / 1e6
    );
}
