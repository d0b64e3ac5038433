//! The core task: the one owner of the pipeline, and the router of its outputs.
//!
//! Every connection's input arrives here on one channel, so the pipeline sees one total order
//! of requests. Outputs go to each connection's bounded queue with `try_send`: the core never
//! waits for a client, and a client whose queue is full is disconnected instead.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ch01_znode::Sid;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{mpsc, oneshot};

use super::clients::{About, Clients};
use super::outbox::OutboxSender;
use super::{Durable, ServerOptions};
use crate::fourlw::FourLetterWord;
use crate::pipeline::standalone::{SnapSchedule, StandalonePipeline};
use crate::pipeline::{ConnId, Input, Output};
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
        out: OutboxSender,
        /// The socket's sending half: the core writes a turn's replies straight to it when
        /// nothing is queued before them ([`Clients::send_batches`]).
        socket: Arc<OwnedWriteHalf>,
    },
    /// A decoded frame.
    Input(Input),
    /// A four-letter word to answer.
    FourLetterWord(WordAsked),
    /// The connection ended.
    Closed { conn: ConnId },
}

/// A four-letter word that arrived on `conn`, and where its answer goes.
#[derive(Debug)]
pub struct WordAsked {
    /// The connection it came on.
    pub conn: ConnId,
    /// The word.
    pub word: FourLetterWord,
    /// The mask that followed `stmk`.
    pub trace_mask: Option<i64>,
    /// Takes the answer's text.
    pub reply: oneshot::Sender<String>,
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

struct Core {
    pipeline: StandalonePipeline,
    options: ServerOptions,
    local_addr: SocketAddr,
    clients: Clients,
}

/// How many requests that arrived together are prepared before their txns are synced as
/// one group (upstream flushes after 1000 too).
const GROUP_COMMIT_LIMIT: usize = 1000;

/// Runs the core until every sender is gone, or until the disk fails (the error).
pub async fn run(
    options: ServerOptions,
    local_addr: SocketAddr,
    mut rx: mpsc::Receiver<ToCore>,
    durable: Option<Durable>,
) -> std::io::Result<()> {
    let mut pipeline = StandalonePipeline::new(
        options.tick_time_ms,
        options.limits,
        STANDALONE_SID,
        now_ms(),
    );
    if let Some(durable) = durable {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        let schedule =
            SnapSchedule::new(durable.snap_count, seed).with_size_limit(durable.snap_size_limit);
        pipeline = pipeline.with_log(durable.db, durable.log, schedule, now_ms());
        if durable.snapshot_begun {
            pipeline.snapshot_begun();
        }
    }
    if let Some(seed) = options.session_id_seed {
        pipeline
            .pipeline_mut()
            .seed_session_ids(STANDALONE_SID, seed);
    }
    let mut core = Core {
        pipeline,
        options,
        local_addr,
        clients: Clients::new(),
    };
    loop {
        let wait_ms = core
            .pipeline
            .pipeline()
            .next_tick_ms()
            .saturating_sub(now_ms());
        tokio::select! {
            message = rx.recv() => match message {
                Some(message) => {
                    core.handle(message);
                    // Group commit: whatever else has already arrived joins this group, so
                    // the requests that came while the last sync ran share the next one.
                    let mut grouped = 1;
                    while core.pipeline.has_held() && grouped < GROUP_COMMIT_LIMIT {
                        let Ok(message) = rx.try_recv() else { break };
                        core.handle(message);
                        grouped += 1;
                    }
                }
                None => return Ok(()),
            },
            () = tokio::time::sleep(Duration::from_millis(wait_ms)) => {
                let outputs = core.pipeline.step(now_ms(), Input::Tick);
                core.route(outputs);
            }
            // A snapshot under way takes its next slice even when no request comes; the
            // branches are polled in random order, so requests still get their turns. It
            // yields first: a ready future would keep this task running slice after slice,
            // and the connection tasks waiting on its worker (a task just woken sits in a
            // slot no other worker takes from) would not run, nor send their requests, until
            // the whole snapshot was written.
            () = tokio::task::yield_now(), if core.pipeline.snapshotting() => {}
        }
        // Nothing proposed is committed or answered before its group is on disk.
        let outputs = core.pipeline.flush(now_ms())?;
        core.route(outputs);
        core.send_batches();
    }
}

impl Core {
    fn handle(&mut self, message: ToCore) {
        match message {
            ToCore::Opened {
                conn,
                remote,
                out,
                socket,
            } => self.clients.opened(conn, remote, out, socket),
            ToCore::Input(input) => self.input(input),
            ToCore::FourLetterWord(asked) => {
                let about = About {
                    serving: true,
                    mode: "standalone",
                    options: &self.options,
                    local_addr: self.local_addr,
                    // A standalone server's getServerId() (its session ids use STANDALONE_SID).
                    server_id: Sid(0),
                    quorum: None,
                };
                self.clients.answer(asked, self.pipeline.pipeline(), about);
            }
            ToCore::Closed { conn } => {
                self.clients.closed(conn);
                let outputs = self.pipeline.step(now_ms(), Input::Disconnected { conn });
                self.route(outputs);
            }
        }
    }

    fn input(&mut self, input: Input) {
        self.clients.received(&input);
        let outputs = self.pipeline.step(now_ms(), input);
        self.route(outputs);
    }

    /// Ends a turn: every connection gets its replies in one batch; one whose queue is full
    /// is dropped, and what that brings is carried out (and sent) too.
    fn send_batches(&mut self) {
        loop {
            let full = self.clients.send_batches();
            if full.is_empty() {
                return;
            }
            for conn in full {
                let outputs = self.drop_slow(conn);
                self.route(outputs);
            }
        }
    }

    /// Slow or gone: drops `conn`, and lets the pipeline forget the connection.
    fn drop_slow(&mut self, conn: ConnId) -> Vec<Output> {
        if let Some(remote) = self.clients.drop_slow(conn) {
            eprintln!("keeper: closing connection from {remote}: it is not reading its replies");
        }
        self.pipeline.step(now_ms(), Input::Disconnected { conn })
    }

    /// Carries out the pipeline's outputs; a disconnect caused here feeds back its own.
    fn route(&mut self, outputs: Vec<Output>) {
        let mut work: VecDeque<Output> = outputs.into();
        while let Some(output) = work.pop_front() {
            match output {
                Output::Send { conn, message } => {
                    if !self.clients.send(conn, &message) {
                        work.extend(self.drop_slow(conn));
                    }
                }
                Output::Close { conn } => self.clients.close(conn),
                Output::Applied(txn) => {
                    if let Some(applied) = &self.options.applied {
                        let _ = applied.send(txn);
                    }
                }
                Output::Propose(_) | Output::Forward(_) | Output::Revalidate { .. } => {
                    unreachable!("a standalone pipeline commits its own proposals and asks nobody")
                }
            }
        }
    }
}
