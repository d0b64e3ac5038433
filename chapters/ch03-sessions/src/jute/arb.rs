//! Random values of every jute type, for the round-trip property tests.
//! `jute_record!` derives [`Arb`] for each record from its fields' types.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;

/// A proptest strategy for a jute type.
pub trait Arb: Sized {
    fn arb() -> BoxedStrategy<Self>;
}

impl Arb for bool {
    fn arb() -> BoxedStrategy<Self> {
        any::<bool>().boxed()
    }
}

impl Arb for i32 {
    fn arb() -> BoxedStrategy<Self> {
        any::<i32>().boxed()
    }
}

impl Arb for i64 {
    fn arb() -> BoxedStrategy<Self> {
        any::<i64>().boxed()
    }
}

impl Arb for ch01_znode::Zxid {
    fn arb() -> BoxedStrategy<Self> {
        any::<i64>().prop_map(ch01_znode::Zxid).boxed()
    }
}

impl Arb for ch01_znode::SessionId {
    fn arb() -> BoxedStrategy<Self> {
        any::<i64>().prop_map(ch01_znode::SessionId).boxed()
    }
}

impl Arb for String {
    fn arb() -> BoxedStrategy<Self> {
        "\\PC{0,12}".boxed()
    }
}

impl Arb for Option<String> {
    fn arb() -> BoxedStrategy<Self> {
        proptest::option::of(String::arb()).boxed()
    }
}

impl Arb for Vec<u8> {
    fn arb() -> BoxedStrategy<Self> {
        vec(any::<u8>(), 0..24).boxed()
    }
}

impl Arb for Option<Vec<u8>> {
    fn arb() -> BoxedStrategy<Self> {
        proptest::option::of(Vec::<u8>::arb()).boxed()
    }
}

/// Vectors of records (not `Vec<u8>`, which is a jute buffer).
macro_rules! arb_vec {
    ($($t:ty),*) => {$(
        impl Arb for Vec<$t> {
            fn arb() -> BoxedStrategy<Self> {
                vec(<$t>::arb(), 0..4).boxed()
            }
        }
    )*};
}

arb_vec!(String, ch01_znode::Acl, crate::proto::records::ClientInfo);
