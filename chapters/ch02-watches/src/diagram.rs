//! The trace as a sequence diagram: one lifeline per client and one for the server, one row per
//! event. Commands are arrows to the server, events are green arrows back, and the server's
//! lifeline carries what happened to the registry (`+` a watch added, `−` a watch spent) and
//! each txn with its triggers. Drawn from the same events as the text trace, so the picture in
//! the book is the run the snapshot pins.

use std::fmt::{self, Write};

use crate::trace::{txn_summary, Event};

const ROW: i32 = 26;
const TOP: i32 = 60;
const COLUMN: i32 = 300;
const LEFT: i32 = 110;

/// The opening every sequence diagram of chapters 2 and 3 shares: the `<svg>` element, the
/// arrow head, the styles of titles, lifelines, messages, events and labels (plus the
/// diagram's own `style` rules), a white page and the title.
pub fn svg_open(
    width: impl fmt::Display,
    height: impl fmt::Display,
    title: &str,
    style: &str,
) -> String {
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="ui-monospace, Menlo, Consolas, monospace" font-size="11">
<defs><marker id="head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>
<style>
.title {{ font-size: 13px; font-weight: bold; fill: #222; }}
.head {{ font-weight: bold; text-anchor: middle; font-size: 12px; fill: #222; }}
.life {{ stroke: #999; stroke-width: 2; stroke-dasharray: 6 4; }}
.msg {{ stroke: #444; stroke-width: 1.2; }}
.event {{ stroke: #2f8f2f; stroke-width: 1.6; }}
.label {{ fill: #222; font-size: 10px; text-anchor: middle; paint-order: stroke; stroke: #fff; stroke-width: 3px; }}
{style}
</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="12" y="22" class="title">{}</text>
"##,
        escape(title)
    )
}

/// Text safe inside SVG (chapter 3's session-expiry drawing uses it too).
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The lifelines, left to right: the clients in the order they connected, then the server,
/// whose notes run off to the right where no lifeline crosses them.
fn lifelines(events: &[Event]) -> Vec<String> {
    let mut names: Vec<String> = events
        .iter()
        .filter_map(|event| match event {
            Event::Connected { client, .. } => Some(client.clone()),
            _ => None,
        })
        .collect();
    names.push("server".to_string());
    names
}

/// Renders `events` as an SVG sequence diagram titled `title`.
pub fn svg(title: &str, events: &[Event]) -> String {
    let names = lifelines(events);
    let x = |name: &str| {
        let i = names
            .iter()
            .position(|n| n == name)
            .unwrap_or(names.len() - 1);
        LEFT + COLUMN * i as i32
    };
    let mut widest_note = 0;
    let server = x("server");
    let mut rows = String::new();
    let mut y = TOP + 20;
    for event in events {
        match event {
            Event::Command { client, line } if !is_local(line) => {
                let (from, to) = (x(client), server);
                arrow(&mut rows, from, to, y, &escape(line), "msg");
            }
            Event::Delivered {
                client,
                event,
                local: false,
            } => {
                let label = format!(
                    "{} {}",
                    event.event_type,
                    event.path.as_deref().unwrap_or("")
                );
                arrow(&mut rows, server, x(client), y, &escape(&label), "event");
            }
            Event::Delivered { client, event, .. } => note(
                &mut rows,
                x(client),
                y,
                &escape(&event.event_type.to_string()),
                "local",
            ),
            Event::Applied {
                zxid,
                op,
                triggers,
                told,
            } => {
                let text = format!("{zxid} {}", txn_summary(op, triggers, *told));
                widest_note = widest_note.max(text.chars().count());
                note(&mut rows, server, y, &escape(&text), "txn");
            }
            Event::WatchAdded { client, watch } => {
                let text = format!("+ {} {} ({client})", watch.kind, watch.path);
                widest_note = widest_note.max(text.chars().count());
                note(&mut rows, server, y, &escape(&text), "added");
            }
            Event::WatchRemoved {
                client,
                watch,
                cause,
            } => {
                let text = format!("− {} {} ({client}, {cause})", watch.kind, watch.path);
                widest_note = widest_note.max(text.chars().count());
                note(&mut rows, server, y, &escape(&text), "removed");
            }
            // Connections, closes and the shell's own commands draw no row.
            _ => continue,
        }
        y += ROW;
    }
    // About 6.6 px per character of the 11 px monospace font, plus a margin.
    let width = LEFT + COLUMN * (names.len() as i32 - 1) + 30 + widest_note as i32 * 7;
    let height = y + 20;
    let mut svg = svg_open(
        width,
        height,
        title,
        ".txn { fill: #2c5aa0; }
.added { fill: #0e7c86; }
.removed { fill: #b07800; }
.local { fill: #2f8f2f; font-style: italic; }",
    );
    for name in &names {
        let cx = x(name);
        let _ = writeln!(
            svg,
            r#"<line x1="{cx}" y1="{TOP}" x2="{cx}" y2="{}" class="life"/><text x="{cx}" y="{}" class="head">{}</text>"#,
            height - 10,
            TOP - 8,
            escape(name)
        );
    }
    svg.push_str(&rows);
    svg.push_str("</svg>\n");
    svg
}

/// `use` and `connect` change who is typing; nothing goes to the server.
fn is_local(line: &str) -> bool {
    let word = line.split_whitespace().next().unwrap_or("");
    matches!(word, "use" | "connect" | "printwatches")
}

fn arrow(out: &mut String, from: i32, to: i32, y: i32, label: &str, class: &str) {
    let _ = writeln!(
        out,
        r#"<line x1="{from}" y1="{y}" x2="{to}" y2="{y}" class="{class}" marker-end="url(#head)"/><text x="{}" y="{}" class="label">{label}</text>"#,
        (from + to) / 2,
        y - 5
    );
}

fn note(out: &mut String, x: i32, y: i32, text: &str, class: &str) {
    let _ = writeln!(
        out,
        r#"<circle cx="{x}" cy="{y}" r="3.5" class="{class}"/><text x="{}" y="{}" class="{class}">{text}</text>"#,
        x + 9,
        y + 4
    );
}
