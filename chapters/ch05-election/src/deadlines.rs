//! A driver's timers: each `SetTimer` output becomes a deadline on tokio's clock.
//!
//! The cores of this book never wait: they say "wake me in `after_ms`" (a timer output) and
//! take the wake-up as an input. A driver over real sockets keeps those requests here,
//! sleeps until the earliest ([`Deadlines::next`]), and feeds back what is due
//! ([`Deadlines::take_due`]). Setting a timer again moves it; cancelling one forgets it.

use std::time::Duration;
use tokio::time::Instant;

/// The armed timers of one core, at most one deadline per timer.
#[derive(Clone, Debug)]
pub struct Deadlines<T> {
    armed: Vec<(T, Instant)>,
}

impl<T> Default for Deadlines<T> {
    fn default() -> Self {
        Deadlines { armed: Vec::new() }
    }
}

impl<T: Copy + PartialEq> Deadlines<T> {
    /// Arms `timer` to go off `after_ms` from now (replacing its earlier deadline).
    pub fn set(&mut self, timer: T, after_ms: u64) {
        self.cancel(timer);
        let at = Instant::now() + Duration::from_millis(after_ms);
        self.armed.push((timer, at));
    }

    /// Disarms `timer`.
    pub fn cancel(&mut self, timer: T) {
        self.armed.retain(|(t, _)| *t != timer);
    }

    /// The earliest deadline, if any timer is armed.
    pub fn next(&self) -> Option<Instant> {
        self.armed.iter().map(|(_, at)| *at).min()
    }

    /// The timers whose deadline has passed, in the order they were armed; they are disarmed.
    pub fn take_due(&mut self) -> Vec<T> {
        let now = Instant::now();
        let due = self
            .armed
            .iter()
            .filter(|(_, at)| *at <= now)
            .map(|(t, _)| *t)
            .collect();
        self.armed.retain(|(_, at)| *at > now);
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR_MS: u64 = 3_600_000;

    #[test]
    fn a_timer_set_again_moves_and_a_cancelled_one_never_fires() {
        let mut d = Deadlines::default();
        d.set('a', HOUR_MS);
        d.set('b', 0);
        d.set('a', 0);
        d.set('c', 0);
        d.cancel('c');
        d.set('d', HOUR_MS);
        assert!(d.next().is_some_and(|at| at <= Instant::now()));
        assert_eq!(d.take_due(), vec!['b', 'a']);
        assert_eq!(d.take_due(), Vec::<char>::new());
        assert!(
            d.next().is_some_and(|at| at > Instant::now()),
            "d is still armed"
        );
        d.cancel('d');
        assert_eq!(d.next(), None);
    }
}
