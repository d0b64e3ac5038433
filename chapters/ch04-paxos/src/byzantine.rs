//! The Byzantine generals, runnable: Lamport, Shostak and Pease's oral-messages algorithm
//! OM(1), with one traitor.
//!
//! The idea to take away: **tolerating liars costs a round of relaying and a third more
//! generals.** A commander sends its order to each lieutenant (round 1). Each lieutenant cannot
//! trust what it heard, so it tells every other lieutenant what the commander said to *it*
//! (round 2), and then decides by majority over the commander's word and the relayed ones,
//! retreating on a tie. With four generals and one traitor this meets both conditions of the
//! 1982 paper:
//!
//! - **IC1**: every loyal lieutenant decides the same order;
//! - **IC2**: if the commander is loyal, every loyal lieutenant decides the commander's order.
//!
//! A traitor lieutenant relays the opposite of what it heard, but it is one voice among three
//! at each loyal lieutenant, outvoted by the commander's word and the loyal relay. A traitor
//! commander tells different lieutenants different orders, but the loyal lieutenants relay
//! honestly, so they all count the same three words and reach the same majority. With only
//! **three** generals the same lie wins: a loyal lieutenant hears "attack" from its commander
//! and "he told me retreat" from the other lieutenant, one against one, and cannot tell which
//! of the two is lying (`om1-three`, whose trace ends in a violation of IC2).
//!
//! Every general here is a [`Process`] of the chapter's simulator, traced and drawn like the
//! Paxos runs. Paxos and ZooKeeper assume nobody lies (the crash-fault model); lab 4.1's
//! forgetful acceptor shows what one lie does to them.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

// Generals set no timers: each round ends when every message of it has arrived.
use crate::multi::NoTimer;
use crate::sim::{Input, Network, NodeId, Output, Process, Sim};

/// What a general can be told to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Order {
    Attack,
    Retreat,
}

impl Order {
    /// The other order: what a traitor says instead.
    pub fn opposite(self) -> Order {
        match self {
            Order::Attack => Order::Retreat,
            Order::Retreat => Order::Attack,
        }
    }
}

impl fmt::Display for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Order::Attack => "attack",
            Order::Retreat => "retreat",
        })
    }
}

// ANCHOR: msg
/// The two rounds' messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum OmMsg {
    /// Round 1, commander to lieutenant: the order.
    Order(Order),
    /// Round 2, lieutenant to lieutenant: "the commander told me this".
    Relay(Order),
}
// ANCHOR_END: msg

impl fmt::Display for OmMsg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OmMsg::Order(o) => write!(f, "{o}!"),
            OmMsg::Relay(o) => write!(f, "commander said {o}"),
        }
    }
}

/// What a general wants traced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum OmNote {
    /// A traitor said `said` to `to` where an honest general would have said `truth`.
    Lies { to: NodeId, said: Order, truth: Order },
    /// A lieutenant's decision, with the words it counted (the commander's first).
    Decides { order: Order, counted: Vec<Order> },
}

impl fmt::Display for OmNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OmNote::Lies { to, said, truth } => write!(f, "lies to n{to}: {said} (truth: {truth})"),
            OmNote::Decides { order, counted } => {
                let words: Vec<String> = counted.iter().map(Order::to_string).collect();
                write!(f, "decides {order} (counted {})", words.join(", "))
            }
        }
    }
}

/// A general: the commander (`n1`) or a lieutenant, loyal or a traitor.
#[derive(Clone, Debug)]
pub struct General {
    id: NodeId,
    commander: NodeId,
    lieutenants: Vec<NodeId>,
    traitor: bool,
    /// The commander's own order (the commander only).
    order: Option<Order>,
    /// What the commander said to this lieutenant.
    heard: Option<Order>,
    /// What each other lieutenant says the commander said.
    relayed: BTreeMap<NodeId, Order>,
    decided: Option<Order>,
}

impl General {
    /// General `id` of an army whose commander is `commander` and whose other generals are
    /// `lieutenants`; the commander wants `order`.
    pub fn new(id: NodeId, commander: NodeId, lieutenants: &[NodeId], order: Order) -> General {
        General {
            id,
            commander,
            lieutenants: lieutenants.to_vec(),
            traitor: false,
            order: (id == commander).then_some(order),
            heard: None,
            relayed: BTreeMap::new(),
            decided: None,
        }
    }

    /// The same general, a traitor.
    pub fn traitor(mut self) -> General {
        self.traitor = true;
        self
    }

    /// Whether this general lies.
    pub fn is_traitor(&self) -> bool {
        self.traitor
    }

    /// The commander's order, if this is the commander.
    pub fn order(&self) -> Option<Order> {
        self.order
    }

    /// What this lieutenant decided, once it has.
    pub fn decided(&self) -> Option<Order> {
        self.decided
    }

    // ANCHOR: say
    /// What this general tells `to` when the truth is `truth`: a loyal general says it; a
    /// traitor commander says "attack" to some and "retreat" to others; a traitor lieutenant
    /// always says the opposite.
    fn say(&self, to: NodeId, truth: Order, out: &mut Vec<Out>) -> Order {
        let said = match (self.traitor, self.id == self.commander) {
            (false, _) => truth,
            (true, true) if to % 2 == 0 => truth,
            (true, _) => truth.opposite(),
        };
        if said != truth {
            out.push(Output::Note(OmNote::Lies { to, said, truth }));
        }
        said
    }
    // ANCHOR_END: say

    // ANCHOR: decide
    /// Decides once the commander's word and every other lieutenant's relay are in: the
    /// majority of those words, and "retreat" on a tie (the paper's default order).
    fn try_decide(&mut self, out: &mut Vec<Out>) {
        let Some(heard) = self.heard else { return };
        if self.decided.is_some() || self.relayed.len() < self.lieutenants.len() - 1 {
            return;
        }
        let counted: Vec<Order> =
            std::iter::once(heard).chain(self.relayed.values().copied()).collect();
        let attacks = counted.iter().filter(|o| **o == Order::Attack).count();
        let order = if 2 * attacks > counted.len() { Order::Attack } else { Order::Retreat };
        self.decided = Some(order);
        out.push(Output::Note(OmNote::Decides { order, counted }));
    }
    // ANCHOR_END: decide
}

type Out = Output<OmMsg, NoTimer, OmNote>;

impl Process for General {
    type Msg = OmMsg;
    type Timer = NoTimer;
    type Note = OmNote;

    fn id(&self) -> NodeId {
        self.id
    }

    // ANCHOR: step
    fn step(&mut self, input: Input<OmMsg, NoTimer>) -> Vec<Out> {
        let mut out = Vec::new();
        match input {
            // Round 1: the commander sends its order to every lieutenant.
            Input::Start => {
                if let Some(order) = self.order {
                    for &to in &self.lieutenants {
                        let said = self.say(to, order, &mut out);
                        out.push(Output::Send { to, msg: OmMsg::Order(said) });
                    }
                }
            }
            // Round 2: a lieutenant relays what it heard to every other lieutenant.
            Input::Receive { from, msg: OmMsg::Order(order) } if from == self.commander => {
                self.heard = Some(order);
                for &to in self.lieutenants.iter().filter(|l| **l != self.id) {
                    let said = self.say(to, order, &mut out);
                    out.push(Output::Send { to, msg: OmMsg::Relay(said) });
                }
                self.try_decide(&mut out);
            }
            Input::Receive { from, msg: OmMsg::Relay(order) }
                if self.lieutenants.contains(&from) =>
            {
                self.relayed.insert(from, order);
                self.try_decide(&mut out);
            }
            // Anything else (an "order" from a lieutenant) is not how the protocol speaks.
            Input::Receive { .. } => {}
            Input::Timeout(never) => match never {},
        }
        out
    }
    // ANCHOR_END: step

    fn status(&self) -> String {
        let role = if self.id == self.commander { "COMMANDER" } else { "LIEUTENANT" };
        match (self.decided, self.traitor) {
            (Some(order), false) => order.to_string().to_uppercase(),
            (Some(order), true) => format!("{} (TRAITOR)", order.to_string().to_uppercase()),
            (None, false) => role.to_string(),
            (None, true) => format!("{role} (TRAITOR)"),
        }
    }
}

/// The OM(1) scenarios `--scenario` accepts, with what each shows.
pub const SCENARIOS: &[(&str, &str)] = &[
    ("om1-traitor-lieutenant", "OM(1), four generals: a traitor lieutenant is outvoted"),
    ("om1-traitor-commander", "OM(1), four generals: a traitor commander cannot split the loyal"),
    ("om1-three", "OM(1), three generals: one traitor is enough to break IC2"),
];

// ANCHOR: conditions
/// IC1 and IC2, checked after every step: loyal lieutenants agree, and they follow a loyal
/// commander.
pub fn interactive_consistency(sim: &Sim<General>) -> Result<(), String> {
    let loyal: Vec<&General> =
        sim.nodes().filter(|g| !g.is_traitor() && g.order().is_none()).collect();
    let decided: Vec<(NodeId, Order)> =
        loyal.iter().filter_map(|g| g.decided().map(|o| (g.id(), o))).collect();
    if let Some(((a, x), (b, y))) =
        decided.iter().zip(decided.iter().skip(1)).find(|(p, q)| p.1 != q.1)
    {
        return Err(format!("IC1: loyal n{a} decided {x} but loyal n{b} decided {y}"));
    }
    let commander = sim.nodes().find(|g| g.order().is_some()).expect("an army has a commander");
    if let (false, Some(order)) = (commander.is_traitor(), commander.order()) {
        if let Some((n, o)) = decided.iter().find(|(_, o)| *o != order) {
            return Err(format!(
                "IC2: the loyal commander said {order} but loyal n{n} decided {o}"
            ));
        }
    }
    Ok(())
}
// ANCHOR_END: conditions

/// Scenario `name`: `n1` commands "attack"; who the traitor is depends on the scenario.
pub fn scenario(name: &str, seed: u64) -> Option<Sim<General>> {
    let (count, traitor) = match name {
        "om1-traitor-lieutenant" => (4, 3),
        "om1-traitor-commander" => (4, 1),
        "om1-three" => (3, 3),
        _ => return None,
    };
    let ids: Vec<NodeId> = (1..=count).collect();
    let lieutenants: Vec<NodeId> = ids[1..].to_vec();
    let generals = ids
        .iter()
        .map(|&id| {
            let g = General::new(id, 1, &lieutenants, Order::Attack);
            if id == traitor {
                g.traitor()
            } else {
                g
            }
        })
        .collect();
    // Messengers take 10 ms; nobody crashes (a traitor is worse than a crash, not the same).
    let sim = Sim::new(seed, Network::default(), generals, General::clone)
        .invariant("interactive consistency", interactive_consistency)
        .replay_command(format!(
            "cargo run -p ch04-paxos -- --trace --scenario {name} --seed {seed}"
        ));
    Some(sim)
}
