//! The tokio server: sockets around the pipeline.
//!
//! The idea to take away: all of ZooKeeper's decisions live in the sans-IO
//! [`Pipeline`](crate::pipeline::Pipeline); this module only moves bytes. Its shape:
//!
//! ```text
//!   accept loop ──spawn──► connection task (one per client)      core task (one)
//!   (maxClientCnxns        reads frames, decodes, ───Input───►   owns the Pipeline,
//!    per address)          writes what it is sent ◄──frames───   routes its Outputs
//! ```
//!
//! - **One task per connection** reads that client's frames in order and forwards them to the
//!   **core task**, which owns the pipeline and so sees every request in one order, exactly as
//!   upstream's single `PrepRequestProcessor` thread does. Replies of one session therefore
//!   leave in request order.
//! - **A slow client never stalls the others.** The core never waits on a connection: each
//!   connection has a bounded outbound queue ([`OUTBOUND_QUEUE_FRAMES`] frames and at most
//!   [`OUTBOUND_QUEUE_BYTES`] bytes not yet written) that the core fills with `try_send`. When
//!   a client stops reading and its queue is full, the server closes *that* connection (its
//!   session survives until its timeout, so the client can reconnect and resume). Inbound, the queue to the core is bounded too
//!   ([`INBOUND_QUEUE`]): a flood of requests waits on its own connection's socket.
//! - **Limits**: a frame longer than `jute.maxbuffer`, a negative length, or bytes that are not a
//!   ConnectRequest on a new connection close that connection (upstream
//!   `NIOServerCnxn.readLength`); more than `maxClientCnxns` connections from one address are
//!   refused at accept (`NIOServerCnxnFactory`, "Too many connections").
//! - **Four-letter words** are recognised in the first four bytes of a new connection.
//! - **Time**: the core wakes at each tick bucket the session tracker reports, and passes the
//!   wall clock to the pipeline as `now_ms`.
//!
//! The accept loop, the connection tasks and the core's bookkeeping of its clients
//! ([`Clients`]) do not care what the core's brain is: chapter 6's quorum peer serves its
//! client port with the same pieces ([`accept_clients`], [`ToCore`], [`Clients`]) around a
//! core of its own.

mod clients;
mod connection;
mod core;
mod host;
mod outbox;
mod stats;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::config::{Whitelist, ZooCfg};
use crate::fourlw::FourLetterWord;
use crate::pipeline::standalone::TxnLog;
use crate::pipeline::{Database, Limits};

pub use self::clients::{About, Clients};
pub use self::connection::{to_input, write_all};
pub use self::core::{now_ms, Outbound, ToCore, VERSION};
pub use self::outbox::{outbox, OutboxReceiver, OutboxSender, Refused};

/// Frames queued for one client before the server gives up on it.
pub const OUTBOUND_QUEUE_FRAMES: usize = 4096;
/// Bytes queued for one client and not yet written before the server gives up on it.
pub const OUTBOUND_QUEUE_BYTES: usize = 16 << 20;
/// How long a new connection may take to send its ConnectRequest.
pub const SESSIONLESS_CNXN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Messages queued from all connections to the core.
pub const INBOUND_QUEUE: usize = 1024;

/// Everything the server needs from `zoo.cfg`.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Where to listen (`clientPortAddress:clientPort`; port 0 picks a free one).
    pub listen: SocketAddr,
    /// `tickTime`, ms.
    pub tick_time_ms: u32,
    /// Session timeout bounds.
    pub limits: Limits,
    /// `maxClientCnxns` (0 = unlimited).
    pub max_client_cnxns: u32,
    /// `jute.maxbuffer`.
    pub jute_max_buffer: u32,
    /// `4lw.commands.whitelist`.
    pub whitelist: Whitelist,
    /// `dataDir`, for `conf`.
    pub data_dir: String,
    /// Fixes the clock bits of session ids (a replayable trace); `None` uses the start time.
    pub session_id_seed: Option<u64>,
    /// Receives every txn as it is applied (the trace watches the server through this).
    pub applied: Option<tokio::sync::mpsc::UnboundedSender<ch01_znode::Txn>>,
}

impl ServerOptions {
    /// The options a `zoo.cfg` describes.
    pub fn from_config(cfg: &ZooCfg) -> ServerOptions {
        ServerOptions {
            listen: SocketAddr::new(cfg.client_port_address, cfg.client_port.unwrap_or(2181)),
            tick_time_ms: cfg.tick_time_ms,
            limits: Limits {
                min_session_timeout_ms: cfg.min_session_timeout_ms as i32,
                max_session_timeout_ms: cfg.max_session_timeout_ms as i32,
            },
            max_client_cnxns: cfg.max_client_cnxns,
            jute_max_buffer: cfg.jute_max_buffer,
            whitelist: cfg.four_letter_words.clone(),
            data_dir: cfg.data_dir.display().to_string(),
            session_id_seed: None,
            applied: None,
        }
    }

    /// Test-friendly options: loopback, a free port, a short tick, every 4lw.
    pub fn local(tick_time_ms: u32) -> ServerOptions {
        ServerOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tick_time_ms,
            limits: Limits::for_tick(tick_time_ms),
            max_client_cnxns: 60,
            jute_max_buffer: crate::config::DEFAULT_JUTE_MAX_BUFFER,
            whitelist: Whitelist::All,
            data_dir: "/tmp/keeper".into(),
            session_id_seed: None,
            applied: None,
        }
    }
}

// ANCHOR: durable
/// What makes a server durable (chapter 7): the database recovered from its disk, the disk
/// every txn is logged to before it is committed, and `snapCount`.
#[derive(Debug)]
pub struct Durable {
    /// The tree and sessions as the disk left them.
    pub db: Database,
    /// Where txns go before they are committed.
    pub log: Box<dyn TxnLog>,
    /// About how many txns between snapshots (`snapCount`).
    pub snap_count: u32,
    /// About how many bytes of log between snapshots (`snapSizeLimitInKb`; 0: no limit).
    pub snap_size_limit: u64,
    /// A snapshot of `db` has been begun on `log` (its file created, nothing walked yet): the
    /// server walks it a slice at a time while it serves, as any fuzzy snapshot.
    pub snapshot_begun: bool,
}
// ANCHOR_END: durable

/// A running server.
pub struct Server {
    local_addr: SocketAddr,
    accept: tokio::task::JoinHandle<()>,
    core: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Binds the client port and starts serving, in memory only.
    pub async fn start(options: ServerOptions) -> std::io::Result<Server> {
        Server::start_with(options, None).await
    }

    /// Binds the client port and starts serving, from and to a disk when `durable` is given.
    pub async fn start_with(
        options: ServerOptions,
        durable: Option<Durable>,
    ) -> std::io::Result<Server> {
        let listener = TcpListener::bind(options.listen).await?;
        let local_addr = listener.local_addr()?;
        let (to_core, from_connections) = mpsc::channel(INBOUND_QUEUE);
        let core = tokio::spawn(core::run(
            options.clone(),
            local_addr,
            from_connections,
            durable,
        ));
        let accept = tokio::spawn(accept_clients(listener, options, to_core));
        Ok(Server {
            local_addr,
            accept,
            core,
        })
    }

    /// The address clients connect to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Waits until the server stops by itself: only when its disk failed (the error), since
    /// nothing else ends the core while the server runs.
    pub async fn failed(&mut self) -> std::io::Error {
        match (&mut self.core).await {
            Ok(Err(e)) => e,
            Ok(Ok(())) => std::io::Error::other("the server stopped"),
            Err(e) => std::io::Error::other(e),
        }
    }

    /// Stops accepting and drops every connection.
    pub fn stop(&self) {
        self.accept.abort();
        self.core.abort();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Connections open per client address, for `maxClientCnxns`.
#[derive(Clone, Default)]
struct PerAddress(Arc<Mutex<HashMap<IpAddr, u32>>>);

/// Holds one slot of an address's allowance; gives it back when the connection ends.
struct Slot {
    table: PerAddress,
    addr: IpAddr,
}

impl PerAddress {
    fn acquire(&self, addr: IpAddr, max: u32) -> Option<Slot> {
        let mut table = self.0.lock().expect("connection table lock");
        let count = table.entry(addr).or_default();
        if max != 0 && *count >= max {
            return None;
        }
        *count += 1;
        Some(Slot {
            table: self.clone(),
            addr,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut table = self.table.0.lock().expect("connection table lock");
        if let Some(count) = table.get_mut(&self.addr) {
            *count -= 1;
            if *count == 0 {
                table.remove(&self.addr);
            }
        }
    }
}

/// Accepts clients on `listener` for ever (`maxClientCnxns` per address): each connection
/// gets its own task, which reports to the core on `to_core` ([`ToCore`]).
pub async fn accept_clients(
    listener: TcpListener,
    options: ServerOptions,
    to_core: mpsc::Sender<ToCore>,
) {
    let per_address = PerAddress::default();
    let reading = connection::Reading {
        max_frame: options.jute_max_buffer,
        reads_trace_mask: FourLetterWord::Stmk.reads_trace_mask(&options.whitelist),
    };
    let mut next_conn = 0u64;
    loop {
        let Ok((socket, remote)) = listener.accept().await else {
            continue;
        };
        let Some(slot) = per_address.acquire(remote.ip(), options.max_client_cnxns) else {
            eprintln!(
                "Too many connections from {} - max is {}",
                remote.ip(),
                options.max_client_cnxns
            );
            drop(socket);
            continue;
        };
        next_conn += 1;
        let conn = crate::pipeline::ConnId(next_conn);
        let to_core = to_core.clone();
        tokio::spawn(async move {
            connection::serve(conn, socket, remote, reading, to_core).await;
            drop(slot);
        });
    }
}
