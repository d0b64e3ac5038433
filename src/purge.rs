//! `keeper server`'s purge task and `keeper purge`: chapter 7's [`purge`] on a timer, and by
//! hand.
//!
//! The idea to take away: the decision of what to delete is chapter 7's pure rule; this is
//! only *when*. With `autopurge.purgeInterval` hours set (0, the default, means never), the
//! server purges once at start-up and then every interval, keeping
//! `autopurge.snapRetainCount` snapshots (at least 3), as upstream's `DatadirCleanupManager`
//! does on its timer thread. `keeper purge` is `zkCleanup.sh`'s `PurgeTxnLog`: the same rule,
//! once, on directories named on the command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use ch03_sessions::config::ZooCfg;
use ch07_persistence::purge::{purge, MIN_RETAIN_COUNT};

/// The purge thread; dropping it stops the thread (and waits for a purge under way).
pub struct Purger {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Purger {
    fn drop(&mut self) {
        drop(self.stop.take());
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
    let (stop, stopped) = mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("purge".into())
        .spawn(move || loop {
            run_once(&log_dir, &data_dir, retain);
            // Wakes at the next interval, or as soon as the server lets go of the sender.
            if stopped.recv_timeout(interval) != Err(mpsc::RecvTimeoutError::Timeout) {
                return;
            }
        })
        .ok()?;
    eprintln!("keeper: autopurge every {hours} h, keeping {retain} snapshots");
    Some(Purger {
        stop: Some(stop),
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
