//! `SetWatches` on reconnect, row by row (`reference/client-protocol.md` §11; upstream
//! `DataTree.setWatches`).

use std::collections::BTreeMap;

use ch02_watches::registry::Table;
use ch02_watches::{EventType, NodeZxids, SessionId, SetWatches, WatchRegistry, WatcherMode, Zxid};

const A: SessionId = SessionId(0xa);

/// A tree seen through its zxids: /old unchanged since 0x5, /data changed at 0x9, /kids got a
/// child at 0x9.
fn tree() -> BTreeMap<&'static str, NodeZxids> {
    let node = |m, p| NodeZxids {
        mzxid: Zxid(m),
        pzxid: Zxid(p),
    };
    BTreeMap::from([
        ("/old", node(0x3, 0x5)),
        ("/data", node(0x9, 0x3)),
        ("/kids", node(0x3, 0x9)),
    ])
}

fn reconnect(registry: &mut WatchRegistry, request: SetWatches) -> Vec<String> {
    let tree = tree();
    registry
        .set_watches(A, &request, |p| tree.get(p).copied())
        .into_iter()
        .map(|d| {
            format!(
                "{} {}",
                d.event.event_type,
                d.event.path.unwrap_or_default()
            )
        })
        .collect()
}

fn paths(list: &[&str]) -> Vec<String> {
    list.iter().map(|p| p.to_string()).collect()
}

#[test]
fn data_watches_fire_for_missing_or_changed_nodes_and_re_register_otherwise() {
    // §11 dataWatches row: missing → NodeDeleted; mzxid > rel → NodeDataChanged; else register.
    let mut registry = WatchRegistry::default();
    let fired = reconnect(
        &mut registry,
        SetWatches {
            relative_zxid: Zxid(0x5),
            data_watches: paths(&["/gone", "/data", "/old"]),
            ..SetWatches::default()
        },
    );
    assert_eq!(fired, ["NodeDeleted /gone", "NodeDataChanged /data"]);
    assert_eq!(
        registry.watches_of(A),
        [(Table::Data, "/old".to_string(), WatcherMode::Standard)]
    );
}

#[test]
fn exist_watches_fire_node_created_when_the_node_appeared() {
    // §11 existWatches row: node exists → NodeCreated now; missing → register a data watch.
    let mut registry = WatchRegistry::default();
    let fired = reconnect(
        &mut registry,
        SetWatches {
            relative_zxid: Zxid(0x5),
            exist_watches: paths(&["/old", "/gone"]),
            ..SetWatches::default()
        },
    );
    assert_eq!(fired, ["NodeCreated /old"]);
    assert_eq!(
        registry.watches_of(A),
        [(Table::Data, "/gone".to_string(), WatcherMode::Standard)]
    );
}

#[test]
fn child_watches_compare_pzxid() {
    // §11 childWatches row: missing → NodeDeleted; pzxid > rel → NodeChildrenChanged; else
    // register. /data's data changed but not its children, so its child watch is re-registered.
    let mut registry = WatchRegistry::default();
    let fired = reconnect(
        &mut registry,
        SetWatches {
            relative_zxid: Zxid(0x5),
            child_watches: paths(&["/gone", "/kids", "/data"]),
            ..SetWatches::default()
        },
    );
    assert_eq!(fired, ["NodeDeleted /gone", "NodeChildrenChanged /kids"]);
    assert_eq!(
        registry.watches_of(A),
        [(Table::Child, "/data".to_string(), WatcherMode::Standard)]
    );
}

#[test]
fn persistent_watches_are_registered_unconditionally() {
    // §11 persistent rows: register, whatever the node's state; nothing fires.
    let mut registry = WatchRegistry::default();
    let fired = reconnect(
        &mut registry,
        SetWatches {
            relative_zxid: Zxid(0x0),
            persistent_watches: paths(&["/gone"]),
            persistent_recursive_watches: paths(&["/data"]),
            ..SetWatches::default()
        },
    );
    assert!(fired.is_empty());
    assert_eq!(
        registry.watches_of(A),
        [
            (
                Table::Data,
                "/data".to_string(),
                WatcherMode::PersistentRecursive
            ),
            (Table::Data, "/gone".to_string(), WatcherMode::Persistent),
            (Table::Child, "/gone".to_string(), WatcherMode::Persistent),
        ]
    );
}

#[test]
fn a_re_registered_watch_fires_on_the_next_change() {
    // The point of SetWatches: after it, the watch behaves as if never interrupted.
    let mut registry = WatchRegistry::default();
    reconnect(
        &mut registry,
        SetWatches {
            relative_zxid: Zxid(0x5),
            data_watches: paths(&["/old"]),
            ..SetWatches::default()
        },
    );
    let told = registry.trigger("/old", EventType::NodeDataChanged);
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].watcher, A);
}
