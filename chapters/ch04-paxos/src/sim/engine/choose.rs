//! Choosing by hand: the simulator as an adversary a person controls.
//!
//! An asynchronous network may deliver the messages in flight in any order, lose one, or
//! deliver one twice; a seeded run makes that choice at every step by drawing from its RNG.
//! This module lets a person make it instead, which is what `--step` does in the classroom:
//! list everything pending ([`Sim::upcoming`]), then do any one of those things now, lose or
//! copy a message, or crash, restart, partition or heal now. Each of these is one [`Choice`],
//! so a whole session is a list of choices, and running the seed again with the same list
//! ([`Sim::play`]) gives the same run again: that is how the stepper steps back, and how a
//! saved session becomes a test.
//!
//! # The rules
//! - **The clock.** Doing an item moves the clock to its due time, or leaves it where it is if
//!   that time has passed. Whatever was due before it is now late: a message the network held
//!   back, a timer a busy machine fired late. The clock never runs backwards, so a trace stays
//!   a timeline, and no timer ever fires early.
//! - **FIFO links.** When the network keeps links in order ([`Network::fifo`](super::Network::fifo), like TCP), only
//!   the oldest message on a link can be delivered; a later one waits until that one is
//!   delivered or dropped. Dropping a message from the middle of a link is allowed: it is a
//!   loss, and a TCP-like adapter (chapter 6's) sees the gap and closes the connection, as TCP
//!   would. Without FIFO any message may overtake any other.
//! - **A node's messages to itself** never cross the network: they cannot be dropped or
//!   duplicated (they still die with their sender).
//! - **The same trace.** A chosen delivery is an [`Event::Deliver`], a drop an [`Event::Drop`]
//!   (`lost`), a copy an [`Event::Duplicate`]: nothing in a trace says whether the seed or a
//!   person chose, so every renderer and every invariant works on a stepped run unchanged.

use std::fmt;

use super::{Pending, Scheduled, Sim};
use crate::sim::check::Violation;
use crate::sim::scenario::{Action, Choice, Scenario};
use crate::sim::trace::{node_name, DropReason, Event};
use crate::sim::{Millis, NodeId, Process, UpcomingOf};

/// Something queued that will still happen, as a stepper lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct Upcoming<M, T> {
    /// When it is due (in the past, once something due later was chosen before it).
    pub at: Millis,
    /// Its place in the queue: it names this item until it happens.
    pub seq: u64,
    /// What it is.
    pub due: Due<M, T>,
}

/// What a queued item will do.
#[derive(Clone, Debug, PartialEq)]
pub enum Due<M, T> {
    /// A node receives `Input::Start` (every node, at time 0).
    Start { node: NodeId },
    /// A message in flight: message `id` from `from` to `to`, sent at `sent_at`.
    Message { from: NodeId, to: NodeId, id: u64, sent_at: Millis, msg: M },
    /// An armed timer.
    Timer { node: NodeId, timer: T },
    /// A fault the scenario scheduled.
    Fault(Action<M, T>),
}

impl<M, T> Due<M, T> {
    /// The verb a choice of this item takes in a script: `deliver`, `fire` or `do`.
    pub fn verb(&self) -> &'static str {
        match self {
            Due::Message { .. } => "deliver",
            Due::Timer { .. } => "fire",
            Due::Start { .. } | Due::Fault(_) => "do",
        }
    }

    /// What it is, in a word or two.
    pub fn kind(&self) -> &'static str {
        match self {
            Due::Message { .. } => "a message",
            Due::Timer { .. } => "a timer",
            Due::Start { .. } => "a node's start",
            Due::Fault(_) => "a scheduled fault",
        }
    }

    /// The trace event doing it would record first (`None` for a start or an injected input,
    /// which record only what the node does).
    pub fn event<N>(&self) -> Option<Event<M, T, N>>
    where
        M: Clone,
        T: Clone,
    {
        Some(match self {
            Due::Message { from, to, id, sent_at, msg } => Event::Deliver {
                from: *from,
                to: *to,
                id: *id,
                sent_at: *sent_at,
                msg: msg.clone(),
            },
            Due::Timer { node, timer } => Event::TimerFired { node: *node, timer: timer.clone() },
            Due::Fault(Action::Crash(node)) => Event::Crash { node: *node },
            Due::Fault(Action::Restart(node)) => Event::Restart { node: *node },
            Due::Fault(Action::Partition(groups)) => Event::Partition { groups: groups.clone() },
            Due::Fault(Action::Heal) => Event::Heal,
            Due::Fault(Action::Network(change)) => Event::Network { change: *change },
            Due::Start { .. } | Due::Fault(Action::Inject { .. }) => return None,
        })
    }
}

impl<M: fmt::Display + fmt::Debug, T: fmt::Display + fmt::Debug> fmt::Display for Due<M, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Due::Start { node } => write!(f, "{} starts", node_name(*node)),
            Due::Message { from, to, msg, .. } => {
                write!(f, "{} → {}  {msg}", node_name(*from), node_name(*to))
            }
            Due::Timer { node, timer } => write!(f, "{} timer {timer}", node_name(*node)),
            Due::Fault(action) => action.fmt(f),
        }
    }
}

impl<M: fmt::Display + fmt::Debug, T: fmt::Display + fmt::Debug> fmt::Display for Upcoming<M, T> {
    /// `    10ms  n1 → n2  Prepare 1.1`: the due time, as a trace line shows a time.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>6}ms  {}", self.at, self.due)
    }
}

/// Why a choice was not made, or what it broke.
#[derive(Clone, Debug, PartialEq)]
pub enum ChoiceError {
    /// The choice is not possible now, and nothing changed: why, in a sentence.
    Refused(String),
    /// The choice was made, and an invariant failed after it (or had failed before).
    Violation(Box<Violation>),
}

impl From<Box<Violation>> for ChoiceError {
    fn from(v: Box<Violation>) -> Self {
        ChoiceError::Violation(v)
    }
}

impl fmt::Display for ChoiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChoiceError::Refused(why) => f.write_str(why),
            ChoiceError::Violation(v) => v.fmt(f),
        }
    }
}

fn refuse<T>(why: impl Into<String>) -> Result<T, ChoiceError> {
    Err(ChoiceError::Refused(why.into()))
}

impl<P: Process> Sim<P> {
    /// Everything queued that will still happen, in the order the network would do it:
    /// the first is what [`Sim::step`] does next. (Timers cancelled or re-armed since they were
    /// queued, and start-ups of crashed nodes, are left out: they would do nothing.)
    pub fn upcoming(&self) -> Vec<UpcomingOf<P>> {
        let mut live: Vec<&Scheduled<P>> = self.queue.iter().filter(|s| self.is_live(s)).collect();
        live.sort_by_key(|s| (s.at, s.seq));
        live.into_iter().map(|s| self.upcoming_of(s)).collect()
    }

    /// Do queued item `seq` now: deliver it, fire it, start the node, or apply the fault.
    /// Refused when a FIFO link holds an older message ahead of it.
    pub fn perform(&mut self, seq: u64) -> Result<(), ChoiceError> {
        self.still_running()?;
        let list = self.upcoming();
        let Some(k) = list.iter().position(|u| u.seq == seq) else {
            return refuse(format!("nothing pending is numbered {seq}"));
        };
        if let Some(ahead) = self.fifo_ahead(&list, k) {
            return refuse(format!(
                "links are FIFO, and `{}` is ahead of it: deliver or drop that one first",
                list[ahead].due
            ));
        }
        let item = self.take(seq).expect("listed, so queued");
        Ok(self.happen(item)?)
    }

    /// Lose message `seq` now: it never arrives.
    pub fn drop_message(&mut self, seq: u64) -> Result<(), ChoiceError> {
        self.still_running()?;
        self.crossing_message(seq)?;
        let Some(Scheduled { what: Pending::Deliver { from, to, id, sent_at, msg, .. }, .. }) =
            self.take(seq)
        else {
            unreachable!("crossing_message checked it is a queued message")
        };
        self.stats.steps += 1;
        self.drop_msg(from, to, id, sent_at, DropReason::Lost, msg);
        Ok(self.check()?)
    }

    /// Copy message `seq` now, as a network that delivers twice does: the copy is a new
    /// message (a new id), sent when the original was, arriving after a latency drawn now
    /// (behind everything already on its link, when links are FIFO).
    pub fn duplicate_message(&mut self, seq: u64) -> Result<(), ChoiceError> {
        self.still_running()?;
        let Due::Message { from, to, id, sent_at, msg } = self.crossing_message(seq)?.due else {
            unreachable!("crossing_message returns a message")
        };
        self.stats.steps += 1;
        self.copy_in_flight(sent_at, from, to, id, msg);
        Ok(self.check()?)
    }

    /// Apply a fault now: crash, restart, partition, heal, change the network.
    pub fn fault_now(&mut self, action: Action<P::Msg, P::Timer>) -> Result<(), ChoiceError> {
        self.still_running()?;
        if let Err(e) = self.names_existing_nodes(&action) {
            return refuse(format!("`{action}`: {e}"));
        }
        match action {
            Action::Crash(n) if !self.is_up(n) => {
                return refuse(format!("{} is down", node_name(n)))
            }
            Action::Restart(n) if self.is_up(n) => {
                return refuse(format!("{} is running: crash it first", node_name(n)))
            }
            _ => {}
        }
        self.stats.steps += 1;
        self.act(action);
        Ok(self.check()?)
    }

    /// Make one choice, naming items by their place in [`Sim::upcoming`] (1 is the first).
    pub fn choose(&mut self, choice: &Choice) -> Result<(), ChoiceError> {
        self.still_running()?;
        let item = |k: usize| -> Result<UpcomingOf<P>, ChoiceError> {
            let list = self.upcoming();
            match list.get(k.wrapping_sub(1)) {
                Some(u) => Ok(u.clone()),
                None if list.is_empty() => refuse("nothing is pending"),
                None => {
                    refuse(format!("there is no item {k}: the list goes from 1 to {}", list.len()))
                }
            }
        };
        match choice {
            Choice::Next(n) => {
                for _ in 0..*n {
                    let Some(next) = self.pop_live() else {
                        return refuse("nothing is pending");
                    };
                    self.happen(next)?;
                }
                Ok(())
            }
            Choice::Deliver(k) | Choice::Fire(k) | Choice::Do(k) => {
                let u = item(*k)?;
                let fits = match choice {
                    Choice::Deliver(_) => matches!(u.due, Due::Message { .. }),
                    Choice::Fire(_) => matches!(u.due, Due::Timer { .. }),
                    _ => true,
                };
                if !fits {
                    return refuse(format!(
                        "item {k} is {} (`{}`): `{} {k}`, or just `{k}`",
                        u.due.kind(),
                        u.due,
                        u.due.verb()
                    ));
                }
                let list = self.upcoming();
                if let Some(ahead) = self.fifo_ahead(&list, k - 1) {
                    return refuse(format!(
                        "links are FIFO: item {} (`{}`) is ahead of it on its link; deliver or \
                         drop that one first",
                        ahead + 1,
                        list[ahead].due
                    ));
                }
                self.perform(u.seq)
            }
            Choice::Drop(k) => self.drop_message(item(*k)?.seq),
            Choice::Duplicate(k) => self.duplicate_message(item(*k)?.seq),
            Choice::Crash(_) | Choice::Restart(_) | Choice::Partition(_) | Choice::Heal => {
                self.fault_now(choice.fault().expect("a fault"))
            }
        }
    }

    /// Queue `scenario`'s timed faults, then make its choices in order: replay a session saved
    /// by `--step`. A refusal names the step that could not be made.
    pub fn play(&mut self, scenario: Scenario<P::Msg, P::Timer>) -> Result<(), ChoiceError> {
        self.try_schedule(scenario.clone()).map_err(ChoiceError::Refused)?;
        for (i, choice) in scenario.steps().iter().enumerate() {
            self.choose(choice).map_err(|e| match e {
                ChoiceError::Refused(why) => {
                    ChoiceError::Refused(format!("step {} `{choice}`: {why}", i + 1))
                }
                violation => violation,
            })?;
        }
        Ok(())
    }

    // ---- internals ----

    fn still_running(&self) -> Result<(), ChoiceError> {
        match &self.violation {
            Some(v) => Err(ChoiceError::Violation(v.clone())),
            None => Ok(()),
        }
    }

    /// Whether a queued item would still do something: a timer only while armed with this
    /// generation, a start only while its node is up.
    fn is_live(&self, s: &Scheduled<P>) -> bool {
        match &s.what {
            Pending::Start(i) => self.slots[*i].up,
            Pending::Timer { node, timer, generation } => {
                self.slots[*node].timers.iter().any(|(t, g)| g == generation && t == timer)
            }
            Pending::Deliver { .. } | Pending::Action(_) => true,
        }
    }

    fn upcoming_of(&self, s: &Scheduled<P>) -> UpcomingOf<P> {
        let due = match &s.what {
            Pending::Start(i) => Due::Start { node: self.slots[*i].process.id() },
            Pending::Deliver { from, to, id, sent_at, msg, .. } => {
                Due::Message { from: *from, to: *to, id: *id, sent_at: *sent_at, msg: msg.clone() }
            }
            Pending::Timer { node, timer, .. } => {
                Due::Timer { node: self.slots[*node].process.id(), timer: timer.clone() }
            }
            Pending::Action(action) => Due::Fault(action.clone()),
        };
        Upcoming { at: s.at, seq: s.seq, due }
    }

    /// On a FIFO network, the place in `list` of a message ahead of message `list[k]` on its
    /// link (the list is in queue order, so "ahead" is "earlier in the list").
    pub(crate) fn fifo_ahead(&self, list: &[UpcomingOf<P>], k: usize) -> Option<usize> {
        let Due::Message { from, to, ref msg, .. } = list[k].due else {
            return None;
        };
        if !self.net.fifo || from == to {
            return None;
        }
        let link = (from, to, P::connection(msg));
        list[..k].iter().position(|u| {
            matches!(&u.due, Due::Message { from: f, to: t, msg: m, .. }
                if (*f, *t, P::connection(m)) == link)
        })
    }

    /// Queued item `seq`, if it is a message between two nodes (one a network can lose).
    fn crossing_message(&self, seq: u64) -> Result<UpcomingOf<P>, ChoiceError> {
        let Some(queued) = self.queue.iter().find(|s| s.seq == seq) else {
            return refuse(format!("nothing pending is numbered {seq}"));
        };
        match self.upcoming_of(queued) {
            Upcoming { due: Due::Message { from, to, .. }, .. } if from == to => refuse(format!(
                "{}'s message to itself never crosses the network: it cannot be lost or copied",
                node_name(from)
            )),
            message @ Upcoming { due: Due::Message { .. }, .. } => Ok(message),
            _ => refuse("only a message can be dropped or duplicated"),
        }
    }

    /// Remove queued item `seq` (the heap is rebuilt: a stepper's queue is short).
    fn take(&mut self, seq: u64) -> Option<Scheduled<P>> {
        let mut items = std::mem::take(&mut self.queue).into_vec();
        let taken = items.iter().position(|s| s.seq == seq).map(|k| items.swap_remove(k));
        self.queue = items.into();
        taken
    }

    /// Pop the earliest item that would still do something; the dead ones before it go too.
    fn pop_live(&mut self) -> Option<Scheduled<P>> {
        while let Some(next) = self.queue.pop() {
            if self.is_live(&next) {
                return Some(next);
            }
        }
        None
    }
}
