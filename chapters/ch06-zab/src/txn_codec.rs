//! A txn in bytes: the header that says who asked and when, then the change itself.
//!
//! The idea to take away: **a txn has one byte form, and every copy of it is that form.** The
//! leader serializes each txn once, as upstream's `TxnHeader` followed by the txn record its
//! type names; the same bytes are the data of the PROPOSAL (and of the INFORM an observer
//! gets), and chapter 7 writes them again as the body of a txn log record. A follower that
//! decodes them holds exactly the [`Txn`] the leader decided, so applying it changes its tree
//! exactly as the leader's changed.
//!
//! | part | layout (`zookeeper.jute`, module `org.apache.zookeeper.txn`) |
//! |---|---|
//! | `TxnHeader` | `long clientId`, `int cxid`, `long zxid`, `long time`, `int type` (32 bytes) |
//! | txn record | the record for `type`, below |
//! | `TxnDigest` | `int version`, `long treeDigest`; only when digests are on (3.6+) |
//!
//! | [`TxnOp`] | type (`ZooDefs.OpCode`) | record |
//! |---|---|---|
//! | `Create`, owner none or a session | create (1) | `CreateTxn{path, data, acl, boolean ephemeral, int parentCVersion}` |
//! | `Create`, owner a container | createContainer (19) | `CreateContainerTxn{path, data, acl, parentCVersion}` |
//! | `Create`, owner a TTL | createTTL (21) | `CreateTTLTxn{path, data, acl, parentCVersion, long ttl}` |
//! | `Delete` | delete (2) | `DeleteTxn{path}` |
//! | `SetData` | setData (5) | `SetDataTxn{path, data, int version}` |
//! | `SetAcl` | setACL (7) | `SetACLTxn{path, acl, int version}` |
//! | `Check` (in a multi) | check (13) | `CheckVersionTxn{path, int version}` |
//! | `Error` | error (-1) | `ErrorTxn{int err}` |
//! | `CreateSession` | createSession (-10) | `CreateSessionTxn{int timeOut}` |
//! | `CloseSession` | closeSession (-11) | `CloseSessionTxn{vector<ustring> paths2Delete}` (3.6+) |
//! | `Multi` | multi (14) | `MultiTxn{vector<Txn{int type, buffer data}>}`, each data a record above |
//!
//! # What one byte form cannot say
//!
//! Chapter 1's [`TxnOp`] keeps what applying a txn needs, not which request made it, so three
//! pairs of upstream types read back as one op and are written as the first of the pair:
//!
//! * **create (1) and create2 (15)** carry the same `CreateTxn` (create2 only changes the
//!   reply: it returns the Stat). Both read as `TxnOp::Create`, which is written as create.
//!   A follower applies it the same way; only upstream's replay fix-up for a create of a node
//!   that already exists (`DataTree.processTxn`) runs for type 1 and not for 15.
//! * **delete (2) and deleteContainer (20)** carry the same `DeleteTxn`.
//! * **setData (5) and reconfig (16)** carry the same `SetDataTxn`.
//!
//! `Create`'s owner decides the type: a container is written as createContainer and a TTL node
//! as createTTL, whatever the client's opcode was. An ephemeral owner is written as
//! `ephemeral = true` and read back as the txn's own session, which is the only owner prep
//! ever gives an ephemeral node.
//!
//! # Reading
//!
//! Decoding follows `SerializeUtils.deserializeTxn`, including its two fallbacks for old
//! logs: a create (type 1) too short for `parentCVersion` is a `CreateTxnV0` and reads with
//! parent cversion -1 (which [`ch01_znode::DataTree::apply`] counts for itself), and a
//! closeSession with no body (3.5) reads as one with no paths. Upstream ignores bytes it does
//! not expect; here the bytes after the record must be nothing or exactly one `TxnDigest`, and
//! a multi's sub-records must fill their buffers. Sub-txns of a multi may be what upstream's
//! `DataTree.processTxn` accepts there: creates, deletes, setData, check and error.

use std::fmt;

use ch01_znode::{Acl, EphemeralOwner, SessionId, Txn, TxnHeader, TxnOp, Zxid};
use ch03_sessions::jute::{DecodeError, Reader, Record, Writer};
use ch03_sessions::proto::OpCode;

// ANCHOR: txn_entry
/// `TxnDigest`: the leader's digest of its whole tree after this txn, so a follower can check
/// that its own tree came out the same (3.6+, `zookeeper.digest.enabled`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TxnDigest {
    /// The digest algorithm's version (`DigestCalculator.DIGEST_VERSION`, 2 in 3.8).
    pub version: i32,
    pub tree_digest: i64,
}

/// A txn as it travels and as it is logged: the txn, and the digest upstream appends when
/// digests are on (upstream `TxnLogEntry`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TxnEntry {
    pub txn: Txn,
    pub digest: Option<TxnDigest>,
}
// ANCHOR_END: txn_entry

/// Why bytes are not a txn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxnError {
    /// A field could not be read (truncated, a bad length, a null path); names the field.
    Decode(DecodeError),
    /// A header type that is no txn type, or (`in_multi`) one a multi may not hold.
    UnknownType { code: i32, in_multi: bool },
    /// Bytes after the record that are not one `TxnDigest`, or after a sub-record of a multi.
    TrailingBytes { count: usize },
}

impl fmt::Display for TxnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TxnError::Decode(e) => e.fmt(f),
            TxnError::UnknownType {
                code,
                in_multi: false,
            } => write!(f, "unsupported txn type {code}"),
            TxnError::UnknownType {
                code,
                in_multi: true,
            } => write!(f, "txn type {code} cannot be part of a multi"),
            TxnError::TrailingBytes { count } => {
                write!(f, "{count} bytes after the txn record")
            }
        }
    }
}

impl std::error::Error for TxnError {}

impl From<DecodeError> for TxnError {
    fn from(e: DecodeError) -> TxnError {
        TxnError::Decode(e)
    }
}

/// The bytes of a `TxnDigest`.
const DIGEST_LEN: usize = 12;

// ANCHOR: txn_type
/// The `TxnHeader.type` this crate writes for `op` (see the module doc for the pairs of
/// upstream types that read back as one op).
pub fn txn_type(op: &TxnOp) -> OpCode {
    match op {
        TxnOp::Create { owner, .. } => match owner {
            EphemeralOwner::Container => OpCode::CreateContainer,
            EphemeralOwner::Ttl(_) => OpCode::CreateTtl,
            EphemeralOwner::None | EphemeralOwner::Session(_) => OpCode::Create,
        },
        TxnOp::Delete { .. } => OpCode::Delete,
        TxnOp::SetData { .. } => OpCode::SetData,
        TxnOp::SetAcl { .. } => OpCode::SetAcl,
        TxnOp::Check { .. } => OpCode::Check,
        TxnOp::Error { .. } => OpCode::Error,
        TxnOp::CreateSession { .. } => OpCode::CreateSession,
        TxnOp::CloseSession { .. } => OpCode::CloseSession,
        TxnOp::Multi(_) => OpCode::Multi,
    }
}
// ANCHOR_END: txn_type

impl TxnEntry {
    /// A txn with no digest.
    pub fn new(txn: Txn) -> TxnEntry {
        TxnEntry { txn, digest: None }
    }

    /// The bytes, as `Util.marshallTxnEntry` writes them.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.write(&mut w);
        w.into_bytes()
    }

    /// Appends the header, the txn record and, if there is one, the digest.
    pub fn write(&self, w: &mut Writer) {
        TxnEntry::write_parts(&self.txn, self.digest, w);
    }

    // ANCHOR: write_entry
    /// [`TxnEntry::write`] for a txn the caller keeps: a log appends the txn it is handed
    /// without first copying it into an entry of its own.
    pub fn write_parts(txn: &Txn, digest: Option<TxnDigest>, w: &mut Writer) {
        w.write_long(txn.session.0);
        w.write_int(txn.cxid);
        w.write_long(txn.zxid.0);
        w.write_long(txn.time_ms);
        w.write_int(txn_type(&txn.op).code());
        write_record(w, &txn.op);
        if let Some(digest) = digest {
            w.write_int(digest.version);
            w.write_long(digest.tree_digest);
        }
    }
    // ANCHOR_END: write_entry

    // ANCHOR: decode_entry
    /// Reads a whole entry: `bytes` must hold exactly one (a PROPOSAL's data, a log record).
    pub fn decode(bytes: &[u8]) -> Result<TxnEntry, TxnError> {
        let mut r = Reader::new(bytes);
        let header = TxnHeader {
            session: SessionId(r.read_long("TxnHeader.clientId")?),
            cxid: r.read_int("TxnHeader.cxid")?,
            zxid: Zxid(r.read_long("TxnHeader.zxid")?),
            time_ms: r.read_long("TxnHeader.time")?,
        };
        let code = r.read_int("TxnHeader.type")?;
        let op = read_top_level(&mut r, code, header.session)?;
        let digest = match r.remaining() {
            0 => None,
            DIGEST_LEN => Some(TxnDigest {
                version: r.read_int("TxnDigest.version")?,
                tree_digest: r.read_long("TxnDigest.treeDigest")?,
            }),
            count => return Err(TxnError::TrailingBytes { count }),
        };
        Ok(TxnEntry {
            txn: header.txn(op),
            digest,
        })
    }
    // ANCHOR_END: decode_entry
}

// ---- writing ------------------------------------------------------------------------------

/// A jute `vector<ACL>`, from a slice (the tree shares its lists as `Arc<[Acl]>`).
pub(crate) fn write_acl(w: &mut Writer, acl: &[Acl]) {
    w.write_len(Some(acl.len()));
    for entry in acl {
        entry.encode(w);
    }
}

// ANCHOR: write_record
/// Appends the txn record of `op` (not its type: the header or a multi's `Txn` carries that).
fn write_record(w: &mut Writer, op: &TxnOp) {
    match op {
        TxnOp::Create {
            path,
            data,
            acl,
            owner,
            parent_cversion,
        } => {
            w.write_ustring(Some(path));
            w.write_buffer(data.as_deref());
            write_acl(w, acl);
            match owner {
                EphemeralOwner::None | EphemeralOwner::Session(_) => {
                    w.write_bool(matches!(owner, EphemeralOwner::Session(_)));
                    w.write_int(*parent_cversion);
                }
                EphemeralOwner::Container => w.write_int(*parent_cversion),
                EphemeralOwner::Ttl(ttl) => {
                    w.write_int(*parent_cversion);
                    w.write_long(*ttl);
                }
            }
        }
        TxnOp::Delete { path } => w.write_ustring(Some(path)),
        TxnOp::SetData {
            path,
            data,
            version,
        } => {
            w.write_ustring(Some(path));
            w.write_buffer(data.as_deref());
            w.write_int(*version);
        }
        TxnOp::SetAcl { path, acl, version } => {
            w.write_ustring(Some(path));
            write_acl(w, acl);
            w.write_int(*version);
        }
        TxnOp::Check { path, version } => {
            w.write_ustring(Some(path));
            w.write_int(*version);
        }
        TxnOp::Error { code } => w.write_int(*code),
        TxnOp::CreateSession { timeout_ms } => w.write_int(*timeout_ms),
        TxnOp::CloseSession { paths_to_delete } => {
            w.write_len(Some(paths_to_delete.len()));
            for path in paths_to_delete {
                w.write_ustring(Some(path));
            }
        }
        TxnOp::Multi(ops) => {
            // Each sub-txn is its record serialized on its own, then wrapped as a jute buffer.
            w.write_len(Some(ops.len()));
            for op in ops {
                let mut sub = Writer::new();
                write_record(&mut sub, op);
                w.write_int(txn_type(op).code());
                w.write_buffer(Some(&sub.into_bytes()));
            }
        }
    }
}
// ANCHOR_END: write_record

// ---- reading ------------------------------------------------------------------------------

/// What a create record carries besides its path, data and ACL.
enum CreateKind {
    /// `CreateTxn`: an ephemeral flag, then the parent cversion.
    Plain,
    Container,
    Ttl,
}

// ANCHOR: read_top_level
/// Reads the record a top-level header's type calls for (`SerializeUtils.deserializeTxn`).
fn read_top_level(r: &mut Reader<'_>, code: i32, session: SessionId) -> Result<TxnOp, TxnError> {
    let unknown = TxnError::UnknownType {
        code,
        in_multi: false,
    };
    let op = OpCode::from_code(code).ok_or(unknown.clone())?;
    match op {
        // Before parentCVersion existed (CreateTxnV0) a create ended after `ephemeral`.
        OpCode::Create => {
            let mut full = r.clone();
            match read_create(&mut full, CreateKind::Plain, session) {
                Ok(op) => {
                    *r = full;
                    Ok(op)
                }
                Err(short @ DecodeError::Truncated { .. }) => {
                    read_create_v0(r, session).map_err(|_| TxnError::Decode(short))
                }
                Err(e) => Err(e.into()),
            }
        }
        // 3.5 wrote closeSession with no body.
        OpCode::CloseSession if r.remaining() == 0 => Ok(TxnOp::CloseSession {
            paths_to_delete: Vec::new(),
        }),
        OpCode::CloseSession => {
            let paths_to_delete = r.field("CloseSessionTxn.paths2Delete")?;
            Ok(TxnOp::CloseSession { paths_to_delete })
        }
        OpCode::CreateSession => Ok(TxnOp::CreateSession {
            timeout_ms: r.read_int("CreateSessionTxn.timeOut")?,
        }),
        OpCode::SetAcl => Ok(TxnOp::SetAcl {
            path: r.field("SetACLTxn.path")?,
            acl: r.field("SetACLTxn.acl")?,
            version: r.read_int("SetACLTxn.version")?,
        }),
        OpCode::Multi => read_multi(r, session),
        OpCode::Reconfig => read_sub_record(r, OpCode::SetData, session),
        OpCode::Create2
        | OpCode::CreateContainer
        | OpCode::CreateTtl
        | OpCode::Delete
        | OpCode::DeleteContainer
        | OpCode::SetData
        | OpCode::Error => read_sub_record(r, op, session),
        _ => Err(unknown),
    }
}
// ANCHOR_END: read_top_level

/// Reads a record of a type that may appear both at the top level and inside a multi (the
/// set `DataTree.processTxn` accepts in a multi, plus check).
fn read_sub_record(r: &mut Reader<'_>, op: OpCode, session: SessionId) -> Result<TxnOp, TxnError> {
    Ok(match op {
        OpCode::Create | OpCode::Create2 => read_create(r, CreateKind::Plain, session)?,
        OpCode::CreateContainer => read_create(r, CreateKind::Container, session)?,
        OpCode::CreateTtl => read_create(r, CreateKind::Ttl, session)?,
        OpCode::Delete | OpCode::DeleteContainer => TxnOp::Delete {
            path: r.field("DeleteTxn.path")?,
        },
        OpCode::SetData => TxnOp::SetData {
            path: r.field("SetDataTxn.path")?,
            data: r.read_buffer("SetDataTxn.data")?,
            version: r.read_int("SetDataTxn.version")?,
        },
        OpCode::Check => TxnOp::Check {
            path: r.field("CheckVersionTxn.path")?,
            version: r.read_int("CheckVersionTxn.version")?,
        },
        OpCode::Error => TxnOp::Error {
            code: r.read_int("ErrorTxn.err")?,
        },
        other => {
            return Err(TxnError::UnknownType {
                code: other.code(),
                in_multi: true,
            })
        }
    })
}

/// `CreateTxn`, `CreateContainerTxn` or `CreateTTLTxn`.
fn read_create(
    r: &mut Reader<'_>,
    kind: CreateKind,
    session: SessionId,
) -> Result<TxnOp, DecodeError> {
    let path = r.field("CreateTxn.path")?;
    let data = r.read_buffer("CreateTxn.data")?;
    let acl = r.field("CreateTxn.acl")?;
    let (owner, parent_cversion) = match kind {
        CreateKind::Plain => {
            let ephemeral = r.read_bool("CreateTxn.ephemeral")?;
            let parent_cversion = r.read_int("CreateTxn.parentCVersion")?;
            (plain_owner(ephemeral, session), parent_cversion)
        }
        CreateKind::Container => (
            EphemeralOwner::Container,
            r.read_int("CreateContainerTxn.parentCVersion")?,
        ),
        CreateKind::Ttl => {
            let parent_cversion = r.read_int("CreateTTLTxn.parentCVersion")?;
            let ttl = r.read_long("CreateTTLTxn.ttl")?;
            (EphemeralOwner::Ttl(ttl), parent_cversion)
        }
    };
    Ok(TxnOp::Create {
        path,
        data,
        acl,
        owner,
        parent_cversion,
    })
}

/// `CreateTxnV0`: a create from before `parentCVersion`; -1 lets the tree count for itself.
fn read_create_v0(r: &mut Reader<'_>, session: SessionId) -> Result<TxnOp, DecodeError> {
    Ok(TxnOp::Create {
        path: r.field("CreateTxnV0.path")?,
        data: r.read_buffer("CreateTxnV0.data")?,
        acl: r.field("CreateTxnV0.acl")?,
        owner: plain_owner(r.read_bool("CreateTxnV0.ephemeral")?, session),
        parent_cversion: -1,
    })
}

/// `CreateTxn.ephemeral`: the txn's own session owns an ephemeral node.
fn plain_owner(ephemeral: bool, session: SessionId) -> EphemeralOwner {
    if ephemeral {
        EphemeralOwner::Session(session)
    } else {
        EphemeralOwner::None
    }
}

// ANCHOR: read_multi
/// `MultiTxn`: each sub-txn's record sits in its own buffer, which it must fill exactly.
fn read_multi(r: &mut Reader<'_>, session: SessionId) -> Result<TxnOp, TxnError> {
    let count = r.read_len("MultiTxn.txns")?.unwrap_or(0);
    let mut ops = Vec::new();
    for _ in 0..count {
        let code = r.read_int("Txn.type")?;
        let bytes = r
            .read_buffer("Txn.data")?
            .ok_or(DecodeError::UnexpectedNull { what: "Txn.data" })?;
        let op = OpCode::from_code(code).ok_or(TxnError::UnknownType {
            code,
            in_multi: true,
        })?;
        let mut sub = Reader::new(&bytes);
        ops.push(read_sub_record(&mut sub, op, session)?);
        if sub.remaining() > 0 {
            return Err(TxnError::TrailingBytes {
                count: sub.remaining(),
            });
        }
    }
    Ok(TxnOp::Multi(ops))
}
// ANCHOR_END: read_multi

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arb;
    use ch01_znode::acl::perms;
    use proptest::prelude::*;

    fn header() -> TxnHeader {
        TxnHeader {
            session: SessionId(0x100000000000001),
            cxid: 7,
            zxid: Zxid(0x100000005),
            time_ms: 1_700_000_000_000,
        }
    }

    fn create(owner: EphemeralOwner) -> TxnOp {
        TxnOp::Create {
            path: "/a".into(),
            data: Some(b"x".to_vec()),
            acl: Acl::open_unsafe(),
            owner,
            parent_cversion: 3,
        }
    }

    #[test]
    fn a_header_is_32_bytes_in_jute_order_then_the_record() {
        let txn = header().txn(TxnOp::Delete { path: "/a".into() });
        let bytes = TxnEntry::new(txn).encode();
        assert_eq!(bytes.len(), 32 + 4 + 2);
        assert_eq!(&bytes[..8], &0x100000000000001_i64.to_be_bytes());
        assert_eq!(&bytes[8..12], &7_i32.to_be_bytes());
        assert_eq!(&bytes[12..20], &0x100000005_i64.to_be_bytes());
        assert_eq!(&bytes[20..28], &1_700_000_000_000_i64.to_be_bytes());
        assert_eq!(&bytes[28..32], &2_i32.to_be_bytes(), "delete is type 2");
        assert_eq!(&bytes[32..], b"\0\0\0\x02/a");
    }

    #[test]
    fn a_create_is_typed_by_its_owner() {
        let session = header().session;
        let cases = [
            (EphemeralOwner::None, OpCode::Create),
            (EphemeralOwner::Session(session), OpCode::Create),
            (EphemeralOwner::Container, OpCode::CreateContainer),
            (EphemeralOwner::Ttl(500), OpCode::CreateTtl),
        ];
        for (owner, code) in cases {
            assert_eq!(txn_type(&create(owner)), code);
            let entry = TxnEntry::new(header().txn(create(owner)));
            assert_eq!(TxnEntry::decode(&entry.encode()), Ok(entry));
        }
    }

    #[test]
    fn create2_delete_container_and_reconfig_read_as_their_twins() {
        let entry = TxnEntry::new(header().txn(create(EphemeralOwner::None)));
        let mut bytes = entry.encode();
        bytes[28..32].copy_from_slice(&OpCode::Create2.code().to_be_bytes());
        assert_eq!(TxnEntry::decode(&bytes), Ok(entry));

        let delete = TxnEntry::new(header().txn(TxnOp::Delete { path: "/c".into() }));
        let mut bytes = delete.encode();
        bytes[28..32].copy_from_slice(&OpCode::DeleteContainer.code().to_be_bytes());
        assert_eq!(TxnEntry::decode(&bytes), Ok(delete));

        let set = TxnEntry::new(header().txn(TxnOp::SetData {
            path: "/zookeeper/config".into(),
            data: Some(b"server.1=127.0.0.1:2888:3888".to_vec()),
            version: -1,
        }));
        let mut bytes = set.encode();
        bytes[28..32].copy_from_slice(&OpCode::Reconfig.code().to_be_bytes());
        assert_eq!(TxnEntry::decode(&bytes), Ok(set));
    }

    #[test]
    fn a_create_without_parent_cversion_is_a_v0_create() {
        let entry = TxnEntry::new(header().txn(create(EphemeralOwner::None)));
        let bytes = entry.encode();
        let v0 = TxnEntry::decode(&bytes[..bytes.len() - 4]).unwrap();
        let TxnOp::Create {
            parent_cversion, ..
        } = v0.txn.op
        else {
            panic!("a create: {v0:?}")
        };
        assert_eq!(parent_cversion, -1);
    }

    #[test]
    fn a_close_session_with_no_body_lists_no_paths() {
        let close = TxnOp::CloseSession {
            paths_to_delete: vec![],
        };
        let bytes = TxnEntry::new(header().txn(close.clone())).encode();
        assert_eq!(bytes.len(), 36, "3.6+ writes an empty vector");
        assert_eq!(TxnEntry::decode(&bytes[..32]).unwrap().txn.op, close);
    }

    #[test]
    fn a_digest_is_read_when_present_and_other_trailing_bytes_are_refused() {
        let digest = TxnDigest {
            version: 2,
            tree_digest: 0x1234_5678_9abc,
        };
        let entry = TxnEntry {
            txn: header().txn(TxnOp::Error { code: -110 }),
            digest: Some(digest),
        };
        let bytes = entry.encode();
        assert_eq!(bytes.len(), 32 + 4 + 12);
        assert_eq!(TxnEntry::decode(&bytes), Ok(entry));
        assert_eq!(
            TxnEntry::decode(&bytes[..bytes.len() - 1]),
            Err(TxnError::TrailingBytes { count: 11 })
        );
    }

    #[test]
    fn unknown_types_are_refused_and_a_multi_holds_only_what_upstream_allows() {
        let mut bytes = TxnEntry::new(header().txn(TxnOp::Error { code: 0 })).encode();
        bytes[28..32].copy_from_slice(&3_i32.to_be_bytes()); // exists: a read, never a txn
        assert_eq!(
            TxnEntry::decode(&bytes),
            Err(TxnError::UnknownType {
                code: 3,
                in_multi: false
            })
        );
        let set_acl = TxnOp::SetAcl {
            path: "/a".into(),
            acl: vec![Acl::new(perms::READ, "ip", "127.0.0.1")],
            version: 1,
        };
        let multi = TxnOp::Multi(vec![set_acl]);
        let bytes = TxnEntry::new(header().txn(multi)).encode();
        assert_eq!(
            TxnEntry::decode(&bytes),
            Err(TxnError::UnknownType {
                code: 7,
                in_multi: true
            })
        );
    }

    proptest! {
        #[test]
        fn every_txn_reads_back_as_written(entry in arb::txn_entry()) {
            prop_assert_eq!(TxnEntry::decode(&entry.encode()), Ok(entry));
        }

        #[test]
        fn random_bytes_are_an_error_or_a_txn_never_a_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..96)
        ) {
            let _ = TxnEntry::decode(&bytes);
        }

        #[test]
        fn a_cut_txn_is_an_error_or_another_txn_never_a_panic(
            entry in arb::txn_entry(),
            cut in any::<proptest::sample::Index>(),
        ) {
            let bytes = entry.encode();
            let _ = TxnEntry::decode(&bytes[..cut.index(bytes.len())]);
        }
    }
}
