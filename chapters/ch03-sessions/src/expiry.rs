//! A session that expires, played on the pure pipeline with a virtual clock.
//!
//! The idea to take away: **nobody tells the server a client died; the server concludes it
//! from silence, one tick at a time.** A worker registers an ephemeral node, a monitor watches
//! it, the worker pings once and then goes silent (`kill -9`: no closeSession, no more pings).
//! Each word from the worker moves its lease to the bucket of `now + timeout`, rounded up to
//! the next tick; at every tick the server empties the bucket that is due. When the worker's
//! bucket comes, the server writes the same `closeSession` txn a goodbye would have written:
//! the ephemeral node goes, the monitor's watches fire, the worker's connection is closed.
//!
//! Because [`StandalonePipeline`] reads no clock, this run needs no sockets and no waiting:
//! the script below feeds it frames and ticks at chosen virtual times, so the trace (and the
//! diagram drawn from it) is the same on every machine. `cargo run -p ch03-sessions -- --trace
//! --scenario expiry` prints it; `--svg FILE` draws it.

use std::collections::BTreeMap;
use std::fmt::{self, Write};
use std::net::IpAddr;

use ch01_znode::{SessionId, Zxid};
use ch02_watches::diagram::{escape, svg_open};
use serde::Serialize;

use crate::jute::{Record, Writer};
use crate::pipeline::standalone::StandalonePipeline;
use crate::pipeline::{ConnId, Input, Limits, Output, ServerMessage};
use crate::proto::{
    self, ConnectRequest, Direction, FramePrinter, GetChildrenRequest, GetDataRequest, Request,
};
use crate::session::STANDALONE_SID;
use crate::trace::create;

/// The course's tick: every session deadline is a multiple of it.
pub const TICK_MS: u32 = 2000;

/// One line of the expiry trace, at a virtual time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A frame on the wire, decoded (`label` is its short name on the diagram).
    Frame {
        at: u64,
        from: String,
        to: String,
        text: String,
        #[serde(skip)]
        label: String,
    },
    /// The server applied a txn.
    Applied { at: u64, zxid: String, txn: String },
    /// A client's word moved its lease to a new bucket.
    Lease {
        at: u64,
        who: String,
        bucket_ms: u64,
    },
    /// The session tracker's tick: the bucket due now, and who was in it.
    Tick { at: u64, due: Vec<String> },
    /// A client stopped talking without a goodbye.
    Silent { at: u64, who: String },
    /// The server closed a client's connection.
    Closed { at: u64, who: String },
}

impl Event {
    /// The virtual time of the event, ms.
    pub fn at(&self) -> u64 {
        match self {
            Event::Frame { at, .. }
            | Event::Applied { at, .. }
            | Event::Lease { at, .. }
            | Event::Tick { at, .. }
            | Event::Silent { at, .. }
            | Event::Closed { at, .. } => *at,
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>6}ms  ", self.at())?;
        match self {
            Event::Frame { from, to, text, .. } => write!(f, "{from:>7} → {to:<7} {text}"),
            Event::Applied { zxid, txn, .. } => write!(f, "{:>7} ⇨ {zxid} {txn}", "keeper"),
            Event::Lease { who, bucket_ms, .. } => {
                write!(f, "{:>7} ⇨ {who}'s lease: bucket {bucket_ms}ms", "keeper")
            }
            Event::Tick { due, .. } if due.is_empty() => {
                write!(f, "{:>7} ⏲ tick: bucket {}ms is empty", "keeper", self.at())
            }
            Event::Tick { due, .. } => {
                let due = due.join(", ");
                write!(
                    f,
                    "{:>7} ⏲ tick: bucket {}ms is due: {due} expires",
                    "keeper",
                    self.at()
                )
            }
            Event::Silent { who, .. } => {
                write!(
                    f,
                    "{who:>7} ✗ goes silent (kill -9: no closeSession, no more pings)"
                )
            }
            Event::Closed { who, .. } => write!(f, "{:>7} ✗ closes {who}'s connection", "keeper"),
        }
    }
}

/// One client of the script: its connection, its session and its frame printer.
struct Actor {
    name: &'static str,
    conn: ConnId,
    session: Option<SessionId>,
    printer: FramePrinter,
    next_xid: i32,
}

/// The run: the pipeline, the clock, the clients and what happened.
struct Run {
    server: StandalonePipeline,
    now_ms: u64,
    actors: Vec<Actor>,
    events: Vec<Event>,
    /// Each session's bucket as last reported, to say when it moves.
    buckets: BTreeMap<SessionId, u64>,
}

impl Run {
    fn actor(&mut self, name: &str) -> &mut Actor {
        self.actors
            .iter_mut()
            .find(|a| a.name == name)
            .expect("the script names its own actors")
    }

    /// Moves the clock to `at_ms`, ticking at every tick on the way, as the tracker would.
    fn advance(&mut self, at_ms: u64) {
        loop {
            let tick = self.server.pipeline().next_tick_ms();
            if tick > at_ms {
                break;
            }
            self.now_ms = tick;
            let before: Vec<(SessionId, &'static str)> = self
                .actors
                .iter()
                .filter_map(|a| a.session.map(|s| (s, a.name)))
                .collect();
            let out = self.server.step(tick, Input::Tick);
            let due: Vec<String> = before
                .iter()
                .filter(|(s, _)| self.server.pipeline().sessions().get(*s).is_none())
                .map(|(_, name)| name.to_string())
                .collect();
            for actor in self
                .actors
                .iter_mut()
                .filter(|a| due.iter().any(|d| d == a.name))
            {
                actor.session = None;
            }
            self.events.push(Event::Tick { at: tick, due });
            self.outputs(out);
        }
        self.now_ms = at_ms;
    }

    /// A client's frame at `at_ms`: a handshake or a request.
    fn send(&mut self, at_ms: u64, name: &'static str, frame: Frame) {
        self.advance(at_ms);
        let now = self.now_ms;
        let actor = self.actor(name);
        let conn = actor.conn;
        let (payload, input, label) = match frame {
            Frame::Connect { timeout_ms } => {
                let request = ConnectRequest {
                    protocol_version: 0,
                    last_zxid_seen: Zxid(0),
                    time_out: timeout_ms,
                    session_id: SessionId(0),
                    passwd: vec![0; 16],
                    read_only: Some(false),
                };
                let mut w = Writer::new();
                request.encode(&mut w);
                let addr = IpAddr::from([127, 0, 0, 1]);
                let label = format!("connect timeOut={timeout_ms}");
                (
                    w.into_bytes(),
                    Input::Connect {
                        conn,
                        addr,
                        request,
                    },
                    label,
                )
            }
            Frame::Request(request, label) => {
                let xid = if request == Request::Ping {
                    -2
                } else {
                    actor.next_xid
                };
                if xid > 0 {
                    actor.next_xid += 1;
                }
                let payload = proto::encode_request(xid, &request);
                (
                    payload,
                    Input::Request { conn, xid, request },
                    label.to_string(),
                )
            }
        };
        let text = actor.printer.describe(Direction::ClientToServer, &payload);
        self.events.push(Event::Frame {
            at: now,
            from: name.into(),
            to: "keeper".into(),
            text,
            label,
        });
        let out = self.server.step(now, input);
        self.outputs(out);
        self.report_leases();
    }

    /// What the pipeline did, as trace lines, in its order.
    fn outputs(&mut self, out: Vec<Output>) {
        let now = self.now_ms;
        for o in out {
            match o {
                Output::Applied(txn) => self.events.push(Event::Applied {
                    at: now,
                    zxid: txn.zxid.to_string(),
                    txn: txn.op.to_string(),
                }),
                Output::Send { conn, message } => {
                    let payload = message.encode();
                    let label = short_label(&message);
                    let actor = self
                        .actors
                        .iter_mut()
                        .find(|a| a.conn == conn)
                        .expect("the server only answers our connections");
                    if let ServerMessage::Connected(c) = &message {
                        actor.session = Some(c.session_id);
                    }
                    let text = actor.printer.describe(Direction::ServerToClient, &payload);
                    let to = actor.name.to_string();
                    self.events.push(Event::Frame {
                        at: now,
                        from: "keeper".into(),
                        to,
                        text,
                        label,
                    });
                }
                Output::Close { conn } => {
                    let who = self.actors.iter().find(|a| a.conn == conn).map(|a| a.name);
                    let who = who.expect("the server only closes our connections").into();
                    self.events.push(Event::Closed { at: now, who });
                }
                Output::Propose(_) | Output::Forward(_) | Output::Revalidate { .. } => {
                    unreachable!(
                        "a standalone pipeline commits its own proposals and forwards nothing"
                    )
                }
            }
        }
    }

    /// Says which sessions' buckets moved.
    fn report_leases(&mut self) {
        for actor in &self.actors {
            let Some(session) = actor.session else {
                continue;
            };
            let Some(bucket) = self.server.pipeline().sessions().expiry_of(session) else {
                continue;
            };
            if self.buckets.insert(session, bucket) != Some(bucket) {
                self.events.push(Event::Lease {
                    at: self.now_ms,
                    who: actor.name.into(),
                    bucket_ms: bucket,
                });
            }
        }
    }
}

/// What a client sends.
enum Frame {
    Connect { timeout_ms: i32 },
    Request(Request, &'static str),
}

/// A server frame's name on the diagram.
fn short_label(message: &ServerMessage) -> String {
    match message {
        ServerMessage::Connected(c) => format!("connected timeOut={}", c.time_out),
        ServerMessage::Reply(h, _) if h.err == 0 => format!("reply xid={}", h.xid),
        ServerMessage::Reply(h, _) => format!("reply xid={} err={}", h.xid, h.err),
        ServerMessage::Event(e) => {
            format!("{} {}", e.event_type, e.path.as_deref().unwrap_or_default())
        }
    }
}

// ANCHOR: script
/// The expiry story: the worker's last word is a ping at 2500 ms, which moves its 4000 ms lease
/// to the bucket of 2500 + 4000 rounded up to the next tick, 8000 ms. It expires there, 5.5 s
/// after its last word: at least the timeout, at most one tick more.
pub fn run() -> Vec<Event> {
    let mut run = Run {
        server: StandalonePipeline::new(TICK_MS, Limits::for_tick(TICK_MS), STANDALONE_SID, 0),
        now_ms: 0,
        actors: ["worker", "monitor"]
            .into_iter()
            .zip(1..)
            .map(|(name, conn)| Actor {
                name,
                conn: ConnId(conn),
                session: None,
                printer: FramePrinter::new(),
                next_xid: 1,
            })
            .collect(),
        events: Vec::new(),
        buckets: BTreeMap::new(),
    };
    // The worker asks for the shortest lease the server grants: 2 ticks, 4 s.
    run.send(0, "worker", Frame::Connect { timeout_ms: 4000 });
    run.send(
        100,
        "worker",
        Frame::Request(create("/workers", b"", 0), "create /workers"),
    );
    let w1 = create("/workers/w1", b"127.0.0.1:8080", 1);
    run.send(100, "worker", Frame::Request(w1, "create -e /workers/w1"));
    // The monitor (zkCli's 30 s) watches the worker's node and the group.
    run.send(200, "monitor", Frame::Connect { timeout_ms: 30_000 });
    let get = Request::GetData(GetDataRequest {
        path: "/workers/w1".into(),
        watch: true,
    });
    run.send(300, "monitor", Frame::Request(get, "get -w /workers/w1"));
    let ls = Request::GetChildren(GetChildrenRequest {
        path: "/workers".into(),
        watch: true,
    });
    run.send(300, "monitor", Frame::Request(ls, "ls -w /workers"));
    // The worker pings once (an idle client pings every third of its timeout)...
    run.send(2500, "worker", Frame::Request(Request::Ping, "ping"));
    // ...and is killed. From here on only the clock moves.
    run.events.push(Event::Silent {
        at: 2600,
        who: "worker".into(),
    });
    run.advance(9000);
    run.events
}
// ANCHOR_END: script

/// The trace as text, one event per line.
pub fn plain(events: &[Event]) -> String {
    let mut out = String::new();
    for e in events {
        let _ = writeln!(out, "{e}");
    }
    out
}

const ROW: i64 = 24;
const TOP: i64 = 64;
const LEFT: i64 = 150;
const COLUMN: i64 = 300;

/// The run as a sequence diagram: worker, monitor and keeper left to right (the keeper's
/// notes run off to the right, where no lifeline crosses them), time flowing down, one row per
/// event; the worker's lifeline turns red and dashed where it is silent.
pub fn svg(title: &str, events: &[Event]) -> String {
    let names = ["worker", "monitor", "keeper"];
    let x = |name: &str| LEFT + COLUMN * names.iter().position(|n| *n == name).unwrap_or(2) as i64;
    let keeper = x("keeper");
    let mut rows = String::new();
    let mut silent_from = None;
    let mut last_time = None;
    let mut widest = 0;
    let mut y = TOP + 20;
    for e in events {
        if last_time != Some(e.at()) {
            last_time = Some(e.at());
            let _ = writeln!(
                rows,
                r#"<text x="{}" y="{}" class="time">{}ms</text>"#,
                LEFT - 60,
                y + 4,
                e.at()
            );
        }
        let mut note = |class: &str, text: String| {
            widest = widest.max(text.chars().count() as i64);
            let _ = writeln!(
                rows,
                r#"<circle cx="{keeper}" cy="{y}" r="3.5" class="{class}"/><text x="{}" y="{}" class="{class}">{}</text>"#,
                keeper + 9,
                y + 4,
                escape(&text)
            );
        };
        match e {
            Event::Frame {
                from, to, label, ..
            } => {
                let (x1, x2) = (x(from), x(to));
                let class = if label.starts_with("Node") {
                    "event"
                } else {
                    "msg"
                };
                let _ = writeln!(
                    rows,
                    r#"<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" class="{class}" marker-end="url(#head)"/><text x="{}" y="{}" class="label">{}</text>"#,
                    x1 + (x2 - x1) / 2
                        + if x1.abs_diff(x2) > COLUMN as u64 {
                            (x2 - x1).signum() * COLUMN / 2
                        } else {
                            0
                        },
                    y - 5,
                    escape(label)
                );
            }
            Event::Applied { zxid, txn, .. } => note("txn", format!("{zxid} {txn}")),
            Event::Lease { who, bucket_ms, .. } => {
                note("lease", format!("{who}: lease in bucket {bucket_ms}ms"))
            }
            Event::Tick { at, due } if due.is_empty() => {
                note("tick", format!("tick {at}ms: nothing due"))
            }
            Event::Tick { at, due } => note(
                "expired",
                format!("tick {at}ms: {} expires", due.join(", ")),
            ),
            Event::Silent { who, .. } => {
                let cx = x(who);
                silent_from = Some((cx, y));
                let _ = writeln!(
                    rows,
                    r#"<path d="M{},{} L{},{} M{},{} L{},{}" class="cross"/><text x="{}" y="{}" class="expired">silent (kill -9)</text>"#,
                    cx - 5,
                    y - 5,
                    cx + 5,
                    y + 5,
                    cx - 5,
                    y + 5,
                    cx + 5,
                    y - 5,
                    cx + 9,
                    y + 4
                );
            }
            Event::Closed { who, .. } => {
                let x2 = x(who);
                let _ = writeln!(
                    rows,
                    r#"<line x1="{keeper}" y1="{y}" x2="{x2}" y2="{y}" class="closed" marker-end="url(#head)"/><text x="{}" y="{}" class="label">close connection</text>"#,
                    x2 + (keeper - x2) / 4,
                    y - 5
                );
            }
        }
        y += ROW;
    }
    // About 6.6 px per character of the 11 px monospace font, plus a margin.
    let width = keeper + 20 + widest * 7;
    let height = y + 10;
    let mut svg = svg_open(
        width,
        height,
        title,
        ".dead { stroke: #c0392b; stroke-width: 2; stroke-dasharray: 2 5; }
.time { fill: #888; font-size: 10px; }
.closed { stroke: #c0392b; stroke-width: 1.4; stroke-dasharray: 5 3; }
.txn { fill: #2c5aa0; }
.lease { fill: #0e7c86; }
.tick { fill: #777; }
.expired { fill: #c0392b; font-weight: bold; }
.cross { stroke: #c0392b; stroke-width: 2.5; }",
    );
    for name in names {
        let cx = x(name);
        let end = match silent_from {
            Some((sx, sy)) if sx == cx => {
                let _ = writeln!(
                    svg,
                    r#"<line x1="{cx}" y1="{sy}" x2="{cx}" y2="{}" class="dead"/>"#,
                    height - 10
                );
                sy
            }
            _ => height - 10,
        };
        let _ = writeln!(
            svg,
            r#"<line x1="{cx}" y1="{TOP}" x2="{cx}" y2="{end}" class="life"/><text x="{cx}" y="{}" class="head">{name}</text>"#,
            TOP - 8
        );
    }
    svg.push_str(&rows);
    svg.push_str("</svg>\n");
    svg
}
