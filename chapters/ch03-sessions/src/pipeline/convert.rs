//! Between the wire's records and the tree's types.
//!
//! The codec ([`crate::proto`]) mirrors `zookeeper.jute` field for field (`i64` zxids, `i32`
//! flags); the tree (chapter 1) and the watch registry (chapter 2) use ZooKeeper's words as
//! types (`Zxid`, `SessionId`, `CreateMode`). These functions are the only place the two meet,
//! so each side stays what it is: the bytes on one, the meaning on the other.

use ch01_znode::{Acl, Id, Stat};
use ch02_watches::WatchedEvent;

use crate::proto;

/// A wire ACL list as the tree stores it.
pub fn acl_from_wire(acl: &[proto::Acl]) -> Vec<Acl> {
    acl.iter()
        .map(|a| Acl {
            perms: a.perms,
            id: Id {
                scheme: a.id.scheme.clone(),
                id: a.id.id.clone(),
            },
        })
        .collect()
}

/// A stored ACL list as the wire carries it.
pub fn acl_to_wire(acl: &[Acl]) -> Vec<proto::Acl> {
    acl.iter()
        .map(|a| proto::Acl {
            perms: a.perms,
            id: proto::Id {
                scheme: a.id.scheme.clone(),
                id: a.id.id.clone(),
            },
        })
        .collect()
}

/// The client-visible Stat as the 68-byte record.
pub fn stat_to_wire(s: &Stat) -> proto::Stat {
    proto::Stat {
        czxid: s.czxid.0,
        mzxid: s.mzxid.0,
        ctime: s.ctime,
        mtime: s.mtime,
        version: s.version,
        cversion: s.cversion,
        aversion: s.aversion,
        ephemeral_owner: s.ephemeral_owner.0,
        data_length: s.data_length,
        num_children: s.num_children,
        pzxid: s.pzxid.0,
    }
}

/// A fired watch as the notification record (state is always SyncConnected for node events).
pub fn event_to_wire(event: &WatchedEvent) -> proto::WatcherEvent {
    proto::WatcherEvent {
        r#type: event.event_type.code(),
        state: event.state.code(),
        path: event.path.clone().unwrap_or_default(),
    }
}
