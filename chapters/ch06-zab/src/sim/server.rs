//! A server of the simulation: a quorum peer, its disk, its connections.
//!
//! The idea to take away: **durability is a promise about the disk, and a crash tests it.**
//! The peer asks for a txn to be appended and is told, some time later, that it is on disk;
//! only then may a follower ACK it, and only then does the leader count its own ACK. Here the
//! disk is a list that a flush timer fills: what was appended but not flushed when the server
//! crashes is gone, what was flushed is what the restarted server finds.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use ch01_znode::{Sid, Txn, Zxid};
use ch03_sessions::pipeline::{self, ConnId, Database};
use ch04_paxos::sim::{Input, Millis, NodeId, Output};

use super::disk_faults::{crash_leaves, DiskEvent, DiskFaults, REBOOT_MS};
use super::fuzzy::{Walk, Walked};
use super::ledger::SharedLedger;
use super::stream::{Arrival, Streams};
use super::{ClientFrame, ServerFrame, SimNote, SimOutput, SimTimer, Wire};
use crate::message::{Link, Message};
use crate::peer::{
    Config, Epochs, Flaw, Input as PeerInput, Output as PeerOutput, QuorumPeer, Recovered,
};
use crate::trace::{Note, ZabNote};
use crate::txn_codec::TxnEntry;

/// A client connection as the server numbers it: the client's node id and its own count.
fn conn_id(client: NodeId, n: u32) -> ConnId {
    ConnId((client << 20) | u64::from(n))
}

/// The client node and connection number behind a [`ConnId`].
fn conn_parts(conn: ConnId) -> (NodeId, u32) {
    (conn.0 >> 20, (conn.0 & 0xf_ffff) as u32)
}

// ANCHOR: disk
/// What survives a crash: the epoch files, the last snapshot, and the flushed log.
#[derive(Clone, Debug, Default, PartialEq, Hash)]
pub struct Disk {
    /// `acceptedEpoch` and `currentEpoch`.
    pub epochs: Epochs,
    /// The last snapshot written: a periodic one once its walk is over ([`super::fuzzy`]),
    /// or the one a learner writes after a SNAP or TRUNC.
    pub snapshot: Option<Database>,
    /// Whether that snapshot took in txns after its zxid while it was walked: a restart
    /// replays some txns a second time over it.
    pub fuzzy: bool,
    /// Every flushed txn, in the order appended.
    pub log: Vec<Txn>,
    /// A record a crash left half written after the log's end: recovery cuts it off.
    pub torn: Option<Txn>,
}

impl Disk {
    /// Start-up: the snapshot, then every logged txn after it (committed or not), and the
    /// newest `recent` txns for the DIFF window. A torn record is not a txn: it is never
    /// replayed.
    pub fn recover(&self, recent: usize) -> Recovered {
        let mut db = self.snapshot.clone().unwrap_or_default();
        let from = db.last_processed_zxid();
        let replay: Vec<&Txn> = self.log.iter().filter(|t| t.zxid > from).collect();
        for txn in &replay {
            db.apply(txn);
        }
        let skip = replay.len().saturating_sub(recent);
        Recovered {
            epochs: self.epochs,
            db,
            recent: replay
                .into_iter()
                .skip(skip)
                .map(|t| TxnEntry::new(t.clone()))
                .collect(),
        }
    }

    /// A TRUNC to `zxid`: the log loses what follows it. Refused (false), with nothing
    /// changed, when the snapshot is newer than `zxid`: what it holds past `zxid` is in no
    /// log to cut.
    pub fn truncate(&mut self, zxid: Zxid) -> bool {
        let snapshot = self.snapshot.as_ref().map(Database::last_processed_zxid);
        if snapshot.is_some_and(|at| at > zxid) {
            return false;
        }
        self.log.retain(|t| t.zxid <= zxid);
        true
    }

    /// The snapshot a sync gave us replaces the last, and the log loses whatever is newer:
    /// it was of the database the sync replaced.
    pub fn sync_snapshot(&mut self, db: Database) {
        let at = db.last_processed_zxid();
        self.log.retain(|t| t.zxid <= at);
        self.snapshot = Some(db);
        self.fuzzy = false;
    }
}
// ANCHOR_END: disk

/// A quorum peer with a disk and its connections.
#[derive(Clone, Debug, Hash)]
pub struct ServerNode {
    peer: QuorumPeer,
    /// Shared with the copies of this server until it changes ([`Arc::make_mut`]): it changes
    /// at an fsync, a snapshot or a new epoch, and a model checker copies the server at every
    /// step it takes.
    disk: Arc<Disk>,
    /// How long a flush takes.
    disk_ms: Millis,
    /// Appended, not flushed.
    writing: Vec<Txn>,
    flushing: bool,
    /// Switch on this long after the run starts (`None`: at once).
    start_after_ms: Option<Millis>,
    /// How long the leader's packets wait before this server reads them (0: not at all).
    lag_ms: Millis,
    /// The leader's packets not read yet, oldest first: when each arrived, from whom, what.
    unread: VecDeque<(Millis, NodeId, Wire)>,
    running: bool,
    now: Millis,
    links: Streams<Link>,
    /// The other end of each Zab connection.
    link_peer: BTreeMap<Link, Sid>,
    clients: Streams<ConnId>,
    /// Every txn applied since this incarnation started, in order (for the checkers). Shared
    /// with the copies of this server until it changes, as the disk is.
    applied: Arc<Vec<Txn>>,
    /// Where the checkers' ledger is kept, if they watch this run.
    ledger: Option<SharedLedger>,
    /// The connection of the Zab packet being handled.
    incoming: Option<Link>,
    /// Ledger entries that wait until every output of the input is carried out.
    deferred: Vec<Deferred>,
    /// How deep `feed` is (a TRUNC feeds the reloaded database from inside a feed).
    depth: u32,
    /// The disk's bad luck in this run.
    faults: DiskFaults,
    /// How many times this server has crashed or stopped so far.
    crashes: u64,
    /// What start-up found on the disk, told when the server starts.
    recovery: Option<DiskEvent>,
    /// Every timer this incarnation has set (all are cancelled when it stops itself).
    armed: Vec<SimTimer>,
    /// The disk failed in this step: the server stops once the step is done.
    stopping: Option<DiskEvent>,
    /// A fuzzy snapshot being walked, a slice after each step; a crash loses it, as it
    /// loses a file without its seal.
    walking: Option<Walk>,
}

/// A ledger entry about a copy of the database, written once the txns applied in the same
/// step are in the ledger too.
#[derive(Clone, Copy, Debug, Hash)]
enum Deferred {
    SnapSent { link: Link, zxid: Zxid },
    SnapshotWritten { zxid: Zxid },
}

impl ServerNode {
    /// Server `sid` of `cfg`, with an empty disk that flushes in `disk_ms`.
    pub fn new(sid: Sid, cfg: Config, disk_ms: Millis) -> ServerNode {
        ServerNode::from_disk(sid, cfg, Disk::default(), disk_ms)
    }

    /// Server `sid`, starting from what `disk` holds (a torn record at its end is cut off,
    /// as recovery does).
    pub fn from_disk(sid: Sid, cfg: Config, mut disk: Disk, disk_ms: Millis) -> ServerNode {
        let recovered = disk.recover(cfg.commit_log_count);
        let recovery = disk.torn.take().map(|t| DiskEvent::Recovered {
            lost: Vec::new(),
            torn: Some(t.zxid),
        });
        ServerNode {
            peer: QuorumPeer::new(sid, cfg, recovered, 0),
            disk: Arc::new(disk),
            disk_ms,
            writing: Vec::new(),
            flushing: false,
            start_after_ms: None,
            lag_ms: 0,
            unread: VecDeque::new(),
            running: false,
            now: 0,
            links: Streams::default(),
            link_peer: BTreeMap::new(),
            clients: Streams::default(),
            applied: Arc::default(),
            ledger: None,
            incoming: None,
            deferred: Vec::new(),
            depth: 0,
            faults: DiskFaults::default(),
            crashes: 0,
            recovery,
            armed: Vec::new(),
            stopping: None,
            walking: None,
        }
    }

    /// The same server, whose disk has `faults` in this run.
    pub fn with_disk_faults(mut self, faults: DiskFaults) -> ServerNode {
        self.faults = faults;
        self
    }

    /// The same server, writing what it logs and applies to the checkers' `ledger`.
    pub fn with_ledger(mut self, ledger: SharedLedger) -> ServerNode {
        ledger.borrow_mut().from_disk(self.peer.sid(), &self.disk);
        self.ledger = Some(ledger);
        self
    }

    /// The same server, switched on `ms` after the run begins.
    pub fn starting_at(mut self, ms: Millis) -> ServerNode {
        self.start_after_ms = Some(ms).filter(|&ms| ms > 0);
        self
    }

    /// The same server, whose disk flushes in `disk_ms`.
    pub fn with_disk_ms(mut self, disk_ms: Millis) -> ServerNode {
        self.disk_ms = disk_ms;
        self
    }

    /// The same server, reading each of its leader's packets `lag_ms` after it arrives (a busy
    /// or far-away follower): its clients read what it has applied, which lags behind.
    pub fn with_lag_ms(mut self, lag_ms: Millis) -> ServerNode {
        self.lag_ms = lag_ms;
        self
    }

    /// The peer inside.
    pub fn peer(&self) -> &QuorumPeer {
        &self.peer
    }

    /// The disk as it is now.
    pub fn disk(&self) -> &Disk {
        &self.disk
    }

    /// Whether the operator has started it.
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// Every txn applied since this incarnation started.
    pub fn applied(&self) -> &[Txn] {
        &self.applied
    }

    /// How many times this server has crashed or stopped so far.
    pub fn crashes(&self) -> u64 {
        self.crashes
    }

    /// The simulator's node id.
    pub fn id(&self) -> NodeId {
        self.peer.sid().0
    }

    // ANCHOR: recover
    /// What a crash leaves: the same server rebuilt from its disk — everything fsynced, and
    /// whatever the page cache had written of the unsynced tail — switched on at once.
    pub fn recover(&self) -> ServerNode {
        let cfg = self.peer.config().clone();
        let disk = crash_leaves(
            &self.faults,
            self.crashes,
            self.now,
            &self.disk,
            &self.writing,
        );
        let lost: Vec<Zxid> = self.writing[disk.log.len() - self.disk.log.len()..]
            .iter()
            .map(|t| t.zxid)
            .collect();
        let mut node = ServerNode::from_disk(self.peer.sid(), cfg, disk, self.disk_ms)
            .with_lag_ms(self.lag_ms)
            .with_disk_faults(self.faults.clone());
        node.crashes = self.crashes + 1;
        // The restart is later than the crash. A running simulator sets the clock before the
        // start anyway; a stopped one (the model checker's) never does, and a server that
        // restarted at the time it first started would number its connections and sessions
        // as its previous life did, so that a packet of a dead connection could pass for one
        // of the new.
        node.now = self.now + REBOOT_MS;
        if !lost.is_empty() {
            let torn = match node.recovery.take() {
                Some(DiskEvent::Recovered { torn, .. }) => torn,
                _ => None,
            };
            node.recovery = Some(DiskEvent::Recovered { lost, torn });
        }
        let node = match &self.ledger {
            Some(ledger) => node.with_ledger(ledger.clone()),
            None => node,
        };
        if node.disk.fuzzy {
            node.record(|l, _| l.count("restarts from a fuzzy snapshot"));
        }
        node
    }
    // ANCHOR_END: recover

    /// The disk failed: the server stops as a crash would stop it, and the operator starts
    /// it again [`REBOOT_MS`] later.
    fn stop(&mut self, why: DiskEvent, mut out: Vec<SimOutput>) -> Vec<SimOutput> {
        self.record(|l, _| {
            l.count(match why {
                DiskEvent::Full { .. } => "servers stopped by a full disk",
                _ => "servers stopped by a failed fsync",
            })
        });
        out.push(Output::Note(SimNote::Disk { event: why }));
        for timer in std::mem::take(&mut self.armed) {
            out.push(Output::CancelTimer(timer));
        }
        *self = self.recover();
        out.push(Output::SetTimer {
            timer: SimTimer::PowerOn,
            after_ms: REBOOT_MS,
        });
        out
    }

    /// The word on its lifeline.
    pub fn status(&self) -> String {
        match self.running {
            true => self.peer.state().to_string(),
            false => String::new(),
        }
    }

    /// Whether this server has an end of Zab connection `link`: it sent or received on it,
    /// and has not closed it. A notice that closes a link it has no end of changes nothing.
    pub fn knows_link(&self, link: Link) -> bool {
        self.links.knows(link)
    }

    /// How many Zab connections this server has opened to a leader since it (re)started,
    /// counted as a client's are ([`ClientNode::connections_opened`]): the links it opened
    /// that it still has an end of or closed.
    ///
    /// [`ClientNode::connections_opened`]: super::ClientNode::connections_opened
    pub fn connections_opened(&self) -> usize {
        let me = self.peer.sid();
        self.links
            .every()
            .iter()
            .filter(|l| l.learner == me)
            .count()
    }

    /// Whether this server closed Zab connection `link` (or heard it was closed): a packet
    /// still on its way on it is read by no one.
    pub fn closed_link(&self, link: Link) -> bool {
        self.links.is_closed(link)
    }

    /// Whether this server has an end of client `client`'s connection `n`: it read or sent
    /// on it, or closed it. A server that restarted since has none.
    pub fn knows_client_connection(&self, client: NodeId, n: u32) -> bool {
        let id = conn_id(client, n);
        self.clients.knows(id) || self.clients.is_closed(id)
    }

    /// The simulator's clock.
    pub fn set_clock(&mut self, now: Millis) {
        self.now = now;
    }

    /// One simulator input; a disk that failed during it stops the server.
    pub fn step(&mut self, input: Input<Wire, SimTimer>) -> Vec<SimOutput> {
        let mut out = self.step_running(input);
        if self.stopping.is_none() {
            out.extend(self.walk_a_slice());
        }
        for o in &out {
            if let Output::SetTimer { timer, .. } = o {
                if !self.armed.contains(timer) {
                    self.armed.push(*timer);
                }
            }
        }
        match self.stopping.take() {
            Some(why) => self.stop(why, out),
            None => out,
        }
    }

    // ANCHOR: step
    /// One simulator input, as the peer's inputs.
    fn step_running(&mut self, input: Input<Wire, SimTimer>) -> Vec<SimOutput> {
        match input {
            Input::Start if self.start_after_ms.is_some() => {
                let after_ms = self.start_after_ms.take().expect("checked");
                vec![Output::SetTimer {
                    timer: SimTimer::PowerOn,
                    after_ms,
                }]
            }
            Input::Start | Input::Timeout(SimTimer::PowerOn) => {
                self.running = true;
                let mut out = Vec::new();
                if let Some(event) = self.recovery.take() {
                    self.record(|l, _| {
                        if let DiskEvent::Recovered { torn: Some(_), .. } = event {
                            l.count("torn records cut off");
                        }
                        if let DiskEvent::Recovered { lost, .. } = &event {
                            if !lost.is_empty() {
                                l.count("unsynced tails lost");
                            }
                        }
                    });
                    out.push(Output::Note(SimNote::Disk { event }));
                }
                out.extend(self.feed(PeerInput::Start));
                out
            }
            // Switched off: nobody listens on any port.
            _ if !self.running => Vec::new(),
            Input::Receive { from, msg } => self.receive(from, msg),
            Input::Timeout(SimTimer::Peer(t)) => self.feed(PeerInput::Timeout(t)),
            Input::Timeout(SimTimer::Fsync) => self.flush(),
            Input::Timeout(SimTimer::Unread) => self.read_late(),
            Input::Timeout(_) => Vec::new(),
        }
    }
    // ANCHOR_END: step

    fn receive(&mut self, from: NodeId, msg: Wire) -> Vec<SimOutput> {
        match msg {
            Wire::Election(n) => self.feed(PeerInput::Election { from: Sid(from), n }),
            // A lagging server leaves its Zab packets in the socket for a while, in order.
            Wire::Zab { .. } | Wire::ZabClosed { .. } | Wire::ZabRefused { .. }
                if self.lag_ms > 0 =>
            {
                self.unread.push_back((self.now, from, msg));
                match self.unread.len() {
                    1 => vec![Output::SetTimer {
                        timer: SimTimer::Unread,
                        after_ms: self.lag_ms,
                    }],
                    _ => Vec::new(),
                }
            }
            msg @ (Wire::Zab { .. } | Wire::ZabClosed { .. } | Wire::ZabRefused { .. }) => {
                self.zab_packet(from, msg)
            }
            Wire::ToServer { conn, seq, frame } => {
                let id = conn_id(from, conn);
                match self.clients.receive(id, seq) {
                    Arrival::InOrder => self.client_frame(id, frame),
                    Arrival::Duplicate | Arrival::Closed => Vec::new(),
                    Arrival::Gap => {
                        let mut out = self.close_client(id);
                        out.extend(self.feed(PeerInput::Client(pipeline::Input::Disconnected {
                            conn: id,
                        })));
                        out
                    }
                }
            }
            Wire::ToClient { .. } => Vec::new(),
        }
    }

    /// The lag is over for the oldest unread packets: read them, in order.
    fn read_late(&mut self) -> Vec<SimOutput> {
        let mut out = Vec::new();
        while let Some(&(arrived, _, _)) = self.unread.front() {
            let due = arrived + self.lag_ms;
            if due > self.now {
                out.push(Output::SetTimer {
                    timer: SimTimer::Unread,
                    after_ms: due - self.now,
                });
                break;
            }
            let (_, from, msg) = self.unread.pop_front().expect("just seen");
            // Pings are read late too, but only the protocol's packets make the story.
            if !matches!(
                msg,
                Wire::Zab {
                    msg: Message::Ping(_),
                    ..
                }
            ) {
                out.push(Output::Note(SimNote::ReadLate {
                    packet: msg.to_string(),
                    late_ms: self.now - arrived,
                }));
            }
            out.extend(self.zab_packet(from, msg));
        }
        out
    }

    /// A Zab packet (or the end of a Zab connection), read.
    fn zab_packet(&mut self, from: NodeId, msg: Wire) -> Vec<SimOutput> {
        match msg {
            Wire::Zab { link, seq, msg } => {
                let arrival = self.links.receive(link, seq);
                if arrival != Arrival::Closed {
                    self.link_peer.insert(link, Sid(from));
                }
                match arrival {
                    Arrival::InOrder => {
                        self.incoming = Some(link);
                        let out = self.feed(PeerInput::Zab {
                            from: Sid(from),
                            link,
                            msg,
                        });
                        self.incoming = None;
                        out
                    }
                    Arrival::Duplicate => Vec::new(),
                    Arrival::Closed => vec![Output::Note(SimNote::Unread {
                        packet: msg.to_string(),
                        link,
                    })],
                    Arrival::Gap => self.break_link(link),
                }
            }
            Wire::ZabClosed { link } => {
                self.links.close(link);
                self.feed(PeerInput::Disconnected { link })
            }
            Wire::ZabRefused { link } => {
                self.links.close(link);
                self.feed(PeerInput::Refused { link })
            }
            Wire::Election(_) | Wire::ToServer { .. } | Wire::ToClient { .. } => Vec::new(),
        }
    }

    /// A lost or overtaken packet: TCP would have reset the connection. Both ends hear it.
    fn break_link(&mut self, link: Link) -> Vec<SimOutput> {
        let mut out = self.close_link(link);
        out.extend(self.feed(PeerInput::Disconnected { link }));
        out
    }

    fn close_link(&mut self, link: Link) -> Vec<SimOutput> {
        self.links.close(link);
        match self.link_peer.remove(&link) {
            Some(to) => vec![Output::Send {
                to: to.0,
                msg: Wire::ZabClosed { link },
            }],
            None => Vec::new(),
        }
    }

    fn close_client(&mut self, conn: ConnId) -> Vec<SimOutput> {
        self.clients.close(conn);
        let (client, n) = conn_parts(conn);
        vec![Output::Send {
            to: client,
            msg: Wire::ToClient {
                conn: n,
                seq: 0,
                frame: ServerFrame::Close,
            },
        }]
    }

    fn client_frame(&mut self, conn: ConnId, frame: ClientFrame) -> Vec<SimOutput> {
        let input = match frame {
            ClientFrame::Connect(request) => pipeline::Input::Connect {
                conn,
                addr: std::net::IpAddr::from([127, 0, 0, 1]),
                request,
            },
            ClientFrame::Request { xid, request } => {
                pipeline::Input::Request { conn, xid, request }
            }
            ClientFrame::Close => {
                self.clients.close(conn);
                pipeline::Input::Disconnected { conn }
            }
        };
        self.feed(PeerInput::Client(input))
    }

    // ANCHOR: walk_a_slice
    /// Walks the next slice of the fuzzy snapshot under way, over the database as this step
    /// left it. A finished walk is the disk's snapshot from now on, named after the zxid it
    /// started at; what it holds of later txns, the log replays over it again at recovery.
    fn walk_a_slice(&mut self) -> Vec<SimOutput> {
        if !self.running {
            return Vec::new();
        }
        let Some(walk) = &mut self.walking else {
            return Vec::new();
        };
        let read = match walk.slice(self.peer.database()) {
            None => return Vec::new(),
            Some(read) => read,
        };
        self.walking = None;
        let walked = match read {
            Ok(walked) => walked,
            Err(e) => {
                let text = format!("n{}'s snapshot does not read back: {e}", self.peer.sid());
                self.record(|l, _| l.violation(text));
                return Vec::new();
            }
        };
        let Walked { db, until, slices } = walked;
        let as_of = db.last_processed_zxid();
        self.record(|l, sid| {
            l.snapshot_written(sid, as_of);
            l.count("snapshots written");
            if until > as_of {
                l.count("snapshots walked while txns were applied");
            }
        });
        let disk = Arc::make_mut(&mut self.disk);
        disk.snapshot = Some(db);
        disk.fuzzy = until > as_of;
        vec![Output::Note(SimNote::SnapshotWritten {
            zxid: as_of,
            until,
            slices,
        })]
    }
    // ANCHOR_END: walk_a_slice

    // ANCHOR: flush
    /// The disk finished: everything appended so far is durable (one fsync for the batch),
    /// and the peer hears of each txn in order.
    fn flush(&mut self) -> Vec<SimOutput> {
        self.flushing = false;
        if self.writing.is_empty() {
            return Vec::new();
        }
        let zxids: Vec<Zxid> = self.writing.iter().map(|t| t.zxid).collect();
        if self.faults.fsync_fails_at(self.now) {
            self.stopping = Some(DiskEvent::FsyncFailed { unsynced: zxids });
            return Vec::new();
        }
        Arc::make_mut(&mut self.disk).log.append(&mut self.writing);
        let mut out = vec![Output::Note(SimNote::Logged {
            zxids: zxids.clone(),
        })];
        // With the flaw the peer heard of each txn when it was appended.
        if !self.acks_before_fsync() {
            for zxid in zxids {
                out.extend(self.feed(PeerInput::Logged(zxid)));
            }
        }
        out
    }

    /// Whether this server has the deliberate bug of reporting a txn logged as soon as it is
    /// written, before its fsync (what `forceSync=no` does to ZooKeeper).
    fn acks_before_fsync(&self) -> bool {
        self.peer.config().flaw == Some(Flaw::AckBeforeFsync)
    }
    // ANCHOR_END: flush

    fn feed(&mut self, input: PeerInput) -> Vec<SimOutput> {
        self.depth += 1;
        let outputs = self.peer.step(self.now, input);
        let mut out = Vec::new();
        for o in outputs {
            self.carry(o, &mut out);
        }
        self.depth -= 1;
        if self.depth == 0 {
            self.write_deferred();
        }
        out
    }

    /// The ledger's entries about copies of the database, now that the txns applied in the
    /// same step are in it.
    fn write_deferred(&mut self) {
        let deferred = std::mem::take(&mut self.deferred);
        let Some(ledger) = &self.ledger else {
            return;
        };
        let mut ledger = ledger.borrow_mut();
        for d in deferred {
            match d {
                Deferred::SnapSent { link, zxid } => ledger.snap_sent(self.peer.sid(), link, zxid),
                Deferred::SnapshotWritten { zxid } => {
                    ledger.snapshot_written(self.peer.sid(), zxid)
                }
            }
        }
    }

    /// Tells the ledger, if there is one.
    fn record(&self, entry: impl FnOnce(&mut super::ledger::Ledger, Sid)) {
        if let Some(ledger) = &self.ledger {
            entry(&mut ledger.borrow_mut(), self.peer.sid());
        }
    }

    // ANCHOR: carry
    /// Carries out one of the peer's outputs.
    fn carry(&mut self, o: PeerOutput, out: &mut Vec<SimOutput>) {
        // The server is stopping: what the step asked for after the failure never happens.
        if self.stopping.is_some() {
            return;
        }
        match o {
            PeerOutput::Election { to, n } => out.push(Output::Send {
                to: to.0,
                msg: Wire::Election(n),
            }),
            PeerOutput::Zab { to, link, msg } => {
                if let Message::Snap { zxid, .. } = &msg {
                    let zxid = *zxid;
                    self.deferred.push(Deferred::SnapSent { link, zxid });
                }
                self.link_peer.insert(link, to);
                let seq = self.links.send(link);
                out.push(Output::Send {
                    to: to.0,
                    msg: Wire::Zab { link, seq, msg },
                });
            }
            PeerOutput::Disconnect { link } => out.extend(self.close_link(link)),
            PeerOutput::Refuse { link } => {
                self.links.close(link);
                if let Some(to) = self.link_peer.remove(&link) {
                    out.push(Output::Send {
                        to: to.0,
                        msg: Wire::ZabRefused { link },
                    });
                }
            }
            PeerOutput::SetTimer { timer, after_ms } => out.push(Output::SetTimer {
                timer: SimTimer::Peer(timer),
                after_ms,
            }),
            PeerOutput::CancelTimer(timer) => out.push(Output::CancelTimer(SimTimer::Peer(timer))),
            PeerOutput::Append(entry) if self.faults.full_at(self.now) => {
                self.stopping = Some(DiskEvent::Full {
                    zxid: entry.txn.zxid,
                });
            }
            PeerOutput::Append(entry) => {
                let txn = std::sync::Arc::unwrap_or_clone(entry).txn;
                self.record(|l, sid| l.seen(sid, &txn));
                let zxid = txn.zxid;
                self.writing.push(txn);
                if !self.flushing {
                    self.flushing = true;
                    out.push(Output::SetTimer {
                        timer: SimTimer::Fsync,
                        after_ms: self.disk_ms,
                    });
                }
                if self.acks_before_fsync() {
                    out.extend(self.feed(PeerInput::Logged(zxid)));
                }
            }
            PeerOutput::Truncate(zxid) => {
                if !Arc::make_mut(&mut self.disk).truncate(zxid) {
                    out.extend(self.feed(PeerInput::CannotTruncate(zxid)));
                    return;
                }
                self.writing.retain(|t| t.zxid <= zxid);
                let recovered = self.disk.recover(self.peer.config().commit_log_count);
                self.record(|l, sid| l.from_disk(sid, &self.disk));
                let reloaded = self.feed(PeerInput::Reloaded(Box::new(recovered)));
                out.extend(reloaded);
            }
            PeerOutput::Snapshot(db) => {
                let zxid = db.last_processed_zxid();
                self.deferred.push(Deferred::SnapshotWritten { zxid });
                self.writing.retain(|t| t.zxid <= zxid);
                Arc::make_mut(&mut self.disk).sync_snapshot(*db);
            }
            // A walk of the live database, starting from it as the step leaves it, as a
            // driver's does; skipped while one is still being walked, as a driver's is.
            PeerOutput::BeginSnapshot if self.walking.is_none() => {
                self.walking = Some(Walk::start(self.peer.database()));
            }
            PeerOutput::BeginSnapshot => {}
            PeerOutput::AbandonSnapshot => self.walking = None,
            PeerOutput::SaveEpochs(epochs) => Arc::make_mut(&mut self.disk).epochs = epochs,
            PeerOutput::Client(pipeline::Output::Applied(txn)) => {
                out.push(Output::Note(SimNote::Applied {
                    zxid: txn.zxid,
                    txn: txn.to_string(),
                }));
                self.record(|l, sid| l.applied(sid, &txn));
                Arc::make_mut(&mut self.applied).push(txn);
            }
            PeerOutput::Client(pipeline::Output::Send { conn, message }) => {
                let (client, n) = conn_parts(conn);
                let seq = self.clients.send(conn);
                out.push(Output::Send {
                    to: client,
                    msg: Wire::ToClient {
                        conn: n,
                        seq,
                        frame: ServerFrame::Message(message),
                    },
                });
            }
            PeerOutput::Client(pipeline::Output::Close { conn }) => {
                out.extend(self.close_client(conn))
            }
            // The peer routes these itself; they never reach the driver.
            PeerOutput::Client(
                pipeline::Output::Propose(_)
                | pipeline::Output::Forward(_)
                | pipeline::Output::Revalidate { .. },
            ) => {}
            PeerOutput::Note(note) => {
                match (&note, self.incoming) {
                    // A learner that takes a SNAP drops its database for the one that came.
                    (Note::Zab(ZabNote::SyncBy { mode: "SNAP", .. }), Some(link)) => {
                        self.record(|l, sid| {
                            l.snap_taken(sid, link);
                            l.count("SNAP");
                        })
                    }
                    (Note::Zab(ZabNote::SyncBy { mode, .. }), _) => {
                        self.record(|l, _| l.count(mode))
                    }
                    (Note::Zab(ZabNote::DropsUnsaved { .. }), _) => {
                        self.record(|l, sid| l.unsaved_dropped(sid))
                    }
                    (Note::Zab(ZabNote::CannotTruncate { .. }), _) => {
                        self.record(|l, _| l.count("TRUNCs refused below a snapshot"))
                    }
                    (Note::Zab(ZabNote::SyncsTail { .. }), _) => {
                        self.record(|l, _| l.count("tails synced before a vote"))
                    }
                    (Note::Zab(ZabNote::Established { .. }), _) => {
                        self.record(|l, _| l.count("leaders established"))
                    }
                    _ => {}
                }
                out.push(Output::Note(SimNote::Peer { note }));
            }
        }
    }
    // ANCHOR_END: carry
}
