//! The registry against a model that states the rules the slow way: a flat set of watches,
//! searched in full for every trigger. Random operation sequences must give the same
//! deliveries, the same answers and the same watches. This checks the bookkeeping the fast
//! version adds — two indexes kept in step, the recursive count that lets a trigger skip the
//! parent walk — against the rules of `reference/client-protocol.md` §10.

use std::collections::BTreeSet;

use ch02_watches::{
    AddWatchMode, EventType, SessionId, Watch, WatchKind, WatchRegistry, WatcherMode, WatcherType,
    ZkError,
};
use proptest::prelude::*;

const PATHS: &[&str] = &["/", "/a", "/a/b", "/a/b/c", "/d"];

#[derive(Debug, Clone)]
enum Op {
    WatchData(i64, usize),
    WatchChildren(i64, usize),
    AddWatch(i64, usize, AddWatchMode),
    Remove(i64, usize, WatcherType),
    Close(i64),
    Trigger(usize, EventType),
}

fn op() -> impl Strategy<Value = Op> {
    let s = 1..4i64;
    let p = 0..PATHS.len();
    let mode = prop_oneof![
        Just(AddWatchMode::Persistent),
        Just(AddWatchMode::PersistentRecursive)
    ];
    let wtype = prop_oneof![
        Just(WatcherType::Children),
        Just(WatcherType::Data),
        Just(WatcherType::Any),
        Just(WatcherType::Persistent),
        Just(WatcherType::PersistentRecursive),
    ];
    let etype = prop_oneof![
        Just(EventType::NodeCreated),
        Just(EventType::NodeDeleted),
        Just(EventType::NodeDataChanged),
        Just(EventType::NodeChildrenChanged),
    ];
    prop_oneof![
        (s.clone(), p.clone()).prop_map(|(s, p)| Op::WatchData(s, p)),
        (s.clone(), p.clone()).prop_map(|(s, p)| Op::WatchChildren(s, p)),
        (s.clone(), p.clone(), mode).prop_map(|(s, p, m)| Op::AddWatch(s, p, m)),
        (s.clone(), p.clone(), wtype).prop_map(|(s, p, t)| Op::Remove(s, p, t)),
        s.prop_map(Op::Close),
        (p, etype).prop_map(|(p, e)| Op::Trigger(p, e)),
    ]
}

/// (session, is child table, path, mode): every registration, nothing else.
type Entry = (i64, bool, &'static str, WatcherMode);

#[derive(Default)]
struct Model(BTreeSet<Entry>);

fn is_ancestor(a: &str, p: &str) -> bool {
    a != p && (a == "/" || p.starts_with(&format!("{a}/")))
}

impl Model {
    fn remove_where(&mut self, f: impl Fn(&Entry) -> bool) -> bool {
        let before = self.0.len();
        self.0.retain(|e| !f(e));
        self.0.len() != before
    }

    /// The sessions one table tells about `path`, spending one-shot watches on it.
    fn fire_table(&mut self, child: bool, path: &str) -> BTreeSet<i64> {
        let told = self
            .0
            .iter()
            .filter(|(_, c, p, m)| {
                *c == child
                    && (*p == path
                        || (*m == WatcherMode::PersistentRecursive && is_ancestor(p, path)))
            })
            .map(|e| e.0)
            .collect();
        self.remove_where(|(_, c, p, m)| *c == child && *p == path && *m == WatcherMode::Standard);
        told
    }

    fn trigger(&mut self, path: &str, e: EventType) -> Vec<i64> {
        let (data, child) = match e {
            EventType::NodeCreated | EventType::NodeDataChanged => {
                (self.fire_table(false, path), BTreeSet::new())
            }
            EventType::NodeDeleted => (self.fire_table(false, path), self.fire_table(true, path)),
            _ => (BTreeSet::new(), self.fire_table(true, path)),
        };
        let child_only = child.into_iter().filter(|s| !data.contains(s));
        data.iter().copied().chain(child_only).collect()
    }

    fn remove(&mut self, s: i64, path: &str, t: WatcherType) -> bool {
        use WatcherMode::*;
        self.remove_where(|&(es, c, p, m)| {
            es == s
                && p == path
                && match t {
                    WatcherType::Children => c && m == Standard,
                    WatcherType::Data => !c && m == Standard,
                    WatcherType::Persistent => m == Persistent,
                    WatcherType::PersistentRecursive => m == PersistentRecursive,
                    WatcherType::Any => true,
                }
        })
    }

    fn watches(&self) -> BTreeSet<Watch> {
        self.0
            .iter()
            .filter_map(|&(s, child, path, mode)| {
                let kind = match (child, mode) {
                    (false, WatcherMode::Standard) => WatchKind::Data,
                    (true, WatcherMode::Standard) => WatchKind::Child,
                    (false, WatcherMode::Persistent) => WatchKind::Persistent,
                    (false, WatcherMode::PersistentRecursive) => WatchKind::PersistentRecursive,
                    (true, _) => return None,
                };
                Some(Watch {
                    session: SessionId(s),
                    path: path.to_string(),
                    kind,
                })
            })
            .collect()
    }
}

proptest! {
    #[test]
    fn the_registry_behaves_like_the_model(ops in prop::collection::vec(op(), 1..60)) {
        let mut registry = WatchRegistry::default();
        let mut model = Model::default();
        for op in ops {
            match op {
                Op::WatchData(s, p) => {
                    registry.watch_data(SessionId(s), PATHS[p]).unwrap();
                    model.0.insert((s, false, PATHS[p], WatcherMode::Standard));
                }
                Op::WatchChildren(s, p) => {
                    registry.watch_children(SessionId(s), PATHS[p]).unwrap();
                    model.0.insert((s, true, PATHS[p], WatcherMode::Standard));
                }
                Op::AddWatch(s, p, mode) => {
                    registry.add_watch(SessionId(s), PATHS[p], mode).unwrap();
                    let m = WatcherMode::from(mode);
                    model.0.insert((s, false, PATHS[p], m));
                    if m == WatcherMode::Persistent {
                        model.0.insert((s, true, PATHS[p], m));
                    }
                }
                Op::Remove(s, p, t) => {
                    let got = registry.remove_watches(SessionId(s), PATHS[p], t).map(|_| ());
                    let want = if model.remove(s, PATHS[p], t) { Ok(()) } else { Err(ZkError::NoWatcher) };
                    prop_assert_eq!(got, want);
                }
                Op::Close(s) => {
                    registry.close_session(SessionId(s));
                    model.remove_where(|e| e.0 == s);
                }
                Op::Trigger(p, e) => {
                    let got: Vec<i64> = registry.trigger(PATHS[p], e).iter().map(|d| d.watcher.0).collect();
                    prop_assert_eq!(got, model.trigger(PATHS[p], e));
                }
            }
            prop_assert_eq!(registry.all_watches(), model.watches());
            prop_assert_eq!(registry.size(), model.0.iter().map(|e| (e.0, e.1, e.2)).collect::<BTreeSet<_>>().len());
        }
    }
}
