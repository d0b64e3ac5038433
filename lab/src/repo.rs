//! The regions of a whole checkout: where they are, and `start`/`reset` across files.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::marker::{Holder, Marked};

/// Where lab regions may live, relative to the repository's top folder: the chapters, chapter
/// 8's labs (the whole ensemble is the root package, graded by its tests), and the catalogue
/// (whose `discuss` answers are regions too).
pub const SOURCES: &[&str] = &["chapters", "tests/ensemble_lab", "lab/src/catalog.rs"];

/// A file with lab regions, as read from a checkout.
pub struct SourceFile {
    /// Relative to the top folder, with `/` separators: what the book and the key print.
    pub path: String,
    pub marked: Marked,
}

/// Finds the repository's top folder from `start` upwards: the folder whose `Cargo.toml` is
/// the workspace's and that holds `chapters/`.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start.ancestors().find_map(|dir| {
        let manifest = fs::read_to_string(dir.join("Cargo.toml")).ok()?;
        (manifest.contains("[workspace]") && dir.join("chapters").is_dir())
            .then(|| dir.to_path_buf())
    })
}

/// Every `.rs` file of [`SOURCES`] with at least one region, sorted by path. A file whose
/// markers do not parse is an error naming the file and line.
pub fn scan(root: &Path) -> io::Result<Vec<SourceFile>> {
    let mut files = Vec::new();
    for source in SOURCES {
        let path = root.join(source);
        if path.is_file() {
            files.push(path);
        } else if path.is_dir() {
            walk(&path, &mut files)?;
        }
    }
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file)?;
        if !text.contains("// LAB ") && !text.contains("//>") {
            continue;
        }
        let path = relative(root, &file);
        let marked = Marked::parse(&text)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{path}: {e}")))?;
        if marked.regions().next().is_some() {
            found.push(SourceFile { path, marked });
        }
    }
    Ok(found)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                walk(&path, out)?;
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
    Ok(())
}

fn relative(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).unwrap_or(file);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Where a lab stands in a checkout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Every region holds the answer: the repository as shipped.
    Answered,
    /// Started, and every region still holds its skeleton.
    Started,
    /// Started, and the student has changed at least one region.
    InProgress,
    /// Some regions hold the answer and some do not (a file restored by hand, say).
    Mixed,
    /// No region in this checkout.
    Missing,
}

impl Status {
    pub fn describe(self) -> &'static str {
        match self {
            Status::Answered => "answers in place",
            Status::Started => "started",
            Status::InProgress => "in progress",
            Status::Mixed => "partly started",
            Status::Missing => "no regions found",
        }
    }
}

/// Where lab `lab` stands among `files`.
pub fn status(files: &[SourceFile], lab: &str) -> Status {
    let regions: Vec<_> = files
        .iter()
        .flat_map(|f| f.marked.regions())
        .filter(|r| r.lab == lab)
        .collect();
    let answered = regions
        .iter()
        .filter(|r| r.holder == Holder::Answer)
        .count();
    match (regions.len(), answered) {
        (0, _) => Status::Missing,
        (n, a) if a == n => Status::Answered,
        (_, 0) if regions.iter().all(|r| r.is_untouched()) => Status::Started,
        (_, 0) => Status::InProgress,
        _ => Status::Mixed,
    }
}

/// The files lab `lab` has regions in.
pub fn files_of<'a>(files: &'a [SourceFile], lab: &str) -> Vec<&'a str> {
    files
        .iter()
        .filter(|f| f.marked.regions().any(|r| r.lab == lab))
        .map(|f| f.path.as_str())
        .collect()
}

/// What `start` or `reset` did to one file.
#[derive(Debug, PartialEq, Eq)]
pub struct Rewrite {
    pub path: String,
    pub regions: usize,
}

/// Where `reset` keeps a file as it was, so nothing a student wrote is ever lost.
pub const BEFORE_RESET: &str = "target/keeper-lab/before-reset";

/// Applies `change` for each of `labs` to every file under `root`, writing back only the files
/// that changed; returns them. With `keep`, a file's old text is first copied under
/// [`BEFORE_RESET`] (never on `start`, whose old text is the answer).
fn rewrite(
    root: &Path,
    labs: &[&str],
    change: fn(&mut Marked, &str) -> usize,
    keep: bool,
) -> io::Result<Vec<Rewrite>> {
    let mut done = Vec::new();
    for mut file in scan(root)? {
        let before = file.marked.render();
        let regions: usize = labs.iter().map(|lab| change(&mut file.marked, lab)).sum();
        if regions == 0 {
            continue;
        }
        if keep {
            let copy = root.join(BEFORE_RESET).join(&file.path);
            fs::create_dir_all(copy.parent().expect("a file has a folder"))?;
            fs::write(copy, &before)?;
        }
        fs::write(root.join(&file.path), file.marked.render())?;
        done.push(Rewrite {
            path: file.path,
            regions,
        });
    }
    Ok(done)
}

/// `keeper lab start`: the student's edition of `labs`, in place.
pub fn start(root: &Path, labs: &[&str]) -> io::Result<Vec<Rewrite>> {
    rewrite(root, labs, Marked::start, false)
}

/// `keeper lab reset`: every region of `labs` back to its skeleton, in place.
pub fn reset(root: &Path, labs: &[&str]) -> io::Result<Vec<Rewrite>> {
    rewrite(root, labs, Marked::reset, true)
}
