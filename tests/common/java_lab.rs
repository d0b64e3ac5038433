//! The course's "servers up and down" lab in Java: `DistributeServer` registers an ephemeral
//! sequential znode under `/servers` and stays up; `DistributeClient` watches `/servers` and
//! prints `servers = [...]` on every change. Their sources are in `tests/interop/java/`,
//! compiled with `javac` at test time against Debian's ZooKeeper client jar.

use super::{run_to_end, tools, Guarded};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Compiles the lab into `classes/` under `dir`.
pub fn compile(dir: &Path) -> PathBuf {
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/java");
    let classes = dir.join("classes");
    let mut javac = Command::new("javac");
    javac
        .arg("-d")
        .arg(&classes)
        .args(["-cp", tools::ZOOKEEPER_JAR])
        .arg(sources.join("DistributeServer.java"))
        .arg(sources.join("DistributeClient.java"));
    let finished = run_to_end(javac, "", Duration::from_secs(120)).expect("javac finishes");
    assert!(
        finished.status.success(),
        "javac failed:\n{}",
        finished.output
    );
    classes
}

/// Starts one of the lab's programs (`DistributeServer` or `DistributeClient`), killed when
/// dropped.
pub fn program(classes: &Path, main: &str, args: &[&str]) -> Guarded {
    let classpath = format!("{}:{}", classes.display(), tools::zookeeper_classpath());
    let mut java_args = vec!["-Xmx64m", "-cp", &classpath, main];
    java_args.extend_from_slice(args);
    Guarded::spawn(main, "java", &java_args, classes, None).expect("java starts")
}
