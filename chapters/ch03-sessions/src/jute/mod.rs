//! Jute, ZooKeeper's serialization: a record is its fields laid end to end.
//!
//! ZooKeeper describes every message in `zookeeper.jute` and encodes it with
//! the *binary archive* (`BinaryInputArchive` / `BinaryOutputArchive` in
//! `org.apache.jute`). The encoding has no tags, no field names, no padding
//! and no per-record length: a reader must know the record's type to read it,
//! and reads the fields back in declaration order.
//!
//! | jute type  | bytes on the wire                                   | here              |
//! |------------|-----------------------------------------------------|-------------------|
//! | `boolean`  | 1 byte, `0` false, anything else true               | `bool`            |
//! | `int`      | 4 bytes, big-endian two's complement                | `i32`             |
//! | `long`     | 8 bytes, big-endian two's complement                | `i64`             |
//! | `buffer`   | `int` length, then the bytes; length `-1` is null   | `Option<Vec<u8>>` |
//! | `ustring`  | a `buffer` of UTF-8; bad bytes read as U+FFFD       | `String`          |
//! | `vector<T>`| `int` count, then the elements; count `-1` is null  | `Vec<T>`          |
//!
//! The one idea to take away: **every length read from the wire is a claim,
//! not a fact.** The reader checks each claim against the bytes it actually
//! holds before it allocates anything, so a hostile four-byte length can cost
//! an error, never a gigabyte or a panic.
//!
//! # Layout
//! - [`error`]: [`DecodeError`], what can go wrong while reading.
//! - [`reader`]: [`Reader`], a cursor that reads primitives from a byte slice.
//! - [`writer`]: [`Writer`], which appends primitives to a growing buffer.
//! - [`record`]: the [`Record`] trait (jute's own name) and its impls for the
//!   primitives, so a struct of records is itself a record.

#[cfg(test)]
pub(crate) mod arb;
pub mod error;
pub mod reader;
pub mod record;
pub mod writer;

pub use error::DecodeError;
pub use reader::Reader;
pub use record::Record;
pub use writer::Writer;

/// Declares a jute record: a struct whose fields are encoded in declaration
/// order, exactly as `zookeeper.jute` lists them.
///
/// ```
/// use ch03_sessions::jute::Record;
/// ch03_sessions::jute_record! {
///     /// `GetDataRequest` in zookeeper.jute.
///     pub struct GetDataRequest { pub path: String, pub watch: bool }
/// }
/// let bytes = GetDataRequest { path: "/a".into(), watch: true }.to_bytes();
/// assert_eq!(bytes, [0, 0, 0, 2, b'/', b'a', 1]);
/// ```
///
/// In this crate's own unit tests the macro also derives a proptest
/// strategy for the record (`jute::arb`), so every record gets a round-trip
/// test for free.
#[macro_export]
macro_rules! jute_record {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$fmeta:meta])* pub $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $name { $($(#[$fmeta])* pub $field: $ty),* }

        $crate::impl_jute_record!($name { $($field: $ty),* });
    };
}

/// Makes an existing struct a jute [`Record`], encoding the listed fields
/// in the listed order. This is how chapter 1's `Stat`, `Acl` and `Id` get
/// their wire form without a second copy of the types.
#[macro_export]
macro_rules! impl_jute_record {
    ($name:path { $($field:ident : $ty:ty),* $(,)? }) => {
        impl $crate::jute::Record for $name {
            #[allow(unused_variables)]
            fn encode(&self, w: &mut $crate::jute::Writer) {
                $($crate::jute::Record::encode(&self.$field, w);)*
            }
            #[allow(unused_variables)]
            fn decode(r: &mut $crate::jute::Reader<'_>) -> Result<Self, $crate::jute::DecodeError> {
                Ok(Self { $($field: r.field(concat!(stringify!($name), ".", stringify!($field)))?),* })
            }
        }

        #[cfg(test)]
        impl $crate::jute::arb::Arb for $name {
            fn arb() -> proptest::strategy::BoxedStrategy<Self> {
                use proptest::strategy::Strategy;
                ($(<$ty as $crate::jute::arb::Arb>::arb(),)*)
                    .prop_map(|($($field,)*)| Self { $($field),* })
                    .boxed()
            }
        }
    };
}
