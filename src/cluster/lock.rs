//! One `keeper cluster` command at a time per DIR: a lock file holding the command's pid.
//!
//! Two commands on one cluster at once (a `stop` while a `start` is still waiting) would
//! start and signal servers behind each other's backs. So each command creates
//! `DIR/cluster.lock` (atomically: it fails if the file exists) and removes it when done. A
//! command that crashed leaves its file behind; the pid in it then names no live process, so
//! the next command takes the lock over instead of calling the DIR busy forever.

use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use super::process;

/// The held lock; dropping it releases the DIR.
pub struct DirLock {
    path: PathBuf,
}

impl DirLock {
    /// Takes the lock on `dir`, or says which command holds it.
    pub fn take(dir: &Path) -> Result<DirLock, String> {
        let path = dir.join("cluster.lock");
        // Two tries: the second after removing a lock whose owner is gone.
        for _ in 0..2 {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut file) => {
                    writeln!(file, "{}", std::process::id())
                        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                    return Ok(DirLock { path });
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    let owner = std::fs::read_to_string(&path).unwrap_or_default();
                    match owner.trim().parse::<u32>() {
                        Ok(pid) if process::signal(pid, "0").is_ok() => {
                            return Err(format!(
                                "{} is busy: another `keeper cluster` command (pid {pid}) is \
                                 working on it",
                                dir.display()
                            ))
                        }
                        // The owner is gone (or died before writing its pid): a stale lock.
                        _ => {
                            let _ = std::fs::remove_file(&path);
                        }
                    }
                }
                Err(e) => return Err(format!("cannot create {}: {e}", path.display())),
            }
        }
        Err(format!(
            "cannot take {}: another command keeps taking it",
            path.display()
        ))
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
