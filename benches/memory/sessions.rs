//! Held idle sessions: a server process started from a `zoo.cfg`, `n` raw ConnectRequests
//! from this one client process, and the server's resident memory before and after.
//!
//! Resident memory is the server process's `VmRSS` in `/proc/<pid>/status`: what it really
//! holds in RAM (for the JVM that is heap actually touched, metaspace, thread stacks and code,
//! not the `-Xmx` it may grow to). "After" is read once the figure has settled: two reads half
//! a second apart within 0.5% of each other.
//!
//! The client speaks just enough of the protocol by hand: a ConnectRequest (protocol 0,
//! zxid 0, 30 s timeout, session 0, 16 zero bytes of password, readOnly false), its
//! ConnectResponse, then a ping (`xid -2`, opcode 11) on every connection every 10 s so no
//! session expires while the others are opened, however long that takes. Connections leave
//! from 16 loopback source addresses (127.0.0.1..16), so the ephemeral ports of one pair of
//! addresses never run out.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ch03_sessions::jute::Record;
use ch03_sessions::proto::{encode_frame, ConnectRequest};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, Semaphore};

/// ZooKeeper's jar (Debian's package) and a binding that silences its log.
pub const ZOOKEEPER_JAR: &str = "/usr/share/java/zookeeper.jar";
pub const SLF4J_NOP_JAR: &str = "/usr/share/java/slf4j-nop.jar";
/// The JVM's heap settings for the ZooKeeper server process.
pub const JVM_HEAP: &str = "-Xmx1g";
/// The session timeout every client asks for.
const SESSION_TIMEOUT_MS: i32 = 30_000;
/// Handshakes in flight at once (a listen backlog is short; more only queues SYNs).
pub const IN_FLIGHT: usize = 32;
/// Loopback source addresses the connections are spread over.
const SOURCES: u8 = 16;
/// How often every held connection pings.
const PING_EVERY: Duration = Duration::from_secs(10);
/// The longest a server may take to start answering.
const START_BOUND: Duration = Duration::from_secs(60);
/// The longest one handshake may take.
const HANDSHAKE_BOUND: Duration = Duration::from_secs(60);
/// The longest the resident figure may take to settle.
const SETTLE_BOUND: Duration = Duration::from_secs(20);

/// Which server a run starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Keeper,
    ZooKeeper,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Keeper => "Keeper",
            Kind::ZooKeeper => "ZooKeeper 3.8",
        }
    }
}

/// What one run measured.
#[derive(Clone, Copy, Debug)]
pub struct SessionFigures {
    /// Resident bytes the server added per held session.
    pub bytes_per_session: f64,
    /// Seconds from the first connect to the last ConnectResponse.
    pub open_s: f64,
}

/// A directory of its own for one server, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(what: &str) -> std::io::Result<Scratch> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("keeper-memory-{}-{what}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A server process, killed and reaped when dropped (on success, error and panic alike).
struct Server {
    child: Child,
    addr: SocketAddr,
    _scratch: Scratch,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(kind: Kind) -> Result<Server, String> {
        let scratch = Scratch::new("server").map_err(|e| e.to_string())?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let data = scratch.0.join("data");
        std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
        let cfg = scratch.0.join("zoo.cfg");
        // maxClientCnxns=0: thousands of connections come from a handful of addresses.
        let text = format!(
            "tickTime=2000\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
             maxClientCnxns=0\n4lw.commands.whitelist=*\nadmin.enableServer=false\n",
            data.display()
        );
        std::fs::write(&cfg, text).map_err(|e| e.to_string())?;
        let mut command = match kind {
            Kind::Keeper => {
                let mut c = Command::new(env!("CARGO_BIN_EXE_keeper"));
                c.arg("server").arg("--config").arg(&cfg);
                c
            }
            Kind::ZooKeeper => {
                let mut c = Command::new("java");
                c.arg(JVM_HEAP)
                    .arg("-cp")
                    .arg(format!("{ZOOKEEPER_JAR}:{SLF4J_NOP_JAR}"))
                    .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
                    .arg(&cfg);
                c
            }
        };
        command
            .current_dir(&scratch.0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", kind.name()))?;
        let mut server = Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            _scratch: scratch,
        };
        server.wait_serving(kind)?;
        Ok(server)
    }

    /// Polls `ruok` until the server says `imok`, within [`START_BOUND`].
    fn wait_serving(&mut self, kind: Kind) -> Result<(), String> {
        let start = Instant::now();
        while start.elapsed() < START_BOUND {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("{} exited at start: {status}", kind.name()));
            }
            if ruok(self.addr) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!(
            "{} did not answer ruok in {START_BOUND:?}",
            kind.name()
        ))
    }
}

/// The resident figure of process `pid` once two reads half a second apart agree within 0.5%.
pub async fn settled_rss(pid: u32) -> Result<u64, String> {
    let start = Instant::now();
    let mut last = rss_bytes(pid)?;
    while start.elapsed() < SETTLE_BOUND {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = rss_bytes(pid)?;
        if now.abs_diff(last) * 200 <= last {
            return Ok(now);
        }
        last = now;
    }
    Ok(last)
}

fn ruok(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let mut answer = String::new();
    s.write_all(b"ruok").is_ok() && s.read_to_string(&mut answer).is_ok() && answer == "imok"
}

/// `VmRSS` of process `pid`, in bytes.
pub fn rss_bytes(pid: u32) -> Result<u64, String> {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .ok_or_else(|| format!("no VmRSS for {pid}"))
}

/// The soft limit on open files, which bounds the sessions one client process can hold.
pub fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Starts a server of `kind`, opens and holds `n` sessions, and measures.
pub fn measure(kind: Kind, n: usize) -> Result<SessionFigures, String> {
    let server = Server::start(kind)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(held(kind, server.child.id(), server.addr, n, |_| {}))
}

/// When [`held`] calls its `weigh` hook: right after each of its two resident readings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    Before,
    After,
}

/// Opens and holds `n` sessions with the server process `pid` listening on `addr`, and
/// measures what they added to its resident memory; `weigh` is called after each reading,
/// while the sessions of the second are still held, for any other figure to take beside it.
pub async fn held(
    kind: Kind,
    pid: u32,
    addr: SocketAddr,
    n: usize,
    mut weigh: impl FnMut(Reading),
) -> Result<SessionFigures, String> {
    let before = settled_rss(pid).await?;
    weigh(Reading::Before);
    let (held_tx, held_rx) = mpsc::unbounded_channel();
    let lost = Arc::new(AtomicUsize::new(0));
    let holder = tokio::spawn(hold(held_rx, lost.clone()));
    let start = Instant::now();
    open(addr, n, held_tx).await?;
    let open_s = start.elapsed().as_secs_f64();
    let after = settled_rss(pid).await?;
    weigh(Reading::After);
    holder.abort();
    let lost = lost.load(Ordering::Relaxed);
    if lost > 0 {
        return Err(format!(
            "{lost} of {n} sessions were closed by {}",
            kind.name()
        ));
    }
    Ok(SessionFigures {
        bytes_per_session: after.saturating_sub(before) as f64 / n as f64,
        open_s,
    })
}

/// Opens `n` sessions, [`IN_FLIGHT`] handshakes at a time, handing each to the holder.
async fn open(
    server: SocketAddr,
    n: usize,
    held: mpsc::UnboundedSender<tokio::net::TcpStream>,
) -> Result<(), String> {
    let hello = encode_frame(
        &ConnectRequest {
            time_out: SESSION_TIMEOUT_MS,
            passwd: vec![0; 16],
            read_only: Some(false),
            ..ConnectRequest::default()
        }
        .to_bytes(),
    );
    in_flight(n, IN_FLIGHT, |i| {
        let source = Ipv4Addr::new(127, 0, 0, 1 + (i % SOURCES as usize) as u8);
        let hello = hello.clone();
        let held = held.clone();
        async move {
            let stream = tokio::time::timeout(HANDSHAKE_BOUND, handshake(source, server, &hello))
                .await
                .map_err(|_| format!("handshake {i} took over {HANDSHAKE_BOUND:?}"))?
                .map_err(|e| format!("handshake {i} from {source}: {e}"))?;
            let _ = held.send(stream);
            Ok(())
        }
    })
    .await
}

/// Runs `task(i)` for every i < n, at most `limit` at once; the first error stops it.
pub async fn in_flight<F>(
    n: usize,
    limit: usize,
    mut task: impl FnMut(usize) -> F,
) -> Result<(), String>
where
    F: std::future::Future<Output = Result<(), String>> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(limit));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let permit = permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| e.to_string())?;
        let run = task(i);
        tasks.spawn(async move {
            let done = run.await;
            drop(permit);
            done
        });
        while let Some(done) = tasks.try_join_next() {
            done.map_err(|e| e.to_string())??;
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(|e| e.to_string())??;
    }
    Ok(())
}

async fn handshake(
    source: Ipv4Addr,
    server: SocketAddr,
    hello: &[u8],
) -> std::io::Result<tokio::net::TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((source, 0)))?;
    let mut stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    stream.write_all(hello).await?;
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).await?;
    let mut body = vec![0u8; i32::from_be_bytes(len).max(0) as usize];
    stream.read_exact(&mut body).await?;
    // A ConnectResponse with session id 0 (bytes 8..16 of the body) means "refused".
    if body.len() < 16 || body[8..16] == [0; 8] {
        return Err(std::io::Error::other("the server refused the session"));
    }
    Ok(stream)
}

/// Holds every opened connection and pings each every [`PING_EVERY`], draining replies;
/// counts in `lost` the connections the server closed (a session gone).
async fn hold(mut opened: mpsc::UnboundedReceiver<tokio::net::TcpStream>, lost: Arc<AtomicUsize>) {
    let ping = encode_frame(&[0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 11]);
    let mut held: Vec<Option<tokio::net::TcpStream>> = Vec::new();
    let mut tick = tokio::time::interval(PING_EVERY);
    let mut scratch = [0u8; 256];
    let mut opening = true;
    loop {
        tokio::select! {
            stream = opened.recv(), if opening => match stream {
                Some(s) => held.push(Some(s)),
                None => opening = false,
            },
            _ = tick.tick() => {
                for slot in held.iter_mut() {
                    let Some(stream) = slot else { continue };
                    let alive = loop {
                        match stream.try_read(&mut scratch) {
                            Ok(0) => break false,
                            Ok(_) => continue,
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break true,
                            Err(_) => break false,
                        }
                    };
                    if !alive || stream.try_write(&ping).is_err() {
                        *slot = None;
                        lost.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
    }
}
