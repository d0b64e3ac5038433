//! The crash drill: the storage killed before each file system call a quorum peer's work makes
//! it do, recovered each time (`ch07_persistence::crash_drill`).
//!
//! The drill needs `strace` (`.ci/run` installs it); without it the test prints why
//! (`SKIPPED ...`) and passes.

use std::io::Write;
use std::process::Command;

use ch07_persistence::crash_drill::{check, run, workload, Mark};

/// Every crash point keeps the storage's promises: recovery opens the dataDir, finds a
/// database the work built and no older than the last one made durable, and epochs that
/// never went back. The drill really killed the child before every kind of write the storage
/// makes: a log record, its fdatasync, a file cut back, an epoch file's rename, a removal.
#[test]
fn killed_before_any_file_system_call_the_storage_recovers_what_it_promised() {
    if Command::new("strace").arg("-V").output().is_err() {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED killed_before_any_file_system_call: strace is not installed"
        );
        return;
    }
    let exe = std::path::Path::new(env!("CARGO_BIN_EXE_ch07-persistence"));
    let drilled = run(exe).unwrap();
    assert!(drilled.broken.is_empty(), "{:#?}", drilled.broken);
    let drilled_before = |call: &str| {
        (drilled.crashes.iter())
            .find(|(c, _)| *c == call)
            .map_or(0, |(_, n)| *n)
    };
    for call in [
        "pwrite64",
        "fdatasync",
        "fsync",
        "ftruncate",
        "rename",
        "unlink",
    ] {
        assert!(
            drilled_before(call) > 0,
            "never killed before {call}: {drilled:?}"
        );
    }
    assert!(drilled.total() > 100, "{drilled:?}");
}

/// The judge itself: the whole work's dataDir passes with every mark said; with the last
/// log file gone, the durable txns in it are missed; with the epochs said higher than the
/// files hold, the epochs went back.
#[test]
fn the_drills_judge_fails_a_lost_durable_txn_and_epochs_that_went_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut said = Vec::new();
    let work = workload(dir.path(), &mut |mark| said.push(mark)).unwrap();
    assert_eq!(check(&work, &said, dir.path()), Ok(()));
    let Some(Mark::Durable(last)) = said.last().copied() else {
        panic!("the work ends durable: {said:?}");
    };
    assert_eq!(last, work.states.len() - 1);

    let mut higher = said.clone();
    if let Some(Mark::Epochs(e)) = higher
        .iter_mut()
        .rev()
        .find(|m| matches!(m, Mark::Epochs(_)))
    {
        e.current.0 += 1;
        e.accepted.0 += 1;
    }
    let went_back = check(&work, &higher, dir.path()).unwrap_err();
    assert!(went_back.contains("epochs went back"), "{went_back}");

    let v2 = dir.path().join("version-2");
    let newest_log = ch07_persistence::names::list(&v2, ch07_persistence::names::LOG_PREFIX)
        .unwrap()
        .pop()
        .unwrap()
        .1;
    std::fs::remove_file(newest_log).unwrap();
    let lost = check(&work, &said, dir.path()).unwrap_err();
    assert!(lost.contains("older state"), "{lost}");
}
