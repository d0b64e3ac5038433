//! `keeper lab`: the classroom's command. Hands out a lab (`start`), grades it (`check`),
//! starts it over (`reset`), lists them (`list`), and writes the teacher's key (`key`). The
//! machinery is in the `keeper-lab` crate; this is its face on the terminal.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use keeper_lab::grade::{self, Outcome};
use keeper_lab::repo::{self, Status};
use keeper_lab::{catalog, key, Lab, LABS};

#[derive(Subcommand, Debug)]
pub enum LabCommand {
    /// Every lab, with where it stands in this checkout.
    List,
    /// Hand out labs: their answers in the sources become the skeletons you start from.
    Start {
        /// Lab numbers (`5.1`), or `all`.
        #[arg(required = true)]
        labs: Vec<String>,
    },
    /// Grade a lab: run its checks and print each one, with a hint for those that fail.
    Check {
        /// The lab number (`5.1`).
        lab: String,
    },
    /// Start labs over: put the skeletons back (your code is kept under target/keeper-lab).
    Reset {
        /// Lab numbers (`5.1`), or `all`.
        #[arg(required = true)]
        labs: Vec<String>,
    },
    /// For teachers: write the teacher's guide and the answer key.
    Key {
        /// Where to write them.
        #[arg(long, default_value = "target/lab-key")]
        out: PathBuf,
    },
}

/// Runs `command` on the checkout at `root` (found from the current folder if not given).
pub fn run(command: LabCommand, root: Option<PathBuf>) -> ExitCode {
    let Some(root) = root.or_else(find_root) else {
        eprintln!("keeper lab: run this inside the Keeper repository (or pass --root DIR)");
        return ExitCode::from(2);
    };
    let result = match command {
        LabCommand::List => list(&root),
        LabCommand::Start { labs } => ids(&labs).and_then(|labs| start(&root, &labs)),
        LabCommand::Check { lab } => ids(&[lab]).and_then(|labs| check(&root, labs[0])),
        LabCommand::Reset { labs } => ids(&labs).and_then(|labs| reset(&root, &labs)),
        LabCommand::Key { out } => write_key(&root, &root.join(out)),
    };
    result.unwrap_or_else(|message| {
        eprintln!("keeper lab: {message}");
        ExitCode::from(2)
    })
}

fn find_root() -> Option<PathBuf> {
    let here = std::env::current_dir().ok()?;
    repo::find_root(&here).or_else(|| repo::find_root(Path::new(env!("CARGO_MANIFEST_DIR"))))
}

/// The labs named on the command line (`all` for every one).
fn ids(args: &[String]) -> Result<Vec<&'static Lab>, String> {
    if args.iter().any(|a| a == "all") {
        return Ok(LABS.iter().collect());
    }
    args.iter()
        .map(|id| {
            catalog::find(id).ok_or_else(|| {
                let known: Vec<&str> = LABS.iter().map(|l| l.id).collect();
                format!("no lab {id}; the labs are {}", known.join(", "))
            })
        })
        .collect()
}

fn scan(root: &Path) -> Result<Vec<repo::SourceFile>, String> {
    repo::scan(root).map_err(|e| format!("reading the sources: {e}"))
}

fn list(root: &Path) -> Result<ExitCode, String> {
    let files = scan(root)?;
    println!("{:<5} {:<17} {:>4}  title", "lab", "status", "min");
    for lab in LABS {
        let status = repo::status(&files, lab.id).describe();
        println!(
            "{:<5} {:<17} {:>4}  {}",
            lab.id, status, lab.minutes, lab.title
        );
    }
    println!("\nStart one with `cargo run -- lab start 5.1`, grade it with `cargo run -- lab check 5.1`.");
    Ok(ExitCode::SUCCESS)
}

fn start(root: &Path, labs: &[&Lab]) -> Result<ExitCode, String> {
    let ids: Vec<&str> = labs.iter().map(|l| l.id).collect();
    let done = repo::start(root, &ids).map_err(|e| format!("writing the sources: {e}"))?;
    let files = scan(root)?;
    for lab in labs {
        println!("lab {}: {}", lab.id, lab.title);
        let changed: Vec<_> = done
            .iter()
            .filter(|r| files_of(&files, lab).contains(&r.path.as_str()))
            .collect();
        if changed.is_empty() {
            println!(
                "  already started: your code is untouched (`cargo run -- lab reset {}` starts over)",
                lab.id
            );
        }
        for path in files_of(&files, lab) {
            println!("  edit {path}");
        }
        println!("  grade it: cargo run -- lab check {}", lab.id);
    }
    println!(
        "\nWrite your code between `// LAB N.M YOUR CODE` and `// LAB N.M END`; the `//>` lines show where you started."
    );
    Ok(ExitCode::SUCCESS)
}

fn files_of<'a>(files: &'a [repo::SourceFile], lab: &Lab) -> Vec<&'a str> {
    repo::files_of(files, lab.id)
}

fn reset(root: &Path, labs: &[&Lab]) -> Result<ExitCode, String> {
    let ids: Vec<&str> = labs.iter().map(|l| l.id).collect();
    let done = repo::reset(root, &ids).map_err(|e| format!("writing the sources: {e}"))?;
    if done.is_empty() {
        println!("nothing to reset: every region already holds its skeleton");
    }
    for rewrite in &done {
        println!(
            "reset {} (your version is kept in {}/{})",
            rewrite.path,
            repo::BEFORE_RESET,
            rewrite.path
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// How many lines of a failing check's output to show.
const SHOWN_LINES: usize = 24;

fn check(root: &Path, lab: &Lab) -> Result<ExitCode, String> {
    let files = scan(root)?;
    println!("lab {}: {}", lab.id, lab.title);
    println!("  {}", lab.cargo_command());
    if repo::status(&files, lab.id) == Status::Answered {
        println!(
            "  note: lab {} is not started, so these are the answers the repository ships with (`cargo run -- lab start {}`)",
            lab.id, lab.id
        );
    }
    eprintln!("  building and running the checks...");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let report = grade::run(root, lab, &cargo, None).map_err(|e| format!("running cargo: {e}"))?;
    if !report.built {
        println!("  ✗ the grading test does not compile:");
        print_indented(&report.build_errors, "      ", 40);
    }
    for verdict in &report.verdicts {
        match &verdict.outcome {
            Outcome::Pass => println!("  ✓ {}", verdict.name),
            Outcome::Fail(output) => {
                println!("  ✗ {}", verdict.name);
                println!("      hint: {}", verdict.hint);
                print_indented(output, "      | ", SHOWN_LINES);
            }
            Outcome::NotRun => println!("  - {} (not run)", verdict.name),
        }
    }
    println!(
        "{} of {} checks pass.",
        report.passed(),
        report.verdicts.len()
    );
    Ok(if report.all_pass() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_indented(text: &str, prefix: &str, most: usize) {
    let lines: Vec<&str> = text.lines().collect();
    for line in lines.iter().take(most) {
        println!("{prefix}{line}");
    }
    if lines.len() > most {
        println!(
            "{prefix}... ({} more lines: run the cargo command above to see them)",
            lines.len() - most
        );
    }
}

fn write_key(root: &Path, out: &Path) -> Result<ExitCode, String> {
    let files = scan(root)?;
    let write = |name: &str, text: String| {
        let path = out.join(name);
        std::fs::create_dir_all(out)
            .and_then(|()| std::fs::write(&path, text))
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        println!("wrote {}", path.display());
        Ok::<(), String>(())
    };
    write("teachers-guide.md", key::guide(&files))?;
    write("answer-key.md", key::answers(&files))?;
    let started: Vec<&str> = LABS
        .iter()
        .filter(|l| repo::status(&files, l.id) != Status::Answered)
        .map(|l| l.id)
        .collect();
    if !started.is_empty() {
        eprintln!(
            "keeper lab: labs {} are started in this checkout: their code answers are missing from the key",
            started.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
