//! Four-letter words: ask a server how it is with four bytes and a netcat.
//!
//! The idea to take away: before ZooKeeper had an admin HTTP server, operators asked a running
//! server questions on the **client port itself**. A client's first four bytes are normally the
//! length of its ConnectRequest (a small number like `0x0000002d`); if instead they spell
//! `ruok`, `srvr`, `stat`, ... the server answers in plain text and closes the connection
//! (upstream `NIOServerCnxn.checkFourLetterWord`). `zkServer.sh status` is just `srvr` and a grep
//! for `Mode:`.
//!
//! Since 3.5.3 only `srvr` answers unless `4lw.commands.whitelist` lists more (`*` = all); any
//! other word gets `<cmd> is not executed because it is not in the whitelist.`
//!
//! This module only knows the words and renders their text from a [`ServerSnapshot`] the server
//! fills in; formats follow upstream's `command/*Command.java`, `ServerStats.toString` and
//! `ServerCnxn.dumpConnectionInfo`, checked against a real 3.8 server.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::SocketAddr;

use ch01_znode::shell::printer::java_date;
use ch01_znode::{SessionId, Sid, Zxid};

use crate::config::Whitelist;

/// Every word upstream recognises (`FourLetterCommands`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FourLetterWord {
    /// Server configuration.
    Conf,
    /// Every connection, with session details.
    Cons,
    /// Reset connection statistics.
    Crst,
    /// Sizes of the data directories.
    Dirs,
    /// Sessions and ephemerals (leader only).
    Dump,
    /// The server's environment.
    Envi,
    /// Get the trace mask: which kinds of event the server's trace log records.
    Gtmk,
    /// Are you OK? `imok`.
    Ruok,
    /// Set the trace mask: the word is followed by the new mask, an 8-byte big-endian long.
    Stmk,
    /// Server summary (what `zkServer.sh status` uses).
    Srvr,
    /// Reset server statistics.
    Srst,
    /// `srvr` plus the list of connections.
    Stat,
    /// Watches by connection.
    Wchc,
    /// Watches by path.
    Wchp,
    /// Watch summary.
    Wchs,
    /// Metrics as `zk_key\tvalue` lines.
    Mntr,
    /// Read-only mode? `rw` or `ro`.
    Isro,
    /// Digest history.
    Hash,
}

const WORDS: [(&str, FourLetterWord); 18] = [
    ("conf", FourLetterWord::Conf),
    ("cons", FourLetterWord::Cons),
    ("crst", FourLetterWord::Crst),
    ("dirs", FourLetterWord::Dirs),
    ("dump", FourLetterWord::Dump),
    ("envi", FourLetterWord::Envi),
    ("gtmk", FourLetterWord::Gtmk),
    ("ruok", FourLetterWord::Ruok),
    ("stmk", FourLetterWord::Stmk),
    ("srvr", FourLetterWord::Srvr),
    ("srst", FourLetterWord::Srst),
    ("stat", FourLetterWord::Stat),
    ("wchc", FourLetterWord::Wchc),
    ("wchp", FourLetterWord::Wchp),
    ("wchs", FourLetterWord::Wchs),
    ("mntr", FourLetterWord::Mntr),
    ("isro", FourLetterWord::Isro),
    ("hash", FourLetterWord::Hash),
];

impl FourLetterWord {
    /// The word these four bytes spell, if any: the check made on a new connection's first
    /// four bytes before they are taken as a frame length.
    pub fn from_prefix(bytes: [u8; 4]) -> Option<FourLetterWord> {
        WORDS
            .iter()
            .find(|(name, _)| name.as_bytes() == bytes)
            .map(|(_, word)| *word)
    }

    /// The four letters.
    pub fn name(self) -> &'static str {
        WORDS
            .iter()
            .find(|(_, word)| *word == self)
            .map(|(name, _)| *name)
            .expect("every word is in WORDS")
    }

    /// Whether the server reads 8 more bytes after this word before answering: only `stmk`
    /// does, and only when `whitelist` lets it run (upstream checks the whitelist first, so a
    /// refused `stmk` is answered at once).
    pub fn reads_trace_mask(self, whitelist: &Whitelist) -> bool {
        self == FourLetterWord::Stmk && whitelist.allows(self.name())
    }
}

/// What the server reports about itself when asked; the server fills it in.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerSnapshot {
    /// False while starting or shutting down: most words then say so.
    pub serving: bool,
    /// `Zookeeper version:` text.
    pub version: String,
    /// `standalone`, `leader`, `follower`, `observer`.
    pub mode: String,
    /// Request latency in ms: min, average, max.
    pub latency: Latency,
    /// Packets received from clients (including 4lw connections).
    pub packets_received: u64,
    /// Packets sent to clients.
    pub packets_sent: u64,
    /// Every open connection.
    pub connections: Vec<ConnectionInfo>,
    /// Requests accepted but not yet answered.
    pub outstanding: u64,
    /// The last zxid applied to the tree.
    pub last_zxid: Zxid,
    /// Znodes in the tree, built-in ones included.
    pub node_count: u64,
    /// Watches registered.
    pub watch_count: u64,
    /// Ephemeral znodes.
    pub ephemerals_count: u64,
    /// Bytes of paths plus data in the tree.
    pub approximate_data_size: u64,
    /// Sessions tracked.
    pub global_sessions: u64,
    /// Ms since the server started.
    pub uptime_ms: u64,
    /// The `conf` lines.
    pub conf: ConfDump,
    /// The `envi` lines after `zookeeper.version`.
    pub environment: Vec<(String, String)>,
    /// What a member of an ensemble adds (`None` standalone).
    pub quorum: Option<QuorumReport>,
    /// Data-table watches (`wchc`, `wchp`, `wchs`): one per (session, path), in session then
    /// path order. Persistent watches sit in the data table too, as upstream keeps them.
    pub data_watches: Vec<(SessionId, String)>,
    /// Every tracked session and the deadline of its expiry bucket, ms since the epoch.
    pub sessions: Vec<(SessionId, u64)>,
    /// The sessions that own ephemerals, with their paths.
    pub ephemerals: Vec<(SessionId, Vec<String>)>,
    /// The digest history (`hash`): the tree digest after every 128th zxid.
    pub digests: Vec<(Zxid, u64)>,
    /// Sizes of the responses sent to clients, bytes after the length prefix.
    pub response_sizes: ResponseSizes,
    /// File descriptors the process has open, and the most it may (`RLIMIT_NOFILE`).
    pub file_descriptors: (u64, u64),
    /// Authentication packets refused (`zk_auth_failed_count`).
    pub auth_failed: u64,
    /// The trace mask (`gtmk`, `stmk`).
    pub trace_mask: i64,
}

/// What a quorum member adds to `conf` and `mntr` (upstream `QuorumPeer`'s part of
/// `dumpConf`, and `QuorumPeer`/`Leader` metrics).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QuorumReport {
    /// `initLimit`, ticks.
    pub init_limit: u32,
    /// `syncLimit`, ticks.
    pub sync_limit: u32,
    /// This member's election port.
    pub election_port: u16,
    /// This member's quorum port.
    pub quorum_port: u16,
    /// An observer (`peerType=1`) or a participant (0).
    pub observer: bool,
    /// The ensemble's configuration as `/zookeeper/config` holds it.
    pub membership: String,
    /// `zk_peer_state`: the role and Zab's phase, e.g. `leading - broadcast`.
    pub peer_state: String,
    /// Voting members (`zk_quorum_size`).
    pub quorum_size: u64,
    /// What only a leader reports.
    pub leader: Option<LeaderReport>,
}

/// A leader's learners (`mntr` on the leader only).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LeaderReport {
    /// Learners connected (`zk_learners`).
    pub learners: u64,
    /// Followers synced and receiving proposals (`zk_synced_followers`).
    pub synced_followers: u64,
    /// Observers synced (`zk_synced_observers`).
    pub synced_observers: u64,
    /// Forwarded syncs waiting for their commit (`zk_pending_syncs`).
    pub pending_syncs: u64,
    /// Sizes of the proposals' data since it was elected (`srvr`'s `Proposal sizes`): the
    /// same statistics as the responses', as upstream's `BufferStats` serves both.
    pub proposal_sizes: ResponseSizes,
    /// The last zxid it handed out (upstream's `hzxid`): the epoch's first zxid from the
    /// moment it leads, so `srvr` on a fresh leader already says `Zxid: 0x100000000` while its
    /// followers, which show the last txn they applied, still say `0x0`.
    pub last_proposed: Zxid,
}

/// `zk_{min,max,last}_client_response_size`: upstream's `-1` until a response goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResponseSizes {
    /// Smallest.
    pub min: i64,
    /// Largest.
    pub max: i64,
    /// The last one.
    pub last: i64,
}

impl ResponseSizes {
    /// One more response of `size` bytes.
    pub fn add(&mut self, size: i64) {
        self.min = if self.min < 0 {
            size
        } else {
            self.min.min(size)
        };
        self.max = self.max.max(size);
        self.last = size;
    }
}

impl Default for ResponseSizes {
    fn default() -> Self {
        ResponseSizes {
            min: -1,
            max: -1,
            last: -1,
        }
    }
}

/// Latency summary, ms (upstream `ServerStats`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Latency {
    /// Smallest.
    pub min: u64,
    /// Mean, printed as a Java double.
    pub avg: f64,
    /// Largest.
    pub max: u64,
}

/// One connection as `cons`/`stat` list it.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectionInfo {
    /// The client's address.
    pub remote: SocketAddr,
    /// 1 while the server reads from it, 0 while not (upstream's selector interest ops).
    pub interest_ops: u8,
    /// Requests read but not answered.
    pub queued: u64,
    /// Packets received on it.
    pub received: u64,
    /// Packets sent on it.
    pub sent: u64,
    /// Its session, once established.
    pub session: Option<SessionInfo>,
    /// When the server gives up on it if it stays silent, ms since the epoch (`dump`).
    pub expires_ms: u64,
}

/// The session part of a `cons` line.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionInfo {
    /// Session id.
    pub id: SessionId,
    /// Last operation, upstream's short name (`GETD`, `SETD`, `PING`, ...).
    pub last_op: String,
    /// When the session was established, ms since the epoch.
    pub established_ms: u64,
    /// Negotiated timeout, ms.
    pub timeout_ms: i32,
    /// Last client xid, or -1 if none yet.
    pub last_cxid: i64,
    /// Last zxid sent to it.
    pub last_zxid: Zxid,
    /// When the last response went out, ms.
    pub last_response_ms: u64,
    /// Latency of the last request, ms.
    pub last_latency: u64,
    /// Per-connection latency summary.
    pub latency: Latency,
}

/// The `conf` word's values (upstream `ZooKeeperServer.dumpConf`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConfDump {
    /// Client port.
    pub client_port: u16,
    /// `dataDir/version-2`.
    pub data_dir: String,
    /// Bytes in it.
    pub data_dir_size: u64,
    /// `dataLogDir/version-2`.
    pub data_log_dir: String,
    /// Bytes in it.
    pub data_log_size: u64,
    /// Tick, ms.
    pub tick_time: u32,
    /// Per-address connection limit.
    pub max_client_cnxns: u32,
    /// Session timeout bounds, ms.
    pub min_session_timeout: u32,
    /// Session timeout bounds, ms.
    pub max_session_timeout: u32,
    /// This server's id: 0 for a standalone server (upstream `getServerId()`), although its
    /// session ids carry [`crate::session::STANDALONE_SID`].
    pub server_id: Sid,
}

/// Upstream's text when the server is not up yet (`AbstractFourLetterCommand.ZK_NOT_SERVING`).
pub const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests";

// ANCHOR: respond
/// The text a server writes back for `word` before closing the connection.
pub fn respond(word: FourLetterWord, whitelist: &Whitelist, s: &ServerSnapshot) -> String {
    use FourLetterWord::*;
    let mut out = String::new();
    match word {
        _ if !whitelist.allows(word.name()) => {
            let _ = writeln!(
                out,
                "{} is not executed because it is not in the whitelist.",
                word.name()
            );
        }
        Ruok => out.push_str("imok"),
        Isro if !s.serving => out.push_str("null"),
        Isro => out.push_str("rw"),
        Envi => environment(&mut out, s),
        // `stmk` has already set the mask (see `Clients::answer`): both words print
        // it as a signed long, whether or not the server is serving yet.
        Gtmk | Stmk => out.push_str(&s.trace_mask.to_string()),
        _ if !s.serving => {
            let _ = writeln!(out, "{NOT_SERVING}");
        }
        Srvr | Stat => summary(&mut out, s, word == Stat),
        Cons => {
            for c in &s.connections {
                connection_line(&mut out, c, true);
                out.push('\n');
            }
            out.push('\n');
        }
        Conf => {
            conf(&mut out, &s.conf);
            if let Some(q) = &s.quorum {
                quorum_conf(&mut out, q);
            }
        }
        Mntr => monitor(&mut out, s),
        // The server has already reset its counters (see [`FourLetterWord::resets`]).
        Crst => out.push_str("Connection stats reset.\n"),
        Srst => out.push_str("Server stats reset.\n"),
        Dirs => dirs(&mut out, &s.conf),
        Dump => dump(&mut out, s),
        Wchc => watches_by_session(&mut out, &s.data_watches),
        Wchp => watches_by_path(&mut out, &s.data_watches),
        Wchs => watch_summary(&mut out, &s.data_watches),
        Hash => digests(&mut out, &s.digests),
    }
    out
}

/// What a word asks the server to reset before it answers (`crst`, `srst`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reset {
    /// Every connection's counters (`crst`).
    Connections,
    /// The server's counters: latency, packets, response sizes (`srst`).
    Server,
}

impl FourLetterWord {
    /// The counters this word resets, when `whitelist` lets it run.
    pub fn resets(self, whitelist: &Whitelist) -> Option<Reset> {
        match self {
            _ if !whitelist.allows(self.name()) => None,
            FourLetterWord::Crst => Some(Reset::Connections),
            FourLetterWord::Srst => Some(Reset::Server),
            _ => None,
        }
    }
}

/// The trace mask a server starts with (upstream `ZooTrace`: client requests, client data
/// packets, server packets). Keeper keeps the mask `stmk` sets and `gtmk` reports, as upstream
/// does, but has no trace log for it to filter.
pub const DEFAULT_TRACE_MASK: i64 = 306;
// ANCHOR_END: respond

/// `srvr`, and `stat` which adds the client list (upstream `StatCommand`).
fn summary(out: &mut String, s: &ServerSnapshot, with_clients: bool) {
    let _ = writeln!(out, "Zookeeper version: {}", s.version);
    if with_clients {
        out.push_str("Clients:\n");
        for c in &s.connections {
            connection_line(out, c, false);
            out.push('\n');
        }
        out.push('\n');
    }
    let l = s.latency;
    let _ = writeln!(out, "Latency min/avg/max: {}/{:?}/{}", l.min, l.avg, l.max);
    let _ = writeln!(out, "Received: {}", s.packets_received);
    let _ = writeln!(out, "Sent: {}", s.packets_sent);
    let _ = writeln!(out, "Connections: {}", s.connections.len());
    let _ = writeln!(out, "Outstanding: {}", s.outstanding);
    let _ = writeln!(out, "Zxid: {}", s.last_zxid);
    let _ = writeln!(out, "Mode: {}", s.mode);
    let _ = writeln!(out, "Node count: {}", s.node_count);
    if let Some(leader) = s.quorum.as_ref().and_then(|q| q.leader) {
        let p = leader.proposal_sizes;
        let _ = writeln!(
            out,
            "Proposal sizes last/min/max: {}/{}/{}",
            p.last, p.min, p.max
        );
    }
}

/// A client's address as Java prints an `InetSocketAddress`.
fn remote(address: SocketAddr) -> String {
    match address {
        SocketAddr::V4(v4) => format!("/{}:{}", v4.ip(), v4.port()),
        SocketAddr::V6(v6) => format!("/[{}]:{}", v6.ip(), v6.port()),
    }
}

/// One connection (upstream `ServerCnxn.dumpConnectionInfo`); `full` adds the session part.
fn connection_line(out: &mut String, c: &ConnectionInfo, full: bool) {
    let remote = remote(c.remote);
    let _ = write!(
        out,
        " {remote}[{:x}](queued={},recved={},sent={}",
        c.interest_ops, c.queued, c.received, c.sent
    );
    if let (true, Some(si)) = (full, &c.session) {
        let _ = write!(
            out,
            ",sid={},lop={},est={},to={}",
            si.id, si.last_op, si.established_ms, si.timeout_ms
        );
        if si.last_cxid >= 0 {
            let _ = write!(out, ",lcxid=0x{:x}", si.last_cxid);
        }
        let _ = write!(
            out,
            ",lzxid={},lresp={},llat={},minlat={},avglat={},maxlat={}",
            si.last_zxid,
            si.last_response_ms,
            si.last_latency,
            si.latency.min,
            si.latency.avg as u64,
            si.latency.max
        );
    }
    out.push(')');
}

fn conf(out: &mut String, c: &ConfDump) {
    let _ = writeln!(out, "clientPort={}", c.client_port);
    let _ = writeln!(out, "secureClientPort=-1");
    let _ = writeln!(out, "dataDir={}", c.data_dir);
    let _ = writeln!(out, "dataDirSize={}", c.data_dir_size);
    let _ = writeln!(out, "dataLogDir={}", c.data_log_dir);
    let _ = writeln!(out, "dataLogSize={}", c.data_log_size);
    let _ = writeln!(out, "tickTime={}", c.tick_time);
    let _ = writeln!(out, "maxClientCnxns={}", c.max_client_cnxns);
    let _ = writeln!(out, "minSessionTimeout={}", c.min_session_timeout);
    let _ = writeln!(out, "maxSessionTimeout={}", c.max_session_timeout);
    let _ = writeln!(out, "clientPortListenBacklog=-1");
    let _ = writeln!(out, "serverId={}", c.server_id);
}

/// The keys a quorum member's `conf` adds (upstream `QuorumPeer` in `dumpConf`): after
/// `membership: ` comes the config text, with no newline at its end.
fn quorum_conf(out: &mut String, q: &QuorumReport) {
    let _ = writeln!(out, "initLimit={}", q.init_limit);
    let _ = writeln!(out, "syncLimit={}", q.sync_limit);
    let _ = writeln!(out, "electionAlg=3");
    let _ = writeln!(out, "electionPort={}", q.election_port);
    let _ = writeln!(out, "quorumPort={}", q.quorum_port);
    let _ = writeln!(out, "peerType={}", u8::from(q.observer));
    let _ = write!(out, "membership: \n{}", q.membership);
}

/// `mntr` (upstream `MonitorCommand`): every key of a standalone 3.8 server whose meaning
/// carries over to Keeper, in the order 3.8 prints them, as `zk_key<TAB>value` lines.
///
/// Left out: what measures the JVM or a Java mechanism Keeper does not have (the metrics
/// provider's `zk_{avg,min,max,cnt,sum,p50,...}_*` summaries, `jvm_pause`, the response
/// packet cache, the dead-watcher cleaner), counters of features Keeper does not have
/// (TLS, mTLS, local sessions' upgrades, throttling, the admin server) and the quorum's keys,
/// which a quorum member adds.
fn monitor(out: &mut String, s: &ServerSnapshot) {
    let r = s.response_sizes;
    let (open_fds, max_fds) = s.file_descriptors;
    let _ = writeln!(out, "zk_version\t{}", s.version);
    let _ = writeln!(out, "zk_server_state\t{}", s.mode);
    if let Some(q) = &s.quorum {
        let _ = writeln!(out, "zk_peer_state\t{}", q.peer_state);
    }
    for (key, value) in [
        ("ephemerals_count", s.ephemerals_count as i64),
        ("num_alive_connections", s.connections.len() as i64),
    ] {
        let _ = writeln!(out, "zk_{key}\t{value}");
    }
    let _ = writeln!(out, "zk_avg_latency\t{:?}", s.latency.avg);
    for (key, value) in [
        ("outstanding_requests", s.outstanding as i64),
        ("znode_count", s.node_count as i64),
        ("global_sessions", s.global_sessions as i64),
        ("last_client_response_size", r.last),
        ("packets_sent", s.packets_sent as i64),
        ("packets_received", s.packets_received as i64),
        ("max_client_response_size", r.max),
    ] {
        let _ = writeln!(out, "zk_{key}\t{value}");
    }
    // Keeper drops no connection on purpose (upstream's connection_drop_probability).
    out.push_str("zk_connection_drop_probability\t0.0\n");
    for (key, value) in [
        ("watch_count", s.watch_count as i64),
        ("auth_failed_count", s.auth_failed as i64),
        ("min_latency", s.latency.min as i64),
        ("max_file_descriptor_count", max_fds as i64),
        ("approximate_data_size", s.approximate_data_size as i64),
        ("open_file_descriptor_count", open_fds as i64),
        ("uptime", s.uptime_ms as i64),
        ("max_latency", s.latency.max as i64),
        ("min_client_response_size", r.min),
    ] {
        let _ = writeln!(out, "zk_{key}\t{value}");
    }
    let Some(q) = &s.quorum else { return };
    if let Some(l) = q.leader {
        for (key, value) in [
            ("synced_followers", l.synced_followers),
            ("synced_non_voting_followers", 0),
            ("synced_observers", l.synced_observers),
            ("pending_syncs", l.pending_syncs),
            ("learners", l.learners),
        ] {
            let _ = writeln!(out, "zk_{key}\t{value}");
        }
    }
    let _ = writeln!(out, "zk_quorum_size\t{}", q.quorum_size);
}

/// `dirs` (upstream `DirsCommand`): bytes in the snapshot and the log directory.
fn dirs(out: &mut String, c: &ConfDump) {
    let _ = writeln!(out, "datadir_size: {}", c.data_dir_size);
    let _ = writeln!(out, "logdir_size: {}", c.data_log_size);
}

/// `dump` (upstream `DumpCommand`): the session expiry buckets, the ephemerals by session,
/// and the connections by when they expire.
fn dump(out: &mut String, s: &ServerSnapshot) {
    out.push_str("SessionTracker dump:\nSession ");
    let sessions = s.sessions.iter().map(|(id, at)| (*at, id.to_string()));
    expiry_sets(out, sessions.collect());
    out.push_str("ephemeral nodes dump:\n");
    let _ = writeln!(out, "Sessions with Ephemerals ({}):", s.ephemerals.len());
    for (id, paths) in &s.ephemerals {
        let _ = writeln!(out, "{id}:");
        for path in paths {
            let _ = writeln!(out, "\t{path}");
        }
    }
    out.push_str("Connections dump:\nConnections ");
    let conns = s.connections.iter().map(|c| {
        let session = c.session.as_ref().map_or(SessionId(0), |si| si.id);
        (
            c.expires_ms,
            format!("ip: {} sessionId: {session}", remote(c.remote)),
        )
    });
    expiry_sets(out, conns.collect());
}

/// Upstream `ExpiryQueue.dump`: the buckets, soonest first, each with its members.
fn expiry_sets(out: &mut String, mut members: Vec<(u64, String)>) {
    members.sort();
    let mut buckets: Vec<(u64, Vec<String>)> = Vec::new();
    for (at, member) in members {
        match buckets.last_mut() {
            Some((last, list)) if *last == at => list.push(member),
            _ => buckets.push((at, vec![member])),
        }
    }
    let total: usize = buckets.iter().map(|(_, list)| list.len()).sum();
    let _ = writeln!(out, "Sets ({})/({total}):", buckets.len());
    for (at, list) in buckets {
        let _ = writeln!(out, "{} expire at {}:", list.len(), java_date(at as i64));
        for member in list {
            let _ = writeln!(out, "\t{member}");
        }
    }
}

/// `wchc` (upstream `WatchManager.dumpWatches(pw, false)`): each session, then its paths.
fn watches_by_session(out: &mut String, watches: &[(SessionId, String)]) {
    grouped(
        out,
        watches
            .iter()
            .map(|(id, path)| (id.to_string(), path.clone())),
    );
}

/// `wchp` (`dumpWatches(pw, true)`): each path, then the sessions watching it.
fn watches_by_path(out: &mut String, watches: &[(SessionId, String)]) {
    grouped(
        out,
        watches
            .iter()
            .map(|(id, path)| (path.clone(), id.to_string())),
    );
}

/// Each key on a line of its own, its members under it indented by a tab, then an empty
/// line (the dump's shape; upstream's order is a hash map's, Keeper's sorted).
fn grouped(out: &mut String, pairs: impl Iterator<Item = (String, String)>) {
    let mut pairs: Vec<(String, String)> = pairs.collect();
    pairs.sort();
    let mut current: Option<String> = None;
    for (key, member) in pairs {
        if current.as_ref() != Some(&key) {
            let _ = writeln!(out, "{key}");
            current = Some(key);
        }
        let _ = writeln!(out, "\t{member}");
    }
    out.push('\n');
}

/// `wchs` (upstream `WatchesSummary`).
fn watch_summary(out: &mut String, watches: &[(SessionId, String)]) {
    let sessions: BTreeSet<SessionId> = watches.iter().map(|(id, _)| *id).collect();
    let paths: BTreeSet<&str> = watches.iter().map(|(_, path)| path.as_str()).collect();
    let _ = writeln!(
        out,
        "{} connections watching {} paths\nTotal watches:{}",
        sessions.len(),
        paths.len(),
        watches.len()
    );
}

/// `hash` (upstream `DigestCommand`): `zxid-in-hex: digest`, the digest as a Java long.
fn digests(out: &mut String, log: &[(Zxid, u64)]) {
    for (zxid, digest) in log {
        let _ = writeln!(out, "{:x}: {}", zxid.0, *digest as i64);
    }
}

fn environment(out: &mut String, s: &ServerSnapshot) {
    out.push_str("Environment:\n");
    let _ = writeln!(out, "zookeeper.version={}", s.version);
    for (key, value) in &s.environment {
        let _ = writeln!(out, "{key}={value}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERSION: &str = "3.8.0-keeper, built on 2024-12-29 17:54 UTC";

    fn snapshot() -> ServerSnapshot {
        ServerSnapshot {
            serving: true,
            version: VERSION.into(),
            mode: "standalone".into(),
            latency: Latency {
                min: 1,
                avg: 4.0,
                max: 8,
            },
            packets_received: 13,
            packets_sent: 13,
            connections: vec![
                ConnectionInfo {
                    remote: "127.0.0.1:36396".parse().unwrap(),
                    interest_ops: 0,
                    queued: 0,
                    received: 1,
                    sent: 0,
                    session: None,
                    expires_ms: 1_796_219_393_000,
                },
                ConnectionInfo {
                    remote: "127.0.0.1:36378".parse().unwrap(),
                    interest_ops: 1,
                    queued: 0,
                    received: 4,
                    sent: 4,
                    session: Some(SessionInfo {
                        id: SessionId(0x100000636d30000),
                        last_op: "GETC".into(),
                        established_ms: 1795625076786,
                        timeout_ms: 10000,
                        last_cxid: 3,
                        last_zxid: Zxid(2),
                        last_response_ms: 416082,
                        last_latency: 1,
                        latency: Latency {
                            min: 0,
                            avg: 4.0,
                            max: 8,
                        },
                    }),
                    expires_ms: 1_796_219_373_000,
                },
            ],
            outstanding: 0,
            last_zxid: Zxid(2),
            node_count: 6,
            watch_count: 2,
            ephemerals_count: 1,
            approximate_data_size: 45,
            global_sessions: 1,
            uptime_ms: 5768,
            conf: ConfDump {
                client_port: 21853,
                data_dir: "/tmp/zk/data/version-2".into(),
                data_dir_size: 457,
                data_log_dir: "/tmp/zk/data/version-2".into(),
                data_log_size: 457,
                tick_time: 2000,
                max_client_cnxns: 60,
                min_session_timeout: 4000,
                max_session_timeout: 40000,
                server_id: Sid(0),
            },
            quorum: None,
            environment: vec![("host.name".into(), "localhost".into())],
            data_watches: vec![
                (SessionId(0x100007e33ae0002), "/a".into()),
                (SessionId(0x100007e33ae0002), "/b/c".into()),
                (SessionId(0x100007e33ae0003), "/a".into()),
            ],
            sessions: vec![(SessionId(0x100000636d30000), 1_796_219_373_000)],
            ephemerals: vec![(SessionId(0x100000636d30000), vec!["/a/e".into()])],
            digests: vec![(Zxid(0x80), 1_234), (Zxid(0x100), u64::MAX)],
            response_sizes: ResponseSizes {
                min: 16,
                max: 93,
                last: 16,
            },
            file_descriptors: (41, 20_000),
            auth_failed: 0,
            trace_mask: DEFAULT_TRACE_MASK,
        }
    }

    fn all() -> Whitelist {
        Whitelist::All
    }

    #[test]
    fn the_four_bytes_of_a_word_are_recognised_and_a_length_is_not() {
        assert_eq!(
            FourLetterWord::from_prefix(*b"ruok"),
            Some(FourLetterWord::Ruok)
        );
        assert_eq!(FourLetterWord::from_prefix([0, 0, 0, 45]), None);
        assert_eq!(FourLetterWord::Mntr.name(), "mntr");
    }

    #[test]
    fn ruok_answers_imok_without_a_newline() {
        assert_eq!(respond(FourLetterWord::Ruok, &all(), &snapshot()), "imok");
    }

    #[test]
    fn srvr_matches_a_real_3_8_server_line_for_line() {
        // Captured from ZooKeeper 3.8.0 standalone with one kazoo session (version masked).
        let expected = format!(
            "Zookeeper version: {VERSION}\nLatency min/avg/max: 1/4.0/8\nReceived: 13\n\
             Sent: 13\nConnections: 2\nOutstanding: 0\nZxid: 0x2\nMode: standalone\n\
             Node count: 6\n"
        );
        assert_eq!(
            respond(FourLetterWord::Srvr, &Whitelist::default(), &snapshot()),
            expected
        );
    }

    #[test]
    fn stat_adds_the_brief_client_list_after_the_version() {
        let text = respond(FourLetterWord::Stat, &all(), &snapshot());
        let expected_head = format!(
            "Zookeeper version: {VERSION}\nClients:\n /127.0.0.1:36396[0](queued=0,recved=1,sent=0)\n \
             /127.0.0.1:36378[1](queued=0,recved=4,sent=4)\n\nLatency min/avg/max: 1/4.0/8\n"
        );
        assert!(text.starts_with(&expected_head), "{text}");
    }

    #[test]
    fn cons_shows_session_details_like_a_real_server() {
        // Real 3.8 output for the same two connections.
        let expected = " /127.0.0.1:36396[0](queued=0,recved=1,sent=0)\n \
            /127.0.0.1:36378[1](queued=0,recved=4,sent=4,sid=0x100000636d30000,lop=GETC,\
            est=1795625076786,to=10000,lcxid=0x3,lzxid=0x2,lresp=416082,llat=1,minlat=0,\
            avglat=4,maxlat=8)\n\n";
        assert_eq!(respond(FourLetterWord::Cons, &all(), &snapshot()), expected);
    }

    #[test]
    fn conf_lists_the_standalone_keys_in_upstream_order() {
        let expected = "clientPort=21853\nsecureClientPort=-1\ndataDir=/tmp/zk/data/version-2\n\
            dataDirSize=457\ndataLogDir=/tmp/zk/data/version-2\ndataLogSize=457\ntickTime=2000\n\
            maxClientCnxns=60\nminSessionTimeout=4000\nmaxSessionTimeout=40000\n\
            clientPortListenBacklog=-1\nserverId=0\n";
        assert_eq!(respond(FourLetterWord::Conf, &all(), &snapshot()), expected);
    }

    #[test]
    fn mntr_prints_3_8s_keys_in_3_8s_order() {
        let text = respond(FourLetterWord::Mntr, &all(), &snapshot());
        let expected = format!(
            "zk_version\t{VERSION}\nzk_server_state\tstandalone\nzk_ephemerals_count\t1\n\
             zk_num_alive_connections\t2\nzk_avg_latency\t4.0\nzk_outstanding_requests\t0\n\
             zk_znode_count\t6\nzk_global_sessions\t1\nzk_last_client_response_size\t16\n\
             zk_packets_sent\t13\nzk_packets_received\t13\nzk_max_client_response_size\t93\n\
             zk_connection_drop_probability\t0.0\nzk_watch_count\t2\nzk_auth_failed_count\t0\n\
             zk_min_latency\t1\nzk_max_file_descriptor_count\t20000\n\
             zk_approximate_data_size\t45\nzk_open_file_descriptor_count\t41\nzk_uptime\t5768\n\
             zk_max_latency\t8\nzk_min_client_response_size\t16\n"
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn watch_words_list_the_data_table_by_session_by_path_and_in_sum() {
        // Shapes of a real 3.8 server's answers (its order is hash order; Keeper's sorted).
        let s = snapshot();
        assert_eq!(
            respond(FourLetterWord::Wchc, &all(), &s),
            "0x100007e33ae0002\n\t/a\n\t/b/c\n0x100007e33ae0003\n\t/a\n\n"
        );
        assert_eq!(
            respond(FourLetterWord::Wchp, &all(), &s),
            "/a\n\t0x100007e33ae0002\n\t0x100007e33ae0003\n/b/c\n\t0x100007e33ae0002\n\n"
        );
        assert_eq!(
            respond(FourLetterWord::Wchs, &all(), &s),
            "2 connections watching 2 paths\nTotal watches:3\n"
        );
        let none = ServerSnapshot {
            data_watches: vec![],
            ..s
        };
        assert_eq!(respond(FourLetterWord::Wchc, &all(), &none), "\n");
        assert_eq!(
            respond(FourLetterWord::Wchs, &all(), &none),
            "0 connections watching 0 paths\nTotal watches:0\n"
        );
    }

    #[test]
    fn dump_lists_expiry_buckets_ephemerals_and_connections_like_3_8() {
        let expected = "SessionTracker dump:\nSession Sets (1)/(1):\n\
            1 expire at Wed Dec 02 13:49:33 UTC 2026:\n\t0x100000636d30000\n\
            ephemeral nodes dump:\nSessions with Ephemerals (1):\n0x100000636d30000:\n\t/a/e\n\
            Connections dump:\nConnections Sets (2)/(2):\n\
            1 expire at Wed Dec 02 13:49:33 UTC 2026:\n\
            \tip: /127.0.0.1:36378 sessionId: 0x100000636d30000\n\
            1 expire at Wed Dec 02 13:49:53 UTC 2026:\n\tip: /127.0.0.1:36396 sessionId: 0x0\n";
        assert_eq!(respond(FourLetterWord::Dump, &all(), &snapshot()), expected);
    }

    #[test]
    fn small_words_answer_in_3_8s_words() {
        let s = snapshot();
        let say = |word| respond(word, &all(), &s);
        assert_eq!(say(FourLetterWord::Crst), "Connection stats reset.\n");
        assert_eq!(say(FourLetterWord::Srst), "Server stats reset.\n");
        assert_eq!(say(FourLetterWord::Gtmk), "306");
        assert_eq!(
            say(FourLetterWord::Dirs),
            "datadir_size: 457\nlogdir_size: 457\n"
        );
        assert_eq!(say(FourLetterWord::Hash), "80: 1234\n100: -1\n");
        assert_eq!(FourLetterWord::Srst.resets(&all()), Some(Reset::Server));
        assert_eq!(FourLetterWord::Crst.resets(&Whitelist::default()), None);
    }

    #[test]
    fn the_trace_mask_words_print_the_mask_even_before_the_server_serves() {
        // Upstream's TraceMaskCommand and SetTraceMaskCommand never ask isZKServerRunning.
        let starting = ServerSnapshot {
            serving: false,
            trace_mask: -1,
            ..snapshot()
        };
        assert_eq!(respond(FourLetterWord::Gtmk, &all(), &starting), "-1");
        assert_eq!(respond(FourLetterWord::Stmk, &all(), &starting), "-1");
        assert_eq!(
            respond(FourLetterWord::Srvr, &all(), &starting),
            format!("{NOT_SERVING}\n")
        );
        assert!(FourLetterWord::Stmk.reads_trace_mask(&all()));
        assert!(!FourLetterWord::Stmk.reads_trace_mask(&Whitelist::default()));
        assert!(!FourLetterWord::Gtmk.reads_trace_mask(&all()));
    }

    #[test]
    fn envi_starts_with_the_zookeeper_version() {
        let text = respond(FourLetterWord::Envi, &all(), &snapshot());
        assert_eq!(
            text,
            format!("Environment:\nzookeeper.version={VERSION}\nhost.name=localhost\n")
        );
    }

    #[test]
    fn a_word_outside_the_whitelist_is_refused_but_srvr_never_is() {
        // FourLetterCommands.isEnabled; NIOServerCnxn's NopCommand message.
        let default = Whitelist::default();
        assert_eq!(
            respond(FourLetterWord::Ruok, &default, &snapshot()),
            "ruok is not executed because it is not in the whitelist.\n"
        );
        assert!(respond(FourLetterWord::Srvr, &default, &snapshot()).contains("Mode: standalone"));
    }

    #[test]
    fn a_server_not_yet_serving_says_so() {
        let mut s = snapshot();
        s.serving = false;
        assert_eq!(
            respond(FourLetterWord::Srvr, &all(), &s),
            format!("{NOT_SERVING}\n")
        );
        assert_eq!(respond(FourLetterWord::Ruok, &all(), &s), "imok");
        assert_eq!(respond(FourLetterWord::Isro, &all(), &s), "null");
    }

    /// A quorum member's `conf` and `mntr`, as a real 3.8 ensemble's leader printed them.
    #[test]
    fn a_quorum_member_adds_its_keys_to_conf_and_mntr() {
        let mut s = snapshot();
        s.mode = "leader".into();
        s.quorum = Some(QuorumReport {
            init_limit: 10,
            sync_limit: 5,
            election_port: 38883,
            quorum_port: 28883,
            observer: false,
            membership: "server.1=127.0.0.1:28881:38881:participant\nversion=0".into(),
            peer_state: "leading - broadcast".into(),
            quorum_size: 3,
            leader: Some(LeaderReport {
                learners: 2,
                synced_followers: 2,
                synced_observers: 0,
                pending_syncs: 0,
                proposal_sizes: ResponseSizes {
                    min: 36,
                    max: 87,
                    last: 48,
                },
                last_proposed: Zxid(0x1_0000_0000),
            }),
        });
        // A leader's srvr ends with its proposal sizes, as 3.8's (`StatCommand`) does.
        let srvr = respond(FourLetterWord::Srvr, &Whitelist::All, &s);
        assert!(
            srvr.ends_with("Mode: leader\nNode count: 6\nProposal sizes last/min/max: 48/36/87\n"),
            "{srvr}"
        );
        let conf = respond(FourLetterWord::Conf, &Whitelist::All, &s);
        assert!(conf.ends_with(
            "serverId=0\ninitLimit=10\nsyncLimit=5\nelectionAlg=3\nelectionPort=38883\n\
             quorumPort=28883\npeerType=0\nmembership: \n\
             server.1=127.0.0.1:28881:38881:participant\nversion=0"
        ));
        let mntr = respond(FourLetterWord::Mntr, &Whitelist::All, &s);
        let lines: Vec<&str> = mntr.lines().collect();
        assert_eq!(
            lines[1..3],
            [
                "zk_server_state\tleader",
                "zk_peer_state\tleading - broadcast"
            ]
        );
        for line in [
            "zk_synced_followers\t2",
            "zk_synced_observers\t0",
            "zk_pending_syncs\t0",
            "zk_learners\t2",
            "zk_quorum_size\t3",
        ] {
            assert!(lines.contains(&line), "{line} in {mntr}");
        }
    }
}
