//! The same [`QuorumPeer`] over real sockets: one tokio task that owns it, and the ports
//! around it.
//!
//! The idea to take away: **the driver decides nothing.** Everything a ZooKeeper server
//! decides is in the peer; the driver only carries its outputs out and brings the world's
//! answers back, one input at a time:
//!
//! ```text
//!  election port ── chapter 5's cnx (handshake, tie-break, capacity-1 queues) ─┐
//!  quorum port ──── one reader + one writer per learner connection (quorum) ───┤
//!  client port ──── chapter 3's accept loop and connection tasks (ToCore) ─────┼─► main loop: QuorumPeer::step
//!  timers ───────── each SetTimer is a deadline ──────────────────────────────┤         │
//!  disk thread ──── owns the Storage: appends, one sync per group, Logged ────◄┘ ◄───────┘
//! ```
//!
//! - **Election** notifications go through chapter 5's connections ([`ch05_election::cnx`]);
//!   one to ourselves never touches a socket.
//! - **Zab** packets go on quorum connections ([`quorum`]): the core's [`Link`](crate::message::Link) is the
//!   connection, a learner opens its own, a leader learns who called from FOLLOWERINFO, and
//!   a [`guard::Guard`] drops a connection whose packets go back in time.
//! - **Clients** are chapter 3's, unchanged: a task per connection, bounded outbound queues,
//!   the four-letter words answered from [`ch03_sessions::server::Clients`].
//! - **The disk** is a [`Storage`] on a thread of its own ([`disk`]): the loop hands it
//!   each turn's appends and reads on while it writes; it syncs once for everything queued
//!   since its last sync, and only then are the txns reported logged (a follower ACKs, a
//!   leader counts its own ACK, one of a quorum's). Epochs, a TRUNC and snapshots are done
//!   by the loop on a loan of the storage, in their place among the appends; epochs are
//!   written before anything after them is done.
//! - **Time**: the peer gets the wall clock (txn times, session deadlines); its timers are
//!   deadlines on tokio's clock.
//!
//! What one turn sends leaves as one batch per connection ([`quorum::Quorum::send_batches`],
//! [`Clients::send_batches`]): a group commit's PROPOSALs go to each follower in one socket
//! write, before our own write begins, and each client gets its replies together. The loop
//! writes each batch to its socket itself when nothing is queued before it, the clients'
//! first: a write one at a time then wakes no thread but the ones it must (the next server's,
//! the disk's, the client's), each of which costs tens of µs on a VM whose idle vCPUs halt.
//!
//! Every queue is bounded, and each says what happens when it is full: a client or a learner
//! that stops reading is dropped; the sockets wait when the main loop is busy; trace lines
//! that nobody reads in time are counted and reported as lost ([`TcpEvent::Lost`]).
//!
//! [`serve`] runs one server until the future is dropped (which, like killing the process,
//! closes every socket) or its disk fails. `keeper server` (the whole ensemble) calls it
//! with zoo.cfg's members ([`ensemble`]) and its own [`Storage`]; the chapter's binary calls it with
//! `--listen` ([`cli`]).

pub mod cli;
pub mod disk;
pub mod ensemble;
pub mod guard;
pub mod quorum;

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ch01_znode::{Sid, Txn, Zxid};
use ch03_sessions::fourlw::QuorumReport;
use ch03_sessions::pipeline;
use ch03_sessions::pipeline::standalone::SNAPSHOT_NODES_PER_FLUSH;
use ch03_sessions::server::{
    accept_clients, now_ms, About, Clients, ServerOptions, ToCore, INBOUND_QUEUE,
};
use ch05_election::cnx::{CnxEvent, CnxReport, Connections};
use ch05_election::deadlines::Deadlines;
use ch05_election::notification::Notification;
use ch05_election::vote::ServerState;
use tokio::net::TcpListener;
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio::task::{block_in_place, JoinSet};
use tokio::time::Instant;

use crate::message::Message;
use crate::peer::{Config, Input, Output, QuorumPeer, Recovered, Timer};
use crate::storage::Storage;
use crate::trace::Note;
use disk::DiskThread;
use quorum::{Delivery, Quorum, QuorumEvent};

/// Trace lines waiting for their reader; more are counted as lost.
pub const EVENT_QUEUE: usize = 4096;

/// Most inputs one turn of the main loop takes before it hands its packets and appends
/// over: upstream's `zookeeper.maxBatchSize` default, so a write waits for at most this
/// many others.
const TURN_INPUTS: usize = 1000;

// ANCHOR: spec
/// One member of the ensemble, as `server.N=host:quorumPort:electionPort` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    /// Where its leader accepts learners (2888).
    pub quorum: SocketAddr,
    /// Where it takes part in elections (3888).
    pub election: SocketAddr,
}

/// One server's place in the ensemble.
#[derive(Clone, Debug)]
pub struct ServerSpec {
    /// This server (`myid`).
    pub sid: Sid,
    /// Every member, this one included; its quorum rule (who votes) is `config`'s.
    pub members: BTreeMap<Sid, Member>,
    /// The ensemble's tunables (`tickTime`, `initLimit`, `syncLimit`, session limits).
    pub config: Config,
    /// The client port: its address, `maxClientCnxns`, `jute.maxbuffer`, the four-letter
    /// words allowed. Its tick and session limits are replaced by `config`'s.
    pub client: ServerOptions,
    /// The ensemble's configuration text, for `/zookeeper/config` and `conf`
    /// ([`ensemble::membership`]).
    pub membership: String,
    /// Whether to report the lines that come once per write or per connection
    /// ([`cli::per_request`]): a server whose reader drops them anyway spares itself
    /// building them and a hop to the reader's thread for each.
    pub per_request_events: bool,
}
// ANCHOR_END: spec

/// The three ports, bound before the server starts (so a busy port is an error at once).
pub struct Listeners {
    /// This member's election address.
    pub election: TcpListener,
    /// This member's quorum address.
    pub quorum: TcpListener,
    /// The client port.
    pub client: TcpListener,
}

impl Listeners {
    /// Binds `spec`'s three addresses.
    pub async fn bind(spec: &ServerSpec) -> io::Result<Listeners> {
        let me = spec.members.get(&spec.sid).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("server {} is not a member", spec.sid),
            )
        })?;
        let bind = |addr: SocketAddr, what: &str| {
            let what = what.to_string();
            async move {
                TcpListener::bind(addr)
                    .await
                    .map_err(|e| io::Error::new(e.kind(), format!("{what} {addr}: {e}")))
            }
        };
        Ok(Listeners {
            election: bind(me.election, "election port").await?,
            quorum: bind(me.quorum, "quorum port").await?,
            client: bind(spec.client.listen, "client port").await?,
        })
    }
}

// ANCHOR: events
/// Something a server over TCP reports.
#[derive(Clone, Debug, PartialEq)]
pub enum TcpEvent {
    /// A line of the peer's story (the election's or Zab's).
    Note(Note),
    /// LOOKING, LEADING, FOLLOWING or OBSERVING.
    State(ServerState),
    /// It started serving clients, with this leader (`Some`), or stopped (`None`).
    Serving(Option<Sid>),
    /// A committed txn was applied to its tree.
    Applied(Txn),
    /// A connection came up (which one, in words).
    Connected(String),
    /// Bytes or a connection were refused, or a connection broke: why.
    Dropped(String),
    /// This many lines were not reported: nobody read them in time.
    Lost(u64),
}
// ANCHOR_END: events

/// A report, with who made it and when (chapter 5's, with this chapter's events).
pub type Traced = ch05_election::tcp::Traced<TcpEvent>;

impl fmt::Display for TcpEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TcpEvent::Note(n) => write!(f, "• {n}"),
            TcpEvent::State(s) => write!(f, "⇨ {s}"),
            TcpEvent::Serving(Some(leader)) => write!(f, "⇨ serving clients, leader n{leader}"),
            TcpEvent::Serving(None) => f.write_str("⇨ not serving clients"),
            TcpEvent::Applied(txn) => write!(f, "applies {txn}"),
            TcpEvent::Connected(what) => write!(f, "connected: {what}"),
            TcpEvent::Dropped(why) => write!(f, "✗ {why}"),
            TcpEvent::Lost(n) => write!(f, "… {n} lines lost (nobody read them in time)"),
        }
    }
}

/// Where reports go: a bounded queue, never waited on.
#[derive(Clone)]
struct Events {
    tx: mpsc::Sender<Traced>,
    sid: Sid,
    started: Instant,
    lost: Arc<AtomicU64>,
    per_request: bool,
}

impl Events {
    fn report(&self, event: TcpEvent) {
        if !self.per_request && cli::per_request(&event) {
            return;
        }
        let lost = self.lost.swap(0, Ordering::Relaxed);
        if lost > 0 && !self.offer(TcpEvent::Lost(lost)) {
            self.lost.fetch_add(lost, Ordering::Relaxed);
        }
        if !self.offer(event) {
            self.lost.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// False if the queue is full (a closed one has nobody left to tell).
    fn offer(&self, event: TcpEvent) -> bool {
        let traced = Traced {
            sid: self.sid,
            at_ms: self.started.elapsed().as_millis(),
            event,
        };
        !matches!(self.tx.try_send(traced), Err(TrySendError::Full(_)))
    }
}

// ANCHOR: serve
/// Runs server `spec` on `listeners`, starting from what `storage` holds, reporting to
/// `events` (the caller drains it; what it does not take in time is counted as lost).
/// Returns only if the disk fails; dropping the future stops every task and closes every
/// socket, like killing the process.
pub async fn serve<S: Storage>(
    spec: ServerSpec,
    listeners: Listeners,
    mut storage: S,
    events: mpsc::Sender<Traced>,
) -> io::Error {
    let events = Events {
        tx: events,
        sid: spec.sid,
        started: Instant::now(),
        lost: Arc::new(AtomicU64::new(0)),
        per_request: spec.per_request_events,
    };
    let recent = spec.config.commit_log_count;
    let mut recovered = match storage.recover(recent) {
        Ok(recovered) => recovered,
        Err(e) => return e,
    };
    with_config(&mut recovered, &spec.membership);
    let mut options = spec.client.clone();
    options.tick_time_ms = spec.config.tick_ms as u32;
    options.limits = spec.config.limits;
    let client_addr = listeners.client.local_addr().unwrap_or(options.listen);

    let report = {
        let events = events.clone();
        Arc::new(move |r: CnxReport| match r {
            CnxReport::Connected(sid) => events.report(TcpEvent::Connected(format!(
                "election connection to n{sid}"
            ))),
            CnxReport::Dropped(why) => events.report(TcpEvent::Dropped(why)),
        })
    };
    let election_addrs = spec.members.iter().map(|(s, m)| (*s, m.election)).collect();
    let (election, mut election_rx) =
        Connections::start(spec.sid, election_addrs, listeners.election, report);
    let quorum_addrs = spec.members.iter().map(|(s, m)| (*s, m.quorum)).collect();
    let init_limit = Duration::from_millis(spec.config.init_limit_ms());
    let (quorum, mut quorum_rx) =
        Quorum::start(spec.sid, quorum_addrs, listeners.quorum, init_limit);
    let mut tasks = JoinSet::new();
    let (to_core, mut client_rx) = mpsc::channel(INBOUND_QUEUE);
    tasks.spawn(accept_clients(listeners.client, options.clone(), to_core));

    let mut config = spec.config.clone();
    if config.snap_seed == 0 {
        // The snapshot schedule's randomness: this driver's, from the clock, so that the
        // servers of an ensemble do not snapshot in step.
        config.snap_seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            ^ spec.sid.0;
    }
    let peer = QuorumPeer::new(spec.sid, config, recovered, now_ms());
    let disk = match DiskThread::start(storage) {
        Ok(disk) => disk,
        Err(e) => return e,
    };
    let disk_ready = disk.ready();
    let mut driver = Driver {
        sid: spec.sid,
        state: peer.state(),
        serving: None,
        peer,
        disk,
        recent,
        events,
        timers: Deadlines::default(),
        election,
        quorum,
        clients: Clients::new(),
        options,
        client_addr,
        inputs: VecDeque::new(),
        outputs: Vec::new(),
        snapshotting: false,
        quorum_report: QuorumReport {
            init_limit: spec.config.init_limit,
            sync_limit: spec.config.sync_limit,
            election_port: spec.members[&spec.sid].election.port(),
            quorum_port: spec.members[&spec.sid].quorum.port(),
            observer: spec.config.qv().observing_members().contains(&spec.sid),
            membership: spec.membership.clone(),
            quorum_size: spec.config.qv().voting_members().len() as u64,
            ..QuorumReport::default()
        },
    };
    driver.events.report(TcpEvent::State(driver.state));
    let mut turn = driver.step(Input::Start);
    loop {
        if let Err(e) = turn {
            driver
                .events
                .report(TcpEvent::Dropped(format!("the disk failed: {e}; stopping")));
            return e;
        }
        let deadline = driver.timers.next();
        turn = tokio::select! {
            Some(event) = election_rx.recv() => driver.on_election(event),
            Some(event) = quorum_rx.recv() => driver.on_quorum(event),
            Some(message) = client_rx.recv() => driver.on_client(message),
            _ = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                driver.fire_due(&mut election_rx, &mut quorum_rx)
            }
            // Txns logged, a loan for a snapshot's slice, or the disk's error.
            // Always enabled, so `select!` never runs out of branches: a port whose task
            // ended (a bug: the tasks hold their senders as long as they run) is passed over.
            () = disk_ready.notified() => driver.on_disk(),
        };
        // Whatever else already waits on the quorum and client ports joins this turn: its
        // packets leave as one batch per connection, its appends as one request to the disk
        // thread. While the thread syncs, more turns' appends queue up behind it, and its
        // next sync covers them all (a group commit: upstream's SyncRequestProcessor flushes
        // when its queue runs dry, or after 1000 requests).
        let mut taken = 1;
        while turn.is_ok() && taken < TURN_INPUTS {
            turn = if let Ok(event) = quorum_rx.try_recv() {
                driver.on_quorum(event)
            } else if let Ok(message) = client_rx.try_recv() {
                driver.on_client(message)
            } else {
                break;
            };
            taken += 1;
        }
        turn = turn.and_then(|()| driver.flush());
    }
}
// ANCHOR_END: serve

/// Runs `work`, milliseconds or more of CPU (a fuzzy snapshot's slice, a SNAP to encode), so
/// that the runtime's other tasks go on without it. On a multi-threaded runtime,
/// `block_in_place` hands this worker's other tasks to another thread for the length of
/// `work`, at the price of that hand-off; without it, a server with one worker thread (as
/// `keeper server` runs) would read and answer nothing meanwhile, and a task woken by the
/// turn before would wait in this worker's own slot, which no other worker may take. A
/// single-threaded runtime has no other thread: there it just runs.
pub fn aside<T>(work: impl FnOnce() -> T) -> T {
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => block_in_place(work),
        _ => work(),
    }
}

/// Puts the ensemble's configuration into `/zookeeper/config` of a database read from disk,
/// as upstream does whenever it loads one (`ZKDatabase.initConfigInZKDatabase`); a SNAP from
/// the leader brings the leader's, which is the same.
fn with_config(recovered: &mut Recovered, membership: &str) {
    let now = now_ms() as i64;
    recovered
        .db
        .tree
        .set_config(membership.as_bytes(), Zxid::ZERO, now);
}

/// The state of one server's main loop.
struct Driver<S> {
    sid: Sid,
    peer: QuorumPeer,
    /// The thread that owns the [`Storage`].
    disk: DiskThread<S>,
    /// How many recent txns a recovery keeps for DIFFs.
    recent: usize,
    events: Events,
    timers: Deadlines<Timer>,
    election: Connections,
    quorum: Quorum,
    clients: Clients,
    options: ServerOptions,
    client_addr: SocketAddr,
    /// Inputs the driver owes the peer: our own notifications, the disk's answers, the
    /// connections it closed.
    inputs: VecDeque<Input>,
    /// The list each step of the peer fills and the loop empties, kept for the next step.
    outputs: Vec<Output>,
    /// A fuzzy snapshot is being walked: each turn asks the disk thread for a loan of the
    /// storage, to write a slice of it.
    snapshotting: bool,
    /// What was last reported.
    state: ServerState,
    serving: Option<Sid>,
    /// What `conf` and `mntr` add for a member; the changing parts are filled when asked.
    quorum_report: QuorumReport,
}

impl<S: Storage> Driver<S> {
    // ANCHOR: step
    /// Feeds `input`, carries out what the peer says and feeds what that brings back, then
    /// ends the turn ([`Driver::flush`]).
    fn step(&mut self, input: Input) -> io::Result<()> {
        self.feed(input)?;
        self.flush()
    }

    /// Feeds `input` and carries out what the peer says, and what that brings back; its
    /// appends wait for the end of the turn ([`Driver::flush`]).
    fn feed(&mut self, input: Input) -> io::Result<()> {
        self.inputs.push_back(input);
        self.feed_owed()
    }

    /// Steps the peer with every input owed, first come first fed: a follower ACKs only in
    /// the order its disk was given the txns, so a `Logged` that waits in the queue must not
    /// be overtaken by one a later loan brings (an input may ask for the disk). The test
    /// `disk_thread::a_follower_that_snapshots_under_a_write_stream_acks_every_txn_in_order`
    /// stalls if it is.
    fn feed_owed(&mut self) -> io::Result<()> {
        while let Some(input) = self.inputs.pop_front() {
            let mut outputs = std::mem::take(&mut self.outputs);
            self.peer.step_into(now_ms(), input, &mut outputs);
            // On an error (the server ends) the outputs not carried are dropped with the drain.
            let carried = outputs.drain(..).try_for_each(|output| self.carry(output));
            self.outputs = outputs;
            carried?;
        }
        Ok(())
    }

    /// Ends a turn: hands the turn's packets to the quorum connections, then its appends to
    /// the disk thread, which logs them while the loop goes on reading; their
    /// [`Input::Logged`] comes back later ([`Driver::on_disk`]). The PROPOSALs leave before
    /// our own write begins, so the followers log them while we do, and their ACKs are read
    /// as they come: a quorum of them commits, with or without ours (upstream's leader sends
    /// and logs in parallel too). A fuzzy snapshot under way asks for the storage, to walk
    /// its next slice over the live database when it comes, so the snapshot interleaves
    /// with the groups committed around it.
    fn flush(&mut self) -> io::Result<()> {
        self.send_batches()?;
        self.disk.hand_over()?;
        if self.snapshotting {
            self.disk.ask()?;
        }
        self.report_changes();
        Ok(())
    }

    /// The disk thread's news: a storage lent for the snapshot walks its next slice and goes
    /// back (first: feeding may ask for the disk), then each txn it logged is fed as
    /// [`Input::Logged`], in order.
    fn on_disk(&mut self) -> io::Result<()> {
        let taken = self.disk.take()?;
        if let Some(mut storage) = taken.lent {
            let walked = if self.snapshotting {
                storage.advance_snapshot(self.peer.database(), SNAPSHOT_NODES_PER_FLUSH)
            } else {
                Ok(false)
            };
            self.disk.give_back(storage, None)?;
            self.snapshotting = walked?;
        }
        self.inputs
            .extend(taken.logged.into_iter().map(Input::Logged));
        self.feed_owed()
    }

    /// Does `work` on the storage, at this point of the disk thread's queue: after every
    /// append asked for before, before every one asked for after. Waits for the thread (the
    /// end of a write under way). The txns logged meanwhile are reported first.
    fn on_storage<T>(
        &mut self,
        work: impl FnOnce(&mut S, &QuorumPeer) -> io::Result<T>,
    ) -> io::Result<T> {
        self.on_storage_cutting(|_| None, work)
    }

    /// [`Self::on_storage`], after which the appends not yet synced that come after the
    /// zxid `cut` names from the outcome are dropped too (a TRUNC, a sync's snapshot).
    fn on_storage_cutting<T>(
        &mut self,
        cut: impl FnOnce(&io::Result<T>) -> Option<Zxid>,
        work: impl FnOnce(&mut S, &QuorumPeer) -> io::Result<T>,
    ) -> io::Result<T> {
        let (logged, mut storage) = self.disk.borrow()?;
        self.inputs.extend(logged.into_iter().map(Input::Logged));
        let done = work(&mut storage, &self.peer);
        self.disk.give_back(storage, cut(&done))?;
        done
    }
    // ANCHOR_END: step

    // ANCHOR: carry
    /// Hands each client and quorum connection what the turn queued for it, as one batch;
    /// a connection whose queue is full is dropped and the peer told (which may queue more).
    /// The clients come first: a commit's reply is what its client waits for, and each
    /// write to a socket whose reader sleeps pays for waking it (10-20 µs here), so the
    /// reply does not wait for the COMMITs to the followers.
    fn send_batches(&mut self) -> io::Result<()> {
        loop {
            let full = self.clients.send_batches();
            let dropped = self.quorum.send_batches();
            if dropped.is_empty() && full.is_empty() {
                return Ok(());
            }
            for (link, why) in dropped {
                self.events.report(TcpEvent::Dropped(why));
                self.feed(Input::Disconnected { link })?;
            }
            for conn in full {
                self.drop_slow(conn);
                let inputs = std::mem::take(&mut self.inputs);
                for input in inputs {
                    self.feed(input)?;
                }
            }
        }
    }

    /// Carries out one of the peer's outputs.
    fn carry(&mut self, output: Output) -> io::Result<()> {
        match output {
            // To ourselves: no socket, straight back.
            Output::Election { to, n } if to == self.sid => {
                self.inputs.push_back(Input::Election { from: to, n })
            }
            Output::Election { to, n } => self.election.send(to, n.encode()),
            Output::Zab { to, link, msg } => {
                let extended = self.peer.database().tree.extended_types();
                if let Err(why) = self.quorum.send(to, link, msg, extended) {
                    self.events.report(TcpEvent::Dropped(why));
                    self.inputs.push_back(Input::Disconnected { link });
                }
            }
            // We do not lead: close the connection unanswered; the learner retries.
            Output::Disconnect { link } | Output::Refuse { link } => self.quorum.disconnect(link),
            Output::SetTimer { timer, after_ms } => self.timers.set(timer, after_ms),
            Output::CancelTimer(timer) => self.timers.cancel(timer),
            Output::Append(entry) => self.disk.append(entry),
            Output::Truncate(zxid) => {
                let recent = self.recent;
                // The appends after `zxid` not synced yet are cut too: never logged. A
                // truncation the disk refused cuts nothing.
                let cut = self.on_storage_cutting(
                    |cut| matches!(cut, Ok(Some(_))).then_some(zxid),
                    |s, _| s.truncate(zxid, recent),
                );
                match cut? {
                    Some(mut recovered) => {
                        with_config(&mut recovered, &self.quorum_report.membership);
                        self.inputs.push_back(Input::Reloaded(Box::new(recovered)));
                    }
                    None => self.inputs.push_back(Input::CannotTruncate(zxid)),
                }
            }
            // The sync's snapshot drops what the disk holds after it: so do the appends not
            // synced yet.
            Output::Snapshot(db) => self.on_storage_cutting(
                |_| Some(db.last_processed_zxid()),
                |s, _| s.sync_snapshot(&db),
            )?,
            // Upstream skips a snapshot that falls due while the last is still being written.
            Output::BeginSnapshot if self.snapshotting => {}
            Output::BeginSnapshot => {
                self.snapshotting = self.on_storage(|s, peer| s.begin_snapshot(peer.database()))?;
            }
            // Only a snapshot being walked has anything to abandon.
            Output::AbandonSnapshot if !self.snapshotting => {}
            Output::AbandonSnapshot => {
                self.on_storage(|s, _| {
                    s.abandon_snapshot();
                    Ok(())
                })?;
                self.snapshotting = false;
            }
            // Written before anything after it is done: the loop waits for it.
            Output::SaveEpochs(epochs) => self.on_storage(|s, _| s.save_epochs(epochs))?,
            Output::Client(output) => self.client_output(output),
            Output::Note(note) => self.events.report(TcpEvent::Note(note)),
        }
        Ok(())
    }
    // ANCHOR_END: carry

    fn client_output(&mut self, output: pipeline::Output) {
        match output {
            pipeline::Output::Send { conn, message } => {
                if !self.clients.send(conn, &message) {
                    self.drop_slow(conn);
                }
            }
            pipeline::Output::Close { conn } => self.clients.close(conn),
            pipeline::Output::Applied(txn) => {
                if let Some(applied) = &self.options.applied {
                    let _ = applied.send(txn.clone());
                }
                self.events.report(TcpEvent::Applied(txn));
            }
            // The peer routes proposals, forwards and revalidations to Zab itself.
            pipeline::Output::Propose(_)
            | pipeline::Output::Forward(_)
            | pipeline::Output::Revalidate { .. } => {}
        }
    }

    /// A client that does not read its replies is dropped; the peer is told (next input).
    fn drop_slow(&mut self, conn: pipeline::ConnId) {
        if let Some(remote) = self.clients.drop_slow(conn) {
            let why = format!("client {remote} is not reading its replies; closed");
            self.events.report(TcpEvent::Dropped(why));
        }
        let gone = pipeline::Input::Disconnected { conn };
        self.inputs.push_back(Input::Client(gone));
    }

    /// Reports a new role, and a server that starts or stops serving.
    fn report_changes(&mut self) {
        let state = self.peer.state();
        if state != self.state {
            self.state = state;
            self.events.report(TcpEvent::State(state));
        }
        let serving = self.peer.is_serving().then(|| self.peer.leader()).flatten();
        if serving != self.serving {
            self.serving = serving;
            self.events.report(TcpEvent::Serving(serving));
        }
    }

    // ANCHOR: fire_due
    /// The timers that are due fire, but only after what already arrived on the election
    /// and quorum ports is read. `select!` picks among ready branches at random, so after a
    /// pause (a slow sync, a stalled process) a follower's read timeout could fire while its
    /// leader's packets sat in the channel, and the follower would give up on a leader that
    /// had spoken. ZooKeeper reads first: a blocking read returns what the socket holds
    /// before its timeout counts (`Learner.readPacket` under `soTimeout`,
    /// `FastLeaderElection`'s `recvqueue.poll`). Reading here, rather than always preferring
    /// the ports in `select!`, keeps the timers from starving while packets keep coming.
    fn fire_due(
        &mut self,
        election_rx: &mut mpsc::Receiver<CnxEvent>,
        quorum_rx: &mut mpsc::Receiver<QuorumEvent>,
    ) -> io::Result<()> {
        let mut taken = 0;
        while taken < TURN_INPUTS {
            if let Ok(event) = election_rx.try_recv() {
                self.on_election(event)?;
            } else if let Ok(event) = quorum_rx.try_recv() {
                self.on_quorum(event)?;
            } else {
                break;
            }
            taken += 1;
        }
        // A packet read re-armed its timer: only what is still due fires.
        for t in self.timers.take_due() {
            self.step(Input::Timeout(t))?;
        }
        Ok(())
    }
    // ANCHOR_END: fire_due

    /// A notification (or a skipped frame) from the election port.
    fn on_election(&mut self, event: CnxEvent) -> io::Result<()> {
        let Some((from, payload)) = self.election.handle(event) else {
            return Ok(());
        };
        match Notification::decode(&payload) {
            Ok(n) => self.feed(Input::Election { from, n }),
            Err(e) => {
                let why = format!("from n{from}: {e}; message skipped");
                self.events.report(TcpEvent::Dropped(why));
                Ok(())
            }
        }
    }

    /// A packet, a new learner or a closed connection on the quorum port.
    fn on_quorum(&mut self, event: QuorumEvent) -> io::Result<()> {
        match self.quorum.handle(event) {
            None => Ok(()),
            Some(Delivery::Message { from, link, msg }) => {
                if let Message::LearnerInfo { .. } = msg {
                    let what = format!("quorum connection {link} from n{from}");
                    self.events.report(TcpEvent::Connected(what));
                }
                self.feed(Input::Zab { from, link, msg })
            }
            Some(Delivery::Closed { link, why }) => {
                if let Some(why) = why {
                    let why = format!("quorum connection {link}: {why}; connection closed");
                    self.events.report(TcpEvent::Dropped(why));
                }
                self.feed(Input::Disconnected { link })
            }
            Some(Delivery::NotAccepted { link, why }) => {
                if let Some(why) = why {
                    let why = format!("quorum connection {link}: {why}");
                    self.events.report(TcpEvent::Dropped(why));
                }
                self.feed(Input::Refused { link })
            }
            Some(Delivery::Refused(why)) => {
                self.events.report(TcpEvent::Dropped(why));
                Ok(())
            }
        }
    }

    /// A client connection's news.
    fn on_client(&mut self, message: ToCore) -> io::Result<()> {
        match message {
            ToCore::Opened {
                conn,
                remote,
                out,
                socket,
            } => {
                self.clients.opened(conn, remote, out, socket);
                Ok(())
            }
            ToCore::Input(input) => {
                self.clients.received(&input);
                self.feed(Input::Client(input))
            }
            ToCore::FourLetterWord(asked) => {
                let state = self.peer.state();
                let about = About {
                    serving: self.peer.is_serving(),
                    mode: state.mode().unwrap_or("leaderelection"),
                    options: &self.options,
                    local_addr: self.client_addr,
                    server_id: self.sid,
                    quorum: Some(QuorumReport {
                        peer_state: self.peer.peer_state(),
                        leader: self.peer.leader_report(),
                        ..self.quorum_report.clone()
                    }),
                };
                self.clients.answer(asked, self.peer.pipeline(), about);
                Ok(())
            }
            ToCore::Closed { conn } => {
                self.clients.closed(conn);
                self.feed(Input::Client(pipeline::Input::Disconnected { conn }))
            }
        }
    }
}
