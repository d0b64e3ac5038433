//! How a run is told: a header saying what to watch for, the story one event per line, and
//! how it ended — each server's state and data, and what each client was told.
//!
//! The idea to take away: a Zab run is mostly heartbeats and votes, and the story is in the
//! rest. So the [`Story`] keeps the reader's eye on Zab: the election is shown by its
//! decisions only (who started with what, whom each voted for first, who won), pings and
//! timers are hidden, and every Zab packet, disk flush, apply and client frame is shown.
//! `--all` shows every event the simulator traced.
//!
//! The same story feeds four renderings, as in chapters 4 and 5: plain text (snapshots, pipes,
//! the book), coloured text with the same characters (a terminal), JSON lines (tools), and an
//! SVG sequence diagram (chapter 4's [`svg`] module) with short labels.

use std::collections::BTreeMap;
use std::fmt;

use ch03_sessions::pipeline::ServerMessage;
use ch03_sessions::proto::{Request, Response};
use ch04_paxos::sim::render::{colored_line, node_color, Filter};
use ch04_paxos::sim::stepper::Lesson;
use ch04_paxos::sim::{node_name, svg, Entry, Event, NodeId, Sim};
use ch05_election::peer::Note as ElectionNote;
use ch05_election::vote::ServerState;
use colored::Colorize;

use crate::message::Message;
use crate::scenarios::{Run, Setup};
use crate::sim::client::error_name;
use crate::sim::{ClientFrame, HistoryEvent, Node, Outcome, ServerFrame, SimNote, SimTimer, Wire};
use crate::trace::{Note, ZabNote};

/// One entry of a chapter 6 trace.
pub type ZabEntry = Entry<Wire, SimTimer, SimNote>;

// ANCHOR: story
/// Turns the simulator's trace into the story a reader follows.
#[derive(Clone, Copy, Debug, Default)]
pub struct Story {
    /// Show every event (`--all`).
    all: bool,
}

impl Story {
    /// The story: Zab in full, the election by its decisions, no pings or timers.
    pub fn new() -> Story {
        Story::default()
    }

    /// Every event of the trace (`--all`).
    pub fn everything() -> Story {
        Story { all: true }
    }

    /// The entry as the reader should see it, or `None` to leave it out.
    pub fn show(&self, e: &ZabEntry) -> Option<ZabEntry> {
        (self.all || shown(&e.event)).then(|| e.clone())
    }

    /// A whole trace, told as a story.
    pub fn tell(&self, trace: &[ZabEntry]) -> Vec<ZabEntry> {
        trace.iter().filter_map(|e| self.show(e)).collect()
    }
}

/// Whether the story shows this event.
fn shown(event: &Event<Wire, SimTimer, SimNote>) -> bool {
    match event {
        Event::TimerSet { .. } | Event::TimerCancelled { .. } | Event::TimerFired { .. } => false,
        Event::Send { msg, .. }
        | Event::Deliver { msg, .. }
        | Event::Drop { msg, .. }
        | Event::Duplicate { msg, .. } => !is_chatter(msg),
        // The election by its decisions: who started with what, whom each voted for first,
        // who won.
        Event::Note {
            note: SimNote::Peer {
                note: Note::Election(n),
            },
            ..
        } => matches!(
            n,
            ElectionNote::Started { .. }
                | ElectionNote::Looking { .. }
                | ElectionNote::Decided { .. }
        ),
        _ => true,
    }
}

/// Votes and heartbeats: the election's notifications, Zab's pings, the clients' pings.
fn is_chatter(msg: &Wire) -> bool {
    match msg {
        Wire::Election(_) => true,
        Wire::Zab { msg, .. } => matches!(msg, Message::Ping(_) | Message::PingReply(_)),
        Wire::ToServer {
            frame: ClientFrame::Request { request, .. },
            ..
        } => *request == Request::Ping,
        Wire::ToClient {
            frame: ServerFrame::Message(ServerMessage::Reply(h, _)),
            ..
        } => h.xid == -2,
        _ => false,
    }
}
// ANCHOR_END: story

/// What the text shows of the story: every event but the sends (each delivery names its
/// sender); `--all` shows those and the timers being set too.
pub fn filter(all: bool) -> Filter {
    Filter {
        sends: all,
        timer_sets: all,
    }
}

/// The first line: which scenario, which seed, what to watch for.
pub fn header(setup: &Setup, seed: u64) -> String {
    format!(
        "scenario {} (seed {seed}): {}",
        setup.name.as_str(),
        setup.about
    )
}

/// One story line, plain or coloured (the same characters either way).
pub fn line(e: &ZabEntry, color: bool) -> String {
    match &e.event {
        _ if !color => e.to_string(),
        Event::Note { node, note } => {
            let plain = note.to_string();
            let text = match note {
                SimNote::Peer { note: Note::Zab(z) } => match z {
                    ZabNote::Committed { .. } => plain.green().bold(),
                    ZabNote::Established { .. } | ZabNote::UpToDate { .. } => plain.green(),
                    ZabNote::EpochProposed { .. } | ZabNote::EpochAcked { .. } => plain.yellow(),
                    ZabNote::SyncLearner { .. } | ZabNote::SyncBy { .. } => plain.cyan().bold(),
                    ZabNote::Revalidated { .. } => plain.cyan(),
                    ZabNote::Quit { .. } => plain.red().bold(),
                    ZabNote::DropsUnsaved { .. }
                    | ZabNote::SyncsTail { .. }
                    | ZabNote::CannotTruncate { .. }
                    | ZabNote::AsksForSnap => plain.yellow(),
                    ZabNote::LearnerAhead { .. } | ZabNote::Unexpected(_) => plain.red(),
                },
                SimNote::Peer {
                    note: Note::Election(ElectionNote::Decided { .. }),
                } => plain.bold(),
                SimNote::Peer { .. } => plain.normal(),
                SimNote::Logged { .. } | SimNote::SnapshotWritten { .. } => plain.blue(),
                SimNote::Applied { .. } => plain.normal(),
                SimNote::ReadLate { .. } => plain.magenta(),
                SimNote::Unread { .. } => plain.dimmed(),
                SimNote::Disk { .. } => plain.red().bold(),
                SimNote::Client { .. } => plain.bright_cyan(),
            };
            let name = node_name(*node).color(node_color(*node)).bold();
            format!("{}  {name} • {text}", format!("{:>6}ms", e.at).dimmed())
        }
        _ => colored_line(e),
    }
}

/// The story's lines, plain or coloured, `--all` or not.
pub fn story_text(story: &[ZabEntry], all: bool, color: bool) -> String {
    let filter = filter(all);
    let mut out = String::new();
    for e in story.iter().filter(|e| filter.shows(&e.event)) {
        out.push_str(&line(e, color));
        out.push('\n');
    }
    out
}

// ANCHOR: ending
/// The closing block: each server's state, last zxid and data; each client's requests and
/// what it was told.
pub fn ending(run: &Run, color: bool) -> String {
    let bold = |s: &str| match color {
        true => s.bold().to_string(),
        false => s.to_string(),
    };
    let mut out = bold("at the end, on each server:");
    out.push('\n');
    for s in run.servers() {
        let id = s.id();
        let state = match (run.sim.is_up(id), s.is_running()) {
            (false, _) => "crashed".to_string(),
            (true, false) => "not started".to_string(),
            (true, true) => s.peer().state().to_string(),
        };
        let db = s.peer().database();
        let data: Vec<String> = db
            .tree
            .paths()
            .into_iter()
            .filter(|p| p != "/" && p != "/zookeeper" && !p.starts_with("/zookeeper/"))
            .map(|p| {
                let bytes = db.tree.node(&p).and_then(|n| n.data);
                let text = String::from_utf8_lossy(bytes.unwrap_or_default());
                format!("{p}={text:?}")
            })
            .collect();
        let state = match (color, s.peer().state()) {
            (false, _) => format!("{state:<9}"),
            (true, ServerState::Leading) => format!("{state:<9}").green().bold().to_string(),
            (true, ServerState::Looking) => format!("{state:<9}").red().to_string(),
            (true, _) => format!("{state:<9}").cyan().to_string(),
        };
        out.push_str(&format!(
            "  n{id}  {state}  last zxid {}  {}\n",
            db.last_processed_zxid(),
            if data.is_empty() {
                "(no znodes)".to_string()
            } else {
                data.join(" ")
            }
        ));
    }
    // A run stopped early (`q` at `--step`) may end before a client asked anything.
    let clients: Vec<_> = run
        .clients()
        .filter(|c| {
            c.history()
                .iter()
                .any(|e| matches!(e, HistoryEvent::Invoke { .. }))
        })
        .collect();
    if !clients.is_empty() {
        out.push_str(&bold("what each client was told:"));
        out.push('\n');
    }
    for c in clients {
        let mut outcomes: BTreeMap<u64, &Outcome> = BTreeMap::new();
        for e in c.history() {
            if let HistoryEvent::Complete { id, outcome, .. } = e {
                outcomes.insert(*id, outcome);
            }
        }
        for e in c.history() {
            let HistoryEvent::Invoke { id, op, server, .. } = e else {
                continue;
            };
            let told = match outcomes.get(id) {
                Some(Outcome::Ok { zxid, response }) => match response {
                    Some(Response::GetData(r)) => {
                        let data = r.data.as_deref().unwrap_or_default();
                        format!("ok {:?} (zxid {zxid})", String::from_utf8_lossy(data))
                    }
                    _ => format!("ok (zxid {zxid})"),
                },
                Some(Outcome::Err { code, .. }) => error_name(*code),
                Some(Outcome::Lost) => "connection lost: it may or may not have happened".into(),
                None => "no answer".into(),
            };
            out.push_str(&format!(
                "  {}  {op} on n{server} → {told}\n",
                node_name(c.id())
            ));
        }
    }
    out
}
// ANCHOR_END: ending

/// Chapter 6's side of `--step`: a scenario's run, told as `--trace` tells it (or as `--all`
/// does).
pub struct Stepped<'a> {
    setup: &'a Setup,
    seed: u64,
    story: Story,
    color: bool,
}

impl<'a> Stepped<'a> {
    /// Scenario `setup` with `seed`, every event or the story, in colour or not.
    pub fn new(setup: &'a Setup, seed: u64, all: bool, color: bool) -> Self {
        let story = match all {
            true => Story::everything(),
            false => Story::new(),
        };
        Stepped {
            setup,
            seed,
            story,
            color,
        }
    }
}

impl Lesson<Node> for Stepped<'_> {
    fn sim(&self) -> Sim<Node> {
        self.setup.sim(self.seed)
    }
    fn header(&self) -> String {
        header(self.setup, self.seed)
    }
    fn tell(&mut self, entry: &ZabEntry) -> Option<String> {
        self.shows(entry).then(|| line(entry, self.color))
    }
    fn shows(&self, entry: &ZabEntry) -> bool {
        self.story.show(entry).is_some() && filter(self.story.all).shows(&entry.event)
    }
    fn is_over(&self, sim: &Sim<Node>) -> bool {
        sim.upcoming()
            .first()
            .is_none_or(|u| u.at > self.setup.end_ms)
    }
}

/// The whole transcript: header, story, ending.
pub fn transcript(setup: &Setup, seed: u64, story: &[ZabEntry], run: &Run, color: bool) -> String {
    let header = header(setup, seed);
    let mut out = match color {
        true => header.bold().to_string(),
        false => header,
    };
    out.push_str("\n\n");
    out.push_str(&story_text(story, false, color));
    out.push('\n');
    out.push_str(&ending(run, color));
    out
}

/// A message or note as the diagram labels it: short enough to sit on an arrow.
struct Label(String);

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `create /a`: a client request, by its name and path.
fn request_label(r: &Request) -> String {
    let path = match r {
        Request::Create(c) | Request::Create2(c) | Request::CreateContainer(c) => c.path.as_str(),
        Request::Delete(d) => d.path.as_str(),
        Request::GetData(g) => g.path.as_str(),
        Request::SetData(s) => s.path.as_str(),
        Request::Sync(s) => s.path.as_deref().unwrap_or("null"),
        other => return other.op_code().to_string(),
    };
    format!("{} {path}", r.op_code())
}

fn short_msg(w: &Wire) -> Label {
    Label(match w {
        Wire::Election(n) => format!("vote n{}", n.vote.leader),
        Wire::Zab { msg, .. } => match msg {
            Message::Proposal(entry) => format!("{} {}", msg.name(), entry.txn.zxid),
            Message::Inform(entry) => format!("{} {}", msg.name(), entry.txn.zxid),
            Message::Ack(z) | Message::Commit(z) | Message::Ping(z) => {
                format!("{} {z}", msg.name())
            }
            Message::Diff { zxid } | Message::Trunc { zxid } | Message::Snap { zxid, .. } => {
                format!("{} {zxid}", msg.name())
            }
            Message::LeaderInfo { epoch } | Message::NewLeader { epoch } => {
                format!("{} e{epoch}", msg.name())
            }
            Message::Request(f) => match &f.op {
                ch03_sessions::pipeline::Forward::CreateSession { .. } => {
                    "REQUEST createSession".into()
                }
                ch03_sessions::pipeline::Forward::Request(r) => {
                    format!("REQUEST {}", r.op_code())
                }
            },
            other => other.name().into(),
        },
        Wire::ZabClosed { .. } => "closed".into(),
        Wire::ZabRefused { .. } => "refused".into(),
        Wire::ToServer { frame, .. } => match frame {
            ClientFrame::Connect(_) => "connect".into(),
            ClientFrame::Request { request, .. } => request_label(request),
            ClientFrame::Close => "close".into(),
        },
        Wire::ToClient { frame, .. } => match frame {
            ServerFrame::Message(ServerMessage::Connected(_)) => "connected".into(),
            ServerFrame::Message(ServerMessage::Reply(h, _)) if h.err == 0 => {
                format!("ok {}", h.zxid)
            }
            ServerFrame::Message(ServerMessage::Reply(h, _)) => error_name(h.err),
            ServerFrame::Message(ServerMessage::Event(e)) => {
                format!("event {}", e.path.as_deref().unwrap_or("null"))
            }
            ServerFrame::Close => "closed".into(),
        },
    })
}

fn sids(s: &[ch01_znode::Sid]) -> String {
    let v: Vec<String> = s.iter().map(|s| format!("n{s}")).collect();
    v.join(" ")
}

fn short_note(n: &SimNote) -> Label {
    Label(match n {
        SimNote::Peer { note: Note::Zab(z) } => match z {
            ZabNote::EpochProposed { epoch, .. } => format!("proposes epoch {epoch}"),
            ZabNote::EpochAcked { epoch, .. } => format!("currentEpoch {epoch}"),
            ZabNote::LearnerAhead { learner, .. } => format!("n{learner} ahead: turned away"),
            ZabNote::SyncLearner { learner, mode, .. } => format!("{mode} for n{learner}"),
            ZabNote::SyncBy { mode, zxid } => format!("{mode} {zxid}"),
            ZabNote::Established { epoch, .. } => format!("leads epoch {epoch}"),
            ZabNote::UpToDate { .. } => "serves".into(),
            ZabNote::Committed { zxid, acks } => format!("commits {zxid} ({})", sids(acks)),
            ZabNote::Revalidated { session, valid } => {
                format!("{session} {}", if *valid { "valid" } else { "expired" })
            }
            ZabNote::Quit { role, .. } => format!("stops {role}"),
            ZabNote::DropsUnsaved { back_to } => format!("back to {back_to} from disk"),
            ZabNote::SyncsTail { zxids } if zxids.len() == 1 => "waits for fsync".into(),
            ZabNote::SyncsTail { zxids } => format!("waits for fsync ×{}", zxids.len()),
            ZabNote::CannotTruncate { .. } => "cannot TRUNC".into(),
            ZabNote::AsksForSnap => "asks for SNAP".into(),
            ZabNote::Unexpected(_) => "drops a packet".into(),
        },
        SimNote::Peer {
            note: Note::Election(e),
        } => match e {
            ElectionNote::Started { durable } => format!("started, {}", durable.last_logged_zxid),
            ElectionNote::Looking { vote, .. } => format!("votes n{} {}", vote.leader, vote.zxid),
            ElectionNote::Decided {
                state: ServerState::Leading,
                ..
            } => "elected".into(),
            ElectionNote::Decided { leader, .. } => format!("n{leader} elected"),
            other => other.to_string(),
        },
        // The ACKs that follow name the zxids; a short note leaves room for their arrows.
        SimNote::Logged { zxids } if zxids.len() == 1 => "fsync".into(),
        SimNote::Logged { zxids } => format!("fsync ×{}", zxids.len()),
        SimNote::Applied { zxid, .. } => format!("applies {zxid}"),
        SimNote::ReadLate { packet, late_ms } => {
            let name = packet.split(' ').next().unwrap_or_default();
            format!("reads {name} {late_ms} ms late")
        }
        SimNote::Unread { packet, .. } => {
            let name = packet.split(' ').next().unwrap_or_default();
            format!("{name} unread: closed")
        }
        SimNote::SnapshotWritten { zxid, .. } => format!("snapshot {zxid}"),
        SimNote::Disk { event } => match event {
            crate::sim::DiskEvent::Recovered { .. } => "recovers".into(),
            crate::sim::DiskEvent::FsyncFailed { .. } => "fsync fails: stops".into(),
            crate::sim::DiskEvent::Full { .. } => "disk full: stops".into(),
        },
        SimNote::Client { text } => text.clone(),
    })
}

// ANCHOR: diagram
/// The sequence diagram of a story, with short labels, from `setup.picture_from_ms` on (each
/// lifeline opens with the state its node is in then).
pub fn diagram(title: &str, setup: &Setup, story: &[ZabEntry], ids: &[NodeId]) -> String {
    let from = setup.picture_from_ms;
    let mut entries: Vec<Entry<Label, SimTimer, Label>> = Vec::new();
    let mut status: BTreeMap<NodeId, String> = BTreeMap::new();
    for e in story {
        if e.at < from {
            if let Event::Status { node, status: s } = &e.event {
                status.insert(*node, s.clone());
            }
            continue;
        }
        if entries.is_empty() {
            for (node, s) in status.iter().filter(|(_, s)| !s.is_empty()) {
                entries.push(Entry {
                    at: e.at,
                    event: Event::Status {
                        node: *node,
                        status: s.clone(),
                    },
                });
            }
        }
        entries.push(Entry {
            at: e.at,
            event: e.event.map(short_msg, short_note),
        });
    }
    // A client that connects later in the story is drawn as not started until it does.
    let options = svg::Options {
        late_start: true,
        max_rows: None,
    };
    svg::render_parts(title, ids, &entries, &options).remove(0)
}
// ANCHOR_END: diagram
