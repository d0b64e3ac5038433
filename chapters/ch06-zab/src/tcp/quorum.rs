//! The quorum port: learners connect to their leader, and each connection is a stream of
//! packets with nothing between them.
//!
//! The idea to take away: **the core's [`Link`] is a TCP connection here.** A learner's link
//! is one it opens itself: the first packet the core sends on a new link opens a connection
//! to the leader's quorum port. If that fails, or the other side closes it before saying
//! anything (it does not lead: one still electing holds the connection until it decides),
//! the core hears `Refused` and applies upstream's
//! retry rule: 5 tries, 100 ms apart, `Learner.connectToLeader`; a connection that ends later
//! is `Disconnected`, the end of following. On a leader, a
//! link is born when an accepted connection's first packet, FOLLOWERINFO or OBSERVERINFO,
//! says which member is calling; anything else, or a server that is not a member, or
//! silence for `initLimit` ticks, closes it.
//!
//! Each connection has two halves, as upstream's `LearnerHandler` (and its sender thread)
//! has: a reader that turns bytes into messages ([`crate::wire::read_message`]), and a writer
//! that drains a bounded queue ([`QUEUE_PACKETS`] batches, [`QUEUE_BYTES`] bytes). The main
//! loop encodes a turn's packets for one connection into one batch and sends it once, at the
//! end of its turn ([`Quorum::send_batches`]): a group commit's PROPOSALs and COMMITs leave in
//! one socket write, not one per packet. It makes that write itself, without waiting, when
//! nothing is queued before the batch, as chapter 3's core writes its replies
//! ([`Clients`](ch03_sessions::server::Clients)): a PROPOSAL is in the followers' sockets
//! before the leader's own disk hears of it, and a follower's ACK leaves the moment its
//! `Logged` is stepped, with no hop to the writer's task (on another thread, often, and a
//! wake-up of a halted CPU costs tens of µs). Only what the socket does not take at once
//! goes to the writer, which waits for the socket. The main loop never waits on a connection:
//! a peer that does not read fills its queue and is dropped, and it resyncs when it comes
//! back. Every packet
//! received passes the connection's [`Guard`] first. Closing a link (the core's
//! `Disconnect`, a bad packet, a full queue) stops both halves at once.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ch01_znode::{Sid, Zxid};
use ch03_sessions::server::write_all;
use tokio::io::AsyncRead;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::timeout;

use super::guard::Guard;
use crate::message::{Link, Message};
use crate::packet::{PacketType, QuorumPacket, QuorumReader};
use crate::wire::{self, read_message, Received};

/// Batches of packets (one per turn of the main loop, or a SNAP) queued on one connection
/// before its peer counts as not keeping up.
pub const QUEUE_PACKETS: usize = 8192;
/// Bytes queued on one connection and not yet written, at most (a SNAP's snapshot is
/// written by the writer and not counted).
pub const QUEUE_BYTES: usize = 64 << 20;
/// Events from all quorum connections waiting for the main loop (then the sockets wait).
pub const EVENT_QUEUE: usize = 1024;
/// Quorum connections open at once on the quorum port; more are refused at accept.
pub const MAX_ACCEPTED: usize = 64;

/// Which socket an event is about: one a leader accepted (numbered as it came), or one a
/// learner opened for its link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Accepted(u32),
    Opened(Link),
}

/// What the socket tasks tell the main loop: hand it to [`Quorum::handle`].
pub struct QuorumEvent(Event);

enum Event {
    Accepted {
        key: Key,
        conn: Conn,
    },
    /// The quorum port turned a connection away at once.
    Refused(String),
    Received {
        key: Key,
        received: Box<Received>,
    },
    Closed {
        key: Key,
        why: Option<String>,
    },
}

/// What a packet or a closed socket means to the core.
pub enum Delivery {
    /// A message on a link.
    Message { from: Sid, link: Link, msg: Message },
    /// The link is gone; `why` is set when it is an error worth reporting.
    Closed { link: Link, why: Option<String> },
    /// A link of ours ended before its leader said anything on it: it was never accepted
    /// (nobody leads on that port, or not yet). Upstream sees a refused `connect`.
    NotAccepted { link: Link, why: Option<String> },
    /// A connection that never became a link was closed, for this reason.
    Refused(String),
}

/// What the writer sends.
enum Outgoing {
    /// A packet, encoded by the main loop.
    Bytes(Vec<u8>),
    /// A SNAP: the writer encodes the snapshot that follows it, off the main loop.
    Snap(Message),
}

/// One connection, as the main loop keeps it.
struct Conn {
    /// The link, once known (a leader learns it from FOLLOWERINFO).
    link: Option<Link>,
    /// The server at the other end, once known.
    peer: Option<Sid>,
    /// Its address (an accepted connection's, until it says who it is).
    remote: String,
    out: mpsc::Sender<Outgoing>,
    queued_bytes: Arc<AtomicUsize>,
    /// Batches handed to the writer and not yet written: while there are any, a batch of
    /// the main loop's must queue behind them.
    pending: Arc<AtomicUsize>,
    /// The socket's sending half, shared with the writer, once the connection is up.
    socket: Arc<OnceLock<OwnedWriteHalf>>,
    /// This turn's packets, encoded back to back, not yet handed to the writer.
    batch: Vec<u8>,
    /// Dropping it stops the reader and the writer.
    _stop: watch::Sender<()>,
    guard: Guard,
    /// The zxid of the last PING received, which the answer echoes.
    ping_zxid: Zxid,
    /// Whether anything has been received on it.
    heard: bool,
}

impl Conn {
    /// A connection's main-loop half, and what its two tasks need.
    fn new(link: Option<Link>, peer: Option<Sid>, remote: String, guard: Guard) -> (Conn, Halves) {
        let (out, queue) = mpsc::channel(QUEUE_PACKETS);
        let (stop_tx, stop) = watch::channel(());
        let queued_bytes = Arc::new(AtomicUsize::new(0));
        let pending = Arc::new(AtomicUsize::new(0));
        let socket = Arc::new(OnceLock::new());
        let conn = Conn {
            link,
            peer,
            remote,
            out,
            queued_bytes: queued_bytes.clone(),
            pending: pending.clone(),
            socket: socket.clone(),
            batch: Vec::new(),
            _stop: stop_tx,
            guard,
            ping_zxid: Zxid::ZERO,
            heard: false,
        };
        let halves = Halves {
            queue,
            queued_bytes,
            pending,
            socket,
            stop,
        };
        (conn, halves)
    }
}

impl Conn {
    // ANCHOR: hand_over
    /// Sends this turn's batch: written here if nothing is queued before it, the rest
    /// queued for the writer; false if its queue is full.
    fn hand_over(&mut self) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        let size = self.batch.len();
        let written = self.write_now();
        if written == size {
            // The next turn's batch is likely as big: its room is kept.
            self.batch.clear();
            return true;
        }
        let mut batch = std::mem::replace(&mut self.batch, Vec::with_capacity(size));
        batch.drain(..written);
        let rest = batch.len();
        self.offer(Outgoing::Bytes(batch), rest)
    }

    /// Writes as much of the batch as the socket takes now, without waiting; how many bytes.
    /// Only when the writer has nothing left to write (it counts a batch off `pending` once
    /// the batch is in the socket), so no earlier byte can be overtaken; and only once the
    /// connection is up. A socket that takes nothing now, or has failed, leaves the whole
    /// batch to the writer, which waits for it (or finds the failure and reports it).
    fn write_now(&self) -> usize {
        if self.pending.load(Ordering::Acquire) != 0 {
            return 0;
        }
        match self.socket.get() {
            Some(socket) => socket.try_write(&self.batch).unwrap_or(0),
            None => 0,
        }
    }
    // ANCHOR_END: hand_over

    /// Queues `outgoing` (`size` bytes of it counted); false if the queue is full.
    fn offer(&mut self, outgoing: Outgoing, size: usize) -> bool {
        if self.queued_bytes.load(Ordering::Relaxed) + size > QUEUE_BYTES {
            return false;
        }
        // Counted before the writer can see it, so its count never goes below zero.
        self.queued_bytes.fetch_add(size, Ordering::Relaxed);
        self.pending.fetch_add(1, Ordering::Relaxed);
        match self.out.try_send(outgoing) {
            Ok(()) => true,
            Err(e) => {
                self.queued_bytes.fetch_sub(size, Ordering::Relaxed);
                self.pending.fetch_sub(1, Ordering::Relaxed);
                // A closed queue: the writer ended (its socket failed), and the reader
                // reports why.
                matches!(e, TrySendError::Closed(_))
            }
        }
    }
}

fn not_keeping_up(link: Link, to: Sid) -> String {
    format!(
        "quorum connection {link} to n{to} is not keeping up ({QUEUE_PACKETS} batches \
         or {QUEUE_BYTES} bytes queued); connection closed"
    )
}

/// What a connection's tasks take with them.
struct Halves {
    queue: mpsc::Receiver<Outgoing>,
    queued_bytes: Arc<AtomicUsize>,
    pending: Arc<AtomicUsize>,
    socket: Arc<OnceLock<OwnedWriteHalf>>,
    stop: watch::Receiver<()>,
}

/// The quorum connections of one server. Dropping it closes them all.
pub struct Quorum {
    me: Sid,
    /// Every member's quorum address.
    addrs: BTreeMap<Sid, SocketAddr>,
    /// How long a connection to the leader may take, and how long an accepted connection
    /// may stay silent before it says who it is (`initLimit * tickTime`).
    init_limit: Duration,
    /// The open connections, and which is each link's. A handful at most: a B-tree finds
    /// one in a few comparisons, where a hash map ran SipHash on every packet sent or read.
    conns: BTreeMap<Key, Conn>,
    by_link: BTreeMap<Link, Key>,
    /// The number of the last link of ours opened: if it is not open any more, it was
    /// closed, and a late packet for it must not open it again.
    last_opened: Option<u32>,
    /// The last PROPOSAL's txn as its packet carries it: every follower gets the same bytes,
    /// so they are encoded once.
    last_proposal: Option<(Zxid, Vec<u8>)>,
    tx: mpsc::Sender<QuorumEvent>,
    tasks: JoinSet<()>,
}

impl Quorum {
    /// Accepts learners on `listener` for server `me`; `addrs` are the members' quorum
    /// addresses. The owner must keep polling the receiver.
    pub fn start(
        me: Sid,
        addrs: BTreeMap<Sid, SocketAddr>,
        listener: TcpListener,
        init_limit: Duration,
    ) -> (Quorum, mpsc::Receiver<QuorumEvent>) {
        let (tx, rx) = mpsc::channel(EVENT_QUEUE);
        let mut tasks = JoinSet::new();
        tasks.spawn(accept_loop(listener, init_limit, tx.clone()));
        let quorum = Quorum {
            me,
            addrs,
            init_limit,
            conns: BTreeMap::new(),
            by_link: BTreeMap::new(),
            last_opened: None,
            last_proposal: None,
            tx,
            tasks,
        };
        (quorum, rx)
    }

    // ANCHOR: send
    /// Adds `msg` to `link`'s batch, opening the connection to `to` first if the link is ours
    /// and new; [`Quorum::send_batches`] hands the batch to the writer. `Err` says why the
    /// link had to be dropped (its queue is full): the core must be told it is disconnected.
    /// A link that is already gone swallows the message: the core hears (or has heard) that
    /// it closed.
    pub fn send(
        &mut self,
        to: Sid,
        link: Link,
        msg: Message,
        extended_types: bool,
    ) -> Result<(), String> {
        let key = match self.by_link.get(&link) {
            Some(key) => *key,
            // A link of ours the core has not used before: connect. (The core only ever
            // talks on its newest link; the last one we opened and closed stays closed.)
            None if link.learner == self.me && self.last_opened != Some(link.n) => {
                self.last_opened = Some(link.n);
                self.open(to, link, extended_types)
            }
            None => return Ok(()),
        };
        let Some(conn) = self.conns.get_mut(&key) else {
            return Ok(());
        };
        conn.guard.sent(&msg);
        let kept_up = match msg {
            // The snapshot is encoded by the writer, after what is batched before it.
            Message::Snap { .. } => conn.hand_over() && conn.offer(Outgoing::Snap(msg), 0),
            Message::Proposal(entry) => {
                let zxid = entry.txn.zxid;
                let data = match &mut self.last_proposal {
                    Some((z, data)) if *z == zxid => data,
                    last => &mut last.insert((zxid, entry.encode())).1,
                };
                QuorumPacket::write_parts(PacketType::Proposal, zxid, Some(data), &mut conn.batch);
                conn.queued_bytes.load(Ordering::Relaxed) + conn.batch.len() <= QUEUE_BYTES
            }
            msg => {
                wire::encode_into(&msg, self.me, conn.ping_zxid, &mut conn.batch);
                conn.queued_bytes.load(Ordering::Relaxed) + conn.batch.len() <= QUEUE_BYTES
            }
        };
        if !kept_up {
            self.remove(key);
            return Err(not_keeping_up(link, to));
        }
        Ok(())
    }
    // ANCHOR_END: send

    /// Hands every connection's batch to its writer: the end of a turn. Returns the links
    /// that had to be dropped (their queues are full), each with why: the core must be told
    /// they are disconnected.
    pub fn send_batches(&mut self) -> Vec<(Link, String)> {
        let mut dropped = Vec::new();
        for conn in self.conns.values_mut() {
            if !conn.hand_over() {
                let link = conn.link.expect("only a link's connection is sent to");
                let to = conn.peer.unwrap_or(link.learner);
                dropped.push((link, not_keeping_up(link, to)));
            }
        }
        for (link, _) in &dropped {
            self.disconnect(*link);
        }
        dropped
    }
    /// Closes `link` at once (what is still queued is not sent).
    pub fn disconnect(&mut self, link: Link) {
        if let Some(key) = self.by_link.get(&link).copied() {
            self.remove(key);
        }
    }

    /// Whether `link` is open (for tests and status).
    pub fn is_open(&self, link: Link) -> bool {
        self.by_link.contains_key(&link)
    }

    /// Carries out what a socket task said; what it means to the core comes back.
    pub fn handle(&mut self, event: QuorumEvent) -> Option<Delivery> {
        while self.tasks.try_join_next().is_some() {}
        match event.0 {
            Event::Accepted { key, conn } => {
                self.conns.insert(key, conn);
                None
            }
            Event::Refused(why) => Some(Delivery::Refused(why)),
            Event::Received { key, received } => self.received(key, *received),
            Event::Closed { key, why } => {
                let conn = self.remove(key)?;
                match conn.link {
                    Some(link) if matches!(key, Key::Opened(_)) && !conn.heard => {
                        Some(Delivery::NotAccepted { link, why })
                    }
                    Some(link) => Some(Delivery::Closed { link, why }),
                    None => why.map(|why| {
                        let remote = conn.remote;
                        Delivery::Refused(format!(
                            "quorum port, from {remote}: {why}; connection closed"
                        ))
                    }),
                }
            }
        }
    }

    // ANCHOR: received
    fn received(&mut self, key: Key, received: Received) -> Option<Delivery> {
        let Received { msg, learner } = received;
        let conn = self.conns.get_mut(&key)?;
        let link = match (conn.link, key) {
            (Some(link), _) => link,
            // A leader's accepted connection: its first packet must say which member calls.
            (None, Key::Accepted(n)) => {
                let sid = match learner {
                    Some(info) if info.sid == self.me => {
                        Err(format!("{} claims our own sid {}", msg.name(), info.sid))
                    }
                    Some(info) if !self.addrs.contains_key(&info.sid) => Err(format!(
                        "{} from n{}, which is not a member",
                        msg.name(),
                        info.sid
                    )),
                    Some(info) => Ok(info.sid),
                    None => Err(format!(
                        "{} before FOLLOWERINFO or OBSERVERINFO",
                        msg.name()
                    )),
                };
                let sid = match sid {
                    Ok(sid) => sid,
                    Err(why) => {
                        let remote = std::mem::take(&mut conn.remote);
                        self.remove(key);
                        return Some(Delivery::Refused(format!(
                            "quorum port, from {remote}: {why}; connection closed"
                        )));
                    }
                };
                let link = Link { learner: sid, n };
                conn.link = Some(link);
                conn.peer = Some(sid);
                self.by_link.insert(link, key);
                link
            }
            (None, Key::Opened(link)) => link,
        };
        if let Err(why) = conn.guard.received(&msg) {
            self.remove(key);
            return Some(Delivery::Closed {
                link,
                why: Some(why),
            });
        }
        if let Message::Ping(zxid) = msg {
            conn.ping_zxid = zxid;
        }
        conn.heard = true;
        let from = conn.peer.unwrap_or(link.learner);
        Some(Delivery::Message { from, link, msg })
    }
    // ANCHOR_END: received

    fn remove(&mut self, key: Key) -> Option<Conn> {
        let conn = self.conns.remove(&key)?;
        if let Some(link) = conn.link {
            self.by_link.remove(&link);
        }
        Some(conn)
    }

    /// A new link of ours: connect to `to`'s quorum port, then read and write.
    fn open(&mut self, to: Sid, link: Link, extended_types: bool) -> Key {
        let key = Key::Opened(link);
        let addr = self.addrs.get(&to).copied();
        let remote = addr.map_or_else(String::new, |a| a.to_string());
        let (conn, halves) = Conn::new(Some(link), Some(to), remote, Guard::learner());
        self.conns.insert(key, conn);
        self.by_link.insert(link, key);
        let (tx, me, limit) = (self.tx.clone(), self.me, self.init_limit);
        self.tasks.spawn(async move {
            let stream = match addr {
                None => Err(format!("n{to} has no quorum address")),
                Some(addr) => match timeout(limit, TcpStream::connect(addr)).await {
                    Ok(Ok(stream)) => Ok(stream),
                    Ok(Err(e)) => Err(format!("cannot connect to n{to} at {addr}: {e}")),
                    Err(_) => Err(format!("connecting to n{to} at {addr} timed out")),
                },
            };
            match stream {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    let (read, write) = stream.into_split();
                    run_halves(read, write, key, me, None, extended_types, halves, tx).await;
                }
                Err(why) => {
                    let closed = Event::Closed {
                        key,
                        why: Some(why),
                    };
                    let _ = tx.send(QuorumEvent(closed)).await;
                }
            }
        });
        key
    }
}

/// The reader and the writer of one connection, until either ends or the main loop stops
/// them.
#[allow(clippy::too_many_arguments)]
async fn run_halves(
    read: OwnedReadHalf,
    write: OwnedWriteHalf,
    key: Key,
    me: Sid,
    first_within: Option<Duration>,
    extended_types: bool,
    halves: Halves,
    tx: mpsc::Sender<QuorumEvent>,
) {
    let Halves {
        queue,
        queued_bytes,
        pending,
        socket,
        stop,
    } = halves;
    // Set once, here: from now on the main loop may write to it too.
    let _ = socket.set(write);
    let reader = read_loop(
        QuorumReader::new(read),
        key,
        first_within,
        extended_types,
        tx.clone(),
    );
    let writer = write_loop(socket, queue, queued_bytes, pending, me, key, tx);
    let mut stop = stop;
    tokio::select! {
        _ = stop.changed() => {}
        () = reader => {}
        () = writer => {}
    }
}

// ANCHOR: read_loop
/// Messages in, to the main loop, until the stream ends or breaks. The first must come
/// within `first_within`, if set.
async fn read_loop<R: AsyncRead + Unpin>(
    mut reader: QuorumReader<R>,
    key: Key,
    mut first_within: Option<Duration>,
    extended_types: bool,
    tx: mpsc::Sender<QuorumEvent>,
) {
    loop {
        let next = read_message(&mut reader, extended_types);
        let read = match first_within.take() {
            None => next.await.map_err(|e| e.to_string()),
            Some(limit) => match timeout(limit, next).await {
                Ok(read) => read.map_err(|e| e.to_string()),
                Err(_) => Err(format!("nothing received in {} ms", limit.as_millis())),
            },
        };
        let event = match read {
            Ok(Some(received)) => Event::Received {
                key,
                received: Box::new(received),
            },
            Ok(None) => Event::Closed { key, why: None },
            Err(why) => Event::Closed {
                key,
                why: Some(why),
            },
        };
        let last = matches!(event, Event::Closed { .. });
        if tx.send(QuorumEvent(event)).await.is_err() || last {
            return;
        }
    }
}
// ANCHOR_END: read_loop

/// Bytes the writer gathers from its queue before one socket write; a SNAP's snapshot is
/// written on its own.
const WRITE_BYTES: usize = 64 << 10;

/// Packets out, as the queue gives them: what is queued together leaves in one write.
async fn write_loop(
    socket: Arc<OnceLock<OwnedWriteHalf>>,
    mut queue: mpsc::Receiver<Outgoing>,
    queued_bytes: Arc<AtomicUsize>,
    pending: Arc<AtomicUsize>,
    me: Sid,
    key: Key,
    tx: mpsc::Sender<QuorumEvent>,
) {
    let write = socket
        .get()
        .expect("the socket is set before the writer starts");
    let mut gathered = Vec::new();
    while let Some(first) = queue.recv().await {
        let mut next = Some(first);
        let (mut batches, mut bytes) = (0, 0);
        let written: std::io::Result<()> = async {
            while let Some(outgoing) = next.take() {
                batches += 1;
                match outgoing {
                    Outgoing::Bytes(batch) => {
                        if gathered.len() + batch.len() > WRITE_BYTES {
                            write_all(write, &gathered).await?;
                            gathered.clear();
                        }
                        bytes += batch.len();
                        gathered.extend_from_slice(&batch);
                    }
                    Outgoing::Snap(msg) => {
                        write_all(write, &gathered).await?;
                        gathered.clear();
                        // A whole database to encode: the main loop goes on meanwhile.
                        let snap = super::aside(|| wire::encode(&msg, me, Zxid::ZERO));
                        write_all(write, &snap).await?;
                    }
                }
                next = queue.try_recv().ok();
            }
            write_all(write, &gathered).await
        }
        .await;
        gathered.clear();
        gathered.shrink_to(WRITE_BYTES);
        if let Err(e) = written {
            let closed = Event::Closed {
                key,
                why: Some(format!("quorum connection: {e}")),
            };
            let _ = tx.send(QuorumEvent(closed)).await;
            return;
        }
        queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
        // In the socket: the main loop may write its next batch itself.
        pending.fetch_sub(batches, Ordering::Release);
    }
}

/// A leader's quorum port: each accepted connection reads and writes on its own, and the
/// main loop hears of it first ([`Event::Accepted`]).
async fn accept_loop(listener: TcpListener, init_limit: Duration, tx: mpsc::Sender<QuorumEvent>) {
    let open = Arc::new(Semaphore::new(MAX_ACCEPTED));
    let mut connections = JoinSet::new();
    let mut accepted = 0u32;
    loop {
        let Ok((stream, remote)) = listener.accept().await else {
            // Out of file descriptors, say: back off instead of spinning.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            let why = format!("quorum port: {remote} refused, {MAX_ACCEPTED} connections open");
            let _ = tx.send(QuorumEvent(Event::Refused(why))).await;
            continue;
        };
        accepted = accepted.wrapping_add(1);
        let key = Key::Accepted(accepted);
        let (conn, halves) = Conn::new(None, None, remote.to_string(), Guard::leader());
        let event = Event::Accepted { key, conn };
        if tx.send(QuorumEvent(event)).await.is_err() {
            return;
        }
        let tx = tx.clone();
        connections.spawn(serve_accepted(stream, key, init_limit, halves, tx, permit));
        while connections.try_join_next().is_some() {}
    }
}

async fn serve_accepted(
    stream: TcpStream,
    key: Key,
    init_limit: Duration,
    halves: Halves,
    tx: mpsc::Sender<QuorumEvent>,
    _permit: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let (read, write) = stream.into_split();
    // A leader never receives a SNAP, so how a snapshot would be read does not matter.
    run_halves(
        read,
        write,
        key,
        Sid(0),
        Some(init_limit),
        false,
        halves,
        tx,
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    /// A connection's main-loop half on one end of a loopback socket, its writer not
    /// started (so what is queued stays queued), and the other end.
    async fn connected() -> (Conn, Halves, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ours = TcpStream::connect(listener.local_addr().unwrap());
        let (ours, theirs) = tokio::join!(ours, listener.accept());
        let link = Link {
            learner: Sid(2),
            n: 1,
        };
        let (conn, halves) = Conn::new(Some(link), Some(Sid(1)), String::new(), Guard::learner());
        let (_read, write) = ours.unwrap().into_split();
        let _ = halves.socket.set(write);
        (conn, halves, theirs.unwrap().0)
    }

    /// With nothing queued for the writer, the main loop writes a turn's batch to the
    /// socket itself: the peer reads it, and the writer is handed nothing (no hop to its
    /// task; upstream's `LearnerHandler` queues every packet for its sender thread).
    #[tokio::test]
    async fn a_batch_with_nothing_queued_before_it_is_written_by_the_main_loop() {
        let (mut conn, mut halves, mut theirs) = connected().await;
        conn.batch.extend_from_slice(b"PROPOSAL");
        assert!(conn.hand_over());
        let mut read = [0; 8];
        theirs.read_exact(&mut read).await.unwrap();
        assert_eq!(&read, b"PROPOSAL");
        assert!(
            halves.queue.try_recv().is_err(),
            "the writer was handed nothing"
        );
        assert_eq!(conn.pending.load(Ordering::Relaxed), 0);
    }

    /// While the writer still has a batch to write, the next one queues behind it, so the
    /// peer reads the packets in the order they were sent.
    #[tokio::test]
    async fn a_batch_queues_behind_one_the_writer_has_not_written() {
        let (mut conn, halves, mut theirs) = connected().await;
        assert!(conn.offer(Outgoing::Bytes(b"first".to_vec()), 5));
        conn.batch.extend_from_slice(b"second");
        assert!(conn.hand_over());
        assert_eq!(conn.pending.load(Ordering::Relaxed), 2);
        assert_eq!(conn.queued_bytes.load(Ordering::Relaxed), 11);
        let Halves {
            queue,
            queued_bytes,
            pending,
            socket,
            ..
        } = halves;
        let (tx, _rx) = mpsc::channel(1);
        let writer = tokio::spawn(write_loop(
            socket,
            queue,
            queued_bytes.clone(),
            pending.clone(),
            Sid(2),
            Key::Opened(conn.link.unwrap()),
            tx,
        ));
        let mut read = [0; 11];
        theirs.read_exact(&mut read).await.unwrap();
        assert_eq!(&read, b"firstsecond");
        drop(conn);
        writer.await.unwrap();
        assert_eq!(pending.load(Ordering::Relaxed), 0);
        assert_eq!(queued_bytes.load(Ordering::Relaxed), 0);
    }
}
