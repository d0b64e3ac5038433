//! Lab regions: the answer and the student's starting point, side by side in one source file.
//!
//! A region is four kinds of line, all of them ordinary `//` comments to the compiler and to
//! rustfmt, so the file builds and passes its tests exactly as the teacher wrote it:
//!
//! ```text
//! /// The quorum of `voters` servers.
//! pub fn quorum(voters: usize) -> usize {
//!     // LAB 9.1 ANSWER (lab start puts the //> lines here)
//!     //> todo!("lab 9.1: the smallest number of servers any two quorums share one of")
//!     voters / 2 + 1
//!     // LAB 9.1 END
//! }
//! ```
//!
//! - the opening line names the lab and says whose code sits between it and `END`: the
//!   teacher's `ANSWER`, or, once `keeper lab start` has run, the student's `YOUR CODE`
//!   (anything after that word is a note for the reader);
//! - the `//>` lines right below it are the skeleton: what the student starts from, written
//!   once, kept in the file so `keeper lab reset` can always put it back;
//! - then the live code, up to `// LAB 9.1 END`.
//!
//! [`Marked::start`] turns answers into skeletons (the student's edition); [`Marked::reset`]
//! does it whatever the region holds; the answers in [`Marked::regions`] are what the teacher's key prints.
//! Everything else in the file passes through byte for byte.

use std::fmt;

/// Whose code is between a region's markers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder {
    /// The teacher's answer: the repository as shipped, green under `cargo test`.
    Answer,
    /// The student's code, since `keeper lab start`.
    Student,
}

impl Holder {
    fn word(self) -> &'static str {
        match self {
            Holder::Answer => "ANSWER",
            Holder::Student => "YOUR CODE",
        }
    }

    fn note(self) -> &'static str {
        match self {
            Holder::Answer => "(lab start puts the //> lines here)",
            Holder::Student => "(lab reset puts the //> lines back)",
        }
    }
}

/// One marked region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    /// The lab it belongs to: `"5.1"`.
    pub lab: String,
    pub holder: Holder,
    /// 1-based line of the opening marker in the parsed text.
    pub line: usize,
    /// The opening marker's indentation, which the skeleton's lines take.
    pub indent: String,
    /// The opening line as it stands in the file.
    opener_line: String,
    /// The `//>` lines as they stand in the file.
    skeleton_lines: Vec<String>,
    /// The live lines between the skeleton and `END`.
    pub body: Vec<String>,
    end_line: String,
}

impl Region {
    /// The skeleton as live code, at the marker's indentation.
    pub fn skeleton(&self) -> Vec<String> {
        self.skeleton_lines
            .iter()
            .map(|line| {
                let text = line.trim_start().trim_start_matches("//>");
                let text = text.strip_prefix(' ').unwrap_or(text);
                if text.is_empty() {
                    String::new()
                } else {
                    format!("{}{text}", self.indent)
                }
            })
            .collect()
    }

    /// The 1-based lines of the whole region, markers included, in the parsed text.
    pub fn lines(&self) -> std::ops::RangeInclusive<usize> {
        self.line..=self.line + self.skeleton_lines.len() + self.body.len() + 1
    }

    /// Whether the live code is exactly the skeleton (a started lab nobody has touched yet).
    pub fn is_untouched(&self) -> bool {
        self.body == self.skeleton()
    }

    /// Hands the region to the student: the skeleton becomes the live code, and the opening
    /// line says whose code it is now.
    fn hand_to_student(&mut self) {
        if self.holder != Holder::Student {
            self.holder = Holder::Student;
            self.opener_line = format!(
                "{}// LAB {} {} {}",
                self.indent,
                self.lab,
                self.holder.word(),
                self.holder.note()
            );
        }
        self.body = self.skeleton();
    }
}

/// A line of a source file, or a region.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Line(String),
    Region(Region),
}

/// A source file cut into plain lines and lab regions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Marked {
    pieces: Vec<Piece>,
    ends_with_newline: bool,
}

/// A marker that does not follow the grammar, with the line it is on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarkerError {
    /// 1-based.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for MarkerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for MarkerError {}

/// What a `// LAB ...` line says.
enum Marker<'a> {
    Open { lab: &'a str, holder: Holder },
    End { lab: &'a str },
}

/// Reads a marker line; `Ok(None)` for a line that is not one. A line that starts like a
/// marker but says something else is an error, so a typo cannot hide an answer.
fn marker(line: &str) -> Result<Option<Marker<'_>>, String> {
    let Some(rest) = line.trim().strip_prefix("// LAB ") else {
        return Ok(None);
    };
    let (lab, what) = rest.split_once(' ').unwrap_or((rest, ""));
    let is_id = lab.split_once('.').is_some_and(|(a, b)| {
        !a.is_empty()
            && !b.is_empty()
            && a.chars().all(|c| c.is_ascii_digit())
            && b.chars().all(|c| c.is_ascii_digit())
    });
    if !is_id {
        return Err(format!(
            "`// LAB` must be followed by a lab number like 5.1, not `{lab}`"
        ));
    }
    let what = what.trim_start();
    if what.starts_with("ANSWER") {
        Ok(Some(Marker::Open {
            lab,
            holder: Holder::Answer,
        }))
    } else if what.starts_with("YOUR CODE") {
        Ok(Some(Marker::Open {
            lab,
            holder: Holder::Student,
        }))
    } else if what == "END" {
        Ok(Some(Marker::End { lab }))
    } else {
        Err(format!(
            "lab {lab}: a marker says ANSWER, YOUR CODE or END, not `{what}`"
        ))
    }
}

fn is_skeleton_line(line: &str) -> bool {
    line.trim_start().starts_with("//>")
}

impl Marked {
    /// Cuts `text` into lines and regions, checking the grammar.
    pub fn parse(text: &str) -> Result<Marked, MarkerError> {
        let lines: Vec<&str> = text.lines().collect();
        let mut pieces = Vec::new();
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i];
            let err = |line: usize, message: String| MarkerError { line, message };
            match marker(line).map_err(|m| err(i + 1, m))? {
                None if is_skeleton_line(line) => {
                    return Err(err(
                        i + 1,
                        "a `//>` skeleton line outside a region: it belongs right below a `// LAB N.M ANSWER` line".into(),
                    ));
                }
                None => {
                    pieces.push(Piece::Line(line.to_string()));
                    i += 1;
                }
                Some(Marker::End { lab }) => {
                    return Err(err(
                        i + 1,
                        format!("`// LAB {lab} END` without its opening line"),
                    ));
                }
                Some(Marker::Open { lab, holder }) => {
                    let open = i;
                    let indent = line[..line.len() - line.trim_start().len()].to_string();
                    i += 1;
                    let mut skeleton_lines = Vec::new();
                    while i < lines.len() && is_skeleton_line(lines[i]) {
                        skeleton_lines.push(lines[i].to_string());
                        i += 1;
                    }
                    if skeleton_lines.is_empty() {
                        return Err(err(
                            open + 1,
                            format!("lab {lab}: the region has no `//>` lines: what does the student start from?"),
                        ));
                    }
                    let mut body = Vec::new();
                    loop {
                        let Some(next) = lines.get(i) else {
                            return Err(err(
                                open + 1,
                                format!("lab {lab}: no `// LAB {lab} END` below"),
                            ));
                        };
                        match marker(next).map_err(|m| err(i + 1, m))? {
                            Some(Marker::End { lab: end }) if end == lab => break,
                            Some(_) => {
                                return Err(err(
                                    i + 1,
                                    format!("lab {lab}'s region (line {}) is still open: regions do not nest", open + 1),
                                ))
                            }
                            None if is_skeleton_line(next) => {
                                return Err(err(i + 1, format!("lab {lab}: `//>` lines go right below the opening line")));
                            }
                            None => body.push(next.to_string()),
                        }
                        i += 1;
                    }
                    pieces.push(Piece::Region(Region {
                        lab: lab.to_string(),
                        holder,
                        line: open + 1,
                        indent,
                        opener_line: line.to_string(),
                        skeleton_lines,
                        body,
                        end_line: lines[i].to_string(),
                    }));
                    i += 1;
                }
            }
        }
        Ok(Marked {
            pieces,
            ends_with_newline: text.ends_with('\n'),
        })
    }

    /// The regions, in file order.
    pub fn regions(&self) -> impl Iterator<Item = &Region> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Region(r) => Some(r),
            Piece::Line(_) => None,
        })
    }

    fn regions_mut<'a>(&'a mut self, lab: &'a str) -> impl Iterator<Item = &'a mut Region> {
        self.pieces.iter_mut().filter_map(move |p| match p {
            Piece::Region(r) if r.lab == lab => Some(r),
            _ => None,
        })
    }

    /// The student's edition of lab `lab`: each answer becomes its skeleton; a region already
    /// holding the student's code is left alone. Returns how many regions changed.
    pub fn start(&mut self, lab: &str) -> usize {
        let mut changed = 0;
        for region in self.regions_mut(lab) {
            if region.holder == Holder::Answer {
                region.hand_to_student();
                changed += 1;
            }
        }
        changed
    }

    /// Every region of `lab` back to its skeleton, whatever it holds. Returns how many
    /// regions changed.
    pub fn reset(&mut self, lab: &str) -> usize {
        let mut changed = 0;
        for region in self.regions_mut(lab) {
            let before = region.clone();
            region.hand_to_student();
            if *region != before {
                changed += 1;
            }
        }
        changed
    }

    /// The text again: byte for byte what was parsed, but for the regions changed since.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        for piece in &self.pieces {
            match piece {
                Piece::Line(line) => out.push(line.clone()),
                Piece::Region(r) => {
                    out.push(r.opener_line.clone());
                    out.extend(r.skeleton_lines.iter().cloned());
                    out.extend(r.body.iter().cloned());
                    out.push(r.end_line.clone());
                }
            }
        }
        let mut text = out.join("\n");
        if self.ends_with_newline {
            text.push('\n');
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "\
fn order() -> u8 {
    // LAB 5.1 ANSWER (lab start puts the //> lines here)
    //> // Make the lower sid win.
    //> todo!(\"lab 5.1\")
    let x = 2;
    x + 1
    // LAB 5.1 END
}

fn other() {
    // LAB 5.2 ANSWER
    //> todo!()
    println!(\"hi\");
    // LAB 5.2 END
}
";

    #[test]
    fn an_untouched_file_renders_byte_for_byte() {
        let marked = Marked::parse(SOURCE).unwrap();
        assert_eq!(marked.render(), SOURCE);
        assert_eq!(marked.regions().count(), 2);
    }

    #[test]
    fn start_swaps_one_labs_answers_for_its_skeleton_and_keeps_the_markers() {
        let mut marked = Marked::parse(SOURCE).unwrap();
        assert_eq!(marked.start("5.1"), 1);
        let text = marked.render();
        assert!(text.contains(
            "    // LAB 5.1 YOUR CODE (lab reset puts the //> lines back)\n    //> // Make the lower sid win.\n    //> todo!(\"lab 5.1\")\n    // Make the lower sid win.\n    todo!(\"lab 5.1\")\n    // LAB 5.1 END\n"
        ), "{text}");
        assert!(!text.contains("x + 1"));
        assert!(text.contains("println!(\"hi\")"), "lab 5.2 is untouched");
        // Starting again changes nothing: the student's work is safe.
        let mut again = Marked::parse(&text).unwrap();
        assert_eq!(again.start("5.1"), 0);
        assert_eq!(again.render(), text);
    }

    #[test]
    fn reset_puts_the_skeleton_back_over_the_students_work() {
        let mut marked = Marked::parse(SOURCE).unwrap();
        marked.start("5.1");
        let worked = marked
            .render()
            .replace("    todo!(\"lab 5.1\")\n    // LAB", "    3\n    // LAB");
        let mut marked = Marked::parse(&worked).unwrap();
        let region = marked.regions().next().unwrap();
        assert_eq!(region.holder, Holder::Student);
        assert!(!region.is_untouched());
        assert_eq!(marked.reset("5.1"), 1);
        assert!(marked.regions().next().unwrap().is_untouched());
    }

    #[test]
    fn a_bare_skeleton_line_is_an_empty_line() {
        let text = "  // LAB 1.1 ANSWER\n  //> a\n  //>\n  //>     b\n  x\n  // LAB 1.1 END\n";
        let marked = Marked::parse(text).unwrap();
        let region = marked.regions().next().unwrap();
        assert_eq!(region.skeleton(), vec!["  a", "", "      b"]);
        assert_eq!(region.body, vec!["  x"]);
        assert_eq!(region.line, 1);
        assert_eq!(region.lines(), 1..=6);
    }

    #[test]
    fn broken_markers_are_errors_with_their_line() {
        let cases = [
            (
                "// LAB 5.1 ANSWER\nx\n// LAB 5.1 END\n",
                1,
                "no `//>` lines",
            ),
            ("// LAB 5.1 ANSWER\n//> a\nx\n", 1, "no `// LAB 5.1 END`"),
            ("// LAB 5.1 END\n", 1, "without its opening"),
            ("// LAB five ANSWER\n", 1, "lab number"),
            ("// LAB 5.1 ANSWR\n", 1, "ANSWER, YOUR CODE or END"),
            ("//> a\n", 1, "outside a region"),
            (
                "// LAB 5.1 ANSWER\n//> a\n// LAB 5.2 ANSWER\n",
                3,
                "do not nest",
            ),
            (
                "// LAB 5.1 ANSWER\n//> a\nx\n//> b\n// LAB 5.1 END\n",
                4,
                "right below",
            ),
            (
                "// LAB 5.1 ANSWER\n//> a\n// LAB 5.2 END\n",
                3,
                "do not nest",
            ),
        ];
        for (text, line, says) in cases {
            let e = Marked::parse(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.message.contains(says), "{text:?}: {e}");
        }
    }

    #[test]
    fn a_file_without_regions_passes_through() {
        let text = "no markers here\n// LABEL is not a marker\n";
        assert_eq!(Marked::parse(text).unwrap().render(), text);
    }
}
