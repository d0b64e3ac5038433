//! The dump tools: a log or a snapshot printed as ZooKeeper's own tools print it, and a check
//! that finds the first bad record.
//!
//! The idea to take away: **the files are the server's memory, so learn to read them.** The
//! same commands work on a dataDir written by Keeper or by ZooKeeper 3.8, and print what
//! `zkTxnLogToolkit.sh` and `zkSnapShotToolkit.sh` print for it:
//!
//! ```text
//! keeper txnlog dataDir/version-2/log.1            # TxnLogToolkit -d
//! keeper snapshot -d dataDir/version-2/snapshot.29 # SnapshotFormatter -d
//! keeper txnlog --check dataDir/version-2/log.1    # the first bad record, or ok
//! ```
//!
//! # Layout
//!
//! * [`txn_text`] — `TxnLogToolkit`'s lines.
//! * [`snapshot_text`] — `SnapshotFormatter`'s listing.
//! * [`check`] — recovery's reader as a checker.
//! * [`java`] — Java's ways of printing hex, dates and hash sets.

pub mod check;
pub mod java;
pub mod snapshot_text;
pub mod txn_text;

use std::fmt;
use std::io::{self, Write};
use std::path::Path;

use crate::names::short;

/// Why a dump stopped.
#[derive(Debug)]
pub enum DumpError {
    /// Not the kind of file asked for (upstream's exit code 2, `INVALID_INVOCATION`).
    Invocation(String),
    /// The file cannot be read to the end (upstream's exit code 1).
    Failed(String),
    Io(io::Error),
}

impl DumpError {
    /// The exit code upstream's tool gives for this.
    pub fn exit_code(&self) -> u8 {
        match self {
            DumpError::Invocation(_) => 2,
            DumpError::Failed(_) | DumpError::Io(_) => 1,
        }
    }
}

impl fmt::Display for DumpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DumpError::Invocation(what) | DumpError::Failed(what) => f.write_str(what),
            DumpError::Io(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for DumpError {}

impl From<io::Error> for DumpError {
    fn from(e: io::Error) -> DumpError {
        DumpError::Io(e)
    }
}

/// What to do with a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Print it; `data` also prints each node's data (`-d`; a log always prints it).
    Dump { data: bool },
    /// Read it as recovery would and report the first bad record.
    Check,
}

/// `keeper txnlog`: prints or checks a log; returns the exit code.
pub fn txnlog(path: &Path, mode: Mode) -> u8 {
    if mode == Mode::Check {
        return report(check::check_log(path));
    }
    run(path, |path, out| {
        let file = std::fs::File::open(path)?;
        txn_text::dump_log(file, &short(path), out)
    })
}

/// `keeper snapshot`: prints or checks a snapshot; returns the exit code.
pub fn snapshot(path: &Path, mode: Mode) -> u8 {
    if mode == Mode::Check {
        return report(check::check_snapshot(path));
    }
    let data = matches!(mode, Mode::Dump { data: true });
    run(path, |path, out| {
        let bytes = std::fs::read(path)?;
        snapshot_text::dump_snapshot(&bytes, &short(path), data, out)
    })
}

/// A check's summary on stdout (exit 0), or the first bad record on stderr (exit 1).
fn report(checked: Result<String, crate::PersistError>) -> u8 {
    match checked {
        Ok(summary) => {
            println!("{summary}");
            0
        }
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}

fn run(
    path: &Path,
    dump: impl FnOnce(&Path, &mut io::BufWriter<io::StdoutLock<'_>>) -> Result<(), DumpError>,
) -> u8 {
    if !path.is_file() {
        eprintln!("File doesn't exist or not readable: {}", path.display());
        return 1;
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    let dumped = dump(path, &mut out);
    let flushed = out.flush();
    match dumped.and(flushed.map_err(DumpError::Io)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{e}");
            e.exit_code()
        }
    }
}
