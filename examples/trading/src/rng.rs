//! A tiny seeded random number generator, so the synthetic markets need no `rand`.

/// SplitMix64: fast, seedable and statistically fine for synthetic prices; not for cryptography.
///
/// # Examples
///
/// ```
/// let mut a = trading::rng::Rng::new(7);
/// let mut b = trading::rng::Rng::new(7);
/// assert_eq!(a.next_u64(), b.next_u64());
/// assert!((0.0..1.0).contains(&a.uniform()));
/// ```
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator whose whole sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.state)
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        unit(self.next_u64())
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // in (0, 1], so the logarithm is finite
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Exponential with mean `mean`.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.uniform()).ln()
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// Uniform integer in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next_u64() % (high - low + 1)
    }
}

/// SplitMix64's finaliser: a well-mixed hash of one `u64`.
pub fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A seed derived from `seed` and a name, so every exchange gets its own stream.
pub fn seed_for(seed: u64, name: &str) -> u64 {
    // FNV-1a over the name, then mixed with the seed.
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    mix(seed ^ hash)
}

/// The top 53 bits of `bits` as a float in `[0, 1)`.
fn unit(bits: u64) -> f64 {
    #[allow(
        clippy::cast_precision_loss,
        reason = "53 bits fit an f64 mantissa exactly"
    )]
    let value = (bits >> 11) as f64;
    value / (1u64 << 53) as f64
}

/// Smooth noise in `[-1, 1]` over the real line: hashed values at integers, smoothly
/// interpolated between them. The same `(seed, x)` gives the same value in every process.
pub fn value_noise(seed: u64, x: f64) -> f64 {
    let floor = x.floor();
    let fraction = x - floor;
    #[allow(
        clippy::cast_possible_truncation,
        reason = "lattice index; wraps harmlessly"
    )]
    let index = floor as i64 as u64;
    let at = |i: u64| 2.0 * unit(mix(seed ^ mix(i))) - 1.0;
    let weight = fraction * fraction * (3.0 - 2.0 * fraction);
    at(index) * (1.0 - weight) + at(index.wrapping_add(1)) * weight
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_mean_and_normal_variance_are_plausible() {
        let mut rng = Rng::new(1);
        let n = 100_000;
        let mean = (0..n).map(|_| rng.uniform()).sum::<f64>() / f64::from(n);
        let variance = (0..n).map(|_| rng.normal().powi(2)).sum::<f64>() / f64::from(n);
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
        assert!((variance - 1.0).abs() < 0.03, "{variance}");
    }

    #[test]
    fn value_noise_is_continuous_and_bounded() {
        for i in 0..1000 {
            let x = f64::from(i) * 0.37;
            let (a, b) = (value_noise(3, x), value_noise(3, x + 1e-6));
            assert!(a.abs() <= 1.0 && (a - b).abs() < 1e-4, "{x}: {a} {b}");
        }
    }

    #[test]
    fn names_get_different_streams() {
        assert_ne!(seed_for(42, "kraken"), seed_for(42, "bitstamp"));
    }
}
