//! When does an ensemble take writes again? A client that keeps trying, as an application
//! does, and the moment its first write succeeds.
//!
//! The same client for both programs, chapter 3's ([`Client`]): every attempt opens a new
//! session (which is itself a write: createSession goes through the quorum) and creates a
//! node, each step bounded by [`ATTEMPT`], and a failed attempt is tried again after
//! [`RETRY`]. A server that is not serving refuses the connection or closes it at once (both
//! programs do), so the retry pause is the resolution of the figure.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ch01_znode::Acl;
use ch03_sessions::client::connection::{Client, ClientConfig};

/// The longest one connect, or one write, may take before the attempt counts as failed.
const ATTEMPT: Duration = Duration::from_secs(1);
/// The pause after a failed attempt: the figures' resolution.
const RETRY: Duration = Duration::from_millis(5);

fn config() -> ClientConfig {
    ClientConfig {
        // Two ticks of the benches' tickTime: the shortest both servers grant, so the sessions
        // the probes leave behind go soon.
        session_timeout_ms: 4_000,
        connect_timeout: ATTEMPT,
        ..ClientConfig::default()
    }
}

/// A session with `server`, or `None` if it does not serve within [`ATTEMPT`].
async fn session(server: SocketAddr) -> Option<Client> {
    Client::connect(server, config()).await.ok().map(|(c, _)| c)
}

/// Creates `path` through `client`, bounded by [`ATTEMPT`]; whether it succeeded.
async fn create(client: &Client, path: &str) -> bool {
    let created = client.create(path, b"", Acl::open_unsafe(), 0);
    matches!(tokio::time::timeout(ATTEMPT, created).await, Ok(Ok(_)))
}

/// The instant the first write through any of `servers` succeeded, trying each server
/// from a task of its own until one does; an error after `bound`.
pub async fn first_write(servers: &[SocketAddr], bound: Duration) -> Result<Instant, String> {
    let (done, mut first) = tokio::sync::mpsc::channel(servers.len());
    let mut tasks = tokio::task::JoinSet::new();
    for (s, server) in servers.iter().copied().enumerate() {
        let done = done.clone();
        tasks.spawn(async move {
            for attempt in 0.. {
                if let Some(client) = session(server).await {
                    if create(&client, &format!("/cold-start-{s}-{attempt}")).await {
                        let _ = done.send(Instant::now()).await;
                        return;
                    }
                }
                tokio::time::sleep(RETRY).await;
            }
        });
    }
    let first = tokio::time::timeout(bound, first.recv()).await;
    // Dropping the set stops the other servers' tasks.
    drop(tasks);
    match first {
        Ok(Some(at)) => Ok(at),
        _ => Err(format!("no write succeeded within {bound:?}")),
    }
}

/// A client writing through one server for as long as it lives, one write at a time,
/// reconnecting whenever its connection fails; it reports every successful write.
pub struct Writer {
    stop: Arc<AtomicBool>,
    /// When each successful write was sent, and when its reply came.
    successes: mpsc::Receiver<(Instant, Instant)>,
    task: tokio::task::JoinHandle<()>,
}

impl Writer {
    /// Starts writing through `server`, creating `prefix-0`, `prefix-1`, ...
    pub fn start(runtime: &tokio::runtime::Handle, server: SocketAddr, prefix: String) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let (report, successes) = mpsc::channel();
        let stopped = stop.clone();
        let task = runtime.spawn(async move {
            let mut next = 0u64;
            while !stopped.load(Ordering::Relaxed) {
                let Some(client) = session(server).await else {
                    tokio::time::sleep(RETRY).await;
                    continue;
                };
                while !stopped.load(Ordering::Relaxed) {
                    let sent = Instant::now();
                    next += 1;
                    if !create(&client, &format!("{prefix}-{next}")).await {
                        break;
                    }
                    if report.send((sent, Instant::now())).is_err() {
                        return;
                    }
                }
            }
        });
        Writer {
            stop,
            successes,
            task,
        }
    }

    /// Waits, at most `bound`, until `n` writes have succeeded: the steady load is on.
    pub fn steady(&self, n: usize, bound: Duration) -> Result<(), String> {
        let deadline = Instant::now() + bound;
        for _ in 0..n {
            let left = deadline.saturating_duration_since(Instant::now());
            self.successes
                .recv_timeout(left)
                .map_err(|_| format!("fewer than {n} writes succeeded within {bound:?}"))?;
        }
        Ok(())
    }

    /// The reply time of the first write sent at or after `since` that succeeded, waiting
    /// at most `bound`. (A write in flight at `since` may still succeed: it was committed
    /// before, and does not count.)
    pub fn first_after(&self, since: Instant, bound: Duration) -> Result<Instant, String> {
        let deadline = since + bound;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.successes.recv_timeout(left) {
                Ok((sent, replied)) if sent >= since => return Ok(replied),
                Ok(_) => continue,
                Err(_) => return Err(format!("no write succeeded within {bound:?}")),
            }
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.task.abort();
    }
}
