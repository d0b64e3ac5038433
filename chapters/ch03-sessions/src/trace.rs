//! The chapter's trace: a scripted session against a real server, frame by frame.
//!
//! `cargo run -p ch03-sessions -- --trace` starts the tokio [`Server`] on a loopback port and
//! plays a short story with two clients over real TCP, the story every ZooKeeper recipe is
//! built on:
//!
//! 1. a **worker** opens a session and registers itself as an ephemeral znode;
//! 2. a **monitor** opens its own session and watches the worker's node and the group;
//! 3. the worker pings (an idle client's "I am alive");
//! 4. the worker closes its session: the server deletes its ephemeral node in the same txn,
//!    and the monitor's watches fire.
//!
//! Every frame either way is decoded with the codec's [`FramePrinter`] (`--bytes` adds the
//! raw hex), and every txn the server applies is shown as it commits. With `--seed` the
//! session ids are fixed, so the whole trace is the same on every run (the snapshot test and
//! the book rely on that).

use std::fmt;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use ch01_znode::Txn;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::jute::{Record, Writer};
use crate::proto::{self, encode_frame, hex, ConnectRequest, Direction, FramePrinter, Request};
use crate::server::{Server, ServerOptions};

/// One line of the trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A frame on the wire, decoded.
    Frame {
        /// Who sent it (`worker`, `monitor`, `keeper`).
        from: String,
        /// Who received it.
        to: String,
        /// The decoded record.
        text: String,
        /// The frame's bytes in hex (with `--bytes`).
        #[serde(skip_serializing_if = "Option::is_none")]
        hex: Option<String>,
    },
    /// A txn the server applied: a state change.
    Applied {
        /// Its zxid.
        zxid: String,
        /// What it did.
        txn: String,
    },
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Frame {
                from,
                to,
                text,
                hex,
            } => {
                write!(f, "{from:>7} → {to:<7} {text}")?;
                if let Some(hex) = hex {
                    write!(f, "\n{:17}{hex}", "")?;
                }
                Ok(())
            }
            Event::Applied { zxid, txn } => write!(f, "{:>7} ⇨ {zxid} {txn}", "keeper"),
        }
    }
}

/// How to run the script.
#[derive(Clone, Copy, Debug)]
pub struct TraceOptions {
    /// Fixes the clock bits of the session ids.
    pub seed: u64,
    /// Show each frame's bytes.
    pub bytes: bool,
}

/// One scripted client: a socket and the printer that decodes its frames.
struct Actor {
    name: &'static str,
    stream: TcpStream,
    printer: FramePrinter,
}

/// The script's state: the actors, the server's txn feed, the events so far.
struct Script {
    applied: mpsc::UnboundedReceiver<Txn>,
    events: Vec<Event>,
    bytes: bool,
}

impl Script {
    fn frame(&mut self, actor: &mut Actor, dir: Direction, payload: &[u8]) {
        let text = actor.printer.describe(dir, payload);
        let (from, to) = match dir {
            Direction::ClientToServer => (actor.name, "keeper"),
            Direction::ServerToClient => ("keeper", actor.name),
        };
        self.events.push(Event::Frame {
            from: from.into(),
            to: to.into(),
            text,
            hex: self.bytes.then(|| hex(&encode_frame(payload))),
        });
    }

    fn send(&mut self, actor: &mut Actor, payload: &[u8]) -> std::io::Result<()> {
        self.frame(actor, Direction::ClientToServer, payload);
        actor.stream.write_all(&encode_frame(payload))
    }

    /// Reads one frame from the server; the txns it applied before sending it come first.
    fn receive(&mut self, actor: &mut Actor) -> std::io::Result<()> {
        let mut len = [0u8; 4];
        actor.stream.read_exact(&mut len)?;
        let mut payload = vec![0u8; i32::from_be_bytes(len).max(0) as usize];
        actor.stream.read_exact(&mut payload)?;
        while let Ok(txn) = self.applied.try_recv() {
            self.events.push(Event::Applied {
                zxid: txn.zxid.to_string(),
                txn: txn.op.to_string(),
            });
        }
        self.frame(actor, Direction::ServerToClient, &payload);
        Ok(())
    }

    fn request(&mut self, actor: &mut Actor, xid: i32, request: &Request) -> std::io::Result<()> {
        self.send(actor, &proto::encode_request(xid, request))?;
        self.receive(actor)
    }

    fn connect(&mut self, name: &'static str, addr: SocketAddr) -> std::io::Result<Actor> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut actor = Actor {
            name,
            stream,
            printer: FramePrinter::new(),
        };
        let request = ConnectRequest::new_session(30_000);
        let mut w = Writer::new();
        request.encode(&mut w);
        self.send(&mut actor, &w.into_bytes())?;
        self.receive(&mut actor)?;
        Ok(actor)
    }
}

// ANCHOR: script
/// Plays the chapter's story against a fresh server and returns what happened.
pub fn run(options: TraceOptions) -> std::io::Result<Vec<Event>> {
    let runtime = tokio::runtime::Runtime::new()?;
    let (applied_tx, applied) = mpsc::unbounded_channel();
    let server = runtime.block_on(Server::start(ServerOptions {
        session_id_seed: Some(options.seed),
        applied: Some(applied_tx),
        ..ServerOptions::local(2000)
    }))?;
    let mut script = Script {
        applied,
        events: Vec::new(),
        bytes: options.bytes,
    };
    let s = &mut script;
    let addr = server.local_addr();

    // A worker opens a session and registers itself under /workers as an ephemeral node.
    let mut worker = s.connect("worker", addr)?;
    s.request(&mut worker, 1, &create("/workers", b"", 0))?;
    s.request(&mut worker, 2, &create("/workers/w1", b"127.0.0.1:8080", 1))?;
    // A monitor opens its own session and watches the node and the group.
    let mut monitor = s.connect("monitor", addr)?;
    s.request(&mut monitor, 1, &get_data("/workers/w1", true))?;
    s.request(&mut monitor, 2, &get_children("/workers", true))?;
    // The worker is idle: it pings so the server keeps its lease.
    s.request(&mut worker, -2, &Request::Ping)?;
    // The worker leaves: closing the session deletes its ephemeral, and the watches fire.
    s.request(&mut worker, 3, &Request::CloseSession)?;
    s.receive(&mut monitor)?;
    s.receive(&mut monitor)?;
    s.request(&mut monitor, 3, &get_children("/workers", false))?;
    s.request(&mut monitor, 4, &Request::CloseSession)?;
    server.stop();
    Ok(script.events)
}
// ANCHOR_END: script

/// A create with the open ACL (also the expiry scenario's).
pub(crate) fn create(path: &str, data: &[u8], flags: i32) -> Request {
    Request::Create(proto::CreateRequest {
        path: path.into(),
        data: Some(data.to_vec()),
        acl: proto::Acl::open_unsafe(),
        flags,
    })
}

fn get_data(path: &str, watch: bool) -> Request {
    Request::GetData(proto::GetDataRequest {
        path: path.into(),
        watch,
    })
}

fn get_children(path: &str, watch: bool) -> Request {
    Request::GetChildren(proto::GetChildrenRequest {
        path: path.into(),
        watch,
    })
}
