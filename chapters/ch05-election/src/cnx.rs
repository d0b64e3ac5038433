//! The election port's connections, whatever the frames carry: ZooKeeper's
//! `QuorumCnxManager` in miniature.
//!
//! The idea to take away: between two servers there is **one** connection,
//! and which one is decided by a rule both ends apply alone: the connection
//! the larger sid opened. Everything else follows from it:
//!
//! - **one connection per pair, initiated by the larger sid**: a server
//!   that accepts a connection from a smaller sid closes it and connects
//!   back; a smaller sid that connects sends its initial message and then
//!   closes its own socket, so the larger one calls back;
//! - **a send queue of capacity 1 per peer**: a newer frame replaces one
//!   not yet sent, and a fresh connection starts by sending the latest
//!   frame again (duplicates are harmless to an election);
//! - **a slot of its own for the heartbeat**: upstream's election port
//!   carries only notifications, but chapter 5's stand-in heartbeat
//!   ([`crate::standin`]) rides on it too. Its frames wait beside the
//!   latest notification, never in its place, and leave after it: a ping
//!   queued a tick later must not replace a vote to a latecomer that is
//!   not sent yet ([`Connections::send_heartbeat`]);
//! - **bad bytes never stop a server**: a malformed handshake or frame
//!   closes that one connection and is reported ([`CnxReport::Dropped`]).
//!
//! [`Connections`] lives inside its owner's event loop, which polls the
//! receiver [`Connections::start`] returns and hands every event back to
//! [`Connections::handle`]; what comes out is a received frame. Chapter 5's
//! driver ([`crate::tcp`]) puts election messages in the frames, chapter 6's
//! quorum peer puts its notifications. Messages to oneself are the owner's
//! business: they never reach a socket.
//!
//! Differences from upstream: the receive queue (capacity 100) applies
//! back-pressure to the sockets instead of dropping its oldest message, and
//! connections are not authenticated (no SASL).
//!
//! Upstream: `QuorumCnxManager` (`connectOne`, `startConnection`,
//! `handleConnection`, `SendWorker`, `RecvWorker`), `Listener`.

use crate::wire::{self, InitialMessage, WireError};
use ch01_znode::Sid;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::{AbortHandle, JoinSet};
use tokio::time::timeout;

/// How long to wait for a connection or a handshake (`cnxTimeout`).
pub const CNX_TIMEOUT: Duration = Duration::from_millis(5000);
/// The receive queue's bound (`RECV_CAPACITY`).
pub const RECV_CAPACITY: usize = 100;

/// What the connections report besides the frames they receive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CnxReport {
    /// A connection to a peer is up.
    Connected(Sid),
    /// Bytes from a peer were refused, or a connection to it could not be opened (the
    /// text says which and what happened).
    Dropped(String),
}

/// Where reports go; called from the socket tasks, so it must not block.
pub type Reporter = Arc<dyn Fn(CnxReport) + Send + Sync>;

/// Something the socket tasks tell the owner's loop: hand it to
/// [`Connections::handle`].
pub struct CnxEvent(Inbound);

enum Inbound {
    Frame { from: Sid, payload: Vec<u8> },
    Up { sid: Sid, stream: TcpStream },
    Down { sid: Sid, generation: u64 },
    ConnectBack { sid: Sid },
    ConnectDone { sid: Sid },
}

// ANCHOR: outbox
/// What waits to be sent to one peer: the latest notification and, beside it, the latest
/// heartbeat frame. Each is numbered, so that a send worker knows which it has sent.
#[derive(Clone, Debug, Default)]
struct Outbox {
    notification: Slot,
    heartbeat: Slot,
}

/// A frame and its number (from 1, in the order queued).
type Slot = Option<(u64, Arc<Vec<u8>>)>;

impl Outbox {
    /// The frames newer than the numbers in `sent` (a fresh connection's are 0: it sends
    /// both again), the notification first; `sent` moves past them.
    fn due(&self, sent: &mut [u64; 2]) -> Vec<Arc<Vec<u8>>> {
        let slots = [&self.notification, &self.heartbeat];
        let mut due = Vec::new();
        for (slot, sent) in slots.into_iter().zip(sent) {
            if let Some((number, bytes)) = slot {
                if number > sent {
                    *sent = *number;
                    due.push(bytes.clone());
                }
            }
        }
        due
    }
}
// ANCHOR_END: outbox

type Queue = watch::Sender<Outbox>;

/// One server's election connections. Dropping it stops every task and
/// closes every socket.
pub struct Connections {
    me: Sid,
    addrs: BTreeMap<Sid, SocketAddr>,
    report: Reporter,
    tx: mpsc::Sender<CnxEvent>,
    queues: BTreeMap<Sid, Queue>,
    conns: BTreeMap<Sid, (u64, Vec<AbortHandle>)>,
    connecting: BTreeSet<Sid>,
    generation: u64,
    /// The number of the last frame queued, for any peer.
    queued: u64,
    tasks: JoinSet<()>,
}

impl Connections {
    /// Accepts connections on `listener` for server `me` of the ensemble
    /// whose election addresses are `addrs` (`me`'s included). The owner
    /// must keep polling the receiver (at most [`RECV_CAPACITY`] events wait
    /// in it; beyond that the sockets wait).
    pub fn start(
        me: Sid,
        addrs: BTreeMap<Sid, SocketAddr>,
        listener: TcpListener,
        report: Reporter,
    ) -> (Connections, mpsc::Receiver<CnxEvent>) {
        let (tx, rx) = mpsc::channel(RECV_CAPACITY);
        let mut tasks = JoinSet::new();
        tasks.spawn(accept_loop(listener, me, tx.clone(), report.clone()));
        let cnx = Connections {
            me,
            addrs,
            report,
            tx,
            queues: BTreeMap::new(),
            conns: BTreeMap::new(),
            connecting: BTreeSet::new(),
            generation: 0,
            queued: 0,
            tasks,
        };
        (cnx, rx)
    }

    /// Queues the notification `payload` for `to` (replacing one not sent
    /// yet) and makes sure a connection is up or on its way.
    pub fn send(&mut self, to: Sid, payload: Vec<u8>) {
        let frame = self.number(payload);
        self.queue(to).send_modify(|o| o.notification = frame);
        self.connect(to);
    }

    /// Queues a heartbeat frame for `to`: it replaces a heartbeat not sent
    /// yet, never a notification, and leaves after the notification waiting
    /// beside it.
    pub fn send_heartbeat(&mut self, to: Sid, payload: Vec<u8>) {
        let frame = self.number(payload);
        self.queue(to).send_modify(|o| o.heartbeat = frame);
        self.connect(to);
    }

    fn number(&mut self, payload: Vec<u8>) -> Slot {
        self.queued += 1;
        Some((self.queued, Arc::new(payload)))
    }

    /// Carries out what a socket task said; a received frame comes back as
    /// `(from, payload)` for the owner to decode.
    pub fn handle(&mut self, event: CnxEvent) -> Option<(Sid, Vec<u8>)> {
        // Reap finished tasks (handshakes, connection attempts) so the set stays small.
        while self.tasks.try_join_next().is_some() {}
        match event.0 {
            Inbound::Frame { from, payload } => return Some((from, payload)),
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
        None
    }

    /// The send queue to `sid`: one notification, one heartbeat.
    fn queue(&mut self, sid: Sid) -> &Queue {
        self.queues
            .entry(sid)
            .or_insert_with(|| watch::channel(Outbox::default()).0)
    }

    /// `connectOne`: open a connection to `sid` unless one is up or opening.
    fn connect(&mut self, sid: Sid) {
        if self.conns.contains_key(&sid) || self.connecting.contains(&sid) {
            return;
        }
        let (Some(&addr), Some(&me)) = (self.addrs.get(&sid), self.addrs.get(&self.me)) else {
            return;
        };
        self.connecting.insert(sid);
        let (my_sid, tx, report) = (self.me, self.tx.clone(), self.report.clone());
        self.tasks.spawn(async move {
            let hello = InitialMessage {
                sid: my_sid,
                addr: me.to_string(),
            };
            match timeout(CNX_TIMEOUT, TcpStream::connect(addr)).await {
                Ok(Ok(mut stream)) => {
                    let sent = stream.write_all(&hello.encode()).await.is_ok();
                    if sent && sid < my_sid {
                        // We are the larger sid: this is the connection to keep.
                        let _ = tx.send(CnxEvent(Inbound::Up { sid, stream })).await;
                    }
                    // Otherwise we lost the tie-break: dropping the socket makes
                    // the larger sid connect back to us.
                }
                // Said at each failed attempt, as upstream's `initiateConnection` logs it:
                // the one line that shows a peer down, a wrong address or a firewall.
                // Attempts come only as often as the election (or the heartbeat) sends.
                Ok(Err(e)) => report(CnxReport::Dropped(unreachable(sid, addr, &e))),
                Err(_) => {
                    let why = format!("timed out after {CNX_TIMEOUT:?}");
                    report(CnxReport::Dropped(unreachable(sid, addr, &why)));
                }
            }
            let _ = tx.send(CnxEvent(Inbound::ConnectDone { sid })).await;
        });
    }

    /// A connection to `sid` is established: start its send and receive
    /// workers, replacing any older connection.
    fn up(&mut self, sid: Sid, stream: TcpStream) {
        if let Some((_, old)) = self.conns.remove(&sid) {
            old.iter().for_each(AbortHandle::abort);
        }
        self.generation += 1;
        let generation = self.generation;
        let (read, write) = stream.into_split();
        let rx = self.queue(sid).subscribe();
        let tx = self.tx.clone();
        let send = self
            .tasks
            .spawn(send_worker(write, rx, sid, generation, tx.clone()));
        let report = self.report.clone();
        let recv = self.tasks.spawn(async move {
            recv_worker(read, sid, &tx, &report).await;
            let _ = tx.send(CnxEvent(Inbound::Down { sid, generation })).await;
        });
        self.conns.insert(sid, (generation, vec![send, recv]));
        (self.report)(CnxReport::Connected(sid));
    }
}

/// Why a connection to peer `sid` at `addr` could not be opened, in upstream's words
/// (`QuorumCnxManager`: "Cannot open channel to 3 at election address /127.0.0.1:3890").
fn unreachable(sid: Sid, addr: SocketAddr, why: &dyn std::fmt::Display) -> String {
    format!("cannot open channel to n{sid} at election address {addr}: {why}")
}

/// `SendWorker`: send the latest frames (again, on a fresh connection), then
/// each newer one.
async fn send_worker(
    mut write: OwnedWriteHalf,
    mut rx: watch::Receiver<Outbox>,
    sid: Sid,
    generation: u64,
    tx: mpsc::Sender<CnxEvent>,
) {
    let mut sent = [0, 0];
    'connection: loop {
        let due = rx.borrow_and_update().due(&mut sent);
        for bytes in due {
            if wire::write_frame(&mut write, &bytes).await.is_err() {
                break 'connection;
            }
        }
        if rx.changed().await.is_err() {
            break;
        }
    }
    let _ = tx.send(CnxEvent(Inbound::Down { sid, generation })).await;
}

/// `RecvWorker`: frames in, to the owner's loop. A bad frame ends the
/// connection.
async fn recv_worker(
    mut read: OwnedReadHalf,
    sid: Sid,
    tx: &mpsc::Sender<CnxEvent>,
    report: &Reporter,
) {
    loop {
        let payload = match wire::read_frame(&mut read).await {
            Ok(p) => p,
            Err(WireError::Io(_)) => return,
            Err(e) => {
                let why = format!("from n{sid}: {e}; connection closed");
                return report(CnxReport::Dropped(why));
            }
        };
        let frame = Inbound::Frame { from: sid, payload };
        if tx.send(CnxEvent(frame)).await.is_err() {
            return;
        }
    }
}

/// `Listener` + `handleConnection`: read each initiator's initial message,
/// keep connections from larger sids, call smaller ones back.
async fn accept_loop(
    listener: TcpListener,
    my_sid: Sid,
    tx: mpsc::Sender<CnxEvent>,
    report: Reporter,
) {
    let mut handshakes = JoinSet::new();
    loop {
        let Ok((mut stream, remote)) = listener.accept().await else {
            // Out of file descriptors, say: back off instead of spinning,
            // as upstream's Listener does, and keep serving.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let (tx, report) = (tx.clone(), report.clone());
        handshakes.spawn(async move {
            let hello = match timeout(CNX_TIMEOUT, InitialMessage::read(&mut stream)).await {
                Ok(Ok(hello)) => hello,
                Ok(Err(e)) => {
                    let why = format!("handshake from {remote}: {e}; connection closed");
                    return report(CnxReport::Dropped(why));
                }
                Err(_) => {
                    let why = format!("handshake from {remote}: timed out");
                    return report(CnxReport::Dropped(why));
                }
            };
            // ANCHOR: tie_break
            let inbound = match hello.sid {
                // A smaller sid: close, and connect back ourselves.
                sid if sid < my_sid => Inbound::ConnectBack { sid },
                // Our own id: a configuration error (ZOOKEEPER-2164).
                sid if sid == my_sid => {
                    let why = format!("{remote} claims our own sid {sid}; connection closed");
                    return report(CnxReport::Dropped(why));
                }
                // A larger sid initiated: this is the connection to keep.
                sid => Inbound::Up { sid, stream },
            };
            // ANCHOR_END: tie_break
            let _ = tx.send(CnxEvent(inbound)).await;
        });
        // Reap finished handshakes so the set stays small.
        while handshakes.try_join_next().is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUND: Duration = Duration::from_secs(30);

    fn frame(number: u64, bytes: &[u8]) -> Slot {
        Some((number, Arc::new(bytes.to_vec())))
    }

    /// A fresh connection sends both slots again, the notification first; then only what
    /// is newer than what it sent.
    #[test]
    fn an_outbox_sends_the_notification_then_the_heartbeat_each_once() {
        let mut outbox = Outbox {
            notification: frame(1, b"vote"),
            heartbeat: frame(2, b"ping"),
        };
        let mut sent = [0, 0];
        let due = outbox.due(&mut sent);
        assert_eq!(
            due,
            [Arc::new(b"vote".to_vec()), Arc::new(b"ping".to_vec())]
        );
        assert!(outbox.due(&mut sent).is_empty());
        outbox.heartbeat = frame(3, b"ping2");
        assert_eq!(outbox.due(&mut sent), [Arc::new(b"ping2".to_vec())]);
    }

    /// A peer that cannot be reached is named with its election address and the system's
    /// reason, as upstream logs "Cannot open channel to 1 at election address
    /// /127.0.0.1:3888" at each attempt (`QuorumCnxManager.initiateConnection`).
    #[tokio::test]
    async fn a_peer_that_cannot_be_reached_is_reported_with_its_election_address() {
        // A port nothing listens on any more: connecting is refused.
        let gone = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let gone_addr = gone.local_addr().unwrap();
        drop(gone);
        let ours = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addrs = BTreeMap::from([(Sid(1), gone_addr), (Sid(2), ours.local_addr().unwrap())]);
        let (reports_tx, mut reports) = mpsc::unbounded_channel();
        let reporter: Reporter = Arc::new(move |r| {
            let _ = reports_tx.send(r);
        });
        let (mut cnx, _events) = Connections::start(Sid(2), addrs, ours, reporter);
        cnx.send(Sid(1), b"vote".to_vec());

        let report = timeout(BOUND, reports.recv()).await.unwrap().unwrap();
        let CnxReport::Dropped(why) = report else {
            panic!("not a failed connection: {report:?}");
        };
        let named = format!("cannot open channel to n1 at election address {gone_addr}: ");
        assert!(why.starts_with(&named), "{why}");
    }

    /// The stand-in leader's ping queued after a vote to a latecomer that is not sent yet
    /// does not replace it: upstream's election port carries only notifications, and its
    /// send queue drops only an older notification (`QuorumCnxManager.addToSendQueue`,
    /// `SEND_CAPACITY = 1`). Both are queued before the connection is up, and the peer
    /// reads the vote, then the ping.
    #[tokio::test]
    async fn a_heartbeat_never_replaces_a_notification_not_sent_yet() {
        let peer = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ours = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addrs = BTreeMap::from([
            (Sid(1), peer.local_addr().unwrap()),
            (Sid(2), ours.local_addr().unwrap()),
        ]);
        let (mut cnx, mut events) = Connections::start(Sid(2), addrs, ours, Arc::new(|_| {}));
        cnx.send(Sid(1), b"vote".to_vec());
        cnx.send_heartbeat(Sid(1), b"ping".to_vec());

        // We are the larger sid: our connection is kept, and its send worker starts when
        // the loop hands the connection over.
        let (mut socket, _) = timeout(BOUND, peer.accept()).await.unwrap().unwrap();
        let hello = InitialMessage::read(&mut socket).await.unwrap();
        assert_eq!(hello.sid, Sid(2));
        let up = timeout(BOUND, events.recv()).await.unwrap().unwrap();
        assert!(matches!(up.0, Inbound::Up { .. }));
        assert_eq!(cnx.handle(up), None);

        for expected in [&b"vote"[..], b"ping"] {
            let read = timeout(BOUND, wire::read_frame(&mut socket)).await.unwrap();
            assert_eq!(read.unwrap(), expected);
        }
    }
}
