//! The multi-client shell: zkCli's texts for the watch commands, and the clients' commands.
//! Texts were checked against zkCli 3.8 (`reference/zkcli-formats.md` §2 and a real server).

use ch02_watches::demo::replay;

/// The transcript of `script`, without the prompts' lines and the connection events.
fn output(script: &[&str]) -> Vec<String> {
    let (text, _) = replay(script);
    text.lines()
        .filter(|l| !l.starts_with("[zk: "))
        .map(str::to_string)
        .collect()
}

/// The lines `script`'s last command printed.
fn last(script: &[&str]) -> Vec<String> {
    let (text, _) = replay(script);
    let tail = text.rsplit("[zk: ").next().unwrap_or_default();
    tail.lines().skip(1).map(str::to_string).collect()
}

#[test]
fn removing_a_watch_that_does_not_exist_prints_no_such_watcher() {
    // KeeperException.NoWatcherException: "KeeperErrorCode = No such watcher for /x".
    assert_eq!(
        last(&["removewatches /x"]),
        ["KeeperErrorCode = No such watcher for /x"]
    );
}

#[test]
fn removing_a_data_watch_tells_the_watcher() {
    // Real zkCli 3.8: the default watcher prints DataWatchRemoved.
    assert_eq!(
        last(&["create /x", "get -w /x", "removewatches /x -d"]),
        [
            "",
            "WATCHER::",
            "",
            "WatchedEvent state:SyncConnected type:DataWatchRemoved path:/x"
        ]
    );
}

#[test]
fn a_watch_on_a_bad_path_prints_the_path_rule() {
    // PathUtils.validatePath, on the client, before anything is sent.
    assert_eq!(last(&["get -w x"]), ["Path must start with / character"]);
    assert_eq!(last(&["addWatch x"]), ["Path must start with / character"]);
    assert_eq!(
        last(&["removewatches /x/"]),
        ["Path must not end with / character"]
    );
}

#[test]
fn bad_arguments_print_zkclis_usage() {
    // AddWatchCommand / RemoveWatchesCommand usage strings.
    let add = "addWatch [-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE";
    assert_eq!(last(&["addWatch"]), [add]);
    assert_eq!(last(&["addWatch -m once /x"]), [add]);
    assert_eq!(
        last(&["removewatches"]),
        ["removewatches path [-c|-d|-a] [-l]"]
    );
    assert_eq!(
        last(&["removewatches /x -q"]),
        ["org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -q"]
    );
}

#[test]
fn another_clients_event_prints_under_its_prompt() {
    // The seed's second machine: the event appears after B's idle prompt.
    let (text, _) = replay(&["create /x", "connect B", "get -w /x", "use A", "set /x y"]);
    assert!(
        text.ends_with(
            "[zk: A(CONNECTED) 4] set /x y\n[zk: B(CONNECTED) 5] \nWATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDataChanged path:/x\n"
        ),
        "{text}"
    );
}

#[test]
fn a_closed_clients_ephemerals_go_and_the_watchers_hear() {
    // Session close: one delete per ephemeral (client-protocol.md §10).
    let out = output(&[
        "create /services",
        "connect S",
        "create -e /services/s1 up",
        "connect C",
        "ls -w /services",
        "use S",
        "close",
    ]);
    assert!(out.contains(
        &"WatchedEvent state:SyncConnected type:NodeChildrenChanged path:/services".to_string()
    ));
    assert!(out.contains(&"WatchedEvent state:Closed type:None path:null".to_string()));
}

#[test]
fn clients_are_named_and_switched() {
    assert_eq!(last(&["use Z"]), ["No client named Z: connect Z first"]);
    assert_eq!(last(&["connect A"]), ["Client A is already connected"]);
    assert_eq!(last(&["connect"]), ["connect name"]);
}

#[test]
fn printwatches_off_hides_events() {
    // ZooKeeperMain: `printwatches` alone reports the setting; `off` stops the printing.
    assert_eq!(last(&["printwatches"]), ["printwatches is on"]);
    let out = output(&["create /x", "get -w /x", "printwatches off", "set /x y"]);
    assert!(
        !out.iter().any(|l| l.contains("NodeDataChanged")),
        "{out:?}"
    );
}
