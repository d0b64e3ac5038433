//! Bad input gets zkCli's message and the shell goes on: random lines built from this
//! chapter's commands, options and paths (good and bad) never panic, whatever the order —
//! switching to clients that do not exist, using closed ones, removing watches never set.

use ch02_watches::demo::replay;
use proptest::prelude::*;

const WORDS: &[&str] = &[
    "connect",
    "use",
    "close",
    "addWatch",
    "removewatches",
    "printwatches",
    "get",
    "ls",
    "stat",
    "create",
    "set",
    "delete",
    "deleteall",
    "quit",
    "-w",
    "-m",
    "-c",
    "-d",
    "-a",
    "-l",
    "-e",
    "-s",
    "PERSISTENT",
    "persistent_recursive",
    "once",
    "on",
    "off",
    "A",
    "B",
    "C",
    "/",
    "/a",
    "/a/b",
    "a",
    "/a/",
    "//",
    "x",
    "-v",
    "1",
];

fn line() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WORDS), 0..5).prop_map(|w| w.join(" "))
}

proptest! {
    #[test]
    fn random_sessions_never_panic(lines in prop::collection::vec(line(), 1..25)) {
        let script: Vec<&str> = lines.iter().map(String::as_str).collect();
        let (text, trace) = replay(&script);
        prop_assert!(!trace.is_empty());
        prop_assert!(text.contains("[zk: "));
    }
}
