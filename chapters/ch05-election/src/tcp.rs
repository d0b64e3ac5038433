//! The same [`Member`] (the election, then the stand-in heartbeat) over real
//! sockets: a tokio driver for the election port.
//!
//! The driver is ZooKeeper's `QuorumCnxManager` in miniature. It keeps the
//! clock (each [`Timer`] becomes a deadline), turns [`Output::Send`] into
//! frames, and manages connections with ZooKeeper's rules:
//!
//! - **one connection per pair, initiated by the larger sid**: a server
//!   that accepts a connection from a smaller sid closes it and connects
//!   back; a smaller sid that connects sends its initial message and then
//!   closes its own socket, so the larger one calls back;
//! - **a send queue of capacity 1 per peer**: a newer message replaces one
//!   not yet sent, and a fresh connection starts by sending the latest
//!   message again (duplicates are harmless to the election);
//! - **messages to oneself** skip the network and come straight back;
//! - **bad bytes never stop a server**: a malformed handshake or frame
//!   closes that one connection, a malformed message is skipped, and each
//!   is reported as a [`TcpEvent::Dropped`] line.
//!
//! Differences from upstream: the receive queue (capacity 100) applies
//! back-pressure to the sockets instead of dropping its oldest message, and
//! connections are not authenticated (no SASL).
//!
//! Upstream: `QuorumCnxManager` (`connectOne`, `startConnection`,
//! `handleConnection`, `SendWorker`, `RecvWorker`), `Listener`.

use crate::peer::Durable;
use crate::standin::{Config, Input, Member, Message, Note, Output, Timer};
use crate::vote::ServerState;
use crate::wire::{self, InitialMessage, WireError};
use ch01_znode::Sid;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::{AbortHandle, JoinSet};
use tokio::time::{timeout, Instant};

/// How long to wait for a connection or a handshake (`cnxTimeout`).
pub const CNX_TIMEOUT: Duration = Duration::from_millis(5000);
/// The receive queue's bound (`RECV_CAPACITY`).
pub const RECV_CAPACITY: usize = 100;

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

/// A report, with who made it and when (milliseconds since it started).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Traced {
    /// The reporting server.
    pub sid: Sid,
    /// Milliseconds since that server started.
    pub at_ms: u128,
    /// What happened.
    pub event: TcpEvent,
}

impl fmt::Display for Traced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>6}ms  n{} ", self.at_ms, self.sid)?;
        match &self.event {
            TcpEvent::Note(n) => write!(f, "• {n}"),
            TcpEvent::State(s) => write!(f, "⇨ {s}"),
            TcpEvent::Dropped(why) => write!(f, "✗ {why}"),
            TcpEvent::Connected(sid) => write!(f, "connected to n{sid}"),
        }
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

/// What the main loop hears from its socket tasks.
enum Inbound {
    Msg { from: Sid, msg: Message },
    Up { sid: Sid, stream: TcpStream },
    Down { sid: Sid, generation: u64 },
    ConnectBack { sid: Sid },
    ConnectDone { sid: Sid },
}

type Queue = watch::Sender<Option<Arc<Vec<u8>>>>;

/// Run server `spec` on `listener` until the future is dropped, reporting
/// to `events` (a handful of lines per election: the caller drains it).
/// Dropping the future stops every task and closes every socket, like
/// killing the process.
pub async fn serve(spec: ServerSpec, listener: TcpListener, events: mpsc::UnboundedSender<Traced>) {
    let mut server = Driver::new(spec, events);
    let (tx, mut inbox) = mpsc::channel(RECV_CAPACITY);
    server.tasks.spawn(accept_loop(
        listener,
        server.spec.sid,
        tx.clone(),
        server.events.clone(),
        server.started,
    ));
    server.tx = Some(tx);
    server.step(Input::Start);
    server.report(TcpEvent::State(server.member.peer().state()));
    loop {
        let deadline = server.timers.iter().map(|(_, at)| *at).min();
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
    tx: Option<mpsc::Sender<Inbound>>,
    timers: Vec<(Timer, Instant)>,
    queues: BTreeMap<Sid, Queue>,
    conns: BTreeMap<Sid, (u64, Vec<AbortHandle>)>,
    connecting: BTreeSet<Sid>,
    generation: u64,
    loopback: VecDeque<Message>,
    tasks: JoinSet<()>,
}

impl Driver {
    fn new(spec: ServerSpec, events: mpsc::UnboundedSender<Traced>) -> Driver {
        let member = Member::new(spec.sid, spec.config.clone(), spec.durable);
        Driver {
            member,
            events,
            started: Instant::now(),
            tx: None,
            timers: Vec::new(),
            queues: BTreeMap::new(),
            conns: BTreeMap::new(),
            connecting: BTreeSet::new(),
            generation: 0,
            loopback: VecDeque::new(),
            tasks: JoinSet::new(),
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
            Output::Send { to, msg } => {
                self.queue(to).send_replace(Some(Arc::new(msg.encode())));
                self.connect(to);
            }
            Output::SetTimer { timer, after_ms } => {
                let at = Instant::now() + Duration::from_millis(after_ms);
                self.timers.retain(|(t, _)| *t != timer);
                self.timers.push((timer, at));
            }
            Output::CancelTimer(timer) => self.timers.retain(|(t, _)| *t != timer),
            Output::Note(note) => self.report(TcpEvent::Note(note)),
        }
    }

    /// The capacity-1 send queue to `sid`.
    fn queue(&mut self, sid: Sid) -> &Queue {
        self.queues
            .entry(sid)
            .or_insert_with(|| watch::channel(None).0)
    }

    fn fire_due(&mut self) {
        let now = Instant::now();
        let due: Vec<Timer> = self
            .timers
            .iter()
            .filter(|(_, at)| *at <= now)
            .map(|(t, _)| *t)
            .collect();
        self.timers.retain(|(_, at)| *at > now);
        for t in due {
            self.step(Input::Timeout(t));
        }
    }

    /// `connectOne`: open a connection to `sid` unless one is up or opening.
    fn connect(&mut self, sid: Sid) {
        if self.conns.contains_key(&sid) || self.connecting.contains(&sid) {
            return;
        }
        let (Some(&addr), Some(&me), Some(tx)) = (
            self.spec.addrs.get(&sid),
            self.spec.addrs.get(&self.spec.sid),
            self.tx.clone(),
        ) else {
            return;
        };
        self.connecting.insert(sid);
        let my_sid = self.spec.sid;
        self.tasks.spawn(async move {
            let hello = InitialMessage {
                sid: my_sid,
                addr: me.to_string(),
            };
            if let Ok(Ok(mut stream)) = timeout(CNX_TIMEOUT, TcpStream::connect(addr)).await {
                let sent = stream.write_all(&hello.encode()).await.is_ok();
                if sent && sid < my_sid {
                    // We are the larger sid: this is the connection to keep.
                    let _ = tx.send(Inbound::Up { sid, stream }).await;
                }
                // Otherwise we lost the tie-break: dropping the socket makes
                // the larger sid connect back to us.
            }
            let _ = tx.send(Inbound::ConnectDone { sid }).await;
        });
    }

    fn on_inbound(&mut self, inbound: Inbound) {
        match inbound {
            Inbound::Msg { from, msg } => self.step(Input::Receive { from, msg }),
            Inbound::Up { sid, stream } => self.up(sid, stream),
            Inbound::Down { sid, generation } => {
                if self.conns.get(&sid).is_some_and(|(g, _)| *g == generation) {
                    if let Some((_, handles)) = self.conns.remove(&sid) {
                        handles.iter().for_each(AbortHandle::abort);
                    }
                }
            }
            Inbound::ConnectBack { sid } => {
                // The old connection may be dead without our knowing: replace it.
                if let Some((_, handles)) = self.conns.remove(&sid) {
                    handles.iter().for_each(AbortHandle::abort);
                }
                self.connect(sid);
            }
            Inbound::ConnectDone { sid } => {
                self.connecting.remove(&sid);
            }
        }
    }

    /// A connection to `sid` is established: start its send and receive
    /// workers, replacing any older connection.
    fn up(&mut self, sid: Sid, stream: TcpStream) {
        let Some(tx) = self.tx.clone() else { return };
        if let Some((_, old)) = self.conns.remove(&sid) {
            old.iter().for_each(AbortHandle::abort);
        }
        self.generation += 1;
        let generation = self.generation;
        let (read, write) = stream.into_split();
        let rx = self.queue(sid).subscribe();
        let send = self
            .tasks
            .spawn(send_worker(write, rx, sid, generation, tx.clone()));
        let events = self.events.clone();
        let (me, started) = (self.spec.sid, self.started);
        let recv = self.tasks.spawn(async move {
            let dropped = |why| report(&events, me, started, TcpEvent::Dropped(why));
            recv_worker(read, sid, &tx, dropped).await;
            let _ = tx.send(Inbound::Down { sid, generation }).await;
        });
        self.conns.insert(sid, (generation, vec![send, recv]));
        self.report(TcpEvent::Connected(sid));
    }
}

fn report(events: &mpsc::UnboundedSender<Traced>, sid: Sid, started: Instant, event: TcpEvent) {
    let _ = events.send(Traced {
        sid,
        at_ms: started.elapsed().as_millis(),
        event,
    });
}

/// `SendWorker`: send the latest message (again, on a fresh connection),
/// then each newer one.
async fn send_worker(
    mut write: OwnedWriteHalf,
    mut rx: watch::Receiver<Option<Arc<Vec<u8>>>>,
    sid: Sid,
    generation: u64,
    tx: mpsc::Sender<Inbound>,
) {
    loop {
        let latest = rx.borrow_and_update().clone();
        if let Some(bytes) = latest {
            if wire::write_frame(&mut write, &bytes).await.is_err() {
                break;
            }
        }
        if rx.changed().await.is_err() {
            break;
        }
    }
    let _ = tx.send(Inbound::Down { sid, generation }).await;
}

/// `RecvWorker`: frames in, messages to the main loop. A bad message is
/// skipped (and reported); a bad frame ends the connection.
async fn recv_worker(
    mut read: OwnedReadHalf,
    sid: Sid,
    tx: &mpsc::Sender<Inbound>,
    dropped: impl Fn(String),
) {
    loop {
        let payload = match wire::read_frame(&mut read).await {
            Ok(p) => p,
            Err(WireError::Io(_)) => return,
            Err(e) => return dropped(format!("from n{sid}: {e}; connection closed")),
        };
        match Message::decode(&payload) {
            Ok(msg) => {
                if tx.send(Inbound::Msg { from: sid, msg }).await.is_err() {
                    return;
                }
            }
            Err(e) => dropped(format!("from n{sid}: {e}; message skipped")),
        }
    }
}

/// `Listener` + `handleConnection`: read each initiator's initial message,
/// keep connections from larger sids, call smaller ones back.
async fn accept_loop(
    listener: TcpListener,
    my_sid: Sid,
    tx: mpsc::Sender<Inbound>,
    events: mpsc::UnboundedSender<Traced>,
    started: Instant,
) {
    let mut handshakes = JoinSet::new();
    loop {
        let Ok((mut stream, remote)) = listener.accept().await else {
            // Out of file descriptors, say: back off instead of spinning,
            // as upstream's Listener does, and keep serving.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let (tx, events) = (tx.clone(), events.clone());
        handshakes.spawn(async move {
            let hello = match timeout(CNX_TIMEOUT, InitialMessage::read(&mut stream)).await {
                Ok(Ok(hello)) => hello,
                Ok(Err(e)) => {
                    let why = format!("handshake from {remote}: {e}; connection closed");
                    return report(&events, my_sid, started, TcpEvent::Dropped(why));
                }
                Err(_) => {
                    let why = format!("handshake from {remote}: timed out");
                    return report(&events, my_sid, started, TcpEvent::Dropped(why));
                }
            };
            // ANCHOR: tie_break
            let inbound = match hello.sid {
                // A smaller sid: close, and connect back ourselves.
                sid if sid < my_sid => Inbound::ConnectBack { sid },
                // Our own id: a configuration error (ZOOKEEPER-2164).
                sid if sid == my_sid => {
                    let why = format!("{remote} claims our own sid {sid}; connection closed");
                    return report(&events, my_sid, started, TcpEvent::Dropped(why));
                }
                // A larger sid initiated: this is the connection to keep.
                sid => Inbound::Up { sid, stream },
            };
            // ANCHOR_END: tie_break
            let _ = tx.send(inbound).await;
        });
        // Reap finished handshakes so the set stays small.
        while handshakes.try_join_next().is_some() {}
    }
}
