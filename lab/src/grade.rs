//! Grading: run a lab's checks with cargo and read what each one said.
//!
//! A lab's checks are test functions of one file under a package's `tests/`, all named
//! `lab_N_M_*`; the file is a module of the package's one test binary, `all`, so one
//! `cargo test -p <crate> --test all <file>::lab_N_M_` runs exactly them. We read libtest's
//! plain output (`test <name> ... ok` / `FAILED`, then a `---- <name> stdout ----` block per
//! failure) rather than its unstable JSON, and insta is told never to write a snapshot, so a
//! check can only be passed by the code, not by accepting a new snapshot.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io;
use std::path::Path;
use std::process::Command;

use crate::catalog::Lab;

/// What happened to one check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    /// Failed, with what it printed (the panic message, a snapshot diff).
    Fail(String),
    /// Not run: the build failed, or the test is missing from the target.
    NotRun,
}

/// One check's verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub name: &'static str,
    pub hint: &'static str,
    pub outcome: Outcome,
}

/// A lab's grade.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Whether the grading test compiled.
    pub built: bool,
    /// Cargo's own output when it did not (the compiler errors).
    pub build_errors: String,
    /// One verdict per check, in the catalogue's order.
    pub verdicts: Vec<Verdict>,
}

impl Report {
    pub fn passed(&self) -> usize {
        self.verdicts
            .iter()
            .filter(|v| v.outcome == Outcome::Pass)
            .count()
    }

    pub fn all_pass(&self) -> bool {
        self.built && self.passed() == self.verdicts.len()
    }

    /// Whether no check passed (what the student's edition of a lab must give).
    pub fn none_pass(&self) -> bool {
        self.passed() == 0
    }
}

/// The arguments after `cargo` that grade `lab`.
pub fn cargo_args(lab: &Lab) -> Vec<String> {
    [
        "test",
        "-p",
        lab.package,
        "--test",
        "all",
        "--color",
        "never",
        "--",
        &lab.filter(),
        "--color",
        "never",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Runs `lab`'s checks in the checkout at `root` with `cargo`, building into `target_dir` if
/// given (else the checkout's own `target/`).
pub fn run(
    root: &Path,
    lab: &Lab,
    cargo: &OsString,
    target_dir: Option<&Path>,
) -> io::Result<Report> {
    let mut command = Command::new(cargo);
    command
        .args(cargo_args(lab))
        .current_dir(root)
        .env("INSTA_UPDATE", "no")
        .env("INSTA_FORCE_PASS", "0")
        .env("RUST_BACKTRACE", "0")
        .env("CARGO_TERM_COLOR", "never");
    if let Some(dir) = target_dir {
        command.env("CARGO_TARGET_DIR", dir);
    }
    let out = command.output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    Ok(read(lab, &stdout, &stderr))
}

/// Reads cargo's output into a report.
pub fn read(lab: &Lab, stdout: &str, stderr: &str) -> Report {
    let results = results(stdout);
    // libtest prints its summary only when the binary was built and ran.
    let built = stdout.contains("test result:") || !results.is_empty();
    let failures = failure_blocks(stdout);
    let verdicts = lab
        .checks
        .iter()
        .map(|check| Verdict {
            name: check.name,
            hint: check.hint,
            outcome: match results.get(&lab.test_name(check.name)).copied() {
                Some(true) => Outcome::Pass,
                Some(false) => Outcome::Fail(
                    failures
                        .get(&lab.test_name(check.name))
                        .cloned()
                        .unwrap_or_default(),
                ),
                None => Outcome::NotRun,
            },
        })
        .collect();
    Report {
        built,
        build_errors: if built {
            String::new()
        } else {
            compiler_errors(stderr)
        },
        verdicts,
    }
}

/// `test <name> ... ok|FAILED` lines: name → passed.
fn results(stdout: &str) -> BTreeMap<String, bool> {
    stdout
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("test ")?;
            let (name, verdict) = rest.rsplit_once(" ... ")?;
            match verdict.trim() {
                "ok" => Some((name.to_string(), true)),
                "FAILED" => Some((name.to_string(), false)),
                _ => None,
            }
        })
        .collect()
}

/// The `---- <name> stdout ----` blocks: name → what the test printed, trimmed of the lines
/// that only say how to get a backtrace.
fn failure_blocks(stdout: &str) -> BTreeMap<String, String> {
    let mut blocks = BTreeMap::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for line in stdout.lines() {
        let header = line
            .strip_prefix("---- ")
            .and_then(|l| l.strip_suffix(" stdout ----"));
        if header.is_some() || line == "failures:" {
            if let Some((name, body)) = current.take() {
                blocks.insert(name, body.join("\n").trim().to_string());
            }
        }
        if let Some(name) = header {
            current = Some((name.to_string(), Vec::new()));
        } else if let Some((_, body)) = current.as_mut() {
            if !line.starts_with("note: run with `RUST_BACKTRACE") {
                body.push(line);
            }
        }
    }
    if let Some((name, body)) = current {
        blocks.insert(name, body.join("\n").trim().to_string());
    }
    blocks
}

/// The `error...` paragraphs of cargo's stderr (what a student needs to fix a build).
fn compiler_errors(stderr: &str) -> String {
    let mut out = Vec::new();
    let mut keep = false;
    for line in stderr.lines() {
        if line.starts_with("error") {
            keep = true;
        } else if line.starts_with("warning") || line.trim_start().starts_with("Compiling") {
            keep = false;
        }
        if keep {
            out.push(line);
        }
    }
    if out.is_empty() {
        stderr.trim().to_string()
    } else {
        out.join("\n").trim().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::find;

    const RUN: &str = "\
running 2 tests
test lab::lab_5_1_your_prediction_is_what_your_order_elects ... FAILED
test lab::lab_5_1_lowest_sid_first_start ... ok

failures:

---- lab::lab_5_1_your_prediction_is_what_your_order_elects stdout ----

thread 'lab::lab_5_1_your_prediction_is_what_your_order_elects' panicked at chapters/ch05-election/tests/lab.rs:60:5:
not yet implemented: lab 5.1: your prediction
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


failures:
    lab::lab_5_1_your_prediction_is_what_your_order_elects

test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 3 filtered out; finished in 0.05s
";

    #[test]
    fn each_check_gets_its_verdict_and_a_failure_its_message() {
        let lab = find("5.1").unwrap();
        let report = read(lab, RUN, "");
        assert!(report.built);
        assert_eq!(report.passed(), 1);
        assert_eq!(report.verdicts[0].outcome, Outcome::Pass);
        let Outcome::Fail(message) = &report.verdicts[1].outcome else {
            panic!("{report:?}")
        };
        assert!(
            message.starts_with("thread 'lab::lab_5_1_your_prediction"),
            "{message}"
        );
        assert!(
            message.ends_with("not yet implemented: lab 5.1: your prediction"),
            "{message}"
        );
    }

    #[test]
    fn a_build_that_fails_reports_the_compiler_errors_and_runs_nothing() {
        let lab = find("5.1").unwrap();
        let stderr = "   Compiling ch05-election v0.1.0\nwarning: unused import\nerror[E0308]: mismatched types\n  --> src/lab.rs:3:5\nerror: could not compile `ch05-election`\n";
        let report = read(lab, "", stderr);
        assert!(!report.built);
        assert!(report.none_pass());
        assert!(report.verdicts.iter().all(|v| v.outcome == Outcome::NotRun));
        assert_eq!(
            report.build_errors,
            "error[E0308]: mismatched types\n  --> src/lab.rs:3:5\nerror: could not compile `ch05-election`"
        );
    }

    #[test]
    fn the_command_runs_exactly_the_labs_checks() {
        let lab = find("3.4").unwrap();
        assert_eq!(
            lab.cargo_command(),
            "cargo test -p ch03-sessions --test all exercise_wire::lab_3_4_"
        );
        assert_eq!(
            cargo_args(lab)[..5],
            ["test", "-p", "ch03-sessions", "--test", "all"]
        );
    }
}
