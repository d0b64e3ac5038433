//! How a run is shown: a header saying what to watch for, the story one
//! event per line, and at the end what `zkServer.sh status` prints on each
//! server. Plain text is what the snapshots (and the book) hold; the
//! coloured form has the same characters.

use crate::peer::Note as ElectionNote;
use crate::sim::{ElectionEntry, Run, Server, Setup, SimTimer, Story};
use crate::standin::{Message, Note};
use crate::vote::{ServerState, Vote};
use ch04_paxos::sim::render::{colored_line, node_color, Filter};
use ch04_paxos::sim::stepper::Lesson;
use ch04_paxos::sim::svg::{self, Options};
use ch04_paxos::sim::{Entry, Event, Millis, Sim};
use colored::Colorize;
use std::collections::BTreeSet;
use std::ops::Range;

/// What the story shows: deliveries, drops, notes, state changes and fired
/// timers; not the sends (each delivery names its sender) nor every timer
/// re-arm.
pub const FILTER: Filter = Filter {
    sends: false,
    timer_sets: false,
};

/// The first line: which scenario, which seed, what to watch for.
pub fn header(setup: &Setup, seed: u64) -> String {
    format!(
        "scenario {} (seed {seed}): {}",
        setup.name.as_str(),
        setup.about
    )
}

/// The header, bold on a terminal.
fn header_line(setup: &Setup, seed: u64, color: bool) -> String {
    let h = header(setup, seed);
    if color {
        h.bold().to_string()
    } else {
        h
    }
}

/// One story line, plain or coloured.
pub fn line(e: &ElectionEntry, color: bool) -> Option<String> {
    if !FILTER.shows(&e.event) {
        return None;
    }
    Some(match &e.event {
        _ if !color => e.to_string(),
        Event::Note { node, note } => {
            // Same characters as the plain line; the turning points stand out.
            let plain = note.to_string();
            let text = match note {
                Note::LeaderLost { .. } | Note::LostQuorum { .. } => plain.red().bold(),
                Note::Election(n) => match n {
                    ElectionNote::Decided {
                        state: ServerState::Leading,
                        ..
                    } => plain.green().bold(),
                    ElectionNote::Decided { .. } => plain.cyan().bold(),
                    ElectionNote::Quorum { .. } => plain.yellow().bold(),
                    ElectionNote::Switch { .. }
                    | ElectionNote::NewRound { .. }
                    | ElectionNote::Reopen { .. } => plain.yellow(),
                    ElectionNote::Started { .. } => plain.bold(),
                    ElectionNote::Looking { .. } | ElectionNote::Backoff { .. } => plain.normal(),
                },
            };
            let name = format!("n{node}").color(node_color(*node)).bold();
            format!("{}  {name} • {text}", format!("{:>6}ms", e.at).dimmed())
        }
        _ => colored_line(e),
    })
}

/// The closing block: `zkServer.sh status` on every server, and a note when the run ended
/// at its deadline before every server had decided.
pub fn status(run: &Run, color: bool) -> String {
    let mut out = statuses(run, color);
    if !run.settled {
        out.push_str("(the deadline passed before every server decided)\n");
    }
    out
}

/// `zkServer.sh status` on every server, as things stand.
pub fn statuses(run: &Run, color: bool) -> String {
    let title = "zkServer.sh status, on each server:";
    let mut out = if color {
        title.bold().to_string()
    } else {
        title.to_string()
    };
    out.push('\n');
    for (sid, line) in &run.status {
        let line = match line.as_str() {
            _ if !color => line.clone(),
            "Mode: leader" => line.green().bold().to_string(),
            l if l.starts_with("Mode:") => line.cyan().to_string(),
            _ => line.red().to_string(),
        };
        out.push_str(&format!("  n{sid}  {line}\n"));
    }
    out
}

/// Chapter 5's side of `--step`: the run of a scenario, told as `--trace` tells it.
pub struct Stepped<'a> {
    setup: &'a Setup,
    seed: u64,
    color: bool,
    story: Story,
}

impl<'a> Stepped<'a> {
    /// Scenario `setup` with `seed`, told in colour or not.
    pub fn new(setup: &'a Setup, seed: u64, color: bool) -> Self {
        Stepped {
            setup,
            seed,
            color,
            story: Story::default(),
        }
    }
}

impl Lesson<Server> for Stepped<'_> {
    fn sim(&self) -> Sim<Server> {
        self.setup.sim(self.seed)
    }
    fn header(&self) -> String {
        header_line(self.setup, self.seed, self.color)
    }
    fn tell(&mut self, entry: &ElectionEntry) -> Option<String> {
        let entry = self.story.show(entry)?;
        line(&entry, self.color)
    }
    fn restart(&mut self) {
        self.story = Story::default();
    }
    fn shows(&self, entry: &ElectionEntry) -> bool {
        let told = self.story.clone().show(entry);
        told.is_some_and(|e| FILTER.shows(&e.event))
    }
    fn is_over(&self, sim: &Sim<Server>) -> bool {
        self.setup.settled(sim) || sim.now() > self.setup.deadline_ms
    }
}

/// The whole transcript of a run: header, story, statuses.
pub fn transcript(setup: &Setup, seed: u64, run: &Run, color: bool) -> String {
    let mut out = header_line(setup, seed, color);
    out.push_str("\n\n");
    for l in run.story.iter().filter_map(|e| line(e, color)) {
        out.push_str(&l);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&status(run, color));
    out
}

/// The short view the book shows above a long run, which it folds away: the header, the
/// turning points between two virtual times (what each server concluded and became, and the
/// faults; the votes on the wire are left out), and the statuses.
pub fn turning_points(setup: &Setup, seed: u64, run: &Run, window_ms: Range<Millis>) -> String {
    let mut out = header(setup, seed);
    out.push_str("\n\n");
    for e in run
        .story
        .iter()
        .filter(|e| e.event.is_turning_point() && window_ms.contains(&e.at))
    {
        out.push_str(&e.to_string());
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&status(run, false));
    out
}

/// A message as the diagram labels it: short enough to sit on an arrow.
struct Label(String);

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn short_msg(m: &Message) -> Label {
    Label(match m {
        Message::Notification(n) if n.state == ServerState::Looking => {
            format!("vote n{} r{}", n.vote.leader, n.election_epoch)
        }
        Message::Notification(n) => format!("{} n{}", n.state, n.vote.leader),
        Message::Ping { .. } => "ping".into(),
        Message::PingReply { .. } => "ping reply".into(),
    })
}

fn short_note(n: &Note) -> Label {
    Label(match n {
        Note::LeaderLost { leader } => format!("n{leader} silent"),
        Note::LostQuorum { .. } => "no quorum".into(),
        Note::Election(n) => match n {
            ElectionNote::Started { .. } => "started".into(),
            ElectionNote::Looking { vote, .. } if *vote == Vote::NOBODY => "votes nobody".into(),
            ElectionNote::Looking { vote, .. } => format!("votes n{}", vote.leader),
            ElectionNote::Switch { vote, why } => format!("→ n{} ({why})", vote.leader),
            ElectionNote::NewRound { round, vote } => {
                format!("round {round}, votes n{}", vote.leader)
            }
            ElectionNote::Quorum { vote, .. } => format!("quorum for n{}", vote.leader),
            ElectionNote::Reopen { vote } => format!("reopens for n{}", vote.leader),
            ElectionNote::Backoff { next_ms } => format!("re-sends, next {next_ms} ms"),
            ElectionNote::Decided {
                state: ServerState::Leading,
                ..
            } => "leads".into(),
            ElectionNote::Decided { leader, .. } => format!("n{leader} leads"),
        },
    })
}

/// The most rows one picture of the book holds; a longer run is cut at its faults.
pub const MAX_ROWS: usize = 110;

/// How the chapter draws a run: servers switched on later are drawn as not started until
/// they are.
fn options(max_rows: Option<usize>) -> Options {
    Options {
        late_start: true,
        max_rows,
    }
}

/// The sequence diagram of a run, with short labels, in one picture. Messages
/// to servers not started yet are left out: the text trace shows them.
pub fn diagram(title: &str, run: &Run) -> String {
    let entries = diagram_entries(run);
    svg::render_parts(title, &run.ids, &entries, &options(None)).remove(0)
}

/// The same diagram cut into one picture per phase when it is longer than
/// [`MAX_ROWS`] (what the book shows).
pub fn diagrams(title: &str, run: &Run) -> Vec<String> {
    let entries = diagram_entries(run);
    svg::render_parts(title, &run.ids, &entries, &options(Some(MAX_ROWS)))
}

fn diagram_entries(run: &Run) -> Vec<Entry<Label, SimTimer, Label>> {
    let mut started = BTreeSet::new();
    let mut entries: Vec<Entry<Label, SimTimer, Label>> = Vec::new();
    for e in &run.story {
        let event = match &e.event {
            Event::Note { node, note } => {
                if let Note::Election(ElectionNote::Started { .. }) = note {
                    started.insert(*node);
                }
                Event::Note {
                    node: *node,
                    note: short_note(note),
                }
            }
            Event::Drop { to, .. } | Event::Send { to, .. } if !started.contains(to) => continue,
            Event::Send { from, to, id, msg } => Event::Send {
                from: *from,
                to: *to,
                id: *id,
                msg: short_msg(msg),
            },
            Event::Deliver {
                from,
                to,
                id,
                sent_at,
                msg,
            } => Event::Deliver {
                from: *from,
                to: *to,
                id: *id,
                sent_at: *sent_at,
                msg: short_msg(msg),
            },
            Event::Drop {
                from,
                to,
                id,
                sent_at,
                reason,
                msg,
            } => Event::Drop {
                from: *from,
                to: *to,
                id: *id,
                sent_at: *sent_at,
                reason: *reason,
                msg: short_msg(msg),
            },
            Event::Duplicate {
                from,
                to,
                id,
                copy,
                msg,
            } => Event::Duplicate {
                from: *from,
                to: *to,
                id: *id,
                copy: *copy,
                msg: short_msg(msg),
            },
            Event::TimerSet {
                node,
                timer,
                after_ms,
            } => Event::TimerSet {
                node: *node,
                timer: *timer,
                after_ms: *after_ms,
            },
            Event::TimerCancelled { node, timer } => Event::TimerCancelled {
                node: *node,
                timer: *timer,
            },
            Event::TimerFired { node, timer } => Event::TimerFired {
                node: *node,
                timer: *timer,
            },
            Event::Crash { node } => Event::Crash { node: *node },
            Event::Restart { node } => Event::Restart { node: *node },
            Event::Partition { groups } => Event::Partition {
                groups: groups.clone(),
            },
            Event::Heal => Event::Heal,
            Event::Network { change } => Event::Network { change: *change },
            Event::Status { node, status } => Event::Status {
                node: *node,
                status: status.clone(),
            },
            Event::Violation { invariant, message } => Event::Violation {
                invariant: invariant.clone(),
                message: message.clone(),
            },
        };
        entries.push(Entry { at: e.at, event });
    }
    entries
}
