//! The sequence diagram: a trace drawn as one lifeline per node, time flowing down.
//!
//! Arrows are messages (from the row they were sent to the row they arrived), a red ✗ is a lost
//! message or a crash, a boxed word on a lifeline is the node's new status, amber text is a note,
//! dashed lines across the page are partitions and heals. Rows follow the trace's order, not a
//! fixed time scale: a quiet 100ms costs no more paper than a busy millisecond, and the left
//! margin prints the virtual time wherever it moved on.
//!
//! The output is a pure function of the trace (integer coordinates, no clock, no randomness), so
//! the diagrams committed in the book are checked by re-rendering them in a test.

use std::collections::HashMap;
use std::fmt::{Display, Write};

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

/// Render `trace` of the nodes `ids` (left to right) as a standalone SVG document titled `title`.
pub fn render<M: Display, T: Display, N: Display>(
    title: &str,
    ids: &[NodeId],
    trace: &[Entry<M, T, N>],
) -> String {
    let x = |id: NodeId| -> i64 {
        let col = ids.iter().position(|n| *n == id).unwrap_or(0) as i64;
        LEFT + COL_W / 2 + col * COL_W
    };
    // Room on the right for the last node's notes.
    let width = LEFT + COL_W * ids.len() as i64 + 120;

    // Pass 1: give every drawn event a row. A send shares the row of the event that caused it
    // (same node, same time), so a fan-out starts from one point.
    let mut ys: Vec<Option<i64>> = Vec::with_capacity(trace.len());
    let mut y = TOP + ROW_H;
    let mut last: Option<(u64, Option<NodeId>)> = None;
    let (mut prev_was_status, mut last_status_at) = (false, None);
    for e in trace {
        let row = match &e.event {
            Event::TimerSet { .. } | Event::TimerCancelled { .. } => None,
            ev @ (Event::Send { .. } | Event::Duplicate { .. } | Event::Drop { .. })
                if last.is_some_and(|(t, a)| t == e.at && a.is_some() && a == actor(ev)) =>
            {
                Some(y)
            }
            // Status changes of several nodes at one instant share a row (e.g. at start-up).
            Event::Status { .. } if last_status_at == Some(e.at) && prev_was_status => Some(y),
            ev => {
                y += ROW_H;
                last = Some((e.at, actor(ev)));
                Some(y)
            }
        };
        if row.is_some() {
            prev_was_status = matches!(e.event, Event::Status { .. });
            last_status_at = prev_was_status.then_some(e.at);
        }
        ys.push(row);
    }
    let height = y + 2 * ROW_H;

    let mut body = String::new();
    let mut send_y: HashMap<u64, i64> = HashMap::new();
    // Lifeline segments: from y, is the node down?
    let mut down_since: HashMap<NodeId, i64> = HashMap::new();
    let mut down_segments: Vec<(NodeId, i64, i64)> = Vec::new();
    let mut last_time_label: Option<u64> = None;

    for (e, row) in trace.iter().zip(&ys) {
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
                let _ = writeln!(
                    body,
                    r##"<text x="{}" y="{}" class="dup">×2</text>"##,
                    x(*from) + 6,
                    sy - 4
                );
            }
            Event::Deliver { from, to, id, msg, .. } => {
                let sy = send_y.get(id).copied().unwrap_or(y);
                arrow(&mut body, x(*from), sy, x(*to), y, &msg.to_string(), false);
            }
            Event::Drop { from, to, id, msg, reason, .. } => {
                let sy = send_y.get(id).copied().unwrap_or(y);
                let (x1, x2) = (x(*from), x(*to));
                if *reason == super::DropReason::Down {
                    arrow(&mut body, x1, sy, x2, y, &msg.to_string(), true);
                    cross(&mut body, x2, y);
                } else if x1 == x2 {
                    cross(&mut body, x1 + 20, y);
                } else {
                    // Lost on the way: a dashed stub that stops halfway, then a cross.
                    let xm = x1 + (x2 - x1) * 45 / 100;
                    let ym = y + ROW_H / 2;
                    let _ = writeln!(
                        body,
                        r##"<line x1="{x1}" y1="{y}" x2="{xm}" y2="{ym}" class="lost"/>"##
                    );
                    cross(&mut body, xm, ym);
                    let (anchor, tx) = if x2 > x1 { ("start", xm + 8) } else { ("end", xm - 8) };
                    let _ = writeln!(
                        body,
                        r##"<text x="{tx}" y="{}" class="lostlabel" text-anchor="{anchor}">{} ({reason})</text>"##,
                        ym + 4,
                        esc(&msg.to_string())
                    );
                }
            }
            Event::TimerFired { node, timer } => {
                let cx = x(*node);
                let _ = writeln!(body, r##"<circle cx="{cx}" cy="{y}" r="4" class="timer"/>"##);
                beside(&mut body, cx, y, "timerlabel", &format!("timer {timer}"));
            }
            Event::Status { node, status } => {
                let cx = x(*node);
                let w = 8 * status.chars().count() as i64 + 14;
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
                beside(&mut body, x(*node), y, "note", &format!("• {note}"));
            }
            Event::Crash { node } => {
                cross(&mut body, x(*node), y);
                beside(&mut body, x(*node) + 4, y, "crash", "crashed");
                down_since.insert(*node, y);
            }
            Event::Restart { node } => {
                if let Some(from) = down_since.remove(node) {
                    down_segments.push((*node, from, y));
                }
                let cx = x(*node);
                let _ = writeln!(body, r##"<circle cx="{cx}" cy="{y}" r="6" class="restart"/>"##);
                beside(&mut body, cx + 4, y, "restartlabel", "restarted");
            }
            Event::Partition { groups } => band(
                &mut body,
                width,
                y,
                "partition",
                &format!("partition {}", groups_text(groups)),
            ),
            Event::Heal => band(&mut body, width, y, "heal", "heal"),
            Event::Network { change } => {
                band(&mut body, width, y, "net", &format!("network {change}"))
            }
            Event::Violation { invariant, message } => {
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
        let _ = writeln!(
            svg,
            r##"<line x1="{cx}" y1="{}" x2="{cx}" y2="{}" stroke="{}" class="life"/>"##,
            TOP + 12,
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

fn arrow(out: &mut String, x1: i64, y1: i64, x2: i64, y2: i64, label: &str, dashed: bool) {
    let class = if dashed { "msg dead" } else { "msg" };
    if x1 == x2 {
        // A message to oneself: a small loop to the right, drawn where it arrives.
        let y0 = y2 - ROW_H / 2;
        let _ = writeln!(
            out,
            r##"<path d="M{x1},{y0} C{},{y0} {},{y2} {x2},{y2}" class="{class}" fill="none" marker-end="url(#head)"/>"##,
            x1 + 30,
            x1 + 30
        );
        let _ = writeln!(
            out,
            r##"<text x="{}" y="{}" class="label">{}</text>"##,
            x1 + 32,
            y0 + 2,
            esc(label)
        );
        return;
    }
    let _ = writeln!(
        out,
        r##"<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" class="{class}" marker-end="url(#head)"/>"##
    );
    // The label is centred on the arrow where it crosses the gap next to its receiver: arrows
    // to different nodes label different gaps, arrows to one node arrive at different rows, and
    // no label sits on a lifeline's status box.
    let tx = if x2 > x1 { x2 - COL_W / 2 } else { x2 + COL_W / 2 };
    let ty = y1 + (y2 - y1) * (tx - x1) / (x2 - x1) - 4;
    let _ = writeln!(
        out,
        r##"<text x="{tx}" y="{ty}" class="label" text-anchor="middle">{}</text>"##,
        esc(label)
    );
}

/// Text just right of a lifeline at row `y`.
fn beside(out: &mut String, cx: i64, y: i64, class: &str, text: &str) {
    let _ = writeln!(
        out,
        r##"<text x="{}" y="{}" class="{class}">{}</text>"##,
        cx + 8,
        y + 4,
        esc(text)
    );
}

fn cross(out: &mut String, cx: i64, cy: i64) {
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

fn band(out: &mut String, width: i64, y: i64, class: &str, label: &str) {
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
