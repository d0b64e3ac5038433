//! What every side-by-side benchmark prints with its figures: medians of alternating rounds,
//! counts a reader can take in at a glance, and how loaded the machine was while it measured.
//! Shared by the root's benches and chapter 6's (included by `#[path]`, as benches are
//! separate crates).

/// The median of `xs` (the mean of the middle two for an even count).
#[allow(dead_code)] // not every bench takes medians
pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    match n % 2 {
        1 => xs[n / 2],
        _ => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

/// The `p`th percentile of `sorted` (ascending, not empty), by the nearest rank.
#[allow(dead_code)] // not every bench takes percentiles
pub fn percentile(sorted: &[std::time::Duration], p: f64) -> std::time::Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The order the programs take their turn in `round`: flipped every round, so neither always
/// runs after the other.
#[allow(dead_code)] // not every bench takes turns
pub fn turns(n: usize, round: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    if round % 2 == 1 {
        order.reverse();
    }
    order
}

/// `12345.6` as `12,346`.
#[allow(dead_code)] // not every bench prints counts
pub fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The 1, 5 and 15 minute load averages, as `/proc/loadavg` gives them.
#[allow(dead_code)] // not every bench reports the load
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}
