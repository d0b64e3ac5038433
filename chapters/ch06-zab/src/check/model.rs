//! The specification: what a ZooKeeper namespace answers, one request at a time.
//!
//! The idea to take away: to call a history right or wrong, a checker needs an independent
//! statement of what each request *should* answer, given every write before it. This is that
//! statement for the requests the random clients make: a flat namespace of znodes with data,
//! a version and maybe an ephemeral owner, and the sessions that are alive. It never looks at
//! a server's tree or txn; it only says what a correct one would have done.

use std::collections::{BTreeMap, BTreeSet};

use ch01_znode::{SessionId, ZkError, Zxid};

use crate::sim::ClientOp;

/// One znode as the specification sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Znode {
    /// Its data.
    pub data: Vec<u8>,
    /// `stat.version`: how many times its data was set.
    pub version: i32,
    /// `stat.mzxid`: the txn that last changed it.
    pub mzxid: Zxid,
    /// The session that owns it, if it is ephemeral.
    pub owner: Option<SessionId>,
}

/// What a write should do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Created the node at this path.
    Created(String),
    /// Set the data; the node's new version.
    Set { version: i32 },
    /// Deleted the node.
    Deleted,
    /// Closed the session, deleting its ephemerals.
    Closed { deleted: Vec<String> },
}

/// How a change reaches a watcher of the node's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Its data changed: `NodeDataChanged`.
    DataChanged,
    /// It went: `NodeDeleted`.
    Deleted,
    /// It came: `NodeCreated` (no data watch can be waiting for it).
    Created,
}

/// The namespace and the live sessions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Namespace {
    nodes: BTreeMap<String, Znode>,
    sessions: BTreeSet<SessionId>,
}

impl Namespace {
    /// The node at `path`.
    pub fn node(&self, path: &str) -> Option<&Znode> {
        self.nodes.get(path)
    }

    /// A session is born (createSession).
    pub fn open(&mut self, session: SessionId) {
        self.sessions.insert(session);
    }

    /// What a request of `session` answers when its client had moved to another server
    /// before the leader prepared it: SessionMoved if the session is alive (upstream
    /// `SessionTrackerImpl.checkSession` compares the owner the request came through with the
    /// session's), SessionExpired if not. It changes nothing.
    pub fn moved(&self, session: SessionId) -> Result<Effect, ZkError> {
        match self.sessions.contains(&session) {
            true => Err(ZkError::SessionMoved),
            false => Err(ZkError::SessionExpired),
        }
    }

    /// A session ends (closeSession, the client's or the leader's expiry): its ephemerals go.
    pub fn close(&mut self, session: SessionId) -> Vec<String> {
        self.sessions.remove(&session);
        let gone: Vec<String> = self
            .nodes
            .iter()
            .filter(|(_, n)| n.owner == Some(session))
            .map(|(p, _)| p.clone())
            .collect();
        for path in &gone {
            self.nodes.remove(path);
        }
        gone
    }

    // ANCHOR: apply
    /// What `op` of `session` does as the write at `zxid`: its effect, or the error a correct
    /// server answers (a request of a session that is no longer alive fails with
    /// SessionExpired, upstream `PrepRequestProcessor.checkSession`, closeSession excepted; a
    /// version other than -1 must be the node's version, else BadVersion).
    pub fn apply(
        &mut self,
        session: SessionId,
        op: &ClientOp,
        zxid: Zxid,
    ) -> Result<Effect, ZkError> {
        // closeSession is the one write upstream does not check the session for: closing a
        // session that is already gone is a txn that changes nothing.
        if *op == ClientOp::Close {
            return Ok(Effect::Closed {
                deleted: self.close(session),
            });
        }
        if !self.sessions.contains(&session) {
            return Err(ZkError::SessionExpired);
        }
        match op {
            ClientOp::Create {
                path,
                data,
                ephemeral,
            } => {
                if self.nodes.contains_key(path) {
                    return Err(ZkError::NodeExists);
                }
                let node = Znode {
                    data: data.clone().into_bytes(),
                    version: 0,
                    mzxid: zxid,
                    owner: ephemeral.then_some(session),
                };
                self.nodes.insert(path.clone(), node);
                Ok(Effect::Created(path.clone()))
            }
            ClientOp::SetData {
                path,
                data,
                version,
            } => {
                let node = self.nodes.get_mut(path).ok_or(ZkError::NoNode)?;
                if *version != -1 && *version != node.version {
                    return Err(ZkError::BadVersion);
                }
                node.version += 1;
                node.data = data.clone().into_bytes();
                node.mzxid = zxid;
                Ok(Effect::Set {
                    version: node.version,
                })
            }
            ClientOp::Delete { path, version } => {
                let node = self.nodes.get(path).ok_or(ZkError::NoNode)?;
                if *version != -1 && *version != node.version {
                    return Err(ZkError::BadVersion);
                }
                self.nodes.remove(path);
                Ok(Effect::Deleted)
            }
            ClientOp::Close
            | ClientOp::Connect { .. }
            | ClientOp::Resume { .. }
            | ClientOp::GetData { .. }
            | ClientOp::Sync { .. } => {
                unreachable!("not a write: {op}")
            }
        }
    }
    // ANCHOR_END: apply
}

impl Effect {
    /// The changes a data watcher of each path hears.
    pub fn changes(&self, op: &ClientOp) -> Vec<(String, Change)> {
        match (self, op) {
            (Effect::Created(path), _) => vec![(path.clone(), Change::Created)],
            (Effect::Set { .. }, ClientOp::SetData { path, .. }) => {
                vec![(path.clone(), Change::DataChanged)]
            }
            (Effect::Deleted, ClientOp::Delete { path, .. }) => {
                vec![(path.clone(), Change::Deleted)]
            }
            (Effect::Closed { deleted }, _) => deleted
                .iter()
                .map(|p| (p.clone(), Change::Deleted))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Whether `op` is a write (it becomes a txn).
pub fn is_write(op: &ClientOp) -> bool {
    matches!(
        op,
        ClientOp::Create { .. }
            | ClientOp::SetData { .. }
            | ClientOp::Delete { .. }
            | ClientOp::Close
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: SessionId = SessionId(7);

    fn set(path: &str, version: i32) -> ClientOp {
        ClientOp::SetData {
            path: path.into(),
            data: "x".into(),
            version,
        }
    }

    #[test]
    fn a_conditional_write_succeeds_only_at_the_version_it_names() {
        // client-protocol: setData(path, data, version) fails with BadVersion unless
        // version is -1 or the node's (DataTree.setData via PrepRequestProcessor).
        let mut ns = Namespace::default();
        ns.open(S);
        let create = ClientOp::Create {
            path: "/a".into(),
            data: "0".into(),
            ephemeral: false,
        };
        assert_eq!(
            ns.apply(S, &create, Zxid(1)),
            Ok(Effect::Created("/a".into()))
        );
        assert_eq!(
            ns.apply(S, &set("/a", 1), Zxid(2)),
            Err(ZkError::BadVersion)
        );
        assert_eq!(
            ns.apply(S, &set("/a", 0), Zxid(3)),
            Ok(Effect::Set { version: 1 })
        );
        assert_eq!(
            ns.apply(S, &set("/a", -1), Zxid(4)),
            Ok(Effect::Set { version: 2 })
        );
        assert_eq!(ns.node("/a").map(|n| n.mzxid), Some(Zxid(4)));
    }

    #[test]
    fn closing_a_session_deletes_its_ephemerals_and_fails_its_later_writes() {
        let mut ns = Namespace::default();
        ns.open(S);
        let create = ClientOp::Create {
            path: "/e".into(),
            data: "0".into(),
            ephemeral: true,
        };
        ns.apply(S, &create, Zxid(1)).unwrap();
        assert_eq!(ns.close(S), vec!["/e".to_string()]);
        assert_eq!(ns.node("/e"), None);
        assert_eq!(
            ns.apply(S, &set("/e", -1), Zxid(2)),
            Err(ZkError::SessionExpired)
        );
    }
}
