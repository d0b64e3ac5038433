//! Driving one quorum peer by hand, step by step, with the test playing the other servers.

use std::sync::Arc;

use ch01_znode::{Epoch, Sid, Zxid};
use ch05_election::notification::Notification;
use ch05_election::peer::Timer as ElectionTimer;
use ch05_election::quorum::QuorumMaj;
use ch05_election::vote::{Round, ServerState, Vote};
use ch06_zab::peer::{Config, Epochs, Input, Output, QuorumPeer, Recovered, Timer};

/// Server `me` of servers 1 to 3, at epoch 1 with an empty database, once the other two have
/// voted for `leader` and finalizeWait is over: the peer, and what that last step did.
pub(crate) fn elected(me: u64, leader: u64) -> (QuorumPeer, Vec<Output>) {
    let qv = Arc::new(QuorumMaj::new([Sid(1), Sid(2), Sid(3)], []));
    let disk = Recovered {
        epochs: Epochs {
            accepted: Epoch(1),
            current: Epoch(1),
        },
        ..Recovered::default()
    };
    let mut peer = QuorumPeer::new(Sid(me), Config::new(qv), disk, 0);
    peer.step(0, Input::Start);
    let vote = Vote {
        leader: Sid(leader),
        zxid: Zxid(0),
        peer_epoch: Epoch(1),
    };
    for from in (1..=3).filter(|&s| s != me).map(Sid) {
        let n = Notification::new(ServerState::Looking, vote, Round(1));
        peer.step(1, Input::Election { from, n });
    }
    let out = peer.step(
        300,
        Input::Timeout(Timer::Election(ElectionTimer::FinalizeWait)),
    );
    (peer, out)
}
