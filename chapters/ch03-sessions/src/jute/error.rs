//! What can go wrong while reading bytes that came from the network.
//!
//! Each variant names the field being read, so an error reads like
//! "CreateRequest.path: length 70000 exceeds the 1048575 bytes left". A
//! server turns any of these into ZooKeeper's answer for a bad packet
//! (`MarshallingError`, or `Unimplemented` for an unknown opcode) or closes
//! the connection; nothing here ever panics.

use std::fmt;

/// A failure to read a jute record or a frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The input ended before a field was complete.
    Truncated {
        what: &'static str,
        needed: usize,
        remaining: usize,
    },
    /// A length or count below -1 (-1 itself means null).
    NegativeLength { what: &'static str, len: i32 },
    /// A length or count larger than the bytes that are left could hold.
    LengthTooLarge {
        what: &'static str,
        len: i32,
        remaining: usize,
    },
    /// A null (-1) `ustring` or `buffer` where ZooKeeper requires a value.
    UnexpectedNull { what: &'static str },
    /// A frame whose 4-byte length is negative or over `jute.maxbuffer`.
    BadFrameLength { len: i32, max: usize },
    /// A request or multi op with an opcode this protocol does not define.
    UnknownOpCode { op: i32 },
    /// A value outside the set a field allows (an event type, a multi op...).
    InvalidValue { what: &'static str, value: i64 },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated {
                what,
                needed,
                remaining,
            } => write!(
                f,
                "{what}: truncated, needs {needed} bytes but {remaining} are left"
            ),
            DecodeError::NegativeLength { what, len } => {
                write!(f, "{what}: negative length {len}")
            }
            DecodeError::LengthTooLarge {
                what,
                len,
                remaining,
            } => write!(f, "{what}: length {len} exceeds the {remaining} bytes left"),
            DecodeError::UnexpectedNull { what } => write!(f, "{what}: unexpected null"),
            DecodeError::BadFrameLength { len, max } => write!(
                f,
                "frame length {len} is outside 0..={max} (jute.maxbuffer)"
            ),
            DecodeError::UnknownOpCode { op } => write!(f, "unknown opcode {op}"),
            DecodeError::InvalidValue { what, value } => {
                write!(f, "{what}: invalid value {value}")
            }
        }
    }
}

impl std::error::Error for DecodeError {}
