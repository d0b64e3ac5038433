//! Which actions multiply the model checker's states: a breadth-first walk of `--model-check`'s
//! model to a depth, counting, per depth and per kind of action, the transitions taken and the
//! new states they found. A measurement, not a check (properties are not evaluated).
//!
//! Run: `cargo run --release -p ch06-zab --example model_census -- DEPTH [IN_FLIGHT]`.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};

use ch04_paxos::sim::checker::{self, Action};
use ch06_zab::model_check::{self, Bounds, DEFAULT};
use ch06_zab::peer::Timer as PeerTimer;
use ch06_zab::sim::{Node, SimTimer, Wire};
use stateright::actor::ActorModelAction as A;
use stateright::Model;

type State = model_check::ZabState;

fn fingerprint(s: &State) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// A short name for the kind of `action` in `s`.
fn kind(s: &State, action: &Action<Node>) -> String {
    let role = |i: usize| {
        s.actor_states[i]
            .server()
            .map(|n| format!("{:?}", n.peer().state()))
            .unwrap_or_else(|| "client".into())
    };
    match action {
        A::Deliver { msg, dst, .. } => {
            let what = match msg {
                Wire::Election(n) => format!("vote({:?})", n.state),
                Wire::Zab { msg, .. } => msg.name().to_string(),
                Wire::ZabClosed { .. } => "closed".into(),
                Wire::ZabRefused { .. } => "refused".into(),
                Wire::ToServer { .. } => "client→server".into(),
                Wire::ToClient { .. } => "server→client".into(),
            };
            format!("deliver {what} to {}", role(usize::from(*dst)))
        }
        A::Timeout(_, SimTimer::Peer(t @ (PeerTimer::LeaderSilent | PeerTimer::InitLimit))) => {
            let suspicion = model_check::false_suspicion(s, action);
            format!(
                "timer {t:?} ({})",
                if suspicion {
                    "false suspicion"
                } else {
                    "party gone"
                }
            )
        }
        A::Timeout(id, t) => format!("timer {t:?} of {}", role(usize::from(*id))),
        A::Crash(id) => format!("crash {}", role(usize::from(*id))),
        A::Recover(_) => "restart".into(),
        other => format!("{other:?}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let depth: usize = args.first().map_or(8, |d| d.parse().expect("a depth"));
    let in_flight = args.get(1).map(|n| n.parse().expect("a bound"));
    let false_suspicions = args.iter().any(|a| a == "--false-suspicions");
    let bounds = Bounds {
        in_flight,
        false_suspicions,
        ..DEFAULT
    };
    let model = model_check::model(None, bounds);
    let start = model_check::start_state(&model).expect("the first election");
    let mut seen = HashSet::from([fingerprint(&start)]);
    let mut level = vec![start];
    let mut total: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut spent = vec![std::time::Duration::ZERO; model.properties.len()];
    let started = std::time::Instant::now();
    for d in 1..=depth {
        let mut next = Vec::new();
        let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for s in &level {
            let mut actions = Vec::new();
            checker::actions(&model, s, &mut actions);
            for a in actions {
                let k = kind(s, &a);
                let Some(n) = checker::next_state(&model, s, a) else {
                    continue;
                };
                if !Model::within_boundary(&model, &n) {
                    continue;
                }
                let c = counts.entry(k).or_default();
                c.0 += 1;
                if seen.insert(fingerprint(&n)) {
                    for (i, p) in model.properties.iter().enumerate() {
                        let t = std::time::Instant::now();
                        std::hint::black_box((p.condition)(&model, &n));
                        spent[i] += t.elapsed();
                    }
                    c.1 += 1;
                    next.push(n);
                }
            }
        }
        println!(
            "depth {d}: {} new states (×{:.2})",
            next.len(),
            next.len() as f64 / level.len().max(1) as f64
        );
        for (k, (t, n)) in &counts {
            println!("  {k:50} {t:>9} taken {n:>9} new");
            let c = total.entry(k.clone()).or_default();
            c.0 += t;
            c.1 += n;
        }
        level = next;
        if level.is_empty() {
            break;
        }
    }
    println!("total: {} states in {:.2?}", seen.len(), started.elapsed());
    for (p, t) in model.properties.iter().zip(&spent) {
        println!("  property `{}`: {t:.2?}", p.name);
    }
    let mut rows: Vec<_> = total.into_iter().collect();
    rows.sort_by_key(|(_, (_, n))| std::cmp::Reverse(*n));
    for (k, (t, n)) in rows {
        println!("  {k:50} {t:>9} taken {n:>9} new");
    }
}
