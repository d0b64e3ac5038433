//! A connection's outbound queue: the frames the core hands over, in order, for the
//! connection task to write.
//!
//! The idea to take away: **an idle connection's queue is empty, so it should cost nothing.**
//! tokio's bounded `mpsc` channel would do the job, but it allocates its whole shared state up
//! front: the channel itself (its fields padded to cache lines, 512 bytes) and a first block of
//! 32 slots (800 bytes), about 1.3 KiB for every connection, used or not, which was a third of
//! what a held idle session cost. The queue here is a `VecDeque` behind a mutex, which
//! allocates only when a frame is queued, the waker of the task waiting on it, and the count
//! of bytes not yet written: under a hundred bytes while it is empty. Waiting on it is a
//! `poll` function rather than an `async fn`, so the connection task does not carry a
//! waiting-list node for it either.
//!
//! It keeps the rules the core relies on: it is bounded ([`OUTBOUND_QUEUE_FRAMES`] frames; the
//! bytes are bounded by the core, which reads [`OutboxSender::queued_bytes`]), a full queue
//! refuses the frame instead of waiting, a queue whose task has ended refuses everything, and
//! the task sees the end of the queue once the core drops its end.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use super::core::Outbound;
use super::OUTBOUND_QUEUE_FRAMES;

/// What both ends share.
struct Shared {
    queue: Mutex<Queue>,
    /// Bytes handed over and not yet written.
    queued_bytes: AtomicUsize,
}

struct Queue {
    frames: VecDeque<Outbound>,
    /// The core dropped its end: no more frames will come.
    sender_gone: bool,
    /// The task ended: nothing queued will be written.
    receiver_gone: bool,
    /// The task, if it waits for a frame: woken when one is queued or the core lets go.
    waiting: Option<Waker>,
}

impl Shared {
    /// The queue; a panic while it was held leaves it usable (nothing in it is half-done).
    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The core's end.
pub struct OutboxSender(Arc<Shared>);

/// The connection task's end.
pub struct OutboxReceiver(Arc<Shared>);

/// Why a frame was not queued.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// [`OUTBOUND_QUEUE_FRAMES`] frames wait already: the client is not reading.
    Full,
    /// The connection task has ended.
    Closed,
}

/// A new, empty queue: it allocates nothing for frames until one is queued.
pub fn outbox() -> (OutboxSender, OutboxReceiver) {
    let shared = Arc::new(Shared {
        queue: Mutex::new(Queue {
            frames: VecDeque::new(),
            sender_gone: false,
            receiver_gone: false,
            waiting: None,
        }),
        queued_bytes: AtomicUsize::new(0),
    });
    (OutboxSender(shared.clone()), OutboxReceiver(shared))
}

impl OutboxSender {
    /// Queues `out` without waiting, and counts its bytes as not yet written.
    pub fn try_send(&self, out: Outbound) -> Result<(), Refused> {
        let bytes = match &out {
            Outbound::Frame(frame) => frame.len(),
            Outbound::Close => 0,
        };
        let waiting = {
            let mut queue = self.0.queue();
            if queue.receiver_gone {
                return Err(Refused::Closed);
            }
            if queue.frames.len() >= OUTBOUND_QUEUE_FRAMES {
                return Err(Refused::Full);
            }
            queue.frames.push_back(out);
            self.0.queued_bytes.fetch_add(bytes, Ordering::Relaxed);
            queue.waiting.take()
        };
        // Woken outside the lock; a task not waiting yet finds the frame when it looks.
        if let Some(task) = waiting {
            task.wake();
        }
        Ok(())
    }

    /// Bytes queued and not yet written by the task. Zero means the task has written every byte handed to it (its count is taken off with
    /// `Release` once written, read here with `Acquire`), so the core may write to the
    /// socket itself without overtaking them.
    pub fn queued_bytes(&self) -> usize {
        self.0.queued_bytes.load(Ordering::Acquire)
    }

    /// Whether the task has ended.
    pub fn is_closed(&self) -> bool {
        self.0.queue().receiver_gone
    }
}

impl Drop for OutboxSender {
    fn drop(&mut self) {
        let waiting = {
            let mut queue = self.0.queue();
            queue.sender_gone = true;
            queue.waiting.take()
        };
        if let Some(task) = waiting {
            task.wake();
        }
    }
}

impl OutboxReceiver {
    /// The next frame; `None` once the queue is empty and the core has let go. Safe to
    /// cancel (as in a `select!`): a frame leaves the queue only when this returns it.
    pub fn recv(&mut self) -> impl Future<Output = Option<Outbound>> + '_ {
        std::future::poll_fn(|cx| self.poll_recv(cx))
    }

    /// The next frame if there is one (or the end), else the task waits to be woken.
    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Outbound>> {
        let mut queue = self.0.queue();
        if let Some(out) = queue.frames.pop_front() {
            // An emptied queue gives its memory back: most connections are idle.
            if queue.frames.is_empty() {
                queue.frames = VecDeque::new();
            }
            return Poll::Ready(Some(out));
        }
        if queue.sender_gone {
            return Poll::Ready(None);
        }
        match &mut queue.waiting {
            Some(task) if task.will_wake(cx.waker()) => {}
            waiting => *waiting = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// The task wrote `bytes` of what was queued.
    pub fn written(&self, bytes: usize) {
        self.0.queued_bytes.fetch_sub(bytes, Ordering::Release);
    }
}

impl Drop for OutboxReceiver {
    fn drop(&mut self) {
        let mut queue = self.0.queue();
        queue.receiver_gone = true;
        // What was queued will never be written: let it go now, not when the core lets go.
        queue.frames = VecDeque::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(bytes: &[u8]) -> Outbound {
        Outbound::Frame(bytes.to_vec())
    }

    fn written(out: Option<Outbound>) -> Option<Vec<u8>> {
        match out? {
            Outbound::Frame(bytes) => Some(bytes),
            Outbound::Close => Some(b"close".to_vec()),
        }
    }

    #[tokio::test]
    async fn frames_arrive_in_order_and_their_bytes_are_counted_until_written() {
        let (tx, mut rx) = outbox();
        tx.try_send(frame(b"one")).unwrap();
        tx.try_send(frame(b"three")).unwrap();
        assert_eq!(tx.queued_bytes(), 8);
        assert_eq!(written(rx.recv().await).unwrap(), b"one");
        rx.written(3);
        assert_eq!(written(rx.recv().await).unwrap(), b"three");
        rx.written(5);
        assert_eq!(tx.queued_bytes(), 0);
    }

    #[tokio::test]
    async fn the_task_is_woken_by_a_frame_queued_while_it_waits() {
        let (tx, mut rx) = outbox();
        let task = tokio::spawn(async move { written(rx.recv().await) });
        tokio::task::yield_now().await;
        tx.try_send(frame(b"late")).unwrap();
        assert_eq!(task.await.unwrap().unwrap(), b"late");
    }

    #[tokio::test]
    async fn the_task_sees_what_was_queued_then_the_end_when_the_core_lets_go() {
        let (tx, mut rx) = outbox();
        tx.try_send(frame(b"last")).unwrap();
        tx.try_send(Outbound::Close).unwrap();
        drop(tx);
        assert_eq!(written(rx.recv().await).unwrap(), b"last");
        assert_eq!(written(rx.recv().await).unwrap(), b"close");
        assert!(rx.recv().await.is_none());
    }

    #[test]
    fn a_full_queue_refuses_and_an_ended_task_refuses_everything() {
        let (tx, rx) = outbox();
        for _ in 0..OUTBOUND_QUEUE_FRAMES {
            tx.try_send(frame(b"x")).unwrap();
        }
        assert_eq!(tx.try_send(frame(b"x")), Err(Refused::Full));
        assert!(!tx.is_closed());
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(tx.try_send(frame(b"x")), Err(Refused::Closed));
    }
}
