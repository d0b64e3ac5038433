//! [`Response`]: a server frame after the handshake, decoded by the opcode
//! of the request it answers.
//!
//! A reply frame is a `ReplyHeader{xid, zxid, err}`, then, **only when err
//! is 0**, the response record of the request's opcode. The reply does not
//! repeat the opcode, so a client has to remember which opcode each xid was
//! (ZooKeeper's `ClientCnxn` keeps its pending queue for this); three xids
//! need no memory: -1 is a watch notification, -2 a ping reply, -4 an auth
//! reply.

use crate::jute::{DecodeError, Reader, Record, Writer};

use super::multi::MultiResponse;
use super::opcode::OpCode;
use super::records::{
    Create2Response, CreateResponse, ErrorResponse, ExistsResponse, GetAclResponse,
    GetAllChildrenNumberResponse, GetChildren2Response, GetChildrenResponse, GetDataResponse,
    GetEphemeralsResponse, ReplyHeader, SaslToken, SetAclResponse, SetDataResponse, SyncResponse,
    WhoAmIResponse, Zxid,
};
use super::request::{AUTH_XID, PING_XID};
use super::watch::{WatchedEvent, NOTIFICATION_XID};

/// A successful reply's body, by the request's opcode.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Response {
    /// delete, ping, check, setWatches(2), auth, checkWatches,
    /// removeWatches, closeSession: the header says it all.
    Empty,
    Create(CreateResponse),
    /// create2, createContainer, createTTL.
    Create2(Create2Response),
    Exists(ExistsResponse),
    /// getData, and reconfig (the new config and its stat).
    GetData(GetDataResponse),
    SetData(SetDataResponse),
    GetAcl(GetAclResponse),
    SetAcl(SetAclResponse),
    GetChildren(GetChildrenResponse),
    GetChildren2(GetChildren2Response),
    Sync(SyncResponse),
    /// multi and multiRead.
    Multi(MultiResponse),
    Sasl(SaslToken),
    GetEphemerals(GetEphemeralsResponse),
    GetAllChildrenNumber(GetAllChildrenNumberResponse),
    /// addWatch answers a 4-byte `ErrorResponse{err=0}`.
    AddWatch(ErrorResponse),
    WhoAmI(WhoAmIResponse),
}

/// What a server frame after the handshake is, told apart by its xid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerFrame {
    /// xid -1: a watch fired.
    Notification(WatchedEvent),
    /// xid -2: the answer to a ping.
    Ping(ReplyHeader),
    /// xid -4: the answer to an auth packet (err -115 if it failed).
    Auth(ReplyHeader),
    /// Any other xid: the answer to a request; the body is still bytes
    /// because reading it needs the request's opcode ([`decode_response`]).
    Reply(ReplyHeader),
}

impl Response {
    /// Reads the body that answers opcode `op`.
    pub fn decode_body(op: OpCode, r: &mut Reader<'_>) -> Result<Response, DecodeError> {
        Ok(match op {
            OpCode::Create => Response::Create(r.field("CreateResponse")?),
            OpCode::Create2 | OpCode::CreateContainer | OpCode::CreateTtl => {
                Response::Create2(r.field("Create2Response")?)
            }
            OpCode::Exists => Response::Exists(r.field("ExistsResponse")?),
            OpCode::GetData | OpCode::Reconfig => Response::GetData(r.field("GetDataResponse")?),
            OpCode::SetData => Response::SetData(r.field("SetDataResponse")?),
            OpCode::GetAcl => Response::GetAcl(r.field("GetACLResponse")?),
            OpCode::SetAcl => Response::SetAcl(r.field("SetACLResponse")?),
            OpCode::GetChildren => Response::GetChildren(r.field("GetChildrenResponse")?),
            OpCode::GetChildren2 => Response::GetChildren2(r.field("GetChildren2Response")?),
            OpCode::Sync => Response::Sync(r.field("SyncResponse")?),
            OpCode::Multi | OpCode::MultiRead => Response::Multi(r.field("MultiResponse")?),
            OpCode::Sasl => Response::Sasl(r.field("SetSASLResponse")?),
            OpCode::GetEphemerals => Response::GetEphemerals(r.field("GetEphemeralsResponse")?),
            OpCode::GetAllChildrenNumber => {
                Response::GetAllChildrenNumber(r.field("GetAllChildrenNumberResponse")?)
            }
            OpCode::AddWatch => Response::AddWatch(r.field("ErrorResponse")?),
            OpCode::WhoAmI => Response::WhoAmI(r.field("WhoAmIResponse")?),
            OpCode::Delete
            | OpCode::Ping
            | OpCode::Check
            | OpCode::SetWatches
            | OpCode::SetWatches2
            | OpCode::Auth
            | OpCode::CheckWatches
            | OpCode::RemoveWatches
            | OpCode::CloseSession
            | OpCode::Notification
            | OpCode::DeleteContainer
            | OpCode::CreateSession
            | OpCode::Error => Response::Empty,
        })
    }

    /// Appends the body (nothing for [`Response::Empty`]).
    pub fn encode_body(&self, w: &mut Writer) {
        match self {
            Response::Empty => {}
            Response::Create(r) => r.encode(w),
            Response::Create2(r) => r.encode(w),
            Response::Exists(r) => r.encode(w),
            Response::GetData(r) => r.encode(w),
            Response::SetData(r) => r.encode(w),
            Response::GetAcl(r) => r.encode(w),
            Response::SetAcl(r) => r.encode(w),
            Response::GetChildren(r) => r.encode(w),
            Response::GetChildren2(r) => r.encode(w),
            Response::Sync(r) => r.encode(w),
            Response::Multi(r) => r.encode(w),
            Response::Sasl(r) => r.encode(w),
            Response::GetEphemerals(r) => r.encode(w),
            Response::GetAllChildrenNumber(r) => r.encode(w),
            Response::AddWatch(r) => r.encode(w),
            Response::WhoAmI(r) => r.encode(w),
        }
    }
}

/// Reads a server frame's header and says which kind of frame it is; for a
/// notification it also reads the event. Returns the reader positioned at
/// the body, for [`decode_response`].
pub fn decode_server_frame(frame: &[u8]) -> Result<(ServerFrame, Reader<'_>), DecodeError> {
    let mut r = Reader::new(frame);
    let header: ReplyHeader = r.field("ReplyHeader")?;
    let kind = match header.xid {
        NOTIFICATION_XID => ServerFrame::Notification(r.field("WatcherEvent")?),
        PING_XID => ServerFrame::Ping(header),
        AUTH_XID => ServerFrame::Auth(header),
        _ => ServerFrame::Reply(header),
    };
    Ok((kind, r))
}

/// Reads a reply's body given the opcode of the request it answers. An
/// error reply (`err != 0`) has no body: `Ok(None)`.
pub fn decode_response(
    op: OpCode,
    header: &ReplyHeader,
    body: &mut Reader<'_>,
) -> Result<Option<Response>, DecodeError> {
    if header.err != 0 {
        return Ok(None);
    }
    Response::decode_body(op, body).map(Some)
}

// ANCHOR: encode_reply
/// Encodes a reply frame's payload: the header, then the body if any. A
/// server passes `None` (or [`Response::Empty`]) with a non-zero `err`, with
/// one exception upstream has too: a multi or multiRead that failed after its
/// answer was begun sends that answer with the error (`FinalRequestProcessor`
/// sends whatever response it had built).
pub fn encode_reply(header: &ReplyHeader, body: Option<&Response>) -> Vec<u8> {
    let mut w = Writer::new();
    header.encode(&mut w);
    if let Some(body) = body {
        body.encode_body(&mut w);
    }
    w.into_bytes()
}
// ANCHOR_END: encode_reply

/// Encodes a watch notification frame's payload: the header xid -1, zxid -1
/// (3.5–3.8 always send -1 here), err 0, then the event.
pub fn encode_notification(event: &WatchedEvent) -> Vec<u8> {
    let mut w = Writer::new();
    let header = ReplyHeader {
        xid: NOTIFICATION_XID,
        zxid: Zxid(-1),
        err: 0,
    };
    header.encode(&mut w);
    event.encode(&mut w);
    w.into_bytes()
}
