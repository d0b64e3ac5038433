//! `--step`: you are the network. A run made by hand, one choice at a time.
//!
//! The idea to take away: a protocol that is safe must be safe *whatever the network does*,
//! and the network is whoever chooses which message arrives next. In a seeded run the seed
//! chooses; here the student does. After every choice the stepper lists what is pending,
//! numbered in the order the network would do it (so `1`, or just Enter, is "carry on"), and
//! the student picks: deliver message 4 before message 1, fire a timer while messages are
//! still in flight, lose a message, deliver one twice, crash a node, cut the network in two.
//! Every such choice is one [`Choice`], and the session is the list of them; stepping back
//! replays the seed with the list minus its last entry (nothing is undone in place: a run is
//! only ever replayed), and `save FILE` writes the list as a scenario file that
//! `--scenario-file FILE` replays, so a run found by hand becomes a test. The rules of each
//! choice (the clock, FIFO links) are the engine's: see [`Sim::choose`].
//!
//! A chapter takes part by describing its run as a [`Lesson`]: how to build the run from its
//! seed, and how to tell each trace entry (its story leaves out what would drown the reader:
//! pings, votes, power switches). The session itself is plain lines on stdin and stdout, so a
//! test drives it with a pipe and snapshots what it prints.
//!
//! The commands, as `help` prints them:
//!
//! ```text
#![doc = include_str!("stepper_help.txt")]
//! ```

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use colored::Colorize;

use super::engine::ChoiceError;
use super::scenario::{Choice, Scenario, UNKNOWN_CHOICE};
use super::{Entry, EntryOf, Millis, Process, Sim, UpcomingOf};

/// What `help` prints.
pub const HELP: &str = include_str!("stepper_help.txt");

/// How many pending items the list shows after each choice (`list` shows them all).
const LIST_SHOWN: usize = 12;

/// A chapter's side of the stepper: its run, and how to tell it.
pub trait Lesson<P: Process> {
    /// The run from its seed: the nodes, the network, the chapter's own faults, invariants.
    fn sim(&self) -> Sim<P>;
    /// What is printed first: which scenario, which seed, what to watch for.
    fn header(&self) -> String;
    /// One trace entry as the chapter tells it, or `None` to leave it out. Every entry comes
    /// once, in order, from the start of the run.
    fn tell(&mut self, entry: &EntryOf<P>) -> Option<String>;
    /// Forget what was told: the run is being replayed from its seed (a step back).
    fn restart(&mut self) {}
    /// Whether the pending list shows an item whose doing would record `entry`.
    fn shows(&self, _entry: &EntryOf<P>) -> bool {
        true
    }
    /// Whether the story is over (Enter then ends the session).
    fn is_over(&self, sim: &Sim<P>) -> bool;
}

/// A line typed at the prompt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Enter (or `next`): do what the network would do next, until something is told.
    Carry,
    /// A choice that changes the run.
    Choose(Choice),
    /// Do everything due up to this time, in order.
    Until(Millis),
    /// Take back this many choices.
    Back(usize),
    /// Show the whole pending list, hidden items too.
    List,
    /// Print the session as a scenario file.
    Steps,
    /// Write the session to a file.
    Save(PathBuf),
    /// Print the commands.
    Help,
    /// End the session.
    Quit,
}

impl Command {
    /// Parse a line typed at the prompt.
    pub fn parse(line: &str) -> Result<Command, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let count = |w: &str| {
            w.parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("`{w}` is not a count"))
        };
        Ok(match words.as_slice() {
            [] | ["n" | "next"] => Command::Carry,
            ["until" | "u", t] => Command::Until(
                t.trim_end_matches("ms")
                    .parse()
                    .map_err(|_| format!("`{t}` is not a time in ms"))?,
            ),
            ["back" | "b"] => Command::Back(1),
            ["back" | "b", n] => Command::Back(count(n)?),
            ["list" | "l" | "ls"] => Command::List,
            ["steps"] => Command::Steps,
            ["save", file] => Command::Save(PathBuf::from(file)),
            ["save"] => return Err("save where? `save FILE`".to_string()),
            ["help" | "h" | "?"] => Command::Help,
            ["q" | "quit" | "exit"] => Command::Quit,
            _ => Command::Choose(Choice::parse(line).map_err(|e| match e.as_str() {
                UNKNOWN_CHOICE => format!("`{}`: no such command", line.trim()),
                _ => e,
            })?),
        })
    }
}

/// A choice made, and what it did: its line in a saved file, and that line's comment.
#[derive(Clone, Debug)]
struct Made {
    choice: Choice,
    did: String,
}

/// A stepping session: the lesson, the choices made, the run they made.
pub struct Stepper<P: Process, L: Lesson<P>> {
    lesson: L,
    /// The timed faults of the file the session started from (saved with it).
    faults: Scenario<P::Msg, P::Timer>,
    made: Vec<Made>,
    sim: Sim<P>,
    /// How many trace entries the lesson has been told.
    told: usize,
    /// Lines told and not printed yet.
    unprinted: String,
}

impl<P: Process, L: Lesson<P>> Stepper<P, L> {
    /// A session of `lesson`, starting where `file` leaves it: its timed faults are queued and
    /// its steps made. Refused if the file names a node that does not exist or a step that
    /// cannot be made (a file saved with another scenario or seed, say).
    pub fn new(lesson: L, file: Scenario<P::Msg, P::Timer>) -> Result<Self, ChoiceError> {
        let mut faults = Scenario::new();
        for (at, action) in file.actions() {
            faults = faults.at(*at, action.clone());
        }
        let mut sim = lesson.sim();
        sim.try_schedule(faults.clone()).map_err(ChoiceError::Refused)?;
        let mut stepper =
            Stepper { lesson, faults, made: Vec::new(), sim, told: 0, unprinted: String::new() };
        for (i, choice) in file.steps().iter().enumerate() {
            match stepper.make(choice.clone()) {
                Err(ChoiceError::Refused(why)) => {
                    return Err(ChoiceError::Refused(format!("step {} `{choice}`: {why}", i + 1)))
                }
                // A saved run may end in a violation: the session starts there.
                Ok(()) | Err(ChoiceError::Violation(_)) => {}
            }
        }
        Ok(stepper)
    }

    /// The run as it stands.
    pub fn sim(&self) -> &Sim<P> {
        &self.sim
    }

    /// The run, once the session is over.
    pub fn into_sim(self) -> Sim<P> {
        self.sim
    }

    /// The choices made so far.
    pub fn choices(&self) -> Vec<Choice> {
        self.made.iter().map(|m| m.choice.clone()).collect()
    }

    /// Run the session: read commands from `input` until `q` or its end, write to `out`.
    /// `echo` repeats each command after the prompt, so a piped session reads as if typed.
    pub fn run(
        &mut self,
        input: impl BufRead,
        out: &mut impl Write,
        echo: bool,
    ) -> std::io::Result<()> {
        writeln!(out, "{}", self.lesson.header())?;
        writeln!(out, "You are the network: choose what happens next. Enter: what it would do; `help`: every command.")?;
        self.tell_new();
        let story = std::mem::take(&mut self.unprinted);
        if !story.is_empty() {
            let n = self.made.len();
            writeln!(
                out,
                "\n(replayed {n} choice{} from the file)",
                if n == 1 { "" } else { "s" }
            )?;
            write!(out, "{story}")?;
        }
        write!(out, "{}", self.list(false))?;
        let mut lines = input.lines();
        loop {
            write!(out, "> ")?;
            out.flush()?;
            let Some(line) = lines.next().transpose()? else {
                writeln!(out)?;
                return Ok(());
            };
            if echo {
                writeln!(out, "{}", line.trim_end())?;
            }
            let command = match Command::parse(&line) {
                Ok(c) => c,
                Err(e) => {
                    writeln!(out, "  ✗ {e} (`help` lists the commands)")?;
                    continue;
                }
            };
            match command {
                Command::Quit => return Ok(()),
                Command::Carry if self.is_over() => return Ok(()),
                Command::Help => write!(out, "{HELP}")?,
                Command::List => write!(out, "{}", self.list(true))?,
                Command::Steps => write!(out, "{}", self.script("FILE"))?,
                Command::Save(path) => {
                    let text = self.script(&path.display().to_string());
                    match std::fs::write(&path, text) {
                        Ok(()) => writeln!(
                            out,
                            "  saved {} choices to {}; replay them with --scenario-file {}",
                            self.made.len(),
                            path.display(),
                            path.display()
                        )?,
                        Err(e) => writeln!(out, "  ✗ cannot write {}: {e}", path.display())?,
                    }
                }
                Command::Back(n) => match self.back(n) {
                    Ok(context) => {
                        let choices = if n == 1 { "choice" } else { "choices" };
                        writeln!(
                            out,
                            "  ↶ took back {n} {choices}: the run, replayed from its seed, stands \
                             at {}ms after",
                            self.sim.now()
                        )?;
                        write!(out, "{context}")?;
                        write!(out, "{}", self.list(false))?;
                    }
                    Err(why) => writeln!(out, "  ✗ {why}")?,
                },
                Command::Carry => {
                    let result = self.carry(None);
                    self.report(result, out)?;
                }
                Command::Until(t) => {
                    let result = self.carry(Some(t));
                    self.report(result, out)?;
                }
                Command::Choose(choice) => {
                    let result = self.make(choice);
                    self.report(result, out)?;
                }
            }
        }
    }

    /// After a choice: what it made happen, then what is pending (or why nothing changed).
    fn report(
        &mut self,
        result: Result<(), ChoiceError>,
        out: &mut impl Write,
    ) -> std::io::Result<()> {
        self.tell_new();
        write!(out, "{}", std::mem::take(&mut self.unprinted))?;
        match result {
            Ok(()) => write!(out, "{}", self.list(false)),
            Err(ChoiceError::Refused(why)) => writeln!(out, "  ✗ {why}"),
            Err(ChoiceError::Violation(_)) => writeln!(
                out,
                "  ✗ an invariant broke: `back` takes the last choice back; `save FILE` keeps \
                 this run as a test"
            ),
        }
    }

    /// Make `choice` and, if it was made, remember it with what it did.
    fn make(&mut self, choice: Choice) -> Result<(), ChoiceError> {
        let list = self.sim.upcoming();
        let item = |k: &usize| list.get(k.wrapping_sub(1));
        // A bare number becomes the verb its item takes, so a saved file says what it did.
        let choice = match choice {
            Choice::Do(k) => match item(&k).map(|u| u.due.verb()) {
                Some("deliver") => Choice::Deliver(k),
                Some("fire") => Choice::Fire(k),
                _ => Choice::Do(k),
            },
            other => other,
        };
        let did = match &choice {
            Choice::Deliver(k) | Choice::Fire(k) | Choice::Do(k) => {
                item(k).map(|u| u.to_string().trim_start().to_string())
            }
            Choice::Drop(k) => item(k).map(|u| format!("lost: {}", u.due)),
            Choice::Duplicate(k) => item(k).map(|u| format!("copied: {}", u.due)),
            Choice::Next(_) => None,
            _ => Some(format!("at {}ms", self.sim.now())),
        };
        let result = self.sim.choose(&choice);
        if !matches!(result, Err(ChoiceError::Refused(_))) {
            let did = did.unwrap_or_else(|| format!("up to {}ms", self.sim.now()));
            self.made.push(Made { choice, did });
        }
        result
    }

    /// Do what the network would do next, one item at a time: with `until`, everything due by
    /// then; without, until something is told or the story is over. Remembered as one
    /// `next N`.
    fn carry(&mut self, until: Option<Millis>) -> Result<(), ChoiceError> {
        let mut done = 0;
        let result = loop {
            let next_at = self.sim.upcoming().first().map(|u| u.at);
            let due = match (next_at, until) {
                (None, _) => false,
                (Some(at), Some(t)) => at <= t,
                (Some(_), None) => !self.lesson.is_over(&self.sim),
            };
            if !due || (until.is_none() && !self.unprinted.is_empty()) {
                break Ok(());
            }
            let result = self.sim.choose(&Choice::Next(1));
            self.tell_new();
            match result {
                Ok(()) => done += 1,
                Err(ChoiceError::Violation(v)) => {
                    done += 1;
                    break Err(ChoiceError::Violation(v));
                }
                Err(refused) => break Err(refused),
            }
        };
        if done > 0 {
            let did = format!("up to {}ms", self.sim.now());
            self.made.push(Made { choice: Choice::Next(done), did });
        } else if result.is_ok() {
            return Err(ChoiceError::Refused(match until {
                Some(t) => format!("nothing is due by {t}ms"),
                None => "nothing is pending".to_string(),
            }));
        }
        result
    }

    /// Take back the last `n` choices: replay the run from its seed without them, and return
    /// the last few lines told, to show where the run stands.
    fn back(&mut self, n: usize) -> Result<String, String> {
        if n > self.made.len() {
            return Err(match self.made.len() {
                0 => "there is no choice to take back".to_string(),
                k => format!("there are only {k} choices to take back"),
            });
        }
        self.made.truncate(self.made.len() - n);
        let mut sim = self.lesson.sim();
        sim.try_schedule(self.faults.clone()).expect("scheduled once already");
        for m in &self.made {
            // The same choices on the same seed make the same run: none can be refused now.
            if let Err(ChoiceError::Refused(why)) = sim.choose(&m.choice) {
                panic!(
                    "replaying `{}` was refused ({why}): the run is not deterministic",
                    m.choice
                );
            }
        }
        self.sim = sim;
        self.lesson.restart();
        self.told = 0;
        self.tell_new();
        let story = std::mem::take(&mut self.unprinted);
        let last: Vec<&str> = story.lines().rev().take(3).collect();
        Ok(last.into_iter().rev().map(|l| format!("{l}\n")).collect())
    }

    /// Tell the lesson the trace entries it has not seen; keep the lines it tells to print.
    fn tell_new(&mut self) {
        for e in &self.sim.trace()[self.told..] {
            if let Some(line) = self.lesson.tell(e) {
                self.unprinted.push_str(&line);
                self.unprinted.push('\n');
            }
        }
        self.told = self.sim.trace().len();
    }

    fn is_over(&self) -> bool {
        self.sim.upcoming().is_empty() || self.lesson.is_over(&self.sim)
    }

    /// The pending list, numbered: the items the lesson shows (all of them with `everything`),
    /// at most [`LIST_SHOWN`] unless `everything`.
    fn list(&self, everything: bool) -> String {
        let pending = self.sim.upcoming();
        if pending.is_empty() {
            return "  nothing is pending: the run is over (Enter or q ends the session; back \
                    steps back)\n"
                .to_string();
        }
        let mut out = match self.lesson.is_over(&self.sim) {
            true => format!(
                "  the story is over at {}ms (Enter or q ends the session); still pending:\n",
                self.sim.now()
            ),
            false => format!("  pending at {}ms:\n", self.sim.now()),
        };
        let shown: Vec<(usize, &UpcomingOf<P>)> =
            pending.iter().enumerate().filter(|(_, u)| everything || self.lists(u)).collect();
        let limit = if everything { shown.len() } else { LIST_SHOWN };
        let now = self.sim.now();
        for (k, u) in shown.iter().take(limit) {
            // Due before now: something later was chosen first, so this one is late.
            let late = if u.at < now { "  (late)" } else { "" };
            out.push_str(&format!("  {:>4} {u}{late}\n", (k + 1).to_string().bold()));
        }
        let hidden = pending.len() - shown.len().min(limit);
        if hidden > 0 {
            out.push_str(&format!("       ({hidden} more not shown: `list` shows everything)\n"));
        }
        out
    }

    /// Whether the list shows `u`: when the lesson would tell what doing it records.
    fn lists(&self, u: &UpcomingOf<P>) -> bool {
        match u.due.event() {
            Some(event) => self.lesson.shows(&Entry { at: u.at, event }),
            None => true,
        }
    }

    /// The session as a scenario file (see [`crate::sim::scenario`]); `file` is the name the
    /// replay command on its first lines uses.
    pub fn script(&self, file: &str) -> String {
        self.script_about("A session of --step.", file)
    }

    /// [`Stepper::script`], opened by `about` instead (say, who found the run).
    pub fn script_about(&self, about: &str, file: &str) -> String {
        let mut out = format!(
            "# {about} Replay it (add --step to carry on from where it ends):\n\
             #   {} --scenario-file {file}\n",
            self.sim.command()
        );
        for (at, action) in self.faults.actions() {
            if let Some(line) = action.script() {
                out.push_str(&format!("at {at} {line}\n"));
            }
        }
        out.push_str("steps\n");
        let mut made = self.made.iter().peekable();
        while let Some(m) = made.next() {
            let (mut choice, mut did) = (m.choice.clone(), &m.did);
            // Consecutive `next`s read better as one.
            while let (Choice::Next(n), Some(Made { choice: Choice::Next(more), did: later })) =
                (&choice, made.peek())
            {
                choice = Choice::Next(n + more);
                did = later;
                made.next();
            }
            out.push_str(&format!("{:<24} # {did}\n", choice.to_string()));
        }
        out
    }
}

/// Run a session on this process's stdin and stdout. When stdin is not a terminal (a pipe, a
/// test), each command is echoed after its prompt, so the output reads like a session typed.
/// Returns the run as the session left it, for the chapter's closing lines.
pub fn on_terminal<P: Process, L: Lesson<P>>(
    lesson: L,
    file: Scenario<P::Msg, P::Timer>,
) -> Result<Sim<P>, String> {
    let mut stepper = Stepper::new(lesson, file).map_err(|e| e.to_string())?;
    let stdin = std::io::stdin();
    let echo = !stdin.is_terminal();
    let mut out = std::io::stdout().lock();
    // A closed stdout (a pager quit early) ends the session; the run is still returned.
    let _ = stepper.run(stdin.lock(), &mut out, echo);
    Ok(stepper.into_sim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enter_next_and_the_session_words_parse() {
        let cases = [
            ("", Command::Carry),
            ("   ", Command::Carry),
            ("next", Command::Carry),
            ("n", Command::Carry),
            ("next 3", Command::Choose(Choice::Next(3))),
            ("4", Command::Choose(Choice::Do(4))),
            ("deliver 4", Command::Choose(Choice::Deliver(4))),
            ("dup 2", Command::Choose(Choice::Duplicate(2))),
            ("partition n1 | n2 n3", Command::Choose(Choice::Partition(vec![vec![1], vec![2, 3]]))),
            ("until 250", Command::Until(250)),
            ("until 250ms", Command::Until(250)),
            ("back", Command::Back(1)),
            ("back 3", Command::Back(3)),
            ("list", Command::List),
            ("steps", Command::Steps),
            ("save run.txt", Command::Save(PathBuf::from("run.txt"))),
            ("help", Command::Help),
            ("?", Command::Help),
            ("q", Command::Quit),
        ];
        for (typed, command) in cases {
            assert_eq!(Command::parse(typed), Ok(command), "`{typed}`");
        }
    }

    #[test]
    fn a_line_that_is_no_command_says_so_and_a_bad_number_says_why() {
        assert_eq!(Command::parse("fly away"), Err("`fly away`: no such command".into()));
        assert_eq!(
            Command::parse("drop zero"),
            Err("`zero` is not an item number (1, 2, ...)".into())
        );
        assert_eq!(Command::parse("back 0"), Err("`0` is not a count".into()));
        assert_eq!(Command::parse("until soon"), Err("`soon` is not a time in ms".into()));
        assert_eq!(Command::parse("save"), Err("save where? `save FILE`".into()));
        assert!(Command::parse("save my file.txt").is_err(), "a file name is one word");
    }
}
