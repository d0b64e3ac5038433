//! Node types: the `CreateMode` a client asks for, and what the node stores as its owner.
//!
//! Two independent choices make the four classic modes: *persistent or ephemeral* (does the
//! node outlive the session that created it?) and *plain or sequential* (does the server
//! append a 10-digit counter to the name?). ZooKeeper 3.5 added two more kinds of persistent
//! node: a *container* (removed by the server once its last child goes) and a node with a
//! *TTL* (removed once it has had no children and no change for that long).
//!
//! The server remembers the kind in one field, `ephemeralOwner`: 0 for persistent, the owning
//! session id for ephemeral, and marker values for containers and TTL nodes
//! (`EphemeralType`). Clients never see the markers: Stat shows them as 0.

use crate::zxid::SessionId;
use serde::{Deserialize, Serialize};

// ANCHOR: create_mode
/// `org.apache.zookeeper.CreateMode`, with the TTL (ms) carried by the TTL modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CreateMode {
    Persistent,
    Ephemeral,
    PersistentSequential,
    EphemeralSequential,
    Container,
    PersistentWithTtl(i64),
    PersistentSequentialWithTtl(i64),
}
// ANCHOR_END: create_mode

impl CreateMode {
    /// The `flags` integer of a CreateRequest (client-protocol.md §8).
    pub fn flag(self) -> i32 {
        match self {
            CreateMode::Persistent => 0,
            CreateMode::Ephemeral => 1,
            CreateMode::PersistentSequential => 2,
            CreateMode::EphemeralSequential => 3,
            CreateMode::Container => 4,
            CreateMode::PersistentWithTtl(_) => 5,
            CreateMode::PersistentSequentialWithTtl(_) => 6,
        }
    }

    /// The mode for a wire flag (`ttl` is used by flags 5 and 6); `None` for unknown flags,
    /// which the server answers with BadArguments.
    pub fn from_flag(flag: i32, ttl: i64) -> Option<CreateMode> {
        Some(match flag {
            0 => CreateMode::Persistent,
            1 => CreateMode::Ephemeral,
            2 => CreateMode::PersistentSequential,
            3 => CreateMode::EphemeralSequential,
            4 => CreateMode::Container,
            5 => CreateMode::PersistentWithTtl(ttl),
            6 => CreateMode::PersistentSequentialWithTtl(ttl),
            _ => return None,
        })
    }

    pub fn is_ephemeral(self) -> bool {
        matches!(
            self,
            CreateMode::Ephemeral | CreateMode::EphemeralSequential
        )
    }

    pub fn is_sequential(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentSequential
                | CreateMode::EphemeralSequential
                | CreateMode::PersistentSequentialWithTtl(_)
        )
    }

    pub fn is_container(self) -> bool {
        self == CreateMode::Container
    }

    pub fn ttl(self) -> Option<i64> {
        match self {
            CreateMode::PersistentWithTtl(t) | CreateMode::PersistentSequentialWithTtl(t) => {
                Some(t)
            }
            _ => None,
        }
    }
}

/// The marker `ephemeralOwner` of a container (`EphemeralType.CONTAINER_EPHEMERAL_OWNER`).
pub const CONTAINER_EPHEMERAL_OWNER: i64 = i64::MIN;
const EXTENDED_MASK: i64 = 0xff00_0000_0000_0000_u64 as i64;
const RESERVED_BITS_MASK: i64 = 0x00ff_ff00_0000_0000;
/// The largest TTL a node can have (about 34 years, in ms).
pub const MAX_TTL_MS: i64 = !(EXTENDED_MASK | RESERVED_BITS_MASK);

// ANCHOR: ephemeral_owner
/// What a node's stored `ephemeralOwner` says about it (`EphemeralType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EphemeralOwner {
    /// A persistent node: stored as 0.
    None,
    /// An ephemeral node, deleted when this session ends.
    Session(SessionId),
    /// A container: stored as `i64::MIN`.
    Container,
    /// A persistent node with a TTL in ms: stored as `0xff00… | ttl`.
    Ttl(i64),
}
// ANCHOR_END: ephemeral_owner

impl EphemeralOwner {
    /// The owner a create in `mode` by `session` gives the new node.
    pub fn for_create(mode: CreateMode, session: SessionId) -> EphemeralOwner {
        match mode {
            CreateMode::Container => EphemeralOwner::Container,
            m if m.is_ephemeral() => EphemeralOwner::Session(session),
            m => match m.ttl() {
                Some(ttl) => EphemeralOwner::Ttl(ttl),
                None => EphemeralOwner::None,
            },
        }
    }

    /// The value stored in the node's StatPersisted.
    pub fn raw(self) -> i64 {
        match self {
            EphemeralOwner::None => 0,
            EphemeralOwner::Session(s) => s.0,
            EphemeralOwner::Container => CONTAINER_EPHEMERAL_OWNER,
            EphemeralOwner::Ttl(ttl) => EXTENDED_MASK | ttl,
        }
    }

    /// Decodes a stored value. `extended_types` is `zookeeper.extendedTypesEnabled`: without
    /// it, a top byte of 0xff is just a session of server 255.
    pub fn from_raw(raw: i64, extended_types: bool) -> EphemeralOwner {
        match raw {
            0 => EphemeralOwner::None,
            CONTAINER_EPHEMERAL_OWNER => EphemeralOwner::Container,
            r if extended_types && r & EXTENDED_MASK == EXTENDED_MASK => {
                EphemeralOwner::Ttl(r & MAX_TTL_MS)
            }
            r => EphemeralOwner::Session(SessionId(r)),
        }
    }

    /// The session an ephemeral node belongs to.
    pub fn session(self) -> Option<SessionId> {
        match self {
            EphemeralOwner::Session(s) => Some(s),
            _ => None,
        }
    }

    /// `DataNode.getClientEphemeralOwner`: clients see a session id or 0, never a marker.
    pub fn client_visible(self) -> SessionId {
        self.session().unwrap_or(SessionId::NONE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_match_create_mode_and_unknown_flags_are_refused() {
        for flag in 0..=6 {
            assert_eq!(CreateMode::from_flag(flag, 5).unwrap().flag(), flag);
        }
        assert_eq!(CreateMode::from_flag(7, 0), None);
    }

    #[test]
    fn owners_encode_like_ephemeral_type() {
        let s = SessionId(0x100000000000001);
        let cases = [
            (EphemeralOwner::None, 0),
            (EphemeralOwner::Session(s), s.0),
            (EphemeralOwner::Container, i64::MIN),
            (EphemeralOwner::Ttl(1000), 0xff00_0000_0000_03e8_u64 as i64),
        ];
        for (owner, raw) in cases {
            assert_eq!(owner.raw(), raw);
            assert_eq!(EphemeralOwner::from_raw(raw, true), owner);
        }
    }

    #[test]
    fn clients_see_zero_for_containers_and_ttl_nodes() {
        assert_eq!(EphemeralOwner::Container.client_visible(), SessionId(0));
        assert_eq!(EphemeralOwner::Ttl(5).client_visible(), SessionId(0));
        let s = SessionId(7);
        assert_eq!(EphemeralOwner::Session(s).client_visible(), s);
    }

    #[test]
    fn a_create_mode_decides_the_owner() {
        let s = SessionId(9);
        assert_eq!(
            EphemeralOwner::for_create(CreateMode::EphemeralSequential, s),
            EphemeralOwner::Session(s)
        );
        assert_eq!(
            EphemeralOwner::for_create(CreateMode::PersistentSequentialWithTtl(10), s),
            EphemeralOwner::Ttl(10)
        );
        assert_eq!(
            EphemeralOwner::for_create(CreateMode::PersistentSequential, s),
            EphemeralOwner::None
        );
    }
}
