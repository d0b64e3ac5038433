//! The crash drill: the storage killed at every system call it makes, and recovered each time.
//!
//! The idea to take away: **a storage's promises are about every moment, not only the moments
//! between its calls.** A process can die between any two system calls: after a record's
//! bytes went out but before the fsync, after a snapshot's temporary file was fsynced but
//! before its rename, half-way through cutting a log back. Wherever it dies, recovery must
//! open the dataDir without an error, build a database that some point of the work built
//! (never a mix of two), and keep every txn a returned `sync` made durable.
//!
//! [`workload`] drives a [`FileStorage`] through every kind of write a quorum peer asks of it:
//! epochs, appends in groups with one sync each, a fuzzy snapshot walked between appends (which
//! rolls the log), a TRUNC, and the snapshot a SNAP sync writes, which removes a newer snapshot
//! and the log after it. It says what it has made durable as it goes ([`Mark`]). [`drill`] runs
//! it in a child process under `strace`, which sends SIGKILL just before the child's Kth call
//! that touches a file (`-e inject=…:signal=KILL:when=K`), for K = 1, 2, … until a run ends by
//! itself, and checks each dataDir left behind ([`check`]).
//!
//! A killed process is not a power failure: what it had written stays in the page cache and
//! reaches the disk. Losing the unsynced writes too is chapter 6's simulated disks' job
//! (`crash_leaves`), and the seed sweep's.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;

use ch01_znode::{Acl, EphemeralOwner, Epoch, SessionId, Txn, TxnHeader, TxnOp, Zxid};
use ch03_sessions::pipeline::Database;
use ch06_zab::peer::Epochs;
use ch06_zab::storage::Storage;
use ch06_zab::txn_codec::TxnEntry;

use crate::file_storage::{FileStorage, FileStorageConfig};

/// The system calls a crash may come before: every one that changes a file or a directory
/// (and `openat`, which may create one).
pub const CALLS: &str = "openat,write,pwrite64,writev,fsync,fdatasync,ftruncate,fallocate,\
rename,renameat,renameat2,unlink,unlinkat,mkdir,mkdirat,creat,open";

/// What the workload says, in order, on its standard output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// The database of state `k` (an index into [`Work::states`]) is durable: a crash from
    /// here on recovers it or a later state.
    Durable(usize),
    /// The epochs are durable.
    Epochs(Epochs),
    /// A SNAP's snapshot is being written over the disk's own history: until the next
    /// [`Mark::Durable`], a crash may find any state of the work. What the disk held after the
    /// snapshot was never the leader's, and a crash after its log is cut but before the newer
    /// snapshot is removed finds that snapshot without the log after it
    /// ([`FileStorage::take_sync_snapshot`]).
    Replacing,
}

impl Mark {
    /// The line the child prints.
    pub fn line(&self) -> String {
        match self {
            Mark::Durable(k) => format!("durable {k}"),
            Mark::Epochs(e) => format!("epochs {} {}", e.accepted.0, e.current.0),
            Mark::Replacing => "replacing".into(),
        }
    }

    /// Reads a line the child printed; `None` for a line cut short by the kill.
    pub fn parse(line: &str) -> Option<Mark> {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["durable", k] => k.parse().ok().map(Mark::Durable),
            ["epochs", a, c] => Some(Mark::Epochs(Epochs {
                accepted: Epoch(a.parse().ok()?),
                current: Epoch(c.parse().ok()?),
            })),
            ["replacing"] => Some(Mark::Replacing),
            _ => None,
        }
    }
}

/// What the work went through: every database it built, in order.
#[derive(Debug, Default)]
pub struct Work {
    pub states: Vec<Database>,
}

/// The storage's configuration for the drill: small preallocation steps, so that the log
/// grows by several of them, and no digests (the drill's txns carry none).
pub fn config(dir: &Path) -> FileStorageConfig {
    let mut config = FileStorageConfig::new(dir);
    config.pre_alloc_size = 1024;
    config.digest_enabled = false;
    config
}

/// A create of `path` (a child of the root) in `db`'s next txn: the root's new cversion is
/// decided here, as prepare decides it, so that a replay can never count the child twice.
fn create(db: &Database, zxid: Zxid, path: &str, data: &str) -> Txn {
    let root_cversion = db.tree.node("/").map_or(0, |root| root.stat.cversion);
    TxnHeader {
        session: SessionId(1),
        cxid: 0,
        zxid,
        time_ms: 1_000 + zxid.counter() as i64,
    }
    .txn(TxnOp::Create {
        path: path.into(),
        data: Some(data.as_bytes().to_vec()),
        acl: vec![Acl::new(31, "world", "anyone")],
        owner: EphemeralOwner::None,
        parent_cversion: root_cversion + 1,
    })
}

fn zxid(epoch: i64, counter: u32) -> Zxid {
    Zxid::new(Epoch(epoch), counter)
}

/// The server's side of the work: a storage, the database it serves, what it went through.
struct Server<'a> {
    storage: FileStorage,
    db: Database,
    work: Work,
    say: &'a mut dyn FnMut(Mark),
}

impl Server<'_> {
    fn changed(&mut self) -> usize {
        self.work.states.push(self.db.clone());
        self.work.states.len() - 1
    }

    fn epochs(&mut self, epoch: i64) -> std::io::Result<()> {
        let epochs = Epochs {
            accepted: Epoch(epoch),
            current: Epoch(epoch),
        };
        self.storage.save_epochs(epochs)?;
        (self.say)(Mark::Epochs(epochs));
        Ok(())
    }

    /// Creates `/e<epoch>-<counter>` holding `data`, as txn `counter` of `epoch`.
    fn create(&mut self, epoch: i64, counter: u32, data: &str) -> std::io::Result<()> {
        let path = format!("/e{epoch}-{counter}");
        self.append(create(&self.db, zxid(epoch, counter), &path, data))
    }

    /// Appends `txn` and applies it; walks the fuzzy snapshot under way two nodes on.
    fn append(&mut self, txn: Txn) -> std::io::Result<()> {
        self.storage.append(&TxnEntry::new(txn.clone()))?;
        self.db.apply(&txn);
        self.changed();
        self.storage.advance_snapshot(&self.db, 2)?;
        Ok(())
    }

    fn sync(&mut self) -> std::io::Result<()> {
        self.storage.sync()?;
        (self.say)(Mark::Durable(self.work.states.len() - 1));
        Ok(())
    }
}

/// The work, on the dataDir `dir`: says each [`Mark`] once it holds, and returns every state
/// it went through.
pub fn workload(dir: &Path, say: &mut dyn FnMut(Mark)) -> std::io::Result<Work> {
    let mut storage = FileStorage::open(config(dir))?;
    let db = storage.recover(0)?.db;
    let mut s = Server {
        storage,
        db,
        work: Work::default(),
        say,
    };
    let fresh = s.changed();
    (s.say)(Mark::Durable(fresh));
    // Epoch 1: four groups of three, a fuzzy snapshot begun after the second txn and walked
    // two nodes per append (it rolls the log), then a TRUNC takes the last group back.
    s.epochs(1)?;
    for counter in 1..=12 {
        s.create(1, counter, "a")?;
        if counter == 2 {
            s.storage.begin_snapshot(&s.db)?;
        }
        if counter % 3 == 0 {
            s.sync()?;
        }
    }
    let cut = (s.storage.truncate(zxid(1, 9), 0)?)
        .ok_or_else(|| std::io::Error::other("the TRUNC was refused: a snapshot is newer"))?;
    s.db = cut.db;
    let after_cut = s.changed();
    (s.say)(Mark::Durable(after_cut));
    // Epoch 2: six txns, each synced, and a whole snapshot after the fourth. Then a SNAP from
    // the next leader, whose history has only the first two: the disk's snapshot after them
    // and its log after them go, being of txns no quorum took.
    s.epochs(2)?;
    for counter in 1..=6 {
        s.create(2, counter, "a")?;
        if counter == 4 {
            s.storage.take_snapshot(&s.db, false)?;
        }
        s.sync()?;
    }
    let mut leaders = s.work.states[after_cut].clone();
    for counter in 1..=2 {
        leaders.apply(&create(
            &leaders,
            zxid(2, counter),
            &format!("/e2-{counter}"),
            "a",
        ));
    }
    (s.say)(Mark::Replacing);
    s.storage.sync_snapshot(&leaders)?;
    s.db = leaders;
    let snapped = s.changed();
    (s.say)(Mark::Durable(snapped));
    // Epoch 3: the new history goes on.
    s.epochs(3)?;
    for counter in 1..=3 {
        s.create(3, counter, "b")?;
    }
    s.sync()?;
    Ok(s.work)
}

// ANCHOR: check
/// What a crash left, judged: `Err` says what broke.
pub fn check(work: &Work, said: &[Mark], dir: &Path) -> Result<(), String> {
    let recovered = FileStorage::open(config(dir))
        .and_then(|mut storage| storage.load(None, 0))
        .map_err(|e| format!("recovery failed: {e}"))?;
    let mut durable = 0;
    let mut replacing = false;
    let mut epochs = Epochs {
        accepted: Epoch(0),
        current: Epoch(0),
    };
    for mark in said {
        match *mark {
            Mark::Durable(k) => (durable, replacing) = (k, false),
            Mark::Replacing => replacing = true,
            Mark::Epochs(e) => epochs = e,
        }
    }
    let from = if replacing { 0 } else { durable };
    let found = work.states[from..]
        .iter()
        .position(|state| *state == recovered.db);
    if found.is_none() {
        let at = recovered.db.last_processed_zxid();
        return Err(match work.states.contains(&recovered.db) {
            true => format!("recovered an older state (at {at}) than state {durable}, durable"),
            false => format!("recovered a database (at {at}) the work never built"),
        });
    }
    if recovered.epochs.accepted < epochs.accepted || recovered.epochs.current < epochs.current {
        return Err(format!(
            "epochs went back: {:?} after {:?} was saved",
            recovered.epochs, epochs
        ));
    }
    Ok(())
}
// ANCHOR_END: check

/// How a drill went.
#[derive(Debug, Default)]
pub struct Drilled {
    /// Runs killed before a file system call, each recovered and checked, by the call.
    pub crashes: Vec<(&'static str, usize)>,
    /// What broke: the call, which of its kind it was, and why.
    pub broken: Vec<(&'static str, usize, String)>,
}

impl Drilled {
    /// Every crash drilled.
    pub fn total(&self) -> usize {
        self.crashes.iter().map(|(_, n)| n).sum()
    }
}

/// The whole drill, with `exe --crash-workload DIR` as the child (the chapter's binary): the
/// work's states from a run of its own, then a run killed before each file system call.
pub fn run(exe: &Path) -> std::io::Result<Drilled> {
    let scratch = tempfile::tempdir()?;
    let work = workload(&scratch.path().join("whole"), &mut |_| {})?;
    let child = [exe.display().to_string(), "--crash-workload".to_string()];
    drill(&child, &work, scratch.path())
}

/// Runs `child` (a command whose last argument will be the dataDir, which runs [`workload`]
/// and prints its marks) under strace once for each of its file system calls, killed before
/// that call, and checks what each run left. `work` is the workload's states, from a run of
/// its own. strace counts each kind of call on its own (`when=K` is the Kth `write`, say), so
/// the drill goes through the kinds one by one, each until a run makes fewer than K calls of
/// it and ends by itself.
pub fn drill(child: &[String], work: &Work, scratch: &Path) -> std::io::Result<Drilled> {
    let mut drilled = Drilled::default();
    for call in CALLS.split(',') {
        let mut k = 0;
        loop {
            k += 1;
            let dir = scratch.join(format!("{call}-{k}"));
            // `?`: a call this machine does not have (`rename` on arm64) is never made.
            let output = Command::new("strace")
                .args(["-f", "-qq", "-o", "/dev/null", "-e"])
                .arg(format!("trace=?{call}"))
                .arg("-e")
                .arg(format!("inject=?{call}:signal=KILL:when={k}"))
                .args(child)
                .arg(&dir)
                .output()?;
            if output.status.success() {
                remove(&dir)?;
                break;
            }
            // strace dies of the signal that killed its child; anything else is strace
            // failing (no ptrace here, say) or the workload failing, not a crash drilled.
            if output.status.signal() != Some(SIGKILL) {
                return Err(std::io::Error::other(format!(
                    "the run killed before {call} #{k} did not end by SIGKILL ({}): {}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                )));
            }
            let stdout = String::from_utf8_lossy(&output.stdout);
            let said: Vec<Mark> = stdout.lines().filter_map(Mark::parse).collect();
            if let Err(why) = check(work, &said, &dir) {
                drilled.broken.push((call, k, why));
            }
            remove(&dir)?;
        }
        drilled.crashes.push((call, k - 1));
    }
    Ok(drilled)
}

/// SIGKILL's number, the same on every Linux.
const SIGKILL: i32 = 9;

/// Removes a run's dataDir, if it got as far as making one.
fn remove(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}
