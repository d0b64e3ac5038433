//! A server that leaves its role applies what it logged and never saw committed (its next vote
//! names it). A fuzzy snapshot being walked at that moment would take those changes into a
//! file named after an earlier zxid, where a later TRUNC could not take them out again: it is
//! dropped first.

use std::sync::Arc;

use ch01_znode::{Epoch, SessionId, Sid, TxnHeader, TxnOp, Zxid};
use ch05_election::vote::ServerState;
use ch06_zab::message::{Link, Message};
use ch06_zab::peer::{Input, Output, QuorumPeer};
use ch06_zab::txn_codec::TxnEntry;

use crate::peer_steps::elected;

/// Server 1 of three, at epoch 1, following server 3 (elected with server 2's vote): the
/// peer and its connection to the leader.
fn follower_of_3() -> (QuorumPeer, Link) {
    let (n1, out) = elected(1, 3);
    assert_eq!(n1.state(), ServerState::Following);
    let link = out
        .iter()
        .find_map(|o| match o {
            Output::Zab {
                to: Sid(3),
                link,
                msg: Message::LearnerInfo { .. },
            } => Some(*link),
            _ => None,
        })
        .expect("a FOLLOWERINFO to the leader");
    (n1, link)
}

fn from_leader(n1: &mut QuorumPeer, link: Link, at: u64, msg: Message) -> Vec<Output> {
    n1.step(
        at,
        Input::Zab {
            from: Sid(3),
            link,
            msg,
        },
    )
}

#[test]
fn a_follower_that_leaves_with_an_uncommitted_txn_drops_its_fuzzy_snapshot_first() {
    let (mut n1, link) = follower_of_3();
    let epoch = Epoch(2);
    from_leader(&mut n1, link, 400, Message::LeaderInfo { epoch });
    from_leader(&mut n1, link, 401, Message::Diff { zxid: Zxid(0) });
    from_leader(&mut n1, link, 402, Message::NewLeader { epoch });
    from_leader(&mut n1, link, 403, Message::UpToDate);
    assert!(n1.is_serving());
    let zxid = Zxid(epoch.first_zxid().0 + 1);
    let txn = TxnHeader {
        session: SessionId(7),
        cxid: 1,
        zxid,
        time_ms: 1000,
    }
    .txn(TxnOp::CreateSession { timeout_ms: 30_000 });
    let proposal = Message::Proposal(Arc::new(TxnEntry::new(txn)));
    from_leader(&mut n1, link, 404, proposal);
    n1.step(405, Input::Logged(zxid));
    // The leader is gone before its COMMIT: the logged txn becomes the database.
    let out = n1.step(406, Input::Disconnected { link });
    let dropped = out.iter().position(|o| *o == Output::AbandonSnapshot);
    assert!(dropped.is_some(), "{out:?}");
    assert_eq!(n1.database().last_processed_zxid(), zxid);
    assert_eq!(n1.state(), ServerState::Looking);
}
