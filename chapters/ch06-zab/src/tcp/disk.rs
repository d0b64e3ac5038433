//! The disk on a thread of its own: the main loop hands it the txns to log and goes on
//! reading while they are written and synced.
//!
//! The idea to take away: **a write commits on the first quorum's ACKs, whoever sends
//! them.** A leader that synced its log inside its main loop read nothing meanwhile, so its
//! followers' ACKs waited for the leader's own fdatasync, and every commit waited for the
//! slower of the two. Upstream's leader logs in its `SyncRequestProcessor` thread, and
//! `Leader.processAck` commits as soon as the ACKs in are a quorum: in a three-server
//! ensemble, two followers suffice, and the leader's own sync is not on the path. A
//! follower's main thread (`Follower.processPacket`) likewise goes on reading PROPOSALs and
//! COMMITs while its sync thread writes, and `SendAckRequestProcessor` ACKs after each
//! flush. Here the peer already asks for its appends ([`Output::Append`]) and is told when
//! they are durable ([`Input::Logged`]); the thread is only where the answer comes from.
//!
//! The thread owns the [`Storage`] and works through one ordered queue:
//!
//! - **appends**: each turn's txns come as one batch; the thread appends what is queued, syncs
//!   once for all of it when the queue runs dry (or after [`GROUP_TXNS`] txns, upstream's
//!   `zookeeper.maxBatchSize`), and reports every zxid logged ([`DiskThread::take`]): a group
//!   commit, as `SyncRequestProcessor.flush`;
//! - **loans**: whatever else the peer asks of the disk (epochs, a TRUNC, snapshots) the main
//!   loop does itself, on the storage the thread lends it at that point of the queue
//!   ([`DiskThread::borrow`]). A loan comes after every append queued before it and before
//!   every append queued after it, so a log roll or a cut falls exactly where the peer asked
//!   for it. The epochs must be on disk before anything after them is done, and a TRUNC's
//!   answer is the rebuilt database, so the loop waits for those loans: they come once per
//!   election or sync. A fuzzy snapshot's slices walk the live database, which only the loop
//!   may read; each asks for a loan without waiting ([`DiskThread::ask`]) and is walked when
//!   the storage arrives.
//!
//! A disk error ends the thread; the loop hears of it at its next look ([`DiskThread::take`],
//! [`DiskThread::borrow`]) and stops the server with it, as upstream's
//! `SyncRequestProcessor` stops the server when its log cannot be written.

use std::collections::VecDeque;
use std::io;
use std::mem;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use ch01_znode::Zxid;
use tokio::sync::Notify;

use crate::storage::Storage;
use crate::txn_codec::TxnEntry;

#[cfg(doc)]
use crate::peer::{Input, Output};

/// Requests (a turn's appends, a loan) queued for the disk thread; the main loop waits when
/// this many are queued, so a disk that cannot keep up slows the server down instead of
/// filling its memory.
pub const DISK_QUEUE: usize = 1024;

/// Txns appended at most before the thread syncs, even if more are queued: upstream's
/// `zookeeper.maxBatchSize` default, so an append waits for at most this many others.
pub const GROUP_TXNS: usize = 1000;

/// What the main loop asks of the disk thread, in order.
enum Request<S> {
    /// One turn's appends.
    Append(Vec<Arc<TxnEntry>>),
    /// Hand the storage over, after everything queued before this.
    Lend,
    /// The storage back from a loan. Appends not synced yet that come after `cut` were cut
    /// from the log (a TRUNC): they are never reported logged.
    Return { storage: S, cut: Option<Zxid> },
}

/// What the disk thread has for the main loop, taken all at once.
struct Answers<S> {
    /// Synced since the last look, in the order appended.
    logged: Vec<Zxid>,
    /// Lent, not picked up yet.
    lent: Option<S>,
    /// Loans asked for earlier that the thread is to pass by: the loop has asked again
    /// further on ([`DiskThread::borrow`]).
    passed: usize,
    /// Why the thread stopped, once it has.
    failed: Option<io::Error>,
    /// The thread is gone.
    ended: bool,
}

/// The disk thread's side of the answers, and the two ways the loop is woken.
struct Shared<S> {
    answers: Mutex<Answers<S>>,
    /// Wakes a loop that waits for a loan (it blocks its thread: [`DiskThread::borrow`]).
    changed: Condvar,
    /// Wakes the loop's task ([`DiskThread::ready`]).
    ready: Arc<Notify>,
}

impl<S> Shared<S> {
    fn lock(&self) -> MutexGuard<'_, Answers<S>> {
        self.answers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn tell(&self, answer: impl FnOnce(&mut Answers<S>)) {
        answer(&mut self.lock());
        self.changed.notify_all();
        self.ready.notify_one();
    }

    /// Lends `storage` to the loop; it comes back at once if the loop has since asked for
    /// a later loan instead.
    fn lend(&self, storage: S) -> Option<S> {
        let mut answers = self.lock();
        if answers.passed > 0 {
            answers.passed -= 1;
            return Some(storage);
        }
        answers.lent = Some(storage);
        drop(answers);
        self.changed.notify_all();
        self.ready.notify_one();
        None
    }
}

/// What [`DiskThread::take`] found.
pub struct Taken<S> {
    /// Txns now durable, in the order appended: each is an [`Input::Logged`].
    pub logged: Vec<Zxid>,
    /// The storage, lent as [`DiskThread::ask`] asked: give it back soon
    /// ([`DiskThread::give_back`]), since the thread appends nothing meanwhile.
    pub lent: Option<S>,
}

// ANCHOR: disk_thread
/// The main loop's handle on the disk thread. Dropping it stops the thread once its current
/// write is over.
pub struct DiskThread<S> {
    requests: Option<SyncSender<Request<S>>>,
    shared: Arc<Shared<S>>,
    thread: Option<JoinHandle<()>>,
    /// This turn's appends, handed over together at its end ([`DiskThread::hand_over`]).
    turn: Vec<Arc<TxnEntry>>,
    /// A loan was asked for and has not been picked up.
    asked: bool,
}

impl<S: Storage> DiskThread<S> {
    /// Starts the thread that owns `storage` from now on.
    pub fn start(storage: S) -> io::Result<DiskThread<S>> {
        let (requests, queue) = sync_channel(DISK_QUEUE);
        let shared = Arc::new(Shared {
            answers: Mutex::new(Answers {
                logged: Vec::new(),
                lent: None,
                passed: 0,
                failed: None,
                ended: false,
            }),
            changed: Condvar::new(),
            ready: Arc::new(Notify::new()),
        });
        let theirs = shared.clone();
        let thread = std::thread::Builder::new()
            .name("disk".into())
            .spawn(move || {
                let stopped = write(storage, &queue, &theirs);
                theirs.tell(|a| {
                    a.failed = stopped.err();
                    a.ended = true;
                });
            })?;
        Ok(DiskThread {
            requests: Some(requests),
            shared,
            thread: Some(thread),
            turn: Vec::new(),
            asked: false,
        })
    }

    /// Completes whenever the thread may have something to say: await it, then
    /// [`DiskThread::take`]. (A handle, so the loop can await it while it lends itself out.)
    pub fn ready(&self) -> Arc<Notify> {
        self.shared.ready.clone()
    }

    /// Queues `entry` for this turn's batch.
    pub fn append(&mut self, entry: Arc<TxnEntry>) {
        self.turn.push(entry);
    }

    /// Hands the turn's appends to the thread: the end of a turn, once its packets are on
    /// their way (a leader's PROPOSALs leave before its own write begins).
    pub fn hand_over(&mut self) -> io::Result<()> {
        if self.turn.is_empty() {
            return Ok(());
        }
        let batch = mem::take(&mut self.turn);
        self.send(Request::Append(batch))
    }

    /// What the thread has said since the last look; `Err` if it stopped.
    pub fn take(&mut self) -> io::Result<Taken<S>> {
        let mut answers = self.shared.lock();
        let lent = answers.lent.take();
        if lent.is_some() {
            self.asked = false;
        }
        let logged = mem::take(&mut answers.logged);
        if let Some(e) = stopped(&mut answers) {
            return Err(e);
        }
        Ok(Taken { logged, lent })
    }

    /// Asks for a loan at this point of the queue, without waiting: it comes with a later
    /// [`DiskThread::take`].
    pub fn ask(&mut self) -> io::Result<()> {
        if self.asked {
            return Ok(());
        }
        self.hand_over()?;
        self.send(Request::Lend)?;
        self.asked = true;
        Ok(())
    }

    /// The storage, once everything asked of it so far is done, and the txns logged before
    /// (to report first); the caller waits. Give it back with [`DiskThread::give_back`].
    pub fn borrow(&mut self) -> io::Result<(Vec<Zxid>, S)> {
        if self.asked {
            // The loan asked for earlier sits before this turn's appends, and the storage is
            // wanted after them, so that the disk sees what the peer asked in the order it
            // asked: the thread is to pass that loan by or, if it has lent it already, the
            // storage goes back unused. Either way, one wait.
            let early = {
                let mut answers = self.shared.lock();
                let early = answers.lent.take();
                answers.passed += usize::from(early.is_none());
                early
            };
            self.asked = false;
            if let Some(storage) = early {
                self.give_back(storage, None)?;
            }
        }
        self.ask()?;
        self.wait_for_loan()
    }

    /// Ends a loan; `cut` is the zxid a TRUNC cut the log after, if it did.
    pub fn give_back(&mut self, storage: S, cut: Option<Zxid>) -> io::Result<()> {
        self.send(Request::Return { storage, cut })
    }

    fn wait_for_loan(&mut self) -> io::Result<(Vec<Zxid>, S)> {
        let mut answers = self.shared.lock();
        loop {
            if let Some(storage) = answers.lent.take() {
                self.asked = false;
                return Ok((mem::take(&mut answers.logged), storage));
            }
            if let Some(e) = stopped(&mut answers) {
                return Err(e);
            }
            answers = self
                .shared
                .changed
                .wait(answers)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn send(&mut self, request: Request<S>) -> io::Result<()> {
        let sent = match &self.requests {
            Some(requests) => requests.send(request).is_ok(),
            None => false,
        };
        if sent {
            return Ok(());
        }
        // The thread is gone: it says why.
        let mut answers = self.shared.lock();
        while !answers.ended {
            answers = self
                .shared
                .changed
                .wait(answers)
                .unwrap_or_else(PoisonError::into_inner);
        }
        Err(stopped(&mut answers).unwrap_or_else(ended))
    }
}
// ANCHOR_END: disk_thread

impl<S> Drop for DiskThread<S> {
    fn drop(&mut self) {
        // Closing the queue ends the thread after its current write; a server stopped and
        // started again on the same files must not find the old one still writing.
        self.requests = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The error to stop with, once the thread has stopped (a disk error, or why not).
fn stopped<S>(answers: &mut Answers<S>) -> Option<io::Error> {
    if let Some(e) = answers.failed.take() {
        // Later looks still see a stopped thread.
        answers.ended = true;
        return Some(e);
    }
    answers.ended.then(ended)
}

fn ended() -> io::Error {
    io::Error::other("the disk thread ended")
}

// ANCHOR: write
/// The thread: appends what is queued, syncs once for the lot when the queue runs dry,
/// reports it logged, and waits for more; lends the storage where the queue says to.
/// Returns when the main loop is gone, or with the disk's error.
fn write<S: Storage>(
    mut storage: S,
    queue: &Receiver<Request<S>>,
    shared: &Shared<S>,
) -> io::Result<()> {
    let mut unsynced: Vec<Zxid> = Vec::new();
    // Appends queued while the storage was lent, in order.
    let mut waiting: VecDeque<Request<S>> = VecDeque::new();
    loop {
        let next = match waiting.pop_front() {
            Some(request) => Some(request),
            // Nothing left to append: make it durable, then wait for more.
            None if unsynced.is_empty() => queue.recv().ok(),
            None => queue.try_recv().ok(),
        };
        match next {
            Some(Request::Append(batch)) => {
                for entry in batch {
                    storage.append(&entry)?;
                    unsynced.push(entry.txn.zxid);
                }
                if unsynced.len() < GROUP_TXNS {
                    continue;
                }
            }
            Some(Request::Lend) => {
                if let Some(passed) = shared.lend(storage) {
                    storage = passed;
                    continue;
                }
                storage = loop {
                    match queue.recv() {
                        Ok(Request::Return { storage, cut }) => {
                            if let Some(cut) = cut {
                                unsynced.retain(|z| *z <= cut);
                            }
                            break storage;
                        }
                        Ok(request) => waiting.push_back(request),
                        // The loop is gone, with the storage.
                        Err(_) => return Ok(()),
                    }
                };
                continue;
            }
            Some(Request::Return { .. }) => unreachable!("a loan is returned while lent"),
            None if unsynced.is_empty() => return Ok(()),
            None => {}
        }
        storage.sync()?;
        let synced = mem::take(&mut unsynced);
        shared.tell(|a| a.logged.extend(synced));
    }
}
// ANCHOR_END: write

#[cfg(test)]
mod tests {
    use super::*;
    use ch01_znode::{Epoch, TxnOp};
    use ch03_sessions::pipeline::Database;
    use std::time::Duration;

    use crate::peer::{Epochs, Recovered};

    /// A storage that writes down what it is asked, in order; its syncs fail once `broken`,
    /// and its appends wait while the test holds `gate`.
    #[derive(Clone, Default)]
    struct Recorder {
        calls: Arc<Mutex<Vec<String>>>,
        broken: bool,
        gate: Arc<Mutex<()>>,
    }

    impl Recorder {
        fn note(&self, call: String) {
            self.calls.lock().unwrap().push(call);
        }
        fn calls(&self) -> Vec<String> {
            self.calls.lock().unwrap().clone()
        }
    }

    impl Storage for Recorder {
        fn recover(&mut self, _recent: usize) -> io::Result<Recovered> {
            unreachable!("the thread never recovers")
        }
        fn save_epochs(&mut self, epochs: Epochs) -> io::Result<()> {
            self.note(format!("epochs {}", epochs.current.0));
            Ok(())
        }
        fn append(&mut self, entry: &TxnEntry) -> io::Result<()> {
            drop(self.gate.lock().unwrap());
            self.note(format!("append {}", entry.txn.zxid.0));
            Ok(())
        }
        fn sync(&mut self) -> io::Result<()> {
            if self.broken {
                return Err(io::Error::other("the disk is full"));
            }
            self.note("sync".into());
            Ok(())
        }
        fn truncate(&mut self, _zxid: Zxid, _recent: usize) -> io::Result<Option<Recovered>> {
            unreachable!("not asked here")
        }
        fn sync_snapshot(&mut self, _db: &Database) -> io::Result<()> {
            unreachable!("not asked here")
        }
        fn begin_snapshot(&mut self, _db: &Database) -> io::Result<bool> {
            unreachable!("not asked here")
        }
    }

    fn entry(zxid: i64) -> Arc<TxnEntry> {
        Arc::new(TxnEntry::new(crate::arb::txn_at(
            zxid,
            TxnOp::Delete { path: "/a".into() },
        )))
    }

    /// Looks at what the thread says each time it says something, until `look` has an
    /// answer (boundedly).
    fn until<T>(
        disk: &mut DiskThread<Recorder>,
        mut look: impl FnMut(io::Result<Taken<Recorder>>) -> Option<T>,
    ) -> T {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let ready = disk.ready();
        runtime.block_on(async {
            loop {
                let woken = tokio::time::timeout(Duration::from_secs(60), ready.notified());
                woken.await.expect("the disk thread answers in time");
                if let Some(answer) = look(disk.take()) {
                    return answer;
                }
            }
        })
    }

    /// A loan comes after every append queued before it and before every append queued
    /// after it, so epochs (or a log roll, a cut) fall where the peer asked for them; and
    /// every append is reported logged once, in order, after a sync that covers it.
    #[test]
    fn a_loan_falls_between_the_appends_queued_before_and_after_it() {
        let recorder = Recorder::default();
        let mut disk = DiskThread::start(recorder.clone()).unwrap();
        disk.append(entry(1));
        disk.append(entry(2));
        let (mut logged, mut storage) = disk.borrow().unwrap();
        let epochs = Epochs {
            accepted: Epoch(2),
            current: Epoch(2),
        };
        storage.save_epochs(epochs).unwrap();
        disk.give_back(storage, None).unwrap();
        disk.append(entry(3));
        disk.hand_over().unwrap();
        until(&mut disk, |taken| {
            logged.extend(taken.expect("the disk works").logged);
            logged.contains(&Zxid(3)).then_some(())
        });
        assert_eq!(logged, [Zxid(1), Zxid(2), Zxid(3)]);

        let calls = recorder.calls();
        let at = |call: &str| calls.iter().position(|c| c == call).expect(call);
        assert!(at("append 2") < at("epochs 2") && at("epochs 2") < at("append 3"));
        let last_sync = calls.iter().rposition(|c| c == "sync").unwrap();
        assert!(at("append 3") < last_sync, "{calls:?}");
    }

    /// A disk that cannot sync stops the thread, and the loop hears the disk's own error
    /// (as upstream's SyncRequestProcessor, whose failure stops the server).
    #[test]
    fn a_failed_sync_stops_the_thread_with_the_disks_error() {
        let recorder = Recorder {
            broken: true,
            ..Recorder::default()
        };
        let mut disk = DiskThread::start(recorder).unwrap();
        disk.append(entry(1));
        disk.hand_over().unwrap();
        let err = until(&mut disk, Result::err);
        assert_eq!(err.to_string(), "the disk is full");
        assert_eq!(
            disk.borrow().map(|_| ()).unwrap_err().to_string(),
            "the disk thread ended"
        );
        let again = disk.take().map(|_| ()).unwrap_err();
        assert_eq!(again.to_string(), "the disk thread ended");
    }

    /// A borrow after an ask the thread has not reached yet is one loan, not two: the loan
    /// asked for earlier fell before this turn's appends, so the thread passes it by and
    /// lends the storage once, after them.
    #[test]
    fn a_borrow_after_an_unanswered_ask_waits_for_one_loan() {
        let recorder = Recorder::default();
        let held = recorder.gate.lock().unwrap();
        let mut disk = DiskThread::start(recorder.clone()).unwrap();
        let shared = disk.shared.clone();
        // The thread stops in the append of 1, ahead of the loan asked for behind it.
        disk.append(entry(1));
        disk.ask().unwrap();
        disk.append(entry(2));
        let storage = std::thread::scope(|scope| {
            let borrowed = scope.spawn(|| disk.borrow());
            let asked = std::time::Instant::now();
            while shared.lock().passed == 0 {
                let waited = asked.elapsed();
                assert!(
                    waited < Duration::from_secs(60),
                    "the early loan is passed by"
                );
                std::thread::yield_now();
            }
            drop(held);
            let (logged, storage) = borrowed.join().unwrap().unwrap();
            assert!([&[][..], &[Zxid(1)], &[Zxid(1), Zxid(2)]].contains(&&logged[..]));
            let calls = recorder.calls();
            assert!(
                calls.contains(&"append 2".into()),
                "after the turn: {calls:?}"
            );
            assert_eq!(
                shared.lock().passed,
                0,
                "the thread passed the early loan by"
            );
            storage
        });
        disk.give_back(storage, None).unwrap();
    }
}
