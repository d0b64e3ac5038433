//! The expiry scenario: a silent client's lease runs out on the pure pipeline, with a virtual
//! clock. Its trace is pinned (the book shows it) and its diagram is re-rendered and compared
//! with the one in the book (`KEEPER_BLESS=1 cargo test -p ch03-sessions --test all expiry::` to
//! accept a change, then look at it).

use ch03_sessions::expiry::{self, Event};

/// The book's diagram of the run.
const DIAGRAM: &str = "../../book/src/diagrams/ch03-expiry.svg";
const TITLE: &str = "ch03 expiry: a silent client's lease runs out";

#[test]
fn a_silent_session_expires_in_the_bucket_after_its_deadline() {
    // Rule: a session's deadline is its last word plus its timeout, rounded up to the next
    // tick (ExpiryQueue.roundToNextInterval); the tracker expires a bucket when its tick comes
    // (SessionTrackerImpl.run). Last word 2500 ms + 4000 ms = 6500 ms → bucket 8000 ms.
    let events = expiry::run();
    let ticks: Vec<(u64, &[String])> = events
        .iter()
        .filter_map(|e| match e {
            Event::Tick { at, due } => Some((*at, &due[..])),
            _ => None,
        })
        .collect();
    let worker = ["worker".to_string()];
    assert_eq!(
        ticks,
        [
            (2000, &[][..]),
            (4000, &[]),
            (6000, &[]),
            (8000, &worker[..])
        ],
        "nothing is due until the worker's bucket"
    );
}

#[test]
fn the_expiry_deletes_the_ephemeral_tells_the_watchers_and_closes_the_connection() {
    // Rule: an expired session is closed by a closeSession txn like a goodbye, which deletes its
    // ephemerals (DataTree.killSession) and fires their watches (client-protocol.md §10).
    let events = expiry::run();
    let after: Vec<String> = events
        .iter()
        .skip_while(|e| !matches!(e, Event::Tick { due, .. } if !due.is_empty()))
        .skip(1)
        .map(|e| e.to_string())
        .collect();
    let expected = [
        "  8000ms   keeper ⇨ 0x5 closeSession delete=[/workers/w1]",
        "  8000ms   keeper → monitor xid=-1 notification WatchedEvent state:SyncConnected type:NodeDeleted path:/workers/w1",
        "  8000ms   keeper → monitor xid=-1 notification WatchedEvent state:SyncConnected type:NodeChildrenChanged path:/workers",
        "  8000ms   keeper ✗ closes worker's connection",
    ];
    assert_eq!(after, expected);
}

#[test]
fn the_expiry_trace_and_diagram_are_the_books() {
    let events = expiry::run();
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("expiry", expiry::plain(&events));
    });
    let fresh = expiry::svg(TITLE, &events);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(DIAGRAM);
    if std::env::var_os("KEEPER_BLESS").is_some() {
        std::fs::write(&path, &fresh).expect("write the diagram");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is stale: rerun with KEEPER_BLESS=1",
        path.display()
    );
}
