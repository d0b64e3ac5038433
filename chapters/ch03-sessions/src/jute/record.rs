//! [`Record`]: anything that can be written to and read from jute bytes.
//!
//! The name is jute's own (`org.apache.jute.Record`). Primitives are records,
//! `Vec<T>` of records is a record (jute `vector`), and a struct whose fields
//! are records is a record (see the `jute_record!` macro), so every message in
//! the protocol is built from the six impls in this file.

use ch01_znode::{SessionId, Zxid};

use super::{DecodeError, Reader, Writer};

/// A value with a jute encoding.
pub trait Record: Sized {
    /// Appends this value's encoding.
    fn encode(&self, w: &mut Writer);
    /// Reads one value; never panics and never allocates more than the
    /// input could actually hold.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// This value's encoding as a fresh buffer.
    fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.encode(&mut w);
        w.into_bytes()
    }

    /// Reads one value from the front of `bytes`, ignoring anything after
    /// it (as ZooKeeper's server does with trailing bytes).
    fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode(&mut Reader::new(bytes))
    }
}

impl Record for bool {
    fn encode(&self, w: &mut Writer) {
        w.write_bool(*self)
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_bool("")
    }
}

impl Record for i32 {
    fn encode(&self, w: &mut Writer) {
        w.write_int(*self)
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_int("")
    }
}

impl Record for i64 {
    fn encode(&self, w: &mut Writer) {
        w.write_long(*self)
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_long("")
    }
}

/// jute `buffer`, where null (-1) is a value of its own (`getData` of a node
/// created with null data answers a null buffer).
impl Record for Option<Vec<u8>> {
    fn encode(&self, w: &mut Writer) {
        w.write_buffer(self.as_deref())
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_buffer("")
    }
}

/// jute `ustring` where ZooKeeper needs a value: a null string is an error,
/// because every path, scheme and id in the client protocol is non-null.
impl Record for String {
    fn encode(&self, w: &mut Writer) {
        w.write_ustring(Some(self))
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_ustring("")?
            .ok_or(DecodeError::UnexpectedNull { what: "" })
    }
}

/// jute `ustring` that may be null (reconfig's optional server lists).
impl Record for Option<String> {
    fn encode(&self, w: &mut Writer) {
        w.write_ustring(self.as_deref())
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_ustring("")
    }
}

/// jute `vector<T>`. A null vector (-1) reads as empty: ZooKeeper's server
/// treats a null and an empty list alike (an empty ACL list and a null one
/// both get `InvalidACL`), and we never write null. Any other negative count
/// reads as empty too: upstream's `BinaryInputArchive.startVector` checks no
/// count, and its index is done as soon as the count is `<= 0` (an ACL count
/// of -2 is an empty ACL: `InvalidACL`, not a bad packet).
impl<T: Record> Record for Vec<T> {
    fn encode(&self, w: &mut Writer) {
        w.write_len(Some(self.len()));
        for item in self {
            item.encode(w);
        }
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let count = match r.read_len("") {
            Ok(count) => count.unwrap_or(0),
            Err(DecodeError::NegativeLength { .. }) => 0,
            Err(e) => return Err(e),
        };
        // read_len has checked count <= remaining bytes, and every element
        // takes at least one byte, so this allocation is bounded by the input.
        let mut items = Vec::with_capacity(count);
        for _ in 0..count {
            items.push(T::decode(r)?);
        }
        Ok(items)
    }
}

/// jute `buffer` that must be present (passwords, auth data, sasl tokens).
impl Record for Vec<u8> {
    fn encode(&self, w: &mut Writer) {
        w.write_buffer(Some(self))
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_buffer("")?
            .ok_or(DecodeError::UnexpectedNull { what: "" })
    }
}

/// A zxid is a jute `long` (shown as `0x..` hex everywhere else).
impl Record for Zxid {
    fn encode(&self, w: &mut Writer) {
        w.write_long(self.0)
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_long("").map(Zxid)
    }
}

/// A session id is a jute `long`.
impl Record for SessionId {
    fn encode(&self, w: &mut Writer) {
        w.write_long(self.0)
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_long("").map(SessionId)
    }
}
