//! The chapter's trace: the seed session replayed, every txn and every Stat change shown.
//!
//! [`seed_trace`] runs the course's zkCli session on a [`LocalBackend`] whose clock is fixed
//! (it starts at 2026-01-01 00:00:00 UTC and ticks one second per txn), so the output is the
//! same on every machine. Each command becomes a few [`Event`]s:
//!
//! ```text
//! [zk 2] create /sanguo "diaochan"            the command, with zkCli's counter
//!   │ Created /sanguo                         what zkCli prints
//!   → 0x2 create /sanguo "diaochan" …        the txn prep decided, as apply receives it
//!   ⇨ /sanguo created cZxid=mZxid=pZxid=0x2 …   a node appears, with its initial Stat
//!   ⇨ / cversion -1→0 pZxid 0x0→0x2 …        the Stat fields that changed, old→new
//!   ⚑ NodeChildrenChanged /                   a watch trigger apply reported
//! ```
//!
//! `Display` of [`Event`] is that grammar; the colored renderer only adds color, and
//! `--json` prints the same events as one JSON object per line.

use crate::shell::{LocalBackend, Shell};
use crate::stat::{Stat, StatField};
use crate::tree::DataTree;
use crate::watch::EventType;
use crate::zxid::{SessionId, Zxid};
use colored::Colorize;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

// ANCHOR: seed
/// The course's zkCli session (the seed), command for command.
pub const SEED_SESSION: &[&str] = &[
    "ls /",
    "ls -s /",
    "create /sanguo \"diaochan\"",
    "get /sanguo",
    "create /sanguo/shuguo \"liubei\"",
    "get -s /sanguo",
    "create /sanguo/weiguo \"caocao\"",
    "create -s /sanguo/weiguo/zhangliao \"zhangliao\"",
    "create -s /sanguo/weiguo/zhangliao \"zhangliao\"",
    "ls /sanguo/weiguo",
    "create /sanguo/wuguo \"sunquan\"",
    "create -e /sanguo/wuguo/zhouyu \"zhouyu\"",
    "create -e -s /sanguo/wuguo/zhouyu22 \"zhouyu\"",
    "set /sanguo \"xishi\"",
    "stat /sanguo",
    "create /sanguo/jin \"simayi\"",
    "delete /sanguo/jin",
    "deleteall /sanguo",
];
// ANCHOR_END: seed

// ANCHOR: servers
/// Servers up and down: two servers register as ephemeral sequential nodes, then the session
/// that holds them ends, and the closeSession txn takes them away.
pub const SERVERS_SESSION: &[&str] = &[
    "create /servers",
    "create -e -s /servers/server- \"127.0.0.1:8080\"",
    "create -e -s /servers/server- \"127.0.0.2:8080\"",
    "ls -s /servers",
    "quit",
];
// ANCHOR_END: servers

/// The scenarios `--trace --scenario NAME` can replay.
pub const SCENARIOS: &[(&str, &[&str])] = &[("seed", SEED_SESSION), ("servers", SERVERS_SESSION)];

/// 2026-01-01 00:00:00 UTC, where the fixed clock starts.
pub const FIXED_CLOCK_START_MS: i64 = 1_767_225_600_000;

/// A clock that starts at [`FIXED_CLOCK_START_MS`] and advances one second per reading.
pub fn fixed_clock() -> crate::shell::backend::Clock {
    let mut now = FIXED_CLOCK_START_MS;
    Box::new(move || {
        now += 1000;
        now
    })
}

/// A shell on a fresh in-memory tree with the fixed clock.
pub fn fixed_shell() -> Shell<LocalBackend> {
    Shell::new(LocalBackend::new(fixed_clock()))
}

/// One Stat field's change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: StatField,
    pub before: String,
    pub after: String,
}

// ANCHOR: event
/// Everything the ch01 trace shows. `Display` is the trace grammar (one line per event).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A command line, with zkCli's command counter.
    Command { count: usize, line: String },
    /// A line zkCli prints (`stderr` for errors and `Created …`).
    Output { text: String, stderr: bool },
    /// A txn handed to `apply`.
    Txn {
        zxid: Zxid,
        time_ms: i64,
        session: SessionId,
        op: String,
    },
    /// A node appeared, with its initial Stat.
    Created { path: String, stat: Stat },
    /// A node's Stat fields that changed.
    StatChanged {
        path: String,
        changes: Vec<FieldChange>,
    },
    /// A node disappeared.
    Deleted { path: String },
    /// A watch trigger apply reported.
    Trigger { path: String, event_type: EventType },
}
// ANCHOR_END: event

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Command { count, line } => write!(f, "[zk {count}] {line}"),
            Event::Output { text, .. } => write!(f, "  │ {text}"),
            Event::Txn { zxid, op, .. } => write!(f, "  → {zxid} {op}"),
            Event::Created { path, stat } => {
                write!(
                    f,
                    "  ⇨ {path} created cZxid=mZxid=pZxid={} ctime=mtime={} dataLength={}",
                    stat.czxid, stat.ctime, stat.data_length
                )?;
                if stat.ephemeral_owner != SessionId::NONE {
                    write!(f, " ephemeralOwner={}", stat.ephemeral_owner)?;
                }
                Ok(())
            }
            Event::StatChanged { path, changes } => {
                write!(f, "  ⇨ {path}")?;
                for c in changes {
                    write!(f, " {} {}→{}", c.field.name(), c.before, c.after)?;
                }
                Ok(())
            }
            Event::Deleted { path } => write!(f, "  ⇨ {path} deleted"),
            Event::Trigger { path, event_type } => write!(f, "  ⚑ {event_type} {path}"),
        }
    }
}

impl Event {
    /// The same line with color, for a terminal.
    pub fn colored(&self) -> String {
        let plain = self.to_string();
        match self {
            Event::Command { .. } => plain.bold().to_string(),
            Event::Output { stderr: true, .. } => plain.red().to_string(),
            Event::Output { .. } => plain.dimmed().to_string(),
            Event::Txn { .. } => plain.cyan().to_string(),
            Event::Created { .. } => plain.green().to_string(),
            Event::StatChanged { .. } => plain.yellow().to_string(),
            Event::Deleted { .. } => plain.red().to_string(),
            Event::Trigger { .. } => plain.magenta().to_string(),
        }
    }
}

fn stats(tree: &DataTree) -> BTreeMap<String, Stat> {
    tree.paths()
        .into_iter()
        .filter_map(|p| tree.stat(&p).ok().map(|s| (p, s)))
        .collect()
}

// ANCHOR: stat_diff
/// What happened to the tree between two snapshots of its Stats.
fn tree_changes(before: &BTreeMap<String, Stat>, after: &BTreeMap<String, Stat>) -> Vec<Event> {
    let created = after
        .iter()
        .filter(|(path, _)| !before.contains_key(*path))
        .map(|(path, stat)| Event::Created {
            path: path.clone(),
            stat: *stat,
        });
    let deleted = before
        .keys()
        .filter(|path| !after.contains_key(*path))
        .map(|path| Event::Deleted { path: path.clone() });
    let changed = after.iter().filter_map(|(path, stat)| {
        let old = before.get(path).filter(|old| *old != stat)?;
        let changes = old
            .diff(stat)
            .into_iter()
            .map(|(field, before, after)| FieldChange {
                field,
                before,
                after,
            })
            .collect();
        Some(Event::StatChanged {
            path: path.clone(),
            changes,
        })
    });
    created.chain(deleted).chain(changed).collect()
}
// ANCHOR_END: stat_diff

/// Records what one step does to the tree: the txns it caused, the Stat changes, the triggers.
pub struct Tracer {
    seen: usize,
    before: BTreeMap<String, Stat>,
}

impl Tracer {
    /// Starts tracing `shell`; txns already in its log (its createSession) are reported by
    /// the first step.
    pub fn new(shell: &Shell<LocalBackend>) -> Tracer {
        Tracer {
            seen: 0,
            before: stats(shell.backend.tree()),
        }
    }

    /// Everything that happened since the last call: txn lines, then the Stat changes, then
    /// the triggers.
    pub fn step(&mut self, shell: &Shell<LocalBackend>) -> Vec<Event> {
        let mut txns = Vec::new();
        let mut triggers = Vec::new();
        for (txn, applied) in &shell.backend.log[self.seen..] {
            txns.push(Event::Txn {
                zxid: txn.zxid,
                time_ms: txn.time_ms,
                session: txn.session,
                op: txn.op.to_string(),
            });
            triggers.extend(applied.triggers.iter().map(|t| Event::Trigger {
                path: t.path.clone(),
                event_type: t.event,
            }));
        }
        self.seen = shell.backend.log.len();
        let after = stats(shell.backend.tree());
        txns.extend(tree_changes(&self.before, &after));
        txns.extend(triggers);
        self.before = after;
        txns
    }
}

/// The events for the lines one command printed.
pub fn output_events(lines: &[crate::shell::Line]) -> Vec<Event> {
    lines
        .iter()
        .map(|out| Event::Output {
            text: out.text().to_string(),
            stderr: matches!(out, crate::shell::Line::Err(_)),
        })
        .collect()
}

// ANCHOR: trace_commands
/// Runs `commands` on `shell`, returning the trace: for each command, its output, the txns
/// it caused, the Stat changes and the triggers.
pub fn trace_commands(shell: &mut Shell<LocalBackend>, commands: &[&str]) -> Vec<Event> {
    let mut tracer = Tracer::new(shell);
    let mut events = tracer.step(shell);
    for (count, line) in commands.iter().enumerate() {
        events.push(Event::Command {
            count,
            line: line.to_string(),
        });
        let output = shell.execute_line(line);
        events.extend(output_events(&output));
        events.extend(tracer.step(shell));
    }
    events
}
// ANCHOR_END: trace_commands

/// The seed session's trace.
pub fn seed_trace() -> Vec<Event> {
    trace_commands(&mut fixed_shell(), SEED_SESSION)
}

/// The trace of a named scenario (see [`SCENARIOS`]), if there is one by that name.
pub fn scenario_trace(name: &str) -> Option<Vec<Event>> {
    let (_, commands) = SCENARIOS.iter().find(|(n, _)| *n == name)?;
    Some(trace_commands(&mut fixed_shell(), commands))
}
