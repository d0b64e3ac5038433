//! The same [`Member`] (the election, then the stand-in heartbeat) over real
//! sockets: a tokio driver for the election port.
//!
//! The driver keeps the clock (each [`Timer`] becomes a deadline), turns
//! [`Output::Send`] into frames for [`crate::cnx`]'s connections (ZooKeeper's
//! `QuorumCnxManager`: one connection per pair, opened by the larger sid, and
//! a send queue of capacity 1 per peer, with a slot of its own for the
//! stand-in's pings), and feeds what they receive back to the member:
//!
//! - **messages to oneself** skip the network and come straight back;
//! - **bad bytes never stop a server**: a malformed handshake or frame
//!   closes that one connection, a malformed message is skipped, and each
//!   is reported as a [`TcpEvent::Dropped`] line.
//!
//! Upstream: `QuorumCnxManager`, `FastLeaderElection.Messenger`.

use crate::cnx::{CnxEvent, CnxReport, Connections};
use crate::deadlines::Deadlines;
use crate::peer::Durable;
use crate::standin::{Config, Input, Member, Message, Note, Output, Timer};
use crate::vote::ServerState;
use ch01_znode::Sid;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::Instant;

pub use crate::cnx::{CNX_TIMEOUT, RECV_CAPACITY};

/// Something a server over TCP reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TcpEvent {
    /// A fact from the election or the heartbeat.
    Note(Note),
    /// The server's state changed.
    State(ServerState),
    /// Bytes from a peer were refused.
    Dropped(String),
    /// A connection to a peer is up.
    Connected(Sid),
}

impl fmt::Display for TcpEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TcpEvent::Note(n) => write!(f, "• {n}"),
            TcpEvent::State(s) => write!(f, "⇨ {s}"),
            TcpEvent::Dropped(why) => write!(f, "✗ {why}"),
            TcpEvent::Connected(sid) => write!(f, "connected to n{sid}"),
        }
    }
}

/// A report, with who made it and when (milliseconds since it started). Chapter 6's
/// servers report their own events `E` the same way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Traced<E = TcpEvent> {
    /// The reporting server.
    pub sid: Sid,
    /// Milliseconds since that server started.
    pub at_ms: u128,
    /// What happened.
    pub event: E,
}

impl<E: fmt::Display> fmt::Display for Traced<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>6}ms  n{} {}", self.at_ms, self.sid, self.event)
    }
}

/// One server's place in the ensemble.
#[derive(Clone, Debug)]
pub struct ServerSpec {
    /// This server.
    pub sid: Sid,
    /// Every member's election address, this one's included.
    pub addrs: BTreeMap<Sid, SocketAddr>,
    /// The ensemble, the election's tunables and the heartbeat's.
    pub config: Config,
    /// What the disk says.
    pub durable: Durable,
}

/// Run server `spec` on `listener` until the future is dropped, reporting
/// to `events` (a handful of lines per election: the caller drains it).
/// Dropping the future stops every task and closes every socket, like
/// killing the process.
pub async fn serve(spec: ServerSpec, listener: TcpListener, events: mpsc::UnboundedSender<Traced>) {
    let started = Instant::now();
    let report = {
        let (events, sid) = (events.clone(), spec.sid);
        Arc::new(move |r: CnxReport| {
            let event = match r {
                CnxReport::Connected(peer) => TcpEvent::Connected(peer),
                CnxReport::Dropped(why) => TcpEvent::Dropped(why),
            };
            report(&events, sid, started, event);
        })
    };
    let (cnx, mut inbox) = Connections::start(spec.sid, spec.addrs.clone(), listener, report);
    let mut server = Driver::new(spec, cnx, events, started);
    server.step(Input::Start);
    server.report(TcpEvent::State(server.member.peer().state()));
    loop {
        let deadline = server.timers.next();
        tokio::select! {
            Some(inbound) = inbox.recv() => server.on_inbound(inbound),
            _ = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                server.fire_due();
            }
        }
    }
}

/// The state of one server's main loop.
struct Driver {
    spec: ServerSpec,
    member: Member,
    events: mpsc::UnboundedSender<Traced>,
    started: Instant,
    timers: Deadlines<Timer>,
    cnx: Connections,
    loopback: VecDeque<Message>,
}

impl Driver {
    fn new(
        spec: ServerSpec,
        cnx: Connections,
        events: mpsc::UnboundedSender<Traced>,
        started: Instant,
    ) -> Driver {
        let member = Member::new(spec.sid, spec.config.clone(), spec.durable);
        Driver {
            member,
            events,
            started,
            timers: Deadlines::default(),
            cnx,
            loopback: VecDeque::new(),
            spec,
        }
    }

    fn report(&self, event: TcpEvent) {
        report(&self.events, self.spec.sid, self.started, event);
    }

    /// Feed the member, carry out its outputs, and deliver our messages to
    /// ourselves until none are left.
    fn step(&mut self, input: Input) {
        let mut next = Some(input);
        while let Some(input) = next.take() {
            let before = self.member.peer().state();
            let outputs = self.member.step(input);
            for o in outputs {
                self.apply(o);
            }
            let after = self.member.peer().state();
            if after != before {
                self.report(TcpEvent::State(after));
            }
            next = self.loopback.pop_front().map(|msg| Input::Receive {
                from: self.spec.sid,
                msg,
            });
        }
    }

    fn apply(&mut self, output: Output) {
        match output {
            // To ourselves: no socket, straight to the receive side.
            Output::Send { to, msg } if to == self.spec.sid => self.loopback.push_back(msg),
            // The heartbeat waits beside a vote, never in its place.
            Output::Send {
                to,
                msg: msg @ (Message::Ping { .. } | Message::PingReply { .. }),
            } => self.cnx.send_heartbeat(to, msg.encode()),
            Output::Send { to, msg } => self.cnx.send(to, msg.encode()),
            Output::SetTimer { timer, after_ms } => self.timers.set(timer, after_ms),
            Output::CancelTimer(timer) => self.timers.cancel(timer),
            Output::Note(note) => self.report(TcpEvent::Note(note)),
        }
    }

    fn fire_due(&mut self) {
        for t in self.timers.take_due() {
            self.step(Input::Timeout(t));
        }
    }

    /// A socket task's news; a frame is a message, or is skipped (and
    /// reported) if it is not one.
    fn on_inbound(&mut self, inbound: CnxEvent) {
        let Some((from, payload)) = self.cnx.handle(inbound) else {
            return;
        };
        match Message::decode(&payload) {
            Ok(msg) => self.step(Input::Receive { from, msg }),
            Err(e) => self.report(TcpEvent::Dropped(format!(
                "from n{from}: {e}; message skipped"
            ))),
        }
    }
}

fn report(events: &mpsc::UnboundedSender<Traced>, sid: Sid, started: Instant, event: TcpEvent) {
    let _ = events.send(Traced {
        sid,
        at_ms: started.elapsed().as_millis(),
        event,
    });
}
