//! The course's "servers up and down" lab in Java: `DistributeServer` registers an ephemeral
//! sequential znode under `/servers` and stays up; `DistributeClient` watches `/servers` and
//! prints `servers = [...]` on every change. Their sources are in `tests/interop/java/`,
//! compiled with `javac` at test time against Debian's ZooKeeper client jar.

use super::{run_to_end, tools, Guarded};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The lab's classes, compiled once per version of its sources into the target folder and
/// shared by every test binary: javac takes seconds on a loaded machine. A compile goes to a
/// folder of its own and is renamed into place, so no test sees half of one, and two
/// binaries compiling at once both end up with the same classes.
pub fn compiled() -> PathBuf {
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/java");
    let files = [
        sources.join("DistributeServer.java"),
        sources.join("DistributeClient.java"),
    ];
    let mut hasher = DefaultHasher::new();
    for file in &files {
        std::fs::read(file)
            .expect("the lab's sources")
            .hash(&mut hasher);
    }
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let classes = target.join(format!("java-lab-{:016x}", hasher.finish()));
    if classes.exists() {
        return classes;
    }
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let scratch = target.join(format!("java-lab-{}-{nanos}", std::process::id()));
    let mut javac = Command::new("javac");
    javac
        .arg("-d")
        .arg(&scratch)
        .args(["-cp", tools::ZOOKEEPER_JAR])
        .args(&files);
    let finished = run_to_end(javac, "", Duration::from_secs(120)).expect("javac finishes");
    assert!(
        finished.status.success(),
        "javac failed:\n{}",
        finished.output
    );
    // Another binary may have put its own there first: then ours is not needed.
    if std::fs::rename(&scratch, &classes).is_err() {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    assert!(
        classes.exists(),
        "the lab's classes at {}",
        classes.display()
    );
    classes
}

/// Starts one of the lab's programs (`DistributeServer` or `DistributeClient`), killed when
/// dropped.
pub fn program(classes: &Path, main: &str, args: &[&str]) -> Guarded {
    let classpath = format!("{}:{}", classes.display(), tools::zookeeper_classpath());
    let mut java_args = tools::JVM_OPTIONS.to_vec();
    java_args.extend(["-Xmx64m", "-cp", &classpath, main]);
    java_args.extend_from_slice(args);
    Guarded::spawn(main, "java", &java_args, classes, None).expect("java starts")
}
