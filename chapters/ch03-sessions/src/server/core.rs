//! The core task: the one owner of the pipeline, and the router of its outputs.
//!
//! Every connection's input arrives here on one channel, so the pipeline sees one total order
//! of requests. Outputs go to each connection's bounded queue with `try_send`: the core never
//! waits for a client, and a client whose queue is full is disconnected instead.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ch01_znode::{SessionId, Sid};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot};

use super::stats::{op_name, ConnStats, LatencyStats};
use super::{ServerOptions, OUTBOUND_QUEUE_BYTES};
use crate::fourlw::{respond, ConfDump, FourLetterWord, ServerSnapshot};
use crate::pipeline::standalone::StandalonePipeline;
use crate::pipeline::{ConnId, Input, Output, ServerMessage};
use crate::proto::{encode_frame, Request};
use crate::session::STANDALONE_SID;

/// What Keeper calls itself in `srvr`, `stat`, `mntr` and `envi`: the ZooKeeper protocol
/// version it speaks, then its own name and version (kazoo parses the leading `3.8.0`).
pub const VERSION: &str = concat!(
    "3.8.0-keeper-",
    env!("CARGO_PKG_VERSION"),
    ", built on 1970-01-01 00:00 UTC"
);

/// A message from a connection task (or the accept loop) to the core.
pub enum ToCore {
    /// A connection was accepted; `out` is its outbound queue.
    Opened {
        conn: ConnId,
        remote: SocketAddr,
        out: mpsc::Sender<Outbound>,
        /// Bytes queued and not yet written, kept by the connection task.
        queued_bytes: Arc<AtomicUsize>,
    },
    /// A decoded frame.
    Input(Input),
    /// A four-letter word to answer.
    FourLetterWord {
        conn: ConnId,
        word: FourLetterWord,
        reply: oneshot::Sender<String>,
    },
    /// The connection ended.
    Closed { conn: ConnId },
}

/// What the core sends a connection task.
pub enum Outbound {
    /// A whole frame (length prefix included) to write.
    Frame(Vec<u8>),
    /// Close after what was queued before.
    Close,
}

/// The wall clock in ms: txn times and session deadlines.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

struct Connection {
    out: mpsc::Sender<Outbound>,
    queued_bytes: Arc<AtomicUsize>,
    stats: ConnStats,
}

struct Core {
    pipeline: StandalonePipeline,
    options: ServerOptions,
    local_addr: SocketAddr,
    conns: BTreeMap<ConnId, Connection>,
    received: u64,
    sent: u64,
    latency: LatencyStats,
    started: Instant,
}

/// Runs the core until every sender is gone.
pub async fn run(options: ServerOptions, local_addr: SocketAddr, mut rx: mpsc::Receiver<ToCore>) {
    let mut pipeline = StandalonePipeline::new(
        options.tick_time_ms,
        options.limits,
        STANDALONE_SID,
        now_ms(),
    );
    if let Some(seed) = options.session_id_seed {
        pipeline
            .pipeline_mut()
            .seed_session_ids(STANDALONE_SID, seed);
    }
    let mut core = Core {
        pipeline,
        options,
        local_addr,
        conns: BTreeMap::new(),
        received: 0,
        sent: 0,
        latency: LatencyStats::default(),
        started: Instant::now(),
    };
    loop {
        let wait_ms = core
            .pipeline
            .pipeline()
            .next_tick_ms()
            .saturating_sub(now_ms());
        tokio::select! {
            message = rx.recv() => match message {
                Some(message) => core.handle(message),
                None => return,
            },
            () = tokio::time::sleep(Duration::from_millis(wait_ms)) => {
                let outputs = core.pipeline.step(now_ms(), Input::Tick);
                core.route(outputs);
            }
        }
    }
}

impl Core {
    fn handle(&mut self, message: ToCore) {
        match message {
            ToCore::Opened {
                conn,
                remote,
                out,
                queued_bytes,
            } => {
                let stats = ConnStats::new(remote);
                let connection = Connection {
                    out,
                    queued_bytes,
                    stats,
                };
                self.conns.insert(conn, connection);
            }
            ToCore::Input(input) => self.input(input),
            ToCore::FourLetterWord { conn, word, reply } => {
                // Upstream counts the four bytes as one packet received on the connection.
                self.received += 1;
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.stats.received += 1;
                }
                let text = respond(word, &self.options.whitelist, &self.snapshot());
                let _ = reply.send(text);
            }
            ToCore::Closed { conn } => {
                self.conns.remove(&conn);
                let outputs = self.pipeline.step(now_ms(), Input::Disconnected { conn });
                self.route(outputs);
            }
        }
    }

    fn input(&mut self, input: Input) {
        self.received += 1;
        let conn = match &input {
            Input::Connect { conn, .. } | Input::Undecodable { conn, .. } => Some(*conn),
            Input::Request { conn, xid, request } => {
                if let Some(c) = self.conns.get_mut(conn) {
                    c.stats.last_op = op_name(request_op(request));
                    c.stats.last_cxid = i64::from(*xid);
                }
                Some(*conn)
            }
            _ => None,
        };
        if let Some(c) = conn.and_then(|c| self.conns.get_mut(&c)) {
            c.stats.received += 1;
        }
        let start = Instant::now();
        let outputs = self.pipeline.step(now_ms(), input);
        self.route(outputs);
        let ms = start.elapsed().as_millis() as u64;
        self.latency.add(ms);
        if let Some(c) = conn.and_then(|c| self.conns.get_mut(&c)) {
            c.stats.latency.add(ms);
            c.stats.last_latency = ms;
        }
    }

    /// Carries out the pipeline's outputs; a disconnect caused here feeds back its own.
    fn route(&mut self, outputs: Vec<Output>) {
        let mut work: VecDeque<Output> = outputs.into();
        while let Some(output) = work.pop_front() {
            match output {
                Output::Send { conn, message } => {
                    if !self.send(conn, &message) {
                        // Slow or gone: drop it, and let the pipeline forget the connection.
                        if let Some(c) = self.conns.remove(&conn) {
                            eprintln!(
                                "keeper: closing connection from {}: it is not reading its replies",
                                c.stats.remote
                            );
                        }
                        work.extend(self.pipeline.step(now_ms(), Input::Disconnected { conn }));
                    }
                }
                Output::Close { conn } => {
                    if let Some(c) = self.conns.remove(&conn) {
                        let _ = c.out.try_send(Outbound::Close);
                    }
                }
                Output::Applied(txn) => {
                    if let Some(applied) = &self.options.applied {
                        let _ = applied.send(txn);
                    }
                }
                Output::Propose(_) | Output::Forward(_) => {
                    unreachable!("a standalone pipeline commits its own proposals")
                }
            }
        }
    }

    /// Queues a frame; `false` if the connection is gone or its queue is full.
    fn send(&mut self, conn: ConnId, message: &ServerMessage) -> bool {
        let Some(c) = self.conns.get_mut(&conn) else {
            return true;
        };
        let frame = encode_frame(&message.encode());
        let size = frame.len();
        if c.queued_bytes.load(Ordering::Relaxed) + size > OUTBOUND_QUEUE_BYTES {
            return false;
        }
        match c.out.try_send(Outbound::Frame(frame)) {
            Ok(()) => c.queued_bytes.fetch_add(size, Ordering::Relaxed),
            Err(TrySendError::Full(_)) | Err(TrySendError::Closed(_)) => return false,
        };
        self.sent += 1;
        c.stats.sent += 1;
        match message {
            ServerMessage::Connected(r) if r.session_id != SessionId::NONE => {
                c.stats.session = Some((r.session_id, r.time_out, now_ms()));
            }
            ServerMessage::Reply(header, _) => {
                c.stats.last_zxid = header.zxid;
                c.stats.last_response_ms = now_ms();
            }
            _ => {}
        }
        true
    }

    // ANCHOR: snapshot
    fn snapshot(&self) -> ServerSnapshot {
        let pipeline = self.pipeline.pipeline();
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
        ServerSnapshot {
            serving: true,
            version: VERSION.to_string(),
            mode: "standalone".into(),
            latency: self.latency.summary(),
            packets_received: self.received,
            packets_sent: self.sent,
            connections: self.conns.iter().map(|(id, c)| c.stats.info(*id)).collect(),
            outstanding: pipeline.outstanding() as u64,
            last_zxid: tree.last_processed_zxid(),
            // Upstream's DataTree keeps the root under both "" and "/", so it counts it twice.
            node_count: tree.node_count() as u64 + 1,
            watch_count: pipeline.watches().size() as u64,
            ephemerals_count: ephemerals,
            approximate_data_size: data_size,
            global_sessions: pipeline.sessions().len() as u64,
            uptime_ms: self.started.elapsed().as_millis() as u64,
            conf: ConfDump {
                client_port: self.local_addr.port(),
                data_dir: format!("{}/version-2", self.options.data_dir),
                data_dir_size: 0,
                data_log_dir: format!("{}/version-2", self.options.data_dir),
                data_log_size: 0,
                tick_time: self.options.tick_time_ms,
                max_client_cnxns: self.options.max_client_cnxns,
                min_session_timeout: self.options.limits.min_session_timeout_ms as u32,
                max_session_timeout: self.options.limits.max_session_timeout_ms as u32,
                // A standalone server's getServerId() (its session ids use STANDALONE_SID).
                server_id: Sid(0),
            },
            environment: environment(),
        }
    }
    // ANCHOR_END: snapshot
}

/// The opcode of a decoded request, for `lop=` in `cons`.
fn request_op(request: &Request) -> i32 {
    request.op_code().code()
}

/// `envi`'s lines after the version: what a Rust process can say about itself.
fn environment() -> Vec<(String, String)> {
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| "<NA>".into());
    vec![
        ("host.name".into(), var("HOSTNAME")),
        ("os.name".into(), std::env::consts::OS.into()),
        ("os.arch".into(), std::env::consts::ARCH.into()),
        ("user.name".into(), var("USER")),
        ("user.home".into(), var("HOME")),
        (
            "user.dir".into(),
            std::env::current_dir().map_or("<NA>".into(), |d| d.display().to_string()),
        ),
    ]
}
