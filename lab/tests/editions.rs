//! The proof behind `keeper lab`: for every lab, the student's edition compiles and fails every
//! check of its grader, and the teacher's edition passes them all.
//!
//! It builds the chapters again, lab after lab, so it is slow (minutes) and ignored by
//! `cargo test`; CI runs it (`.ci/run`):
//!
//! ```text
//! cargo test -p keeper-lab --test all editions:: -- --ignored --nocapture
//! ```
//!
//! It works on a copy of the repository under `target/tmp/lab-editions/` with a target folder
//! of its own (cargo would otherwise wait for the lock the running `cargo test` holds), and
//! rewrites only the files a lab touches, so each lab rebuilds little. The repository itself
//! is never written.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use keeper_lab::grade::{self, Outcome, Report};
use keeper_lab::{repo, Lab, LABS};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("lab/ sits in the repository")
        .to_path_buf()
}

/// Folders of the repository that are not sources.
fn skipped(relative: &Path) -> bool {
    let first = relative.components().next();
    let name = |s: &str| first.is_some_and(|c| c.as_os_str() == s);
    name(".git") || name("target") || relative.starts_with("book/book")
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let relative = path
            .strip_prefix(root)
            .expect("below the root")
            .to_path_buf();
        if skipped(&relative) {
            continue;
        }
        if path.is_dir() {
            walk(root, &path, out)?;
        } else {
            out.insert(relative);
        }
    }
    Ok(())
}

/// Makes `copy` hold exactly the files of `source`, writing only those that differ (cargo
/// judges freshness by modification time, so an untouched file must stay untouched).
fn sync(source: &Path, copy: &Path) -> io::Result<()> {
    let mut wanted = BTreeSet::new();
    walk(source, source, &mut wanted)?;
    for relative in &wanted {
        let (from, to) = (source.join(relative), copy.join(relative));
        let bytes = fs::read(&from)?;
        if fs::read(&to).ok().as_ref() != Some(&bytes) {
            fs::create_dir_all(to.parent().expect("a file has a folder"))?;
            fs::write(&to, bytes)?;
        }
    }
    let mut present = BTreeSet::new();
    if copy.exists() {
        walk(copy, copy, &mut present)?;
    }
    for stale in present.difference(&wanted) {
        fs::remove_file(copy.join(stale))?;
    }
    Ok(())
}

fn cargo() -> OsString {
    std::env::var_os("CARGO")
        .or_else(|| option_env!("CARGO").map(OsString::from))
        .unwrap_or_else(|| OsString::from("cargo"))
}

fn describe(report: &Report) -> String {
    if !report.built {
        return format!("does not compile:\n{}", report.build_errors);
    }
    report
        .verdicts
        .iter()
        .map(|v| {
            let outcome = match &v.outcome {
                Outcome::Pass => "passes".to_string(),
                Outcome::Fail(out) => format!("fails: {}", out.lines().last().unwrap_or("")),
                Outcome::NotRun => "was not run".to_string(),
            };
            format!("  {} {outcome}", v.name)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
#[ignore = "slow: builds every lab's student edition; CI runs it with --ignored"]
fn every_student_edition_compiles_and_fails_and_every_answer_passes() {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lab-editions");
    let (copy, target) = (work.join("ws"), work.join("target"));
    let cargo = cargo();
    let mut problems = Vec::new();
    let mut packages: Vec<&str> = LABS.iter().map(|l| l.package).collect();
    packages.dedup();
    for package in packages {
        let labs: Vec<&Lab> = LABS.iter().filter(|l| l.package == package).collect();
        sync(&root(), &copy).unwrap();
        for lab in &labs {
            eprintln!("lab {}: the answers", lab.id);
            let report = grade::run(&copy, lab, &cargo, Some(&target)).unwrap();
            if !report.all_pass() {
                problems.push(format!(
                    "lab {}: the answers do not pass\n{}",
                    lab.id,
                    describe(&report)
                ));
            }
        }
        for lab in &labs {
            eprintln!("lab {}: the student's edition", lab.id);
            sync(&root(), &copy).unwrap();
            let started = repo::start(&copy, &[lab.id]).unwrap();
            assert!(!started.is_empty(), "lab {} has no region to start", lab.id);
            let report = grade::run(&copy, lab, &cargo, Some(&target)).unwrap();
            if !(report.built && report.none_pass()) {
                problems.push(format!(
                    "lab {}: the student's edition must compile and fail every check\n{}",
                    lab.id,
                    describe(&report)
                ));
            }
        }
    }
    sync(&root(), &copy).unwrap();
    assert!(problems.is_empty(), "\n{}", problems.join("\n\n"));
}
