//! A learner whose disk refused a TRUNC says it has nothing (last zxid -1), and gets a SNAP;
//! a leader counts such a learner towards its epoch's quorum only if the learner's epoch is
//! older than its own, as only then can it tell that the learner holds nothing it lacks.

use ch01_znode::{Epoch, Sid, Zxid};
use ch05_election::vote::ServerState;
use ch06_zab::message::{Link, Message};
use ch06_zab::peer::{Input, Output, QuorumPeer};
use ch06_zab::trace::{Note, ZabNote};

use crate::peer_steps::elected;

/// Server 3 of three, at epoch 1, elected by 1 and 2 and leading, waiting for LEARNERINFOs.
fn leader_3() -> QuorumPeer {
    let (n3, _) = elected(3, 3);
    assert_eq!(n3.state(), ServerState::Leading);
    n3
}

/// Learner `sid`'s FOLLOWERINFO, then its ACKEPOCH.
fn join(n3: &mut QuorumPeer, sid: u64, current: Epoch, last_zxid: Zxid) -> Vec<Output> {
    let link = Link {
        learner: Sid(sid),
        n: 1,
    };
    let hello = Message::LearnerInfo {
        observer: false,
        accepted_epoch: current,
    };
    let mut out = n3.step(
        400,
        Input::Zab {
            from: Sid(sid),
            link,
            msg: hello,
        },
    );
    let ack = Message::AckEpoch {
        current_epoch: Some(current),
        last_zxid,
    };
    out.extend(n3.step(
        401,
        Input::Zab {
            from: Sid(sid),
            link,
            msg: ack,
        },
    ));
    out
}

fn epoch_agreed(out: &[Output]) -> bool {
    out.iter()
        .any(|o| matches!(o, Output::Note(Note::Zab(ZabNote::EpochAcked { .. }))))
}

fn snap_to(out: &[Output], sid: u64) -> bool {
    out.iter()
        .any(|o| matches!(o, Output::Zab { to, msg: Message::Snap { .. }, .. } if *to == Sid(sid)))
}

#[test]
fn a_learner_with_nothing_and_an_epoch_not_older_is_synced_by_snap_but_not_counted() {
    let mut n3 = leader_3();
    // n1 is at our epoch and says it has nothing: not counted, so no quorum yet.
    let out = join(&mut n3, 1, Epoch(1), Zxid(-1));
    assert!(!epoch_agreed(&out), "{out:?}");
    // n2's epoch is older: its -1 counts, the quorum is there, and both get a SNAP.
    let out = join(&mut n3, 2, Epoch(0), Zxid(-1));
    assert!(epoch_agreed(&out), "{out:?}");
    assert!(snap_to(&out, 1) && snap_to(&out, 2), "{out:?}");
}
