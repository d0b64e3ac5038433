//! A quorum peer: elect, then lead or follow, then elect again, forever.
//!
//! The idea to take away: one server of an ensemble is **one state machine with four
//! states** — LOOKING, LEADING, FOLLOWING, OBSERVING — and its step dispatches on the state.
//! While LOOKING it runs chapter 5's election; the election's decision starts Zab as a leader
//! ([`Leader`]) or a learner ([`Learner`]); anything that ends Zab (a silent leader, a lost
//! quorum, a broken connection) sends the server back to LOOKING, with a vote that names the
//! last txn it has logged. Under all four states sits chapter 3's pipeline: clients are served
//! only while the server leads or follows an established leader.
//!
//! Like every core of the book it does no IO: it is fed one [`Input`] at a time (a message, a
//! timer, a client frame, "the disk has it") and returns [`Output`]s (messages, timers, things
//! to write to disk, frames for clients). The simulator and the TCP driver carry them out.
//!
//! Upstream: `QuorumPeer.run` (the loop over `getPeerState()`), `Leader.lead`,
//! `Follower.followLeader`, `Observer.observeLeader`.

use std::collections::BTreeSet;
use std::sync::Arc;

use ch01_znode::{Epoch, Sid, Zxid};
use ch03_sessions::fourlw::LeaderReport;
use ch03_sessions::pipeline::standalone::SnapSchedule;
use ch03_sessions::pipeline::{self, Database, Limits, Pipeline};
use ch05_election::notification::Notification;
use ch05_election::peer::{
    Config as ElectionConfig, Durable, Input as ElectionInput, Note as ElectionNote,
    Output as ElectionOutput, Peer as Election, Timer as ElectionTimer,
};
use ch05_election::quorum::QuorumVerifier;
use ch05_election::vote::ServerState;
use serde::Serialize;

use crate::history::{History, COMMIT_LOG_COUNT};
use crate::leader::Leader;
use crate::learner::Learner;
use crate::message::{Link, Message};
use crate::trace::{Note, ZabNote};
use crate::txn_codec::TxnEntry;

// ANCHOR: config
/// The ensemble and its tunables (`zoo.cfg`).
#[derive(Clone, Debug, Hash)]
pub struct Config {
    /// The election's: membership, quorum rule, finalizeWait and back-off.
    pub election: ElectionConfig,
    /// `tickTime`, ms.
    pub tick_ms: u64,
    /// `initLimit`, ticks: how long connecting and syncing may take.
    pub init_limit: u32,
    /// `syncLimit`, ticks: how long a synced peer may stay silent.
    pub sync_limit: u32,
    /// How many recent txns are kept for DIFFs (`zookeeper.commitLogCount`).
    pub commit_log_count: usize,
    /// Session timeout bounds.
    pub limits: Limits,
    /// A deliberate bug, for a lab (`None`: the protocol as ZooKeeper 3.8 runs it).
    pub flaw: Option<Flaw>,
    /// `snapCount`: a snapshot after more than `snap_count / 2` plus a random share of the
    /// other half of logged txns ([`SnapSchedule`], `SyncRequestProcessor`).
    pub snap_count: u32,
    /// The randomness for that share, which the driver supplies (the core draws none of its
    /// own): a real server seeds it from its clock, so the servers of an ensemble do not all
    /// snapshot at once; a simulation from its seed.
    pub snap_seed: u64,
}
// ANCHOR_END: config

/// Deliberate bugs the labs switch on, each a real one from ZooKeeper's history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flaw {
    /// Before ZOOKEEPER-3911 (fixed in 3.6.3): a follower synced by DIFF acknowledged
    /// NEWLEADER, and took the new epoch as its `currentEpoch`, before it had logged the txns
    /// the sync gave it; it logged them only after UPTODATE.
    LogSyncAfterUpToDate,
    /// A driver that tells the peer a txn is logged as soon as it is written, before the
    /// fsync that makes it durable — what `forceSync=no` does to ZooKeeper. Carried out by
    /// the simulator's disk (lab 7.1); the peer itself does not change.
    AckBeforeFsync,
}

/// `zookeeper.snapCount`'s default.
pub const DEFAULT_SNAP_COUNT: u32 = 100_000;

impl Config {
    /// ZooKeeper's defaults (`tickTime=2000`, `initLimit=10`, `syncLimit=5`) for `qv`.
    pub fn new(qv: Arc<dyn QuorumVerifier>) -> Config {
        let tick_ms = 2000;
        Config {
            election: ElectionConfig::new(qv),
            tick_ms,
            init_limit: 10,
            sync_limit: 5,
            commit_log_count: COMMIT_LOG_COUNT,
            limits: Limits::for_tick(tick_ms as u32),
            flaw: None,
            snap_count: DEFAULT_SNAP_COUNT,
            snap_seed: 0,
        }
    }

    /// The membership and the quorum rule.
    pub fn qv(&self) -> &dyn QuorumVerifier {
        self.election.qv.as_ref()
    }

    /// `initLimit * tickTime`.
    pub fn init_limit_ms(&self) -> u64 {
        self.tick_ms * u64::from(self.init_limit)
    }

    /// `syncLimit * tickTime`.
    pub fn sync_limit_ms(&self) -> u64 {
        self.tick_ms * u64::from(self.sync_limit)
    }
}

// ANCHOR: epochs
/// The two epoch files (`acceptedEpoch`, `currentEpoch`): the highest epoch promised, and
/// the epoch of the last leader this server fully synced with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Hash)]
pub struct Epochs {
    /// `acceptedEpoch`.
    pub accepted: Epoch,
    /// `currentEpoch`.
    pub current: Epoch,
}
// ANCHOR_END: epochs

/// What a server finds on its disk when it starts: its epochs, the database its snapshot and
/// log rebuild (every logged txn applied, committed or not), and the log's recent txns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Recovered {
    /// The epoch files.
    pub epochs: Epochs,
    /// Snapshot plus log.
    pub db: Database,
    /// The newest txns of the log, oldest first, with their logged digests (they seed the
    /// DIFF window).
    pub recent: Vec<TxnEntry>,
}

// ANCHOR: io
/// The waits of a quorum peer, each a timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// One of the election's.
    Election(ElectionTimer),
    /// Leader: discovery or sync has run out of `initLimit`.
    InitLimit,
    /// Leader: every half tick, ping and check the quorum.
    LeaderTick,
    /// Learner: nothing from the leader for the read timeout.
    LeaderSilent,
    /// Learner: try connecting to the leader again.
    ConnectRetry,
}

/// What drives a quorum peer.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// The process starts.
    Start,
    /// An election notification from `from`.
    Election { from: Sid, n: Notification },
    /// A Zab packet on connection `link` from `from`.
    Zab { from: Sid, link: Link, msg: Message },
    /// Connection `link` broke (closed, reset, or a packet lost on it).
    Disconnected { link: Link },
    /// Connection `link` was refused: nobody accepts learners on that quorum port (the
    /// server does not lead, or not yet).
    Refused { link: Link },
    /// A timer went off.
    Timeout(Timer),
    /// The disk has the txn at this zxid (after an [`Output::Append`]).
    Logged(Zxid),
    /// The disk cut the log as asked ([`Output::Truncate`]) and rebuilt the database.
    Reloaded(Box<Recovered>),
    /// The disk could not cut the log back to this zxid: a snapshot is newer. Nothing on it
    /// changed.
    CannotTruncate(Zxid),
    /// A client's connection, frame or disconnection, or the session clock.
    Client(pipeline::Input),
}

/// What a quorum peer asks its driver to do, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// Send an election notification.
    Election { to: Sid, n: Notification },
    /// Send a Zab packet on `link` to `to`.
    Zab { to: Sid, link: Link, msg: Message },
    /// Close connection `link` (the other side sees it end).
    Disconnect { link: Link },
    /// Refuse connection `link`: we do not lead, nobody listens on our quorum port (the
    /// other side sees [`Input::Refused`]).
    Refuse { link: Link },
    /// Arm (or re-arm) a timer.
    SetTimer { timer: Timer, after_ms: u64 },
    /// Disarm a timer.
    CancelTimer(Timer),
    /// Append the txn (and its digest, if it has one) to the log; answer [`Input::Logged`]
    /// once it is on disk (fsynced). Every append is answered, even after the role that
    /// asked for it has ended: a server leaving its role votes only once its appends are.
    Append(Arc<TxnEntry>),
    /// Cut the log after `zxid`, rebuild the database, answer [`Input::Reloaded`] (or
    /// [`Input::CannotTruncate`]).
    Truncate(Zxid),
    /// Write a snapshot of this database, fsynced: the learner's after a SNAP, whose txns
    /// no local log holds (`Learner.syncWithLeader`: `takeSnapshot(syncSnap)`).
    Snapshot(Box<Database>),
    /// Start a fuzzy snapshot of the database as it is when the driver carries this out,
    /// walked a slice at a time while txns go on being applied (chapter 7's
    /// `FuzzySnapshot`); skipped if one is still being written. No copy of the database:
    /// the driver walks the live one.
    BeginSnapshot,
    /// The database was replaced (SNAP or TRUNC): a fuzzy snapshot still being walked was
    /// of the old one, so drop it unwritten.
    AbandonSnapshot,
    /// Write the epoch files (before anything after this output is done).
    SaveEpochs(Epochs),
    /// A frame or a close for a client, or a txn applied.
    Client(pipeline::Output),
    /// A line for the trace.
    Note(Note),
}
// ANCHOR_END: io

/// What the peer is doing.
#[derive(Clone, Debug, Hash)]
enum Role {
    Looking,
    Leading(Box<Leader>),
    Following(Box<Learner>),
    /// Zab has ended, but txns it appended are not on disk yet: the election waits.
    Leaving(Box<Leaving>),
}

// ANCHOR: leaving
/// A server between its last role and its next election, waiting for its disk. Its vote
/// will name the last txn it logged, and a vote is a promise: were the txn still unsynced, a
/// crash after the vote (after it took a new epoch, say) would bring the server back with
/// the new epoch and without the txn — and a vote with a newer epoch wins, so it could lead
/// and cut that txn from the others, committed or not. So what was appended is made durable
/// first, as upstream's `SyncRequestProcessor.shutdown` flushes its queue when the server
/// stops leading or following (ZOOKEEPER-4712: 3.8's follower never called it). A crash
/// while it waits is safe: the server has not voted, and comes back with what its disk has.
#[derive(Clone, Debug, Hash)]
struct Leaving {
    /// Appended, not yet reported on disk.
    tail: BTreeSet<Zxid>,
    /// The role, for what it adds to the database once the tail is on disk, and for the
    /// state the server still reports (upstream's state changes only once its shutdown is done).
    left: Left,
}

/// The role a server is leaving.
#[derive(Clone, Debug, Hash)]
enum Left {
    Leader(Box<Leader>),
    Learner(Box<Learner>),
}
// ANCHOR_END: leaving

/// Everything a leader or learner may touch while it handles one input.
pub struct Ctx<'a> {
    /// The driver's clock.
    pub now_ms: u64,
    /// This server.
    pub me: Sid,
    /// The ensemble.
    pub cfg: &'a Config,
    /// Clients, database, sessions.
    pub pipeline: &'a mut Pipeline,
    /// The DIFF window.
    pub history: &'a mut History,
    /// The epoch files.
    pub epochs: &'a mut Epochs,
    /// What to do.
    pub out: &'a mut Vec<Output>,
    /// Pipeline outputs the peer still has to route.
    pipeline_out: &'a mut Vec<pipeline::Output>,
    /// When to snapshot.
    snaps: &'a mut SnapSchedule,
    /// Our disk could not carry out a TRUNC: the next leader is asked for a SNAP.
    snap_wanted: &'a mut bool,
}

impl Ctx<'_> {
    /// Arm `timer`.
    pub fn arm(&mut self, timer: Timer, after_ms: u64) {
        self.out.push(Output::SetTimer { timer, after_ms });
    }

    /// Disarm `timer`.
    pub fn cancel(&mut self, timer: Timer) {
        self.out.push(Output::CancelTimer(timer));
    }

    /// A line for the trace.
    pub fn note(&mut self, note: ZabNote) {
        self.out.push(Output::Note(Note::Zab(note)));
    }

    /// Write the epoch files as they are now.
    pub fn save_epochs(&mut self) {
        self.out.push(Output::SaveEpochs(*self.epochs));
    }

    /// Apply a committed txn (it answers our client, if it was theirs); it joins the DIFF
    /// window with its digest.
    pub fn apply(&mut self, entry: TxnEntry) {
        let out = self
            .pipeline
            .step(self.now_ms, pipeline::Input::Commit(entry.txn.clone()));
        self.history.push(entry);
        self.pipeline_out.extend(out);
    }

    /// Our disk could not carry out a TRUNC: ask the next leader we join for a SNAP, until
    /// one has been written down.
    pub fn want_snap(&mut self) {
        *self.snap_wanted = true;
    }

    /// Whether we ask the leader for a SNAP.
    pub fn snap_wanted(&self) -> bool {
        *self.snap_wanted
    }

    /// A sync's snapshot is being written: what the disk could not cut goes with it.
    pub fn snap_written(&mut self) {
        *self.snap_wanted = false;
    }

    /// Replace the database (a snapshot from the leader, or the log cut back).
    pub fn replace_database(&mut self, db: Database) {
        self.pipeline.replace_database(db);
        self.history.clear();
        self.abandon_snapshot();
    }

    /// Drop the fuzzy snapshot being walked, if any: the database it walks is about to
    /// become one its file must not hold (replaced, or given txns no quorum may have
    /// committed). The next one falls due as usual.
    pub fn abandon_snapshot(&mut self) {
        self.out.push(Output::AbandonSnapshot);
    }

    // ANCHOR: logged_one
    /// One more txn is on disk. Once enough are (`snapCount` with upstream's randomisation),
    /// start a fuzzy snapshot of the database as applied so far, which also rolls the log
    /// (`SyncRequestProcessor.run`: `shouldSnapshot`, `rollLog`, `takeSnapshot` on its own
    /// thread). Like upstream's, the snapshot may lag the log: recovery replays the txns
    /// after it.
    pub fn logged_one(&mut self) {
        if self.snaps.logged(1) {
            self.out.push(Output::BeginSnapshot);
        }
    }
    // ANCHOR_END: logged_one

    /// Outputs of a pipeline step, for the peer to route.
    pub fn pipeline_outputs(&mut self, out: Vec<pipeline::Output>) {
        self.pipeline_out.extend(out);
    }
}

// ANCHOR: peer
/// One server of an ensemble.
#[derive(Clone, Debug, Hash)]
pub struct QuorumPeer {
    election: Election,
    role: Role,
    /// Learners that connected while we were still electing, one (the newest) per learner:
    /// they wait for our decision instead of being refused.
    held: Vec<(Link, Message)>,
    /// The number of the last connection to a leader this server opened (counted from its
    /// start time, so a restarted server never reuses one).
    links_opened: u32,
    replica: Replica,
}

/// What a server is whatever its role: its place in the ensemble, its epoch files, its
/// clients and database, and its recent history.
#[derive(Clone, Debug, Hash)]
struct Replica {
    sid: Sid,
    cfg: Config,
    epochs: Epochs,
    pipeline: Pipeline,
    history: History,
    snaps: SnapSchedule,
    snap_wanted: bool,
}
// ANCHOR_END: peer

impl Replica {
    /// Everything a leader or learner may touch while it handles one input at `now_ms`.
    fn ctx<'a>(
        &'a mut self,
        now_ms: u64,
        out: &'a mut Vec<Output>,
        routed: &'a mut Vec<pipeline::Output>,
    ) -> Ctx<'a> {
        Ctx {
            now_ms,
            me: self.sid,
            cfg: &self.cfg,
            pipeline: &mut self.pipeline,
            history: &mut self.history,
            epochs: &mut self.epochs,
            out,
            pipeline_out: routed,
            snaps: &mut self.snaps,
            snap_wanted: &mut self.snap_wanted,
        }
    }
}

impl QuorumPeer {
    /// Server `sid` of the ensemble in `cfg`, starting from what its disk holds, at `now_ms`
    /// (which seeds its session ids).
    pub fn new(sid: Sid, cfg: Config, disk: Recovered, now_ms: u64) -> QuorumPeer {
        let durable = Durable {
            current_epoch: disk.epochs.current,
            last_logged_zxid: disk.db.last_processed_zxid(),
        };
        let mut pipeline = Pipeline::for_quorum(cfg.tick_ms as u32, cfg.limits, sid, now_ms);
        pipeline.replace_database(disk.db);
        let mut history = History::new(cfg.commit_log_count);
        let snaps = SnapSchedule::new(cfg.snap_count, cfg.snap_seed);
        for txn in disk.recent {
            history.push(txn);
        }
        QuorumPeer {
            election: Election::new(sid, cfg.election.clone(), durable),
            role: Role::Looking,
            held: Vec::new(),
            links_opened: 0,
            replica: Replica {
                sid,
                cfg,
                epochs: disk.epochs,
                pipeline,
                history,
                snaps,
                snap_wanted: false,
            },
        }
    }

    /// This server's id.
    pub fn sid(&self) -> Sid {
        self.replica.sid
    }

    /// The ensemble's configuration.
    pub fn config(&self) -> &Config {
        &self.replica.cfg
    }

    /// LOOKING, LEADING, FOLLOWING or OBSERVING.
    pub fn state(&self) -> ServerState {
        match &self.role {
            Role::Looking => ServerState::Looking,
            Role::Leaving(l) => match &l.left {
                Left::Leader(_) => ServerState::Leading,
                Left::Learner(l) if l.is_observer() => ServerState::Observing,
                Left::Learner(_) => ServerState::Following,
            },
            Role::Leading(_) => ServerState::Leading,
            Role::Following(l) if l.is_observer() => ServerState::Observing,
            Role::Following(_) => ServerState::Following,
        }
    }

    /// Whether it serves clients now.
    pub fn is_serving(&self) -> bool {
        match &self.role {
            Role::Looking | Role::Leaving(_) => false,
            Role::Leading(l) => l.is_serving(),
            Role::Following(l) => l.is_serving(),
        }
    }

    /// The leader it follows or is, once known.
    pub fn leader(&self) -> Option<Sid> {
        match &self.role {
            Role::Looking | Role::Leaving(_) => None,
            Role::Leading(_) => Some(self.replica.sid),
            Role::Following(l) => Some(l.leader()),
        }
    }

    /// The connection it follows (or observes) its leader on, once it has one.
    pub fn leader_link(&self) -> Option<Link> {
        match &self.role {
            Role::Following(l) => Some(l.link()),
            _ => None,
        }
    }

    /// Whether it leads with `link` open: a learner on it is answered.
    pub fn leads_on(&self, link: Link) -> bool {
        match &self.role {
            Role::Leading(l) => l.holds(link),
            _ => false,
        }
    }

    /// The election round (`logicalclock`): how many times this server has looked.
    pub fn logical_clock(&self) -> i64 {
        self.election.logical_clock().0
    }

    /// The epoch files.
    pub fn epochs(&self) -> Epochs {
        self.replica.epochs
    }

    /// Clients, database and sessions.
    pub fn pipeline(&self) -> &Pipeline {
        &self.replica.pipeline
    }

    /// The replicated state.
    pub fn database(&self) -> &Database {
        self.replica.pipeline.database()
    }

    /// The learners synced with this leader (empty unless leading).
    pub fn synced_learners(&self) -> Vec<Sid> {
        match &self.role {
            Role::Leading(l) => l.synced_learners(),
            _ => Vec::new(),
        }
    }

    /// The leader's view of its learners, for `mntr` (`None` unless leading).
    pub fn leader_report(&self) -> Option<LeaderReport> {
        match &self.role {
            Role::Leading(l) => Some(l.report()),
            _ => None,
        }
    }

    /// `zk_peer_state`: the role and where Zab is (upstream `getDetailedPeerState`).
    pub fn peer_state(&self) -> String {
        let phase = match (&self.role, self.is_serving()) {
            (Role::Looking, _) => "election",
            (_, true) => "broadcast",
            (_, false) => "synchronization",
        };
        format!("{} - {phase}", format!("{:?}", self.state()).to_lowercase())
    }

    // ANCHOR: step
    /// Feeds one input at `now_ms`; returns what to do, in order.
    pub fn step(&mut self, now_ms: u64, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        self.step_into(now_ms, input, &mut out);
        out
    }

    /// [`QuorumPeer::step`] into `out`, which must be empty: a driver that steps thousands of
    /// times a second keeps one list for every step instead of growing a new one each time
    /// (an `Output` is a few hundred bytes, and each regrowth copies all of them).
    pub fn step_into(&mut self, now_ms: u64, input: Input, out: &mut Vec<Output>) {
        assert!(out.is_empty(), "a step's outputs start from an empty list");
        let mut routed = Vec::new();
        let mut role = std::mem::replace(&mut self.role, Role::Looking);
        let mut ctx = self.replica.ctx(now_ms, out, &mut routed);
        let mut election = Vec::new();
        let ended = match (&mut role, input) {
            (_, Input::Start) => {
                // Session ids carry the start time, so a restarted server hands out new ones.
                ctx.pipeline.seed_session_ids(ctx.me, now_ms);
                // So do connection numbers: the leader may still hold a connection that our
                // previous life opened, and a new one must not pass for it.
                self.links_opened = now_ms as u32;
                election = self.election.step(ElectionInput::Start);
                Ok(())
            }
            (role, Input::Election { from, n }) => {
                // A learner still connecting is after the leader of the round it decided in.
                // That server looking again, in a later round, is not that leader any more:
                // elect again rather than follow whatever it leads next with a vote of an
                // older round, which servers still looking would never find a quorum for.
                let decided = self.election.decided().map(|(_, round)| round);
                let stale = match role {
                    Role::Following(l) => {
                        l.is_connecting()
                            && from == l.leader()
                            && n.state == ServerState::Looking
                            && decided.is_some_and(|round| n.election_epoch > round)
                    }
                    _ => false,
                };
                election = self.election.step(ElectionInput::Receive { from, n });
                match stale {
                    true => Err(("following", "the leader is electing again".into())),
                    false => Ok(()),
                }
            }
            (_, Input::Timeout(Timer::Election(t))) => {
                election = self.election.step(ElectionInput::Timeout(t));
                Ok(())
            }
            // A learner connects before we have decided (it decided first): its FOLLOWERINFO
            // waits for our decision, rather than a refusal and the learner's retry 100 ms
            // later (`Learner.connectToLeader`), which would add those 100 ms to every
            // failover. An older connection of the same learner is dead to it: refused.
            (
                Role::Looking,
                Input::Zab {
                    link,
                    msg: msg @ Message::LearnerInfo { .. },
                    ..
                },
            ) => {
                if let Some(at) = self
                    .held
                    .iter()
                    .position(|(l, _)| l.learner == link.learner)
                {
                    let (old, _) = self.held.remove(at);
                    ctx.out.push(Output::Refuse { link: old });
                }
                self.held.push((link, msg));
                Ok(())
            }
            (Role::Looking, Input::Disconnected { link }) => {
                self.held.retain(|(l, _)| *l != link);
                Ok(())
            }
            (role, Input::Client(input)) => {
                let out = ctx.pipeline.step(now_ms, input);
                ctx.pipeline_outputs(out);
                Self::route(role, &mut ctx);
                Ok(())
            }
            (role, input) => Self::zab(role, &mut ctx, &mut self.links_opened, input),
        };
        Self::route(&mut role, &mut ctx);
        self.role = role;
        if let Some(epoch) = established_epoch(out) {
            self.election.update_election_vote(epoch);
        }
        if let Err((what, why)) = ended {
            self.quit(now_ms, what, why, out);
        }
        if matches!(&self.role, Role::Leaving(l) if l.tail.is_empty()) {
            self.look_again(now_ms, out);
        }
        for o in election {
            self.election_output(now_ms, o, out);
        }
    }
    // ANCHOR_END: step

    // ANCHOR: zab
    /// A Zab input, dispatched on the role: one arm per rule.
    fn zab(
        role: &mut Role,
        ctx: &mut Ctx,
        links_opened: &mut u32,
        input: Input,
    ) -> Result<(), (&'static str, String)> {
        let lead = |r: Result<(), String>| r.map_err(|why| ("leading", why));
        let follow = |r: Result<(), String>| r.map_err(|why| ("following", why));
        match (role, input) {
            (Role::Leading(l), Input::Zab { link, msg, .. }) => lead(l.receive(ctx, link, msg)),
            (Role::Following(l), Input::Zab { link, msg, .. }) if link == l.link() => {
                follow(l.receive(ctx, msg))
            }
            // Nobody listens on our quorum port unless we lead: the connection is refused.
            (_, Input::Zab { link, msg, .. }) => {
                if let Message::LearnerInfo { .. } = msg {
                    ctx.out.push(Output::Refuse { link });
                }
                Ok(())
            }
            (Role::Leading(l), Input::Disconnected { link }) => {
                l.disconnected(link);
                Ok(())
            }
            (Role::Following(l), Input::Refused { link }) if link == l.link() => {
                follow(l.refused(ctx))
            }
            // Once a leader has taken the connection, its end is the end of following
            // (`Follower.followLeader` goes back to LOOKING on any exception).
            (Role::Following(l), Input::Disconnected { link }) if link == l.link() => {
                follow(Err("the leader closed the connection".into()))
            }
            (Role::Leading(l), Input::Timeout(Timer::InitLimit)) => lead(l.init_limit()),
            (Role::Leading(l), Input::Timeout(Timer::LeaderTick)) => lead(l.tick(ctx)),
            (Role::Following(_), Input::Timeout(Timer::LeaderSilent)) => {
                follow(Err("the leader went silent".into()))
            }
            (Role::Following(l), Input::Timeout(Timer::ConnectRetry)) => {
                *links_opened = links_opened.wrapping_add(1);
                let link = Link {
                    learner: ctx.me,
                    n: *links_opened,
                };
                l.retry(ctx, link);
                Ok(())
            }
            (Role::Leading(l), Input::Logged(zxid)) => {
                l.logged(ctx, zxid);
                ctx.logged_one();
                Ok(())
            }
            (Role::Following(l), Input::Logged(zxid)) => {
                let acked = l.logged(ctx, zxid);
                ctx.logged_one();
                follow(acked)
            }
            // Leaving: one more txn of the tail is on disk.
            (Role::Leaving(l), Input::Logged(zxid)) => {
                l.tail.remove(&zxid);
                ctx.logged_one();
                Ok(())
            }
            (Role::Following(l), Input::CannotTruncate(zxid)) => {
                let r = l.cannot_truncate(ctx, zxid);
                follow(r)
            }
            (Role::Following(l), Input::Reloaded(disk)) => {
                let Recovered { db, recent, .. } = *disk;
                let r = l.reloaded(ctx, db);
                for txn in recent {
                    ctx.history.push(txn);
                }
                follow(r)
            }
            // A timer or a disk report from a role we have left.
            _ => Ok(()),
        }
    }
    // ANCHOR_END: zab

    /// Routes what the pipeline said: a proposal to the leader's Zab, a forwarded request
    /// or a reconnect to revalidate to the learner's, everything else to the clients.
    fn route(role: &mut Role, ctx: &mut Ctx) {
        while !ctx.pipeline_out.is_empty() {
            let batch = std::mem::take(ctx.pipeline_out);
            for o in batch {
                match (&mut *role, o) {
                    (Role::Leading(l), pipeline::Output::Propose(txn)) => {
                        let digest = ctx.pipeline.txn_digest(txn.zxid);
                        l.propose(ctx, txn, digest)
                    }
                    (Role::Following(l), pipeline::Output::Forward(f)) => l.forward(ctx, f),
                    (
                        Role::Following(l),
                        pipeline::Output::Revalidate {
                            session,
                            timeout_ms,
                        },
                    ) => l.revalidate(ctx, session, timeout_ms),
                    (_, pipeline::Output::Propose(_) | pipeline::Output::Forward(_)) => ctx.note(
                        ZabNote::Unexpected("a write with no leader to take it".into()),
                    ),
                    (_, pipeline::Output::Revalidate { .. }) => ctx.note(ZabNote::Unexpected(
                        "a reconnect with no leader to ask".into(),
                    )),
                    (_, other) => ctx.out.push(Output::Client(other)),
                }
            }
        }
    }

    // ANCHOR: election_output
    /// The election's outputs, in the peer's terms. Its decision starts Zab.
    fn election_output(&mut self, now_ms: u64, o: ElectionOutput, out: &mut Vec<Output>) {
        match o {
            ElectionOutput::Send { to, n } => out.push(Output::Election { to, n }),
            ElectionOutput::SetTimer { timer, after_ms } => out.push(Output::SetTimer {
                timer: Timer::Election(timer),
                after_ms,
            }),
            ElectionOutput::CancelTimer(timer) => {
                out.push(Output::CancelTimer(Timer::Election(timer)))
            }
            ElectionOutput::Note(note) => {
                let decided = match &note {
                    ElectionNote::Decided { state, leader, .. } => Some((*state, *leader)),
                    _ => None,
                };
                out.push(Output::Note(Note::Election(note)));
                if let Some((state, leader)) = decided {
                    self.start_zab(now_ms, state, leader, out);
                }
            }
        }
    }
    // ANCHOR_END: election_output

    /// The election is over: lead, or connect to the leader. Learners that connected while
    /// we were electing are taken if we lead, refused if we do not.
    fn start_zab(&mut self, now_ms: u64, state: ServerState, leader: Sid, out: &mut Vec<Output>) {
        // The election looks again only once the tail is on disk (`look_again`).
        assert!(
            !matches!(self.role, Role::Leaving(_)),
            "an election decides only after the server has left its last role"
        );
        let mut routed = Vec::new();
        let mut ctx = self.replica.ctx(now_ms, out, &mut routed);
        let held = std::mem::take(&mut self.held);
        if state != ServerState::Leading {
            for (link, _) in &held {
                ctx.out.push(Output::Refuse { link: *link });
            }
        }
        self.role = match state {
            ServerState::Leading => {
                let mut leader = Box::new(Leader::elected(&mut ctx));
                for (link, msg) in held {
                    leader
                        .receive(&mut ctx, link, msg)
                        .expect("a learner's introduction never ends leading");
                }
                Role::Leading(leader)
            }
            ServerState::Following | ServerState::Observing => {
                self.links_opened = self.links_opened.wrapping_add(1);
                let link = Link {
                    learner: ctx.me,
                    n: self.links_opened,
                };
                let observer = state == ServerState::Observing;
                Role::Following(Box::new(Learner::connect(&mut ctx, leader, link, observer)))
            }
            ServerState::Looking => Role::Looking,
        };
    }

    // ANCHOR: quit
    /// Zab ended: clients and connections are closed, and the server leaves its role; once
    /// what it appended is on disk, it looks again ([`Leaving`]).
    fn quit(&mut self, now_ms: u64, role_name: &'static str, why: String, out: &mut Vec<Output>) {
        out.push(Output::Note(Note::Zab(ZabNote::Quit {
            role: role_name,
            why,
        })));
        for timer in [
            Timer::InitLimit,
            Timer::LeaderTick,
            Timer::LeaderSilent,
            Timer::ConnectRetry,
        ] {
            out.push(Output::CancelTimer(timer));
        }
        out.extend(self.replica.pipeline.stop().into_iter().map(Output::Client));
        let role = std::mem::replace(&mut self.role, Role::Looking);
        let (tail, left): (BTreeSet<Zxid>, Left) = match role {
            Role::Leading(l) => {
                let mut routed = Vec::new();
                l.step_down(&mut self.replica.ctx(now_ms, out, &mut routed));
                (l.unlogged().collect(), Left::Leader(l))
            }
            Role::Following(l) => {
                out.push(Output::Disconnect { link: l.link() });
                (l.unlogged().collect(), Left::Learner(l))
            }
            other => {
                self.role = other;
                return;
            }
        };
        if !tail.is_empty() {
            let zxids = tail.iter().copied().collect();
            out.push(Output::Note(Note::Zab(ZabNote::SyncsTail { zxids })));
        }
        self.role = Role::Leaving(Box::new(Leaving { tail, left }));
    }
    // ANCHOR_END: quit

    // ANCHOR: look_again
    /// The tail is on disk: what was logged becomes the database, and the election starts
    /// again with a vote for what this server now has.
    fn look_again(&mut self, now_ms: u64, out: &mut Vec<Output>) {
        let Role::Leaving(leaving) = std::mem::replace(&mut self.role, Role::Looking) else {
            return;
        };
        let mut routed = Vec::new();
        let mut ctx = self.replica.ctx(now_ms, out, &mut routed);
        match leaving.left {
            Left::Leader(l) => l.fast_forward(&mut ctx),
            Left::Learner(l) => l.fast_forward(&mut ctx),
        }
        // Nobody is left to answer: what applying produced goes nowhere but the trace.
        for o in routed {
            if let pipeline::Output::Applied(txn) = o {
                out.push(Output::Client(pipeline::Output::Applied(txn)));
            }
        }
        let durable = Durable {
            current_epoch: self.replica.epochs.current,
            last_logged_zxid: self.replica.pipeline.database().last_processed_zxid(),
        };
        for o in self.election.look_again(durable) {
            self.election_output(now_ms, o, out);
        }
    }
    // ANCHOR_END: look_again
}

/// The epoch this step established, if it did: the leader's NEWLEADER quorum, or the
/// learner's UPTODATE. From then on the election answers latecomers with a vote carrying it,
/// as every ZooKeeper member of the ensemble does (`Leader.lead` and `Learner.syncWithLeader`
/// call `QuorumPeer.updateElectionVote`, ZOOKEEPER-1732); a latecomer counts votes of one
/// leader with different epochs as different votes, and would find no quorum to join.
fn established_epoch(out: &[Output]) -> Option<Epoch> {
    out.iter().find_map(|o| match o {
        Output::Note(Note::Zab(
            ZabNote::Established { epoch, .. } | ZabNote::UpToDate { epoch },
        )) => Some(*epoch),
        _ => None,
    })
}
