//! What a core keeps about its clients: the open connections, their bounded outbound queues,
//! and the counters the four-letter words report.
//!
//! The idea to take away: **whoever owns the pipeline must never wait for a client.** The
//! standalone core ([`super::core`]) and chapter 6's quorum peer own different brains around
//! the same pipeline, but they treat clients alike: each connection task registers its
//! outbound queue ([`ToCore::Opened`](super::ToCore::Opened)), the core fills it with
//! `try_send` through [`Clients::send`], and a client whose queue is full (frames or bytes)
//! is dropped instead of stalling everyone else. A core's replies to one connection are
//! gathered into one batch and sent once per turn ([`Clients::send_batches`]): one socket
//! write for all the replies a group commit answers, not one each. The core makes that write
//! itself, without waiting, when nothing is queued before the batch (a non-blocking write the
//! socket takes whole, as it does unless the client is behind); only what the socket does not
//! take goes to the connection task, which waits for the socket. A reply then leaves the
//! moment its sync is done, with no hop to another task on the way. The counters (`srvr`,
//! `stat`, `cons`) are
//! kept here too, so every core answers the four-letter words the same way
//! ([`Clients::snapshot`]).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use ch01_znode::{SessionId, Sid, ZkError};
use tokio::net::tcp::OwnedWriteHalf;

use super::core::{now_ms, Outbound, WordAsked, VERSION};
use super::host::{dir_size, environment, file_descriptors};
use super::outbox::OutboxSender;
use super::stats::{op_name, Asked, Awaiting, ConnStats, LatencyStats};
use super::{ServerOptions, OUTBOUND_QUEUE_BYTES};
use crate::config::Whitelist;
use crate::fourlw::{
    respond, ConfDump, FourLetterWord, QuorumReport, Reset, ResponseSizes, ServerSnapshot,
    DEFAULT_TRACE_MASK,
};
use crate::pipeline::{ConnId, Input, Pipeline, ServerMessage};
use crate::proto::encode_frame_into;
use crate::proto::request::AUTH_XID;

/// One open connection, as the core sees it.
struct Connection {
    out: OutboxSender,
    /// The socket's sending half, shared with the connection task.
    socket: Arc<OwnedWriteHalf>,
    /// Frames queued this turn, back to back, not yet handed to the connection task.
    batch: Vec<u8>,
    stats: ConnStats,
    /// What the client asked that is not answered yet, for the latencies.
    awaiting: Awaiting,
}

/// The open client connections and the server's client counters.
pub struct Clients {
    conns: BTreeMap<ConnId, Connection>,
    received: u64,
    sent: u64,
    latency: LatencyStats,
    response_sizes: ResponseSizes,
    auth_failed: u64,
    /// Set by `stmk`, read by `gtmk`: one per server, as upstream's is one per process.
    trace_mask: i64,
    started: Instant,
}

impl Default for Clients {
    fn default() -> Self {
        Clients::new()
    }
}

/// A batch of replies at least this big marks a busy connection: the next batch gets as
/// much room up front.
const BUSY_BATCH_BYTES: usize = 1024;

impl Connection {
    /// Sends this turn's batch: written here if nothing is queued before it, the rest queued
    /// for the connection task; false if its queue is full.
    fn hand_over(&mut self) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        // A busy connection's next batch is likely as big: room for it at once, not grown by
        // doubling. An idle one keeps nothing (thousands of sessions may be held).
        let size = self.batch.len();
        let room = if size >= BUSY_BATCH_BYTES { size } else { 0 };
        let written = self.write_now();
        if written == size {
            match room {
                0 => self.batch = Vec::new(),
                _ => self.batch.clear(),
            }
            return true;
        }
        let mut batch = std::mem::replace(&mut self.batch, Vec::with_capacity(room));
        batch.drain(..written);
        self.out.try_send(Outbound::Frame(batch)).is_ok()
    }

    /// Writes as much of the batch as the socket takes now, without waiting; how many bytes.
    /// Only when nothing is queued: the connection task writes what it was handed in order,
    /// and takes it off `queued_bytes` once written, so zero means no earlier byte is still
    /// on its way. A socket that takes nothing now (or has failed) leaves the whole batch to
    /// the task, which waits for it (or finds the failure and ends).
    fn write_now(&self) -> usize {
        if self.out.queued_bytes() != 0 {
            return 0;
        }
        self.socket.try_write(&self.batch).unwrap_or(0)
    }
}

/// What a core says about itself in a four-letter word's answer.
#[derive(Clone, Debug)]
pub struct About<'a> {
    /// Whether it serves clients now (a quorum member that is electing does not).
    pub serving: bool,
    /// `standalone`, `leader`, `follower` or `observer`.
    pub mode: &'a str,
    /// The client port's options.
    pub options: &'a ServerOptions,
    /// The client port's address.
    pub local_addr: SocketAddr,
    /// `getServerId()`: 0 for a standalone server, the myid of a quorum member.
    pub server_id: Sid,
    /// What a quorum member adds to `conf` and `mntr`.
    pub quorum: Option<QuorumReport>,
}

impl Clients {
    /// No connections yet; the uptime counts from now.
    pub fn new() -> Clients {
        Clients {
            conns: BTreeMap::new(),
            received: 0,
            sent: 0,
            latency: LatencyStats::default(),
            response_sizes: ResponseSizes::default(),
            auth_failed: 0,
            trace_mask: DEFAULT_TRACE_MASK,
            started: Instant::now(),
        }
    }

    /// A connection task started: `out` is its outbound queue, `socket` the sending half of
    /// its socket.
    pub fn opened(
        &mut self,
        conn: ConnId,
        remote: SocketAddr,
        out: OutboxSender,
        socket: Arc<OwnedWriteHalf>,
    ) {
        let connection = Connection {
            out,
            socket,
            batch: Vec::new(),
            stats: ConnStats::new(remote),
            awaiting: Awaiting::default(),
        };
        self.conns.insert(conn, connection);
    }

    /// Counts a client's input before the pipeline takes it, and notes when a question
    /// arrived: its reply gives the latency.
    pub fn received(&mut self, input: &Input) {
        self.received += 1;
        let (conn, asked) = match input {
            Input::Connect { conn, .. } => (*conn, Some(Asked::Handshake)),
            Input::Undecodable { conn, .. } => (*conn, None),
            Input::Request { conn, xid, request } => {
                if let Some(c) = self.conns.get_mut(conn) {
                    c.stats.last_op = op_name(request.op_code().code());
                    c.stats.last_cxid = i64::from(*xid);
                }
                (*conn, Some(Asked::Request(*xid)))
            }
            _ => return,
        };
        if let Some(c) = self.conns.get_mut(&conn) {
            c.stats.received += 1;
            if let Some(asked) = asked {
                c.awaiting.arrived(asked, Instant::now());
            }
        }
    }

    /// Answers a four-letter word: counts it, carries out what it asks of the server, then
    /// sends the text for the server as `about` and `pipeline` describe it.
    pub fn answer(&mut self, asked: WordAsked, pipeline: &Pipeline, about: About<'_>) {
        let whitelist = &about.options.whitelist;
        self.four_letter_word(asked.conn, asked.word, asked.trace_mask, whitelist);
        let text = respond(asked.word, whitelist, &self.snapshot(pipeline, about));
        let _ = asked.reply.send(text);
    }

    /// A four-letter word arrived on `conn`: upstream counts its four bytes as one packet,
    /// then `crst` and `srst` reset what they name and `stmk` sets `trace_mask` (each only if
    /// `whitelist` lets it run).
    fn four_letter_word(
        &mut self,
        conn: ConnId,
        word: FourLetterWord,
        trace_mask: Option<i64>,
        whitelist: &Whitelist,
    ) {
        self.received += 1;
        if let Some(c) = self.conns.get_mut(&conn) {
            c.stats.received += 1;
        }
        if let Some(mask) = trace_mask.filter(|_| word.reads_trace_mask(whitelist)) {
            self.trace_mask = mask;
        }
        match word.resets(whitelist) {
            Some(Reset::Connections) => self.conns.values_mut().for_each(|c| c.stats.reset()),
            // Upstream `ServerStats.reset`: latency, packet counts, response sizes.
            Some(Reset::Server) => {
                self.latency = LatencyStats::default();
                self.received = 0;
                self.sent = 0;
                self.response_sizes = ResponseSizes::default();
            }
            None => {}
        }
    }

    /// The connection task ended.
    pub fn closed(&mut self, conn: ConnId) {
        self.conns.remove(&conn);
    }

    /// Forgets a connection that stopped reading (its queue is full): its task sees its
    /// queue close and ends. Returns the client's address, for the log.
    pub fn drop_slow(&mut self, conn: ConnId) -> Option<SocketAddr> {
        self.conns.remove(&conn).map(|c| c.stats.remote)
    }

    /// Closes a connection after what was queued before (this turn's batch included).
    pub fn close(&mut self, conn: ConnId) {
        if let Some(mut c) = self.conns.remove(&conn) {
            c.hand_over();
            let _ = c.out.try_send(Outbound::Close);
        }
    }

    /// Adds a frame to the connection's batch ([`Clients::send_batches`] hands it over);
    /// `false` if the connection's queue is full (drop it with [`Clients::drop_slow`] and
    /// tell the pipeline it is gone). A connection that is already gone counts as sent: the
    /// pipeline hears of it from the task.
    pub fn send(&mut self, conn: ConnId, message: &ServerMessage) -> bool {
        let Some(c) = self.conns.get_mut(&conn) else {
            return true;
        };
        let start = c.batch.len();
        encode_frame_into(&message.encode(), &mut c.batch);
        let size = c.batch.len() - start;
        if c.out.queued_bytes() + c.batch.len() > OUTBOUND_QUEUE_BYTES || c.out.is_closed() {
            c.batch.truncate(start);
            return false;
        }
        self.sent += 1;
        c.stats.sent += 1;
        self.response_sizes.add(size as i64 - 4);
        let answers = match message {
            ServerMessage::Connected(r) => {
                if r.session_id != SessionId::NONE {
                    c.stats.session = Some((r.session_id, r.time_out, now_ms()));
                }
                Some(Asked::Handshake)
            }
            ServerMessage::Reply(header, _) => {
                if header.xid == AUTH_XID && header.err == ZkError::AuthFailed.code() {
                    self.auth_failed += 1;
                }
                c.stats.last_zxid = header.zxid;
                c.stats.last_response_ms = now_ms();
                Some(Asked::Request(header.xid))
            }
            _ => None,
        };
        let arrived = answers.and_then(|asked| c.awaiting.answered(asked));
        // Upstream answers `addauth` beside the request processors, untimed.
        let timed = answers != Some(Asked::Request(AUTH_XID));
        if let Some(arrived) = arrived.filter(|_| timed) {
            let ms = arrived.elapsed().as_millis() as u64;
            self.latency.add(ms);
            c.stats.latency.add(ms);
            c.stats.last_latency = ms;
        }
        true
    }

    /// Hands every connection its batch of frames: the end of a core's turn. Returns the
    /// connections whose queues are full (drop each with [`Clients::drop_slow`] and tell the
    /// pipeline it is gone).
    pub fn send_batches(&mut self) -> Vec<ConnId> {
        let mut full = Vec::new();
        for (conn, c) in &mut self.conns {
            if !c.hand_over() {
                full.push(*conn);
            }
        }
        full
    }

    // ANCHOR: snapshot
    /// What the four-letter words report about a server whose pipeline is `pipeline`.
    pub fn snapshot(&self, pipeline: &Pipeline, about: About<'_>) -> ServerSnapshot {
        let tree = pipeline.tree();
        let paths = tree.paths();
        let mut data_size = 0u64;
        let mut ephemerals = 0u64;
        for path in &paths {
            if let Some(node) = tree.node(path) {
                data_size += (path.len() + node.data.as_ref().map_or(0, |d| d.len())) as u64;
                ephemerals += u64::from(node.stat.ephemeral_owner > 0);
            }
        }
        let options = about.options;
        let sessions = pipeline.sessions();
        // One directory holds snapshots and log (Keeper has no separate dataLogDir).
        let data_dir = format!("{}/version-2", options.data_dir);
        ServerSnapshot {
            serving: about.serving,
            version: VERSION.to_string(),
            mode: about.mode.to_string(),
            latency: self.latency.summary(),
            packets_received: self.received,
            packets_sent: self.sent,
            connections: self
                .conns
                .values()
                .map(|c| {
                    let session = c.stats.session.map(|(id, _, _)| id);
                    c.stats.info(session.and_then(|id| sessions.expiry_of(id)))
                })
                .collect(),
            outstanding: pipeline.outstanding() as u64,
            // A leader shows the last zxid it handed out, which may be ahead of what it applied.
            last_zxid: match about.quorum.as_ref().and_then(|q| q.leader.as_ref()) {
                Some(leader) => leader.last_proposed.max(tree.last_processed_zxid()),
                None => tree.last_processed_zxid(),
            },
            // Upstream's DataTree keeps the root under both "" and "/", so it counts it twice.
            node_count: tree.node_count() as u64 + 1,
            watch_count: pipeline.watches().size() as u64,
            ephemerals_count: ephemerals,
            approximate_data_size: data_size,
            global_sessions: pipeline.sessions().len() as u64,
            uptime_ms: self.started.elapsed().as_millis() as u64,
            conf: ConfDump {
                client_port: about.local_addr.port(),
                data_dir: data_dir.clone(),
                data_dir_size: dir_size(&data_dir),
                data_log_dir: data_dir.clone(),
                data_log_size: dir_size(&data_dir),
                tick_time: options.tick_time_ms,
                max_client_cnxns: options.max_client_cnxns,
                min_session_timeout: options.limits.min_session_timeout_ms as u32,
                max_session_timeout: options.limits.max_session_timeout_ms as u32,
                server_id: about.server_id,
            },
            environment: environment(),
            quorum: about.quorum,
            data_watches: pipeline.watches().data_watches(),
            sessions: sessions.deadlines(),
            ephemerals: sessions
                .deadlines()
                .into_iter()
                .map(|(id, _)| (id, tree.ephemerals(id)))
                .filter(|(_, paths)| !paths.is_empty())
                .collect(),
            digests: pipeline.digests().entries().collect(),
            response_sizes: self.response_sizes,
            file_descriptors: file_descriptors(),
            auth_failed: self.auth_failed,
            trace_mask: self.trace_mask,
        }
    }
    // ANCHOR_END: snapshot
}
