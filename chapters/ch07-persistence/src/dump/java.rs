//! How Java prints what ZooKeeper's tools print: hex longs, dates, and hash-set order.
//!
//! The idea to take away: **to print byte for byte what another program prints, copy its
//! conventions, not just its fields.** `TxnLogToolkit` and `SnapshotFormatter` print with
//! `Long.toHexString`, `DateFormat`, `Date.toString` and the iteration order of a
//! `java.util.HashSet`; each is a small, fixed rule, written down here.
//!
//! Dates are printed in UTC and in the `en_US` formats of Java 17 (the JVM's default time
//! zone and locale decide upstream's; run the Java tools with `-Duser.timezone=UTC
//! -Duser.language=en -Duser.country=US` to compare).

use ch01_znode::shell::printer::civil_from_days;

/// `Long.toHexString`: lowercase, unpadded, a negative value as its 64-bit two's complement.
pub fn long_hex(value: i64) -> String {
    format!("{:x}", value as u64)
}

/// `String.format("%#016x", value)`: `0x` and at least 14 hex digits.
pub fn padded_hex(value: i64) -> String {
    format!("{:#016x}", value as u64)
}

/// `DateFormat.getDateTimeInstance(SHORT, LONG)` in `en_US`, UTC: `12/2/26, 12:57:01 PM UTC`.
pub fn short_date_long_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let hour = rem / 3600;
    let (h12, half) = match hour {
        0 => (12, "AM"),
        1..=11 => (hour, "AM"),
        12 => (12, "PM"),
        _ => (hour - 12, "PM"),
    };
    format!(
        "{m}/{d}/{:02}, {h12}:{:02}:{:02} {half} UTC",
        y.rem_euclid(100),
        rem % 3600 / 60,
        rem % 60
    )
}

/// `String.hashCode`: `s[0]*31^(n-1) + … + s[n-1]` over UTF-16 code units, wrapping.
pub fn string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// `Long.hashCode`: the two halves xor-ed.
pub fn long_hash(value: i64) -> i32 {
    (value ^ ((value as u64) >> 32) as i64) as i32
}

/// The order a `java.util.HashSet` (or a `HashMap`'s keys) created with `initial_capacity`
/// iterates over `hashes`, added in the order given; returns indices into `hashes`.
///
/// `HashMap` (Java 8 and later) puts a key in bucket `(h ^ h >>> 16) & (capacity - 1)` and
/// iterates bucket by bucket, each in the order its keys were added (a resize splits a
/// bucket's list keeping that order). The capacity starts at the power of two at or above
/// `initial_capacity` and doubles whenever the size passes three quarters of it; it never
/// shrinks, but the sets here are only ever added to. Not modelled: a bucket of 8 or more
/// colliding keys in a table of 64 or more, which Java turns into a tree.
pub fn hash_set_order(hashes: &[i32], initial_capacity: usize) -> Vec<usize> {
    let mut capacity = initial_capacity.next_power_of_two().max(1);
    while hashes.len() > capacity * 3 / 4 {
        capacity *= 2;
    }
    let bucket = |h: i32| ((h ^ ((h as u32) >> 16) as i32) as u32 as usize) & (capacity - 1);
    let mut order: Vec<usize> = (0..hashes.len()).collect();
    order.sort_by_key(|&i| (bucket(hashes[i]), i));
    order
}

/// `new String(bytes, UTF_8)`, as printed. Java and Rust both replace bytes that are not
/// UTF-8 with U+FFFD, though not always with the same number of them.
pub fn utf8(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values printed by Java 17 (`Long.toHexString`, `String.format`, `DateFormat`).
    #[test]
    fn hex_and_dates_print_as_java_prints_them() {
        assert_eq!(long_hex(0x0100_004d_eb31_0000), "100004deb310000");
        assert_eq!(long_hex(-1), "ffffffffffffffff");
        assert_eq!(padded_hex(0), "0x00000000000000");
        assert_eq!(padded_hex(0x100004deb310000), "0x100004deb310000");
        assert_eq!(
            short_date_long_time(1_796_216_221_000),
            "12/2/26, 12:57:01 PM UTC"
        );
        assert_eq!(short_date_long_time(0), "1/1/70, 12:00:00 AM UTC");
    }

    /// `"app".hashCode()` is 96801 and `Long.valueOf(1L << 32 | 5).hashCode()` is 4.
    #[test]
    fn hashes_are_javas() {
        assert_eq!(string_hash("app"), 96801);
        assert_eq!(string_hash(""), 0);
        assert_eq!(long_hash(1 << 32 | 5), 4);
        assert_eq!(long_hash(-1), 0);
    }

    /// A `HashSet(8)` of three keys iterates by bucket; keys in one bucket come in the order
    /// they were added.
    #[test]
    fn a_hash_set_iterates_by_bucket_then_by_insertion() {
        // Buckets of a capacity-8 table: 3, 1, 3, 0.
        assert_eq!(hash_set_order(&[3, 1, 11, 8], 8), [3, 1, 0, 2]);
        // Seven keys pass 3/4 of 8: the table doubles to 16, and 11 gets its own bucket.
        let order = hash_set_order(&[3, 1, 11, 8, 20, 21, 22], 8);
        assert_eq!(order, [1, 0, 4, 5, 6, 3, 2]);
    }
}
