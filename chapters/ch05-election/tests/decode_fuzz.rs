//! Whatever bytes a peer sends, decoding answers with a message or an error,
//! never a panic; and whatever we encode reads back the same.
//! (WorkerReceiver: short, partial and malformed messages are skipped.)

use ch01_znode::{Epoch, Sid, Zxid};
use ch05_election::notification::Notification;
use ch05_election::standin::Message;
use ch05_election::vote::{Round, ServerState, Vote};
use proptest::prelude::*;

fn state() -> impl Strategy<Value = ServerState> {
    prop_oneof![
        Just(ServerState::Looking),
        Just(ServerState::Following),
        Just(ServerState::Leading),
        Just(ServerState::Observing),
    ]
}

proptest! {
    #[test]
    fn any_bytes_decode_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = Notification::decode(&bytes);
        let _ = Message::decode(&bytes);
    }

    #[test]
    fn a_cut_notification_is_an_error_not_a_panic(cut in 0usize..44, leader in 1u64..256) {
        let vote = Vote { leader: Sid(leader), zxid: Zxid(7), peer_epoch: Epoch(1) };
        let n = Notification::new(ServerState::Looking, vote, Round(3));
        let bytes = n.encode();
        // 28 and 40 bytes are older formats, not cuts.
        prop_assume!(cut != 28 && cut != 40);
        prop_assert!(Notification::decode(&bytes[..cut]).is_err());
    }

    #[test]
    fn notifications_round_trip(
        s in state(),
        leader in 0u64..1_000,
        zxid in any::<i64>(),
        peer_epoch in any::<i64>(),
        round in any::<i64>(),
        config in proptest::collection::vec(any::<u8>(), 0..100),
    ) {
        let vote = Vote { leader: Sid(leader), zxid: Zxid(zxid), peer_epoch: Epoch(peer_epoch) };
        let mut n = Notification::new(s, vote, Round(round));
        n.config = config;
        prop_assert_eq!(Notification::decode(&n.encode()), Ok(n.clone()));
        let msg = Message::Notification(n);
        prop_assert_eq!(Message::decode(&msg.encode()), Ok(msg));
    }
}
