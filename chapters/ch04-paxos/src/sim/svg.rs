//! The sequence diagram: a trace drawn as one lifeline per node, time flowing down.
//!
//! Arrows are messages (from the row they were sent to the row they arrived), a red ✗ is a lost
//! message or a crash, a boxed word on a lifeline is the node's new status, amber text is a note,
//! dashed lines across the page are partitions and heals. Rows follow the trace's order, not a
//! fixed time scale: a quiet 100ms costs no more paper than a busy millisecond, and the left
//! margin prints the virtual time wherever it moved on.
//!
//! A label never hides another when it can help it: notes, statuses and timers sit where their
//! event happens, and each arrow's label then takes the first of a few spots along its arrow
//! (the gap next to the receiver, nearer the sender, above or below the line) that nothing
//! drawn so far covers. With [`Options`], a server switched on late is drawn grey and dotted
//! until it starts, and a long run is cut into one picture per phase, at its faults.
//!
//! The output is a pure function of the trace (integer coordinates, no clock, no randomness), so
//! the diagrams committed in the book are checked by re-rendering them in a test.

use std::collections::{HashMap, HashSet};
use std::fmt::{Display, Write};
use std::ops::Range;

use super::trace::{groups_text, node_name, Entry, Event};
use super::NodeId;

const COL_W: i64 = 240;
const LEFT: i64 = 70;
const TOP: i64 = 56;
const ROW_H: i64 = 22;

// The same hues as the terminal's colours (`render::node_color`), and none of them the red that
// marks drops and crashes.
const PALETTE: [&str; 8] =
    ["#0e7c86", "#2f8f2f", "#9b3fa8", "#2f5fb3", "#b07800", "#c2185b", "#8d6e00", "#546e7a"];

/// The colour of node `id`'s lifeline and header.
fn color(id: NodeId) -> &'static str {
    PALETTE[(id as usize) % PALETTE.len()]
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Which node an event happens on, if it happens on one (used to share rows).
fn actor<M, T, N>(e: &Event<M, T, N>) -> Option<NodeId> {
    match e {
        Event::Send { from, .. } | Event::Duplicate { from, .. } => Some(*from),
        Event::Drop {
            from,
            reason: super::DropReason::Lost | super::DropReason::Partition,
            ..
        } => Some(*from),
        Event::Deliver { to, .. } | Event::Drop { to, .. } => Some(*to),
        Event::TimerFired { node, .. } | Event::Note { node, .. } | Event::Status { node, .. } => {
            Some(*node)
        }
        _ => None,
    }
}

/// How to draw a run beyond its trace.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// A node is not running until its first status change (a server switched on later):
    /// before it, its lifeline is drawn grey and dotted, marked "not started".
    pub late_start: bool,
    /// Split a run longer than this many rows into parts, each starting at a fault (a crash,
    /// a restart, a partition, a heal), so one long story becomes one picture per phase.
    pub max_rows: Option<usize>,
}

/// Render `trace` of the nodes `ids` (left to right) as a standalone SVG document titled `title`.
pub fn render<M: Display, T: Display, N: Display>(
    title: &str,
    ids: &[NodeId],
    trace: &[Entry<M, T, N>],
) -> String {
    let whole = 0..trace.len();
    render_part(title, ids, trace, whole, &Options::default())
}

/// Render `trace` as one SVG per phase (just one when it is short enough, see
/// [`Options::max_rows`]); each part's title says which part of how many it is.
pub fn render_parts<M: Display, T: Display, N: Display>(
    title: &str,
    ids: &[NodeId],
    trace: &[Entry<M, T, N>],
    options: &Options,
) -> Vec<String> {
    let parts = phases(trace, options.max_rows);
    let count = parts.len();
    parts
        .into_iter()
        .enumerate()
        .map(|(i, range)| {
            let title = match count {
                1 => title.to_string(),
                _ => {
                    format!("{title}, part {} of {count}, from {}ms", i + 1, trace[range.start].at)
                }
            };
            render_part(&title, ids, trace, range, options)
        })
        .collect()
}

/// Where a run splits, when the whole would be longer than `max_rows` rows: before a fault (a
/// crash, a restart, a partition, a heal) once the part so far has at least a third of
/// `max_rows` (so no part is a sliver); and, in a long stretch without faults, at the first new
/// instant after `max_rows` rows, unless a fault comes within a quarter of that (a phase is
/// better cut where it changes than where the page ends).
pub fn phases<M, T, N>(trace: &[Entry<M, T, N>], max_rows: Option<usize>) -> Vec<Range<usize>> {
    let rows = layout_rows(trace);
    let new_row = |i: usize| rows[i] == Some(true);
    let total = (0..trace.len()).filter(|i| new_row(*i)).count();
    let Some(max) = max_rows.filter(|m| total > *m) else {
        // One part: the whole run.
        return std::iter::once(0..trace.len()).collect();
    };
    let is_fault = |i: usize| {
        matches!(
            trace[i].event,
            Event::Crash { .. } | Event::Restart { .. } | Event::Partition { .. } | Event::Heal
        )
    };
    // How many rows from each event to the next fault (or to the end).
    let mut to_fault = vec![0; trace.len()];
    let mut ahead = 0;
    for i in (0..trace.len()).rev() {
        ahead = if is_fault(i) { 0 } else { ahead + usize::from(new_row(i)) };
        to_fault[i] = ahead;
    }
    let mut parts = Vec::new();
    let (mut start, mut in_part, mut last_at) = (0, 0, None);
    for (i, e) in trace.iter().enumerate() {
        let new_instant = new_row(i) && last_at != Some(e.at);
        let at_fault = is_fault(i) && in_part >= max / 3;
        let page_full =
            new_instant && in_part >= max && (to_fault[i] > max / 4 || in_part >= max + max / 4);
        if at_fault || page_full {
            parts.push(start..i);
            (start, in_part) = (i, 0);
        }
        if new_row(i) {
            in_part += 1;
            last_at = Some(e.at);
        }
    }
    parts.push(start..trace.len());
    parts
}

/// Which events get a row of their own (`Some(new row)`), share the previous one
/// (`Some(false)`), or draw nothing (`None`). A send shares the row of the event that caused
/// it (same node, same time), so a fan-out starts from one point; status changes of several
/// nodes at one instant share a row (e.g. at start-up).
fn layout_rows<M, T, N>(trace: &[Entry<M, T, N>]) -> Vec<Option<bool>> {
    let mut rows = Vec::with_capacity(trace.len());
    let mut last: Option<(u64, Option<NodeId>)> = None;
    let (mut prev_was_status, mut last_status_at) = (false, None);
    for e in trace {
        let row = match &e.event {
            Event::TimerSet { .. } | Event::TimerCancelled { .. } => None,
            ev @ (Event::Send { .. } | Event::Duplicate { .. } | Event::Drop { .. })
                if last.is_some_and(|(t, a)| t == e.at && a.is_some() && a == actor(ev)) =>
            {
                Some(false)
            }
            Event::Status { .. } if last_status_at == Some(e.at) && prev_was_status => Some(false),
            ev => {
                last = Some((e.at, actor(ev)));
                Some(true)
            }
        };
        if row.is_some() {
            prev_was_status = matches!(e.event, Event::Status { .. });
            last_status_at = prev_was_status.then_some(e.at);
        }
        rows.push(row);
    }
    rows
}

/// Draws the events `range` of `trace`, knowing what happened before it (who is down, who has
/// started, which messages are already on their way).
fn render_part<M: Display, T: Display, N: Display>(
    title: &str,
    ids: &[NodeId],
    trace: &[Entry<M, T, N>],
    range: Range<usize>,
    options: &Options,
) -> String {
    let x = |id: NodeId| -> i64 {
        let col = ids.iter().position(|n| *n == id).unwrap_or(0) as i64;
        LEFT + COL_W / 2 + col * COL_W
    };
    // Room on the right for the notes written beside the last lifelines, however long.
    let width = trace[range.clone()]
        .iter()
        .map(|e| text_right_edge(&e.event, x))
        .fold(LEFT + COL_W * ids.len() as i64 + 120, i64::max);

    // What the part inherits: nodes down, nodes started, messages sent earlier.
    let mut down_since: HashMap<NodeId, i64> = HashMap::new();
    let mut started: HashSet<NodeId> = HashSet::new();
    let mut earlier_sends: HashSet<u64> = HashSet::new();
    for e in &trace[..range.start] {
        match &e.event {
            Event::Crash { node } => drop(down_since.insert(*node, TOP + 12)),
            Event::Restart { node } => drop(down_since.remove(node)),
            Event::Status { node, .. } => drop(started.insert(*node)),
            Event::Send { id, .. } => drop(earlier_sends.insert(*id)),
            Event::Duplicate { copy, .. } => drop(earlier_sends.insert(*copy)),
            _ => {}
        }
    }

    // Pass 1: give every drawn event a row.
    let all_rows = layout_rows(trace);
    let mut ys: Vec<Option<i64>> = Vec::with_capacity(range.len());
    let mut y = TOP + ROW_H;
    for row in &all_rows[range.clone()] {
        ys.push(row.map(|new| {
            if new {
                y += ROW_H;
            }
            y
        }));
    }
    let height = y + 2 * ROW_H;

    let mut body = String::new();
    let mut taken = Taken::default();
    let mut labels: Vec<Label> = Vec::new();
    let mut send_y: HashMap<u64, i64> = HashMap::new();
    let mut down_segments: Vec<(NodeId, i64, i64)> = Vec::new();
    let mut start_y: HashMap<NodeId, i64> = HashMap::new();
    let mut last_time_label: Option<u64> = None;
    let from_earlier = TOP + 12;

    for (e, row) in trace[range].iter().zip(&ys) {
        let Some(y) = *row else { continue };
        if last_time_label != Some(e.at) {
            last_time_label = Some(e.at);
            let _ = writeln!(
                body,
                r##"<text x="{}" y="{}" class="time">{}ms</text>"##,
                LEFT - 8,
                y + 4,
                e.at
            );
        }
        match &e.event {
            Event::Send { id, .. } => {
                send_y.insert(*id, y);
            }
            Event::Duplicate { from, id, copy, .. } => {
                let sy = send_y.get(id).copied().unwrap_or(y);
                send_y.insert(*copy, sy);
                // Just after the sender, above its send; below or before it if that is taken.
                let cx = x(*from);
                let spots = vec![
                    (cx + 6, sy - 4, "start"),
                    (cx + 6, sy + 12, "start"),
                    (cx - 6, sy - 4, "end"),
                ];
                labels.push(Label { text: "×2".into(), spots, class: "dup", px: 11 });
            }
            Event::Deliver { from, to, id, msg, .. } => {
                let sy = sent_at_row(&send_y, &earlier_sends, *id, y, from_earlier);
                labels.push(arrow(&mut body, x(*from), sy, x(*to), y, &msg.to_string(), false));
            }
            Event::Drop { from, to, id, msg, reason, .. } => {
                let sy = sent_at_row(&send_y, &earlier_sends, *id, y, from_earlier);
                let (x1, x2) = (x(*from), x(*to));
                if *reason == super::DropReason::Down {
                    labels.push(arrow(&mut body, x1, sy, x2, y, &msg.to_string(), true));
                    cross(&mut body, &mut taken, x2, y);
                } else if x1 == x2 {
                    cross(&mut body, &mut taken, x1 + 20, y);
                } else {
                    // Lost on the way: a dashed stub that stops halfway, then a cross.
                    let xm = x1 + (x2 - x1) * 45 / 100;
                    let ym = y + ROW_H / 2;
                    let _ = writeln!(
                        body,
                        r##"<line x1="{x1}" y1="{y}" x2="{xm}" y2="{ym}" class="lost"/>"##
                    );
                    cross(&mut body, &mut taken, xm, ym);
                    let (anchor, tx) = if x2 > x1 { ("start", xm + 8) } else { ("end", xm - 8) };
                    // Beside the cross, or just below or above it when that is taken, or on
                    // the sender's side of it.
                    let (back_anchor, back_x) =
                        if x2 > x1 { ("end", xm - 8) } else { ("start", xm + 8) };
                    let mut spots: Vec<_> =
                        [ym + 4, ym + 16, ym - 8, ym + 28].map(|ty| (tx, ty, anchor)).to_vec();
                    spots.extend([ym + 16, ym - 8].map(|ty| (back_x, ty, back_anchor)));
                    let text = format!("{msg} ({reason})");
                    labels.push(Label { text, spots, class: "lostlabel", px: 11 });
                }
            }
            Event::TimerFired { node, timer } => {
                let cx = x(*node);
                let _ = writeln!(body, r##"<circle cx="{cx}" cy="{y}" r="4" class="timer"/>"##);
                beside(&mut body, &mut taken, cx, y, "timerlabel", &format!("timer {timer}"));
            }
            Event::Status { node, status } => {
                // A node whose first status is the picture's first row was running from the
                // start: nothing to draw as not started.
                let first_row = TOP + 2 * ROW_H;
                if options.late_start && !started.contains(node) && y > first_row {
                    start_y.insert(*node, y);
                }
                started.insert(*node);
                let cx = x(*node);
                let w = 8 * status.chars().count() as i64 + 14;
                taken.rect(cx - w / 2, y - 9, cx + w / 2, y + 8);
                let _ = writeln!(
                    body,
                    r##"<rect x="{}" y="{}" width="{w}" height="17" rx="4" class="status" stroke="{c}"/><text x="{cx}" y="{}" class="statustext" fill="{c}">{}</text>"##,
                    cx - w / 2,
                    y - 9,
                    y + 4,
                    esc(status),
                    c = color(*node)
                );
            }
            Event::Note { node, note } => {
                beside(&mut body, &mut taken, x(*node), y, "note", &format!("• {note}"));
            }
            Event::Crash { node } => {
                cross(&mut body, &mut taken, x(*node), y);
                beside(&mut body, &mut taken, x(*node) + 4, y, "crash", "crashed");
                down_since.insert(*node, y);
            }
            Event::Restart { node } => {
                if let Some(from) = down_since.remove(node) {
                    down_segments.push((*node, from, y));
                }
                let cx = x(*node);
                let _ = writeln!(body, r##"<circle cx="{cx}" cy="{y}" r="6" class="restart"/>"##);
                beside(&mut body, &mut taken, cx + 4, y, "restartlabel", "restarted");
            }
            Event::Partition { groups } => band(
                &mut body,
                &mut taken,
                width,
                y,
                "partition",
                &format!("partition {}", groups_text(groups)),
            ),
            Event::Heal => band(&mut body, &mut taken, width, y, "heal", "heal"),
            Event::Network { change } => {
                band(&mut body, &mut taken, width, y, "net", &format!("network {change}"))
            }
            Event::Violation { invariant, message } => {
                taken.rect(4, y - 11, width - 4, y + 7);
                let _ = writeln!(
                    body,
                    r##"<rect x="4" y="{}" width="{}" height="18" class="violation"/>"##,
                    y - 11,
                    width - 8
                );
                let _ = writeln!(
                    body,
                    r##"<text x="10" y="{}" class="violationtext">VIOLATION of {}: {}</text>"##,
                    y + 3,
                    esc(invariant),
                    esc(message)
                );
            }
            Event::TimerSet { .. } | Event::TimerCancelled { .. } => {}
        }
    }
    // A node that never changed status in a run that draws late starters never started.
    if options.late_start {
        for id in ids {
            if !started.contains(id) {
                start_y.insert(*id, height - ROW_H);
            }
        }
    }
    // Arrow labels last, each where it overlaps nothing drawn so far (or the least).
    for label in labels {
        label.place(&mut body, &mut taken);
    }
    for (node, from) in down_since {
        down_segments.push((node, from, height - ROW_H));
    }
    down_segments.sort_unstable();

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="ui-monospace, Menlo, Consolas, monospace" font-size="11">"##
    );
    svg.push_str(STYLE);
    let _ = writeln!(svg, r##"<rect width="{width}" height="{height}" fill="#fff"/>"##);
    let _ = writeln!(svg, r##"<text x="10" y="18" class="title">{}</text>"##, esc(title));
    for id in ids {
        let cx = x(*id);
        let life_from = match start_y.get(id) {
            Some(&sy) => {
                let _ = writeln!(
                    svg,
                    r##"<line x1="{cx}" y1="{}" x2="{cx}" y2="{sy}" class="off"/><text x="{}" y="{}" class="offlabel">not started</text>"##,
                    TOP + 12,
                    cx + 6,
                    TOP + 26
                );
                sy
            }
            None => TOP + 12,
        };
        let _ = writeln!(
            svg,
            r##"<line x1="{cx}" y1="{life_from}" x2="{cx}" y2="{}" stroke="{}" class="life"/>"##,
            height - ROW_H,
            color(*id)
        );
        let _ = writeln!(
            svg,
            r##"<rect x="{}" y="{}" width="56" height="22" rx="5" fill="{c}"/><text x="{cx}" y="{}" class="head">{}</text>"##,
            cx - 28,
            TOP - 10,
            TOP + 5,
            node_name(*id),
            c = color(*id)
        );
    }
    for (node, from, to) in down_segments {
        let cx = x(node);
        let _ =
            writeln!(svg, r##"<line x1="{cx}" y1="{from}" x2="{cx}" y2="{to}" class="down"/>"##);
    }
    svg.push_str(&body);
    svg.push_str("</svg>\n");
    svg
}

/// How far right the text an event writes beside a lifeline (or across the page) reaches, with
/// a margin: the picture is made that wide, so no note is cut off at its edge.
fn text_right_edge<M: Display, T: Display, N: Display>(
    event: &Event<M, T, N>,
    x: impl Fn(NodeId) -> i64,
) -> i64 {
    let (start, text) = match event {
        Event::Note { node, note } => (x(*node) + 8, format!("• {note}")),
        Event::TimerFired { node, timer } => (x(*node) + 8, format!("timer {timer}")),
        Event::Violation { invariant, message } => {
            (10, format!("VIOLATION of {invariant}: {message}"))
        }
        _ => return 0,
    };
    let (x1, _, x2, _) = Taken::text_box(start, 0, "start", text.chars().count(), 11);
    x1.max(x2) + 16
}

/// The row a message was sent from: its send's row, the top of the part for a message sent in
/// an earlier part, or the arrival row when its send was not drawn.
fn sent_at_row(
    send_y: &HashMap<u64, i64>,
    earlier: &HashSet<u64>,
    id: u64,
    y: i64,
    top: i64,
) -> i64 {
    match send_y.get(&id) {
        Some(sy) => *sy,
        None if earlier.contains(&id) => top,
        None => y,
    }
}

/// The boxes of everything drawn so far, so a label can go where nothing is.
#[derive(Default)]
struct Taken(Vec<(i64, i64, i64, i64)>);

impl Taken {
    fn rect(&mut self, x1: i64, y1: i64, x2: i64, y2: i64) {
        self.0.push((x1, y1, x2, y2));
    }

    /// The box of `chars` characters of a `px`-pixel monospace font at baseline `y`.
    fn text_box(x: i64, y: i64, anchor: &str, chars: usize, px: i64) -> (i64, i64, i64, i64) {
        // A monospace glyph is about 0.6 em wide.
        let w = chars as i64 * px * 6 / 10;
        let x1 = match anchor {
            "middle" => x - w / 2,
            "end" => x - w,
            _ => x,
        };
        (x1, y - px + 2, x1 + w, y + 3)
    }

    fn text(&mut self, x: i64, y: i64, anchor: &str, chars: usize, px: i64) {
        self.0.push(Taken::text_box(x, y, anchor, chars, px));
    }

    /// How much of `b` is covered by what is taken (in px²).
    fn overlap(&self, b: (i64, i64, i64, i64)) -> i64 {
        self.0
            .iter()
            .map(|t| {
                let w = (b.2.min(t.2) - b.0.max(t.0)).max(0);
                let h = (b.3.min(t.3) - b.1.max(t.1)).max(0);
                w * h
            })
            .sum()
    }
}

/// An arrow's label, waiting for a place: the spots it may take, best first.
struct Label {
    text: String,
    spots: Vec<(i64, i64, &'static str)>,
    class: &'static str,
    /// Its font size.
    px: i64,
}

impl Label {
    /// Draws the label at its first free spot (or the least covered one) and takes it.
    fn place(self, out: &mut String, taken: &mut Taken) {
        let (chars, px) = (self.text.chars().count(), self.px);
        let boxed = |&(x, y, anchor): &(i64, i64, &str)| Taken::text_box(x, y, anchor, chars, px);
        // A label that only touches another is still hard to read: keep a pixel between them.
        let padded = |s: &(i64, i64, &str)| {
            let (x1, y1, x2, y2) = boxed(s);
            taken.overlap((x1 - 1, y1 - 1, x2 + 1, y2 + 1))
        };
        let best = self
            .spots
            .iter()
            .find(|s| padded(s) == 0)
            .or_else(|| self.spots.iter().min_by_key(|s| padded(s)))
            .copied()
            .expect("an arrow has at least one spot for its label");
        taken.0.push(boxed(&best));
        let (x, y, anchor) = best;
        let _ = writeln!(
            out,
            r##"<text x="{x}" y="{y}" class="{}" text-anchor="{anchor}">{}</text>"##,
            self.class,
            esc(&self.text)
        );
    }
}

fn arrow(out: &mut String, x1: i64, y1: i64, x2: i64, y2: i64, label: &str, dashed: bool) -> Label {
    let class = if dashed { "msg dead" } else { "msg" };
    let text = label.to_string();
    if x1 == x2 {
        // A message to oneself: a small loop to the right, drawn where it arrives.
        let y0 = y2 - ROW_H / 2;
        let _ = writeln!(
            out,
            r##"<path d="M{x1},{y0} C{},{y0} {},{y2} {x2},{y2}" class="{class}" fill="none" marker-end="url(#head)"/>"##,
            x1 + 30,
            x1 + 30
        );
        // Beside the loop, level with its top, its bottom, or further out.
        let spots = vec![
            (x1 + 34, y0 + 2, "start"),
            (x1 + 34, y2 + 6, "start"),
            (x1 + 34, y0 - 8, "start"),
            (x1 + 34 + COL_W / 3, y2 + 2, "start"),
            (x1 + 34 + COL_W / 3, y0 - 8, "start"),
            (x1 + 34 + COL_W / 3, y2 + 12, "start"),
            (x1 - 10, y2 + 2, "end"),
        ];
        return Label { text, spots, class: "label", px: 10 };
    }
    let _ = writeln!(
        out,
        r##"<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" class="{class}" marker-end="url(#head)"/>"##
    );
    // Centred on the arrow where it crosses a gap between lifelines, so no label sits on a
    // lifeline's status box: the gap next to the receiver first (arrows to different nodes
    // label different gaps), then the gaps nearer the sender; in each gap a little before or
    // after its middle, above the arrow, then below it.
    let dir = (x2 - x1).signum();
    let gaps = (x2 - x1).abs() / COL_W;
    let at = |tx: i64| y1 + (y2 - y1) * (tx - x1) / (x2 - x1);
    let mut spots = Vec::new();
    for gap in 0..gaps {
        let centre = x2 - dir * (COL_W / 2 + gap * COL_W);
        for dx in [0, -COL_W / 6, COL_W / 6] {
            spots.push((centre + dx, at(centre + dx) - 4, "middle"));
        }
        for dx in [0, -COL_W / 6, COL_W / 6] {
            spots.push((centre + dx, at(centre + dx) + 13, "middle"));
        }
    }
    Label { text, spots, class: "label", px: 10 }
}

/// Text just right of a lifeline at row `y`.
fn beside(out: &mut String, taken: &mut Taken, cx: i64, y: i64, class: &str, text: &str) {
    taken.text(cx + 8, y + 4, "start", text.chars().count(), 11);
    let _ = writeln!(
        out,
        r##"<text x="{}" y="{}" class="{class}">{}</text>"##,
        cx + 8,
        y + 4,
        esc(text)
    );
}

fn cross(out: &mut String, taken: &mut Taken, cx: i64, cy: i64) {
    taken.rect(cx - 6, cy - 6, cx + 6, cy + 6);
    let _ = writeln!(
        out,
        r##"<path d="M{},{} L{},{} M{},{} L{},{}" class="cross"/>"##,
        cx - 5,
        cy - 5,
        cx + 5,
        cy + 5,
        cx - 5,
        cy + 5,
        cx + 5,
        cy - 5
    );
}

fn band(out: &mut String, taken: &mut Taken, width: i64, y: i64, class: &str, label: &str) {
    taken.text(width - 8, y - 4, "end", label.chars().count(), 10);
    let _ = writeln!(
        out,
        r##"<line x1="4" y1="{y}" x2="{}" y2="{y}" class="band {class}"/>"##,
        width - 4
    );
    let _ = writeln!(
        out,
        r##"<text x="{}" y="{}" class="bandtext {class}" text-anchor="end">{}</text>"##,
        width - 8,
        y - 4,
        esc(label)
    );
}

const STYLE: &str = r##"<defs><marker id="head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker></defs>
<style>
.title { font-size: 13px; font-weight: bold; fill: #222; }
.head { fill: #fff; font-weight: bold; text-anchor: middle; font-size: 12px; }
.life { stroke-width: 2; opacity: 0.55; }
.down { stroke: #fff; stroke-width: 4; stroke-dasharray: 4 4; }
.off { stroke: #bbb; stroke-width: 1.5; stroke-dasharray: 2 5; }
.offlabel { fill: #999; font-style: italic; font-size: 10px; }
.time { fill: #888; text-anchor: end; font-size: 10px; }
.msg { stroke: #444; stroke-width: 1.2; }
.dead { stroke-dasharray: 5 3; stroke: #c0392b; }
.lost { stroke: #c0392b; stroke-width: 1.2; stroke-dasharray: 5 3; }
.label { fill: #222; font-size: 10px; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.lostlabel { fill: #c0392b; }
.dup { fill: #b07800; font-weight: bold; }
.cross { stroke: #c0392b; stroke-width: 2.5; }
.crash { fill: #c0392b; font-weight: bold; }
.restart { fill: #fff; stroke: #2f8f2f; stroke-width: 2.5; }
.restartlabel { fill: #2f8f2f; font-weight: bold; }
.timer { fill: #fff; stroke: #777; stroke-width: 1.5; }
.timerlabel { fill: #777; }
.status { fill: #fff; stroke-width: 1.5; }
.statustext { text-anchor: middle; font-weight: bold; font-size: 11px; }
.note { fill: #b07800; font-style: italic; }
.band { stroke-width: 1; stroke-dasharray: 8 4; }
.bandtext { font-size: 10px; }
.partition { stroke: #9b3fa8; fill: #9b3fa8; }
.heal { stroke: #2f8f2f; fill: #2f8f2f; }
.net { stroke: #999; fill: #777; }
.violation { fill: #c0392b; }
.violationtext { fill: #fff; font-weight: bold; }
</style>
"##;

#[cfg(test)]
mod tests {
    use super::*;

    type E = Entry<String, String, String>;

    fn at(at: u64, event: Event<String, String, String>) -> E {
        Entry { at, event }
    }

    fn send(at_ms: u64, from: NodeId, to: NodeId, id: u64, msg: &str) -> [E; 2] {
        let msg = msg.to_string();
        [
            at(at_ms, Event::Send { from, to, id, msg: msg.clone() }),
            at(at_ms + 1, Event::Deliver { from, to, id, sent_at: at_ms, msg }),
        ]
    }

    /// Every text box of a rendered picture's labels (arrow labels, lost messages, notes),
    /// measured as the renderer measures them.
    fn label_boxes(svg: &str) -> Vec<(i64, i64, i64, i64)> {
        svg.lines()
            .filter(|l| {
                ["label", "lostlabel", "note", "dup"]
                    .iter()
                    .any(|c| l.contains(&format!(r#"class="{c}""#)))
            })
            .filter(|l| l.starts_with("<text"))
            .map(|l| {
                let attr = |name: &str| {
                    let from = l.find(&format!(r#" {name}=""#)).expect(name) + name.len() + 3;
                    let len = l[from..].find('"').expect("a closing quote");
                    l[from..from + len].to_string()
                };
                let text = &l[l.find('>').unwrap() + 1..l.rfind("</text>").unwrap()];
                let anchor =
                    if l.contains("text-anchor") { attr("text-anchor") } else { "start".into() };
                let px = if l.contains(r#"class="label""#) { 10 } else { 11 };
                let (x, y) = (attr("x").parse().unwrap(), attr("y").parse().unwrap());
                Taken::text_box(x, y, &anchor, text.chars().count(), px)
            })
            .collect()
    }

    #[test]
    fn an_arrow_label_moves_off_a_note_it_would_cover() {
        // n1 → n3 crosses the gap next to n3 (its label's first spot) just where n2's long note,
        // written in between, runs.
        let [sent, delivered] = send(0, 1, 3, 1, "a message from n1 to n3");
        let note = "a long note of n2 that runs into the next gap";
        let trace: Vec<E> =
            vec![sent, at(0, Event::Note { node: 2, note: note.into() }), delivered];
        let boxes = label_boxes(&render("t", &[1, 2, 3], &trace));
        assert_eq!(boxes.len(), 2);
        let (a, b) = (boxes[0], boxes[1]);
        let apart = a.2 <= b.0 || b.2 <= a.0 || a.3 <= b.1 || b.3 <= a.1;
        assert!(apart, "{a:?} and {b:?} overlap");
    }

    #[test]
    fn a_server_not_started_yet_is_drawn_dotted_until_its_first_status() {
        let trace: Vec<E> = vec![
            at(0, Event::Status { node: 1, status: "LOOKING".into() }),
            at(500, Event::Status { node: 2, status: "LOOKING".into() }),
        ];
        let options = Options { late_start: true, max_rows: None };
        let svg = render_parts("t", &[1, 2, 3], &trace, &options).remove(0);
        // n1 starts at once; n2 is "not started" until its row; n3 never starts.
        assert_eq!(svg.matches("not started").count(), 2, "{svg}");
        assert_eq!(svg.matches(r#"class="off""#).count(), 2);
        let plain = render("t", &[1, 2, 3], &trace);
        assert!(!plain.contains("not started"), "only with late_start");
    }

    #[test]
    fn a_long_run_is_cut_at_its_faults_and_a_short_one_is_not() {
        let mut trace: Vec<E> = Vec::new();
        for i in 0..30 {
            trace.extend(send(10 * i, 1, 2, i, "ping"));
        }
        trace.push(at(300, Event::Crash { node: 2 }));
        for i in 30..60 {
            trace.extend(send(10 * i + 5, 1, 3, i, "ping"));
        }
        let rows = layout_rows(&trace).iter().filter(|r| **r == Some(true)).count();
        assert_eq!(phases(&trace, Some(rows)).len(), 1, "short enough: one picture");
        let parts = phases(&trace, Some(60));
        assert_eq!(parts.len(), 2);
        assert!(matches!(trace[parts[1].start].event, Event::Crash { node: 2 }));
        let options = Options { late_start: false, max_rows: Some(60) };
        let svgs = render_parts("t", &[1, 2, 3], &trace, &options);
        assert!(svgs[1].contains("t, part 2 of 2, from 300ms"), "{}", svgs[1]);
    }

    #[test]
    fn a_fault_free_run_is_cut_at_a_new_instant_once_a_part_is_full() {
        let mut trace: Vec<E> = Vec::new();
        // 50 messages, each sent on one row and delivered on the next: 100 rows.
        for i in 0..50 {
            trace.extend(send(10 * i, 1, 2, i, "ping"));
        }
        let parts = phases(&trace, Some(60));
        assert_eq!(parts.len(), 2, "{parts:?}");
        let cut = parts[1].start;
        assert_ne!(trace[cut - 1].at, trace[cut].at, "never inside one instant");
    }
}
