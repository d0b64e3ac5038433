//! The leader: agree on a new epoch, bring a quorum up to date, then order every write.
//!
//! The idea to take away: a newly elected leader is not a leader yet. It must first make
//! sure that **no older leader can still commit anything** — every server that acknowledges
//! the new epoch has promised to ignore older ones, and a quorum of promises is needed before
//! the epoch is used (discovery). Then it must make a quorum's history **equal to its own**,
//! so that what any earlier leader committed is carried forward (synchronization). Only then
//! does it serve: each write becomes a PROPOSAL with the next zxid, is committed once a quorum
//! (the leader included) has logged it **and every earlier proposal is committed**, and its
//! COMMIT goes to everyone. A leader that stops hearing from a quorum steps down: another
//! quorum may already be electing, and it must not keep accepting writes it can never commit.
//!
//! Upstream: `Leader.lead`, `getEpochToPropose`, `waitForEpochAck`, `waitForNewLeaderAck`,
//! `propose`, `processAck`, `tryToCommit`, `processSync`; `LearnerHandler.run`,
//! `syncFollower`, `queueCommittedProposals`, `ping`, `synced`.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use ch01_znode::tree::DIGEST_VERSION;
use ch01_znode::{Epoch, Sid, Txn, Zxid};
use ch03_sessions::fourlw::{LeaderReport, ResponseSizes};
use ch03_sessions::pipeline::{Forward, Forwarded, Input as PipelineInput};
use ch03_sessions::proto;

use crate::message::{Link, Message};
use crate::peer::{Ctx, Output, Timer};
use crate::trace::ZabNote;
use crate::txn_codec::{TxnDigest, TxnEntry};

/// Why a leader stops leading.
pub type Quit = String;

/// How far the leader has come since it was elected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Phase {
    /// Collecting accepted epochs until a quorum has connected (`getEpochToPropose`).
    Discovery,
    /// LEADERINFO sent; collecting ACKEPOCHs from a quorum (`waitForEpochAck`).
    EpochAcks,
    /// Learners synced and sent NEWLEADER; collecting their ACKs (`waitForNewLeaderAck`).
    NewLeaderAcks,
    /// Serving: proposals, commits, pings.
    Broadcast,
}

/// Where one learner's conversation stands (one `LearnerHandler`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Stage {
    /// FOLLOWERINFO in; LEADERINFO out once the epoch is known.
    Hello,
    /// ACKEPOCH in: synced as soon as a quorum has acknowledged the epoch.
    EpochAcked { last_zxid: Zxid },
    /// Sync packets and NEWLEADER sent; waiting for its ACK.
    Syncing,
    /// NEWLEADER acknowledged; UPTODATE follows once the leader serves.
    Synced,
    /// UPTODATE sent: a full member of the broadcast.
    UpToDate,
}

/// What the leader keeps per connected learner.
#[derive(Clone, Debug, Hash)]
struct Handler {
    link: Link,
    observer: bool,
    stage: Stage,
    /// Gets every new PROPOSAL and COMMIT (`startForwarding` has run for it).
    forwarding: bool,
    /// It counts as synced until then (`tickOfNextAckDeadline`, in ms).
    deadline_ms: u64,
}

/// A proposal waiting for its quorum.
#[derive(Clone, Debug, Hash)]
struct Proposal {
    /// The txn, with the tree digest after it when our pipeline worked one out: the one
    /// copy the PROPOSALs and our own append share.
    entry: Arc<TxnEntry>,
    acks: BTreeSet<Sid>,
}

// ANCHOR: leader
/// A leader's state, from its election to its last commit.
#[derive(Clone, Debug, Hash)]
pub struct Leader {
    phase: Phase,
    /// The epoch it leads, once a quorum's accepted epochs are known.
    epoch: Option<Epoch>,
    /// What it had when elected: (currentEpoch, last zxid). A learner that is further ahead
    /// is turned away (`leaderStateSummary`).
    summary: (Epoch, Zxid),
    /// Accepted epochs of the servers that have connected so far, the leader's own included.
    connecting: BTreeMap<Sid, Epoch>,
    /// Who acknowledged the epoch (voters with a history), and who acknowledged NEWLEADER.
    epoch_acks: BTreeSet<Sid>,
    new_leader_acks: BTreeSet<Sid>,
    handlers: BTreeMap<Sid, Handler>,
    /// A second connection from a learner we hold, until it acknowledges the epoch.
    newcomers: BTreeMap<Sid, Handler>,
    /// Proposals not committed yet, by zxid (`outstandingProposals`).
    proposals: BTreeMap<Zxid, Proposal>,
    last_proposed: Zxid,
    /// Our own appends not yet on disk: our ACK for each is due when it is.
    unlogged: BTreeSet<Zxid>,
    /// Forwarded syncs to answer once the zxid is committed (`pendingSyncs`).
    pending_syncs: BTreeMap<Zxid, Vec<Link>>,
    /// Half-ticks since broadcast began: every second one checks the quorum.
    half_ticks: u64,
    /// The bytes of each proposal's data, for `srvr` (`Leader.proposalStats`).
    proposal_sizes: ResponseSizes,
}
// ANCHOR_END: leader

impl Leader {
    /// Elected: start discovery, counting our own accepted epoch.
    pub fn elected(ctx: &mut Ctx) -> Leader {
        let summary = (
            ctx.epochs.current,
            ctx.pipeline.database().last_processed_zxid(),
        );
        let mut leader = Leader {
            phase: Phase::Discovery,
            epoch: None,
            summary,
            connecting: BTreeMap::from([(ctx.me, ctx.epochs.accepted)]),
            epoch_acks: BTreeSet::new(),
            new_leader_acks: BTreeSet::new(),
            handlers: BTreeMap::new(),
            newcomers: BTreeMap::new(),
            proposals: BTreeMap::new(),
            last_proposed: Zxid(0),
            unlogged: BTreeSet::new(),
            pending_syncs: BTreeMap::new(),
            half_ticks: 0,
            proposal_sizes: ResponseSizes::default(),
        };
        ctx.arm(Timer::InitLimit, ctx.cfg.init_limit_ms());
        leader.try_propose_epoch(ctx);
        leader
    }

    /// The epoch it leads, once decided.
    pub fn epoch(&self) -> Option<Epoch> {
        self.epoch
    }

    /// Whether it serves clients (a quorum acknowledged NEWLEADER).
    pub fn is_serving(&self) -> bool {
        self.phase == Phase::Broadcast
    }

    /// The learners synced with it (for `mntr`'s `zk_synced_followers` and the trace).
    pub fn synced_learners(&self) -> Vec<Sid> {
        self.handlers
            .iter()
            .filter(|(_, h)| h.stage == Stage::UpToDate)
            .map(|(sid, _)| *sid)
            .collect()
    }

    /// Its learners as `mntr` reports them: connected, synced (followers and observers
    /// apart), and forwarded syncs waiting for a commit.
    pub fn report(&self) -> LeaderReport {
        let synced = |observer: bool| {
            self.handlers
                .values()
                .filter(|h| h.stage == Stage::UpToDate && h.observer == observer)
                .count() as u64
        };
        LeaderReport {
            learners: self.handlers.len() as u64,
            synced_followers: synced(false),
            synced_observers: synced(true),
            pending_syncs: self.pending_syncs.values().map(|w| w.len() as u64).sum(),
            proposal_sizes: self.proposal_sizes,
            last_proposed: self.last_proposed,
        }
    }

    fn send(ctx: &mut Ctx, link: Link, msg: Message) {
        ctx.out.push(Output::Zab {
            to: link.learner,
            link,
            msg,
        });
    }

    /// A packet from a learner. Only a LEARNERINFO may open a connection; a packet on a
    /// connection we do not know is from a socket that is closed.
    pub fn receive(&mut self, ctx: &mut Ctx, link: Link, msg: Message) -> Result<(), Quit> {
        if let Message::LearnerInfo {
            observer,
            accepted_epoch,
        } = msg
        {
            self.hello(ctx, link, observer, accepted_epoch);
            return Ok(());
        }
        if matches!(msg, Message::AckEpoch { .. }) {
            self.take_over(ctx, link);
        }
        let Some(handler) = self
            .handlers
            .get_mut(&link.learner)
            .filter(|h| h.link == link)
        else {
            ctx.note(ZabNote::Unexpected(format!(
                "{} on {link}, a connection that is closed",
                msg.name()
            )));
            return Ok(());
        };
        // Anything heard from a learner keeps it "synced" for syncLimit more ticks.
        handler.deadline_ms = ctx.now_ms + ctx.cfg.sync_limit_ms();
        match msg {
            Message::AckEpoch {
                current_epoch,
                last_zxid,
            } => self.ack_epoch(ctx, link, current_epoch, last_zxid),
            Message::Ack(zxid) if zxid.counter() == 0 => self.ack_new_leader(ctx, link),
            Message::Ack(zxid) => self.ack(ctx, link.learner, zxid),
            Message::Request(forwarded) => self.request(ctx, link, forwarded),
            // A learner's client reconnects: its session is alive if our tracker says so
            // (`LearnerMaster.revalidateSession`); a live one is touched.
            Message::Revalidate {
                session,
                timeout_ms,
            } => {
                let valid = ctx
                    .pipeline
                    .revalidate(ctx.now_ms, session, timeout_ms, link.learner);
                ctx.note(ZabNote::Revalidated { session, valid });
                Self::send(ctx, link, Message::RevalidateReply { session, valid });
            }
            Message::PingReply(touched) => {
                let out = ctx
                    .pipeline
                    .step(ctx.now_ms, PipelineInput::Touched(touched));
                ctx.pipeline_outputs(out);
            }
            other => ctx.note(ZabNote::Unexpected(format!(
                "{} from a learner",
                other.name()
            ))),
        }
        Ok(())
    }

    // ANCHOR: hello
    /// FOLLOWERINFO / OBSERVERINFO: a learner connects. A learner we already hold may have
    /// connected again (its old socket is dead to it, after a restart, say), or someone else
    /// may be using its sid: the new connection takes the old one's place only once it
    /// acknowledges the epoch ([`Leader::take_over`]), so that one packet from nowhere cannot
    /// cut a follower off. Upstream keeps both `LearnerHandler`s until the old one fails.
    fn hello(&mut self, ctx: &mut Ctx, link: Link, observer: bool, accepted: Epoch) {
        let handler = Handler {
            link,
            observer,
            stage: Stage::Hello,
            forwarding: false,
            deadline_ms: ctx.now_ms + ctx.cfg.init_limit_ms() + ctx.cfg.sync_limit_ms(),
        };
        let held = self.handlers.get(&link.learner).map(|h| h.link);
        let replaced = match held {
            Some(old) if old != link => self.newcomers.insert(link.learner, handler),
            _ => self.handlers.insert(link.learner, handler),
        };
        // A newcomer before it that never acknowledged the epoch.
        if let Some(earlier) = replaced.filter(|h| h.link != link) {
            ctx.out.push(Output::Disconnect { link: earlier.link });
        }
        match self.epoch {
            // Already decided: this latecomer is told at once.
            Some(epoch) => Self::send(ctx, link, Message::LeaderInfo { epoch }),
            None => {
                self.connecting.insert(link.learner, accepted);
                self.try_propose_epoch(ctx);
            }
        }
    }

    /// ACKEPOCH on a learner's second connection: it is the learner's now, and the first one
    /// is closed.
    fn take_over(&mut self, ctx: &mut Ctx, link: Link) {
        let Entry::Occupied(waiting) = self.newcomers.entry(link.learner) else {
            return;
        };
        if waiting.get().link != link {
            return;
        }
        if let Some(old) = self.handlers.insert(link.learner, waiting.remove()) {
            ctx.out.push(Output::Disconnect { link: old.link });
        }
    }
    // ANCHOR_END: hello

    // ANCHOR: propose_epoch
    /// `getEpochToPropose`: once the servers heard from (ourselves included) hold a quorum of
    /// voters, the new epoch is one more than the largest epoch any of them has accepted. We
    /// accept it ourselves (on disk) before anyone is told.
    fn try_propose_epoch(&mut self, ctx: &mut Ctx) {
        let heard: BTreeSet<Sid> = self.connecting.keys().copied().collect();
        if self.epoch.is_some() || !ctx.cfg.qv().contains_quorum(&heard) {
            return;
        }
        let epoch = self.connecting.values().max().expect("we are in it").next();
        self.epoch = Some(epoch);
        ctx.epochs.accepted = epoch;
        ctx.save_epochs();
        ctx.note(ZabNote::EpochProposed {
            epoch,
            heard: heard.iter().copied().collect(),
        });
        self.phase = Phase::EpochAcks;
        self.epoch_acks.insert(ctx.me);
        ctx.arm(Timer::InitLimit, ctx.cfg.init_limit_ms());
        let links: Vec<Link> = (self.handlers.values())
            .chain(self.newcomers.values())
            .map(|h| h.link)
            .collect();
        for link in links {
            Self::send(ctx, link, Message::LeaderInfo { epoch });
        }
        self.try_epoch_quorum(ctx);
    }
    // ANCHOR_END: propose_epoch

    // ANCHOR: ack_epoch
    /// `waitForEpochAck`: while the epoch is being agreed, a learner whose history is ahead of
    /// ours must not follow us (it could hold commits we lack): only its connection is closed.
    /// Once a quorum has acknowledged the epoch, nothing is checked: a latecomer's longer
    /// history cannot hold a commit the quorum lacks, and the sync cuts it back (TRUNC). A
    /// learner that had already accepted this epoch (-1) or is an observer is synced but not
    /// counted.
    fn ack_epoch(
        &mut self,
        ctx: &mut Ctx,
        link: Link,
        current_epoch: Option<Epoch>,
        last_zxid: Zxid,
    ) {
        let learner = link.learner;
        if let Some(current) = current_epoch {
            if self.phase == Phase::EpochAcks && (current, last_zxid) > self.summary {
                ctx.note(ZabNote::LearnerAhead {
                    learner,
                    current,
                    last_zxid,
                });
                self.handlers.remove(&learner);
                ctx.out.push(Output::Disconnect { link });
                return;
            }
        }
        let observer = self.handlers[&learner].observer;
        if let Some(h) = self.handlers.get_mut(&learner) {
            h.stage = Stage::EpochAcked { last_zxid };
        }
        // A learner whose disk could not be cut back says it has nothing (-1) to get a SNAP.
        // If its epoch is not older than ours, the check above cannot tell whether it holds
        // more than we do: it is synced, but not counted.
        let unknown = last_zxid == Zxid(-1) && current_epoch.is_some_and(|c| c >= self.summary.0);
        if current_epoch.is_some() && !unknown && !observer && ctx.cfg.qv().is_voter(learner) {
            self.epoch_acks.insert(learner);
        }
        match self.phase {
            Phase::EpochAcks => self.try_epoch_quorum(ctx),
            // The quorum acknowledged the epoch long ago: sync this one now.
            Phase::NewLeaderAcks | Phase::Broadcast => self.sync_learner(ctx, learner),
            Phase::Discovery => {}
        }
    }

    /// A quorum has promised: the epoch is ours (`currentEpoch` on disk), and every learner
    /// that acknowledged it is brought up to date.
    fn try_epoch_quorum(&mut self, ctx: &mut Ctx) {
        if self.phase != Phase::EpochAcks || !ctx.cfg.qv().contains_quorum(&self.epoch_acks) {
            return;
        }
        let epoch = self.epoch.expect("decided before its acks");
        ctx.epochs.current = epoch;
        ctx.save_epochs();
        ctx.note(ZabNote::EpochAcked {
            epoch,
            by: self.epoch_acks.iter().copied().collect(),
        });
        self.phase = Phase::NewLeaderAcks;
        self.last_proposed = epoch.first_zxid();
        self.new_leader_acks.insert(ctx.me);
        ctx.arm(Timer::InitLimit, ctx.cfg.init_limit_ms());
        let ready: Vec<Sid> = self
            .handlers
            .iter()
            .filter(|(_, h)| matches!(h.stage, Stage::EpochAcked { .. }))
            .map(|(sid, _)| *sid)
            .collect();
        for learner in ready {
            self.sync_learner(ctx, learner);
        }
        self.try_start(ctx);
    }
    // ANCHOR_END: ack_epoch

    /// `learner`'s disk is about to lose every txn above `zxid`: its ACKs for them no longer
    /// count towards a quorum.
    fn take_back_acks(&mut self, learner: Sid, zxid: Zxid) {
        for (_, p) in self.proposals.iter_mut().filter(|(z, _)| **z > zxid) {
            p.acks.remove(&learner);
        }
    }

    // ANCHOR: sync_learner
    /// `LearnerHandler.syncFollower` + `startForwarding`: choose DIFF, TRUNC or SNAP from the
    /// learner's last zxid and our recent history, send what it lacks, then every proposal
    /// still in flight, then NEWLEADER. From here on it gets every new proposal and commit.
    fn sync_learner(&mut self, ctx: &mut Ctx, learner: Sid) {
        let Some(handler) = self.handlers.get(&learner).cloned() else {
            return;
        };
        let Stage::EpochAcked { last_zxid: peer } = handler.stage else {
            return;
        };
        let link = handler.link;
        let epoch = self.epoch.expect("synced after the epoch quorum");
        let db = ctx.pipeline.database();
        let last = db.last_processed_zxid();
        let (min, max) = ctx.history.bounds(last);
        let plan = if peer == last {
            Plan::Diff {
                to: peer,
                after: peer,
            }
        } else if peer > max && peer.counter() != 0 {
            Plan::Trunc {
                to: max,
                after: max,
            }
        } else if min <= peer && peer <= max {
            if ctx.history.contains(peer) || peer.counter() == 0 {
                Plan::Diff {
                    to: max,
                    after: peer,
                }
            } else {
                // A divergent tail: cut back to our last txn before it, if of the same epoch.
                match ctx.history.first_after(peer) {
                    Some(next) if next.epoch() == peer.epoch() => {
                        let to = ctx.history.last_before(peer).unwrap_or(min);
                        Plan::Trunc { to, after: to }
                    }
                    _ => Plan::Snap,
                }
            }
        } else {
            Plan::Snap
        };
        let sent_up_to = match plan {
            Plan::Diff { to, after } => {
                Self::send(ctx, link, Message::Diff { zxid: to });
                after
            }
            Plan::Trunc { to, after } => {
                // The learner's log loses everything above `to`, so do its ACKs for it: an
                // ACK says "on my disk", and a quorum of them must still mean that when the
                // proposal commits.
                self.take_back_acks(learner, to);
                Self::send(ctx, link, Message::Trunc { zxid: to });
                after
            }
            Plan::Snap => {
                // The snapshot the learner writes at NEWLEADER drops what its disk held
                // after it: its ACKs above it go too (the proposals are sent again below).
                self.take_back_acks(learner, last);
                let db = Box::new(ctx.pipeline.database().clone());
                Self::send(ctx, link, Message::Snap { zxid: last, db });
                last
            }
        };
        ctx.note(ZabNote::SyncLearner {
            learner,
            peer_zxid: peer,
            mode: plan.name(),
        });
        // With their digests, as upstream's committedLog keeps the serialized requests.
        for entry in ctx.history.after(sent_up_to) {
            let zxid = entry.txn.zxid;
            Self::send(ctx, link, Message::Proposal(Arc::new(entry)));
            Self::send(ctx, link, Message::Commit(zxid));
        }
        if !handler.observer {
            for p in self.proposals.values() {
                Self::send(ctx, link, Message::Proposal(p.entry.clone()));
            }
        }
        Self::send(ctx, link, Message::NewLeader { epoch });
        if let Some(h) = self.handlers.get_mut(&learner) {
            h.stage = Stage::Syncing;
            h.forwarding = true;
        }
    }
    // ANCHOR_END: sync_learner

    // ANCHOR: new_leader_ack
    /// An ACK of `epoch << 32`: the learner took our history (NEWLEADER), or, the second
    /// time, it is serving (after UPTODATE).
    fn ack_new_leader(&mut self, ctx: &mut Ctx, link: Link) {
        let learner = link.learner;
        let Some(h) = self.handlers.get_mut(&learner) else {
            return;
        };
        if h.stage != Stage::Syncing {
            return;
        }
        h.stage = Stage::Synced;
        let voter = !h.observer && ctx.cfg.qv().is_voter(learner);
        match self.phase {
            Phase::NewLeaderAcks => {
                if voter {
                    self.new_leader_acks.insert(learner);
                }
                self.try_start(ctx);
            }
            Phase::Broadcast => self.up_to_date(ctx, learner),
            _ => {}
        }
    }

    /// `waitForNewLeaderAck`: a quorum holds our history; serve.
    fn try_start(&mut self, ctx: &mut Ctx) {
        if self.phase != Phase::NewLeaderAcks
            || !ctx.cfg.qv().contains_quorum(&self.new_leader_acks)
        {
            return;
        }
        let epoch = self.epoch.expect("decided");
        self.phase = Phase::Broadcast;
        ctx.note(ZabNote::Established {
            epoch,
            by: self.new_leader_acks.iter().copied().collect(),
        });
        ctx.cancel(Timer::InitLimit);
        ctx.pipeline.lead(epoch, ctx.now_ms);
        let synced: Vec<Sid> = self
            .handlers
            .iter()
            .filter(|(_, h)| h.stage == Stage::Synced)
            .map(|(sid, _)| *sid)
            .collect();
        for learner in synced {
            self.up_to_date(ctx, learner);
        }
        ctx.arm(Timer::LeaderTick, ctx.cfg.tick_ms / 2);
    }
    // ANCHOR_END: new_leader_ack

    fn up_to_date(&mut self, ctx: &mut Ctx, learner: Sid) {
        if let Some(h) = self.handlers.get_mut(&learner) {
            h.stage = Stage::UpToDate;
            let link = h.link;
            Self::send(ctx, link, Message::UpToDate);
        }
    }

    // ANCHOR: propose
    /// `Leader.propose`: a txn our pipeline prepared goes to every follower and to our own
    /// disk; our ACK counts when the disk has it. `digest` is the tree digest after the txn
    /// as prepare worked it out, which 3.8 sends in the proposal (`TxnDigest`, after the txn
    /// in `SerializeUtils.serializeRequest`), so every member logs the same record.
    pub fn propose(&mut self, ctx: &mut Ctx, txn: Txn, digest: Option<u64>) {
        let zxid = txn.zxid;
        self.last_proposed = zxid;
        let entry = Arc::new(TxnEntry {
            txn,
            digest: digest.map(|d| TxnDigest {
                version: DIGEST_VERSION,
                tree_digest: d as i64,
            }),
        });
        self.proposal_sizes.add(proposal_size(&entry));
        let followers: Vec<Link> = self
            .handlers
            .values()
            .filter(|h| h.forwarding && !h.observer)
            .map(|h| h.link)
            .collect();
        for link in followers {
            Self::send(ctx, link, Message::Proposal(entry.clone()));
        }
        self.unlogged.insert(zxid);
        ctx.out.push(Output::Append(entry.clone()));
        self.proposals.insert(
            zxid,
            Proposal {
                entry,
                acks: BTreeSet::new(),
            },
        );
    }
    // ANCHOR_END: propose

    /// Our disk has the txn: our own ACK.
    pub fn logged(&mut self, ctx: &mut Ctx, zxid: Zxid) {
        if self.unlogged.remove(&zxid) {
            self.ack(ctx, ctx.me, zxid);
        }
    }

    // ANCHOR: ack
    /// `processAck` + `tryToCommit`: a quorum of ACKs commits a proposal, but only once every
    /// proposal before it is committed, so commits leave in zxid order.
    fn ack(&mut self, ctx: &mut Ctx, from: Sid, zxid: Zxid) {
        if !ctx.cfg.qv().is_voter(from) {
            return;
        }
        if let Some(p) = self.proposals.get_mut(&zxid) {
            p.acks.insert(from);
        }
        while let Some(entry) = self.proposals.first_entry() {
            if !crate::lab::can_commit(ctx.cfg.qv(), &entry.get().acks) {
                break;
            }
            let Proposal { entry, acks } = entry.remove();
            self.commit(ctx, entry, acks);
        }
    }
    // ANCHOR_END: ack

    // ANCHOR: commit
    /// Committed: COMMIT to the followers, INFORM (with the txn) to the observers, then apply
    /// it here, which answers our own client if the write was theirs.
    fn commit(&mut self, ctx: &mut Ctx, entry: Arc<TxnEntry>, acks: BTreeSet<Sid>) {
        let zxid = entry.txn.zxid;
        ctx.note(ZabNote::Committed {
            zxid,
            acks: acks.into_iter().collect(),
        });
        let targets: Vec<(Link, bool)> = self
            .handlers
            .values()
            .filter(|h| h.forwarding)
            .map(|h| (h.link, h.observer))
            .collect();
        for (link, observer) in targets {
            let msg = match observer {
                // The PROPOSAL's own bytes, digest included (`Leader.sendObserverPacket`).
                true => Message::Inform(TxnEntry::clone(&entry)),
                false => Message::Commit(zxid),
            };
            Self::send(ctx, link, msg);
        }
        // Our disk is usually done with its share by now; if not, it is copied.
        ctx.apply(Arc::unwrap_or_clone(entry));
        // Syncs that waited for this txn can be answered.
        let due: Vec<Zxid> = self.pending_syncs.range(..=zxid).map(|(z, _)| *z).collect();
        for z in due {
            for link in self.pending_syncs.remove(&z).unwrap_or_default() {
                Self::send(ctx, link, Message::Sync);
            }
        }
    }
    // ANCHOR_END: commit

    /// REQUEST: a learner's client's write goes through our pipeline like our own; a sync is
    /// answered once everything proposed before it is committed (`processSync`).
    fn request(&mut self, ctx: &mut Ctx, link: Link, forwarded: Forwarded) {
        if self.phase != Phase::Broadcast {
            ctx.note(ZabNote::Unexpected("REQUEST before serving".into()));
            return;
        }
        if let Forward::Request(proto::Request::Sync(_)) = forwarded.op {
            match self.proposals.last_key_value() {
                None => Self::send(ctx, link, Message::Sync),
                Some((&zxid, _)) => self.pending_syncs.entry(zxid).or_default().push(link),
            }
            return;
        }
        // The learner is the owner the session must have (`si.setOwner(this)`).
        let input = PipelineInput::Forwarded {
            learner: link.learner,
            request: forwarded,
        };
        let out = ctx.pipeline.step(ctx.now_ms, input);
        ctx.pipeline_outputs(out);
    }

    // ANCHOR: tick
    /// Every half tick: PING every learner, and let the session tracker expire what is due.
    /// Every whole tick: a quorum (ourselves included) must have been heard from within
    /// `syncLimit` ticks, or we stop leading.
    pub fn tick(&mut self, ctx: &mut Ctx) -> Result<(), Quit> {
        self.half_ticks += 1;
        if self.half_ticks % 2 == 0 {
            let mut synced: BTreeSet<Sid> = self
                .handlers
                .iter()
                .filter(|(_, h)| !h.observer && ctx.now_ms <= h.deadline_ms)
                .map(|(sid, _)| *sid)
                .collect();
            synced.insert(ctx.me);
            if !ctx.cfg.qv().contains_quorum(&synced) {
                let sids: Vec<String> = synced.iter().map(Sid::to_string).collect();
                return Err(format!(
                    "not sufficient followers synced, only synced with sids: [ {} ]",
                    sids.join(",")
                ));
            }
        }
        let links: Vec<Link> = self
            .handlers
            .values()
            .filter(|h| h.forwarding)
            .map(|h| h.link)
            .collect();
        for link in links {
            Self::send(ctx, link, Message::Ping(self.last_proposed));
        }
        let out = ctx.pipeline.step(ctx.now_ms, PipelineInput::Tick);
        ctx.pipeline_outputs(out);
        ctx.arm(Timer::LeaderTick, ctx.cfg.tick_ms / 2);
        Ok(())
    }
    // ANCHOR_END: tick

    /// `initLimit` ran out before the epoch or the sync was agreed.
    pub fn init_limit(&self) -> Result<(), Quit> {
        match self.phase {
            Phase::Discovery => Err("timeout while waiting for epoch from quorum".into()),
            Phase::EpochAcks => Err("timeout while waiting for epoch to be acked by quorum".into()),
            Phase::NewLeaderAcks => {
                let sids: Vec<String> = self.new_leader_acks.iter().map(Sid::to_string).collect();
                Err(format!(
                    "waiting for a quorum of followers, only synced with sids: [ {} ]",
                    sids.join(",")
                ))
            }
            Phase::Broadcast => Ok(()),
        }
    }

    /// Whether it holds `link` open: the learner's connection it answers on.
    pub fn holds(&self, link: Link) -> bool {
        self.handlers
            .get(&link.learner)
            .is_some_and(|h| h.link == link)
    }

    /// A learner's connection broke: forget it (its ACKs already counted stay counted). A
    /// second connection of the same learner, waiting to take its place, takes it now.
    pub fn disconnected(&mut self, link: Link) {
        let learner = link.learner;
        if self.handlers.get(&learner).is_some_and(|h| h.link == link) {
            self.handlers.remove(&learner);
            if let Some(newcomer) = self.newcomers.remove(&learner) {
                self.handlers.insert(learner, newcomer);
            }
        } else if self.newcomers.get(&learner).is_some_and(|h| h.link == link) {
            self.newcomers.remove(&learner);
        }
    }

    /// Stepping down: every learner's connection closes.
    pub fn step_down(&self, ctx: &mut Ctx) {
        for h in self.handlers.values().chain(self.newcomers.values()) {
            ctx.out.push(Output::Disconnect { link: h.link });
        }
    }

    /// Our appends the disk has not reported durable yet: the vote waits for them.
    pub fn unlogged(&self) -> impl Iterator<Item = Zxid> + '_ {
        self.unlogged.iter().copied()
    }

    /// Once our log is on disk: what we logged but never committed becomes part of our
    /// database (the next vote names it).
    pub fn fast_forward(self, ctx: &mut Ctx) {
        // A fuzzy snapshot walked on would take these txns into a file named after an
        // earlier zxid, where a later TRUNC could not take them out.
        if !self.proposals.is_empty() {
            ctx.abandon_snapshot();
        }
        for (_, p) in self.proposals {
            ctx.apply(Arc::unwrap_or_clone(p.entry));
        }
    }
}

/// How a learner is brought up to date.
#[derive(Clone, Copy, Debug)]
enum Plan {
    /// Send what comes after `after`; DIFF names `to`.
    Diff { to: Zxid, after: Zxid },
    /// Cut back to `to`, then send what comes after `after`.
    Trunc { to: Zxid, after: Zxid },
    /// The whole database.
    Snap,
}

impl Plan {
    fn name(self) -> &'static str {
        match self {
            Plan::Diff { .. } => "DIFF",
            Plan::Trunc { .. } => "TRUNC",
            Plan::Snap => "SNAP",
        }
    }
}

/// The bytes of a PROPOSAL's data, for `srvr`'s `Proposal sizes`: upstream `Leader.propose`
/// records the length of the serialized request, which is the txn followed by its 12-byte
/// `TxnDigest` when it has one (`SerializeUtils.serializeRequest`).
fn proposal_size(entry: &TxnEntry) -> i64 {
    entry.encode().len() as i64
}
