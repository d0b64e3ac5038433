//! Adler-32, the checksum in every txn log record and at the end of every snapshot.
//!
//! The idea to take away: **a checksum does not stop a bad write, it makes one visible.** A
//! record whose bytes were changed after it was written no longer matches the checksum
//! written in front of it, so a reader can tell "the disk gave me something I never wrote"
//! from "this is what was logged". ZooKeeper uses `java.util.zip.Adler32` (RFC 1950): two
//! running sums modulo 65521, the largest prime below 2^16; `a` sums the bytes, `b` sums the
//! successive values of `a`, and the checksum is `b << 16 | a`. It is cheaper than a CRC and
//! weaker against short bursts, which is the trade upstream made in `FileTxnLog` and
//! `SnapStream`.

/// The largest prime below 2^16.
const MODULUS: u32 = 65521;

/// How many bytes can be summed before `b` could overflow a `u32` (zlib's NMAX): reducing
/// once per block instead of once per byte is what makes the checksum cheap.
const BLOCK: usize = 5552;

/// A running Adler-32 (`java.util.zip.Adler32`): feed bytes with [`Adler32::update`], read
/// the checksum of everything so far with [`Adler32::value`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Adler32 {
    a: u32,
    b: u32,
}

impl Default for Adler32 {
    fn default() -> Adler32 {
        Adler32 { a: 1, b: 0 }
    }
}

impl Adler32 {
    /// Adds `bytes` to the sums.
    pub fn update(&mut self, bytes: &[u8]) {
        for block in bytes.chunks(BLOCK) {
            for &byte in block {
                self.a += u32::from(byte);
                self.b += self.a;
            }
            self.a %= MODULUS;
            self.b %= MODULUS;
        }
    }

    /// The checksum of every byte fed so far; Java hands it out as a `long` with the upper
    /// 32 bits zero, which is how files store it.
    pub fn value(&self) -> i64 {
        i64::from((self.b << 16) | self.a)
    }
}

/// The Adler-32 of `bytes`.
pub fn adler32(bytes: &[u8]) -> i64 {
    let mut sum = Adler32::default();
    sum.update(bytes);
    sum.value()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 1950's definition, checked on values `java.util.zip.Adler32` gives.
    #[test]
    fn known_values_match_java_util_zip_adler32() {
        assert_eq!(adler32(b""), 1);
        assert_eq!(adler32(b"a"), 0x0062_0062);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        let zeros = vec![0u8; 100_000];
        // a stays 1; b adds 1 for every byte.
        assert_eq!(adler32(&zeros), ((100_000 % 65521) << 16) | 1);
    }

    #[test]
    fn feeding_in_pieces_gives_the_same_sum() {
        let bytes: Vec<u8> = (0..20_000u32).map(|i| (i * 7 + 3) as u8).collect();
        let mut pieces = Adler32::default();
        for chunk in bytes.chunks(977) {
            pieces.update(chunk);
        }
        assert_eq!(pieces.value(), adler32(&bytes));
        // All 0xff, the worst case for overflow within a block.
        let ff = vec![0xffu8; 3 * BLOCK + 11];
        let mut slow = (1u64, 0u64);
        for &byte in &ff {
            slow.0 = (slow.0 + u64::from(byte)) % 65521;
            slow.1 = (slow.1 + slow.0) % 65521;
        }
        assert_eq!(adler32(&ff), ((slow.1 << 16) | slow.0) as i64);
    }
}
