//! Every row of ZooKeeper's trigger table, one test each. The triggers fed in are the ones the
//! tree reports for the operation (`reference/client-protocol.md` §10, "Trigger table"; upstream
//! `DataTree.createNode` / `deleteNode` / `setData`).

use ch02_watches::{AddWatchMode, EventType, SessionId, WatchRegistry, WatcherType, ZkError};
use EventType::*;

const A: SessionId = SessionId(0xa);
const B: SessionId = SessionId(0xb);

/// The triggers `create path` makes: NodeCreated on it, NodeChildrenChanged on its parent.
fn create(path: &str) -> Vec<(String, EventType)> {
    vec![
        (path.into(), NodeCreated),
        (parent(path), NodeChildrenChanged),
    ]
}

/// The triggers `delete path` makes: NodeDeleted on it, NodeChildrenChanged on its parent.
fn delete(path: &str) -> Vec<(String, EventType)> {
    vec![
        (path.into(), NodeDeleted),
        (parent(path), NodeChildrenChanged),
    ]
}

/// The trigger `set path` makes.
fn set(path: &str) -> Vec<(String, EventType)> {
    vec![(path.into(), NodeDataChanged)]
}

fn parent(path: &str) -> String {
    match path.rfind('/').expect("test paths start with /") {
        0 => "/".into(),
        i => path[..i].into(),
    }
}

/// Feeds the triggers to the registry and lists what was delivered as `session type path`.
fn fire(registry: &mut WatchRegistry, triggers: Vec<(String, EventType)>) -> Vec<String> {
    triggers
        .iter()
        .flat_map(|(path, event_type)| registry.trigger(path, *event_type))
        .map(|d| {
            let path = d.event.path.unwrap_or_default();
            format!("{} {} {}", d.watcher, d.event.event_type, path)
        })
        .collect()
}

#[test]
fn create_fires_node_created_on_an_exists_watch_of_the_missing_node() {
    // §10: create /p/c → dataWatches(/p/c) NodeCreated. `exists -w` on a missing node
    // registers a data watch (DataTree.statNode adds the watch before looking the node up).
    let mut registry = WatchRegistry::default();
    registry.watch_data(A, "/p/c").unwrap();
    assert_eq!(
        fire(&mut registry, create("/p/c")),
        ["0xa NodeCreated /p/c"]
    );
}

#[test]
fn create_fires_node_children_changed_on_the_parents_child_watch() {
    // §10: create /p/c → childWatches(/p) NodeChildrenChanged.
    let mut registry = WatchRegistry::default();
    registry.watch_children(A, "/p").unwrap();
    assert_eq!(
        fire(&mut registry, create("/p/c")),
        ["0xa NodeChildrenChanged /p"]
    );
}

#[test]
fn create_does_not_fire_the_parents_data_watch() {
    // §10: a new child changes the parent's pzxid and cversion, not its data.
    let mut registry = WatchRegistry::default();
    registry.watch_data(A, "/p").unwrap();
    assert!(fire(&mut registry, create("/p/c")).is_empty());
    assert_eq!(fire(&mut registry, set("/p")), ["0xa NodeDataChanged /p"]);
}

#[test]
fn create_at_the_top_fires_the_roots_child_watch() {
    // §10: the parent of a top-level node is "/".
    let mut registry = WatchRegistry::default();
    registry.watch_children(A, "/").unwrap();
    assert_eq!(
        fire(&mut registry, create("/sanguo")),
        ["0xa NodeChildrenChanged /"]
    );
}

#[test]
fn delete_fires_node_deleted_on_the_nodes_data_watch() {
    // §10: delete /p/c → dataWatches(/p/c) NodeDeleted.
    let mut registry = WatchRegistry::default();
    registry.watch_data(A, "/p/c").unwrap();
    assert_eq!(
        fire(&mut registry, delete("/p/c")),
        ["0xa NodeDeleted /p/c"]
    );
}

#[test]
fn delete_fires_node_deleted_on_the_nodes_child_watch() {
    // §10: delete /p/c → childWatches(/p/c) NodeDeleted.
    let mut registry = WatchRegistry::default();
    registry.watch_children(A, "/p/c").unwrap();
    assert_eq!(
        fire(&mut registry, delete("/p/c")),
        ["0xa NodeDeleted /p/c"]
    );
}

#[test]
fn delete_tells_a_session_with_both_watches_once() {
    // §10: "not sent twice to a connection that also had a data watch" (DataTree.deleteNode
    // passes the data watchers to the child trigger as `suppress`). Both watches are spent.
    let mut registry = WatchRegistry::default();
    registry.watch_data(A, "/p/c").unwrap();
    registry.watch_children(A, "/p/c").unwrap();
    registry.watch_children(B, "/p/c").unwrap();
    assert_eq!(
        fire(&mut registry, delete("/p/c")),
        ["0xa NodeDeleted /p/c", "0xb NodeDeleted /p/c"]
    );
    assert_eq!(registry.size(), 0);
}

#[test]
fn delete_fires_node_children_changed_on_the_parents_child_watch() {
    // §10: delete /p/c → childWatches(/p) NodeChildrenChanged.
    let mut registry = WatchRegistry::default();
    registry.watch_children(A, "/p").unwrap();
    assert_eq!(
        fire(&mut registry, delete("/p/c")),
        ["0xa NodeChildrenChanged /p"]
    );
}

#[test]
fn set_fires_node_data_changed_on_the_data_watch_only() {
    // §10: setData /p/c → dataWatches(/p/c) NodeDataChanged; child watches are not touched.
    let mut registry = WatchRegistry::default();
    registry.watch_data(A, "/p/c").unwrap();
    registry.watch_children(B, "/p/c").unwrap();
    registry.watch_children(B, "/p").unwrap();
    assert_eq!(
        fire(&mut registry, set("/p/c")),
        ["0xa NodeDataChanged /p/c"]
    );
    assert_eq!(
        registry.watchers_of("/p/c"),
        [B],
        "B's child watch is still there"
    );
}

#[test]
fn a_watch_fires_once() {
    // The seed: "注册一次，只能监听一次" — register once, hear once (WatchManager.triggerWatch
    // removes STANDARD registrations as it fires them).
    let mut registry = WatchRegistry::default();
    registry.watch_data(B, "/sanguo").unwrap();
    assert_eq!(
        fire(&mut registry, set("/sanguo")),
        ["0xb NodeDataChanged /sanguo"]
    );
    assert!(fire(&mut registry, set("/sanguo")).is_empty());
}

#[test]
fn a_watch_registered_twice_is_told_once() {
    // §10: "A connection that set the same watch twice gets one event."
    let mut registry = WatchRegistry::default();
    assert!(registry.watch_data(A, "/x").unwrap());
    assert!(!registry.watch_data(A, "/x").unwrap());
    assert_eq!(fire(&mut registry, set("/x")), ["0xa NodeDataChanged /x"]);
    assert!(fire(&mut registry, set("/x")).is_empty());
}

#[test]
fn a_standard_watch_is_not_fired_by_a_grandchild() {
    // §10: "A non-persistent watch on the parent path is not fired by a descendant's event."
    let mut registry = WatchRegistry::default();
    registry.watch_data(A, "/p").unwrap();
    registry.watch_children(A, "/p").unwrap();
    assert!(fire(&mut registry, set("/p/c/d")).is_empty());
    assert!(fire(&mut registry, create("/p/c/d")).is_empty());
}

#[test]
fn every_watcher_of_a_path_is_told_in_session_order() {
    // WatchManager.triggerWatch collects every watcher on the path; we deliver in session order.
    let mut registry = WatchRegistry::default();
    registry.watch_data(B, "/x").unwrap();
    registry.watch_data(A, "/x").unwrap();
    assert_eq!(
        fire(&mut registry, set("/x")),
        ["0xa NodeDataChanged /x", "0xb NodeDataChanged /x"]
    );
}

#[test]
fn a_persistent_watch_hears_data_children_and_deletion_and_stays() {
    // §10 persistent watches: mode 0 fires for the same events as data plus child watches on
    // that path and is not removed (WatcherMode.PERSISTENT; it survives the node's deletion).
    let mut registry = WatchRegistry::default();
    registry
        .add_watch(A, "/p", AddWatchMode::Persistent)
        .unwrap();
    let mut heard = fire(&mut registry, set("/p"));
    heard.extend(fire(&mut registry, set("/p")));
    heard.extend(fire(&mut registry, create("/p/c")));
    heard.extend(fire(&mut registry, set("/p/c")));
    heard.extend(fire(&mut registry, delete("/p")));
    heard.extend(fire(&mut registry, create("/p")));
    assert_eq!(
        heard,
        [
            "0xa NodeDataChanged /p",
            "0xa NodeDataChanged /p",
            "0xa NodeChildrenChanged /p",
            "0xa NodeDeleted /p",
            "0xa NodeCreated /p",
        ]
    );
}

#[test]
fn a_recursive_watch_hears_the_subtree_but_never_node_children_changed() {
    // §10: "Recursive watches do not get NodeChildrenChanged events"; real-zookeeper.md saw
    // NodeCreated/NodeDataChanged/NodeDeleted for the subtree and nothing else.
    let mut registry = WatchRegistry::default();
    registry
        .add_watch(A, "/p", AddWatchMode::PersistentRecursive)
        .unwrap();
    let mut heard = fire(&mut registry, create("/p/c"));
    heard.extend(fire(&mut registry, create("/p/c/d")));
    heard.extend(fire(&mut registry, set("/p/c/d")));
    heard.extend(fire(&mut registry, set("/p")));
    heard.extend(fire(&mut registry, delete("/p/c/d")));
    heard.extend(fire(&mut registry, set("/q")));
    assert_eq!(
        heard,
        [
            "0xa NodeCreated /p/c",
            "0xa NodeCreated /p/c/d",
            "0xa NodeDataChanged /p/c/d",
            "0xa NodeDataChanged /p",
            "0xa NodeDeleted /p/c/d",
        ]
    );
}

#[test]
fn a_recursive_and_a_standard_watch_of_one_session_give_one_event() {
    // WatchManager.triggerWatch collects watchers in a set: one event per session per trigger.
    // The standard watch is spent; the recursive one stays.
    let mut registry = WatchRegistry::default();
    registry
        .add_watch(A, "/", AddWatchMode::PersistentRecursive)
        .unwrap();
    registry.watch_data(A, "/x").unwrap();
    assert_eq!(fire(&mut registry, set("/x")), ["0xa NodeDataChanged /x"]);
    assert_eq!(fire(&mut registry, set("/x")), ["0xa NodeDataChanged /x"]);
    assert_eq!(registry.size(), 1);
}

#[test]
fn add_watch_twice_keeps_one_watch() {
    // WatchStats.addMode: the same mode added twice changes nothing.
    let mut registry = WatchRegistry::default();
    registry
        .add_watch(A, "/p", AddWatchMode::Persistent)
        .unwrap();
    registry
        .add_watch(A, "/p", AddWatchMode::Persistent)
        .unwrap();
    assert_eq!(fire(&mut registry, set("/p")), ["0xa NodeDataChanged /p"]);
    assert_eq!(registry.size(), 2, "one entry in each table");
}

#[test]
fn the_registry_takes_a_watch_on_any_path() {
    // Upstream's WatchManager checks no path (a 3.8 server validates none for watch ops;
    // the Java client does before sending): the watch is held, and no change reaches it.
    let mut registry = WatchRegistry::default();
    assert_eq!(registry.watch_data(A, "sanguo"), Ok(true));
    assert_eq!(registry.watch_children(A, "/a//b"), Ok(true));
    assert_eq!(
        registry.add_watch(A, "/a/", AddWatchMode::Persistent),
        Ok(())
    );
    // A persistent watch is in both tables.
    assert_eq!(registry.size(), 4);
}

#[test]
fn closing_a_session_drops_its_watches_and_keeps_others() {
    // DataTree.removeCnxn: a watch belongs to the connection.
    let mut registry = WatchRegistry::default();
    registry.watch_data(A, "/x").unwrap();
    registry
        .add_watch(A, "/", AddWatchMode::PersistentRecursive)
        .unwrap();
    registry.watch_data(B, "/x").unwrap();
    registry.close_session(A);
    assert_eq!(fire(&mut registry, set("/x")), ["0xb NodeDataChanged /x"]);
}

mod remove_watches {
    use super::*;

    #[test]
    fn removing_a_watch_that_does_not_exist_is_no_watcher() {
        // FinalRequestProcessor removeWatches: `if (!removed) throw NoWatcherException`.
        let mut registry = WatchRegistry::default();
        assert_eq!(
            registry.remove_watches(A, "/x", WatcherType::Any),
            Err(ZkError::NoWatcher)
        );
        registry.watch_data(B, "/x").unwrap();
        assert_eq!(
            registry.remove_watches(A, "/x", WatcherType::Any),
            Err(ZkError::NoWatcher),
            "another session's watch is not ours to remove"
        );
    }

    #[test]
    fn removing_the_data_watch_keeps_the_child_watch() {
        // DataTree.removeWatch(Data) touches dataWatches only; the client raises DataWatchRemoved.
        let mut registry = WatchRegistry::default();
        registry.watch_data(A, "/x").unwrap();
        registry.watch_children(A, "/x").unwrap();
        assert_eq!(
            registry.remove_watches(A, "/x", WatcherType::Data),
            Ok(vec![DataWatchRemoved])
        );
        assert_eq!(
            registry.remove_watches(A, "/x", WatcherType::Data),
            Err(ZkError::NoWatcher)
        );
        assert_eq!(
            fire(&mut registry, create("/x/c")),
            ["0xa NodeChildrenChanged /x"]
        );
    }

    #[test]
    fn any_removes_every_kind_and_reports_each() {
        // WatcherType.Any (zkCli's default for removewatches) removes both tables; real zkCli
        // 3.8 printed DataWatchRemoved, then ChildWatchRemoved.
        let mut registry = WatchRegistry::default();
        registry.watch_data(A, "/x").unwrap();
        registry.watch_children(A, "/x").unwrap();
        assert_eq!(
            registry.remove_watches(A, "/x", WatcherType::Any),
            Ok(vec![DataWatchRemoved, ChildWatchRemoved])
        );
        assert!(fire(&mut registry, delete("/x")).is_empty());
    }

    #[test]
    fn data_does_not_remove_a_persistent_watch() {
        // 3.9 DataTree.removeWatch(Data) removes STANDARD only (ZOOKEEPER-4471). 3.8 answered
        // NoWatcher too but dropped the data half of the persistent watch on the server.
        let mut registry = WatchRegistry::default();
        registry
            .add_watch(A, "/x", AddWatchMode::Persistent)
            .unwrap();
        assert_eq!(
            registry.remove_watches(A, "/x", WatcherType::Data),
            Err(ZkError::NoWatcher)
        );
        assert_eq!(fire(&mut registry, set("/x")), ["0xa NodeDataChanged /x"]);
    }

    #[test]
    fn any_removes_a_persistent_watch_with_persistent_watch_removed() {
        // Real zkCli 3.8: `removewatches /w1` after `addWatch` prints PersistentWatchRemoved.
        let mut registry = WatchRegistry::default();
        registry
            .add_watch(A, "/x", AddWatchMode::PersistentRecursive)
            .unwrap();
        assert_eq!(
            registry.remove_watches(A, "/x", WatcherType::Any),
            Ok(vec![PersistentWatchRemoved])
        );
        assert!(fire(&mut registry, set("/x/y")).is_empty());
        assert_eq!(registry.size(), 0);
    }

    #[test]
    fn persistent_removes_both_halves_of_a_persistent_watch() {
        // 3.9 DataTree.removeWatch(Persistent) removes the mode from both tables.
        let mut registry = WatchRegistry::default();
        registry
            .add_watch(A, "/x", AddWatchMode::Persistent)
            .unwrap();
        registry.watch_data(A, "/x").unwrap();
        assert_eq!(
            registry.remove_watches(A, "/x", WatcherType::Persistent),
            Ok(vec![PersistentWatchRemoved])
        );
        assert_eq!(registry.size(), 1, "the one-shot data watch is left");
    }

    #[test]
    fn removing_the_persistent_mode_keeps_a_recursive_watch_on_the_same_path() {
        // 3.9 WatchStats: modes on one path are removed one by one. Found by tests/model.rs.
        let mut registry = WatchRegistry::default();
        registry
            .add_watch(A, "/x", AddWatchMode::PersistentRecursive)
            .unwrap();
        registry
            .add_watch(A, "/x", AddWatchMode::Persistent)
            .unwrap();
        assert_eq!(
            registry.remove_watches(A, "/x", WatcherType::Persistent),
            Ok(vec![PersistentWatchRemoved])
        );
        assert_eq!(
            fire(&mut registry, set("/x/y")),
            ["0xa NodeDataChanged /x/y"]
        );
        assert!(fire(&mut registry, create("/x/z"))
            .iter()
            .all(|told| !told.contains("NodeChildrenChanged")));
    }

    #[test]
    fn check_watches_answers_without_removing() {
        // FinalRequestProcessor checkWatches: NoWatcher when containsWatcher is false.
        let mut registry = WatchRegistry::default();
        registry.watch_children(A, "/x").unwrap();
        assert_eq!(
            registry.check_watches(A, "/x", WatcherType::Children),
            Ok(())
        );
        assert_eq!(
            registry.check_watches(A, "/x", WatcherType::Data),
            Err(ZkError::NoWatcher)
        );
        assert_eq!(registry.check_watches(A, "/x", WatcherType::Any), Ok(()));
        assert_eq!(registry.size(), 1);
    }

    #[test]
    fn removing_on_a_malformed_path_finds_no_watcher() {
        let mut registry = WatchRegistry::default();
        assert_eq!(
            registry.remove_watches(A, "x", WatcherType::Any),
            Err(ZkError::NoWatcher)
        );
    }
}
