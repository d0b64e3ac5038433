//! Node types: the `CreateMode` a client asks for, and what the node stores as its owner.
//!
//! Two independent choices make the four classic modes: *persistent or ephemeral* (does the
//! node outlive the session that created it?) and *plain or sequential* (does the server
//! append a 10-digit counter to the name?). ZooKeeper 3.5 added two more kinds of persistent
//! node: a *container* (removed by the server once its last child goes) and a node with a
//! *TTL* (removed once it has had no children and no change for that long).
//!
//! A container can have a counter in its name too, though no `CreateMode` of upstream's says
//! so: createContainer (opcode 19) makes a container whatever plain flag it carries, and
//! honours the sequential bit of that flag (`PrepRequestProcessor.pRequest2TxnCreate`), so
//! flags 2 and 3 make a [`CreateMode::ContainerSequential`].
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
    /// A container with a counter in its name: createContainer with a sequential flag.
    ContainerSequential,
    PersistentWithTtl(i64),
    PersistentSequentialWithTtl(i64),
}
// ANCHOR_END: create_mode

impl CreateMode {
    /// The `flags` integer of a CreateRequest (client-protocol.md §8). A sequential container
    /// has no flag of its own: it is flag 2 sent with createContainer (19).
    pub fn flag(self) -> i32 {
        match self {
            CreateMode::Persistent => 0,
            CreateMode::Ephemeral => 1,
            CreateMode::PersistentSequential | CreateMode::ContainerSequential => 2,
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

    // ANCHOR: for_container_flag
    /// The mode a createContainer (19) with `flag` asks for: a container whatever the flag,
    /// with a counter in its name if the flag is sequential (2 or 3), as upstream's
    /// `CreateContainerTxn` is. A TTL flag is kept (ttl -1), so that it is refused as a
    /// create's would be; `None` for unknown flags (BadArguments).
    pub fn for_container_flag(flag: i32) -> Option<CreateMode> {
        Some(match CreateMode::from_flag(flag, -1)? {
            m if m.ttl().is_some() => m,
            m if m.is_sequential() => CreateMode::ContainerSequential,
            _ => CreateMode::Container,
        })
    }
    // ANCHOR_END: for_container_flag

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
                | CreateMode::ContainerSequential
                | CreateMode::PersistentSequentialWithTtl(_)
        )
    }

    pub fn is_container(self) -> bool {
        matches!(
            self,
            CreateMode::Container | CreateMode::ContainerSequential
        )
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Hash)]
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
            m if m.is_container() => EphemeralOwner::Container,
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
    fn create_container_makes_a_container_whatever_its_flag_with_a_counter_if_sequential() {
        use CreateMode::*;
        let modes = [0, 1, 2, 3, 4, 5, 6, 7].map(CreateMode::for_container_flag);
        assert_eq!(
            modes,
            [
                Some(Container),
                Some(Container),
                Some(ContainerSequential),
                Some(ContainerSequential),
                Some(Container),
                Some(PersistentWithTtl(-1)),
                Some(PersistentSequentialWithTtl(-1)),
                None,
            ]
        );
        for mode in [Container, ContainerSequential] {
            assert_eq!(CreateMode::for_container_flag(mode.flag()), Some(mode));
        }
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
        assert_eq!(
            EphemeralOwner::for_create(CreateMode::ContainerSequential, s),
            EphemeralOwner::Container
        );
    }
}
