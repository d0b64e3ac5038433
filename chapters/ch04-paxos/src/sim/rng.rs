//! One seeded random number generator for the whole simulation.
//!
//! Every random choice a run makes (a message's latency, whether it is lost or duplicated, how
//! long a randomized back-off lasts) is drawn from this one generator, in the order the
//! simulator needs them. So the seed alone fixes the run: `--seed 7` replays the same run on any
//! machine, any day. The algorithm is SplitMix64 (Steele, Lea and Flood, 2014): a 64-bit counter
//! stepped by a fixed odd constant and then scrambled. It is tiny, fast, has no platform-dependent
//! behaviour, and is plenty random for choosing faults (it is not for cryptography).

/// The simulator's random source: SplitMix64.
#[derive(Clone, Debug, Hash)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator whose whole future is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi` (both ends included). Draws nothing when the range is one number,
    /// so a fixed latency leaves the random stream untouched.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        assert!(lo <= hi, "empty range {lo}..={hi}");
        if lo == hi {
            return lo;
        }
        let span = hi - lo + 1;
        // Multiply-shift maps 64 random bits onto the span without a division; the bias is
        // at most span / 2^64, far below anything a test could notice.
        lo + ((u128::from(self.next_u64()) * u128::from(span)) >> 64) as u64
    }

    /// True with probability `p`. Draws nothing when `p` is 0 or 1, so turning a fault off
    /// does not shift every later random choice of the run.
    pub fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        // 53 random bits make an exact f64 in [0, 1).
        ((self.next_u64() >> 11) as f64) * (1.0 / (1u64 << 53) as f64) < p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_stream() {
        let a: Vec<u64> = (0..5).scan(Rng::new(42), |r, _| Some(r.next_u64())).collect();
        let b: Vec<u64> = (0..5).scan(Rng::new(42), |r, _| Some(r.next_u64())).collect();
        assert_eq!(a, b);
        let c: Vec<u64> = (0..5).scan(Rng::new(43), |r, _| Some(r.next_u64())).collect();
        assert_ne!(a, c);
    }

    #[test]
    fn splitmix64_matches_its_published_first_output_for_seed_zero() {
        // The reference implementation's first output for state 0.
        assert_eq!(Rng::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn between_stays_in_range_and_reaches_both_ends() {
        let mut r = Rng::new(1);
        let draws: Vec<u64> = (0..1000).map(|_| r.between(5, 8)).collect();
        assert!(draws.iter().all(|d| (5..=8).contains(d)));
        assert!(draws.contains(&5) && draws.contains(&8));
    }

    #[test]
    fn chance_of_zero_or_one_draws_nothing() {
        let mut r = Rng::new(9);
        assert!(!r.chance(0.0));
        assert!(r.chance(1.0));
        assert_eq!(r.next_u64(), Rng::new(9).next_u64());
    }
}
