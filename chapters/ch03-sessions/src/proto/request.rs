//! [`Request`]: a client frame after the handshake, decoded by its opcode.
//!
//! A request frame is a `RequestHeader{xid, type}` followed by the record
//! that `type` calls for (or nothing, for ping, closeSession and whoAmI).
//! Nothing in the body says what it is: the opcode in the header is the
//! only type tag on the wire, so decoding is one `match` on it.
//!
//! A server calls [`decode_request`]; when it fails, [`RequestError`] still
//! carries the header if the header was readable, so the server can answer
//! that xid the way ZooKeeper does (`Unimplemented` for an unknown opcode,
//! `MarshallingError` for a body it cannot read) or, with no header, close
//! the connection.

use crate::jute::{DecodeError, Reader, Record, Writer};

use ch01_znode::{ZkError, Zxid};

use super::multi::MultiRequest;
use super::opcode::OpCode;
use super::records::{
    AddWatchRequest, AuthPacket, CheckVersionRequest, CheckWatchesRequest, CreateRequest,
    CreateTtlRequest, DeleteRequest, ExistsRequest, GetAclRequest, GetAllChildrenNumberRequest,
    GetChildren2Request, GetChildrenRequest, GetDataRequest, GetEphemeralsRequest, ReconfigRequest,
    RemoveWatchesRequest, RequestHeader, SaslToken, SetAclRequest, SetDataRequest, SetWatches,
    SetWatches2, SyncRequest,
};

/// The xid the client uses for pings.
pub const PING_XID: i32 = -2;
/// The xid the client uses for auth packets.
pub const AUTH_XID: i32 = -4;
/// `ClientCnxn.SET_WATCHES_XID`; the Java client overwrites it with a normal
/// xid when it sends, so servers must recognise setWatches by opcode.
pub const SET_WATCHES_XID: i32 = -8;

// ANCHOR: request_enum
/// Every request a client can send after the handshake, by opcode.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Request {
    Create(CreateRequest),
    Create2(CreateRequest),
    CreateContainer(CreateRequest),
    CreateTtl(CreateTtlRequest),
    Delete(DeleteRequest),
    Exists(ExistsRequest),
    GetData(GetDataRequest),
    SetData(SetDataRequest),
    GetAcl(GetAclRequest),
    SetAcl(SetAclRequest),
    GetChildren(GetChildrenRequest),
    GetChildren2(GetChildren2Request),
    Sync(SyncRequest),
    Ping,
    Check(CheckVersionRequest),
    Multi(MultiRequest),
    MultiRead(MultiRequest),
    Reconfig(ReconfigRequest),
    CheckWatches(CheckWatchesRequest),
    RemoveWatches(RemoveWatchesRequest),
    Auth(AuthPacket),
    SetWatches(SetWatches),
    SetWatches2(SetWatches2),
    Sasl(SaslToken),
    GetEphemerals(GetEphemeralsRequest),
    GetAllChildrenNumber(GetAllChildrenNumberRequest),
    AddWatch(AddWatchRequest),
    WhoAmI,
    CloseSession,
    /// createSession (-10) inside a session: no client sends it, but upstream takes it from
    /// any connection, reads only the body's first int as the new timeout, and answers with
    /// a whole ConnectResponse.
    CreateSession {
        timeout_ms: i32,
    },
    /// deleteContainer (20), meant for the server's own container reaper: upstream takes the
    /// whole body as the path's bytes (no length prefix), so a client's well-formed body is a
    /// path starting with NUL bytes.
    DeleteContainer {
        path: String,
    },
}
// ANCHOR_END: request_enum

/// Why a request frame could not be decoded, with its header when the
/// header itself was readable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestError {
    pub header: Option<RequestHeader>,
    pub cause: DecodeError,
    /// What upstream still carries out before it fails on this body, if anything: a
    /// setWatches sets the watches of the lists before a null one (see [`watches_before_null`]).
    pub partial: Option<Box<Request>>,
}

impl RequestError {
    /// The error code ZooKeeper answers this with, if it answers at all:
    /// `Unimplemented` for an opcode it does not know
    /// (`ZooKeeperServer.submitRequestNow` hands those to the
    /// `UnimplementedRequestProcessor`), `MarshallingError` for a body it
    /// cannot read. `None` when not even the header was readable: then the
    /// only answer is to close the connection.
    pub fn reply_error(&self) -> Option<ZkError> {
        self.header.as_ref()?;
        Some(match self.cause {
            DecodeError::UnknownOpCode { .. } => ZkError::Unimplemented,
            _ => ZkError::MarshallingError,
        })
    }
}

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.header {
            Some(h) => write!(f, "request xid {} type {}: {}", h.xid, h.r#type, self.cause),
            None => write!(f, "request header: {}", self.cause),
        }
    }
}

impl std::error::Error for RequestError {}

// ANCHOR: decode_request
/// Decodes one request frame's payload (the bytes after the 4-byte length).
pub fn decode_request(frame: &[u8]) -> Result<(RequestHeader, Request), RequestError> {
    let mut r = Reader::new(frame);
    let header: RequestHeader = r.field("RequestHeader").map_err(|cause| RequestError {
        header: None,
        cause,
        partial: None,
    })?;
    let body = r.clone();
    let request = Request::decode_body(header.r#type, &mut r).map_err(|cause| RequestError {
        header: Some(header.clone()),
        cause,
        partial: watches_before_null(header.r#type, body).map(Box::new),
    })?;
    Ok((header, request))
}
// ANCHOR_END: decode_request

/// Encodes a request frame's payload: the header, then the body.
pub fn encode_request(xid: i32, request: &Request) -> Vec<u8> {
    let mut w = Writer::new();
    RequestHeader {
        xid,
        r#type: request.op_code().code(),
    }
    .encode(&mut w);
    request.encode_body(&mut w);
    w.into_bytes()
}

// ANCHOR: null_lists
/// Watch lists as read, each `None` when null on the wire.
type WatchLists = Vec<Option<Vec<String>>>;

/// The relative zxid and `count` watch lists of a setWatches (3) or setWatches2 (5), each
/// `None` when null. Upstream reads a null list as null and only fails when it walks it.
fn watch_lists(r: &mut Reader<'_>, count: usize) -> Result<(Zxid, WatchLists), DecodeError> {
    let relative_zxid = r.field("SetWatches.relativeZxid")?;
    let mut lists = Vec::with_capacity(count);
    for _ in 0..count {
        lists.push(if r.rest().starts_with(&(-1i32).to_be_bytes()) {
            r.take(4, "SetWatches list")?;
            None
        } else {
            Some(r.field("SetWatches list")?)
        });
    }
    Ok((relative_zxid, lists))
}

/// Every list, or the error a null one is: upstream's `DataTree.setWatches` walks the lists
/// in order and throws on the null one (MarshallingError).
fn all_present<const N: usize>(
    lists: Vec<Option<Vec<String>>>,
) -> Result<[Vec<String>; N], DecodeError> {
    let lists: Option<Vec<Vec<String>>> = lists.into_iter().collect();
    lists
        .and_then(|l| l.try_into().ok())
        .ok_or(DecodeError::UnexpectedNull {
            what: "SetWatches list",
        })
}

/// What a setWatches with a null list does before it fails: the watches of the lists before
/// the null one are set (and fire, if their node changed), as upstream's loop over the lists
/// has done by the time it throws. `None` for any other request or failure.
pub fn watches_before_null(op: i32, mut r: Reader<'_>) -> Option<Request> {
    let count = match OpCode::from_code(op)? {
        OpCode::SetWatches => 3,
        OpCode::SetWatches2 => 5,
        _ => return None,
    };
    let (relative_zxid, lists) = watch_lists(&mut r, count).ok()?;
    let first_null = lists.iter().position(Option::is_none)?;
    let mut lists = lists.into_iter().take(first_null).flatten();
    let mut next = || lists.next().unwrap_or_default();
    Some(Request::SetWatches2(SetWatches2 {
        relative_zxid,
        data_watches: next(),
        exist_watches: next(),
        child_watches: next(),
        persistent_watches: next(),
        persistent_recursive_watches: next(),
    }))
}
// ANCHOR_END: null_lists

// ANCHOR: null_path
/// Reads a record whose path ZooKeeper 3.8 lets be null, as if the path were empty.
///
/// Upstream's jute reader returns a null string for length -1, and what happens next is up to
/// the op. Most ops look the path up and throw (`MarshallingError`): for them a null is a
/// decode error here. These answer a null exactly as they answer `""`, so that is how it is
/// read: setData, setACL and check fail `validatePath` either way (BadArguments), createTTL
/// is refused before its path is looked at while TTLs are disabled (Unimplemented),
/// removeWatches finds no watch (NoWatcher), getEphemerals takes a blank prefix for "all of
/// them" (`StringUtils.isBlank`), and addWatch leaves a watch on a path no change reaches.
/// A null (-1) and an empty string (0) are both 4 bytes, so the record ends where it would.
pub(crate) fn null_path_as_empty<T: Record>(
    r: &mut Reader<'_>,
    what: &'static str,
) -> Result<T, DecodeError> {
    let rest = r.rest();
    if !rest.starts_with(&(-1i32).to_be_bytes()) {
        return r.field(what);
    }
    let mut as_empty = 0i32.to_be_bytes().to_vec();
    as_empty.extend_from_slice(&rest[4..]);
    let mut patched = Reader::new(&as_empty);
    let value = patched.field(what)?;
    r.take(patched.position(), what)?;
    Ok(value)
}
// ANCHOR_END: null_path

impl Request {
    /// Reads the body that opcode `op` calls for.
    pub fn decode_body(op: i32, r: &mut Reader<'_>) -> Result<Request, DecodeError> {
        Ok(match OpCode::parse(op)? {
            OpCode::Create => Request::Create(r.field("CreateRequest")?),
            OpCode::Create2 => Request::Create2(r.field("CreateRequest")?),
            OpCode::CreateContainer => Request::CreateContainer(r.field("CreateRequest")?),
            OpCode::CreateTtl => Request::CreateTtl(null_path_as_empty(r, "CreateTTLRequest")?),
            OpCode::Delete => Request::Delete(r.field("DeleteRequest")?),
            OpCode::Exists => Request::Exists(r.field("ExistsRequest")?),
            OpCode::GetData => Request::GetData(r.field("GetDataRequest")?),
            OpCode::SetData => Request::SetData(null_path_as_empty(r, "SetDataRequest")?),
            OpCode::GetAcl => Request::GetAcl(r.field("GetACLRequest")?),
            OpCode::SetAcl => Request::SetAcl(null_path_as_empty(r, "SetACLRequest")?),
            OpCode::GetChildren => Request::GetChildren(r.field("GetChildrenRequest")?),
            OpCode::GetChildren2 => Request::GetChildren2(r.field("GetChildren2Request")?),
            OpCode::Sync => Request::Sync(r.field("SyncRequest")?),
            OpCode::Ping => Request::Ping,
            OpCode::Check => Request::Check(null_path_as_empty(r, "CheckVersionRequest")?),
            OpCode::Multi => Request::Multi(r.field("MultiRequest")?),
            OpCode::MultiRead => Request::MultiRead(r.field("MultiRequest")?),
            OpCode::Reconfig => Request::Reconfig(r.field("ReconfigRequest")?),
            OpCode::CheckWatches => Request::CheckWatches(r.field("CheckWatchesRequest")?),
            OpCode::RemoveWatches => {
                Request::RemoveWatches(null_path_as_empty(r, "RemoveWatchesRequest")?)
            }
            OpCode::Auth => Request::Auth(r.field("AuthPacket")?),
            OpCode::SetWatches => {
                let (relative_zxid, lists) = watch_lists(r, 3)?;
                let [data_watches, exist_watches, child_watches] = all_present(lists)?;
                Request::SetWatches(SetWatches {
                    relative_zxid,
                    data_watches,
                    exist_watches,
                    child_watches,
                })
            }
            OpCode::SetWatches2 => {
                let (relative_zxid, lists) = watch_lists(r, 5)?;
                let [data, exist, child, persistent, recursive] = all_present(lists)?;
                Request::SetWatches2(SetWatches2 {
                    relative_zxid,
                    data_watches: data,
                    exist_watches: exist,
                    child_watches: child,
                    persistent_watches: persistent,
                    persistent_recursive_watches: recursive,
                })
            }
            OpCode::Sasl => Request::Sasl(r.field("GetSASLRequest")?),
            OpCode::GetEphemerals => {
                Request::GetEphemerals(null_path_as_empty(r, "GetEphemeralsRequest")?)
            }
            OpCode::GetAllChildrenNumber => {
                Request::GetAllChildrenNumber(r.field("GetAllChildrenNumberRequest")?)
            }
            OpCode::AddWatch => Request::AddWatch(null_path_as_empty(r, "AddWatchRequest")?),
            OpCode::WhoAmI => Request::WhoAmI,
            OpCode::CloseSession => Request::CloseSession,
            OpCode::CreateSession => Request::CreateSession {
                timeout_ms: r.read_int("createSession timeout")?,
            },
            OpCode::DeleteContainer => Request::DeleteContainer {
                path: String::from_utf8_lossy(r.take(r.remaining(), "deleteContainer path")?)
                    .into_owned(),
            },
            // Internal types: a txn type or the notification marker is never
            // a request a client may send.
            OpCode::Notification | OpCode::Error => return Err(DecodeError::UnknownOpCode { op }),
        })
    }

    /// Appends the body (not the header).
    pub fn encode_body(&self, w: &mut Writer) {
        match self {
            Request::Create(r) | Request::Create2(r) | Request::CreateContainer(r) => r.encode(w),
            Request::CreateTtl(r) => r.encode(w),
            Request::Delete(r) => r.encode(w),
            Request::Exists(r) => r.encode(w),
            Request::GetData(r) => r.encode(w),
            Request::SetData(r) => r.encode(w),
            Request::GetAcl(r) => r.encode(w),
            Request::SetAcl(r) => r.encode(w),
            Request::GetChildren(r) => r.encode(w),
            Request::GetChildren2(r) => r.encode(w),
            Request::Sync(r) => r.encode(w),
            Request::Check(r) => r.encode(w),
            Request::Multi(r) | Request::MultiRead(r) => r.encode(w),
            Request::Reconfig(r) => r.encode(w),
            Request::CheckWatches(r) => r.encode(w),
            Request::RemoveWatches(r) => r.encode(w),
            Request::Auth(r) => r.encode(w),
            Request::SetWatches(r) => r.encode(w),
            Request::SetWatches2(r) => r.encode(w),
            Request::Sasl(r) => r.encode(w),
            Request::GetEphemerals(r) => r.encode(w),
            Request::GetAllChildrenNumber(r) => r.encode(w),
            Request::AddWatch(r) => r.encode(w),
            Request::Ping | Request::WhoAmI | Request::CloseSession => {}
            Request::CreateSession { timeout_ms } => w.write_int(*timeout_ms),
            Request::DeleteContainer { path } => w.write_raw(path.as_bytes()),
        }
    }

    /// The opcode this request travels under.
    pub fn op_code(&self) -> OpCode {
        match self {
            Request::Create(_) => OpCode::Create,
            Request::Create2(_) => OpCode::Create2,
            Request::CreateContainer(_) => OpCode::CreateContainer,
            Request::CreateTtl(_) => OpCode::CreateTtl,
            Request::Delete(_) => OpCode::Delete,
            Request::Exists(_) => OpCode::Exists,
            Request::GetData(_) => OpCode::GetData,
            Request::SetData(_) => OpCode::SetData,
            Request::GetAcl(_) => OpCode::GetAcl,
            Request::SetAcl(_) => OpCode::SetAcl,
            Request::GetChildren(_) => OpCode::GetChildren,
            Request::GetChildren2(_) => OpCode::GetChildren2,
            Request::Sync(_) => OpCode::Sync,
            Request::Ping => OpCode::Ping,
            Request::Check(_) => OpCode::Check,
            Request::Multi(_) => OpCode::Multi,
            Request::MultiRead(_) => OpCode::MultiRead,
            Request::Reconfig(_) => OpCode::Reconfig,
            Request::CheckWatches(_) => OpCode::CheckWatches,
            Request::RemoveWatches(_) => OpCode::RemoveWatches,
            Request::Auth(_) => OpCode::Auth,
            Request::SetWatches(_) => OpCode::SetWatches,
            Request::SetWatches2(_) => OpCode::SetWatches2,
            Request::Sasl(_) => OpCode::Sasl,
            Request::GetEphemerals(_) => OpCode::GetEphemerals,
            Request::GetAllChildrenNumber(_) => OpCode::GetAllChildrenNumber,
            Request::AddWatch(_) => OpCode::AddWatch,
            Request::WhoAmI => OpCode::WhoAmI,
            Request::CloseSession => OpCode::CloseSession,
            Request::CreateSession { .. } => OpCode::CreateSession,
            Request::DeleteContainer { .. } => OpCode::DeleteContainer,
        }
    }
}
