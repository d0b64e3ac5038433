//! The one-line trace form of every frame, for `--trace` and debugging.
//!
//! A frame does not say what it is: the handshake is known by being first,
//! and a reply's body by the opcode of the request with the same xid. So
//! the printer is a small state machine, [`FramePrinter`], that watches both
//! directions of one connection and remembers each outstanding xid's opcode,
//! just as a client has to.
//!
//! The forms are compact and stable (snapshots show them), e.g.
//! `xid=1 create /a data="x" acl=[world:anyone:cdrwa] flags=0` and
//! `xid=1 zxid=0x2 ok path=/a`.

use std::collections::HashMap;
use std::fmt::{self, Display, Formatter, Write as _};

use ch01_znode::ZkError;

use crate::jute::Record;

use super::connect::{ConnectRequest, ConnectResponse};
use super::multi::{MultiOp, MultiRequest, MultiResponse, OpResult};
use super::opcode::OpCode;
use super::records::{Acl, CreateRequest, CreateTtlRequest, SetDataRequest, Stat};
use super::request::{decode_request, Request};
use super::response::{decode_response, decode_server_frame, Response, ServerFrame};

/// Which way a frame went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    ClientToServer,
    ServerToClient,
}

/// Decodes the frames of one connection into trace lines.
#[derive(Clone, Debug, Default)]
pub struct FramePrinter {
    client_connected: bool,
    server_connected: bool,
    pending: HashMap<i32, OpCode>,
}

impl FramePrinter {
    /// A printer for a fresh connection (the next frames are the handshake).
    pub fn new() -> Self {
        FramePrinter::default()
    }

    /// One line describing `payload` (a frame without its length prefix).
    /// Undecodable bytes are described, not fatal.
    pub fn describe(&mut self, dir: Direction, payload: &[u8]) -> String {
        match dir {
            Direction::ClientToServer => self.describe_client(payload),
            Direction::ServerToClient => self.describe_server(payload),
        }
    }

    /// [`FramePrinter::describe`], followed with `--bytes` by a second,
    /// indented line holding the payload in hex.
    pub fn line(&mut self, dir: Direction, payload: &[u8], show_bytes: bool) -> String {
        let text = self.describe(dir, payload);
        if show_bytes {
            format!("{text}\n    {}", hex(payload))
        } else {
            text
        }
    }

    fn describe_client(&mut self, payload: &[u8]) -> String {
        if !self.client_connected {
            self.client_connected = true;
            return match ConnectRequest::from_bytes(payload) {
                Ok(c) => c.to_string(),
                Err(e) => format!("bad ConnectRequest: {e}"),
            };
        }
        match decode_request(payload) {
            Ok((h, req)) => {
                self.pending.insert(h.xid, req.op_code());
                format!("xid={} {req}", h.xid)
            }
            Err(e) => format!("bad request: {e}"),
        }
    }

    fn describe_server(&mut self, payload: &[u8]) -> String {
        if !self.server_connected {
            self.server_connected = true;
            return match ConnectResponse::from_bytes(payload) {
                Ok(c) => c.to_string(),
                Err(e) => format!("bad ConnectResponse: {e}"),
            };
        }
        let (frame, mut body) = match decode_server_frame(payload) {
            Ok(x) => x,
            Err(e) => return format!("bad reply: {e}"),
        };
        match frame {
            ServerFrame::Notification(ev) => format!("xid=-1 notification {ev}"),
            ServerFrame::Ping(h) => format!("xid=-2 zxid={} {} ping", zxid(h.zxid.0), err(h.err)),
            ServerFrame::Auth(h) => format!("xid=-4 zxid={} {} auth", zxid(h.zxid.0), err(h.err)),
            ServerFrame::Reply(h) => {
                let head = format!("xid={} zxid={} {}", h.xid, zxid(h.zxid.0), err(h.err));
                let Some(op) = self.pending.remove(&h.xid) else {
                    return format!("{head} (no request with this xid)");
                };
                match decode_response(op, &h, &mut body) {
                    Ok(Some(Response::Empty)) | Ok(None) => format!("{head} {op}"),
                    Ok(Some(rsp)) => format!("{head} {op} {rsp}"),
                    Err(e) => format!("{head} {op} bad body: {e}"),
                }
            }
        }
    }
}

/// Hex dump of a payload, bytes separated by spaces, for `--bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// A zxid as ZooKeeper logs it: `0x` and lowercase hex (-1 stays -1).
fn zxid(z: i64) -> String {
    if z < 0 {
        z.to_string()
    } else {
        format!("0x{z:x}")
    }
}

fn err(code: i32) -> String {
    match ZkError::from_code(code) {
        _ if code == 0 => "ok".to_owned(),
        Some(e) => format!("err={code}({})", e.code_message()),
        None => format!("err={code}(unknown)"),
    }
}

/// Data as a quoted string when it is short printable UTF-8, else its size.
struct Data<'a>(&'a Option<Vec<u8>>);

impl Display for Data<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("null"),
            Some(d) => match std::str::from_utf8(d) {
                Ok(s) if s.len() <= 32 && !s.chars().any(char::is_control) => {
                    write!(f, "{s:?}")
                }
                _ => write!(f, "<{} bytes>", d.len()),
            },
        }
    }
}

/// ACL perms as zkCli prints them: `cdrwa` letters.
fn perm_letters(perms: i32) -> String {
    [(4, 'c'), (8, 'd'), (1, 'r'), (2, 'w'), (16, 'a')]
        .iter()
        .filter(|(bit, _)| perms & bit != 0)
        .map(|(_, c)| *c)
        .collect()
}

struct Acls<'a>(&'a [Acl]);

impl Display for Acls<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, a) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}:{}:{}", a.id.scheme, a.id.id, perm_letters(a.perms))?;
        }
        f.write_str("]")
    }
}

struct List<'a>(&'a [String]);

impl Display for List<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]", self.0.join(","))
    }
}

/// `{czxid=0x2 mzxid=0x2 version=0 ...}` without the times, which change on
/// every run and would make traces unstable.
pub struct StatLine<'a>(pub &'a Stat);

impl Display for StatLine<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let s = self.0;
        write!(
            f,
            "{{czxid={} mzxid={} pzxid={} version={} cversion={} aversion={} ephemeralOwner={} dataLength={} numChildren={}}}",
            zxid(s.czxid.0),
            zxid(s.mzxid.0),
            zxid(s.pzxid.0),
            s.version,
            s.cversion,
            s.aversion,
            zxid(s.ephemeral_owner.0),
            s.data_length,
            s.num_children
        )
    }
}

impl Display for ConnectRequest {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ConnectRequest protocolVersion={} lastZxidSeen={} timeOut={} sessionId={} passwd=<{} bytes> readOnly={}",
            self.protocol_version,
            zxid(self.last_zxid_seen.0),
            self.time_out,
            zxid(self.session_id.0),
            self.passwd.len(),
            self.read_only.map_or("absent".to_owned(), |b| b.to_string())
        )
    }
}

impl Display for ConnectResponse {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ConnectResponse protocolVersion={} timeOut={} sessionId={} passwd=<{} bytes> readOnly={}",
            self.protocol_version,
            self.time_out,
            zxid(self.session_id.0),
            self.passwd.len(),
            self.read_only.map_or("absent".to_owned(), |b| b.to_string())
        )
    }
}

/// The bodies shared by a top-level request and a multi op.
impl Display for CreateRequest {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} data={} acl={} flags={}",
            self.path,
            Data(&self.data),
            Acls(&self.acl),
            self.flags
        )
    }
}

impl Display for CreateTtlRequest {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} data={} acl={} flags={} ttl={}",
            self.path,
            Data(&self.data),
            Acls(&self.acl),
            self.flags,
            self.ttl
        )
    }
}

impl Display for SetDataRequest {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} data={} version={}",
            self.path,
            Data(&self.data),
            self.version
        )
    }
}

impl Display for MultiOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let op = self.op_code();
        match self {
            MultiOp::Create(r) | MultiOp::Create2(r) | MultiOp::CreateContainer(r) => {
                write!(f, "{op} {r}")
            }
            MultiOp::CreateTtl(r) => write!(f, "{op} {r}"),
            MultiOp::Delete(r) => write!(f, "{op} {} version={}", r.path, r.version),
            MultiOp::SetData(r) => write!(f, "{op} {r}"),
            MultiOp::Check(r) => write!(f, "{op} {} version={}", r.path, r.version),
            MultiOp::GetChildren(r) => write!(f, "{op} {}", r.path),
            MultiOp::GetData(r) => write!(f, "{op} {}", r.path),
            MultiOp::NullPath(_) => write!(f, "{op} (null path)"),
        }
    }
}

fn write_ops(f: &mut Formatter<'_>, m: &MultiRequest) -> fmt::Result {
    f.write_str("[")?;
    for (i, op) in m.ops.iter().enumerate() {
        if i > 0 {
            f.write_str("; ")?;
        }
        write!(f, "{op}")?;
    }
    f.write_str("]")
}

impl Display for Request {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let op = self.op_code();
        match self {
            Request::Create(r) | Request::Create2(r) | Request::CreateContainer(r) => {
                write!(f, "{op} {r}")
            }
            Request::CreateTtl(r) => write!(f, "{op} {r}"),
            Request::Delete(r) => write!(f, "{op} {} version={}", r.path, r.version),
            Request::Exists(r) => write!(f, "{op} {} watch={}", r.path, r.watch),
            Request::GetData(r) => write!(f, "{op} {} watch={}", r.path, r.watch),
            Request::SetData(r) => write!(f, "{op} {r}"),
            Request::GetAcl(r) => write!(f, "{op} {}", r.path),
            Request::SetAcl(r) => {
                write!(
                    f,
                    "{op} {} acl={} version={}",
                    r.path,
                    Acls(&r.acl),
                    r.version
                )
            }
            Request::GetChildren(r) => write!(f, "{op} {} watch={}", r.path, r.watch),
            Request::GetChildren2(r) => write!(f, "{op} {} watch={}", r.path, r.watch),
            Request::Sync(r) => write!(f, "{op} {}", r.path.as_deref().unwrap_or("null")),
            Request::Check(r) => write!(f, "{op} {} version={}", r.path, r.version),
            Request::Multi(m) | Request::MultiRead(m) => {
                write!(f, "{op} ")?;
                write_ops(f, m)
            }
            Request::Reconfig(r) => write!(f, "{op} curConfigId={}", r.cur_config_id),
            Request::CreateSession { timeout_ms } => write!(f, "{op} timeout={timeout_ms}"),
            Request::DeleteContainer { path } => write!(f, "{op} {path:?}"),
            Request::CheckWatches(r) => write!(f, "{op} {} type={}", r.path, r.r#type.code()),
            Request::RemoveWatches(r) => write!(f, "{op} {} type={}", r.path, r.r#type.code()),
            Request::Auth(r) => match (&r.scheme, &r.auth) {
                (Some(scheme), Some(auth)) => {
                    write!(f, "{op} scheme={scheme} auth=<{} bytes>", auth.len())
                }
                (scheme, auth) => write!(f, "{op} scheme={scheme:?} auth={auth:?}"),
            },
            Request::SetWatches(r) => write!(
                f,
                "{op} relativeZxid={} data={} exist={} child={}",
                zxid(r.relative_zxid.0),
                List(&r.data_watches),
                List(&r.exist_watches),
                List(&r.child_watches)
            ),
            Request::SetWatches2(r) => write!(
                f,
                "{op} relativeZxid={} data={} exist={} child={} persistent={} recursive={}",
                zxid(r.relative_zxid.0),
                List(&r.data_watches),
                List(&r.exist_watches),
                List(&r.child_watches),
                List(&r.persistent_watches),
                List(&r.persistent_recursive_watches)
            ),
            Request::Sasl(r) => write!(f, "{op} token={}", token_size(&r.token)),
            Request::GetEphemerals(r) => write!(f, "{op} {}", r.prefix_path),
            Request::GetAllChildrenNumber(r) => write!(f, "{op} {}", r.path),
            Request::AddWatch(r) => write!(f, "{op} {} mode={}", r.path, r.mode.code()),
            Request::Ping | Request::WhoAmI | Request::CloseSession => write!(f, "{op}"),
        }
    }
}

impl Display for OpResult {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            OpResult::Create(r) => write!(f, "create path={}", r.path),
            OpResult::Create2(r) => {
                write!(f, "create2 path={} stat={}", r.path, StatLine(&r.stat))
            }
            OpResult::Delete => f.write_str("delete"),
            OpResult::SetData(r) => write!(f, "setData stat={}", StatLine(&r.stat)),
            OpResult::Check => f.write_str("check"),
            OpResult::GetChildren(r) => write!(f, "getChildren {}", List(&r.children)),
            OpResult::GetData(r) => write!(
                f,
                "getData data={} stat={}",
                Data(&r.data),
                StatLine(&r.stat)
            ),
            OpResult::Error(0) => f.write_str("error err=0"),
            OpResult::Error(code) => write!(f, "error {}", err(*code)),
        }
    }
}

fn write_results(f: &mut Formatter<'_>, m: &MultiResponse) -> fmt::Result {
    f.write_str("[")?;
    for (i, r) in m.results.iter().enumerate() {
        if i > 0 {
            f.write_str("; ")?;
        }
        write!(f, "{r}")?;
    }
    f.write_str("]")
}

impl Display for Response {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Response::Empty => Ok(()),
            Response::Create(r) => write!(f, "path={}", r.path),
            Response::Create2(r) => write!(f, "path={} stat={}", r.path, StatLine(&r.stat)),
            Response::Exists(r) => write!(f, "stat={}", StatLine(&r.stat)),
            Response::GetData(r) => write!(f, "data={} stat={}", Data(&r.data), StatLine(&r.stat)),
            Response::SetData(r) => write!(f, "stat={}", StatLine(&r.stat)),
            Response::GetAcl(r) => write!(f, "acl={} stat={}", Acls(&r.acl), StatLine(&r.stat)),
            Response::SetAcl(r) => write!(f, "stat={}", StatLine(&r.stat)),
            Response::GetChildren(r) => write!(f, "children={}", List(&r.children)),
            Response::GetChildren2(r) => {
                write!(
                    f,
                    "children={} stat={}",
                    List(&r.children),
                    StatLine(&r.stat)
                )
            }
            Response::Sync(r) => write!(f, "path={}", r.path.as_deref().unwrap_or("null")),
            Response::Multi(m) => write_results(f, m),
            Response::Sasl(r) => write!(f, "token={}", token_size(&r.token)),
            Response::GetEphemerals(r) => write!(f, "ephemerals={}", List(&r.ephemerals)),
            Response::GetAllChildrenNumber(r) => write!(f, "totalNumber={}", r.total_number),
            Response::AddWatch(r) => write!(f, "err={}", r.err),
            Response::WhoAmI(r) => {
                f.write_str("clientInfo=[")?;
                for (i, c) in r.client_info.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{}:{}", c.auth_scheme, c.user)?;
                }
                f.write_str("]")
            }
        }
    }
}

/// A SASL token's size, or `null`.
fn token_size(token: &Option<Vec<u8>>) -> String {
    match token {
        Some(bytes) => format!("<{} bytes>", bytes.len()),
        None => "null".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{encode_reply, encode_request, GetDataRequest, ReplyHeader, SyncResponse};
    use ch01_znode::Zxid;

    fn connected() -> FramePrinter {
        let mut p = FramePrinter::new();
        p.client_connected = true;
        p.server_connected = true;
        p
    }

    #[test]
    fn a_reply_is_read_with_the_opcode_of_its_request() {
        let mut p = connected();
        let get = Request::GetData(GetDataRequest {
            path: "/a".into(),
            watch: true,
        });
        let line = p.describe(Direction::ClientToServer, &encode_request(7, &get));
        assert_eq!(line, "xid=7 getData /a watch=true");
        let header = ReplyHeader {
            xid: 7,
            zxid: Zxid(0x1f),
            err: -101,
        };
        let reply = encode_reply(&header, None);
        let line = p.describe(Direction::ServerToClient, &reply);
        assert_eq!(line, "xid=7 zxid=0x1f err=-101(NoNode) getData");
    }

    #[test]
    fn a_reply_nobody_asked_for_is_described_not_fatal() {
        let mut p = connected();
        let header = ReplyHeader {
            xid: 3,
            zxid: Zxid(2),
            err: 0,
        };
        let body = Response::Sync(SyncResponse {
            path: Some("/".into()),
        });
        let line = p.describe(
            Direction::ServerToClient,
            &encode_reply(&header, Some(&body)),
        );
        assert_eq!(line, "xid=3 zxid=0x2 ok (no request with this xid)");
    }

    #[test]
    fn with_bytes_the_hex_follows_on_an_indented_line() {
        let mut p = connected();
        let line = p.line(
            Direction::ClientToServer,
            &[0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 11],
            true,
        );
        assert_eq!(line, "xid=-2 ping\n    ff ff ff fe 00 00 00 0b");
    }

    #[test]
    fn garbage_is_described_as_bad() {
        let mut p = connected();
        let line = p.describe(Direction::ClientToServer, &[0, 0]);
        assert!(line.starts_with("bad request: request header: "), "{line}");
    }
}
