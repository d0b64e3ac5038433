//! Three ways to show a run: plain lines (for pipes and snapshots), coloured lines (for a
//! terminal), and one JSON object per line (for tools). Colour is only ever added here, so the
//! plain text is exactly the events' `Display`.

use colored::Colorize;

use crate::trace::Event;

/// How `--trace` prints events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Plain,
    Color,
    Json,
}

/// One event as one line in `format`.
pub fn render(event: &Event, format: Format) -> String {
    let line = event.to_string();
    match format {
        Format::Plain => line,
        Format::Json => serde_json::to_string(event).expect("events serialize"),
        Format::Color => match event {
            Event::Command { .. } => line.bold().to_string(),
            Event::WatchAdded { .. } => line.cyan().to_string(),
            Event::WatchRemoved { .. } => line.yellow().to_string(),
            Event::Applied { .. } => line.blue().to_string(),
            Event::Delivered { .. } => line.green().bold().to_string(),
            Event::Connected { .. } | Event::Closed { .. } => line.dimmed().to_string(),
        },
    }
}
