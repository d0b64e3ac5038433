//! Text renderings of a trace: plain (snapshots, pipes), coloured (terminals), JSON lines (tools).
//!
//! All three print the same events in the same order; only the dressing differs. The plain form
//! is the `Display` of each [`Entry`], and is what the snapshot tests pin down. A message's
//! *send* is left out of the text forms by default: its delivery (or drop) line names sender and
//! receiver already, and the time it was sent is in the JSON and the diagram.

use std::fmt::Display;
use std::ops::Range;

use colored::{Color, Colorize};
use serde::Serialize;

use super::trace::{node_name, Entry, Event};
use super::{Millis, NodeId};

/// Which events a text rendering shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Filter {
    /// Show `Send` events (each message then appears twice: sent, then delivered or dropped).
    pub sends: bool,
    /// Show timers being set and cancelled (fired timers always show).
    pub timer_sets: bool,
}

impl Default for Filter {
    fn default() -> Self {
        Filter { sends: false, timer_sets: true }
    }
}

impl Filter {
    /// Whether this filter shows `event`.
    pub fn shows<M, T, N>(&self, event: &Event<M, T, N>) -> bool {
        match event {
            Event::Send { .. } => self.sends,
            Event::TimerSet { .. } | Event::TimerCancelled { .. } => self.timer_sets,
            _ => true,
        }
    }
}

/// The plain trace, one line per event, with the default [`Filter`].
pub fn plain<M: Display, T: Display, N: Display>(trace: &[Entry<M, T, N>]) -> String {
    plain_with(trace, Filter::default())
}

/// The plain trace with a chosen filter.
pub fn plain_with<M: Display, T: Display, N: Display>(
    trace: &[Entry<M, T, N>],
    filter: Filter,
) -> String {
    let mut out = String::new();
    for e in trace.iter().filter(|e| filter.shows(&e.event)) {
        out.push_str(&e.to_string());
        out.push('\n');
    }
    out
}

/// The turning points of a run between two virtual times (`from_ms..to_ms`), one line each, as
/// in the plain trace: what each node concluded and became, and the faults that struck. The
/// messages and timers in between are left out (see [`Event::is_turning_point`]). The book shows
/// this above a long trace, which it folds away.
pub fn turning_points<M: Display, T: Display, N: Display>(
    trace: &[Entry<M, T, N>],
    window_ms: Range<Millis>,
) -> String {
    let mut out = String::new();
    for e in trace.iter().filter(|e| e.event.is_turning_point() && window_ms.contains(&e.at)) {
        out.push_str(&e.to_string());
        out.push('\n');
    }
    out
}

/// One JSON object per line: `{"at":10,"kind":"deliver","from":1,"to":2,...}`. Every event is
/// included, sends too.
pub fn json_lines<M: Serialize, T: Serialize, N: Serialize>(trace: &[Entry<M, T, N>]) -> String {
    let mut out = String::new();
    for e in trace {
        out.push_str(&serde_json::to_string(e).expect("trace events serialize"));
        out.push('\n');
    }
    out
}

// Node n gets entry n % 8, as in the SVG palette; red is kept for drops and crashes.
const NODE_COLORS: [Color; 8] = [
    Color::Cyan,
    Color::Green,
    Color::Magenta,
    Color::Blue,
    Color::Yellow,
    Color::BrightMagenta,
    Color::BrightYellow,
    Color::BrightBlack,
];

/// The colour a node is drawn in, by id (the same in every trace).
pub fn node_color(id: NodeId) -> Color {
    NODE_COLORS[(id as usize) % NODE_COLORS.len()]
}

fn colored_node(id: NodeId) -> String {
    node_name(id).color(node_color(id)).bold().to_string()
}

/// The coloured trace for a terminal, with a filter. Colours follow `colored`'s global switch,
/// so `--no-color` (or a pipe) gives exactly the plain text.
pub fn colored<M: Display, T: Display, N: Display>(
    trace: &[Entry<M, T, N>],
    filter: Filter,
) -> String {
    let mut out = String::new();
    for e in trace.iter().filter(|e| filter.shows(&e.event)) {
        out.push_str(&colored_line(e));
        out.push('\n');
    }
    out
}

/// One coloured line; its characters are those of the plain line.
pub fn colored_line<M: Display, T: Display, N: Display>(e: &Entry<M, T, N>) -> String {
    let at = format!("{:>6}ms", e.at).dimmed();
    let n = |id: &NodeId| colored_node(*id);
    let body = match &e.event {
        Event::Send { from, to, msg, .. } => {
            format!("{} → {}  {}", n(from), n(to), format!("{msg}  (sent)").dimmed())
        }
        Event::Deliver { from, to, msg, .. } => format!("{} → {}  {msg}", n(from), n(to)),
        Event::Drop { from, to, reason, msg, .. } => {
            format!("{} → {}  {msg}  {}", n(from), n(to), format!("✗ {reason}").red().bold())
        }
        Event::Duplicate { from, to, msg, .. } => {
            format!("{} → {}  {msg}  {}", n(from), n(to), "×2 duplicated".yellow())
        }
        Event::Status { node, status } => format!("{} ⇨ {}", n(node), status.bold()),
        Event::Note { node, note } => format!("{} • {}", n(node), note.to_string().yellow()),
        Event::Crash { node } => format!("{} {}", n(node), "✗ crashed".red().bold()),
        Event::Restart { node } => format!("{} {}", n(node), "↻ restarted".green().bold()),
        Event::Violation { .. } => e.event.to_string().white().on_red().bold().to_string(),
        Event::Partition { .. } | Event::Heal | Event::Network { .. } => {
            e.event.to_string().magenta().bold().to_string()
        }
        Event::TimerSet { .. } | Event::TimerCancelled { .. } | Event::TimerFired { .. } => {
            e.event.to_string().dimmed().to_string()
        }
    };
    format!("{at}  {body}")
}
