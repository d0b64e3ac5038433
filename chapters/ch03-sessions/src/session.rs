//! The session tracker: who is still alive, decided in tick-sized buckets.
//!
//! The idea to take away: a ZooKeeper session is a **lease**. The client promises to say
//! something (a request, or a ping when idle) at least every `timeout` ms; every time it does,
//! the server pushes the lease's end forward. A session whose lease runs out is expired, and its
//! ephemeral nodes die with it. That is how "this server is up" becomes a znode that vanishes
//! by itself when the server stops talking.
//!
//! Checking thousands of leases one by one would be costly, so ZooKeeper rounds every deadline
//! **up to the next multiple of `tickTime`** and keeps one bucket of sessions per deadline
//! (upstream `ExpiryQueue`). Touching a session moves it to a later bucket; at each tick the
//! tracker empties the bucket that is due and expires all of it at once
//! (upstream `SessionTrackerImpl.run`). So a session lives at least `timeout` ms after its last
//! word and at most one tick longer.
//!
//! This module is sans-IO: the clock is an argument (`now_ms`) of every call, and expiry is a
//! value returned by [`SessionTracker::expire`], not a thread. The caller turns each expired
//! session into a `closeSession` txn (so its ephemerals are deleted in the log's order) and
//! calls [`SessionTracker::remove`] when that txn has been applied.
//!
//! Session ids follow `SessionTrackerImpl.initializeNextSessionId`: the server id in the top
//! byte, bits of the start time below, then `+1` per session, so two servers of an ensemble
//! never hand out the same id without talking. The password a client must show to resume its
//! session is `java.util.Random(sessionId ^ 0xB3415C00).nextBytes(16)`, as upstream
//! `ZooKeeperServer.generatePasswd`; Keeper reproduces Java's generator so the bytes are the
//! same as a real server's.

use std::collections::{BTreeMap, BTreeSet};

pub use ch01_znode::{SessionId, Sid};

/// The owner marker of container nodes; never handed out as a session id
/// (upstream `EphemeralType.CONTAINER_EPHEMERAL_OWNER`).
const CONTAINER_EPHEMERAL_OWNER: i64 = i64::MIN;

/// The secret mixed into password generation (upstream `ZooKeeperServer.superSecret`).
const SUPER_SECRET: i64 = 0xB341_5C00;

/// The server id a standalone server puts in its session ids (upstream
/// `ZooKeeperServer.createSessionTracker` passes 1).
pub const STANDALONE_SID: Sid = Sid(1);

// ANCHOR: session_id
/// The first session id a server hands out: its id in the top byte, 40 bits of the clock
/// below, low 16 bits zero (upstream `SessionTrackerImpl.initializeNextSessionId`).
pub fn initial_session_id(server: Sid, now_ms: u64) -> SessionId {
    // (now << 24) >>> 8: keep the clock's low 40 bits, shifted up past 16 zero bits.
    let clock = ((now_ms << 24) >> 8) as i64;
    let mut id = clock | ((server.0 as i64) << 56);
    if id == CONTAINER_EPHEMERAL_OWNER {
        id += 1;
    }
    SessionId(id)
}
// ANCHOR_END: session_id

/// The 16-byte password of a session, exactly as a real ZooKeeper server derives it.
pub fn session_password(id: SessionId) -> [u8; 16] {
    let mut random = JavaRandom::new(id.0 ^ SUPER_SECRET);
    let mut out = [0u8; 16];
    random.next_bytes(&mut out);
    out
}

/// `java.util.Random`: a 48-bit linear congruential generator (its documented algorithm).
struct JavaRandom {
    seed: u64,
}

impl JavaRandom {
    const MULTIPLIER: u64 = 0x5_DEEC_E66D;
    const MASK: u64 = (1 << 48) - 1;

    fn new(seed: i64) -> JavaRandom {
        JavaRandom {
            seed: (seed as u64 ^ Self::MULTIPLIER) & Self::MASK,
        }
    }

    fn next_int(&mut self) -> i32 {
        self.seed = (self.seed.wrapping_mul(Self::MULTIPLIER).wrapping_add(0xB)) & Self::MASK;
        (self.seed >> 16) as i32
    }

    /// Each `nextInt` fills up to four bytes, low byte first.
    fn next_bytes(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(4) {
            let mut word = self.next_int();
            for byte in chunk {
                *byte = word as u8;
                word >>= 8;
            }
        }
    }
}

/// One tracked session.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Session {
    /// Its id.
    pub id: SessionId,
    /// The negotiated timeout, ms.
    pub timeout_ms: i32,
    /// Set once expiry or a close has begun: the session accepts no more requests.
    pub closing: bool,
    /// The server whose client connection holds the session, as far as the leader knows:
    /// itself for its own clients, a learner once that learner forwarded its creation or
    /// revalidated it. `None` until someone claims it (a new leader knows no owners). Upstream
    /// `SessionImpl.owner`, there the `LearnerHandler` object or `ServerCnxn.me`.
    pub owner: Option<Sid>,
}

/// Why a request's session is not usable (upstream `SessionTrackerImpl.checkSession`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionCheck {
    /// Never created here, or already removed.
    Unknown,
    /// Expiry or close has begun.
    Expired,
    /// Another server holds the session now: the client moved, and this request came from
    /// where it was before (upstream `SessionMovedException`).
    Moved,
}

/// Sessions and their expiry buckets.
#[derive(Clone, Debug, Hash)]
pub struct SessionTracker {
    tick_time_ms: u64,
    next_session_id: SessionId,
    sessions: BTreeMap<SessionId, Session>,
    queue: ExpiryQueue,
}

impl SessionTracker {
    /// A tracker for a server with this id, started at `now_ms` (wall clock: it seeds ids).
    pub fn new(tick_time_ms: u32, server_id: Sid, now_ms: u64) -> SessionTracker {
        SessionTracker {
            tick_time_ms: tick_time_ms as u64,
            next_session_id: initial_session_id(server_id, now_ms),
            sessions: BTreeMap::new(),
            queue: ExpiryQueue::new(tick_time_ms as u64, now_ms),
        }
    }

    /// Restarts id assignment from a given clock value: a replayable run (a trace with
    /// `--seed`) gets the same ids every time.
    pub fn seed_ids(&mut self, server_id: Sid, clock_ms: u64) {
        self.next_session_id = initial_session_id(server_id, clock_ms);
    }

    /// Makes sure the next id handed out is above `id` when both carry the same server id
    /// in their top byte (an id recovered from disk must never be handed out again).
    pub fn ids_after(&mut self, id: SessionId) {
        let same_server = (id.0 >> 56) == (self.next_session_id.0 >> 56);
        if same_server && id.0 >= self.next_session_id.0 {
            self.next_session_id = SessionId(id.0.wrapping_add(1));
        }
    }

    /// Hands out the next id and starts tracking it (upstream `createSession`).
    pub fn create_session(&mut self, timeout_ms: i32, now_ms: u64) -> SessionId {
        let id = self.next_session_id;
        self.next_session_id = SessionId(id.0.wrapping_add(1));
        self.track(id, timeout_ms, now_ms);
        id
    }

    /// Starts over from a database's session table: every session gets a fresh lease from
    /// `now_ms`, and ids keep counting from where they were. A new leader does this, since
    /// nobody kept the leases while there was no leader.
    pub fn reset(&mut self, sessions: &BTreeMap<SessionId, i32>, now_ms: u64) {
        self.sessions.clear();
        self.queue = ExpiryQueue::new(self.tick_time_ms, now_ms);
        for (&id, &timeout_ms) in sessions {
            self.track(id, timeout_ms, now_ms);
        }
    }

    /// Tracks a session whose id was chosen elsewhere (replay, or another server's id).
    pub fn track(&mut self, id: SessionId, timeout_ms: i32, now_ms: u64) {
        self.sessions.entry(id).or_insert(Session {
            id,
            timeout_ms,
            closing: false,
            owner: None,
        });
        self.queue.update(id, timeout_ms, now_ms);
    }

    /// A resumed session takes the timeout negotiated on its new connection (upstream
    /// `revalidateSession` touches it with that timeout).
    pub fn set_timeout(&mut self, id: SessionId, timeout_ms: i32, now_ms: u64) -> bool {
        match self.sessions.get_mut(&id) {
            Some(s) if !s.closing => {
                s.timeout_ms = timeout_ms;
                self.queue.update(id, timeout_ms, now_ms);
                true
            }
            _ => false,
        }
    }

    /// The client said something: push its deadline forward. `false` if the session is gone
    /// or closing (upstream `touchSession`).
    pub fn touch(&mut self, id: SessionId, now_ms: u64) -> bool {
        match self.sessions.get(&id) {
            Some(s) if !s.closing => {
                let timeout_ms = s.timeout_ms;
                self.queue.update(id, timeout_ms, now_ms);
                true
            }
            _ => false,
        }
    }

    /// May this session make a request?
    pub fn check(&self, id: SessionId) -> Result<&Session, SessionCheck> {
        usable(self.sessions.get(&id))
    }

    /// [`check`](Self::check), for a change to the session.
    fn open_mut(&mut self, id: SessionId) -> Result<&mut Session, SessionCheck> {
        usable(self.sessions.get_mut(&id))
    }

    // ANCHOR: check_owner
    /// May this session make a request that `owner` passes on? A session nobody claimed yet
    /// becomes `owner`'s; one another server holds has moved (upstream
    /// `SessionTrackerImpl.checkSession(sessionId, owner)`, which the leader's prep calls for
    /// every request but closeSession).
    pub fn check_owner(&mut self, id: SessionId, owner: Sid) -> Result<(), SessionCheck> {
        let session = self.open_mut(id)?;
        match session.owner {
            Some(holder) if holder != owner => Err(SessionCheck::Moved),
            _ => {
                session.owner = Some(owner);
                Ok(())
            }
        }
    }

    /// The session is `owner`'s from now on: it was revalidated there, or created there
    /// (upstream `setOwner`). `false` if it is gone or closing.
    pub fn set_owner(&mut self, id: SessionId, owner: Sid) -> bool {
        match self.open_mut(id) {
            Ok(s) => {
                s.owner = Some(owner);
                true
            }
            Err(_) => false,
        }
    }
    // ANCHOR_END: check_owner

    /// Marks a session as closing: no more requests, no more touches.
    pub fn set_closing(&mut self, id: SessionId) {
        if let Some(s) = self.sessions.get_mut(&id) {
            s.closing = true;
        }
    }

    /// Forgets a session (after its closeSession txn has been applied).
    pub fn remove(&mut self, id: SessionId) -> Option<Session> {
        self.queue.remove(id);
        self.sessions.remove(&id)
    }

    // ANCHOR: expire
    /// Every session whose bucket is due at `now_ms`, marked closing. The caller submits one
    /// closeSession txn for each.
    pub fn expire(&mut self, now_ms: u64) -> Vec<SessionId> {
        let due = self.queue.poll(now_ms);
        for id in &due {
            self.set_closing(*id);
        }
        due
    }
    // ANCHOR_END: expire

    /// When the next bucket falls due: the driver sets its timer for this.
    pub fn next_expiration_ms(&self) -> u64 {
        self.queue.next_expiration_ms
    }

    /// The deadline bucket a session sits in, if tracked.
    pub fn expiry_of(&self, id: SessionId) -> Option<u64> {
        self.queue.deadline.get(&id).copied()
    }

    /// Every tracked session with the deadline of its bucket, in id order (`dump`).
    pub fn deadlines(&self) -> Vec<(SessionId, u64)> {
        self.sessions
            .keys()
            .filter_map(|id| Some((*id, self.expiry_of(*id)?)))
            .collect()
    }

    /// A session by id.
    pub fn get(&self, id: SessionId) -> Option<&Session> {
        self.sessions.get(&id)
    }

    /// How many sessions are tracked (`zk_global_sessions`).
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// True when no session is tracked.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// The tick, ms.
    pub fn tick_time_ms(&self) -> u64 {
        self.tick_time_ms
    }
}

// ANCHOR: expiry_queue
/// Deadlines rounded up to whole ticks, one bucket per deadline (upstream `ExpiryQueue`).
#[derive(Clone, Debug, Hash)]
struct ExpiryQueue {
    interval_ms: u64,
    /// The next bucket `poll` will empty.
    next_expiration_ms: u64,
    deadline: BTreeMap<SessionId, u64>,
    buckets: BTreeMap<u64, BTreeSet<SessionId>>,
}

impl ExpiryQueue {
    fn new(interval_ms: u64, now_ms: u64) -> ExpiryQueue {
        ExpiryQueue {
            interval_ms,
            next_expiration_ms: round_to_next_interval(now_ms, interval_ms),
            deadline: BTreeMap::new(),
            buckets: BTreeMap::new(),
        }
    }

    /// Moves `id` to the bucket of `now + timeout`, rounded up to the next tick.
    fn update(&mut self, id: SessionId, timeout_ms: i32, now_ms: u64) {
        let new = round_to_next_interval(now_ms + timeout_ms.max(0) as u64, self.interval_ms);
        let old = self.deadline.insert(id, new);
        if old == Some(new) {
            return;
        }
        if let Some(old) = old {
            self.leave_bucket(id, old);
        }
        self.buckets.entry(new).or_default().insert(id);
    }

    fn remove(&mut self, id: SessionId) {
        if let Some(old) = self.deadline.remove(&id) {
            self.leave_bucket(id, old);
        }
    }

    fn leave_bucket(&mut self, id: SessionId, at: u64) {
        if let Some(bucket) = self.buckets.get_mut(&at) {
            bucket.remove(&id);
            if bucket.is_empty() {
                self.buckets.remove(&at);
            }
        }
    }

    /// Empties every bucket that is due, one tick at a time, as the tracker thread would have.
    fn poll(&mut self, now_ms: u64) -> Vec<SessionId> {
        let mut due = Vec::new();
        while now_ms >= self.next_expiration_ms {
            if let Some(bucket) = self.buckets.remove(&self.next_expiration_ms) {
                for id in bucket {
                    self.deadline.remove(&id);
                    due.push(id);
                }
            }
            self.next_expiration_ms += self.interval_ms;
        }
        due
    }
}

/// `(time / interval + 1) * interval`: the next tick strictly after `time`.
fn round_to_next_interval(time_ms: u64, interval_ms: u64) -> u64 {
    (time_ms / interval_ms + 1) * interval_ms
}
// ANCHOR_END: expiry_queue

/// A session that exists and is not closing; why not otherwise.
fn usable<S: std::ops::Deref<Target = Session>>(session: Option<S>) -> Result<S, SessionCheck> {
    match session {
        None => Err(SessionCheck::Unknown),
        Some(s) if s.closing => Err(SessionCheck::Expired),
        Some(s) => Ok(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_standalone_server_puts_its_id_in_the_top_byte() {
        // SessionTrackerImpl.initializeNextSessionId; a standalone server uses id 1.
        // Java: ((0x18bc0de1234L << 24) >>> 8) | (1L << 56) == 0x18bc0de12340000
        let id = initial_session_id(STANDALONE_SID, 0x18b_c0de_1234);
        assert_eq!(id, SessionId(0x018b_c0de_1234_0000));
        assert_eq!(id.0 >> 56, 1);
        assert_eq!(id.to_string(), "0x18bc0de12340000");
    }

    #[test]
    fn ids_count_up_from_the_initial_one() {
        let mut tracker = SessionTracker::new(2000, STANDALONE_SID, 1_000_000);
        let first = tracker.create_session(30_000, 1_000_000);
        let second = tracker.create_session(30_000, 1_000_000);
        assert_eq!(first, initial_session_id(STANDALONE_SID, 1_000_000));
        assert_eq!(second.0, first.0 + 1);
    }

    #[test]
    fn the_password_is_java_randoms_bytes_for_the_session_id() {
        // Checked against java.util.Random(0x100000636d30000L ^ 0xB3415C00L).nextBytes(new byte[16]).
        let password = session_password(SessionId(0x100000636d30000));
        assert_eq!(
            password,
            [
                0xef, 0x32, 0x41, 0xe8, 0x50, 0x9b, 0x6e, 0x7a, 0xe5, 0xcc, 0x62, 0xb6, 0x19, 0x44,
                0xe5, 0x7a
            ]
        );
        assert_ne!(password, session_password(SessionId(0x100000636d30001)));
    }

    #[test]
    fn java_random_matches_the_documented_sequence() {
        // new java.util.Random(42).nextInt() == -1170105035 (a well-known value).
        assert_eq!(JavaRandom::new(42).next_int(), -1_170_105_035);
    }

    #[test]
    fn a_deadline_is_rounded_up_to_the_next_tick() {
        // ExpiryQueue.roundToNextInterval: (t / tick + 1) * tick.
        let mut tracker = SessionTracker::new(2000, STANDALONE_SID, 0);
        let id = tracker.create_session(5000, 100);
        assert_eq!(tracker.expiry_of(id), Some(6000));
        let id = tracker.create_session(4000, 0);
        assert_eq!(
            tracker.expiry_of(id),
            Some(6000),
            "an exact tick still moves up one"
        );
    }

    #[test]
    fn a_session_expires_with_its_whole_bucket_at_the_tick() {
        let mut tracker = SessionTracker::new(2000, STANDALONE_SID, 0);
        let a = tracker.create_session(4000, 100);
        let b = tracker.create_session(4000, 1900);
        let c = tracker.create_session(10_000, 0);
        assert_eq!(tracker.expire(5999), vec![]);
        assert_eq!(tracker.expire(6000), vec![a, b]);
        assert_eq!(tracker.check(a), Err(SessionCheck::Expired));
        assert!(tracker.check(c).is_ok());
        assert_eq!(tracker.expire(12_000), vec![c]);
    }

    #[test]
    fn touching_a_session_moves_it_to_a_later_bucket() {
        let mut tracker = SessionTracker::new(2000, STANDALONE_SID, 0);
        let id = tracker.create_session(4000, 0);
        assert!(tracker.touch(id, 3000));
        assert_eq!(tracker.expiry_of(id), Some(8000));
        assert_eq!(tracker.expire(6000), vec![]);
        assert_eq!(tracker.expire(8000), vec![id]);
    }

    #[test]
    fn a_closing_session_cannot_be_touched_back_to_life() {
        let mut tracker = SessionTracker::new(2000, STANDALONE_SID, 0);
        let id = tracker.create_session(4000, 0);
        assert_eq!(tracker.expire(6000), vec![id]);
        assert!(!tracker.touch(id, 6001));
        assert_eq!(tracker.remove(id).map(|s| s.closing), Some(true));
        assert_eq!(tracker.check(id), Err(SessionCheck::Unknown));
    }

    #[test]
    fn a_resumed_session_keeps_the_timeout_of_its_new_connection() {
        let mut tracker = SessionTracker::new(2000, STANDALONE_SID, 0);
        let id = tracker.create_session(4000, 0);
        assert!(tracker.set_timeout(id, 10_000, 1000));
        assert_eq!(tracker.expiry_of(id), Some(12_000));
        assert!(tracker.touch(id, 3000));
        assert_eq!(
            tracker.expiry_of(id),
            Some(14_000),
            "later touches use the new timeout"
        );
    }

    #[test]
    fn a_late_poll_empties_every_bucket_that_fell_due() {
        let mut tracker = SessionTracker::new(1000, STANDALONE_SID, 0);
        let a = tracker.create_session(2000, 0);
        let b = tracker.create_session(5000, 0);
        assert_eq!(tracker.expire(60_000), vec![a, b]);
        assert_eq!(tracker.next_expiration_ms(), 61_000);
    }
}
