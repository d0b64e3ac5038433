//! A learner: a follower (or an observer) connecting to its leader, syncing, then following.
//!
//! The idea to take away: a learner trusts nothing it has not been told on **this**
//! connection. It introduces itself (FOLLOWERINFO), accepts the leader's new epoch only if it
//! is newer than any it has promised (LEADERINFO → ACKEPOCH), lets the leader make its history
//! equal to the leader's (DIFF, TRUNC or SNAP, a run of PROPOSAL/COMMIT pairs, NEWLEADER), and
//! only then serves clients (UPTODATE). From then on it logs every PROPOSAL, ACKs it once it is
//! on disk, and applies it when the COMMIT naming it arrives: always the oldest it holds,
//! since commits come in zxid order. Anything else ends the connection and the learner goes
//! back to electing.
//!
//! Upstream: `Learner.connectToLeader`, `registerWithLeader`, `syncWithLeader`;
//! `Follower.followLeader`/`processPacket`; `Observer.processPacket`;
//! `FollowerZooKeeperServer.logRequest`/`commit`.

use std::collections::VecDeque;
use std::sync::Arc;

use ch01_znode::{Epoch, SessionId, Sid, Zxid};
use ch03_sessions::pipeline::{Database, Forward, Forwarded, Input as PipelineInput};
use ch03_sessions::proto;

use crate::message::{Link, Message};
use crate::peer::{Ctx, Flaw, Output, Timer};
use crate::trace::ZabNote;
use crate::txn_codec::TxnEntry;

/// How many times a learner tries to reach its leader, 100 ms apart
/// (`Learner.connectToLeader`: 5 tries, `leaderConnectDelayDuringRetryMs`).
pub const CONNECT_TRIES: u32 = 5;
/// The pause between two tries.
pub const CONNECT_RETRY_MS: u64 = 100;

/// How the leader chose to bring this learner up to date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum SyncMode {
    /// Our log is a prefix of the leader's: buffer the missing txns, log them at NEWLEADER.
    Diff,
    /// We got a snapshot or cut our log: apply each txn in memory as its COMMIT arrives.
    Snapshot,
}

/// Where the learner is in its conversation with the leader.
#[derive(Clone, Debug, PartialEq, Hash)]
enum Phase {
    /// FOLLOWERINFO sent; waiting for LEADERINFO (the leader may not be listening yet).
    Connecting { tries: u32 },
    /// ACKEPOCH sent; waiting for DIFF, TRUNC or SNAP.
    EpochAcked { epoch: Epoch },
    /// TRUNC asked the disk to cut the log; packets wait until the database is reloaded.
    Truncating {
        epoch: Epoch,
        deferred: VecDeque<Message>,
    },
    /// Receiving the txns we lack, until NEWLEADER.
    Syncing { epoch: Epoch, mode: SyncMode },
    /// NEWLEADER came: the sync's txns are being fsynced; `currentEpoch` and the ACK of
    /// NEWLEADER wait for them, and so do the packets that come meanwhile.
    Logging {
        epoch: Epoch,
        deferred: VecDeque<Message>,
    },
    /// NEWLEADER acknowledged; waiting for UPTODATE.
    NewLeader { epoch: Epoch },
    /// Serving clients and following.
    Broadcast,
}

/// Why a learner stops following.
pub type Quit = String;

// ANCHOR: learner
/// One learner's state while it has a leader.
#[derive(Clone, Debug, Hash)]
pub struct Learner {
    leader: Sid,
    link: Link,
    observer: bool,
    phase: Phase,
    /// PROPOSALs of the sync not applied or logged yet (`packetsNotCommitted`).
    not_committed: VecDeque<Arc<TxnEntry>>,
    /// COMMITs of a DIFF sync, applied after UPTODATE (`packetsCommitted`).
    committed: VecDeque<Zxid>,
    /// Logged (or being logged) and waiting for their COMMIT (`pendingTxns`).
    pending: VecDeque<Arc<TxnEntry>>,
    /// Appended and not yet reported on disk: their ACKs are due when they are, and a vote
    /// after this connection waits for them.
    unlogged: VecDeque<Zxid>,
    /// Our clients' `sync`s, forwarded and not answered yet, oldest first.
    pending_syncs: VecDeque<(SessionId, i32)>,
    /// While a SNAP or TRUNC sync has not reached NEWLEADER, the database in memory is not on
    /// disk: this is the one the disk holds, to go back to if the sync breaks.
    saved: Option<Database>,
}
// ANCHOR_END: learner

impl Learner {
    /// Starts following `leader` on a fresh connection: FOLLOWERINFO (or OBSERVERINFO).
    pub fn connect(ctx: &mut Ctx, leader: Sid, link: Link, observer: bool) -> Learner {
        let learner = Learner {
            leader,
            link,
            observer,
            phase: Phase::Connecting { tries: 1 },
            not_committed: VecDeque::new(),
            committed: VecDeque::new(),
            pending: VecDeque::new(),
            unlogged: VecDeque::new(),
            pending_syncs: VecDeque::new(),
            saved: None,
        };
        learner.say_hello(ctx);
        learner
    }

    /// The leader followed.
    pub fn leader(&self) -> Sid {
        self.leader
    }

    /// The connection in use.
    pub fn link(&self) -> Link {
        self.link
    }

    /// Whether it observes (never votes, never ACKs).
    pub fn is_observer(&self) -> bool {
        self.observer
    }

    /// Whether it is still trying to reach its leader (nothing heard on the connection yet).
    pub fn is_connecting(&self) -> bool {
        matches!(self.phase, Phase::Connecting { .. })
    }

    /// Whether it serves clients yet.
    pub fn is_serving(&self) -> bool {
        self.phase == Phase::Broadcast
    }

    fn say_hello(&self, ctx: &mut Ctx) {
        let hello = Message::LearnerInfo {
            observer: self.observer,
            accepted_epoch: ctx.epochs.accepted,
        };
        self.send(ctx, hello);
        // During the sync, the socket's read timeout is initLimit ticks.
        ctx.arm(Timer::LeaderSilent, ctx.cfg.init_limit_ms());
    }

    fn send(&self, ctx: &mut Ctx, msg: Message) {
        ctx.out.push(Output::Zab {
            to: self.leader,
            link: self.link,
            msg,
        });
    }

    /// A packet from the leader on our connection. `Err` ends the connection.
    pub fn receive(&mut self, ctx: &mut Ctx, msg: Message) -> Result<(), Quit> {
        // Any packet from the leader proves it alive: push the read timeout back.
        let silence_ms = match self.phase {
            Phase::NewLeader { .. } | Phase::Broadcast => ctx.cfg.sync_limit_ms(),
            _ => ctx.cfg.init_limit_ms(),
        };
        ctx.arm(Timer::LeaderSilent, silence_ms);
        let phase = std::mem::replace(&mut self.phase, Phase::Broadcast);
        match (phase, msg) {
            // LEADERINFO: accept the new epoch if it is newer than any we accepted.
            (Phase::Connecting { .. }, Message::LeaderInfo { epoch }) => {
                self.accept_epoch(ctx, epoch)
            }
            (Phase::EpochAcked { epoch }, Message::Diff { zxid }) => {
                ctx.note(ZabNote::SyncBy { mode: "DIFF", zxid });
                self.phase = Phase::Syncing {
                    epoch,
                    mode: SyncMode::Diff,
                };
                Ok(())
            }
            // TRUNC: our log has txns the leader never committed; the disk cuts them and
            // gives back the database as it was at `zxid`.
            (Phase::EpochAcked { epoch }, Message::Trunc { zxid }) => {
                ctx.note(ZabNote::SyncBy {
                    mode: "TRUNC",
                    zxid,
                });
                ctx.out.push(Output::Truncate(zxid));
                self.phase = Phase::Truncating {
                    epoch,
                    deferred: VecDeque::new(),
                };
                Ok(())
            }
            (Phase::EpochAcked { epoch }, Message::Snap { zxid, db }) => {
                ctx.note(ZabNote::SyncBy { mode: "SNAP", zxid });
                self.saved = Some(ctx.pipeline.database().clone());
                ctx.replace_database(*db);
                self.phase = Phase::Syncing {
                    epoch,
                    mode: SyncMode::Snapshot,
                };
                Ok(())
            }
            (
                Phase::Truncating {
                    epoch,
                    mut deferred,
                },
                msg,
            ) => {
                deferred.push_back(msg);
                self.phase = Phase::Truncating { epoch, deferred };
                Ok(())
            }
            (
                Phase::Logging {
                    epoch,
                    mut deferred,
                },
                msg,
            ) => {
                deferred.push_back(msg);
                self.phase = Phase::Logging { epoch, deferred };
                Ok(())
            }
            (Phase::Syncing { epoch, mode }, msg) => self.syncing(ctx, epoch, mode, msg),
            (Phase::NewLeader { epoch }, msg) => self.after_new_leader(ctx, epoch, msg),
            (Phase::Broadcast, msg) => self.broadcast(ctx, msg),
            (phase, msg) => Err(format!("unexpected {} while {phase:?}", msg.name())),
        }
    }

    // ANCHOR: accept_epoch
    /// `registerWithLeader`: a newer epoch is promised (and written down) before it is
    /// acknowledged; the epoch already promised is acknowledged with -1; an older one means
    /// this leader is stale.
    fn accept_epoch(&mut self, ctx: &mut Ctx, epoch: Epoch) -> Result<(), Quit> {
        let accepted = ctx.epochs.accepted;
        let current_epoch = match epoch.cmp(&accepted) {
            std::cmp::Ordering::Greater => {
                ctx.epochs.accepted = epoch;
                ctx.save_epochs();
                Some(ctx.epochs.current)
            }
            std::cmp::Ordering::Equal => None,
            std::cmp::Ordering::Less => {
                return Err(format!(
                    "leader's epoch {epoch} is less than our accepted epoch {accepted}"
                ))
            }
        };
        // After a TRUNC our disk could not carry out, the leader is told we have nothing, and
        // so sends a SNAP (upstream's `syncFollower` too: -1 is below any history). Our
        // `currentEpoch` is told as it is, and a leader does not count a -1 whose epoch is
        // not older than its own towards its epoch's quorum: it cannot tell whether we hold
        // more than it does.
        let last_zxid = match ctx.snap_wanted() {
            true => {
                ctx.note(ZabNote::AsksForSnap);
                Zxid(-1)
            }
            false => ctx.pipeline.database().last_processed_zxid(),
        };
        self.send(
            ctx,
            Message::AckEpoch {
                current_epoch,
                last_zxid,
            },
        );
        self.phase = Phase::EpochAcked { epoch };
        Ok(())
    }
    // ANCHOR_END: accept_epoch

    /// The disk could not cut the log back to `zxid`: a snapshot is newer, and holds txns no
    /// log of ours can take away (a SNAP from a leader whose epoch never began brought them).
    /// Nothing on disk changed. Upstream reloads that snapshot and serves txns the leader
    /// does not have; here the learner leaves, and asks the next leader it joins for a SNAP.
    pub fn cannot_truncate(&mut self, ctx: &mut Ctx, zxid: Zxid) -> Result<(), Quit> {
        let Phase::Truncating { .. } = self.phase else {
            return Ok(());
        };
        ctx.note(ZabNote::CannotTruncate { zxid });
        ctx.want_snap();
        Err(format!("cannot cut the log back to {zxid}"))
    }

    /// The disk has cut the log back and rebuilt the database from what is left.
    pub fn reloaded(&mut self, ctx: &mut Ctx, db: Database) -> Result<(), Quit> {
        let Phase::Truncating { epoch, deferred } =
            std::mem::replace(&mut self.phase, Phase::Broadcast)
        else {
            return Ok(());
        };
        self.saved = Some(db.clone());
        ctx.replace_database(db);
        self.phase = Phase::Syncing {
            epoch,
            mode: SyncMode::Snapshot,
        };
        for msg in deferred {
            self.receive(ctx, msg)?;
        }
        Ok(())
    }

    // ANCHOR: syncing
    /// Between DIFF/TRUNC/SNAP and NEWLEADER: the txns we lack arrive as PROPOSAL/COMMIT
    /// pairs. After a snapshot or a cut they are applied at once (nothing of ours can go
    /// wrong with them); after a diff they wait, and are logged at NEWLEADER.
    fn syncing(
        &mut self,
        ctx: &mut Ctx,
        epoch: Epoch,
        mode: SyncMode,
        msg: Message,
    ) -> Result<(), Quit> {
        self.phase = Phase::Syncing { epoch, mode };
        match msg {
            Message::Proposal(entry) => self.not_committed.push_back(entry),
            Message::Commit(zxid) if mode == SyncMode::Snapshot => {
                match self.not_committed.front() {
                    Some(head) if head.txn.zxid == zxid => {
                        let entry = self.not_committed.pop_front().expect("just seen");
                        ctx.apply(Arc::unwrap_or_clone(entry));
                    }
                    head => ctx.note(ZabNote::Unexpected(format!(
                        "committing {zxid}, but the next proposal is {}",
                        head.map_or("none".to_string(), |t| t.txn.zxid.to_string())
                    ))),
                }
            }
            Message::Commit(zxid) => self.committed.push_back(zxid),
            // NEWLEADER: the leader's history is ours. Write it down; once it is on disk,
            // take the new epoch as current and say so (ZOOKEEPER-4643/4646: 3.8 wrote
            // `currentEpoch` and ACKed before the txns were fsynced).
            Message::NewLeader { epoch: new_epoch } if new_epoch == epoch => {
                // After a SNAP or a TRUNC (upstream's `snapshotNeeded`: every sync but a
                // DIFF) the txns applied since are in no log of ours: a snapshot holds them,
                // written before the ACK. Upstream fsyncs it only after a SNAP
                // (`takeSnapshot(syncSnapshot)`); here it is fsynced after a TRUNC too.
                if mode == SyncMode::Snapshot {
                    ctx.out
                        .push(Output::Snapshot(Box::new(ctx.pipeline.database().clone())));
                    ctx.snap_written();
                    self.saved = None;
                }
                let flawed = ctx.cfg.flaw == Some(Flaw::LogSyncAfterUpToDate);
                if !self.observer && !flawed {
                    for entry in std::mem::take(&mut self.not_committed) {
                        self.log(ctx, entry);
                    }
                }
                match self.unlogged.is_empty() || flawed {
                    true => self.ack_new_leader(ctx, epoch),
                    false => {
                        self.phase = Phase::Logging {
                            epoch,
                            deferred: VecDeque::new(),
                        }
                    }
                }
            }
            other => return Err(format!("unexpected {} during the sync", other.name())),
        }
        Ok(())
    }
    // ANCHOR_END: syncing

    /// The leader's history is on our disk: `currentEpoch`, then the ACK of NEWLEADER.
    fn ack_new_leader(&mut self, ctx: &mut Ctx, epoch: Epoch) {
        ctx.epochs.current = epoch;
        ctx.save_epochs();
        self.send(ctx, Message::Ack(epoch.first_zxid()));
        ctx.arm(Timer::LeaderSilent, ctx.cfg.sync_limit_ms());
        self.phase = Phase::NewLeader { epoch };
    }

    /// After NEWLEADER: more of the same until UPTODATE, then serve.
    fn after_new_leader(&mut self, ctx: &mut Ctx, epoch: Epoch, msg: Message) -> Result<(), Quit> {
        self.phase = Phase::NewLeader { epoch };
        match msg {
            Message::Proposal(entry) => self.not_committed.push_back(entry),
            Message::Commit(zxid) => self.committed.push_back(zxid),
            Message::Ping(_) => self.ping(ctx),
            Message::UpToDate => {
                self.phase = Phase::Broadcast;
                ctx.note(ZabNote::UpToDate { epoch });
                ctx.pipeline.learn(ctx.now_ms);
                self.send(ctx, Message::Ack(epoch.first_zxid()));
                // What came in between NEWLEADER and UPTODATE: log it, then commit what the
                // leader committed, in order.
                if self.observer {
                    self.inform_buffered(ctx);
                } else {
                    for entry in std::mem::take(&mut self.not_committed) {
                        self.log(ctx, entry);
                    }
                    for zxid in std::mem::take(&mut self.committed) {
                        self.commit(ctx, zxid)?;
                    }
                }
            }
            other => return Err(format!("unexpected {} before UPTODATE", other.name())),
        }
        Ok(())
    }

    /// An observer's buffered sync: each proposal whose commit came is logged and applied.
    fn inform_buffered(&mut self, ctx: &mut Ctx) {
        for entry in std::mem::take(&mut self.not_committed) {
            if self.committed.front() == Some(&entry.txn.zxid) {
                self.committed.pop_front();
                self.unlogged.push_back(entry.txn.zxid);
                ctx.out.push(Output::Append(entry.clone()));
                ctx.apply(Arc::unwrap_or_clone(entry));
            }
        }
        self.committed.clear();
    }

    // ANCHOR: broadcast
    /// Following: log and ACK proposals, apply commits in order, answer pings and syncs.
    fn broadcast(&mut self, ctx: &mut Ctx, msg: Message) -> Result<(), Quit> {
        match msg {
            Message::Proposal(entry) if !self.observer => self.log(ctx, entry),
            Message::Commit(zxid) if !self.observer => self.commit(ctx, zxid)?,
            // An observer is told committed txns only: log and apply at once.
            Message::Inform(entry) if self.observer => {
                self.unlogged.push_back(entry.txn.zxid);
                ctx.out.push(Output::Append(Arc::new(entry.clone())));
                ctx.apply(entry);
            }
            Message::Ping(_) => self.ping(ctx),
            // The leader's word on a reconnecting client's session.
            Message::RevalidateReply { session, valid } => {
                let out = ctx
                    .pipeline
                    .step(ctx.now_ms, PipelineInput::Revalidated { session, valid });
                ctx.pipeline_outputs(out);
            }
            Message::Sync => match self.pending_syncs.pop_front() {
                Some((session, cxid)) => {
                    let out = ctx
                        .pipeline
                        .step(ctx.now_ms, PipelineInput::Synced { session, cxid });
                    ctx.pipeline_outputs(out);
                }
                None => ctx.note(ZabNote::Unexpected("SYNC with no sync pending".into())),
            },
            // Our own epoch's NEWLEADER/UPTODATE come once; anything else is a broken leader.
            other => return Err(format!("unexpected {} while following", other.name())),
        }
        Ok(())
    }
    // ANCHOR_END: broadcast

    /// `logRequest`: the txn goes to the disk with the leader's digest, and waits for its
    /// COMMIT.
    fn log(&mut self, ctx: &mut Ctx, entry: Arc<TxnEntry>) {
        self.unlogged.push_back(entry.txn.zxid);
        ctx.out.push(Output::Append(entry.clone()));
        self.pending.push_back(entry);
    }

    // ANCHOR: commit
    /// `FollowerZooKeeperServer.commit`: a COMMIT must name our oldest pending txn. Upstream
    /// exits the process on a mismatch; here the connection ends, which is as safe.
    fn commit(&mut self, ctx: &mut Ctx, zxid: Zxid) -> Result<(), Quit> {
        match self.pending.front() {
            Some(head) if head.txn.zxid == zxid => {
                let entry = self.pending.pop_front().expect("just seen");
                // Our disk is usually done with its share by now; if not, it is copied.
                ctx.apply(Arc::unwrap_or_clone(entry));
                Ok(())
            }
            None => {
                ctx.note(ZabNote::Unexpected(format!(
                    "COMMIT {zxid} with no txn pending"
                )));
                Ok(())
            }
            Some(head) => Err(format!(
                "COMMIT {zxid} does not match the oldest pending txn {}",
                head.txn.zxid
            )),
        }
    }
    // ANCHOR_END: commit

    /// A PING is echoed with the sessions our clients kept alive since the last one.
    fn ping(&self, ctx: &mut Ctx) {
        let touched = ctx.pipeline.take_touched();
        self.send(ctx, Message::PingReply(touched));
    }

    /// The disk has the txn at `zxid`: a follower acknowledges it (in order: the disk
    /// reports in the order it was given).
    pub fn logged(&mut self, ctx: &mut Ctx, zxid: Zxid) -> Result<(), Quit> {
        if self.unlogged.front() != Some(&zxid) {
            return Ok(());
        }
        self.unlogged.pop_front();
        if !self.observer {
            self.send(ctx, Message::Ack(zxid));
        }
        // The last txn of the sync is on disk: NEWLEADER can be acknowledged now, and what
        // the leader sent meanwhile is read.
        if !self.unlogged.is_empty() {
            return Ok(());
        }
        let Phase::Logging { epoch, deferred } =
            std::mem::replace(&mut self.phase, Phase::Broadcast)
        else {
            return Ok(());
        };
        self.ack_new_leader(ctx, epoch);
        for msg in deferred {
            self.receive(ctx, msg)?;
        }
        Ok(())
    }

    /// A client's write (or sync) for the leader.
    pub fn forward(&mut self, ctx: &mut Ctx, forwarded: Forwarded) {
        if let Forward::Request(proto::Request::Sync(_)) = &forwarded.op {
            self.pending_syncs
                .push_back((forwarded.session, forwarded.cxid));
        }
        self.send(ctx, Message::Request(forwarded));
    }

    /// A client reconnects with `session`: ask the leader whether it is alive
    /// (`Learner.validateSession`). The client waits for the answer; if the leader is gone,
    /// none comes, and the client is closed when we notice.
    pub fn revalidate(&mut self, ctx: &mut Ctx, session: SessionId, timeout_ms: i32) {
        self.send(
            ctx,
            Message::Revalidate {
                session,
                timeout_ms,
            },
        );
    }

    /// The connection was refused: the server we elected does not lead (a server still
    /// electing holds our FOLLOWERINFO until it decides, so this is one that decided to
    /// follow, or is not up). Try again in 100 ms, five times in all
    /// (`Learner.connectToLeader` retries a failed connect, never a connection the leader
    /// accepted and then closed: a learner that followed it once must elect again, or it
    /// would follow a later leadership of the same server with the vote of an older round).
    pub fn refused(&mut self, ctx: &mut Ctx) -> Result<(), Quit> {
        match self.phase {
            Phase::Connecting { tries } if tries < CONNECT_TRIES => {
                self.phase = Phase::Connecting { tries: tries + 1 };
                ctx.arm(Timer::ConnectRetry, CONNECT_RETRY_MS);
                Ok(())
            }
            Phase::Connecting { tries } => {
                Err(format!("could not reach the leader in {tries} tries"))
            }
            _ => Err("the leader closed the connection".into()),
        }
    }

    /// The retry timer: a new connection, a new FOLLOWERINFO.
    pub fn retry(&mut self, ctx: &mut Ctx, link: Link) {
        if let Phase::Connecting { .. } = self.phase {
            self.link = link;
            self.say_hello(ctx);
        }
    }

    /// Our appends the disk has not reported durable yet: the vote waits for them.
    pub fn unlogged(&self) -> impl Iterator<Item = Zxid> + '_ {
        self.unlogged.iter().copied()
    }

    // ANCHOR: fast_forward
    /// Leaving the leader, once our log is on disk: the txns logged but never committed
    /// become part of the database (upstream `ZKDatabase.fastForwardDataBase` replays the
    /// log): the next vote names them.
    /// But a database a SNAP or TRUNC sync built in memory and never wrote down (the sync
    /// broke before NEWLEADER) is dropped for the one on disk: a later DIFF would build on
    /// txns the disk does not have, and a restart would lose them (ZOOKEEPER-3642: upstream
    /// clears the ZKDatabase and reloads it; ZOOKEEPER-5094 for TRUNC).
    pub fn fast_forward(self, ctx: &mut Ctx) {
        if let Some(saved) = self.saved {
            ctx.note(ZabNote::DropsUnsaved {
                back_to: saved.last_processed_zxid(),
            });
            ctx.replace_database(saved);
            return;
        }
        // A fuzzy snapshot walked on would take these txns into a file named after an
        // earlier zxid, where a later TRUNC could not take them out.
        if !self.pending.is_empty() {
            ctx.abandon_snapshot();
        }
        for entry in self.pending {
            ctx.apply(Arc::unwrap_or_clone(entry));
        }
    }
    // ANCHOR_END: fast_forward
}
