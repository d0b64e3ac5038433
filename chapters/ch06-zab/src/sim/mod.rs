//! Zab in chapter 4's simulator: servers with disks, clients with scripts, one network.
//!
//! The idea to take away: to see a write travel the course's two pictures — client to
//! follower, follower to leader, leader to everyone and back — every party must be a node of
//! the same simulation: the servers ([`ServerNode`]: a [`QuorumPeer`](crate::peer::QuorumPeer) with a simulated disk)
//! and the clients ([`ClientNode`]: scripted ZooKeeper clients, named `c1`, `c2`, …). One
//! seed then fixes the whole run, the latency of every message, the speed of every disk, and
//! every fault.
//!
//! What this adapter adds to the peer, it adds the way a real server's surroundings would:
//! - a **disk** per server: appends are flushed together after the disk's latency (group
//!   commit), then reported as logged; a crash keeps what was flushed and at most a prefix of
//!   the rest, maybe ending in a torn record; a restart cuts the torn record off and rebuilds
//!   the database from the snapshot and the log ([`Disk`]); fsync may fail and the disk may
//!   fill up, and either stops the server ([`disk_faults`]); a periodic snapshot is walked a
//!   slice per step while txns go on being applied, as a fuzzy one is ([`fuzzy`]);
//! - **connections**: TCP's in-order-or-closed delivery on top of a network that may lose,
//!   duplicate and reorder ([`stream`]);
//! - a **power switch**: a server may start later than the run, as the course starts its
//!   servers one by one;
//! - a **lag**: a server may read what its leader sends some time after it arrives, as a busy
//!   or far-away follower does, so a client can read stale data from it.
//!
//! # Layout
//! - [`stream`]: sequence numbers that turn network faults into closed connections.
//! - [`server`]: [`ServerNode`] and its [`Disk`].
//! - [`disk_faults`]: what a crash leaves of the unsynced tail, failing fsyncs, a full disk.
//! - [`fuzzy`]: a snapshot walked a slice per step, and read back once it is written.
//! - [`client`]: [`ClientNode`], its script (or random work) and the history it records for
//!   the checkers.
//! - [`ledger`]: what the checkers watch beside the servers: every txn, every lineage.

pub mod client;
pub mod disk_faults;
pub mod fuzzy;
pub mod ledger;
pub mod server;
pub mod stream;

use std::fmt;

use ch03_sessions::pipeline::ServerMessage;
use ch03_sessions::proto::{self, ConnectRequest};
use ch04_paxos::sim::{Input, Millis, NodeId, Output, Process};
use ch05_election::notification::Notification;
use serde::Serialize;

pub use client::{ClientNode, ClientOp, HistoryEvent, Outcome, RandomWork, Script};
pub use disk_faults::{DiskEvent, DiskFaults};
pub use server::{Disk, ServerNode};

use crate::message::{Link, Message};
use crate::peer::Timer as PeerTimer;
use crate::trace::Note;

// ANCHOR: wire
/// Everything that travels between nodes.
#[derive(Clone, Debug, PartialEq, Hash)]
pub enum Wire {
    /// An election notification (chapter 5).
    Election(Notification),
    /// A Zab packet, numbered on its connection.
    Zab { link: Link, seq: u64, msg: Message },
    /// The other end closed the Zab connection.
    ZabClosed { link: Link },
    /// The server asked refused the Zab connection: it does not lead.
    ZabRefused { link: Link },
    /// A client's frame on its connection number `conn`.
    ToServer {
        conn: u32,
        seq: u64,
        frame: ClientFrame,
    },
    /// A server's frame to a client's connection `conn`.
    ToClient {
        conn: u32,
        seq: u64,
        frame: ServerFrame,
    },
}
// ANCHOR_END: wire

/// What a client sends.
#[derive(Clone, Debug, PartialEq, Hash)]
pub enum ClientFrame {
    /// The handshake.
    Connect(ConnectRequest),
    /// A request.
    Request { xid: i32, request: proto::Request },
    /// The client closed its end.
    Close,
}

/// What a server sends a client.
#[derive(Clone, Debug, PartialEq, Hash)]
pub enum ServerFrame {
    /// A handshake answer, a reply or a watch event.
    Message(ServerMessage),
    /// The server closed the connection.
    Close,
}

impl fmt::Display for Wire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Wire::Election(n) => n.fmt(f),
            Wire::Zab { msg, .. } => msg.fmt(f),
            Wire::ZabClosed { link } => write!(f, "connection {link} closed"),
            Wire::ZabRefused { link } => write!(f, "connection {link} refused"),
            Wire::ToServer { frame, .. } => match frame {
                ClientFrame::Connect(c) => write!(f, "connect {c}"),
                ClientFrame::Request { xid, request } => write!(f, "xid={xid} {request}"),
                ClientFrame::Close => f.write_str("closes the connection"),
            },
            Wire::ToClient { frame, .. } => match frame {
                ServerFrame::Message(ServerMessage::Connected(c)) => write!(f, "connected {c}"),
                ServerFrame::Message(ServerMessage::Reply(h, body)) => {
                    write!(f, "xid={} zxid={}", h.xid, h.zxid)?;
                    match (h.err, body) {
                        (0, Some(body)) => write!(f, " ok {body}"),
                        (0, None) => f.write_str(" ok"),
                        (err, _) => match ch01_znode::ZkError::from_code(err) {
                            Some(e) => write!(f, " {e:?}"),
                            None => write!(f, " err={err}"),
                        },
                    }
                }
                ServerFrame::Message(ServerMessage::Event(e)) => write!(f, "event {e}"),
                ServerFrame::Close => f.write_str("closes the connection"),
            },
        }
    }
}

impl Serialize for Wire {
    /// As the trace prints it, with the kind of message.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let kind = match self {
            Wire::Election(_) => "election",
            Wire::Zab { msg, .. } => msg.name(),
            Wire::ZabClosed { .. } => "closed",
            Wire::ZabRefused { .. } => "refused",
            Wire::ToServer { .. } => "client",
            Wire::ToClient { .. } => "server",
        };
        let mut st = s.serialize_struct("Wire", 2)?;
        st.serialize_field("type", kind)?;
        st.serialize_field("text", &self.to_string())?;
        st.end()
    }
}

/// Every timer in the simulation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SimTimer {
    /// One of the quorum peer's.
    Peer(PeerTimer),
    /// The disk finishes its flush.
    Fsync,
    /// A lagging server gets round to the oldest packet its leader sent.
    Unread,
    /// The operator starts the server.
    PowerOn,
    /// A client's next scripted step.
    ClientStep,
    /// A client's keep-alive.
    ClientPing,
}

impl fmt::Display for SimTimer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimTimer::Peer(t) => write!(f, "{t:?}"),
            SimTimer::Fsync => f.write_str("fsync"),
            SimTimer::Unread => f.write_str("unread"),
            SimTimer::PowerOn => f.write_str("power-on"),
            SimTimer::ClientStep => f.write_str("next step"),
            SimTimer::ClientPing => f.write_str("ping"),
        }
    }
}

// ANCHOR: sim_note
/// A line of the story: a server's, its disk's, or a client's.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum SimNote {
    /// The quorum peer's own (election and Zab).
    Peer { note: Note },
    /// The disk flushed these txns: they survive a crash now.
    Logged { zxids: Vec<ch01_znode::Zxid> },
    /// A committed txn applied to this server's tree.
    Applied { zxid: ch01_znode::Zxid, txn: String },
    /// A lagging server reads a packet its leader sent, `late_ms` after it arrived.
    ReadLate { packet: String, late_ms: Millis },
    /// A packet arrived on a connection this server has closed: nobody reads it.
    Unread { packet: String, link: Link },
    /// A fuzzy snapshot's walk ended: the disk holds `snapshot.<zxid>` now, walked over
    /// `slices` steps while the txns up to `until` were applied.
    SnapshotWritten {
        zxid: ch01_znode::Zxid,
        until: ch01_znode::Zxid,
        slices: u32,
    },
    /// The disk lost, tore or refused something.
    Disk { event: DiskEvent },
    /// What a client saw.
    Client { text: String },
}
// ANCHOR_END: sim_note

impl fmt::Display for SimNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimNote::Peer { note } => note.fmt(f),
            SimNote::Logged { zxids } => {
                let z: Vec<String> = zxids.iter().map(|z| z.to_string()).collect();
                write!(f, "fsync: {} on disk", z.join(" "))
            }
            SimNote::Applied { txn, .. } => write!(f, "applies {txn}"),
            SimNote::ReadLate { packet, late_ms } => {
                write!(
                    f,
                    "lagging: reads {packet} only now, {late_ms} ms after it came"
                )
            }
            SimNote::Unread { packet, link } => {
                write!(f, "connection {link} is closed: {packet} is never read")
            }
            SimNote::SnapshotWritten {
                zxid,
                until,
                slices,
            } => {
                write!(
                    f,
                    "snapshot.{:x} written, walked in {slices} slices",
                    zxid.0
                )?;
                match until > zxid {
                    true => write!(f, " while txns up to {until} were applied"),
                    false => Ok(()),
                }
            }
            SimNote::Disk { event } => event.fmt(f),
            SimNote::Client { text } => f.write_str(text),
        }
    }
}

/// The simulator's outputs, in this chapter's types.
pub type SimOutput = Output<Wire, SimTimer, SimNote>;

// ANCHOR: node
/// A node of the simulation: a server or a client.
#[derive(Clone, Debug)]
pub enum Node {
    Server(Box<ServerNode>),
    Client(Box<ClientNode>),
}
// ANCHOR_END: node

impl Node {
    /// What a crash leaves: a server restarts from its disk, a client from nothing.
    pub fn recover(&self) -> Node {
        match self {
            Node::Server(s) => Node::Server(Box::new(s.recover())),
            Node::Client(c) => Node::Client(Box::new(c.recover())),
        }
    }

    /// The server inside, if this node is one.
    pub fn server(&self) -> Option<&ServerNode> {
        match self {
            Node::Server(s) => Some(s),
            Node::Client(_) => None,
        }
    }

    /// The client inside, if this node is one.
    pub fn client(&self) -> Option<&ClientNode> {
        match self {
            Node::Client(c) => Some(c),
            Node::Server(_) => None,
        }
    }
}

impl Process for Node {
    type Msg = Wire;
    type Timer = SimTimer;
    type Note = SimNote;

    fn id(&self) -> NodeId {
        match self {
            Node::Server(s) => s.id(),
            Node::Client(c) => c.id(),
        }
    }

    fn step(&mut self, input: Input<Wire, SimTimer>) -> Vec<SimOutput> {
        match self {
            Node::Server(s) => s.step(input),
            Node::Client(c) => c.step(input),
        }
    }

    fn status(&self) -> String {
        match self {
            Node::Server(s) => s.status(),
            Node::Client(c) => c.status(),
        }
    }

    fn set_clock(&mut self, now: Millis) {
        match self {
            Node::Server(s) => s.set_clock(now),
            Node::Client(c) => c.set_clock(now),
        }
    }

    // ANCHOR: connection
    /// Two servers talk over two ports, as upstream's do: votes on the election port
    /// (`QuorumCnxManager`), Zab's packets on the quorum port (`Learner`/`LearnerHandler`),
    /// where each [`Link`] is a TCP connection of its own (a learner that reconnects opens a
    /// new one, as the tokio driver does). A client's connections are numbered too. Each keeps
    /// its own order, and none waits for another: a new connection never waits behind the
    /// packets, or the close, of the one it replaced.
    fn connection(msg: &Wire) -> usize {
        match msg {
            Wire::Election(_) => 0,
            Wire::ToServer { conn, .. } | Wire::ToClient { conn, .. } => 1 + *conn as usize,
            Wire::Zab { link, .. } | Wire::ZabClosed { link } | Wire::ZabRefused { link } => {
                link_number(*link)
            }
        }
    }

    /// What is on its way to a crashed server on the quorum port or from a client is gone
    /// with its sockets. Votes are not: `QuorumCnxManager` keeps the last vote for each peer
    /// and sends it again on the next connection, so a vote may still arrive after a restart.
    fn lost_at_crash(msg: &Wire) -> bool {
        !matches!(msg, Wire::Election(_))
    }

    /// A close (or refusal) of a Zab connection the server has no end of: it closed its end
    /// already, or its previous life had it (a learner never reuses a connection's number).
    /// A Zab packet on a connection the server closed: its socket is gone. And anything a
    /// server sends a client on a connection the client has left: the client reads only its
    /// current connection's frames.
    fn ends_nothing(&self, msg: &Wire) -> bool {
        match (self, msg) {
            (Node::Server(s), Wire::ZabClosed { link } | Wire::ZabRefused { link }) => {
                !s.knows_link(*link)
            }
            (Node::Server(s), Wire::Zab { link, .. }) => s.closed_link(*link),
            (Node::Client(c), Wire::ToClient { conn, .. }) => !c.listens_on(*conn),
            _ => false,
        }
    }
    // ANCHOR_END: connection
}

/// A Zab link's number among the connections of the two servers it joins, past the election
/// port's 0: the learner that opened it is one of the two, so its sid's low bits and the
/// learner's own count of connections name it (the sids of a checked ensemble differ there).
fn link_number(link: Link) -> usize {
    1 + ((link.n as usize) << 8 | (link.learner.0 as usize & 0xff))
}
