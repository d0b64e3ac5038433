//! The backend: the client API the shell's commands call.
//!
//! zkCli's commands are written against the Java `ZooKeeper` client object — `create`,
//! `getData`, `setData`, `getChildren`, `multi`, … — and never see how it reaches a server.
//! [`Backend`] is that object's surface. Chapter 1 implements it on an in-memory tree
//! ([`LocalBackend`]); chapter 2 implements it for several named clients sharing one tree
//! with watches; chapter 3 implements it over ZooKeeper's wire protocol. The parser and the
//! printer stay the same for all three.
//!
//! Every write is one request: the trait's write methods (`create`, `setData`, `multi`, …)
//! build a [`Request`], hand it to [`Backend::write`] and pick their answer out of the txn's
//! result, as the Java client's methods build a record and submit it. So a local backend
//! implements `write` and the reads, and gets the write methods as they are.
//!
//! Paths arrive already validated (the Java client checks them before sending, and so does
//! our shell); errors go back as [`ZkError`] codes, which the printer turns into zkCli's texts.

use crate::acl::Acl;
use crate::error::ZkError;
use crate::mode::CreateMode;
use crate::server::Standalone;
use crate::stat::Stat;
use crate::tree::{DataTree, TxnResult};
use crate::txn::{Request, Txn};
use crate::watch::{AddWatchMode, WatchedEvent, WatcherType};
use crate::zxid::{SessionId, Sid};
use crate::Applied;

use super::command::Reconfig;

/// The node that holds the ensemble's configuration (`ZooDefs.CONFIG_NODE`).
pub const CONFIG_NODE: &str = "/zookeeper/config";

// ANCHOR: backend
/// The client operations zkCli's commands need (the `ZooKeeper` class's methods).
pub trait Backend {
    /// The connect string shown in the prompt, e.g. `local` or `127.0.0.1:2181`.
    fn connect_string(&self) -> String;
    /// The client state shown in the prompt: `CONNECTED`, `CLOSED`, …
    fn state(&self) -> &'static str;

    // The reads, and the end of the session.

    fn get_data(&mut self, path: &str, watch: bool) -> Result<(Option<Vec<u8>>, Stat), ZkError>;
    /// `exists`: NoNode when there is no node (a watch, if asked, is still set).
    fn exists(&mut self, path: &str, watch: bool) -> Result<Stat, ZkError>;
    /// Child names in any order (the shell sorts, as zkCli does).
    fn get_children(&mut self, path: &str, watch: bool) -> Result<(Vec<String>, Stat), ZkError>;
    fn get_acl(&mut self, path: &str) -> Result<(Vec<Acl>, Stat), ZkError>;
    fn get_all_children_number(&mut self, path: &str) -> Result<i32, ZkError>;
    /// The session's own ephemeral nodes under `prefix`.
    fn get_ephemerals(&mut self, prefix: &str) -> Result<Vec<String>, ZkError>;
    /// Ends the session (its ephemeral nodes go with it).
    fn close(&mut self) -> Result<(), ZkError>;

    // The writes: each is one request, submitted by `write`.

    /// Submits one write as this session and returns what the txn did; a write the server
    /// refused comes back as its error (the Java client's `ClientCnxn.submitRequest`). The
    /// write methods below are built on it, as upstream's are. A backend that sends each
    /// write as its own opcode (chapter 3's wire client) overrides those methods instead, and
    /// this answers `Unimplemented`, as a server does for an opcode it does not know.
    fn write(&mut self, _request: Request) -> Result<TxnResult, ZkError> {
        Err(ZkError::Unimplemented)
    }

    /// Creates a node; returns its actual path (with any sequence suffix).
    fn create(
        &mut self,
        path: &str,
        data: Option<Vec<u8>>,
        acl: Vec<Acl>,
        mode: CreateMode,
    ) -> Result<String, ZkError> {
        let path = path.to_string();
        match self.write(Request::Create {
            path,
            data,
            acl,
            mode,
        })? {
            TxnResult::Created { path, .. } => Ok(path),
            _ => Err(ZkError::SystemError),
        }
    }

    fn delete(&mut self, path: &str, version: i32) -> Result<(), ZkError> {
        let path = path.to_string();
        self.write(Request::Delete { path, version }).map(|_| ())
    }

    fn set_data(
        &mut self,
        path: &str,
        data: Option<Vec<u8>>,
        version: i32,
    ) -> Result<Stat, ZkError> {
        let path = path.to_string();
        self.write(Request::SetData {
            path,
            data,
            version,
        })
        .map(result_stat)
    }

    fn set_acl(&mut self, path: &str, acl: Vec<Acl>, version: i32) -> Result<Stat, ZkError> {
        let path = path.to_string();
        self.write(Request::SetAcl { path, acl, version })
            .map(result_stat)
    }

    /// All or nothing; `Err` carries the first failing op's error.
    fn multi(&mut self, ops: Vec<Request>) -> Result<Vec<TxnResult>, ZkError> {
        match self.write(Request::Multi(ops))? {
            TxnResult::Multi(results) => Ok(results),
            _ => Err(ZkError::SystemError),
        }
    }

    // The session and the connection: zkCli's commands beyond reads and writes. Each default
    // is what a standalone server without that feature answers.

    /// Whether the session can still take requests (`States.isAlive`: connecting or
    /// connected). zkCli answers `Not connected` to every command that needs a session
    /// when it cannot.
    fn is_alive(&self) -> bool {
        matches!(
            self.state(),
            "CONNECTING" | "ASSOCIATING" | "CONNECTED" | "CONNECTEDREADONLY"
        )
    }

    /// `connect host:port`: ends this session (if alive) and opens a new one at
    /// `connect_string`. zkCli does not wait for it: the new session's `SyncConnected`
    /// event, or a failed command, tells.
    fn connect(&mut self, _connect_string: &str) {}

    /// `addauth scheme auth` (`addAuthInfo`): adds credentials to the connection; a refusal
    /// arrives later as an `AuthFailed` event. `None` is Java's null credentials.
    fn add_auth(&mut self, _scheme: &str, _auth: Option<&[u8]>) -> Result<(), ZkError> {
        Ok(())
    }

    /// `whoAmI` (3.7+): the connection's identities as (scheme, user).
    fn who_am_i(&mut self) -> Result<Vec<(String, String)>, ZkError> {
        Err(ZkError::Unimplemented)
    }

    /// `sync`: returns when the server this session talks to has caught up with the leader
    /// (at once on a standalone server).
    fn sync(&mut self, _path: &str) -> Result<(), ZkError> {
        Ok(())
    }

    /// `addWatch` (3.6+): a persistent watch on `path`.
    fn add_watch(&mut self, _path: &str, _mode: AddWatchMode) -> Result<(), ZkError> {
        Err(ZkError::Unimplemented)
    }

    /// `removeAllWatches`: takes this session's watches of `kind` off `path`; the
    /// `...WatchRemoved` events come back through [`Backend::take_events`]. With `local`
    /// they are removed here even when the server cannot be told.
    fn remove_watches(
        &mut self,
        _path: &str,
        _kind: WatcherType,
        _local: bool,
    ) -> Result<(), ZkError> {
        Err(ZkError::Unimplemented)
    }

    /// `getConfig`: the ensemble's configuration, which lives in `/zookeeper/config`.
    fn get_config(&mut self, watch: bool) -> Result<(Option<Vec<u8>>, Stat), ZkError> {
        self.get_data(CONFIG_NODE, watch)
    }

    /// `ZooKeeperAdmin.reconfigure`: the new configuration and its Stat. A server started
    /// without `reconfigEnabled=true` (the default) refuses.
    fn reconfig(&mut self, _change: &Reconfig) -> Result<(Option<Vec<u8>>, Stat), ZkError> {
        Err(ZkError::ReconfigDisabled)
    }

    /// Watch notifications that arrived since the last call, for the shell to print.
    fn take_events(&mut self) -> Vec<WatchedEvent> {
        Vec::new()
    }

    /// Extra commands this backend offers, as (name, usage options) for the usage block.
    fn extra_commands(&self) -> Vec<(&'static str, &'static str)> {
        Vec::new()
    }

    /// Runs an extra command (`args[0]` is its name); `None` if it is not one of ours.
    fn run_extra(&mut self, _args: &[String]) -> Option<Vec<super::Line>> {
        None
    }
}
// ANCHOR_END: backend

/// Where the local backend gets the time for each txn.
pub type Clock = Box<dyn FnMut() -> i64>;

/// One session on an in-memory standalone server: every write is prepped and applied at once.
pub struct LocalBackend {
    pub server: Standalone,
    pub session: SessionId,
    clock: Clock,
    /// The next request's number: the handshake's createSession is 0, then 1, 2, … as the
    /// Java client numbers its requests.
    next_cxid: i32,
    closed: bool,
    /// Every txn applied, with what it did: the trace reads this.
    pub log: Vec<(Txn, Applied)>,
}

impl LocalBackend {
    /// A fresh tree, and a session opened on it (the createSession txn takes zxid 0x1, as on
    /// a fresh standalone server).
    pub fn new(clock: Clock) -> LocalBackend {
        let mut backend = LocalBackend {
            server: Standalone::new(DataTree::new()),
            session: SessionId::new(Sid(1), 1),
            clock,
            next_cxid: 0,
            closed: false,
            log: Vec::new(),
        };
        backend.submit(Request::CreateSession { timeout_ms: 30_000 });
        backend
    }

    /// A clock that reads the system time.
    pub fn system_clock() -> Clock {
        Box::new(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64)
        })
    }

    pub fn tree(&self) -> &DataTree {
        &self.server.tree
    }

    fn submit(&mut self, request: Request) -> TxnResult {
        let now = (self.clock)();
        let cxid = self.next_cxid;
        self.next_cxid += 1;
        let (txn, applied) = self.server.submit(self.session, cxid, now, &request);
        let result = applied.result.clone();
        self.log.push((txn, applied));
        result
    }

    fn read(&self) -> Result<&DataTree, ZkError> {
        if self.closed {
            return Err(ZkError::SessionExpired);
        }
        Ok(&self.server.tree)
    }
}

/// The stat a write reports, when it reports one.
pub fn result_stat(result: TxnResult) -> Stat {
    match result {
        TxnResult::Created { stat, .. }
        | TxnResult::DataSet { stat, .. }
        | TxnResult::AclSet { stat, .. } => stat,
        _ => Stat::default(),
    }
}

impl Backend for LocalBackend {
    fn connect_string(&self) -> String {
        "local".to_string()
    }

    fn state(&self) -> &'static str {
        if self.closed {
            "CLOSED"
        } else {
            "CONNECTED"
        }
    }

    fn write(&mut self, request: Request) -> Result<TxnResult, ZkError> {
        if self.closed {
            return Err(ZkError::SessionExpired);
        }
        let result = self.submit(request);
        match result.err() {
            Some(e) => Err(e),
            None => Ok(result),
        }
    }

    fn get_data(&mut self, path: &str, _watch: bool) -> Result<(Option<Vec<u8>>, Stat), ZkError> {
        let (data, stat) = self.read()?.get_data(path)?;
        Ok((data.map(<[u8]>::to_vec), stat))
    }

    fn exists(&mut self, path: &str, _watch: bool) -> Result<Stat, ZkError> {
        self.read()?.stat(path)
    }

    fn get_children(&mut self, path: &str, _watch: bool) -> Result<(Vec<String>, Stat), ZkError> {
        self.read()?.get_children(path)
    }

    fn get_acl(&mut self, path: &str) -> Result<(Vec<Acl>, Stat), ZkError> {
        self.read()?.get_acl(path)
    }

    fn get_all_children_number(&mut self, path: &str) -> Result<i32, ZkError> {
        Ok(self.read()?.get_all_children_number(path)? as i32)
    }

    fn get_ephemerals(&mut self, prefix: &str) -> Result<Vec<String>, ZkError> {
        let mine = self.read()?.ephemerals(self.session);
        Ok(mine.into_iter().filter(|p| p.starts_with(prefix)).collect())
    }

    fn close(&mut self) -> Result<(), ZkError> {
        if !self.closed {
            self.submit(Request::CloseSession);
            self.closed = true;
        }
        Ok(())
    }

    /// A new session on the same tree (the old one closed first, as zkCli closes it).
    fn connect(&mut self, _connect_string: &str) {
        let _ = self.close();
        let n = (self.session.0 as u64 & 0x00ff_ffff_ffff_ffff) + 1;
        self.session = SessionId::new(Sid(1), n);
        self.submit(Request::CreateSession { timeout_ms: 30_000 });
        self.closed = false;
    }
}
