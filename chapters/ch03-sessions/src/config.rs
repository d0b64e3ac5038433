//! `zoo.cfg`: the one file a ZooKeeper operator writes, read the way ZooKeeper reads it.
//!
//! The idea to take away: a server's behaviour towards clients is set by a handful of numbers,
//! and most of them are counted in **ticks**. `tickTime` (ms) is the unit; session timeouts are
//! clamped to `2..20` ticks unless `minSessionTimeout`/`maxSessionTimeout` say otherwise, and
//! the quorum limits `initLimit`/`syncLimit` (used from chapter 6 on) are ticks too.
//!
//! The file is a Java properties file: `key=value` lines, `#` or `!` comments, blank lines. The
//! rules below follow upstream `QuorumPeerConfig.parseProperties` and `ZKConfig`:
//!
//! - a value that is not a number where a number is needed is a **fatal** error that names the
//!   key and the line (upstream throws `NumberFormatException` with less context);
//! - `dataDir` must be set; `clientPortAddress` needs `clientPort`;
//!   `minSessionTimeout <= maxSessionTimeout`;
//! - a key ZooKeeper does not know is **not** an error: upstream turns it into the Java system
//!   property `zookeeper.<key>` and carries on. Keeper keeps the ones it uses
//!   (`4lw.commands.whitelist`, `jute.maxbuffer`) and returns a [`Warning`] for the rest;
//! - `server.N=host:quorumPort:electionPort[:participant|observer][;[clientAddr:]clientPort]`
//!   lines are parsed and kept for the ensemble chapters, with `peerType` and
//!   `standaloneEnabled`; [`ZooCfg::is_distributed`] says whether they make a quorum
//!   (upstream `QuorumPeerConfig.isDistributed`). A server id is 1..=255: upstream's admin
//!   guide asks for it, and a session id carries it in its top byte.
//!
//! Differences from ZooKeeper, on purpose: with no `clientPortAddress` upstream listens on every
//! interface; Keeper listens on 127.0.0.1, because a workbook server should not be reachable
//! from the network by accident. Upstream reads `jute.maxbuffer` only as a JVM flag
//! (`-Djute.maxbuffer=...`); Keeper also accepts it in `zoo.cfg`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use ch01_znode::Sid;

use crate::properties;

/// The parsed configuration, with upstream's defaults filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZooCfg {
    /// The tick, in ms: the unit of every timeout below (`tickTime`, default 3000).
    pub tick_time_ms: u32,
    /// Ticks a follower may take to connect and sync to a new leader (`initLimit`).
    pub init_limit: Option<u32>,
    /// Ticks a follower may lag behind the leader (`syncLimit`).
    pub sync_limit: Option<u32>,
    /// Where snapshots (and `myid`) live (`dataDir`, required).
    pub data_dir: PathBuf,
    /// Where the txn log lives (`dataLogDir`, defaults to `dataDir`).
    pub data_log_dir: Option<PathBuf>,
    /// The client port (`clientPort`); `None` means no client listener.
    pub client_port: Option<u16>,
    /// The address the client listener binds (`clientPortAddress`, Keeper default 127.0.0.1).
    pub client_port_address: IpAddr,
    /// Connections allowed from one client IP (`maxClientCnxns`, default 60, 0 = no limit).
    pub max_client_cnxns: u32,
    /// Lower bound for a negotiated session timeout, ms (default 2 ticks).
    pub min_session_timeout_ms: u32,
    /// Upper bound for a negotiated session timeout, ms (default 20 ticks).
    pub max_session_timeout_ms: u32,
    /// About how many txns between snapshots (`snapCount`, default 100000, at least 2).
    pub snap_count: u32,
    /// How many recent txns a leader keeps to sync a learner by DIFF (`commitLogCount`,
    /// upstream's `zookeeper.commitLogCount`: default 500, and a smaller value is raised to 500).
    pub commit_log_count: u32,
    /// Bytes a txn log file grows by ahead of its records (`preAllocSize`, given in KiB,
    /// default 64 MiB).
    pub pre_alloc_size: u64,
    /// About how many bytes of log between snapshots (`snapSizeLimitInKb`, given in KiB,
    /// default 4 GiB; 0 or less turns the size rule off, which is 0 here).
    pub snap_size_limit: u64,
    /// Whether a txn is fsynced before it is acknowledged (`forceSync`: anything but `no`).
    pub force_sync: bool,
    /// Snapshots kept by the purge task (`autopurge.snapRetainCount`, default 3).
    pub autopurge_snap_retain_count: u32,
    /// Hours between purges (`autopurge.purgeInterval`, default 0 = never).
    pub autopurge_purge_interval_hours: u32,
    /// Which four-letter words answer (`4lw.commands.whitelist`, default `srvr`).
    pub four_letter_words: Whitelist,
    /// Largest frame a client may send, bytes (`jute.maxbuffer`, default 0xfffff).
    pub jute_max_buffer: u32,
    /// The ensemble's members (`server.N=...`), by server id.
    pub servers: BTreeMap<Sid, ServerLine>,
    /// `standaloneEnabled` (default true): one participant then runs as a standalone server;
    /// false makes even a single server line a quorum of one.
    pub standalone_enabled: bool,
    /// `peerType=observer|participant`; the server lines win when they disagree.
    pub peer_type_observer: bool,
}

/// `4lw.commands.whitelist`: `*` or a comma-separated list. `srvr` is always allowed, because
/// `zkServer.sh status` depends on it (upstream `FourLetterCommands.isEnabled`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Whitelist {
    /// `*`: every command.
    All,
    /// The listed commands (plus `srvr`).
    Only(BTreeSet<String>),
}

impl Whitelist {
    /// Parses the property value; `srvr` is added as upstream does.
    pub fn parse(value: &str) -> Whitelist {
        let mut only = BTreeSet::from(["srvr".to_string()]);
        for cmd in value.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            if cmd == "*" {
                return Whitelist::All;
            }
            only.insert(cmd.to_string());
        }
        Whitelist::Only(only)
    }

    /// Is this four-letter word allowed to run?
    pub fn allows(&self, cmd: &str) -> bool {
        match self {
            Whitelist::All => true,
            Whitelist::Only(cmds) => cmds.contains(cmd),
        }
    }
}

impl Default for Whitelist {
    fn default() -> Self {
        Whitelist::parse("")
    }
}

/// A `server.N` line: one member of the ensemble (used from chapter 5 on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerLine {
    /// The member's host name or address.
    pub host: String,
    /// Followers connect to the leader here (2888 in the course).
    pub quorum_port: u16,
    /// Leader election runs here (3888 in the course).
    pub election_port: u16,
    /// `observer` members see every commit but never vote.
    pub observer: bool,
    /// The optional `;[addr:]clientPort` part (dynamic reconfig syntax).
    pub client: Option<String>,
    /// The zoo.cfg line it was read from (1-based), for errors about it.
    pub line: usize,
}

impl ServerLine {
    /// Parses `host:quorumPort:electionPort[:participant|observer][;[clientAddr:]clientPort]`
    /// (upstream `QuorumPeer.QuorumServer`), found on line `line`; the error says what is
    /// wrong with it.
    pub fn parse(value: &str, line: usize) -> Result<ServerLine, String> {
        let (members, client) = match value.split_once(';') {
            Some((m, c)) => (m, Some(c.trim().to_string())),
            None => (value, None),
        };
        let parts: Vec<&str> = members.split(':').map(str::trim).collect();
        if !(3..=4).contains(&parts.len()) || parts[0].is_empty() {
            return Err("expected host:quorumPort:electionPort[:participant|observer]".into());
        }
        let port = |s: &str| s.parse::<u16>().map_err(|_| format!("{s} is not a port"));
        let observer = match parts.get(3).copied() {
            None | Some("participant") => false,
            Some("observer") => true,
            Some(other) => return Err(format!("unknown peer type {other}")),
        };
        if let Some(client) = &client {
            let port_text = client.rsplit(':').next().unwrap_or_default();
            port(port_text)?;
        }
        Ok(ServerLine {
            host: parts[0].to_string(),
            quorum_port: port(parts[1])?,
            election_port: port(parts[2])?,
            observer,
            client,
            line,
        })
    }

    /// The client port its `;[addr:]port` part names, if any.
    pub fn client_port(&self) -> Option<u16> {
        self.client.as_deref()?.rsplit(':').next()?.parse().ok()
    }
}

/// Something in the file that is not fatal but that the operator should hear about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// 1-based line number in the file.
    pub line: usize,
    /// The key it is about.
    pub key: String,
    /// What Keeper did about it.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "zoo.cfg line {}: {}: {}",
            self.line, self.key, self.message
        )
    }
}

/// A fatal configuration problem: the server does not start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The line it was found on, when it is about one line.
    pub line: Option<usize>,
    /// What is wrong, naming the key.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "zoo.cfg line {line}: {}", self.message),
            None => write!(f, "zoo.cfg: {}", self.message),
        }
    }
}

impl ConfigError {
    /// The error naming the file it is in: `conf/zoo.cfg line 3: ...`.
    pub fn in_file(&self, path: &std::path::Path) -> String {
        match self.line {
            Some(line) => format!("{} line {line}: {}", path.display(), self.message),
            None => format!("{}: {}", path.display(), self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Keys upstream understands that Keeper accepts and ignores, with no warning about typos.
/// `zookeeper.commitLogCount`'s default and least value (`ZKDatabase.DEFAULT_COMMIT_LOG_COUNT`).
const DEFAULT_COMMIT_LOG_COUNT: u32 = 500;

const KNOWN_UNUSED: &[&str] = &[
    "admin.enableServer",
    "admin.serverPort",
    "admin.serverAddress",
    "reconfigEnabled",
    "syncEnabled",
    "clientPortListenBacklog",
    "secureClientPort",
    "localSessionsEnabled",
    "globalOutstandingLimit",
    "metricsProvider.className",
];

/// The default `jute.maxbuffer`: 0xfffff bytes (upstream `BinaryInputArchive.maxBuffer`).
pub const DEFAULT_JUTE_MAX_BUFFER: u32 = 0xfffff;

impl ZooCfg {
    /// Parses the text of a `zoo.cfg`. Returns the config and the warnings to print.
    pub fn parse(text: &str) -> Result<(ZooCfg, Vec<Warning>), ConfigError> {
        let mut raw = Raw::default();
        let mut warnings = Vec::new();
        // Upstream trims both (`QuorumPeerConfig.parseProperties`).
        for property in properties::parse(text) {
            let (key, value) = (property.key.trim(), property.value.trim());
            raw.take(property.line, key, value, &mut warnings)?;
        }
        Ok((raw.finish()?, warnings))
    }

    /// Reads and parses a `zoo.cfg` file.
    pub fn load(path: &std::path::Path) -> Result<(ZooCfg, Vec<Warning>), ConfigError> {
        // The path is left out: every caller names the file ([`ConfigError::in_file`]), and
        // naming it here too would print it twice.
        let bytes = std::fs::read(path).map_err(|e| ConfigError {
            line: None,
            message: format!("cannot read it: {e}"),
        })?;
        ZooCfg::parse(&properties::decode(&bytes))
    }

    // ANCHOR: negotiate
    /// The negotiated session timeout for a client that asked for `requested_ms`
    /// (upstream `ZooKeeperServer.processConnectRequest`: clamp to min..max).
    pub fn negotiate_session_timeout(&self, requested_ms: i32) -> i32 {
        let min = self.min_session_timeout_ms as i32;
        let max = self.max_session_timeout_ms as i32;
        requested_ms.clamp(min, max)
    }
    // ANCHOR_END: negotiate
}

/// The values as found, before defaults and cross-key checks.
#[derive(Default)]
struct Raw {
    tick_time_ms: Option<u32>,
    init_limit: Option<u32>,
    sync_limit: Option<u32>,
    data_dir: Option<PathBuf>,
    data_log_dir: Option<PathBuf>,
    snap_count: Option<u32>,
    commit_log_count: Option<u32>,
    pre_alloc_size_kib: Option<u64>,
    snap_size_limit_kib: Option<i64>,
    force_sync: Option<bool>,
    client_port: Option<u16>,
    client_port_address: Option<(usize, IpAddr)>,
    max_client_cnxns: Option<u32>,
    min_session_timeout_ms: Option<i64>,
    max_session_timeout_ms: Option<i64>,
    autopurge_snap_retain_count: Option<u32>,
    autopurge_purge_interval_hours: Option<u32>,
    four_letter_words: Option<Whitelist>,
    jute_max_buffer: Option<u32>,
    servers: BTreeMap<Sid, ServerLine>,
    standalone_enabled: Option<bool>,
    peer_type_observer: Option<bool>,
}

impl Raw {
    fn take(
        &mut self,
        line: usize,
        key: &str,
        value: &str,
        warnings: &mut Vec<Warning>,
    ) -> Result<(), ConfigError> {
        let num = |v: &str| java_int(line, key, v);
        match key {
            "tickTime" => self.tick_time_ms = Some(positive(line, key, num(value)?)?),
            "initLimit" => self.init_limit = Some(num(value)?),
            "syncLimit" => self.sync_limit = Some(num(value)?),
            "dataDir" => self.data_dir = Some(path(line, key, value)?),
            "dataLogDir" => self.data_log_dir = Some(path(line, key, value)?),
            // Upstream reads these five as system properties (`zookeeper.snapCount`, ...),
            // which a zoo.cfg key it does not know becomes.
            "snapCount" => self.snap_count = Some(num(value)?),
            "commitLogCount" => self.commit_log_count = Some(num(value)?),
            "preAllocSize" => self.pre_alloc_size_kib = Some(number::<u64>(line, key, value)?),
            "snapSizeLimitInKb" => {
                self.snap_size_limit_kib = Some(number::<i64>(line, key, value)?)
            }
            "forceSync" => self.force_sync = Some(value != "no"),
            "clientPort" => self.client_port = Some(number::<u16>(line, key, value)?),
            "clientPortAddress" => {
                let addr = value.parse::<IpAddr>().map_err(|_| ConfigError {
                    line: Some(line),
                    message: format!("{key}={value} is not an IP address"),
                })?;
                self.client_port_address = Some((line, addr));
            }
            "maxClientCnxns" => self.max_client_cnxns = Some(num(value)?),
            // -1 means "use the default" for both bounds, as upstream.
            "minSessionTimeout" => {
                self.min_session_timeout_ms = Some(number::<i32>(line, key, value)?.into())
            }
            "maxSessionTimeout" => {
                self.max_session_timeout_ms = Some(number::<i32>(line, key, value)?.into())
            }
            "autopurge.snapRetainCount" => self.autopurge_snap_retain_count = Some(num(value)?),
            "autopurge.purgeInterval" => self.autopurge_purge_interval_hours = Some(num(value)?),
            "4lw.commands.whitelist" => self.four_letter_words = Some(Whitelist::parse(value)),
            "jute.maxbuffer" => self.jute_max_buffer = Some(positive(line, key, num(value)?)?),
            "standaloneEnabled" => self.standalone_enabled = Some(boolean(line, key, value)?),
            // Upstream: `Unrecognised peertype` for anything else, case-insensitively.
            "peerType" => {
                self.peer_type_observer = Some(match value.to_lowercase().as_str() {
                    "observer" => true,
                    "participant" => false,
                    _ => {
                        return Err(ConfigError {
                            line: Some(line),
                            message: format!("Unrecognised peertype: {value}"),
                        })
                    }
                })
            }
            // Only FastLeaderElection (3) is left since 3.6.
            "electionAlg" if value != "3" => {
                return Err(ConfigError {
                    line: Some(line),
                    message: format!(
                        "electionAlg={value}: Invalid electionAlg value. Only 3 is supported."
                    ),
                })
            }
            "electionAlg" => {}
            _ if key.starts_with("server.") => {
                let sid = server_id(line, key)?;
                let server = ServerLine::parse(value, line).map_err(|why| ConfigError {
                    line: Some(line),
                    message: format!("{key}={value}: {why}"),
                })?;
                if let Some(first) = self.servers.insert(sid, server) {
                    return Err(ConfigError {
                        line: Some(line),
                        message: format!("{key} is already set on line {}", first.line),
                    });
                }
            }
            _ if KNOWN_UNUSED.contains(&key) => warnings.push(Warning {
                line,
                key: key.to_string(),
                message: "understood by ZooKeeper, not used by Keeper; ignored".to_string(),
            }),
            _ => warnings.push(Warning {
                line,
                key: key.to_string(),
                message: format!(
                    "unknown key, ignored (ZooKeeper would set system property zookeeper.{key})"
                ),
            }),
        }
        Ok(())
    }

    fn finish(self) -> Result<ZooCfg, ConfigError> {
        let tick_time_ms = self.tick_time_ms.unwrap_or(3000);
        let data_dir = self.data_dir.ok_or_else(|| ConfigError {
            line: None,
            message: "dataDir is not set".to_string(),
        })?;
        let client_port_address = match (self.client_port_address, self.client_port) {
            (Some((line, _)), None) => {
                return Err(ConfigError {
                    line: Some(line),
                    message: "clientPortAddress is set but clientPort is not set".to_string(),
                })
            }
            (Some((_, addr)), Some(_)) => addr,
            (None, _) => IpAddr::from([127, 0, 0, 1]),
        };
        // Upstream's defaults are 2 and 20 ticks, in Java ints: a tick past a twentieth of
        // i32::MAX wraps there, into a bound that is negative or nonsense. Here it is an error.
        let bound = |value: Option<i64>, ticks: i64, key: &str| {
            let ms = match value {
                None | Some(-1) => i64::from(tick_time_ms) * ticks,
                Some(ms) => ms,
            };
            u32::try_from(ms)
                .ok()
                .filter(|ms| i32::try_from(*ms).is_ok())
                .ok_or_else(|| ConfigError {
                    line: None,
                    message: match value {
                        None | Some(-1) => format!(
                            "{key} defaults to {ticks} ticks, {ms} ms, which is out of range: \
                             set {key} or a shorter tickTime"
                        ),
                        Some(_) => format!("{key} {ms} is out of range"),
                    },
                })
        };
        let min_session_timeout_ms = bound(self.min_session_timeout_ms, 2, "minSessionTimeout")?;
        let max_session_timeout_ms = bound(self.max_session_timeout_ms, 20, "maxSessionTimeout")?;
        if min_session_timeout_ms > max_session_timeout_ms {
            return Err(ConfigError {
                line: None,
                message: format!(
                    "minSessionTimeout ({min_session_timeout_ms}) must not be larger than \
                     maxSessionTimeout ({max_session_timeout_ms})"
                ),
            });
        }
        Ok(ZooCfg {
            tick_time_ms,
            init_limit: self.init_limit,
            sync_limit: self.sync_limit,
            data_dir,
            data_log_dir: self.data_log_dir,
            snap_count: self.snap_count.unwrap_or(100_000).max(2),
            commit_log_count: self
                .commit_log_count
                .unwrap_or(DEFAULT_COMMIT_LOG_COUNT)
                .max(DEFAULT_COMMIT_LOG_COUNT),
            pre_alloc_size: self.pre_alloc_size_kib.unwrap_or(64 * 1024) * 1024,
            snap_size_limit: self
                .snap_size_limit_kib
                .unwrap_or(DEFAULT_SNAP_SIZE_LIMIT_KIB)
                .max(0) as u64
                * 1024,
            force_sync: self.force_sync.unwrap_or(true),
            client_port: self.client_port,
            client_port_address,
            max_client_cnxns: self.max_client_cnxns.unwrap_or(60),
            min_session_timeout_ms,
            max_session_timeout_ms,
            autopurge_snap_retain_count: self.autopurge_snap_retain_count.unwrap_or(3),
            autopurge_purge_interval_hours: self.autopurge_purge_interval_hours.unwrap_or(0),
            four_letter_words: self.four_letter_words.unwrap_or_default(),
            jute_max_buffer: self.jute_max_buffer.unwrap_or(DEFAULT_JUTE_MAX_BUFFER),
            servers: self.servers,
            standalone_enabled: self.standalone_enabled.unwrap_or(true),
            peer_type_observer: self.peer_type_observer.unwrap_or(false),
        })
        .and_then(ZooCfg::check_members)
    }
}

impl ZooCfg {
    /// Whether the server lines make a quorum (upstream `QuorumPeerConfig.isDistributed`): two
    /// or more participants, or any participant with `standaloneEnabled=false`. Otherwise the
    /// server runs standalone; upstream logs "only one server specified (ignoring)".
    pub fn is_distributed(&self) -> bool {
        let participants = self.servers.values().filter(|s| !s.observer).count();
        participants > 1 || (participants == 1 && !self.standalone_enabled)
    }

    /// Upstream `QuorumPeerConfig.parseDynamicConfig`'s checks on who votes.
    fn check_members(self) -> Result<ZooCfg, ConfigError> {
        let participants = self.servers.values().filter(|s| !s.observer).count();
        let observers = self.servers.len() - participants;
        let error = |message: &str| {
            Err(ConfigError {
                line: None,
                message: message.to_string(),
            })
        };
        match (participants, observers) {
            (0, _) if !self.servers.is_empty() && !self.standalone_enabled => {
                error("standaloneEnabled = false then number of participants should be >0")
            }
            (0, 1..) => error("Observers w/o participants is an invalid configuration"),
            (1, 1..) if self.standalone_enabled => {
                error("Observers w/o quorum is an invalid configuration")
            }
            _ => Ok(self),
        }
    }
}

/// The id in a `server.N` key: a number in 1..=255.
fn server_id(line: usize, key: &str) -> Result<Sid, ConfigError> {
    let id = &key["server.".len()..];
    match id.parse::<u64>() {
        Ok(n @ 1..=255) => Ok(Sid(n)),
        Ok(n) => Err(ConfigError {
            line: Some(line),
            message: format!("{key}: server id {n} is out of range 1..=255"),
        }),
        Err(_) => Err(ConfigError {
            line: Some(line),
            message: format!("{key}: the server id after \"server.\" must be a number"),
        }),
    }
}

/// Upstream's `parseBoolean`: `true` or `false`, in any case.
fn boolean(line: usize, key: &str, value: &str) -> Result<bool, ConfigError> {
    match value.to_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ConfigError {
            line: Some(line),
            message: format!("Invalid option {value} for {key}. Choose 'true' or 'false.'"),
        }),
    }
}

/// `zookeeper.snapSizeLimitInKb`'s default: 4 GiB of log between snapshots.
pub const DEFAULT_SNAP_SIZE_LIMIT_KIB: i64 = 4 * 1024 * 1024;

fn number<T: std::str::FromStr>(line: usize, key: &str, value: &str) -> Result<T, ConfigError> {
    value.parse().map_err(|_| ConfigError {
        line: Some(line),
        message: format!("{key}={value} is not a valid number"),
    })
}

/// A key upstream reads with `Integer.parseInt`: a number past `i32::MAX` is no number to it.
/// Negative ones are refused too, as none of these keys means anything below zero.
fn java_int(line: usize, key: &str, value: &str) -> Result<u32, ConfigError> {
    let n = number::<u32>(line, key, value)?;
    if i32::try_from(n).is_err() {
        return Err(ConfigError {
            line: Some(line),
            message: format!("{key}={value} is not a valid number"),
        });
    }
    Ok(n)
}

fn positive(line: usize, key: &str, value: u32) -> Result<u32, ConfigError> {
    if value == 0 {
        return Err(ConfigError {
            line: Some(line),
            message: format!("{key} must be greater than 0"),
        });
    }
    Ok(value)
}

fn path(line: usize, key: &str, value: &str) -> Result<PathBuf, ConfigError> {
    if value.is_empty() {
        return Err(ConfigError {
            line: Some(line),
            message: format!("{key} is empty"),
        });
    }
    Ok(PathBuf::from(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The course's zoo.cfg, as the student edits it (notes.md, 本地安装).
    const SEED: &str = "\
# The number of milliseconds of each tick
tickTime=2000
# The number of ticks that the initial
# synchronization phase can take
initLimit=10
syncLimit=5
dataDir=/opt/module/zookeeper-3.5.7/zkData
clientPort=2181
#maxClientCnxns=60
#autopurge.snapRetainCount=3
#autopurge.purgeInterval=1
";

    /// Whatever `java.util.Properties` reads is a zoo.cfg: a blank as the separator, a line
    /// continued by a backslash, a comment in ISO 8859-1.
    #[test]
    fn a_zoo_cfg_is_read_as_java_reads_a_properties_file() {
        let dir = std::env::temp_dir().join(format!("keeper-properties-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("zoo.cfg");
        let text = b"# caf\xe9\ntickTime 3000\ndataDir=/tmp/zk\nclientPort=218\\\n   1\n";
        std::fs::write(&path, text).unwrap();
        let loaded = ZooCfg::load(&path);
        std::fs::remove_dir_all(&dir).unwrap();
        let (cfg, warnings) = loaded.expect("it parses");
        assert_eq!(cfg.tick_time_ms, 3000);
        assert_eq!(cfg.client_port, Some(2181));
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn the_seed_config_parses_with_upstream_defaults() {
        let (cfg, warnings) = ZooCfg::parse(SEED).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(cfg.tick_time_ms, 2000);
        assert_eq!(cfg.init_limit, Some(10));
        assert_eq!(cfg.sync_limit, Some(5));
        assert_eq!(
            cfg.data_dir,
            PathBuf::from("/opt/module/zookeeper-3.5.7/zkData")
        );
        assert_eq!(cfg.client_port, Some(2181));
        assert_eq!(cfg.max_client_cnxns, 60);
        // ZooKeeperServer: min = 2 ticks, max = 20 ticks when not set.
        assert_eq!(
            (cfg.min_session_timeout_ms, cfg.max_session_timeout_ms),
            (4000, 40000)
        );
        assert_eq!(cfg.autopurge_snap_retain_count, 3);
        assert_eq!(cfg.autopurge_purge_interval_hours, 0);
        assert_eq!(cfg.jute_max_buffer, 0xfffff);
        assert!(cfg.four_letter_words.allows("srvr"));
        assert!(!cfg.four_letter_words.allows("ruok"));
    }

    #[test]
    fn session_timeouts_are_clamped_to_the_configured_bounds() {
        let (cfg, _) = ZooCfg::parse(SEED).unwrap();
        assert_eq!(cfg.negotiate_session_timeout(30_000), 30_000);
        assert_eq!(cfg.negotiate_session_timeout(1_000), 4_000);
        assert_eq!(cfg.negotiate_session_timeout(100_000), 40_000);
        let (cfg, _) = ZooCfg::parse(&format!(
            "{SEED}minSessionTimeout=100\nmaxSessionTimeout=-1\n"
        ))
        .unwrap();
        assert_eq!(cfg.negotiate_session_timeout(50), 100);
        assert_eq!(cfg.max_session_timeout_ms, 40_000);
    }

    #[test]
    fn a_bad_number_is_an_error_naming_the_key_and_line() {
        let err = ZooCfg::parse("dataDir=/d\ntickTime=two\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "zoo.cfg line 2: tickTime=two is not a valid number"
        );
        let err = ZooCfg::parse("dataDir=/d\nclientPort=70000\n").unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(err.message.contains("clientPort"));
    }

    #[test]
    fn unknown_keys_are_warnings_not_errors() {
        let (_, warnings) =
            ZooCfg::parse("dataDir=/d\nfancyFeature=yes\nsyncEnabled=true\n").unwrap();
        assert_eq!(warnings.len(), 2);
        assert_eq!(
            warnings[0].to_string(),
            "zoo.cfg line 2: fancyFeature: unknown key, ignored \
             (ZooKeeper would set system property zookeeper.fancyFeature)"
        );
        assert_eq!(warnings[1].key, "syncEnabled");
    }

    #[test]
    fn the_txn_log_keys_are_read_as_upstream_reads_their_properties() {
        let (cfg, warnings) =
            ZooCfg::parse("dataDir=/d\nsnapCount=1\npreAllocSize=16\nforceSync=no\n").unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        // snapCount below 2 is raised to 2; preAllocSize is in KiB; only "no" turns fsync off.
        assert_eq!(
            (cfg.snap_count, cfg.pre_alloc_size, cfg.force_sync),
            (2, 16 * 1024, false)
        );
        let (cfg, _) = ZooCfg::parse("dataDir=/d\nforceSync=false\n").unwrap();
        assert_eq!(
            (cfg.snap_count, cfg.pre_alloc_size, cfg.force_sync),
            (100_000, 64 << 20, true)
        );
        // snapSizeLimitInKb is in KiB, 4 GiB by default; 0 or less turns the rule off.
        assert_eq!(cfg.snap_size_limit, 4 << 30);
        // commitLogCount is 500 by default, and at least 500 (`ZKDatabase`).
        assert_eq!(cfg.commit_log_count, 500);
        for (given, read) in [("2000", 2000), ("10", 500)] {
            let (cfg, warnings) =
                ZooCfg::parse(&format!("dataDir=/d\ncommitLogCount={given}\n")).unwrap();
            assert!(warnings.is_empty(), "{warnings:?}");
            assert_eq!(cfg.commit_log_count, read, "commitLogCount={given}");
        }
        let err = ZooCfg::parse("dataDir=/d\ncommitLogCount=many\n").unwrap_err();
        assert_eq!(err.message, "commitLogCount=many is not a valid number");
        let (cfg, _) = ZooCfg::parse("dataDir=/d\nsnapSizeLimitInKb=8\n").unwrap();
        assert_eq!(cfg.snap_size_limit, 8 * 1024);
        let (cfg, _) = ZooCfg::parse("dataDir=/d\nsnapSizeLimitInKb=-1\n").unwrap();
        assert_eq!(cfg.snap_size_limit, 0);
    }

    #[test]
    fn data_dir_is_required() {
        let err = ZooCfg::parse("tickTime=2000\n").unwrap_err();
        assert_eq!(err.to_string(), "zoo.cfg: dataDir is not set");
    }

    #[test]
    fn min_session_timeout_may_not_exceed_max() {
        let err = ZooCfg::parse("dataDir=/d\nminSessionTimeout=9000\nmaxSessionTimeout=5000\n")
            .unwrap_err();
        assert!(err
            .message
            .starts_with("minSessionTimeout (9000) must not be larger"));
    }

    /// Found by fuzzing `zoo.cfg`: a bound past `i32::MAX` became a negative one where the
    /// pipeline clamps a client's timeout, which panicked at the first handshake; and a long
    /// tick overflowed the default bounds. ZooKeeper reads these keys as Java ints.
    #[test]
    fn numbers_past_a_java_int_and_bounds_a_long_tick_overflows_are_errors() {
        let err = ZooCfg::parse("dataDir=/d\nmaxSessionTimeout=3000000000\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "zoo.cfg line 2: maxSessionTimeout=3000000000 is not a valid number"
        );
        let err = ZooCfg::parse("dataDir=/d\nsnapCount=2147483648\n").unwrap_err();
        assert_eq!(err.message, "snapCount=2147483648 is not a valid number");
        let err = ZooCfg::parse("dataDir=/d\ntickTime=302831090\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "zoo.cfg: maxSessionTimeout defaults to 20 ticks, 6056621800 ms, which is out of \
             range: set maxSessionTimeout or a shorter tickTime"
        );
        let (cfg, _) =
            ZooCfg::parse("dataDir=/d\ntickTime=302831090\nmaxSessionTimeout=2147483647\n")
                .unwrap();
        assert_eq!(cfg.negotiate_session_timeout(i32::MAX), i32::MAX);
        let err = ZooCfg::parse("dataDir=/d\nminSessionTimeout=-5\n").unwrap_err();
        assert_eq!(err.message, "minSessionTimeout -5 is out of range");
    }

    #[test]
    fn client_port_address_needs_client_port() {
        let err = ZooCfg::parse("dataDir=/d\nclientPortAddress=127.0.0.1\n").unwrap_err();
        assert_eq!(err.line, Some(2));
        let (cfg, _) = ZooCfg::parse("dataDir=/d\nclientPort=1\nclientPortAddress=::1\n").unwrap();
        assert_eq!(cfg.client_port_address, "::1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn the_whitelist_always_allows_srvr_and_star_allows_everything() {
        let (cfg, _) = ZooCfg::parse("dataDir=/d\n4lw.commands.whitelist=ruok, stat\n").unwrap();
        for cmd in ["ruok", "stat", "srvr"] {
            assert!(cfg.four_letter_words.allows(cmd), "{cmd}");
        }
        assert!(!cfg.four_letter_words.allows("mntr"));
        let (cfg, _) = ZooCfg::parse("dataDir=/d\n4lw.commands.whitelist=*\n").unwrap();
        assert!(cfg.four_letter_words.allows("mntr"));
    }

    #[test]
    fn server_lines_are_kept_for_the_ensemble_chapters() {
        let text = "dataDir=/d\nserver.1=127.0.0.1:2888:3888\n\
                    server.2=127.0.0.1:2889:3889:observer;127.0.0.1:2182\njute.maxbuffer=4096\n\
                    server.3=127.0.0.1:2890:3890\n";
        let (cfg, _) = ZooCfg::parse(text).unwrap();
        assert_eq!(cfg.jute_max_buffer, 4096);
        assert_eq!(
            cfg.servers[&Sid(1)],
            ServerLine {
                host: "127.0.0.1".into(),
                quorum_port: 2888,
                election_port: 3888,
                observer: false,
                client: None,
                line: 2,
            }
        );
        assert!(cfg.servers[&Sid(2)].observer);
        assert_eq!(
            cfg.servers[&Sid(2)].client.as_deref(),
            Some("127.0.0.1:2182")
        );
        let err = ZooCfg::parse("dataDir=/d\nserver.x=a:1:2\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "zoo.cfg line 2: server.x: the server id after \"server.\" must be a number"
        );
    }

    /// Upstream `QuorumPeerConfig.isDistributed`: two participants make a quorum; one makes
    /// a standalone server unless `standaloneEnabled=false`.
    #[test]
    fn server_lines_make_a_quorum_when_two_vote_or_standalone_is_disabled() {
        let one = "dataDir=/d\nserver.1=127.0.0.1:2888:3888\n";
        assert!(!ZooCfg::parse(one).unwrap().0.is_distributed());
        let alone = format!("{one}standaloneEnabled=false\n");
        assert!(ZooCfg::parse(&alone).unwrap().0.is_distributed());
        let two = format!("{one}server.2=127.0.0.1:2889:3889\n");
        assert!(ZooCfg::parse(&two).unwrap().0.is_distributed());
        let err =
            ZooCfg::parse(&format!("{one}server.2=127.0.0.1:2889:3889:observer\n")).unwrap_err();
        assert_eq!(
            err.message,
            "Observers w/o quorum is an invalid configuration"
        );
    }

    #[test]
    fn a_bad_server_line_or_quorum_key_is_an_error_naming_its_line() {
        for (text, expected) in [
            (
                "server.0=a:1:2",
                "zoo.cfg line 2: server.0: server id 0 is out of range 1..=255",
            ),
            (
                "server.256=a:1:2",
                "zoo.cfg line 2: server.256: server id 256 is out of range 1..=255",
            ),
            (
                "server.1=a:1",
                "zoo.cfg line 2: server.1=a:1: expected host:quorumPort:electionPort[:participant|observer]",
            ),
            (
                "server.1=a:1:2;x",
                "zoo.cfg line 2: server.1=a:1:2;x: x is not a port",
            ),
            (
                "server.1=a:1:2\nserver.1=a:3:4",
                "zoo.cfg line 3: server.1 is already set on line 2",
            ),
            ("peerType=boss", "zoo.cfg line 2: Unrecognised peertype: boss"),
            (
                "standaloneEnabled=yes",
                "zoo.cfg line 2: Invalid option yes for standaloneEnabled. Choose 'true' or 'false.'",
            ),
            (
                "electionAlg=1",
                "zoo.cfg line 2: electionAlg=1: Invalid electionAlg value. Only 3 is supported.",
            ),
        ] {
            let err = ZooCfg::parse(&format!("dataDir=/d\n{text}\n")).unwrap_err();
            assert_eq!(err.to_string(), expected, "{text}");
        }
        let err = ZooCfg::parse("dataDir=/d\nserver.1=a:1\n").unwrap_err();
        assert_eq!(
            err.in_file(std::path::Path::new("conf/zoo.cfg")),
            "conf/zoo.cfg line 2: server.1=a:1: expected host:quorumPort:electionPort[:participant|observer]"
        );
    }

    #[test]
    fn a_file_that_cannot_be_read_is_named_once() {
        let path = std::path::Path::new("/no/such/conf/zoo.cfg");
        let said = ZooCfg::load(path).unwrap_err().in_file(path);
        assert!(
            said.starts_with("/no/such/conf/zoo.cfg: cannot read it: "),
            "{said}"
        );
        assert_eq!(said.matches("zoo.cfg").count(), 1, "{said}");
    }
}
