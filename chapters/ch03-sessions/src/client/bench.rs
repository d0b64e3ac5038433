//! A load generator: many outstanding requests, throughput and latency.
//!
//! ZooKeeper's throughput comes from pipelining: a client does not wait for
//! one reply before sending the next request, and the server answers each
//! session's requests in order. So the generator opens `connections`
//! sessions and keeps `outstanding` requests in flight on each, then runs
//! three timed phases over the same `requests` nodes: create them, set
//! their data, get their data. Each request's latency is measured from the
//! moment it is handed to the client until its reply arrives; the report
//! gives throughput and the 50th and 99th percentile.
//!
//! It speaks only the wire protocol, so it measures any server: Keeper or
//! a real ZooKeeper.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ch01_znode::Acl;

use super::connection::{Client, ClientConfig, ClientError};

/// What to run.
#[derive(Clone, Debug)]
pub struct BenchConfig {
    pub server: SocketAddr,
    /// Sessions (TCP connections) to open.
    pub connections: usize,
    /// Requests kept in flight on each connection.
    pub outstanding: usize,
    /// Nodes created, then set, then read, in each phase.
    pub requests: usize,
    /// Bytes of data per create and set.
    pub value_size: usize,
    /// The parent node of the benchmark's nodes (created and removed).
    pub root: String,
}

impl Default for BenchConfig {
    fn default() -> Self {
        BenchConfig {
            server: SocketAddr::from(([127, 0, 0, 1], 2181)),
            connections: 4,
            outstanding: 64,
            requests: 50_000,
            value_size: 100,
            root: "/keeper-bench".into(),
        }
    }
}

/// One phase's result.
#[derive(Clone, Debug)]
pub struct OpReport {
    pub op: &'static str,
    pub requests: usize,
    pub errors: usize,
    pub elapsed: Duration,
    /// Every request's latency, sorted ascending.
    pub latencies: Vec<Duration>,
}

impl OpReport {
    /// Completed requests per second.
    pub fn throughput(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// The latency below which `p` percent of requests finished
    /// (nearest-rank).
    pub fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1]
    }

    /// The header of [`OpReport`]'s table row.
    pub const TABLE_HEADER: &'static str = "| op | requests | errors | seconds | ops/s | p50 ms | p99 ms |\n|---|---:|---:|---:|---:|---:|---:|";
}

/// One markdown table row.
impl fmt::Display for OpReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "| {} | {} | {} | {:.2} | {:.0} | {:.3} | {:.3} |",
            self.op,
            self.requests,
            self.errors,
            self.elapsed.as_secs_f64(),
            self.throughput(),
            self.percentile(50.0).as_secs_f64() * 1e3,
            self.percentile(99.0).as_secs_f64() * 1e3
        )
    }
}

#[derive(Clone, Copy)]
enum Phase {
    Create,
    Set,
    Get,
    Delete,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Create => "create",
            Phase::Set => "set",
            Phase::Get => "get",
            Phase::Delete => "delete",
        }
    }
}

/// Runs the three timed phases (create, set, get) and cleans up after.
pub async fn run(config: &BenchConfig) -> Result<Vec<OpReport>, ClientError> {
    let mut clients = Vec::with_capacity(config.connections.max(1));
    for _ in 0..config.connections.max(1) {
        let client_config = ClientConfig {
            max_outstanding: config.outstanding.max(1),
            ..ClientConfig::default()
        };
        let (client, _events) = Client::connect(config.server, client_config).await?;
        clients.push(client);
    }
    let first = &clients[0];
    match first.create(&config.root, b"", Acl::open_unsafe(), 0).await {
        Ok(_) | Err(ClientError::Server(-110)) => {}
        Err(e) => return Err(e),
    }
    let mut reports = Vec::new();
    for phase in [Phase::Create, Phase::Set, Phase::Get] {
        reports.push(run_phase(&clients, config, phase).await);
    }
    run_phase(&clients, config, Phase::Delete).await;
    let _ = first.delete(&config.root, -1).await;
    for client in &clients {
        let _ = client.close().await;
    }
    Ok(reports)
}

async fn run_phase(clients: &[Client], config: &BenchConfig, phase: Phase) -> OpReport {
    let next = Arc::new(AtomicUsize::new(0));
    let value: Arc<[u8]> = vec![b'x'; config.value_size].into();
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for client in clients {
        for _ in 0..config.outstanding.max(1) {
            let (client, next, value) = (client.clone(), next.clone(), value.clone());
            let (root, total) = (config.root.clone(), config.requests);
            workers.spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let path = format!("{root}/n{i:08}");
                    let t = Instant::now();
                    let ok = match phase {
                        Phase::Create => client
                            .create(&path, &value, Acl::open_unsafe(), 0)
                            .await
                            .is_ok(),
                        Phase::Set => client.set_data(&path, &value, -1).await.is_ok(),
                        Phase::Get => client.get_data(&path, false).await.is_ok(),
                        Phase::Delete => client.delete(&path, -1).await.is_ok(),
                    };
                    latencies.push(t.elapsed());
                    errors += usize::from(!ok);
                }
                (latencies, errors)
            });
        }
    }
    let mut latencies = Vec::with_capacity(config.requests);
    let mut errors = 0;
    while let Some(done) = workers.join_next().await {
        if let Ok((l, e)) = done {
            latencies.extend(l);
            errors += e;
        }
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    OpReport {
        op: phase.name(),
        requests: latencies.len(),
        errors,
        elapsed,
        latencies,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(ms: &[u64]) -> OpReport {
        OpReport {
            op: "get",
            requests: ms.len(),
            errors: 0,
            elapsed: Duration::from_secs(2),
            latencies: ms.iter().map(|m| Duration::from_millis(*m)).collect(),
        }
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let r = report(&(1..=100).collect::<Vec<_>>());
        assert_eq!(r.percentile(50.0), Duration::from_millis(50));
        assert_eq!(r.percentile(99.0), Duration::from_millis(99));
        assert_eq!(r.percentile(100.0), Duration::from_millis(100));
    }

    #[test]
    fn throughput_is_requests_over_elapsed_seconds() {
        assert_eq!(report(&[1, 2, 3, 4]).throughput(), 2.0);
    }
}
