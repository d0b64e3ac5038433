//! `keeper server`'s purge task and `keeper purge`: chapter 7's [`purge`] on a timer, and by
//! hand.
//!
//! The idea to take away: the decision of what to delete is chapter 7's pure rule; this is
//! only *when*. With `autopurge.purgeInterval` hours set (0, the default, means never), the
//! server purges once at start-up and then every interval, keeping
//! `autopurge.snapRetainCount` snapshots (at least 3), as upstream's `DatadirCleanupManager`
//! does on its timer thread. The start-up purge waits for the start-up snapshot to be sealed
//! ([`Purger::waker`]): Keeper writes that snapshot while it serves, and a purge before the
//! seal would not count it, leaving one snapshot more than asked for. `keeper purge` is `zkCleanup.sh`'s `PurgeTxnLog`: the same rule,
//! once, on directories named on the command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use ch03_sessions::config::ZooCfg;
use ch07_persistence::purge::{purge, MIN_RETAIN_COUNT};

/// What wakes the purge thread.
#[derive(Debug)]
pub enum Wake {
    /// The start-up snapshot is sealed: the first purge may run.
    Sealed,
    /// The server is stopping.
    Stop,
}

/// The purge thread; dropping it stops the thread (and waits for a purge under way).
pub struct Purger {
    wake: mpsc::Sender<Wake>,
    thread: Option<JoinHandle<()>>,
}

impl Purger {
    /// Where to say that the start-up snapshot is sealed; the first purge waits for it.
    pub fn waker(&self) -> mpsc::Sender<Wake> {
        self.wake.clone()
    }
}

impl Drop for Purger {
    fn drop(&mut self) {
        let _ = self.wake.send(Wake::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts the purge task `cfg` asks for, if any (`DatadirCleanupManager.start`).
pub fn start(cfg: &ZooCfg) -> Option<Purger> {
    let hours = cfg.autopurge_purge_interval_hours;
    if hours == 0 {
        return None;
    }
    let mut retain = cfg.autopurge_snap_retain_count as usize;
    if retain < MIN_RETAIN_COUNT {
        eprintln!(
            "keeper: warning: autopurge.snapRetainCount {retain} is below {MIN_RETAIN_COUNT}; keeping {MIN_RETAIN_COUNT}"
        );
        retain = MIN_RETAIN_COUNT;
    }
    let data_dir = cfg.data_dir.clone();
    let log_dir = cfg.data_log_dir.clone().unwrap_or_else(|| data_dir.clone());
    let interval = Duration::from_secs(3600 * u64::from(hours));
    let (wake, woken) = mpsc::channel::<Wake>();
    let thread = std::thread::Builder::new()
        .name("purge".into())
        .spawn(move || {
            // A server stopped, or gone, before its start-up snapshot was sealed purges nothing.
            if !matches!(woken.recv(), Ok(Wake::Sealed)) {
                return;
            }
            loop {
                run_once(&log_dir, &data_dir, retain);
                // Wakes at the next interval, or as soon as the server stops.
                match woken.recv_timeout(interval) {
                    Ok(Wake::Sealed) | Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Ok(Wake::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
        })
        .ok()?;
    eprintln!("keeper: autopurge every {hours} h, keeping {retain} snapshots");
    Some(Purger {
        wake,
        thread: Some(thread),
    })
}

/// One purge, reported on stderr; a failure is reported and the server goes on (upstream's
/// timer task logs it and tries again at the next interval).
fn run_once(log_dir: &Path, data_dir: &Path, retain: usize) {
    match purge(log_dir, data_dir, retain) {
        Ok(removed) => {
            for path in removed {
                eprintln!("keeper: autopurge: removed {}", path.display());
            }
        }
        Err(e) => eprintln!("keeper: autopurge failed: {e}"),
    }
}

/// `keeper purge DATALOGDIR [SNAPDIR] -n COUNT` (`PurgeTxnLog.main`): removes all but the
/// newest COUNT snapshots and the logs they need.
pub fn by_hand(dirs: &[PathBuf], count: usize) -> ExitCode {
    if count < MIN_RETAIN_COUNT {
        eprintln!("count should be greater than or equal to {MIN_RETAIN_COUNT}");
        return ExitCode::from(2);
    }
    let (log_dir, snap_dir) = match dirs {
        [log_dir] => (log_dir, log_dir),
        [log_dir, snap_dir] => (log_dir, snap_dir),
        _ => {
            eprintln!("usage: keeper purge DATALOGDIR [SNAPDIR] -n COUNT");
            return ExitCode::from(2);
        }
    };
    match purge(log_dir, snap_dir, count) {
        Ok(removed) => {
            for path in removed {
                println!("Removing file: {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("keeper purge: {e}");
            ExitCode::FAILURE
        }
    }
}
