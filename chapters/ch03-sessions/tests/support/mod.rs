//! What the pipeline tests share: a way to step either wiring, and readers for its outputs.

#![allow(dead_code)]

use std::net::IpAddr;

use ch01_znode::{SessionId, ZkError, Zxid};
use ch03_sessions::pipeline::standalone::StandalonePipeline;
use ch03_sessions::pipeline::{ConnId, Input, Output, Pipeline, ServerMessage};
use ch03_sessions::proto::{self, ConnectRequest, ReplyHeader, Request, Response};

pub const TICK: u32 = 2000;
pub const T0: u64 = 1_700_000_000_000;

/// A pipeline, bare (a quorum member's) or wired to commit at once (a standalone server's).
pub trait Step {
    fn step(&mut self, now_ms: u64, input: Input) -> Vec<Output>;
}

impl Step for Pipeline {
    fn step(&mut self, now_ms: u64, input: Input) -> Vec<Output> {
        Pipeline::step(self, now_ms, input)
    }
}

impl Step for StandalonePipeline {
    fn step(&mut self, now_ms: u64, input: Input) -> Vec<Output> {
        StandalonePipeline::step(self, now_ms, input)
    }
}

pub fn local() -> IpAddr {
    IpAddr::from([127, 0, 0, 1])
}

pub fn connect_request(session_id: SessionId, passwd: Vec<u8>, timeout: i32) -> ConnectRequest {
    ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: Zxid(0),
        time_out: timeout,
        session_id,
        passwd,
        read_only: Some(false),
    }
}

/// A new session's handshake on `conn`.
pub fn connect(server: &mut impl Step, conn: u64, now: u64) -> Vec<Output> {
    server.step(
        now,
        Input::Connect {
            conn: ConnId(conn),
            addr: local(),
            request: connect_request(SessionId(0), vec![0; 16], 30_000),
        },
    )
}

/// The session a ConnectResponse in `out` names.
pub fn connected(out: &[Output]) -> Option<SessionId> {
    out.iter().find_map(|o| match o {
        Output::Send {
            message: ServerMessage::Connected(c),
            ..
        } => Some(c.session_id),
        _ => None,
    })
}

/// Connects `conn` as a new session and returns its id.
pub fn open(server: &mut impl Step, conn: u64, now: u64) -> SessionId {
    connected(&connect(server, conn, now)).expect("a ConnectResponse")
}

pub fn send(
    server: &mut impl Step,
    conn: u64,
    xid: i32,
    request: Request,
    now: u64,
) -> Vec<Output> {
    server.step(
        now,
        Input::Request {
            conn: ConnId(conn),
            xid,
            request,
        },
    )
}

/// A request on `conn` whose header (`xid`) was readable but whose body was
/// not: the connection layer hands it on with the error to answer, `err`.
pub fn undecodable(
    server: &mut impl Step,
    conn: u64,
    xid: i32,
    err: ZkError,
    now: u64,
) -> Vec<Output> {
    server.step(
        now,
        Input::Undecodable {
            conn: ConnId(conn),
            xid,
            err,
            partial: None,
        },
    )
}

/// The replies and events sent to `conn`, in order.
pub fn frames_to(out: &[Output], conn: u64) -> Vec<ServerMessage> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send { conn: c, message } if *c == ConnId(conn) => Some(message.clone()),
            _ => None,
        })
        .collect()
}

pub fn reply(out: &[Output], conn: u64) -> (ReplyHeader, Option<Response>) {
    try_reply(out, conn).expect("a reply")
}

pub fn try_reply(out: &[Output], conn: u64) -> Option<(ReplyHeader, Option<Response>)> {
    frames_to(out, conn).into_iter().find_map(|m| match m {
        ServerMessage::Reply(h, body) => Some((h, body)),
        _ => None,
    })
}

pub fn create(path: &str, flags: i32) -> Request {
    Request::Create(proto::CreateRequest {
        path: path.into(),
        data: Some(b"x".to_vec()),
        acl: proto::Acl::open_unsafe(),
        flags,
    })
}

pub fn exists(path: &str, watch: bool) -> Request {
    Request::Exists(proto::ExistsRequest {
        path: path.into(),
        watch,
    })
}
